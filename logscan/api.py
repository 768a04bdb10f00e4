"""logscan's Python API: what the CLI does, as functions that take paths and return Arrow tables.

    import logscan
    failures = logscan.scan(["/var/log/mail.log*"]).to_pandas()     # one row per failure
    print(logscan.classify("535 5.7.8 Username and Password not accepted").category)  # auth_failed
    logscan.report(logscan.scan_with_stats(["/var/log/"]), "/srv/www/mailreport", period="day")

The CLI is a layer over these functions: the same options, the same errors (logscan.errors: each
LogscanError has `exit_code` and a `hint` saying what to do next). The failure table's columns are
documented in docs/failure-table.md (and by `logscan schema`).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .errors import UsageError

if TYPE_CHECKING:  # heavy imports are made by the functions that need them
    import pandas as pd
    import pyarrow as pa

    from .pipeline import ScanResult

Direction = Literal["auto", "outbound", "inbound", "local"]
PathLike = str | Path


@dataclass(frozen=True)
class Classification:
    """The root cause logscan gives one text, with what backs it and what to do."""

    category: str  # a category id (`logscan rules list`); "unknown" when the text names no cause
    rule_id: str  # the rule that decided ("" for unknown)
    evidence: str  # what matched
    direction: str  # the direction the text was read in (outbound: a reply we got)
    title: str  # the category's title, in the language asked for
    remediation: tuple[str, ...]  # the steps to fix it, first step first
    last_deferral: Classification | None = None  # for an expired message: the cause of its last deferral


def scan(paths: Iterable[PathLike], *, format: str | None = None, year: int | None = None,
         tz: str | None = None, rules: Sequence[PathLike] = (), workers: int | None = None,
         dask: Any = None, storage_options: dict[str, Any] | None = None) -> pa.Table:
    """Read the logs under `paths` (files, folders read recursively, globs; gzip/bzip2/xz read
    transparently) and return their failures, one row each, classified, as a pyarrow.Table
    (`.to_pandas()` for a DataFrame). A path may be an fsspec URL: s3://bucket/logs/, gs://...,
    az://..., https://host/mail.log.gz, memory://... (pip install 'logscan-mail[s3]' and so on).

    format: force one format (`logscan formats` lists them) instead of detecting it per file.
    year: the year of stamps that have none (classic syslog); default: from the file's mtime.
    tz: the zone of stamps without one (default: this machine's).
    rules: your own rule files (TOML), tried before the built-in rules.
    workers: processes for large plain files (default: the cores, at most 4; remote files are
    read in one stream each).
    dask: parse on a Dask cluster (docs/distributed.md): a distributed.Client, a scheduler address
    ("tcp://host:8786"; its workers must see the same paths) or "local" (a LocalCluster of `workers`
    processes); the same rows as without. Needs `pip install 'logscan-mail[dask]'`.
    storage_options: keyword arguments for the file system of every URL (as pandas' storage_options:
    endpoint_url, profile, anon, key, secret, ...); credentials otherwise come the backend's usual way.
    Raises logscan.errors.NoInputError when no path holds a mail log."""
    return scan_with_stats(paths, format=format, year=year, tz=tz, rules=rules, workers=workers, dask=dask,
                           storage_options=storage_options).table


def scan_with_stats(paths: Iterable[PathLike], *, format: str | None = None, year: int | None = None,
                    tz: str | None = None, rules: Sequence[PathLike] = (), workers: int | None = None,
                    dask: Any = None, storage_options: dict[str, Any] | None = None) -> ScanResult:
    """As scan(), returning a ScanResult: `.table` (the failures), `.files` (per file: lines,
    failures, ignored, unparsed with examples, read errors, deliveries), `.skipped` (files not
    read, with the reason) and `.totals`. report() takes it as it is."""
    from .pipeline import ScanOptions
    from .pipeline import scan as _scan

    opts = ScanOptions(forced_format=format, year=year, tz=tz, rule_files=tuple(Path(r) for r in rules))
    if workers is not None:
        if workers < 1:
            raise UsageError(f"workers={workers}: give 1 or more")
        opts.workers = workers
    with _remote_options(storage_options):
        if dask is not None:
            from .distributed import scan as _dask_scan

            return _dask_scan([str(p) for p in paths], opts, dask=dask)
        return _scan([str(p) for p in paths], opts)


def _remote_options(storage_options: dict[str, Any] | None):
    """The storage options in force for URLs within the block (logscan/remote.py)."""
    if not storage_options:
        return contextlib.nullcontext()
    from .remote import storage_options as given

    return given(storage_options)


@functools.lru_cache(maxsize=8)
def _engine(rules: tuple[str, ...]):
    from .engine import Engine

    return Engine.load([Path(r) for r in rules])


JSONL_FIELDS = ("smtp_code", "enhanced_status", "smtp_stage", "relay_host", "source", "event", "direction",
                "error_code")


def record_of(obj: dict[str, Any]) -> dict[str, Any]:
    """The engine's record for one text and its known fields; the reply code, enhanced status and
    SMTP stage are read from the text where not given (a bare reply, or a Postfix/Exim status text
    around one)."""
    from .smtp import reply_in_status, split_reply

    rec = {k: obj.get(k) for k in JSONL_FIELDS if obj.get(k) not in (None, "")}
    rec["diagnostic"] = obj["diagnostic"]
    reply, stage = reply_in_status(obj["diagnostic"])
    if stage:
        rec.setdefault("smtp_stage", stage)
    code, enh = split_reply(reply or obj["diagnostic"])
    rec.setdefault("smtp_code", code)
    rec.setdefault("enhanced_status", enh)
    return rec


def verdict_of(engine, rec: dict[str, Any], direction: Direction = "auto", source: str | None = None):
    """The engine's verdict for a record and the direction it was read in. A record's own direction
    wins; auto reads it as a reply we got (outbound), then as our own refusal (inbound) when the
    outbound reading finds no cause."""
    if source and not rec.get("source"):
        rec = dict(rec, source=source)
    if rec.get("direction"):
        return engine.classify(rec), rec["direction"]
    if direction != "auto":
        return engine.classify(dict(rec, direction=direction)), direction
    v = engine.classify(dict(rec, direction="outbound"))
    if v.category == "unknown":
        inbound = engine.classify(dict(rec, direction="inbound"))
        if inbound.category != "unknown":
            return inbound, "inbound"
    return v, "outbound"


def last_deferral_of(engine, rec: dict[str, Any], verdict, direction: str, source: str | None = None):
    """For a text classified `expired` that carries "last deferral: ...": the verdict on that deferral."""
    if verdict.category != "expired":
        return None
    return engine.last_deferral(dict(rec, event="expired", direction=rec.get("direction") or direction,
                                     source=rec.get("source") or source))


def classify(text: str, *, smtp_code: int | None = None, enhanced_status: str | None = None,
             smtp_stage: str | None = None, relay_host: str | None = None, source: str | None = None,
             event: str | None = None, direction: Direction = "auto", rules: Sequence[PathLike] = (), lang: str = "en") -> Classification:
    """The root cause of one SMTP reply or error text, as a log row would get it.

    The fields a log row would carry may be given (the reply code, the RFC 3463 status and the SMTP
    stage are otherwise read from the text); source is the program that logged it (exim, postfix,
    msmtp, ...: some rules hold for one program's texts); event as in the failure table (bounced,
    deferred, expired, rejected, ...); direction as for `logscan classify`.
    lang: "en" or "zh" for the title and remediation."""
    from logscan.parsers import REGISTRY

    if source is not None and source not in REGISTRY:
        raise UsageError(f"unknown source {source!r}", hint="`logscan formats` lists the names")
    if direction not in ("auto", "outbound", "inbound", "local"):
        raise UsageError(f"direction {direction!r} is not auto, outbound, inbound or local")
    engine = _engine(tuple(str(r) for r in rules))
    given = {"diagnostic": text, "smtp_code": smtp_code, "enhanced_status": enhanced_status,
             "smtp_stage": smtp_stage, "relay_host": relay_host, "event": event}
    rec = record_of(given)
    v, used = verdict_of(engine, rec, direction, source)
    last = last_deferral_of(engine, rec, v, used, source)
    return _classification(engine, v, used, lang, _classification(engine, last, used, lang) if last else None)


def _classification(engine, v, direction: str, lang: str, last: Classification | None = None) -> Classification:
    cat = engine.categories.get(v.category)
    return Classification(v.category, v.rule_id or "", v.evidence, direction,
                          cat.text("title", lang) if cat else "",
                          tuple(cat.text("remediation", lang)) if cat else (), last)


def read_store(path: PathLike, since: datetime | str | None = None, until: datetime | str | None = None, *,
               storage_options: dict[str, Any] | None = None) -> pa.Table:
    """The failures a store holds (`logscan scan --store DIR` fills it), since <= time < until, as
    one pyarrow.Table. since/until: timezone-aware datetimes or "YYYY-MM-DD[THH:MM]" (UTC unless an
    offset is given; a bare `until` date includes that day). Reads only committed runs.
    path may be a URL (s3://bucket/logscan, ...), with storage_options as for scan()."""
    from .store import read_failures

    lo, hi = _when(since, "since"), _when(until, "until", end=True)
    with _remote_options(storage_options):
        return read_failures(_place(path), lo, hi).table


def _place(path: PathLike) -> str | Path:
    """A URL stays a string (file:// becomes a local path); anything else is a Path."""
    if isinstance(path, str) and "://" in path:
        from .remote import is_url, local_path

        return path if is_url(path) else Path(local_path(path))
    return Path(path)


def _when(value: datetime | str | None, name: str, end: bool = False) -> datetime | None:
    if value is None or isinstance(value, datetime):
        if value is not None and value.tzinfo is None:
            raise UsageError(f"{name}: give a timezone-aware datetime (e.g. tzinfo=timezone.utc)")
        return value
    from logscan.reports.periods import parse_when

    return parse_when(value, name, end=end)


def report(failures: pa.Table | pd.DataFrame | ScanResult | PathLike, out: PathLike, *,
           period: Literal["day", "week", "month"] | None = None, lang: str = "en",
           since: datetime | str | None = None, until: datetime | str | None = None, redact: bool = False,
           redact_ips: bool = False, title: str = "Mail delivery failures", force: bool = False,
           storage_options: dict[str, Any] | None = None) -> Path | str:
    """Write the HTML report(s) under `out` and return the page to open first (index.html).
    `out` (and a store given as `failures`) may be a URL, e.g. s3://bucket/reports/mail: the report
    is built locally and uploaded (its URL is returned), with storage_options as for scan().

    failures: what scan_with_stats() returned (then the report also has the per-file coverage,
    unparsed lines and delivery counts), a failure table (pyarrow.Table or DataFrame, as scan()
    returns), or the folder of a store. period: one report per day, week or month plus an index.
    force: replace an existing report in `out`. Raises logscan.errors.OutputError when `out` holds a
    report and force is False."""
    from logscan.reports.build import ReportOptions, file_rows

    from .engine import load_categories
    from .pipeline import ScanResult

    opts = ReportOptions(period=period, lang=lang, redact=redact, redact_ips=redact_ips, title=title, force=force,
                         since=_when(since, "since"), until=_when(until, "until", end=True))
    opts.check()
    files: list[dict] = []
    skipped: list[dict] = []
    if isinstance(failures, ScanResult):
        table, files = failures.table, file_rows(failures.files)
        skipped = [{"path": k.path, "reason": k.reason} for k in failures.skipped]
    with _remote_options(storage_options):
        if isinstance(failures, (str, Path)):
            store = _place(failures)
            if isinstance(store, str):  # a store at a URL: read whole (the streamed read is local only)
                stored, files, skipped = stored_report_input(store, opts)
                return write_report(stored.table, files, skipped, _place(out), opts, load_categories())
            source, files, skipped, _ = store_source(store, opts)  # read batch by batch, not held
            return write_report(source, files, skipped, _place(out), opts, load_categories(), streamed=True)
        if not isinstance(failures, ScanResult):
            table = failures
        return write_report(table, files, skipped, _place(out), opts, load_categories())


def write_report(failures, files: list[dict], skipped: list[dict], out: str | Path, opts, categories,
                 streamed: bool = False) -> Path | str:
    """build_reports (or, for a reports.stream.Source, build_streamed) into `out`, a folder or a URL
    (built locally, then uploaded; the URL of its index.html is returned)."""
    from logscan.reports.build import build_reports, build_streamed

    build = build_streamed if streamed else build_reports
    if not isinstance(out, str):
        return build(failures, files, skipped, out, opts, categories)
    from .remote import RemoteFolder

    target = RemoteFolder(out, opts.force)
    try:
        build(failures, files, skipped, target.local, opts, categories)
        return target.publish()
    finally:
        target.cleanup()


def stored_report_input(store: str | Path, opts) -> tuple[Any, list[dict], list[dict]]:
    """A store's failures, per-file totals (with delivery counts) and missing files, in the shape
    build_reports takes, so a store gives the same reports as a scan of the same logs (read whole:
    for a store at a URL; a local store is read batch by batch, store_source)."""
    from .store import read_failures

    stored = read_failures(store, opts.since, opts.until)
    files = [_file_row(dict(f)) for f in stored.files]
    skipped = [{"path": f"{str(store).rstrip('/')}/{m}" if isinstance(store, str) else str(store / m),
                "reason": "listed in the store but deleted"} for m in stored.missing]
    return stored, files, skipped


def store_source(store: Path, opts) -> tuple[Any, list[dict], list[dict], int]:
    """stored_report_input() without reading the failures: a reports.stream.Source over the store's
    committed data files in the window's days (in the order store.read_failures reads them), the
    per-file totals, the missing files and the number of runs."""
    from logscan.reports.stream import Source

    from .store import META, Store, _files_in

    state = Store(store)._load() if (store / META / "state.json").exists() else None
    if state is None:
        raise UsageError(f"{store} is not a logscan store", hint="create one with `logscan scan LOGS --store DIR`")
    paths, missing = [], []
    for rel in _files_in(state.data_files, opts.since, opts.until):
        path = store / rel
        if not path.exists():  # committed, not moved yet (the run is finishing): read it where it is
            path = next((store / META / s for s, f in state.moves.items() if f == rel), path)
        (paths if path.exists() else missing).append(path if path.exists() else rel)
    files = [_file_row(t.stats()) for t in state.files]
    skipped = [{"path": str(store / m), "reason": "listed in the store but deleted"} for m in missing]
    return Source(paths, root=store, windowed=True), files, skipped, state.runs


def _file_row(row: dict) -> dict:
    from datetime import timezone

    for name in ("first_time", "last_time"):  # epoch microseconds in the store
        us = row.get(name)
        row[name] = None if us is None else datetime.fromtimestamp(us / 1e6, tz=timezone.utc)
    return row
