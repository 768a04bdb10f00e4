"""The command line. Library code never imports typer; this module maps its errors to exit codes.

Exit codes: 0 done; 1 internal error (run again with --traceback); 2 bad usage; 3 no log found;
4 an output could not be written; 5 a rule file is malformed; 6 `rules test` found failing examples;
7 `classify --jsonl` met bad input lines (the good ones were still classified); 8 the --store is locked by another run (nothing was done); 9 a `scan --fail-on` threshold was
exceeded (the run itself completed and was stored); 10 the --store's state cannot be read; 11 a log
could not be read or was read only in part (each named on stderr; everything readable was read and
written); 12 `report` stopped at its memory ceiling (--max-memory); 13 `probe` found a failing check
or a listing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import sys
import traceback
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from . import __version__
from .errors import LogscanError, OutputError, PartialInputError, UsageError

if TYPE_CHECKING:
    from .pipeline import ScanResult

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    help="Find why e-mail does not go out: read mail logs, classify every send failure, report what to fix first.",
)
rules_app = typer.Typer(no_args_is_help=True, help="Show and test the root-cause rules.")
app.add_typer(rules_app, name="rules")

_state = {"traceback": False}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"logscan {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    traceback_: Annotated[bool, typer.Option("--traceback", help="Show the full stack on errors.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    _state["traceback"] = traceback_


def _err(msg: str) -> None:
    typer.echo(msg, err=True)


def _run(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except LogscanError as exc:
        _err(f"Error: {exc}")
        if exc.hint:
            _err(f"  {exc.hint}")
        if _state["traceback"]:
            traceback.print_exc()
        raise typer.Exit(exc.exit_code) from None
    except BrokenPipeError:
        raise
    except KeyboardInterrupt:
        _err("Interrupted.")
        raise typer.Exit(130) from None
    except Exception as exc:  # a bug: say so plainly, with the way to see more
        _err(f"Error: internal error: {type(exc).__name__}: {exc}")
        if _state["traceback"]:
            traceback.print_exc()
        else:
            _err("  run again with --traceback and report it with the output")
        raise typer.Exit(1) from None


# Options shared by scan and report.
PathsArg = Annotated[list[str], typer.Argument(help="Log files, folders (read recursively) or globs.",
                                               show_default=False)]
FormatOpt = Annotated[str | None, typer.Option("--format", help="Read every file as this format "
                                               "(default: detect from content). See `logscan formats`.")]
YearOpt = Annotated[int | None, typer.Option("--year", help="Year for stamps without one (default: inferred "
                                             "from each file's modification time).")]
TzOpt = Annotated[str | None, typer.Option("--tz", help="Zone of stamps without an offset, e.g. Europe/Berlin "
                                           "(default: this machine's).")]
RulesOpt = Annotated[list[Path] | None, typer.Option("--rules", help="Extra rule file (TOML); its rules come "
                                                     "first. Repeatable.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no summary on stdout.")]
# Logs, --store, --out and --output may be fsspec URLs (s3://, gs://, az://, http(s):// to read, memory://).
StorageOpt = Annotated[list[str] | None, typer.Option("--storage-option", metavar="KEY=VALUE", help="An option of "
                                                      "the file system of every URL (s3fs, gcsfs, adlfs), e.g. "
                                                      "profile=logs or anon=true. Repeatable.")]
EndpointOpt = Annotated[str | None, typer.Option("--endpoint-url", help="The server of s3:// URLs, for "
                                                 "S3-compatible stores (MinIO, Ceph, ...), e.g. "
                                                 "http://127.0.0.1:9000 (or set AWS_ENDPOINT_URL).")]


def _storage(pairs: list[str] | None, endpoint_url: str | None):
    """The storage options of --storage-option/--endpoint-url in force for the command's URLs."""
    if not pairs and not endpoint_url:
        return contextlib.nullcontext()
    from . import remote

    return remote.storage_options(remote.parse_options(pairs, endpoint_url))


def _with_storage(pairs: list[str] | None, endpoint_url: str | None, fn: Callable[[], Any]) -> Callable[[], Any]:
    def run():
        with _storage(pairs, endpoint_url):
            return fn()

    return run


def _is_url(value: str | None) -> bool:
    if value is None or "://" not in value:
        return False
    from .remote import is_url

    return is_url(value)


def _local(value: str) -> Path:
    from .remote import local_path

    return Path(local_path(value))


def _scan(paths, fmt, year, tz, rules, quiet, sink=None, memory_ceiling=None, dask=None, **incremental) -> ScanResult:
    # Imported here: pyarrow takes a while to load, and an incremental run with nothing new never needs it.
    from .pipeline import ScanOptions, file_sizes, scan

    if dask is not None:  # the same scan, its files and ranges as tasks on a Dask cluster
        import functools

        from . import distributed

        scan = functools.partial(distributed.scan, dask=dask)
    opts = ScanOptions(forced_format=fmt, year=year, tz=tz, rule_files=tuple(rules or ()),
                       memory_ceiling=memory_ceiling)
    show_progress = not quiet and sys.stderr.isatty()
    if not show_progress:
        return scan(paths, opts, sink=sink, **incremental)
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    with Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                  TimeRemainingColumn(), transient=True, console=None) as bar:
        task = bar.add_task("scanning", total=None)

        def on_files(files, _skipped):
            bar.update(task, total=file_sizes(files))

        return scan(paths, opts, progress=lambda n: bar.advance(task, n), on_files=on_files, sink=sink,
                    **incremental)


def _print_summary(result: ScanResult, tally, top: int = 10) -> None:
    from datetime import datetime, timezone

    from .engine import load_categories

    t = result.totals
    echo = typer.echo
    echo(f"{t['lines']} lines read in {len(result.files)} file(s): {t['failures']} failures, "
         f"{t['ignored']} ignored, {t['unparsed']} unparsed.")
    if tally.failures:
        echo("\nFailures by root cause:")
        for c in tally.categories(load_categories()):
            echo(f"  {c['failures']:>7}  {c['share'] * 100:5.1f}%  {c['category']:<24} {c['title']}")
        ends = [f.last_time for f in result.files if f.last_time is not None]
        end = datetime.fromtimestamp(max(ends) / 1e6, tz=timezone.utc) if ends else None
        echo(f"\nTop recurring problems (of {tally.failures} failures), ranked as in the report: recipients "
             "lost, then delayed, then other (clients or failures):")
        for section, problems in tally.problems(top, load_categories(), end).items():
            echo(f"  {section}:")
            for i, p in enumerate(problems, 1):
                sig = p["key"] if len(p["key"]) <= 150 else p["key"][:147] + "..."
                echo(f"  {i:>2}. lost {p['lost']:>4} delayed {p['delayed']:>4} other {p['other']:>4} | "
                     f"{p['failures']:>6} x {p['category']} [{p['rule_id'] or '-'}]: {sig}")
    echo("\nPer file (lines / failures / ignored / unparsed):")
    for f in result.files:
        echo(f"  {f.lines:>9} {f.failures:>7} {f.ignored:>9} {f.unparsed:>6}  {f.path} ({f.format})")
        for note in _file_notes(f):
            echo(f"      {note}")
        for line_no, text in f.unparsed_examples[:3]:
            echo(f"      unparsed line {line_no}: {text[:160]}")
    for k in result.skipped:
        echo(f"  skipped {k.path}: {k.reason}")


def _file_notes(f) -> list[str]:
    """What was lost reading one file: a read error (read in part or not at all), cut lines."""
    from .reading import MAX_LINE_CHARS

    notes = [f"! {f.read_error}"] if f.read_error else []
    if f.truncated_lines:
        notes.append(f"{f.truncated_lines} line(s) over {MAX_LINE_CHARS // 1024} KiB cut at {MAX_LINE_CHARS // 1024} KiB")
    return notes


def _say_unreadable(result: ScanResult | None, skipped=None) -> int:
    """On stderr (even under --quiet, and with --output): every log not read or read in part."""
    bad = 0
    for k in result.skipped if result is not None else skipped:
        if k.unreadable:
            bad += 1
            _err(f"Warning: {k.path}: {k.reason}; not read")
    for f in result.files if result is not None else ():
        if f.read_error:
            bad += 1
            _err(f"Warning: {f.path}: {f.read_error}")
    return bad


def _partial(bad: int) -> PartialInputError:
    return PartialInputError(f"{bad} log file(s) could not be read or were read only in part (named above)",
                             hint="everything readable was read and written; fix the files' permissions or "
                                  "replace the damaged copies, then run again")


@app.command("scan")
def scan_cmd(
    paths: PathsArg,
    output: Annotated[str | None, typer.Option("--output", "-o", help="Write the failure table to this file "
                                               "(or URL): .parquet, .csv or .jsonl.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite --output if it exists.")] = False,
    fmt: FormatOpt = None,
    year: YearOpt = None,
    tz: TzOpt = None,
    rules: RulesOpt = None,
    top: Annotated[int, typer.Option("--top", help="How many recurring problems the summary lists.")] = 10,
    store: Annotated[str | None, typer.Option("--store", help="Append the new failures to this Parquet store "
                                              "(a folder or a URL such as s3://bucket/logscan, partitioned by day) "
                                              "and read only what is new since the last run; rotated and "
                                              "compressed logs are recognised.")] = None,
    keep: Annotated[str | None, typer.Option("--keep", help="With --store: drop days older than this, e.g. 90d "
                                             "or 12w.")] = None,
    metrics: Annotated[Path | None, typer.Option("--metrics", help="Write a Prometheus textfile here (for "
                                                 "node_exporter's textfile collector): this run's new failures, "
                                                 "with --store the last 24 hours', and the --fail-on thresholds.",
                                                 show_default=False)] = None,
    fail_on: Annotated[list[str] | None, typer.Option("--fail-on", metavar="CATEGORY[=N]", help="Exit with "
                                                      "status 9 when this run's new failures in CATEGORY (a "
                                                      "category id or a family such as auth) exceed N (default "
                                                      "0). Repeatable.")] = None,
    dask: Annotated[str | None, typer.Option("--dask", metavar="SCHEDULER|local", help="Parse on a Dask cluster: "
                                             "a scheduler address (tcp://host:8786; the workers must see the "
                                             "same paths) or local (a cluster of this machine's cores). Needs "
                                             "pip install 'logscan-mail[dask]'.", show_default=False)] = None,
    quiet: QuietOpt = False,
    storage_option: StorageOpt = None,
    endpoint_url: EndpointOpt = None,
) -> None:
    """Read mail logs and list every send failure with its root cause.

    Without --output, prints a summary: failures by root cause, the top recurring problems, and
    lines read / failures / ignored / unparsed per file. With --store, only lines new since the
    last run are read, and the summary is about them.

    Exit status: 0 done; 1 internal error; 2 bad usage; 3 no log found; 4 --output or --store not
    writable (checked before the scan) or not written; 8 --store locked by another run; 9 a
    --fail-on threshold exceeded; 10 the --store's state is unreadable; 11 a log could not be read
    or was read only in part (named on stderr, also under --quiet; 9 wins when both apply).
    """

    def run():
        from .thresholds import CategoryCounter, ThresholdExceeded, exceeded, parse_thresholds

        thresholds = []
        if fail_on:
            from .engine import load_categories

            thresholds = parse_thresholds(fail_on, load_categories())
        keep_days = None
        if keep is not None:
            if store is None:
                raise UsageError("--keep needs --store", hint="add --store DIR")
            from .store import parse_keep

            keep_days = parse_keep(keep)
        sinks = []
        counter = CategoryCounter()
        if thresholds:
            sinks.append(counter.add)
        gauges = None
        if metrics is not None:
            from . import metrics as prom

            prom.check_target(metrics)  # before a long scan
            gauges = prom.MetricsCounter()
            sinks.append(gauges.add)
        tally = None
        if output is None and not quiet:
            # The summary counts batches as they stream past: memory stays flat here too.
            from logscan.reports.tally import Tally

            tally = Tally()
            sinks.append(tally.add)
        with contextlib.ExitStack() as stack:
            writer = None
            if output is not None:
                from .output import TableWriter

                # Failures stream to the file batch by batch: memory stays flat however many there are.
                if _is_url(output):
                    from .remote import RemoteTableWriter

                    writer = stack.enter_context(RemoteTableWriter(output, force))  # written locally, then uploaded
                else:
                    writer = stack.enter_context(TableWriter(_local(output), force))  # checks the name before a long scan
                sinks.append(writer.write)
            if store is None:
                result = _scan(paths, fmt, year, tz, rules, quiet, sink=_fan_out(sinks), dask=dask)
                stored = None
            else:
                from .output import probe_folder
                from .store import scan_into

                if not _is_url(store):  # (a remote store is checked by taking its lock, before the scan)
                    probe_folder(_local(store), "--store")

                def scan_fn(sink, **incremental):
                    return _scan(paths, fmt, year, tz, rules, quiet, sink=_fan_out([sink, *sinks]), dask=dask,
                                 **incremental)

                result, stored = scan_into(store, paths, fmt, scan_fn, keep_days)
        if result is None:  # --store, nothing new: the logs that cannot be read are still said, every run
            from .discover import discover

            bad = _say_unreadable(None, discover(paths, fmt)[1])
        else:
            bad = _say_unreadable(result)
        if not quiet and writer is not None:
            typer.echo(f"Wrote {writer.rows} failures to {output}")
        if not quiet and result is not None:  # (None: --store, and no file had anything new)
            if tally is not None:
                _print_summary(result, tally, top)
            else:
                t = result.totals
                cut = sum(f.truncated_lines for f in result.files)
                typer.echo(f"{t['lines']} lines read: {t['failures']} failures, {t['ignored']} ignored, "
                           f"{t['unparsed']} unparsed." + (f" {cut} line(s) over 64 KiB cut." if cut else ""))
        if stored is not None and not quiet:
            _print_store_summary(store, stored)
        if gauges is not None:
            from .engine import load_categories

            totals = result.totals if result is not None else {"lines": 0, "unparsed": 0}
            day = prom.last_day(store, prom.now_utc()) if store is not None else None
            prom.write(metrics, prom.render(gauges.counts, totals["lines"], totals["unparsed"], load_categories(),
                                            thresholds, day))
        problems = exceeded(thresholds, counter.counts)
        if problems:
            raise ThresholdExceeded("; ".join(problems))
        if bad:
            raise _partial(bad)

    _run(_with_storage(storage_option, endpoint_url, run))


def _fan_out(sinks):
    def sink(table):
        for s in sinks:
            s(table)

    return sink


def _print_store_summary(store: str, stored: dict) -> None:
    echo = typer.echo
    echo(f"\nStore {store}: {stored['stored']} new failures stored (run {stored['runs']}); "
         f"{stored['unchanged']} file(s) unchanged since the last run.")
    for path in stored["restarted"]:
        echo(f"  {path} was truncated or rewritten: read again from the start")
    for path in stored.get("shortened", ()):
        echo(f"  {path} was cut short in place (its content is what was read before): read on from its end")
    for path, twin in stored["duplicates"]:
        echo(f"  {path} starts like {twin} (a rotation in progress?): not read, to count nothing twice")
    for path in stored["waiting"]:
        echo(f"  {path} is shorter than what was read of its content (a copy in progress?): read next run")
    if stored["dropped_files"]:
        echo(f"  --keep: dropped {stored['dropped_files']} data file(s) of older days")


@app.command("report")
def report_cmd(
    paths: Annotated[list[str] | None, typer.Argument(help="Log files, folders (read recursively) or globs; "
                                                      "none with --store.", show_default=False)] = None,
    out: Annotated[str, typer.Option("--out", help="Folder for the report (created if missing), or a URL such "
                                     "as s3://bucket/reports (built here, then uploaded).")] = "logscan-report",
    period: Annotated[str | None, typer.Option("--period", help="One report per day, week (ISO, Monday to "
                                               "Sunday) or month, in UTC, and an index.html linking them.")] = None,
    since: Annotated[str | None, typer.Option("--since", help="Only failures from this date or date and time "
                                              "on (UTC unless an offset is given), e.g. 2026-11-01.")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Only failures before this moment; a bare date "
                                              "includes that day.")] = None,
    lang: Annotated[str, typer.Option("--lang", help="Report language: en or zh (Simplified Chinese).")] = "en",
    redact: Annotated[bool, typer.Option("--redact", help="Pseudonymize the local part of every address "
                                         "(domains kept), in the pages and the exports.")] = False,
    redact_ips: Annotated[bool, typer.Option("--redact-ips", help="Pseudonymize IP addresses too "
                                             "(implies --redact).")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing report in --out.")] = False,
    fmt: FormatOpt = None,
    year: YearOpt = None,
    tz: TzOpt = None,
    rules: RulesOpt = None,
    title: Annotated[str, typer.Option("--title", help="Report title.")] = "Mail delivery failures",
    quiet: QuietOpt = False,
    store: Annotated[str | None, typer.Option("--store", help="Build the report from a store that "
                                              "`scan --store` fills (a folder or a URL), without reading "
                                              "logs.")] = None,
    max_memory: Annotated[str | None, typer.Option("--max-memory", help="Stop with exit status 12 before the "
                                                   "failures would need more memory than this (e.g. 4G, 512M; "
                                                   "default: half of this machine's memory).",
                                                   show_default=False)] = None,
    storage_option: StorageOpt = None,
    endpoint_url: EndpointOpt = None,
) -> None:
    """Write self-contained HTML reports (index.html; with --period one folder per period) and beside
    each its failures (failures.parquet) and recurring problems (problems.csv, problems.json).

    Exit status: 0 done; 1 internal error; 2 bad usage; 3 no log found; 4 --out not writable
    (checked before the scan) or not written; 10 the --store's state is unreadable; 11 a log could
    not be read or was read only in part (named on stderr, also under --quiet; the report is written);
    12 the failures would pass the memory ceiling (--max-memory; nothing is written).
    """
    from logscan.reports.build import ReportOptions, file_rows
    from logscan.reports.periods import parse_when
    from logscan.reports.stream import Spool

    from .api import store_source, stored_report_input, write_report
    from .engine import load_categories

    def run():
        opts = ReportOptions(period=period, lang=lang, redact=redact, redact_ips=redact_ips, title=title,
                             force=force, since=since and parse_when(since, "--since"),
                             until=until and parse_when(until, "--until", end=True))
        opts.check()
        if (store is None) == (not paths):
            raise UsageError("give log paths or --store DIR (one of them)",
                             hint="`logscan report LOGS...` reads logs; `logscan report --store DIR` reads a store")
        if _is_url(out):  # checked now (an existing report, the credentials), before a long scan
            from .remote import RemoteFolder

            RemoteFolder(out, force).cleanup()
            target: str | Path = out
        else:
            target = _local(out)
            if (target / "index.html").exists() and not force:  # before a long scan
                raise OutputError(f"{target / 'index.html'} exists; not overwriting it",
                                  hint="pass --force, or choose another --out")
            from .output import probe_folder

            probe_folder(target, "--out")
        bad = 0
        with Spool(_memory_ceiling(max_memory)) as spool:  # the failures go to disk, batch by batch
            streamed = True
            if store is not None and _is_url(store):  # a store at a URL is read whole (local: streamed)
                stored, files, skipped = stored_report_input(store, opts)
                failures, streamed = stored.table, False
                said = f"{stored.table.num_rows} failures from {store} ({stored.runs} runs)."
            elif store is not None:
                failures, files, skipped, runs = store_source(_local(store), opts)
                said = f"{{rows}} failures from {store} ({runs} runs)."
            else:
                result = _scan(paths, fmt, year, tz, rules, quiet, sink=spool)
                failures, files = spool.source(), file_rows(result.files)
                skipped = [{"path": k.path, "reason": k.reason} for k in result.skipped]
                t = result.totals
                said = f"{t['lines']} lines read: {t['failures']} failures, {t['unparsed']} unparsed."
                bad = _say_unreadable(result)
            path = write_report(failures, files, skipped, target, opts, load_categories(), streamed=streamed)
        if streamed:
            said = said.replace("{rows}", str(failures.rows_read))
        if not quiet:
            typer.echo(said)
            typer.echo(f"Report: {path if isinstance(path, str) else path.resolve()}")
        if bad:
            raise _partial(bad)

    _run(_with_storage(storage_option, endpoint_url, run))


def _memory_ceiling(text: str | None) -> int:
    from .pipeline import default_memory_ceiling

    if text is None:
        return default_memory_ceiling()
    m = re.fullmatch(r"([0-9]{1,6})([KMGT]?)i?B?", text.strip(), re.IGNORECASE)
    if m is None or int(m.group(1)) == 0:
        raise UsageError(f"--max-memory {text!r} is not a size", hint="give it as 4G, 512M or 1T")
    return int(m.group(1)) << {"": 0, "K": 10, "M": 20, "G": 30, "T": 40}[m.group(2).upper()]


class Lang(str, Enum):
    en = "en"
    zh = "zh"


LangOpt = Annotated[Lang, typer.Option("--lang", help="Language of titles and remediation: en (English) or "
                                       "zh (Simplified Chinese).")]
WHAT_TO_DO = {"en": "what to do:", "zh": "处理步骤："}


class Direction(str, Enum):
    auto = "auto"
    outbound = "outbound"
    inbound = "inbound"
    local = "local"


DirectionOpt = Annotated[Direction, typer.Option(
    "--direction", help="Who refused: outbound (a reply our server or app got while sending), inbound (our "
    "server refused a client), local (local delivery). auto: outbound, or inbound when only that reading "
    "finds a cause. With --jsonl, for lines without a direction field.")]
SourceOpt = Annotated[str | None, typer.Option(
    "--source", help="The software that logged the text (exim, postfix, sendmail, msmtp, phpmailer, smtplib, nodemailer, "
    "javamail, rubysmtp, gosmtp, symfony, dotnet): some rules are for one program's texts. With --jsonl, for lines "
    "without a source field.",
    show_default=False)]


@app.command("classify")
def classify_cmd(
    text: Annotated[str | None, typer.Argument(help="An SMTP reply or error text, e.g. \"550 5.1.1 User unknown\".",
                                               show_default=False)] = None,
    jsonl: Annotated[bool, typer.Option("--jsonl", help="Read JSON lines on stdin instead of TEXT (see below).")] = False,
    rules: RulesOpt = None,
    lang: LangOpt = Lang.en,
    direction: DirectionOpt = Direction.auto,
    source: SourceOpt = None,
) -> None:
    """Explain one error text: category, rule, the evidence that matched, and what to do.

    Some rules hold for one direction only (a receiving server's own fault is a reply we got, a
    resource shortage is our server's) or for one program's texts (Exim's "Unrouteable address"):
    --direction and --source say which; the direction used is printed.

    With --jsonl: read one JSON object per line on stdin, with the field `diagnostic` (the reply or
    error text) and optionally `smtp_code`, `enhanced_status`, `smtp_stage`, `relay_host`, `source`
    (also `event`, `direction`, `error_code`); missing codes are read from the start of the
    diagnostic. Each object is written back on stdout, unchanged, with `category` and `rule_id`
    added (rule_id null for unknown). A bad line (not JSON, not an object, no text diagnostic, a
    smtp_code that is not a number) is reported on stderr with its line number and skipped; the
    other lines are still classified, and the exit status is then 7. Blank lines are skipped.
    """
    from .api import last_deferral_of, record_of, verdict_of
    from .engine import Engine
    from .errors import UsageError

    def run():
        if jsonl == (text is not None):
            raise UsageError("give either TEXT or --jsonl (JSON lines on stdin)",
                             hint="`logscan classify --help` describes both")
        if source is not None:
            from logscan.parsers import REGISTRY  # only then: loading every parser costs a tenth of a second

            if source not in REGISTRY:
                raise UsageError(f"unknown --source {source!r}", hint="`logscan formats` lists the names")
        engine = Engine.load(list(rules or ()))
        if jsonl:
            return _classify_jsonl(engine, getattr(sys.stdin, "buffer", sys.stdin), sys.stdout, direction, source)
        rec = record_of({"diagnostic": text})
        v, used = verdict_of(engine, rec, direction.value, source)
        cat = engine.categories.get(v.category)
        typer.echo(f"category: {v.category} ({cat.text('title', lang.value) if cat else ''})")
        typer.echo(f"rule:     {v.rule_id or '-'}")
        typer.echo(f"direction: {used}" + (" (auto)" if direction is Direction.auto else ""))
        typer.echo(f"evidence: {v.evidence}")
        steps = list(cat.text("remediation", lang.value)) if cat else []
        last = last_deferral_of(engine, rec, v, used, source)
        if last:
            lcat = engine.categories.get(last.category)
            typer.echo(f"last deferral: {last.category} ({lcat.text('title', lang.value) if lcat else ''})"
                       f", rule {last.rule_id or '-'}: {last.evidence}")
            steps = (list(lcat.text("remediation", lang.value)) if lcat else []) + steps
        if steps:
            typer.echo(WHAT_TO_DO[lang.value])
            for i, step in enumerate(steps, 1):
                typer.echo(f"  {i}. {step}")
        return 0

    bad = _run(run)
    if bad:
        _err(f"{bad} bad line(s) skipped; every other line was classified")
        raise typer.Exit(7)


def _jsonl_problem(obj: Any) -> str | None:
    if not isinstance(obj, dict):
        return f"expected a JSON object, got {type(obj).__name__}"
    if not isinstance(obj.get("diagnostic"), str):
        return "field 'diagnostic' (a string) is missing"
    code = obj.get("smtp_code")
    if code is not None and not (isinstance(code, int) and not isinstance(code, bool)):
        if not (isinstance(code, str) and code.isdigit()):
            return f"field 'smtp_code' must be a number, got {code!r}"
    return None


def _classify_jsonl(engine, infile, outfile, direction: Direction = Direction.auto, source: str | None = None) -> int:
    """Classify JSON lines from infile onto outfile; returns how many lines were bad."""
    from .api import last_deferral_of, record_of, verdict_of

    bad = 0
    for n, raw in enumerate(infile, 1):
        if not raw.strip():
            continue
        try:
            line = raw.decode("utf-8") if isinstance(raw, bytes) else raw
            obj = json.loads(line)
        except UnicodeDecodeError as exc:
            problem = f"not UTF-8 ({exc.reason} at byte {exc.start})"
        except ValueError as exc:
            problem = f"not JSON ({exc})"
        else:
            problem = _jsonl_problem(obj)
        if problem:
            bad += 1
            _err(f"Error: line {n}: {problem}; line skipped")
            continue
        if isinstance(obj.get("smtp_code"), str):
            obj["smtp_code"] = int(obj["smtp_code"])
        rec = record_of(obj)
        v, used = verdict_of(engine, rec, direction.value, source)
        obj["category"], obj["rule_id"] = v.category, v.rule_id or None
        last = last_deferral_of(engine, rec, v, used, source)
        if last:
            obj["last_deferral_category"] = last.category
        outfile.write(json.dumps(obj, ensure_ascii=False) + "\n")
    return bad


@rules_app.command("list")
def rules_list(rules: RulesOpt = None) -> None:
    """List every rule in the order the engine tries them."""
    from .engine import Engine

    def run():
        for r in Engine.load(list(rules or ())).rules:
            typer.echo(f"{r.id:<8} {r.tier:<8} {r.category:<24} {r.title}")

    _run(run)


@rules_app.command("show")
def rules_show(rule_id: Annotated[str, typer.Argument(help="Rule id, e.g. REP001.")], rules: RulesOpt = None,
               lang: LangOpt = Lang.en) -> None:
    """Print one rule: what it matches, why, references and examples."""
    from .engine import Engine
    from .errors import UsageError

    def run():
        engine = Engine.load(list(rules or ()))
        found = [r for r in engine.rules if r.id == rule_id]
        if not found:
            raise UsageError(f"no rule {rule_id!r}", hint="`logscan rules list` shows the ids")
        r = found[0]
        cat = engine.categories[r.category]
        from logscan.reports.i18n import cli_words

        words = cli_words(lang.value)

        def w(label: str) -> str:
            return words.get(label, label)

        typer.echo(f"{r.id}: {r.title}\n{w('category')}: {r.category} ({cat.text('title', lang.value)})\n"
                   f"{w('tier')}: {r.tier}, {w('priority')} {r.priority}")
        for name in ("event", "direction", "source", "stage", "error_code", "enhanced_status", "smtp_code",
                     "relay_port", "tls_mode"):
            if getattr(r, name):
                typer.echo(f"{w(name)}: {', '.join(str(v) if v != '' else w('(none logged)') for v in getattr(r, name))}")
        for name in ("diagnostic", "not_diagnostic", "relay_host"):
            if getattr(r, name) is not None:
                typer.echo(f"{w(name)}: /{getattr(r, name).pattern}/")
        typer.echo(f"{w('references')}:\n" + "\n".join(f"  - {x}" for x in r.references))
        typer.echo(f"{w('examples that match')}:\n" + "\n".join(f"  - {json.dumps(e)}" for e in r.examples_match))
        typer.echo(f"{w('examples that must not match')}:\n"
                   + "\n".join(f"  - {json.dumps(e)}" for e in r.examples_no_match))
        steps = cat.text("remediation", lang.value)
        typer.echo(WHAT_TO_DO[lang.value] + "\n" + "\n".join(f"  {i}. {s}" for i, s in enumerate(steps, 1)))

    _run(run)


@rules_app.command("test")
def rules_test(files: Annotated[list[Path], typer.Argument(help="Rule files to test.")]) -> None:
    """Run the examples of rule files through the whole engine (with the built-in rules)."""
    from .engine import Engine, example_failures

    def run():
        engine = Engine.load(files)
        failures = example_failures(engine, only=set(files))
        for f in failures:
            typer.echo(f"FAIL {f}")
        typer.echo(f"{len(failures)} failing example(s)")
        if failures:
            raise typer.Exit(6)

    _run(run)


PROBE_FAILED = 13  # a check failed, or an address is listed


@app.command("probe")
def probe_cmd(
    targets: Annotated[list[str] | None, typer.Argument(help="Servers to check: smtp://HOST[:PORT] (25; STARTTLS "
                                                        "when offered), submission://HOST[:PORT] (587, STARTTLS "
                                                        "required) or smtps://HOST[:PORT] (465, implicit TLS).",
                                                        show_default=False)] = None,
    user: Annotated[str | None, typer.Option("--user", help="Try AUTH with this account (the password from "
                                             "--password-env, --password-file or a prompt; never the command line).",
                                             show_default=False)] = None,
    password_env: Annotated[str | None, typer.Option("--password-env", metavar="VAR", help="Read the password "
                                                     "from this environment variable.", show_default=False)] = None,
    password_file: Annotated[Path | None, typer.Option("--password-file", help="Read the password from the first "
                                                       "line of this file.", show_default=False)] = None,
    blocklists: Annotated[list[str] | None, typer.Option("--blocklists", metavar="IP", help="Look this sending "
                                                         "IP up on the main DNS block lists (repeatable).",
                                                         show_default=False)] = None,
    from_logs: Annotated[list[str] | None, typer.Option("--from-logs", metavar="PATH", help="Take the servers "
                                                        "and IPs to check from the failures in these logs "
                                                        "(repeatable).", show_default=False)] = None,
    dns_server: Annotated[str | None, typer.Option("--dns", metavar="IP[:PORT]", help="Ask this DNS server "
                                                   "instead of the system's resolver (block lists such as Spamhaus "
                                                   "refuse queries from public resolvers).", show_default=False)] = None,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait for each step.")] = 10.0,
    cafile: Annotated[Path | None, typer.Option("--cafile", help="Trust these CA certificates (PEM) instead of "
                                                "the system's.", show_default=False)] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print what would be contacted; contact nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per check on stdout.")] = False,
) -> None:
    """Check what the logs suggest: DNS, TCP connect, TLS, greeting, EHLO, STARTTLS, certificate,
    AUTH (with --user), and DNS block lists, stopping at the first check that fails. Each failure
    gets the same root cause and remediation as a log row. No mail is sent (QUIT after AUTH).

    Exit status: 0 every check passed and no address is listed; 13 a check failed, an address is
    listed or a block list refused the query; 2 bad usage; 3 --from-logs found no log."""
    from . import probe as p

    def run():
        servers = list(targets or ())
        ips = list(blocklists or ())
        if from_logs:
            found_servers, found_ips = p.from_failures(_scan(from_logs, None, None, None, None, True).table)
            servers += [s for s in found_servers if s not in servers]
            ips += [i for i in found_ips if i not in ips]
        if not servers and not ips:
            raise UsageError("nothing to probe", hint="give a server (submission://smtp.example.com), --blocklists IP "
                                                      "or --from-logs PATHS")
        if len(servers) > p.MAX_TARGETS or len(ips) > p.MAX_TARGETS:
            raise UsageError(f"at most {p.MAX_TARGETS} servers and {p.MAX_TARGETS} IPs in one probe",
                             hint="probe fewer at a time")
        parsed = [p.parse_target(s) for s in servers]
        if dry_run:
            for t in parsed:
                typer.echo(f"would contact {t.host} port {t.port} ({t.scheme}, TLS {t.tls})"
                           + (f", and try AUTH as {user}" if user else ""))
            for ip in ips:
                for bl in p.BLOCKLISTS:
                    typer.echo(f"would look up {p.reversed_name(ip, bl.zone)} (A) in DNS")
            typer.echo(f"DNS through {dns_server or 'the system resolver'}; nothing was contacted.")
            return 0
        password = _probe_password(user, password_env, password_file)
        resolver = p.Resolver(dns_server, timeout=min(timeout, 5.0))
        from .engine import Engine

        engine = Engine.load()
        failed = 0
        for url in servers:
            if not as_json:
                typer.echo(f"{url}")
            checks = p.probe_server(url, user=user, password=password, timeout=timeout, resolver=resolver,
                                    cafile=str(cafile) if cafile else None, engine=engine,
                                    on_check=None if as_json else _print_check)
            if as_json:
                for c in checks:
                    typer.echo(json.dumps({"target": url, **dataclasses.asdict(c)}, default=str))
            last = checks[-1] if checks else None
            if last is not None and not last.ok:
                failed += 1
                if not as_json:
                    cat = engine.categories.get(last.category)
                    typer.echo(f"  -> {last.category} ({cat.title if cat else ''}), rule {last.rule_id or '-'}")
                    for i, step in enumerate(cat.remediation[:3] if cat else (), 1):
                        typer.echo(f"     {i}. {step}")
        for ip in ips:
            listings = p.check_blocklists(ip, resolver)
            for x in listings:
                if as_json:
                    typer.echo(json.dumps({"ip": ip, **dataclasses.asdict(x)}))
                else:
                    mark = "LISTED" if x.listed else ("?" if x.error else "ok")
                    typer.echo(f"{ip} on {x.name} ({x.zone}): {mark:6} {x.meaning}"
                               + (f"; removal: {x.removal}" if x.listed else ""))
            failed += any(x.listed or x.error for x in listings)  # a refused query leaves the answer open
        return PROBE_FAILED if failed else 0

    code = _run(run)
    if code:
        raise typer.Exit(code)


def _print_check(c) -> None:
    typer.echo(f"  {'ok ' if c.ok else 'FAIL'} {c.name:<12} {c.seconds:6.3f}s  {c.verdict}")


def _probe_password(user: str | None, env: str | None, file: Path | None) -> str | None:
    if user is None:
        if env or file:
            raise UsageError("--password-env and --password-file go with --user")
        return None
    if env and file:
        raise UsageError("give the password one way: --password-env or --password-file")
    if env:
        value = os.environ.get(env)
        if value is None:
            raise UsageError(f"the environment variable {env} is not set")
        return value
    if file:
        try:
            return file.read_text(encoding="utf-8").splitlines()[0] if file.stat().st_size else ""
        except OSError as exc:
            raise UsageError(f"cannot read --password-file {file}: {exc.strerror or exc}") from None
    if not sys.stdin.isatty():
        raise UsageError("no password: give --password-env VAR or --password-file FILE (no terminal to ask on)")
    return typer.prompt(f"Password for {user}", hide_input=True)
@rules_app.command("coverage")
def rules_coverage(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object: every table and the totals.")] = False,
    list_misses: Annotated[bool, typer.Option("--list", help="Name each row the rules miss (with --json: "
                                                             "a `misses` list per table).")] = False,
    rules: RulesOpt = None,
) -> None:
    """How many rows of each published table the rules classify right.

    A table (logscan/knowledge/tables/*.toml) is a provider's published list of SMTP replies (Gmail,
    Microsoft 365, ...) or a program's list of failure texts, each row with the category it means.
    Every row goes through the whole engine as the record a log parser writes for it. Columns: rows;
    right (the row's category); wrong (a rule matched, with another category); unknown (no rule).
    A row that names no cause is filed as `unknown` by its table and counted right when left unknown.
    """
    from .coverage import coverage, totals, totals_by_kind
    from .engine import Engine

    def run():
        results = coverage(Engine.load(list(rules or ())))
        total = totals(results)
        by_kind = totals_by_kind(results)
        if as_json:
            typer.echo(json.dumps({"tables": [r.as_dict(with_misses=list_misses) for r in results], "total": total,
                                   "by_kind": by_kind}, ensure_ascii=False, indent=2))
            return
        typer.echo(f"{'table':<22} {'kind':<9} {'rows':>5} {'right':>6} {'wrong':>6} {'unknown':>8}")
        for r in results:
            typer.echo(f"{r.table.id:<22} {r.table.kind:<9} {r.rows:>5} {r.right:>6} {len(r.wrong):>6} "
                       f"{len(r.unknown):>8}")
            if list_misses:
                for m in r.wrong + r.unknown:
                    typer.echo(f"    expected {m.row.category}, got {m.got} ({m.rule_id or 'no rule'}): "
                               f"{m.row.label()[:160]}")
        for kind, t in by_kind.items():  # provider pages apart from programs' own texts
            typer.echo(f"{kind + ' (' + str(t['tables']) + ' tables)':<32} {t['rows']:>5} {t['right']:>6} "
                       f"{t['wrong']:>6} {t['unknown']:>8}")
        share = f" ({100 * total['right'] / total['rows']:.1f}% right)" if total["rows"] else ""
        typer.echo(f"{'total (' + str(total['tables']) + ' tables)':<32} {total['rows']:>5} {total['right']:>6} "
                   f"{total['wrong']:>6} {total['unknown']:>8}{share}")
        if total["rows_naming_no_cause"]:
            typer.echo(f"{total['rows_naming_no_cause']} row(s) name no cause (their table files them as unknown; "
                       "right when left unknown)")

    _run(run)


@app.command("formats")
def formats_cmd() -> None:
    """List the log formats logscan reads."""
    from logscan.parsers import REGISTRY

    for name, p in sorted(REGISTRY.items()):
        typer.echo(f"{name:<12} {'server' if p.traits.server else 'client':<7} {p.description}")


@app.command("schema")
def schema_cmd() -> None:
    """Print the failure table's fields (Markdown)."""
    from . import schema

    typer.echo(schema.docs_table())


def main() -> None:
    try:
        app()
    except BrokenPipeError:  # `logscan scan ... | head`: the reader left; not an error
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
