"""The command line. Library code never imports typer; this module maps its errors to exit codes.

Exit codes: 0 done; 1 internal error (run again with --traceback); 2 bad usage; 3 no log found;
4 an output could not be written; 5 a rule file is malformed; 6 `rules test` found failing examples;
7 `classify --jsonl` met bad input lines (the good ones were still classified); 8 the --store is locked by another run (nothing was done); 9 a `scan --fail-on` threshold was
exceeded (the run itself completed and was stored); 10 the --store's state cannot be read.
"""

from __future__ import annotations

import contextlib
import json
import sys
import traceback
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from . import __version__
from .errors import LogscanError, OutputError, UsageError

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


def _scan(paths, fmt, year, tz, rules, quiet, sink=None, **incremental) -> ScanResult:
    # Imported here: pyarrow takes a while to load, and an incremental run with nothing new never needs it.
    from .pipeline import ScanOptions, file_sizes, scan

    opts = ScanOptions(forced_format=fmt, year=year, tz=tz, rule_files=tuple(rules or ()))
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
    from .engine import load_categories

    t = result.totals
    echo = typer.echo
    echo(f"{t['lines']} lines read in {len(result.files)} file(s): {t['failures']} failures, "
         f"{t['ignored']} ignored, {t['unparsed']} unparsed.")
    if tally.failures:
        echo("\nFailures by root cause:")
        for c in tally.categories(load_categories()):
            echo(f"  {c['failures']:>7}  {c['share'] * 100:5.1f}%  {c['category']:<24} {c['title']}")
        echo(f"\nTop recurring problems (of {tally.failures} failures):")
        for i, p in enumerate(tally.problems(top), 1):
            sig = p["signature"] if len(p["signature"]) <= 150 else p["signature"][:147] + "..."
            cause = f" <- {p['last_deferral']}" if p["last_deferral"] else ""
            echo(f"  {i:>2}. {p['failures']:>6} x {p['category']}{cause} [{p['rule_id'] or '-'}]: {sig}")
    echo("\nPer file (lines / failures / ignored / unparsed):")
    for f in result.files:
        echo(f"  {f.lines:>9} {f.failures:>7} {f.ignored:>9} {f.unparsed:>6}  {f.path} ({f.format})")
        for line_no, text in f.unparsed_examples[:3]:
            echo(f"      unparsed line {line_no}: {text[:160]}")
    for k in result.skipped:
        echo(f"  skipped {k.path}: {k.reason}")


@app.command("scan")
def scan_cmd(
    paths: PathsArg,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the failure table to this file: "
                                                ".parquet, .csv or .jsonl.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite --output if it exists.")] = False,
    fmt: FormatOpt = None,
    year: YearOpt = None,
    tz: TzOpt = None,
    rules: RulesOpt = None,
    top: Annotated[int, typer.Option("--top", help="How many recurring problems the summary lists.")] = 10,
    store: Annotated[Path | None, typer.Option("--store", help="Append the new failures to this Parquet store "
                                               "(a folder, partitioned by day) and read only what is new since "
                                               "the last run; rotated and compressed logs are recognised.")] = None,
    keep: Annotated[str | None, typer.Option("--keep", help="With --store: drop days older than this, e.g. 90d "
                                             "or 12w.")] = None,
    fail_on: Annotated[list[str] | None, typer.Option("--fail-on", metavar="CATEGORY[=N]", help="Exit with "
                                                      "status 9 when this run's new failures in CATEGORY (a "
                                                      "category id or a family such as auth) exceed N (default "
                                                      "0). Repeatable.")] = None,
    quiet: QuietOpt = False,
) -> None:
    """Read mail logs and list every send failure with its root cause.

    Without --output, prints a summary: failures by root cause, the top recurring problems, and
    lines read / failures / ignored / unparsed per file. With --store, only lines new since the
    last run are read, and the summary is about them.

    Exit status: 0 done; 1 internal error; 2 bad usage; 3 no log found; 4 --output not written;
    8 --store locked by another run; 9 a --fail-on threshold exceeded; 10 the --store's state is
    unreadable.
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
                writer = stack.enter_context(TableWriter(output, force))  # checks the name before a long scan
                sinks.append(writer.write)
            if store is None:
                result = _scan(paths, fmt, year, tz, rules, quiet, sink=_fan_out(sinks))
                stored = None
            else:
                from .store import scan_into

                def scan_fn(sink, **incremental):
                    return _scan(paths, fmt, year, tz, rules, quiet, sink=_fan_out([sink, *sinks]), **incremental)

                result, stored = scan_into(store, paths, fmt, scan_fn, keep_days)
        if not quiet and writer is not None:
            typer.echo(f"Wrote {writer.rows} failures to {output}")
        if not quiet and result is not None:  # (None: --store, and no file had anything new)
            if tally is not None:
                _print_summary(result, tally, top)
            else:
                t = result.totals
                typer.echo(f"{t['lines']} lines read: {t['failures']} failures, {t['ignored']} ignored, "
                           f"{t['unparsed']} unparsed.")
        if stored is not None and not quiet:
            _print_store_summary(store, stored)
        problems = exceeded(thresholds, counter.counts)
        if problems:
            raise ThresholdExceeded("; ".join(problems))

    _run(run)


def _fan_out(sinks):
    def sink(table):
        for s in sinks:
            s(table)

    return sink


def _print_store_summary(store: Path, stored: dict) -> None:
    echo = typer.echo
    echo(f"\nStore {store}: {stored['stored']} new failures stored (run {stored['runs']}); "
         f"{stored['unchanged']} file(s) unchanged since the last run.")
    for path in stored["restarted"]:
        echo(f"  {path} was truncated or rewritten: read again from the start")
    for path, twin in stored["duplicates"]:
        echo(f"  {path} starts like {twin} (a rotation in progress?): not read, to count nothing twice")
    for path in stored["waiting"]:
        echo(f"  {path} is shorter than what was read of its content (a copy in progress?): read next run")
    if stored["dropped_files"]:
        echo(f"  --keep: dropped {stored['dropped_files']} data file(s) of older days")


def _stored_failures(store: Path, opts):
    """`report --store DIR`: the stored failures and per-file totals (with delivery counts), in the
    shape build_reports takes, so a store gives the same reports as a scan of the same logs."""
    from datetime import datetime, timezone

    from .store import read_failures

    stored = read_failures(store, opts.since, opts.until)
    files = []
    for f in stored.files:
        row = dict(f)
        for name in ("first_time", "last_time"):  # epoch microseconds in the store
            us = row.get(name)
            row[name] = None if us is None else datetime.fromtimestamp(us / 1e6, tz=timezone.utc)
        files.append(row)
    skipped = [{"path": str(store / m), "reason": "listed in the store but deleted"} for m in stored.missing]
    return stored, files, skipped


@app.command("report")
def report_cmd(
    paths: Annotated[list[str] | None, typer.Argument(help="Log files, folders (read recursively) or globs; "
                                                      "none with --store.", show_default=False)] = None,
    out: Annotated[Path, typer.Option("--out", help="Folder for the report (created if missing).")] = Path(
        "logscan-report"),
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
    store: Annotated[Path | None, typer.Option("--store", help="Build the report from a store that "
                                               "`scan --store` fills, without reading logs.")] = None,
) -> None:
    """Write self-contained HTML reports (index.html; with --period one folder per period) and beside
    each its failures (failures.parquet) and recurring problems (problems.csv, problems.json)."""
    from logscan.reports.build import ReportOptions, build_reports, file_rows
    from logscan.reports.periods import parse_when

    from .engine import load_categories

    def run():
        opts = ReportOptions(period=period, lang=lang, redact=redact, redact_ips=redact_ips, title=title,
                             force=force, since=since and parse_when(since, "--since"),
                             until=until and parse_when(until, "--until", end=True))
        opts.check()
        if (store is None) == (not paths):
            raise UsageError("give log paths or --store DIR (one of them)",
                             hint="`logscan report LOGS...` reads logs; `logscan report --store DIR` reads a store")
        if (out / "index.html").exists() and not force:  # before a long scan
            raise OutputError(f"{out / 'index.html'} exists; not overwriting it",
                              hint="pass --force, or choose another --out")
        if store is not None:
            stored, files, skipped = _stored_failures(store, opts)
            table, said = stored.table, f"{stored.table.num_rows} failures from {store} ({stored.runs} runs)."
        else:
            result = _scan(paths, fmt, year, tz, rules, quiet)
            table, files = result.table, file_rows(result.files)
            skipped = [{"path": k.path, "reason": k.reason} for k in result.skipped]
            t = result.totals
            said = f"{t['lines']} lines read: {t['failures']} failures, {t['unparsed']} unparsed."
        path = build_reports(table, files, skipped, out, opts, load_categories())
        if not quiet:
            typer.echo(said)
            typer.echo(f"Report: {path.resolve()}")

    _run(run)


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
    "--source", help="The software that logged the text (exim, postfix, msmtp, phpmailer, smtplib, nodemailer, "
    "javamail, rubysmtp, gosmtp, symfony, dotnet): some rules are for one program's texts. With --jsonl, for lines without a source field.",
    show_default=False)]


def _last_deferral(engine, rec: dict[str, Any], verdict, direction: str, source: str | None):
    """For a text classified `expired` that carries "last deferral: ...": the verdict on that deferral."""
    if verdict.category != "expired":
        return None
    return engine.last_deferral(dict(rec, event="expired", direction=rec.get("direction") or direction,
                                     source=rec.get("source") or source))


def _classify_as(engine, rec: dict[str, Any], direction: Direction, source: str | None):
    """The verdict for rec and the direction it was read in. A record's own direction wins; auto tries
    outbound (what a pasted reply usually is), then inbound when outbound finds nothing."""
    if source and not rec.get("source"):
        rec = dict(rec, source=source)
    if rec.get("direction"):
        return engine.classify(rec), rec["direction"]
    if direction is not Direction.auto:
        return engine.classify(dict(rec, direction=direction.value)), direction.value
    v = engine.classify(dict(rec, direction="outbound"))
    if v.category == "unknown":
        inbound = engine.classify(dict(rec, direction="inbound"))
        if inbound.category != "unknown":
            return inbound, "inbound"
    return v, "outbound"


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
    from .engine import Engine
    from .errors import UsageError

    def run():
        if jsonl == (text is not None):
            raise UsageError("give either TEXT or --jsonl (JSON lines on stdin)",
                             hint="`logscan classify --help` describes both")
        from logscan.parsers import REGISTRY

        if source is not None and source not in REGISTRY:
            raise UsageError(f"unknown --source {source!r}", hint="`logscan formats` lists the names")
        engine = Engine.load(list(rules or ()))
        if jsonl:
            return _classify_jsonl(engine, getattr(sys.stdin, "buffer", sys.stdin), sys.stdout, direction, source)
        rec = _record({"diagnostic": text})
        v, used = _classify_as(engine, rec, direction, source)
        cat = engine.categories.get(v.category)
        typer.echo(f"category: {v.category} ({cat.text('title', lang.value) if cat else ''})")
        typer.echo(f"rule:     {v.rule_id or '-'}")
        typer.echo(f"direction: {used}" + (" (auto)" if direction is Direction.auto else ""))
        typer.echo(f"evidence: {v.evidence}")
        steps = list(cat.text("remediation", lang.value)) if cat else []
        last = _last_deferral(engine, rec, v, used, source)
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


JSONL_FIELDS = ("smtp_code", "enhanced_status", "smtp_stage", "relay_host", "source", "event", "direction",
                "error_code")


def _record(obj: dict[str, Any]) -> dict[str, Any]:
    """The engine's record for one input: the given fields; codes and stage from the text where
    missing (a bare reply, or a Postfix/Exim status text around one)."""
    from logscan.smtp import reply_in_status, split_reply

    rec = {k: obj.get(k) for k in JSONL_FIELDS if obj.get(k) not in (None, "")}
    rec["diagnostic"] = obj["diagnostic"]
    reply, stage = reply_in_status(obj["diagnostic"])
    if stage:
        rec.setdefault("smtp_stage", stage)
    code, enh = split_reply(reply or obj["diagnostic"])
    rec.setdefault("smtp_code", code)
    rec.setdefault("enhanced_status", enh)
    return rec


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
        rec = _record(obj)
        v, used = _classify_as(engine, rec, direction, source)
        obj["category"], obj["rule_id"] = v.category, v.rule_id or None
        last = _last_deferral(engine, rec, v, used, source)
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
        typer.echo(f"{r.id}: {r.title}\ncategory: {r.category} ({cat.text('title', lang.value)})\n"
                   f"tier: {r.tier}, priority {r.priority}")
        for name in ("event", "direction", "source", "stage", "error_code", "enhanced_status", "smtp_code",
                     "relay_port", "tls_mode"):
            if getattr(r, name):
                typer.echo(f"{name}: {', '.join(str(v) if v != '' else '(none logged)' for v in getattr(r, name))}")
        for name in ("diagnostic", "not_diagnostic", "relay_host"):
            if getattr(r, name) is not None:
                typer.echo(f"{name}: /{getattr(r, name).pattern}/")
        typer.echo("references:\n" + "\n".join(f"  - {x}" for x in r.references))
        typer.echo("examples that match:\n" + "\n".join(f"  - {json.dumps(e)}" for e in r.examples_match))
        typer.echo("examples that must not match:\n" + "\n".join(f"  - {json.dumps(e)}" for e in r.examples_no_match))
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


@app.command("formats")
def formats_cmd() -> None:
    """List the log formats logscan reads."""
    from logscan.parsers import REGISTRY

    for name, p in sorted(REGISTRY.items()):
        typer.echo(f"{name:<12} {p.description}")


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
