"""The command line. Library code never imports typer; this module maps its errors to exit codes.

Exit codes: 0 done; 1 internal error (run again with --traceback); 2 bad usage; 3 no log found;
4 an output could not be written; 5 a rule file is malformed; 6 `rules test` found failing examples;
8 the --store is locked by another run (nothing was done); 9 a `scan --fail-on` threshold was
exceeded (the run itself completed and was stored); 10 the --store's state cannot be read.
"""

from __future__ import annotations

import contextlib
import json
import sys
import traceback
from collections.abc import Callable
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
            echo(f"  {i:>2}. {p['failures']:>6} x {p['category']} [{p['rule_id'] or '-'}]: {sig}")
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
            from logscan.reports.aggregate import Tally

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


def _report_from_store(store: Path | None, paths, out: Path, force: bool, title: str, quiet: bool) -> None:
    """issue 7: `report --store DIR`: the stored failures and file totals, rendered like a scan's."""
    from logscan.reports.aggregate import summarize
    from logscan.reports.html import render, write_report

    from .engine import load_categories
    from .output import write_table
    from .store import read_failures

    if store is None or paths:
        raise UsageError("give log paths or --store DIR, not both (nor neither)",
                         hint="`logscan report LOGS...` reads logs; `logscan report --store DIR` reads a store")
    index = out / "index.html"
    if index.exists() and not force:
        raise OutputError(f"{index} exists; not overwriting it", hint="pass --force, or choose another --out")
    stored = read_failures(store)
    summary = summarize(stored.table, load_categories())
    skipped = [{"path": str(store / m), "reason": "listed in the store but deleted"} for m in stored.missing]
    path = write_report(render(summary, stored.files, skipped, title), out)
    write_table(stored.table, out / "failures.parquet", force=True)
    if not quiet:
        typer.echo(f"{stored.table.num_rows} failures from {store} ({stored.runs} runs).")
        typer.echo(f"Report: {path.resolve()}")


@app.command("report")
def report_cmd(
    # issue 7: paths are optional with --store (was PathsArg)
    paths: Annotated[list[str] | None, typer.Argument(help="Log files, folders (read recursively) or globs; "
                                                      "none with --store.", show_default=False)] = None,
    out: Annotated[Path, typer.Option("--out", help="Folder for the report (created if missing).")] = Path(
        "logscan-report"),
    force: Annotated[bool, typer.Option("--force", help="Replace an existing report in --out.")] = False,
    fmt: FormatOpt = None,
    year: YearOpt = None,
    tz: TzOpt = None,
    rules: RulesOpt = None,
    title: Annotated[str, typer.Option("--title", help="Report title.")] = "Mail delivery failures",
    quiet: QuietOpt = False,
    # --- issue 7: report from a store ---
    store: Annotated[Path | None, typer.Option("--store", help="Build the report from a store that "
                                               "`scan --store` fills, without reading logs.")] = None,
) -> None:
    """Write a self-contained HTML report (index.html) and the failure table (failures.parquet)."""
    from logscan.reports.aggregate import summarize
    from logscan.reports.html import render, write_report

    from .engine import load_categories
    from .output import write_table

    # --- issue 7: report from a store ---
    if store is not None or not paths:
        _run(lambda: _report_from_store(store, paths, out, force, title, quiet))
        return

    def run():
        index = out / "index.html"
        if index.exists() and not force:
            raise OutputError(f"{index} exists; not overwriting it", hint="pass --force, or choose another --out")
        if out.exists() and not out.is_dir():
            raise OutputError(f"{out} is not a folder", hint="choose another --out")
        result = _scan(paths, fmt, year, tz, rules, quiet)
        summary = summarize(result.table, load_categories())
        html = render(summary, [f.as_dict() for f in result.files],
                      [{"path": k.path, "reason": k.reason} for k in result.skipped], title)
        path = write_report(html, out)
        write_table(result.table, out / "failures.parquet", force=True)
        if not quiet:
            t = result.totals
            typer.echo(f"{t['lines']} lines read: {t['failures']} failures, {t['unparsed']} unparsed.")
            typer.echo(f"Report: {path.resolve()}")

    _run(run)


@app.command("classify")
def classify_cmd(
    text: Annotated[str, typer.Argument(help="An SMTP reply or error text, e.g. \"550 5.1.1 User unknown\".")],
    rules: RulesOpt = None,
) -> None:
    """Explain one error text: category, rule, the evidence that matched, and what to do."""
    from logscan.smtp import split_reply

    from .engine import Engine

    def run():
        engine = Engine.load(list(rules or ()))
        code, enh = split_reply(text)
        v = engine.classify({"diagnostic": text, "smtp_code": code, "enhanced_status": enh})
        cat = engine.categories.get(v.category)
        typer.echo(f"category: {v.category} ({cat.title if cat else ''})")
        typer.echo(f"rule:     {v.rule_id or '-'}")
        typer.echo(f"evidence: {v.evidence}")
        if cat:
            typer.echo("what to do:")
            for i, step in enumerate(cat.remediation, 1):
                typer.echo(f"  {i}. {step}")

    _run(run)


@rules_app.command("list")
def rules_list(rules: RulesOpt = None) -> None:
    """List every rule in the order the engine tries them."""
    from .engine import Engine

    def run():
        for r in Engine.load(list(rules or ())).rules:
            typer.echo(f"{r.id:<8} {r.tier:<8} {r.category:<24} {r.title}")

    _run(run)


@rules_app.command("show")
def rules_show(rule_id: Annotated[str, typer.Argument(help="Rule id, e.g. REP001.")], rules: RulesOpt = None) -> None:
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
        typer.echo(f"{r.id}: {r.title}\ncategory: {r.category} ({cat.title})\ntier: {r.tier}, priority {r.priority}")
        for name in ("event", "direction", "source", "stage", "error_code", "enhanced_status", "smtp_code"):
            if getattr(r, name):
                typer.echo(f"{name}: {', '.join(map(str, getattr(r, name)))}")
        for name in ("diagnostic", "not_diagnostic", "relay_host"):
            if getattr(r, name) is not None:
                typer.echo(f"{name}: /{getattr(r, name).pattern}/")
        typer.echo("references:\n" + "\n".join(f"  - {x}" for x in r.references))
        typer.echo("examples that match:\n" + "\n".join(f"  - {json.dumps(e)}" for e in r.examples_match))
        typer.echo("examples that must not match:\n" + "\n".join(f"  - {json.dumps(e)}" for e in r.examples_no_match))
        typer.echo("what to do:\n" + "\n".join(f"  {i}. {s}" for i, s in enumerate(cat.remediation, 1)))

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
