"""Dask as the distributed engine: the scan of pipeline.scan, its files and byte ranges run as Dask tasks.

    logscan scan --dask tcp://scheduler:8786 /logs/*/mail.log* --store /shared/logscan
    logscan.scan(["/logs/"], dask="local")            # a LocalCluster on this machine

What runs where (docs/distributed.md):

- The driver (where logscan runs) discovers the files, compiles the rules once and cuts every plain
  file whose parser can hand correlation across ranges (Postfix, Exim: `resolve_pending` and
  `merge_state`) into byte ranges at line starts, RANGE_BYTES each; a compressed file is one range.
- A worker parses one range with a fresh correlation state in `split_range` mode, with the same
  functions as the local parse (pipeline._read_into, the parsers, Engine.classify_table), and hands
  back the classified rows, the rows still waiting for context of earlier ranges (parsers.base.Pending), the
  range's stats and its correlation state. A file of the other formats (client logs, Sendmail: their
  state is a record in progress) is parsed whole, all files of that format in one task, in order,
  starting from the state the driver holds for the format.
- The driver takes the results in file order, as the local parallel parse takes its ranges'
  (pipeline.parse_file): each range's pending rows are completed from the state of everything
  before it (resolve_pending), its state merged in (merge_state), its line numbers shifted by the
  lines before it in its file, and its rows handed to the sink: the store's writer (the same
  host=/day= dataset as a local run, committed by store.scan_into), the metrics, the summary.
  The first range of every file goes through this too, so correlation spans rotated files
  (mail.log.1 before mail.log) the way it spans ranges.

Workers must see the log paths under the same names (a shared file system), and have logscan
installed in the same version (the code is imported there; the compiled rules are shipped, so
--rules files need not be on the workers).
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from logscan.parsers import REGISTRY
from logscan.parsers.base import FileStats, Pending

from . import pipeline
from .discover import LogFile, discover
from .engine import Engine
from .errors import UsageError
from .reading import READ_ERRORS, Resume, compression_of, describe, open_log, whole_lines_end
from .timestamps import load_zone

# Bytes of a plain file per task. Larger ranges cost the driver less (one merge per range) and a
# worker more memory (its range's failures are held until the driver takes them).
RANGE_BYTES = 64 << 20
INSTALL_HINT = "pip install 'logscan-mail[dask]'"


class DaskMissingError(UsageError):
    """--dask was asked for and Dask (distributed) is not installed."""


def _distributed():
    try:
        import distributed
    except ImportError as exc:
        raise DaskMissingError(f"--dask needs Dask's distributed scheduler, which is not installed ({exc})",
                               hint=f"install it: {INSTALL_HINT}") from None
    return distributed


@contextlib.contextmanager
def client_for(dask: Any, workers: int | None = None):
    """A distributed.Client: `dask` is one already (used as it is), "local" (a LocalCluster of
    `workers` single-threaded processes on this machine, closed afterwards) or a scheduler address
    ("tcp://host:8786")."""
    distributed = _distributed()
    if isinstance(dask, distributed.Client):
        yield dask
        return
    if not isinstance(dask, str) or not dask:
        raise UsageError(f"--dask {dask!r}: give a scheduler address (tcp://host:8786) or local")
    if dask == "local":
        with distributed.LocalCluster(n_workers=workers or 1, threads_per_worker=1, processes=True,
                                      dashboard_address=None) as cluster, distributed.Client(cluster) as client:
            yield client
        return
    try:
        client = distributed.Client(dask, timeout="10s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise UsageError(f"cannot reach the Dask scheduler {dask}: {exc}",
                         hint="start one (`dask scheduler`, then `dask worker ADDRESS` per machine), or give "
                              "--dask local") from None
    with client:
        yield client


@dataclass
class Unit:
    """One task's share of a file: bytes [start, end) of a plain file (end None: a compressed file
    from `start` on, decompressed offsets)."""

    log: LogFile
    start: int
    end: int | None
    first_line: int
    resume: Resume | None


@dataclass
class Part:
    """What a worker hands back for one unit."""

    tables: list[pa.Table]
    pending: list[Pending]
    stats: FileStats
    state: Any


@dataclass
class Chain:
    """What a worker hands back for the files of one format parsed in order with one state."""

    tables: list[pa.Table]
    stats: list[FileStats] = field(default_factory=list)
    state: Any = None


def splittable(fmt: str) -> bool:
    """Can this format's files be parsed in independent ranges (state carried by the driver)?"""
    parser = REGISTRY[fmt]
    return parser.traits.splittable and not parser.traits.multiline


def units_of(log: LogFile, start: Resume | None, range_bytes: int) -> list[Unit]:
    """The units of one file: ranges at line starts, as pipeline.parse_file cuts them (a plain file
    read up to its last complete line when resumed, to its end otherwise)."""
    offset, line = (start.offset, start.line_no) if start else (0, 1)
    if compression_of(log.path) is not None:
        return [Unit(log, offset, None, line, start)]
    try:
        end = whole_lines_end(log.path, offset) if start else log.path.stat().st_size
    except OSError:
        return [Unit(log, offset, offset, line, start)]  # gone: the worker says so in the file's stats
    parts = max(1, math.ceil((end - offset) / range_bytes))
    points = pipeline._split_points(log.path, parts, offset, end) if parts > 1 else [offset, end]
    return [Unit(log, a, b, line if k == 0 else 1, start) for k, (a, b) in enumerate(zip(points[:-1], points[1:], strict=True))]


def parse_unit(unit: Unit, opts: pipeline.ScanOptions, zone_name: str, engine: Engine) -> Part:
    """Worker: parse one unit with a fresh state in split_range mode; rows classified here."""
    log = unit.log
    parser = REGISTRY[log.format]
    zone, _ = load_zone(zone_name)
    state = parser.new_state(split_range=True)
    tables: list[pa.Table] = []
    out = pipeline._Collector(lambda t: tables.append(engine.classify_table(t)))
    try:
        ctx = pipeline._file_context(log, opts, zone, zone_name)
        fh = open(log.path, "rb") if unit.end is not None else open_log(log.path)
    except OSError as exc:
        stats = FileStats(path=str(log.path), format=log.format, end_offset=unit.start,
                          read_error=f"not read: {describe(exc)}")
        return Part([], [], stats, state)
    with fh:
        if unit.end is not None:
            reader = pipeline._Range(fh, unit.start, unit.end)
        else:
            reader = fh
            if unit.start:
                try:
                    fh.seek(unit.start)
                except READ_ERRORS as exc:
                    ctx.stats.end_offset = unit.start
                    ctx.stats.read_error = ("not read: it ends before the offset an earlier run reached "
                                            f"({describe(exc)})")
                    return Part([], [], ctx.stats, state)
        pipeline._read_into(parser, reader, ctx, state, None, out, unit.first_line)
    return Part(tables, out.pending, ctx.stats, state)  # (end_offset: where the reading stopped)


def parse_chain(logs: list[tuple[LogFile, Resume | None]], opts: pipeline.ScanOptions, zone_name: str,
                engine: Engine, state: Any) -> Chain:
    """Worker: the files of one format that cannot be cut, in order, with the state carried to them."""
    zone, _ = load_zone(zone_name)
    chain = Chain([], [], state)
    for log, start in logs:
        chain.stats.append(pipeline.parse_file(log, state, opts, zone, zone_name,
                                               lambda t: chain.tables.append(engine.classify_table(t)),
                                               None, 1, start))
    return chain


def _shifted(table: pa.Table, offset: int) -> pa.Table:
    if not offset:
        return table
    idx = table.schema.get_field_index("line_no")
    return table.set_column(idx, "line_no", pc.add(table.column(idx), offset))


def scan(paths: list[str], opts: pipeline.ScanOptions, *, dask: Any = "local",
         progress: pipeline.ProgressFn | None = None,
         on_files: Callable[[list[LogFile], list], None] | None = None, sink: pipeline.Sink | None = None,
         resume: Callable[[LogFile], Resume | None] | None = None, states: dict[str, object] | None = None,
         range_bytes: int | None = None) -> pipeline.ScanResult:
    """pipeline.scan on a Dask cluster (same arguments, same result, the same rows); `dask` is a
    distributed.Client, a scheduler address or "local"; range_bytes: bytes of a plain file per
    task (default RANGE_BYTES)."""
    range_bytes = range_bytes or RANGE_BYTES
    _distributed()  # before anything is read: a missing Dask is a usage error (exit 2)
    files, skipped = discover(paths, opts.forced_format)
    if not files:  # pipeline.scan says why, with the exit status of its kind
        return pipeline.scan(paths, opts, on_files=on_files)
    if on_files is not None:
        on_files(files, skipped)
    engine = Engine.load(list(opts.rule_files))  # a bad rule file stops here, before any task
    _, zone_name = load_zone(opts.tz)
    states = {} if states is None else states
    collected: list[pa.Table] = []
    deliver = sink if sink is not None else collected.append
    emit = pipeline._Collector(deliver).emit  # a failed write is an OutputError, as in a local run
    plan: list[tuple[LogFile, list[Unit]]] = []
    chains: dict[str, list[tuple[LogFile, Resume | None]]] = {}
    for log in files:
        start = resume(log) if resume is not None else None
        if resume is not None and start is None:
            continue  # nothing new in it (the store's planner said so)
        if splittable(log.format):
            plan.append((log, units_of(log, start, range_bytes)))
        else:
            chains.setdefault(log.format, []).append((log, start))
    all_stats: dict[str, FileStats] = {}
    with client_for(dask, opts.workers) as client:
        shipped = client.scatter(engine, broadcast=True)
        chain_futures = {fmt: client.submit(parse_chain, logs, opts, zone_name, shipped,
                                            states[fmt] if fmt in states else REGISTRY[fmt].new_state(),
                                            pure=False)
                         for fmt, logs in chains.items()}
        futures = [[client.submit(parse_unit, u, opts, zone_name, shipped, pure=False) for u in units]
                   for _, units in plan]
        for (log, units), file_futures in zip(plan, futures, strict=True):
            parser = REGISTRY[log.format]
            state = states.setdefault(log.format, parser.new_state())
            stats = None
            for k, (unit, fut) in enumerate(zip(units, file_futures, strict=True)):
                part: Part = fut.result()
                fut.release()
                parser.resolve_pending(part.pending, state)
                parser.merge_state(state, part.state)
                # a later range's rows count from 1: shift them by the lines before it in its file
                offset = 0 if stats is None else units[0].first_line - 1 + stats.lines
                for table in part.tables:
                    emit(_shifted(table, offset))
                rows = [p.row for p in part.pending]
                for r in rows:
                    r["line_no"] += offset
                if rows:
                    emit(engine.classify_table(pipeline.signed_table(rows)))
                if part.stats.read_error and offset:  # its line number, counted in the file
                    part.stats.read_error = re.sub(r"(?<=stopped after line )\d+",
                                                   lambda m, n=offset: str(int(m.group()) + n), part.stats.read_error)
                if stats is None:
                    stats = part.stats
                else:
                    pipeline._add_stats(stats, part.stats, offset)
                    stats.end_offset = part.stats.end_offset
                if progress is not None and unit.end is not None:
                    progress(unit.end - unit.start)
                if part.stats.read_error:
                    # As in a local run, the file's reading stops at a read error (an --store run reads on
                    # from there next time): the ranges after it are not taken.
                    for later in file_futures[k + 1:]:
                        later.cancel()
                    break
            all_stats[str(log.path)] = stats
        for fmt, fut in chain_futures.items():
            chain: Chain = fut.result()
            for table in chain.tables:
                emit(table)
            states[fmt] = chain.state
            all_stats.update((s.path, s) for s in chain.stats)
    ordered = [all_stats[str(f.path)] for f in files if str(f.path) in all_stats]
    table = pa.concat_tables(collected) if collected else pa.Table.from_batches([], pipeline.schema.plain_arrow_schema())
    return pipeline.ScanResult(table, ordered, skipped, engine.stats)
