"""paths -> discover -> read -> parse (and correlate) -> classify: the failure table.

Each stage hands the next plain data (lists of rows per file, then one Arrow table); nothing
reaches back. Correlation state is one object per format for the whole scan, so a failure in
mail.log still finds its sender in mail.log.1 (files are read oldest first).
"""

from __future__ import annotations

import contextlib
import copy
import ctypes
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from logscan.parsers import REGISTRY
from logscan.parsers.base import (
    UNPARSED_EXAMPLES,
    FileContext,
    FileStats,
    Pending,
    file_host,
    restore_record,
    take_record,
)

from . import schema
from .arrowcols import column
from .discover import LogFile, Skipped, discover
from .engine import Engine
from .errors import MemoryCeilingError, NoInputError, OutputError, UnreadableInputError
from .fastpath import parser_for
from .reading import (
    READ_ERRORS,
    ReadStats,
    Resume,
    compression_of,
    describe,
    iter_byte_chunks,
    iter_line_chunks,
    open_log,
    whole_lines_end,
)
from .signature import signatures_of
from .timestamps import StampConverter, load_zone

ProgressFn = Callable[[int], None]


@dataclass
class ScanOptions:
    forced_format: str | None = None
    year: int | None = None
    tz: str | None = None
    rule_files: tuple[Path, ...] = ()
    workers: int = field(default_factory=lambda: default_workers())
    # Without a sink the failures are held in memory (`report`): stop, with a clear error, before
    # the work on them would need more than this many bytes (None: no ceiling).
    memory_ceiling: int | None = None


def default_workers() -> int:
    """Processes a scan may use: $LOGSCAN_WORKERS if set (a positive number), else the cores this
    process may run on (so `taskset -c 0 logscan scan` parses in one), at most 4."""
    value = os.environ.get("LOGSCAN_WORKERS", "")
    if value.isdigit() and int(value) > 0:
        return int(value)
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(cores, 4))


# What `report` needs per byte of the collected Arrow table, at its peak (pandas frame, groupbys,
# pages): measured 3.8 KB per failure against about 0.85 KB of Arrow, rounded up.
REPORT_MEMORY_FACTOR = 5


def default_memory_ceiling() -> int:
    """Half of this machine's physical memory: a report that would need more stops before the
    machine swaps."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2
    except (ValueError, OSError, AttributeError):
        return 4 << 30


@dataclass
class ScanResult:
    table: pa.Table
    files: list[FileStats]
    skipped: list[Skipped]
    engine_stats: dict[str, int] = field(default_factory=dict)

    @property
    def totals(self) -> dict[str, int]:
        keys = ("lines", "failures", "ignored", "unparsed")
        return {k: sum(getattr(f, k) for f in self.files) for k in keys}


def file_sizes(files: list[LogFile]) -> int:
    total = 0
    for f in files:
        with contextlib.suppress(OSError):  # gone since discovery: parse_file says so
            total += f.path.stat().st_size
    return total


# Input (the files of one format) at least this large is parsed in one share per core, when its
# parser can hand correlation across parts (resolve_pending / merge_state); a plain file at least
# this large may be cut in byte ranges at line starts to even the shares.
SPLIT_MIN_BYTES = 32 << 20


def _file_context(log: LogFile, opts: ScanOptions, zone, zone_name) -> FileContext:
    stats = FileStats(path=str(log.path), format=log.format)
    mtime = datetime.fromtimestamp(log.path.stat().st_mtime, tz=timezone.utc)
    return FileContext(str(log.path), StampConverter(mtime, zone, zone_name, opts.year), stats,
                       host=file_host(str(log.path)))


class _Range:
    """File-like view of bytes [start, end) of an open file."""

    def __init__(self, fh, start: int, end: int):
        fh.seek(start)
        self._fh, self._left = fh, end - start

    def read(self, n: int) -> bytes:
        data = self._fh.read(min(n, self._left)) if self._left > 0 else b""
        self._left -= len(data)
        return data

    def tell(self) -> int:
        return self._fh.tell()


# Rows are turned into Arrow tables every this many rows, so memory follows the (compact) table,
# not Python dicts, and does not grow with the log beyond the failures themselves. 4,096 rather
# than 10,000: peak RSS of a one-process scan of 100 MiB of Postfix log 184 -> 158 MiB, same CPU.
FLUSH_ROWS = 4096


Sink = Callable[[pa.Table], None]


class _Collector:
    """Turns a file's (or range's) rows into signed Arrow tables as they come, every FLUSH_ROWS
    rows, and hands each to `sink`. Pending rows (a later range waiting for the context of
    earlier ones, ctx.pending) stay dicts until resolved."""

    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.pending: list[Pending] = []

    def flush(self, ctx: FileContext) -> None:
        rows, ctx.rows = ctx.rows, []
        if ctx.pending:
            self.pending.extend(ctx.pending)
            ctx.pending = []
        if rows:
            self.emit(_table_of(rows, ctx))

    def emit(self, table: pa.Table) -> None:
        """Hand rows on. A failure to write them (a full disk, an I/O error of the output, the store
        or a worker's spool file) is an output error: it must never pass for a read error of the log,
        which would keep the file's offset and lose the rows for good."""
        try:
            self.sink(table)
        except OSError as exc:
            raise OutputError(f"could not write the failures: {exc.strerror or exc}",
                              hint="free space (or fix the device) where the output, the --store or the "
                                   "temporary folder ($TMPDIR) lives, then run again: nothing of this run "
                                   "was committed") from exc


def _table_of(rows: list[dict], ctx: FileContext) -> pa.Table:
    """signed_table(rows); should a row still hold what its column cannot (parsers/base.py emit()
    checks the numbers), that row's line is counted as unparsed with the reason, not the run ended."""
    try:
        return signed_table(rows)
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        pass
    good = []
    for r in rows:
        try:
            signed_table([r])
        except (pa.ArrowException, TypeError, ValueError, OverflowError) as exc:
            ctx.stats.failures -= 1
            ctx.last_failure_line = -1  # the line is unparsed now, not a failure line
            why = f"{ctx.stats.format} row not storable: {type(exc).__name__}: {exc}"[:300]
            ctx.unparsed(r.get("line_no") or 0, str(r.get("line") or ""), why)
            print(f"logscan: {ctx.path}:{r.get('line_no')}: line counted as unparsed ({why})", file=sys.stderr)
        else:
            good.append(r)
    return signed_table(good)


class _Undo:
    """What parsing some lines changes in a file's context (rows, counts, deliveries, the parser's
    place in the file's records), so that an exception a parser lets escape can be undone and those
    lines parsed again one by one (_parse_guarded). Deliveries are counted in fresh dicts and merged
    on success (copying the file's would cost per chunk what the file holds)."""

    def __init__(self, ctx: FileContext, state, with_state: bool) -> None:
        st = ctx.stats
        self.rows, self.pending = len(ctx.rows), len(ctx.pending)
        self.counts = (st.failures, st.ignored, st.unparsed, len(st.unparsed_examples), st.first_time, st.last_time,
                       ctx.last_failure_line, ctx.last_unparsed_line)
        self.reasons = st.ignored_reasons.copy(), st.unparsed_reasons.copy()
        self.deliveries, self.hours = ctx.raw_deliveries, ctx.stamp_of_hour
        ctx.raw_deliveries, ctx.stamp_of_hour = {}, {}
        self.saved = None
        if with_state and state.file_fields():
            values = {n: getattr(state, n) for n in state.file_fields()}
            rows = {id(v): v for v in values.values() if isinstance(v, dict)}  # rows stay the same objects
            self.saved = copy.deepcopy(values, rows)

    def keep(self, ctx: FileContext) -> None:
        into, hours = self.deliveries, self.hours
        for k, n in ctx.raw_deliveries.items():
            into[k] = into.get(k, 0) + n
        for k, v in ctx.stamp_of_hour.items():
            hours.setdefault(k, v)
        ctx.raw_deliveries, ctx.stamp_of_hour = into, hours

    def undo(self, ctx: FileContext, state) -> None:
        st = ctx.stats
        del ctx.rows[self.rows:]
        del ctx.pending[self.pending:]
        st.failures, st.ignored, st.unparsed, examples, st.first_time, st.last_time, ctx.last_failure_line, \
            ctx.last_unparsed_line = self.counts
        del st.unparsed_examples[examples:]
        st.ignored_reasons, st.unparsed_reasons = self.reasons
        ctx.raw_deliveries, ctx.stamp_of_hour = self.deliveries, self.hours
        if self.saved is not None:
            for n, v in self.saved.items():
                setattr(state, n, v)


def _parse_guarded(parser, lines: list[str], first_line_no: int, ctx: FileContext, state) -> None:
    """parser.parse(), but an exception it lets escape costs one line, never the run (nor, under
    --store, every later run): the lines are parsed again one by one and the line that raises is
    counted as unparsed with the reason, and said on stderr."""
    undo = _Undo(ctx, state, True)
    try:
        parser.parse(lines, first_line_no, ctx, state)
        undo.keep(ctx)
        return
    except Exception:  # noqa: BLE001 - whatever a parser bug raises
        undo.undo(ctx, state)
    for i, line in enumerate(lines):
        one = _Undo(ctx, state, False)
        try:
            parser.parse([line], first_line_no + i, ctx, state)
            one.keep(ctx)
        except Exception as exc:  # noqa: BLE001
            one.undo(ctx, state)
            why = f"{parser.name} parser error: {type(exc).__name__}: {exc}"[:300]
            ctx.unparsed(first_line_no + i, line, why)
            print(f"logscan: {ctx.path}:{first_line_no + i}: line counted as unparsed ({why})", file=sys.stderr)


def _finish_guarded(parser, last_line_no: int, lines: int, ctx: FileContext, state) -> None:
    """parser.finish() at the end of a file; should it raise, the record it was closing is lost,
    not the run: one of that record's lines (counted as ignored until then) is counted as unparsed
    with the reason, and it is said on stderr."""
    st = ctx.stats
    undo = _Undo(ctx, state, False)
    ctx.raw_deliveries, ctx.stamp_of_hour = undo.deliveries, undo.hours  # finish() folds these
    try:
        parser.finish(ctx, state)
    except Exception as exc:  # noqa: BLE001 - whatever a parser bug raises
        undo.undo(ctx, state)
        why = f"{parser.name} parser error at the end of the file: {type(exc).__name__}: {exc}"[:300]
        if st.ignored > 0:
            st.ignored -= 1
            st.unparsed += 1
            ctx.last_unparsed_line = last_line_no
            ctx.unparsed(last_line_no, "", why)  # (the reason and the example; counted above)
        else:
            st.unparsed_reasons[why] += 1
        print(f"logscan: {ctx.path}: {why}", file=sys.stderr)


def _read_into(parser, fh, ctx: FileContext, state, progress: ProgressFn | None, out: _Collector,
               first_line: int = 1, resume: Resume | None = None, plain: bool = False) -> None:
    read = ReadStats()
    per_file = resume is not None and parser.traits.multiline  # an incremental run, multi-line records
    if per_file and resume.record:
        restore_record(state, ctx, resume.record)
    line_no = first_line
    begin = fh.tell()  # decompressed offset
    last = fh.tell() if hasattr(fh, "tell") and not hasattr(fh, "fileobj") else 0
    # The compiled core (logscan/fastpath.py) reads the bytes of the same blocks and holds its rows.
    compiled = getattr(parser, "parse_bytes", None)

    def flush() -> None:
        if compiled is None:
            out.flush(ctx)
        elif (table := parser.take_table(ctx, state)) is not None:
            out.emit(table)

    # A read error (a truncated .gz, an I/O error) ends the lines early, in iter_line_chunks: what
    # was read is kept and read.error says why. Errors of the sink (a full disk) are not read errors.
    for chunk in iter_line_chunks(fh, read) if compiled is None else iter_byte_chunks(fh, read):
        if compiled is None:
            _parse_guarded(parser, chunk, line_no, ctx, state)
            line_no += len(chunk)
        else:
            line_no += compiled(*chunk, line_no, ctx, state, read)
        if (len(ctx.rows) if compiled is None else parser.buffered(state)) >= FLUSH_ROWS:
            flush()
        if progress is not None:
            pos = fh.fileobj.tell() if hasattr(fh, "fileobj") else fh.tell()
            progress(pos - last)
            last = pos
    if read.error is not None:
        ctx.stats.read_error = f"read in part, stopped after line {line_no - 1}: {read.error}"
    # Parsers with multi-line records flush the last one, except in an incremental run at the end
    # of a plain file that grew since the last run: its writer may be in the middle of that record,
    # so the record is kept open (per file) and the next run goes on with its remaining lines. It
    # is finished by the first run that finds the file unchanged, rotated away or compressed.
    held = per_file and plain and not resume.final
    if not held:
        _finish_guarded(parser, line_no - 1, line_no - first_line, ctx, state)
    if per_file:
        ctx.stats.record, ctx.stats.open_record = take_record(parser, state, ctx, held)
    flush()
    st = ctx.stats
    st.lines = line_no - first_line
    # After a read error the start of a line may be left over: the next incremental run reads it whole.
    st.end_offset = begin + read.bytes_read - read.pending_bytes
    uncounted = st.lines - st.failures - st.ignored - st.unparsed
    if uncounted > 0:  # a parser bug: never hidden among the ignored lines
        why = f"{parser.name} parser left {uncounted} lines uncounted"
        st.unparsed += uncounted
        st.unparsed_reasons[why] += uncounted
        print(f"logscan: {ctx.path}: {why} (counted as unparsed)", file=sys.stderr)
    st.truncated_lines = read.truncated_lines
    st.undecodable_chunks = read.bad_bytes_chunks


def _split_points(path: Path, parts: int, start: int, end: int) -> list[int]:
    points = [start]
    with open(path, "rb") as fh:
        for k in range(1, parts):
            pos = _cut_at(fh, start + (end - start) * k // parts, end)
            if pos is not None and points[-1] < pos < end:
                points.append(pos)
    return points + [end]


def _cut_at(fh, pos: int, end: int) -> int | None:
    """Where a byte range may start at or after pos: a line start that is not a copy of its line."""
    pos = _next_line_start(fh, pos, end)
    return None if pos is None else _past_copies(fh, pos, end)


def _past_copies(fh, pos: int, end: int) -> int | None:
    """pos, or the start of the first line after it that does not repeat the line before pos: a
    range must not start with a copy of a line, which only the line before shows to be one (Exim's
    syslog_duplication sends a reject line twice in a row; the parser drops the second). Reads at
    most 64 KiB back and 16 lines on (then the cut stays); None: the copies run to `end`. (pread:
    _next_line_start moves the descriptor's offset under the file object's buffer.)"""
    back = max(0, pos - (1 << 16))
    before = os.pread(fh.fileno(), pos - back, back)
    prev = before[before.rfind(b"\n", 0, len(before) - 1) + 1:]
    for _ in range(16):
        if not prev or os.pread(fh.fileno(), len(prev), pos) != prev:
            return pos
        pos += len(prev)
        if pos >= end:
            return None
    return pos


def _next_line_start(fh, pos: int, end: int) -> int | None:
    """The offset just after the first newline at or after pos, before end (None: there is none).
    Reads one 64 KiB block at a time (never a whole line: a file of NULs has none) and jumps over
    the holes of a sparse file, which hold no newline."""
    while pos < end:
        with contextlib.suppress(OSError):  # SEEK_DATA: ENXIO past the last data; unsupported: read on
            pos = os.lseek(fh.fileno(), pos, os.SEEK_DATA)
        if pos >= end:
            return None
        fh.seek(pos)
        block = fh.read(min(1 << 16, end - pos))
        if not block:
            return None
        nl = block.find(b"\n")
        if nl >= 0:
            return pos + nl + 1
        pos += len(block)
    return None


# Range workers spool to <tmp>/logscan-<pid of the run>-*/: a run killed with -9 cannot remove its
# folder, so the next parallel parse removes those whose run is gone.
SPOOL_PREFIX = "logscan-"


def _remove_dead_spools() -> None:
    for folder in Path(tempfile.gettempdir()).glob(f"{SPOOL_PREFIX}*-*"):
        pid = folder.name[len(SPOOL_PREFIX):].split("-", 1)[0]
        if not pid.isdigit() or not folder.is_dir():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            pass  # alive (another user's run): not ours to touch


def _die_with_parent(parent: int) -> None:
    """Worker initializer: a range worker must not outlive its run. On Linux the kernel kills it
    when the run dies (PR_SET_PDEATHSIG), even by SIGKILL; a run already gone by the time the
    worker starts is caught by the parent check."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # no prctl: the parent check below still holds at start
    if os.getppid() != parent:
        os._exit(1)


PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


@dataclass
class _Segment:
    """What one parse reads: bytes [start, end) of a plain file, or (end None) a compressed file
    from its decompressed offset `start`. first_line: the number of its first line in the file; 0
    for a later byte range of a file, numbered once the ranges before it are counted."""

    log: LogFile
    start: int
    end: int | None
    first_line: int
    resume: Resume | None = None

    @property
    def plain(self) -> bool:
        return self.end is not None


def _segment_of(log: LogFile, resume: Resume | None) -> _Segment | FileStats:
    """The whole of a file (from `resume` on), or its stats saying why it cannot be read."""
    start, first_line = (resume.offset, resume.line_no) if resume else (0, 1)
    try:  # the file may have gone or changed since discovery: then it is reported as unreadable
        plain = compression_of(log.path) is None
        end = (whole_lines_end(log.path, start) if resume else log.path.stat().st_size) if plain else None
    except OSError as exc:
        return FileStats(path=str(log.path), format=log.format, end_offset=start,
                         read_error=f"not read: {describe(exc)}")
    return _Segment(log, start, end, first_line, resume)


def _parse_segment(seg: _Segment, parser, state, opts: ScanOptions, zone, zone_name, out: _Collector,
                   progress: ProgressFn | None) -> FileStats:
    """Parse one segment with `state`; rows go to `out`. Never raises on file content."""
    try:
        ctx = _file_context(seg.log, opts, zone, zone_name)
        opened = open_log(seg.log.path)
    except OSError as exc:
        return FileStats(path=str(seg.log.path), format=seg.log.format, end_offset=seg.start,
                         read_error=f"not read: {describe(exc)}")
    with opened as fh:
        if seg.end is not None:
            fh = _Range(fh, seg.start, seg.end)
        elif seg.start:
            try:
                fh.seek(seg.start)  # compressed: decompresses up to there (stops early if shorter)
            except READ_ERRORS as exc:
                ctx.stats.end_offset = seg.start
                ctx.stats.read_error = f"not read: it ends before the offset an earlier run reached ({describe(exc)})"
                return ctx.stats
        _read_into(parser, fh, ctx, state, progress, out, seg.first_line or 1, seg.resume, seg.plain)
    return ctx.stats


def _input_bytes(seg: _Segment) -> int:
    if seg.end is not None:
        return seg.end - seg.start
    try:
        return seg.log.path.stat().st_size
    except OSError:
        return 0


def _shares(segments: list[_Segment], parts: int) -> list[list[_Segment]]:
    """Cut the segments (in reading order) into `parts` consecutive shares of about equal bytes:
    a plain file of at least SPLIT_MIN_BYTES is cut at line starts where a share ends, any other
    file goes whole to the share its middle falls in. One share when the input is small."""
    sizes = [_input_bytes(s) for s in segments]
    total = sum(sizes)
    if parts < 2 or total < SPLIT_MIN_BYTES:
        return [segments]
    bounds = [total * k // parts for k in range(1, parts)]
    shares: list[list[_Segment]] = [[] for _ in range(parts)]

    def share_at(pos: int) -> int:
        return sum(1 for b in bounds if b <= pos)

    pos = 0
    for seg, size in zip(segments, sizes, strict=True):
        cuts = [b - pos for b in bounds if pos < b < pos + size]
        points = [seg.start]
        if seg.end is not None and size >= SPLIT_MIN_BYTES and cuts:
            with contextlib.suppress(OSError), open(seg.log.path, "rb") as fh:  # unreadable: one piece
                for cut in cuts:
                    p = _cut_at(fh, seg.start + cut, seg.end)
                    if p is not None and points[-1] < p < seg.end:
                        points.append(p)
        if len(points) == 1:
            shares[share_at(pos + size // 2)].append(seg)
        else:
            points.append(seg.end)
            for i in range(len(points) - 1):
                piece = _Segment(seg.log, points[i], points[i + 1], seg.first_line if i == 0 else 0,
                                 seg.resume if i == 0 else None)
                shares[share_at(pos + points[i] - seg.start)].append(piece)
        pos += size
    return [s for s in shares if s]


# A worker's share of the scan state it inherits at fork (not pickled): the rule engine, and the
# progress slots (bytes read so far, one per worker) that the parent's progress bar adds up.
_WORKER: dict = {}


def _worker_init(parent: int, engine: Engine, slots) -> None:
    _die_with_parent(parent)
    _WORKER.update(engine=engine, slots=slots)


def _parse_share(share: list[_Segment], slot: int, opts: ScanOptions, zone_name: str, spool_dir: str):
    """Worker: parse a share's segments in order with one fresh state (split_range), signing and
    classifying their rows here and spooling them to one Arrow stream file per segment, batch by
    batch (the worker's memory does not grow with its share; no row list goes back to the parent;
    an uncompressed Arrow stream, not Parquet: the parent reads it back without decoding, at a
    third of the memory a Parquet spool took to read).
    Returns per segment (rows still waiting for earlier context, stats, spool path), the final
    correlation state, and the verdicts and row count of the worker's classification."""
    engine, slots = _WORKER["engine"], _WORKER["slots"]
    known, rows_before = len(engine._verdicts), engine.stats.get("rows", 0)
    parser = REGISTRY[share[0].log.format]
    zone, _ = load_zone(zone_name)
    state = parser.new_state(split_range=True)

    def progress(n: int) -> None:
        slots[slot] += n

    parts = []
    for i, seg in enumerate(share):
        spool = os.path.join(spool_dir, f"share-{slot}-{i}.arrows")
        with pa.OSFile(spool, "wb") as fh, pa.ipc.new_stream(fh, schema.plain_arrow_schema()) as writer:
            out = _Collector(lambda t, w=writer: w.write_table(engine.classify_table(t)))
            stats = _parse_segment(seg, parser, state, opts, zone, zone_name, out, progress)
        parts.append((out.pending, stats, spool))
    return parts, state, engine.verdicts_after(known), engine.stats.get("rows", 0) - rows_before


def _wait(fut, poll: Callable[[], None]):
    while True:
        try:
            return fut.result(timeout=0.2)
        except TimeoutError:
            poll()


def parse_files(segments: list[_Segment], state, opts: ScanOptions, zone, zone_name, engine: Engine,
                sink: Sink, progress: ProgressFn | None = None, workers: int = 1, parser=None) -> list[FileStats]:
    """Parse files of one format in reading order, with `state`; their classified failures go to
    `sink` in batches. Returns one FileStats per file (end_offset: where reading stopped).
    Never raises on file content.

    With workers > 1 and a parser that can hand correlation across parts (resolve_pending /
    merge_state), the input is cut into one share per worker (_shares: whole files, or byte
    ranges at line starts of a large plain file). The first share is parsed here with the scan's
    state; each other share in a worker process that signs, classifies and spools its rows
    (Arrow stream files). Then, in order, a share's pending rows are completed from the state of
    the shares before it, its state merged in, and its spooled rows passed on (a later range's
    line numbers shifted)."""
    parser = parser or REGISTRY[segments[0].log.format]  # or the compiled engine's (fastpath.parser_for)

    def classified(table: pa.Table) -> None:
        sink(engine.classify_table(table))

    out = _Collector(classified)
    done = _Collector(sink)  # rows the workers classified
    splittable = (workers > 1 and parser.traits.splittable
                  and not any(getattr(s.log.path, "remote", False) for s in segments))  # local files only
    shares = _shares(segments, workers) if splittable else [segments]
    by_file: dict[str, FileStats] = {}

    def account(seg: _Segment, stats: FileStats) -> int:
        """Add a segment's stats to its file's; returns the shift of its line numbers."""
        have = by_file.get(stats.path)
        if have is None or seg.first_line:
            by_file[stats.path] = stats
            return 0
        offset = have.lines + (first_of.get(stats.path, 1) - 1)
        _add_stats(have, stats, offset)
        have.end_offset = stats.end_offset
        return offset

    first_of = {str(s.log.path): s.first_line for s in segments}
    if len(shares) == 1:
        for seg in segments:
            account(seg, _parse_segment(seg, parser, state, opts, zone, zone_name, out, progress))
        return list(by_file.values())
    ctx_mp = multiprocessing.get_context("fork")
    slots = ctx_mp.RawArray("q", len(shares) - 1)
    shown = [0]

    def poll() -> None:
        if progress is not None:
            done = sum(slots)
            if done > shown[0]:
                progress(done - shown[0])
                shown[0] = done

    def mine(n: int) -> None:
        progress(n)
        poll()

    _remove_dead_spools()
    with tempfile.TemporaryDirectory(prefix=f"{SPOOL_PREFIX}{os.getpid()}-") as spool_dir, \
            ProcessPoolExecutor(max_workers=len(shares) - 1, mp_context=ctx_mp, initializer=_worker_init,
                                initargs=(os.getpid(), engine, slots)) as pool:
        futures = [pool.submit(_parse_share, share, k, opts, zone_name, spool_dir)
                   for k, share in enumerate(shares[1:])]
        for seg in shares[0]:
            account(seg, _parse_segment(seg, parser, state, opts, zone, zone_name, out,
                                        None if progress is None else mine))
        for fut, share in zip(futures, shares[1:], strict=True):
            parts, part_state, verdicts, rows = _wait(fut, poll)
            poll()
            engine.absorb(verdicts, rows)
            parser.resolve_pending([p for pending, _, _ in parts for p in pending], state)
            parser.merge_state(state, part_state)
            for seg, (pending, stats, spool) in zip(share, parts, strict=True):
                offset = account(seg, stats)
                with pa.OSFile(spool, "rb") as fh:
                    for batch in pa.ipc.open_stream(fh):
                        table = pa.Table.from_batches([batch])
                        if offset:
                            idx = table.schema.get_field_index("line_no")
                            table = table.set_column(idx, "line_no", pc.add(table.column(idx), offset))
                        done.emit(table)
                rows = [p.row for p in pending]
                for r in rows:
                    r["line_no"] += offset
                if rows:
                    out.emit(signed_table(rows))
                os.unlink(spool)
    return list(by_file.values())


class _Unclassified:
    """Engine stand-in for parse_file: rows are handed on signed, not classified."""

    _verdicts: dict = {}
    stats: dict = {}

    def classify_table(self, table: pa.Table) -> pa.Table:
        return table

    def verdicts_after(self, known: int) -> dict:
        return {}

    def absorb(self, verdicts: dict, rows: int) -> None:
        pass


def parse_file(log: LogFile, state, opts: ScanOptions, zone, zone_name, sink: Sink,
               progress: ProgressFn | None = None, workers: int = 1, resume: Resume | None = None,
               engine: Engine | None = None) -> FileStats:
    """Parse one file (from `resume` on): parse_files of that file alone. Without `engine` its
    failures go to `sink` signed but not classified."""
    seg = _segment_of(log, resume)
    if isinstance(seg, FileStats):
        return seg
    return parse_files([seg], state, opts, zone, zone_name, engine or _Unclassified(), sink, progress, workers)[0]


def _add_stats(into: FileStats, part: FileStats, offset: int) -> None:
    for name in ("lines", "failures", "ignored", "unparsed", "truncated_lines", "undecodable_chunks"):
        setattr(into, name, getattr(into, name) + getattr(part, name))
    room = UNPARSED_EXAMPLES - len(into.unparsed_examples)
    into.unparsed_examples.extend((n + offset, t) for n, t in part.unparsed_examples[:max(room, 0)])
    into.ignored_reasons.update(part.ignored_reasons)
    into.unparsed_reasons.update(part.unparsed_reasons)
    into.deliveries.update(part.deliveries)
    into.read_error = into.read_error or part.read_error
    for t in (part.first_time, part.last_time):
        if t is not None:
            into.first_time = t if into.first_time is None else min(into.first_time, t)
            into.last_time = t if into.last_time is None else max(into.last_time, t)


def rows_to_table(rows: list[dict]) -> pa.Table:
    """Rows (dicts with any subset of the fields) to an Arrow table. Missing fields are filled
    by a C-level dict merge and the rows transposed with zip: several times faster than
    from_pylist. `time` arrives as UTC epoch microseconds."""
    target = schema.plain_arrow_schema()
    if not rows:
        return pa.Table.from_batches([], target)  # not empty_table(): that imports pandas
    template = dict.fromkeys(schema.FIELD_NAMES)
    columns = zip(*[tuple({**template, **r}.values()) for r in rows], strict=True)
    arrays = []
    for f, values in zip(target, columns, strict=True):
        arrays.append(column(list(values), f.type))
    return pa.Table.from_arrays(arrays, schema=target)


def signed_table(rows: list[dict]) -> pa.Table:
    """rows_to_table plus the signature column (computed once per distinct diagnostic)."""
    table = rows_to_table(rows)
    return table.set_column(table.schema.get_field_index("signature"), "signature",
                            column(signatures_of(table.column("diagnostic").to_pylist()), pa.string()))


def scan(paths: list[str], opts: ScanOptions, progress: ProgressFn | None = None,
         on_files: Callable[[list[LogFile], list[Skipped]], None] | None = None,
         sink: Sink | None = None, resume: Callable[[LogFile], Resume | None] | None = None,
         states: dict[str, object] | None = None) -> ScanResult:
    """Scan the paths. Classified failures go to `sink` batch by batch when one is given (memory
    then stays flat whatever the number of failures); otherwise they are collected in
    ScanResult.table.

    Incremental scans (logscan/store.py) pass `resume`, which says where each file picks up
    (None: nothing new, the file is not opened), and `states`, the parsers' correlation state by
    format, carried from the previous run and updated in place."""
    timer = _StageTimer()
    # An incremental run with nothing new never needs the rules: they are compiled at the first
    # file that has news (before it is read, so a malformed rule file still stops the run early).
    engines: list[Engine] = [] if resume is not None else [Engine.load(list(opts.rule_files))]
    zone, zone_name = load_zone(opts.tz)
    files, skipped = discover(paths, opts.forced_format)
    timer.lap("discover")
    if on_files is not None:
        on_files(files, skipped)
    if not files:
        why = "; ".join(f"{s.path}: {s.reason}" for s in skipped[:5]) or "no paths given"
        if any(s.unreadable for s in skipped):  # logs were there: exit 11, as when some are read
            raise UnreadableInputError(f"no mail log could be read ({why})",
                                       hint="fix the files' permissions or replace the damaged copies")
        raise NoInputError(f"no mail log to read ({why})",
                           hint="point logscan at log files or folders, e.g. /var/log/mail.log*")
    collected: list[pa.Table] = []
    held = [0]  # bytes of `collected`

    def collect(table: pa.Table) -> None:
        held[0] += table.nbytes
        if opts.memory_ceiling is not None and held[0] * REPORT_MEMORY_FACTOR > opts.memory_ceiling:
            rows = sum(t.num_rows for t in collected) + table.num_rows
            raise MemoryCeilingError(
                f"stopped after {rows} failures: working on them would need more than the memory ceiling of "
                f"{opts.memory_ceiling >> 20} MiB (about {REPORT_MEMORY_FACTOR * held[0] // rows} bytes a failure)",
                hint="report on less at a time (--since/--until), or fill a store with `logscan scan --store DIR` "
                     "and report from it per --period, or raise --max-memory if the machine has the room")
        collected.append(table)

    deliver = sink if sink is not None else collect

    states = {} if states is None else states
    all_stats: list[FileStats] = []
    # Consecutive files of one format are parsed together (in parallel when its parser allows).
    groups: list[list[_Segment]] = []
    for log in files:
        start = resume(log) if resume is not None else None
        if resume is not None and start is None:
            continue
        seg = _segment_of(log, start)
        if isinstance(seg, FileStats):
            all_stats.append(seg)
        elif groups and groups[-1][0].log.format == log.format:
            groups[-1].append(seg)
        else:
            groups.append([seg])
    for group in groups:
        if not engines:
            timer.lap("parse and classify")
            engines.append(Engine.load(list(opts.rule_files)))
            timer.lap("rules")
        parser, state = parser_for(group[0].log.format, states)  # LOGSCAN_ENGINE: the compiled core or the reference
        all_stats.extend(parse_files(group, state, opts, zone, zone_name, engines[0], deliver, progress,
                                     opts.workers, parser))
    order = {str(f.path): i for i, f in enumerate(files)}
    all_stats.sort(key=lambda st: order.get(st.path, 0))
    timer.lap("parse and classify")
    timer.report()
    # (Schema.empty_table() would make pyarrow import pandas: 0.3 s of a cron run with little to read)
    table = pa.concat_tables(collected) if collected else pa.Table.from_batches([], schema.plain_arrow_schema())
    return ScanResult(table, all_stats, skipped, engines[0].stats if engines else {})


class _StageTimer:
    """Stage times on stderr when LOGSCAN_TIMING is set (for tools/bench, not for users)."""

    def __init__(self) -> None:
        self.on = bool(os.environ.get("LOGSCAN_TIMING"))
        self.last = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        if self.on:
            now = time.perf_counter()
            self.laps[name] = self.laps.get(name, 0.0) + now - self.last
            self.last = now

    def report(self) -> None:
        if self.on:
            print("timing: " + ", ".join(f"{k} {v:.2f}s" for k, v in self.laps.items()), file=sys.stderr)
