"""The failure store: a Parquet dataset partitioned by host and day that periodic runs append to, exactly once.

Layout of a store folder DIR (readable as is: `pandas.read_parquet(DIR)`, DuckDB
`read_parquet('DIR/**/*.parquet', hive_partitioning = true)`, `pyarrow.dataset` with
`partitioning=ds.HivePartitioning.discover(infer_dictionary=True)`, as `host` is a dictionary column):

    DIR/host=mx1.example.org/day=2026-11-27/part-<run>-<n>.parquet   failures, by host and UTC day of `time`
    DIR/host=__HIVE_DEFAULT_PARTITION__/...       failures without a host (Hive's name for the null partition)
    DIR/host=.../day=__HIVE_DEFAULT_PARTITION__/...   failures without a time
    DIR/_logscan/state.json                       the committed state (below)
    DIR/_logscan/parsers-<run>.json.gz            correlation state carried between runs
    DIR/_logscan/staging/<run>/...                files of a run not committed yet
    DIR/_logscan/lock                             held (a POSIX record lock) by the run using the store

Every row keeps its `host` column. The folder name is the host percent-encoded (as Hive and
pyarrow's default `segment_encoding="uri"` decode it: every byte but letters, digits and "._-~"),
so a host read from a log line cannot name another folder; a host whose encoding is longer than
HOST_DIR_MAX is a folder named by its digest ("h-" and 32 hex digits). A store written by a logscan
of before the host partition (DIR/day=.../part-*.parquet) is read as it is and moved to this layout
by the first run that writes to it (Store.migrate), in one transaction as a run's.

Readers skip `_logscan` (names starting with "_" are not data for pyarrow, pandas or Spark).

Per log file the state keeps a fingerprint (SHA-256 of its first bytes, decompressed), the offset
and line number reached, and its size, device, inode and modification time. A file whose inode,
size and mtime are unchanged is not even opened; any other file is recognised by its fingerprint
wherever it now lives (logrotate's rename to mail.log.1 or mail.log-20261127, compression to
mail.log.2.gz, copytruncate's copy) and read from the saved offset, so the lines written to it
between the last run and the rotation are read once. A file no fingerprint matches (new,
truncated, replaced) is read from the start. Only complete lines of a plain file are consumed;
a compressed file cannot grow, so its last line is read even without a newline. A client log's
multi-line record still open at the end of a plain file (a traceback whose writer may not be done)
is kept with that file's entry, not finished, and finished by the first run that finds the file
unchanged or compressed (pipeline._read_into).

A run is one transaction. Its failures are written under unique names in staging; then one
atomic rename of state.json commits the new file offsets, the parsers' state and the list of
data files together with the renames that move the staged files into place (a redo log). The
renames are replayed by the next run if it was killed after the commit, and everything that no
committed state lists is deleted: a run killed at any point leaves no duplicate and no gap.
"""

from __future__ import annotations

import errno
import fcntl
import gzip
import hashlib
import json
import os
import re
import shutil
import signal
import sys
import time
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from logscan.parsers import REGISTRY
from logscan.parsers.base import UNPARSED_EXAMPLES, FileStats

from .discover import LogFile, discover
from .errors import LogscanError, OutputError, UsageError
from .reading import Resume, compression_of, head_bytes, open_plain, whole_lines_end

if TYPE_CHECKING:  # pyarrow is imported where rows are written or read: a run with nothing new never loads it
    import pyarrow as pa

META = "_logscan"
STATE_VERSION = 1
FINGERPRINT_BYTES = 1024
NULL_DAY = "__HIVE_DEFAULT_PARTITION__"  # how Hive (and pyarrow) name the partition of nulls
HOST_DIR_MAX = 120  # characters of an encoded host folder name (file systems allow 255 bytes)
PART_FILE = re.compile(r"part-[0-9a-f-]+\.parquet")
# host=<encoded>/ is absent in stores written before the host partition (read, then migrated)
DATA_FILE = re.compile(r"(?:host=(?:[A-Za-z0-9._~-]|%[0-9A-F]{2}){1," + str(HOST_DIR_MAX) + r"}/)?"
                       r"day=(?:\d{4}-\d\d-\d\d|__HIVE_DEFAULT_PARTITION__)/part-[0-9a-f-]+\.parquet")
STAGED_FILE = re.compile(r"staging/[0-9a-f-]+/" + DATA_FILE.pattern)
# A file the given paths no longer reach is remembered this long (its rows stay; only the
# bookkeeping goes): the same content showing up again later is then not read twice.
FORGET_UNSEEN_DAYS = 90
# Correlation entries carried to the next run, per mapping (the newest are kept): messages still
# in the queue at the end of a run. The parsers bound their own tables too (200 000 ids).
MAX_CARRIED = 50_000
MAX_PARSER_STATE_BYTES = 256 << 20
MARK_BYTES = 1024
MAX_MARKS = 64  # powers of two up to 2**63, and the end
# What malformed state content can raise while it is decoded and checked (RecursionError: JSON
# nested deeper than the interpreter's stack): each is "the state cannot be read" (exit 10), never a crash.
STATE_ERRORS = (ValueError, TypeError, KeyError, AttributeError, IndexError, RecursionError)


class StoreBusyError(LogscanError):
    """Another run holds the store's lock."""

    exit_code = 8


class StoreDamagedError(LogscanError):
    """The store's state cannot be read."""

    exit_code = 10


def _crash_point(name: str) -> None:
    """Test hook: LOGSCAN_TEST_KILL_AT=<name> kills this process here with SIGKILL, as a power cut
    or the OOM killer would (tests/test_store_crash.py)."""
    if os.environ.get("LOGSCAN_TEST_KILL_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)


# --- per-file bookkeeping ------------------------------------------------------------------------

@dataclass
class Tracked:
    """What the store knows about one log file's content, wherever it lives now."""

    fp_len: int  # the fingerprint covers this many first (decompressed) bytes
    fp: str
    path: str
    format: str
    dev: int
    inode: int
    size: int
    mtime_ns: int
    offset: int  # decompressed bytes consumed
    line_no: int  # number of the next line
    lines: int = 0  # totals over all runs, for reports
    failures: int = 0
    ignored: int = 0
    unparsed: int = 0
    truncated_lines: int = 0
    undecodable_chunks: int = 0
    first_time: int | None = None
    last_time: int | None = None
    read_error: str | None = None  # of the last run that read it
    unparsed_examples: list = field(default_factory=list)  # [line_no, text], the first few
    ignored_reasons: dict = field(default_factory=dict)
    last_seen: float = 0.0  # epoch seconds
    # successful deliveries over all runs, for failure rates: "day<TAB>domain<TAB>relay" -> count
    deliveries: dict = field(default_factory=dict)
    # client logs: where the parser stood in the file's multi-line records, and whether one was
    # left open at its end (finished by the next run, see pipeline._read_into)
    record: dict | None = None
    open_record: bool = False
    # plain files: [offset, digest of the 1 KiB before it] at 2, 4, 8 ... KiB and at the offset
    # reached, so that a file cut short in place is told from one rewritten (Planner.prepare)
    marks: list = field(default_factory=list)

    def stats(self) -> dict[str, Any]:
        """Totals over every run, in the shape of FileStats.as_dict() (plus offset, first/last time)."""
        keys = ("path", "format", "lines", "failures", "ignored", "unparsed", "read_error", "truncated_lines",
                "undecodable_chunks", "first_time", "last_time", "offset", "ignored_reasons")
        out = {k: getattr(self, k) for k in keys}
        out["deliveries"] = {tuple(k.split("\t", 2)): n for k, n in self.deliveries.items()}
        out["unparsed_examples"] = [{"line_no": n, "line": t} for n, t in self.unparsed_examples]
        return out

    def add(self, f: FileStats) -> None:
        for name in ("lines", "failures", "ignored", "unparsed", "truncated_lines", "undecodable_chunks"):
            setattr(self, name, getattr(self, name) + getattr(f, name))
        self.read_error = f.read_error
        room = UNPARSED_EXAMPLES - len(self.unparsed_examples)
        self.unparsed_examples += [[n, t] for n, t in f.unparsed_examples[:max(room, 0)]]
        for reason, n in f.ignored_reasons.items():
            self.ignored_reasons[reason] = self.ignored_reasons.get(reason, 0) + n
        for key, n in f.deliveries.items():
            k = "\t".join(key)
            self.deliveries[k] = self.deliveries.get(k, 0) + n
        for v in (f.first_time, f.last_time):
            if v is not None:
                self.first_time = v if self.first_time is None else min(self.first_time, v)
                self.last_time = v if self.last_time is None else max(self.last_time, v)


_TRACKED_TYPES = {f.name: f.type for f in fields(Tracked)}


def _tracked_from(d: Any) -> Tracked:
    if not isinstance(d, dict) or not set(d) <= set(_TRACKED_TYPES):
        raise ValueError(f"not a file entry: {str(d)[:200]}")
    t = Tracked(**d)
    for name in ("fp_len", "dev", "inode", "size", "mtime_ns", "offset", "line_no"):
        if not isinstance(getattr(t, name), int) or getattr(t, name) < 0:
            raise ValueError(f"file entry {name} is not a count: {getattr(t, name)!r}")
    if not (isinstance(t.fp, str) and isinstance(t.path, str) and t.format in REGISTRY
            and isinstance(t.unparsed_examples, list) and isinstance(t.ignored_reasons, dict)
            and isinstance(t.deliveries, dict) and isinstance(t.open_record, bool)
            and (t.record is None or (isinstance(t.record, dict) and set(t.record) <= {"state", "rows"}
                                      and isinstance(t.record.get("state", {}), dict)
                                      and isinstance(t.record.get("rows", []), list) and _is_plain(t.record, 7)))
            and all(k.count("\t") == 2 and isinstance(n, int) for k, n in t.deliveries.items())
            and isinstance(t.marks, list) and len(t.marks) <= MAX_MARKS
            and all(isinstance(m, list) and len(m) == 2 and isinstance(m[0], int) and isinstance(m[1], str)
                    for m in t.marks)):
        raise ValueError(f"file entry is malformed: {str(d)[:200]}")
    return t


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _starts(head: bytes, t: Tracked) -> bool:
    """Does content starting with `head` start like the content `t` fingerprinted?"""
    return t.fp_len <= len(head) and _digest(head[:t.fp_len]) == t.fp


def _block_digest(fh, end: int) -> str:
    start = max(0, end - MARK_BYTES)
    fh.seek(start)
    return _digest(fh.read(end - start))[:16]


def _marks(path: Path, old: list, end: int) -> list:
    """The marks of a plain file read up to `end`: the old ones below it (their bytes were read
    then), new ones at the powers of two up to it, and one at `end`."""
    kept = [m for m in old if m[0] < end and m[0] & (m[0] - 1) == 0]  # the powers of two
    wanted = [1 << k for k in range(11, end.bit_length()) if (1 << k) < end]
    have = {m[0] for m in kept}
    with open_plain(path) as fh:
        kept += [[o, _block_digest(fh, o)] for o in wanted if o not in have]
        kept.append([end, _block_digest(fh, end)])
    return sorted(kept)[-MAX_MARKS:]


def _cut_short(path: Path, t: Tracked, size: int) -> Resume | None:
    """A plain file now shorter than what was read of it: when every mark within its new length
    still holds (and there is one beyond the fingerprint), it is the same content cut short in place,
    all of it read already: go on from its end. Otherwise (rewritten, copytruncate) None."""
    within = [m for m in t.marks if m[0] <= size]
    if not within or within[-1][0] <= t.fp_len:
        return None
    with open_plain(path) as fh:
        if any(_block_digest(fh, o) != d for o, d in within):
            return None
    end = whole_lines_end(path, 0)
    with open_plain(path) as fh:
        lines = sum(block.count(b"\n") for block in iter(lambda: fh.read(1 << 20), b""))
    return Resume(end, lines + 1)


def _head(path: Path) -> bytes:
    return head_bytes(path, FINGERPRINT_BYTES)[0]  # a truncated .gz: the bytes before the damage


class Planner:
    """Decides where a run picks each log up (prepare, then pipeline.scan's `resume`), and
    afterwards turns the run's file stats into the new per-file state."""

    def __init__(self, tracked: list[Tracked]) -> None:
        self.tracked = tracked
        self.claimed: set[int] = set()  # indexes into tracked
        # path -> (entry index or None, head bytes or None when not read, stat, resume or None)
        self.plan: dict[str, tuple[int | None, bytes | None, os.stat_result, Resume | None]] = {}
        self.restarted: list[str] = []  # truncated in place: read again from the start
        self.shortened: list[str] = []  # cut short in place, keeping its content: read on from its end
        self.duplicates: list[tuple[str, str]] = []  # (file, the file with the same content): not read
        self.waiting: list[str] = []  # a copy shorter than what was read of its content: not read yet
        self.where: dict[str, Any] = {}

    def _claim(self, want) -> int | None:
        for i, t in enumerate(self.tracked):
            if i not in self.claimed and want(t):
                self.claimed.add(i)
                return i
        return None

    def prepare(self, logs: list[LogFile]) -> bool:
        """Match every file to what the store knows; True when some file has something to read.

        In order of certainty: the same inode, size and mtime (untouched: not even opened); the
        same inode and first bytes (grown, or truncated); the same first bytes elsewhere (renamed,
        dated, compressed, copied). A file whose content another file of this run already stands
        for (logrotate compressing mail.log.2 into mail.log.2.gz, copying for copytruncate) is
        left for a later run, so it is never read twice."""
        self.where = {str(f.path): f.path for f in logs}  # a Path, or a RemotePath (logscan/remote.py)
        stats = {str(f.path): f.path.stat() for f in logs}
        heads: dict[str, bytes] = {}
        for path, st in stats.items():
            key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
            same = self._claim(lambda t, key=key: (t.dev, t.inode, t.size, t.mtime_ns) == key)
            if same is not None and self.tracked[same].open_record:
                # not grown since a run left a record open at its end: that record is complete
                t = self.tracked[same]
                self.plan[path] = (same, _head(self.where[path]), st, Resume(t.offset, t.line_no, t.record, final=True))
            elif same is not None:
                self.plan[path] = (same, None, st, None)
            else:
                heads[path] = _head(self.where[path])
        for path, head in list(heads.items()):
            st = stats[path]
            if not head:
                del heads[path]
                continue
            found = self._claim(lambda t, h=head, st=st: _starts(h, t) and (t.dev, t.inode) == (st.st_dev, st.st_ino))
            if found is None:
                continue
            t = self.tracked[found]
            if compression_of(self.where[path]) is None and st.st_size < t.offset:
                cut = _cut_short(self.where[path], t, st.st_size)
                if cut is not None:  # the same content, cut short: nothing of it is new
                    self.shortened.append(path)
                    t.marks = [m for m in t.marks if m[0] <= st.st_size]
                    self.plan[path] = (found, head, st, cut)
                else:
                    self.restarted.append(path)  # shorter than what was read: truncated, then rewritten
                    self.plan[path] = (None, head, st, Resume())
            else:
                self.plan[path] = (found, head, st, Resume(t.offset, t.line_no, t.record))
            del heads[path]
        for path, head in heads.items():
            st = stats[path]
            if any((t.path, t.dev, t.inode) == (path, st.st_dev, st.st_ino) for t in self.tracked):
                self.restarted.append(path)  # same file, other content: truncated (copytruncate)
            twin = next((p for p, (_, h, _, _) in self.plan.items() if h and (h.startswith(head) or
                                                                              head.startswith(h))), None)
            known = [i for i, t in enumerate(self.tracked) if _starts(head, t)]
            free = [i for i in known if i not in self.claimed]
            if twin is None and known and not free:
                twin = next((p for p, (i, _, _, _) in self.plan.items() if i in known), "another file")
            if twin is not None:
                self.duplicates.append((path, twin))
                continue
            if not free:
                self.plan[path] = (None, head, st, Resume())
                continue
            self.claimed.add(free[0])
            t = self.tracked[free[0]]
            if compression_of(self.where[path]) is None and st.st_size < t.offset:
                self.waiting.append(path)  # a copy still being made: read on once it is complete
                self.plan[path] = (free[0], None, st, None)
            else:
                self.plan[path] = (free[0], head, st, Resume(t.offset, t.line_no, t.record))
        return any(r is not None for _, _, _, r in self.plan.values())

    def resume(self, log: LogFile) -> Resume | None:
        decided = self.plan.get(str(log.path))
        return decided[3] if decided is not None else None  # a file that appeared since: next run

    def new_state(self, files: list[FileStats], now: float) -> list[Tracked]:
        by_path = {f.path: f for f in files}
        out: list[Tracked] = []
        for path, (idx, head, st, start) in self.plan.items():
            old = self.tracked[idx] if idx is not None else None
            f = by_path.get(path)
            if f is None:  # unchanged (or empty): keep what we knew, under its current name
                if old is not None:
                    old.path, old.last_seen = path, now
                    out.append(old)
                continue
            t = old if old is not None else Tracked(0, "", path, f.format, 0, 0, 0, 0, 0, 1)
            t.fp_len, t.fp = len(head), _digest(head)
            t.path, t.format, t.dev, t.inode, t.size, t.mtime_ns = path, f.format, st.st_dev, st.st_ino, \
                st.st_size, st.st_mtime_ns
            t.offset, t.line_no = f.end_offset, start.line_no + f.lines
            t.record, t.open_record = f.record, f.open_record
            if compression_of(self.where[path]) is None and f.end_offset > 0:
                t.marks = _marks(self.where[path], t.marks if old is not None else [], f.end_offset)
            t.add(f)
            t.last_seen = now
            out.append(t)
        forget_before = now - FORGET_UNSEEN_DAYS * 86400
        out.extend(t for i, t in enumerate(self.tracked) if i not in self.claimed and t.last_seen >= forget_before)
        return out


# --- parsers' correlation state ------------------------------------------------------------------

def _is_plain(value: Any, depth: int, lists: bool = True) -> bool:
    """JSON scalars, or lists (if allowed) and string-keyed dicts of them, nested at most `depth` deep."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return True
    if depth > 0 and lists and isinstance(value, list):
        return all(_is_plain(v, depth - 1) for v in value)
    return depth > 0 and isinstance(value, dict) and all(
        isinstance(k, str) and _is_plain(v, depth - 1, lists) for k, v in value.items())


def _is_mapping_of_records(value: dict) -> bool:
    """A carried mapping (queue id -> context): values all texts or all string-keyed dicts, no lists."""
    return all(_is_plain(v, 3, lists=False) for v in value.values()) and len({type(v) for v in value.values()}) <= 1


# The form of the saved correlation state. Form 2: each format's correlation mappings as lists of
# [host, id, value] (the host of the correlation key; null for an entry carried over from form 1,
# which keyed by id alone), plus "form": 2. Form 1 (no "form"): mappings {id: value} (Sendmail's
# ids "<host> <qid>"); still read, its entries taken over by the first host that uses their id.
STATE_FORM = 2


def dump_parser_states(states: dict[str, Any]) -> dict[str, Any]:
    """The part of each parser's state worth carrying (its state's persisted fields): correlation
    mappings cut to their newest MAX_CARRIED entries, and plain values."""
    out: dict[str, Any] = {}
    for fmt, state in states.items():
        saved: dict[str, Any] = {}
        for name in state.persisted_fields():
            value = getattr(state, name)
            if isinstance(value, tuple):
                value = list(value)  # (a host and port: JSON has no tuples; parsers unpack either)
            if isinstance(value, dict):
                # An entry load_parser_states would refuse is dropped (that message loses its
                # context), so that one odd value cannot stop every later run.
                entries = [[None, k, v] for k, v in state.legacy.get(name, {}).items()]
                entries += [[k[0], k[1], v] for k, v in value.items()]
                saved[name] = [e for e in entries[-MAX_CARRIED:] if _is_plain(e[2], 3, lists=False)]
            elif _is_plain(value, 3):
                saved[name] = value
        if saved:
            out[fmt] = {"form": STATE_FORM, **saved}
    return out


def _mapping_entries(fmt: str, name: str, value: Any) -> list[tuple[str | None, str, Any]]:
    if not isinstance(value, list) or not all(
            isinstance(e, list) and len(e) == 3 and (e[0] is None or isinstance(e[0], str)) and isinstance(e[1], str)
            for e in value):
        raise ValueError(f"parser state {fmt}.{name} is malformed")
    values = {e[1]: e[2] for e in value}  # (only for the check: all texts or all records, plain)
    if not _is_mapping_of_records(values):
        raise ValueError(f"parser state {fmt}.{name} is malformed")
    return [(e[0], e[1], e[2]) for e in value]


def load_parser_states(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValueError("parser state is not an object")
    states: dict[str, Any] = {}
    for fmt, saved in data.items():
        if fmt not in REGISTRY or not isinstance(saved, dict):
            raise ValueError(f"parser state for unknown format {fmt!r}")
        form = saved.get("form", 1)
        if form not in (1, STATE_FORM):
            raise ValueError(f"parser state {fmt} is of form {form!r}, which this logscan does not know "
                             f"(it reads forms 1 and {STATE_FORM}): a newer logscan wrote it")
        state = REGISTRY[fmt].new_state()
        for name in state.persisted_fields():
            if name not in saved:
                continue
            fresh, value = getattr(state, name), saved[name]
            if isinstance(fresh, dict) and form == STATE_FORM:
                mapping = getattr(state, name)
                for host, key, v in _mapping_entries(fmt, name, value):
                    if host is None:
                        state.legacy.setdefault(name, {})[key] = v
                    else:
                        mapping[(host, key)] = v
                continue
            # the type the parser starts with (a mapping, a flag, a text or None), plain inside
            same_type = fresh is None or value is None or type(value) is type(fresh)
            if not (_is_plain(value, 4) and same_type and (not isinstance(value, dict) or _is_mapping_of_records(value))):
                raise ValueError(f"parser state {fmt}.{name} is malformed")
            if isinstance(fresh, dict):
                state.load_form1(name, value)
            else:
                setattr(state, name, value)
        states[fmt] = state
    return states


# --- writing failures, partitioned by host and day -----------------------------------------------

def host_dir(host: str | None) -> str:
    """The partition folder of a host: host=<percent-encoded host> (Hive's escaping, which pyarrow
    and DuckDB decode back to the host), __HIVE_DEFAULT_PARTITION__ for no host, "h-<digest>" for a
    host whose encoding is longer than HOST_DIR_MAX. Hosts come from log lines: nothing in one can
    reach outside its folder."""
    if not host:
        return f"host={NULL_DAY}"
    enc = quote(host, safe="")  # leaves letters, digits and "_.-~"
    if enc == NULL_DAY:
        enc = "%5F" + enc[1:]  # a host that is literally Hive's null name stays a host
    if len(enc) > HOST_DIR_MAX:
        enc = "h-" + hashlib.sha256(host.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"host={enc}"


class DayWriter:
    """Writes classified failure tables into
    staging/<run>/host=<host>/day=YYYY-MM-DD/part-<run>-0.parquet (host_dir names the host's folder)."""

    def __init__(self, staging: Path, run: str) -> None:
        self.staging, self.run = staging, run
        self.writers: dict = {}  # "host=.../day=..." -> pyarrow.parquet.ParquetWriter
        self.rows = 0

    def write(self, table: pa.Table) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        from . import schema
        from .arrowcols import column

        if table.num_rows == 0:
            return
        table = table.cast(schema.arrow_schema())
        rows_of: dict[str, list[int]] = {}
        folders: dict[str | None, str] = {}
        days = pc.strftime(table.column("time"), format="%Y-%m-%d").to_pylist()
        for i, (host, day) in enumerate(zip(table.column("host").to_pylist(), days, strict=True)):
            folder = folders.get(host) or folders.setdefault(host, host_dir(host))
            rows_of.setdefault(f"{folder}/day={day or NULL_DAY}", []).append(i)
        for part_dir, rows in rows_of.items():
            part = table.take(column(rows, pa.int64()))  # (a Python list here would make pyarrow import pandas)
            w = self.writers.get(part_dir)
            if w is None:
                folder = self.staging / part_dir
                folder.mkdir(parents=True, exist_ok=True)
                w = self.writers[part_dir] = pq.ParquetWriter(folder / f"part-{self.run}-0.parquet", table.schema,
                                                         compression="zstd")
            w.write_table(part)
            self.rows += part.num_rows
        _crash_point("mid-scan")

    def close(self) -> list[str]:
        """Close and fsync every file; their paths relative to the staging folder."""
        names = []
        for part_dir, w in self.writers.items():
            w.close()
            name = f"{part_dir}/part-{self.run}-0.parquet"
            _fsync_file(self.staging / name)
            names.append(name)
        return names


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    _fsync_file(path)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


# --- the store -----------------------------------------------------------------------------------

@dataclass
class State:
    files: list[Tracked] = field(default_factory=list)
    data_files: list[str] = field(default_factory=list)  # relative to the store root
    moves: dict[str, str] = field(default_factory=dict)  # staged (relative to META) -> data file
    parser_state: str | None = None  # file name in META
    runs: int = 0

    def as_json(self) -> bytes:
        d = {"version": STATE_VERSION, "runs": self.runs, "files": [asdict(t) for t in self.files],
             "data_files": self.data_files, "moves": self.moves, "parser_state": self.parser_state}
        return json.dumps(d, indent=1).encode()


def _parse_state(raw: bytes) -> State:
    d = json.loads(raw)
    if not isinstance(d, dict) or d.get("version") != STATE_VERSION:
        raise ValueError(f"unknown state version {d.get('version') if isinstance(d, dict) else d!r}")
    files, data_files, moves = d.get("files", []), d.get("data_files", []), d.get("moves", {})
    ps, runs = d.get("parser_state"), d.get("runs", 0)
    # Names are checked against what logscan writes: a hand-edited state cannot make a run read,
    # move or delete anything else.
    if not (isinstance(data_files, list) and all(isinstance(x, str) and DATA_FILE.fullmatch(x) for x in data_files)
            and isinstance(moves, dict) and all(isinstance(k, str) and isinstance(v, str) and STAGED_FILE.fullmatch(k)
                                                and DATA_FILE.fullmatch(v) for k, v in moves.items())):
        raise ValueError("data file list is malformed")
    if ps is not None and not (isinstance(ps, str) and re.fullmatch(r"parsers-[0-9a-f-]+\.json\.gz", ps)):
        raise ValueError("parser state name is malformed")
    if not (isinstance(files, list) and isinstance(runs, int)):
        raise ValueError("file list or run count is malformed")
    return State([_tracked_from(t) for t in files], data_files, moves, ps, runs)


def parsed_state(raw: bytes, where, hint: str) -> State:
    """The state in `raw`; StoreDamagedError (exit 10) naming `where` when it cannot be read."""
    try:
        return _parse_state(raw)
    except STATE_ERRORS as exc:
        raise StoreDamagedError(f"the store's state {where} cannot be read: {exc}", hint=hint) from None


class Store:
    """One store folder, locked for the lifetime of the object (use it as a context manager)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.meta = root / META
        self._lock_fh = None

    def __enter__(self) -> Store:
        if self.root.exists() and not self.root.is_dir():
            raise UsageError(f"{self.root} is not a folder", hint="give --store a folder (created if missing)")
        if self.root.is_dir() and not self.meta.is_dir() and any(self.root.iterdir()):
            raise UsageError(f"{self.root} is not empty and not a logscan store; not writing into it",
                             hint="give --store a new or empty folder, e.g. /var/lib/logscan")
        try:
            self.meta.mkdir(parents=True, exist_ok=True)
            self._lock_fh = open(self.meta / "lock", "a+")
        except OSError as exc:
            raise StoreDamagedError(f"cannot use the store {self.root}: {exc}",
                                    hint="check the folder's permissions") from exc
        try:
            # A POSIX record lock (lockf), not flock: it belongs to this process and is never
            # inherited by the workers a run forks, so a worker outliving a killed run cannot keep
            # the store locked.
            fcntl.lockf(self._lock_fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                self._lock_fh.close()
                raise StoreDamagedError(f"cannot lock the store {self.root}: {exc}",
                                        hint="the store must be on a local file system that supports locks") from exc
            self._lock_fh.close()
            raise StoreBusyError(f"another logscan run is using the store {self.root}",
                                 hint="wait for it to finish (a cron job may overlap: space the runs out, "
                                      "or wrap them in flock -n)") from None
        self.state = self._load()
        self._recover()
        return self

    def __exit__(self, *exc) -> None:
        if self._lock_fh is not None:
            self._lock_fh.close()  # releases the lock
            self._lock_fh = None

    # --- state and recovery ----------------------------------------------------------------------
    def _load(self) -> State:
        path = self.meta / "state.json"
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return State()
        except OSError as exc:  # a folder in its place, an I/O error: the same answer as bad content
            raise StoreDamagedError(f"the store's state {path} cannot be read: {exc}",
                                    hint="check the file (it must be a regular file logscan wrote), or move the "
                                         "store aside and start a new one") from None
        return parsed_state(raw, path, "restore it from a backup, or move the store aside and start a new one "
                                       "(the next run then reads the logs from the start)")

    def _recover(self) -> None:
        """Finish the renames of a committed run that was killed, and delete what no committed
        state lists: files of killed runs, dropped partitions, replaced parser state."""
        self._apply_moves(self.state.moves)
        listed = set(self.state.data_files)
        for folder in [*self.root.glob("day=*"), *self.root.glob("host=*/day=*")]:
            for f in folder.iterdir():
                if PART_FILE.fullmatch(f.name) and f"{folder.relative_to(self.root)}/{f.name}" not in listed:
                    f.unlink()
            _rmdir_if_empty(folder)
        for folder in self.root.glob("host=*"):
            _rmdir_if_empty(folder)
        shutil.rmtree(self.meta / "staging", ignore_errors=True)
        for f in self.meta.iterdir():
            if f.name.endswith(".tmp") or (f.name.startswith("parsers-") and f.name != self.state.parser_state):
                f.unlink()

    def _apply_moves(self, moves: dict[str, str]) -> None:
        for staged, final in moves.items():
            src, dst = self.meta / staged, self.root / final
            if src.exists():
                dst.parent.mkdir(parents=True, exist_ok=True)
                os.replace(src, dst)
                _fsync_dir(dst.parent)

    def has_state(self) -> bool:
        return (self.meta / "state.json").exists()

    def data_file(self, rel: str, state: State):
        """Where a committed data file is read (a path, or an open file of a remote store)."""
        path = self.root / rel
        if not path.exists():  # committed, not moved yet (the run is finishing): read it where it is
            path = next((self.meta / s for s, f in state.moves.items() if f == rel), path)
        return path

    def read_table(self, path) -> pa.Table:
        import pyarrow.parquet as pq

        return pq.read_table(path)

    def parser_states(self) -> dict[str, Any]:
        if self.state.parser_state is None:
            return {}
        path = self.meta / self.state.parser_state
        try:
            if path.stat().st_size > MAX_PARSER_STATE_BYTES:
                raise ValueError("too large")
            with gzip.open(path, "rb") as fh:
                return load_parser_states(json.loads(fh.read(MAX_PARSER_STATE_BYTES * 8)))
        except (*STATE_ERRORS, OSError, EOFError, zlib.error) as exc:
            raise StoreDamagedError(f"the correlation state {path} cannot be read: {exc}",
                                    hint="delete it and edit parser_state to null in state.json to go on "
                                         "without it (failures may then miss their sender or client)") from None

    # --- one run ---------------------------------------------------------------------------------
    def begin(self) -> tuple[str, DayWriter]:
        run = f"{self.state.runs + 1:06d}-{uuid.uuid4().hex[:12]}"
        staging = self.meta / "staging" / run
        try:
            staging.mkdir(parents=True)
        except OSError as exc:
            raise OutputError(f"could not write to the store {self.root}: {exc.strerror or exc}",
                              hint="free space (or fix the permissions) there, then run again") from exc
        return run, DayWriter(staging, run)

    def commit(self, run: str, writer: DayWriter | None, files: list[Tracked], parser_states: dict[str, Any] | None,
               keep_days: int | None = None, today: datetime | None = None) -> list[str]:
        """Make a run's rows and file state durable together; returns the data files dropped by keep_days.
        writer None: no rows; parser_states None: unchanged (nothing was parsed).
        A write that fails before the commit (a full disk) is an OutputError: nothing is committed,
        the next run reads the same lines again."""
        try:
            new = self._stage(run, writer, parser_states)
        except OSError as exc:
            raise OutputError(f"could not write to the store {self.root}: {exc.strerror or exc}",
                              hint="free space (or fix the device) there, then run again: nothing of this run "
                                   "was committed, so no line is lost") from exc
        dropped = _apply_keep(new, keep_days, today)
        new.files = files
        _crash_point("before-commit")
        self._commit_state(new)
        _crash_point("after-commit")
        old_parser_state = self.state.parser_state
        self.state = new
        self._finish(run, old_parser_state, dropped)
        return dropped

    def _commit_state(self, new: State) -> None:
        try:
            _write_atomic(self.meta / "state.json", new.as_json())  # the commit
        except OSError as exc:
            raise OutputError(f"could not commit the run to the store {self.root}: {exc.strerror or exc}",
                              hint="free space (or fix the device) there, then run again: nothing of this run "
                                   "was committed, so no line is lost") from exc

    def _finish(self, run: str, old_parser_state: str | None, dropped: list[str]) -> None:
        """After the commit: the staged files moved into place, what the state no longer lists deleted."""
        self._apply_moves(self.state.moves)
        _crash_point("after-moves")
        shutil.rmtree(self.meta / "staging" / run, ignore_errors=True)
        if old_parser_state and old_parser_state != self.state.parser_state:
            (self.meta / old_parser_state).unlink(missing_ok=True)
        for f in dropped:
            self._remove_data_file(f)

    def _remove_data_file(self, rel: str) -> None:
        path = self.root / rel
        path.unlink(missing_ok=True)
        _rmdir_if_empty(path.parent)
        if path.parent.parent != self.root:
            _rmdir_if_empty(path.parent.parent)  # host=... when its last day went

    def migrate(self) -> int:
        """Move the data files of the layout before the host partition (day=D/part-X.parquet) to
        host=H/day=D/part-X.parquet, split by their rows' host, each keeping its schema and metadata.
        One transaction: the new files are staged, then one state commit lists them instead of the
        old ones (with the renames in its redo log); a run killed before the commit leaves the old
        layout as it was, after it _recover finishes the move. Returns how many old files moved."""
        old = [f for f in self.state.data_files if not f.startswith("host=")]
        if not old:
            return 0
        import pyarrow as pa
        import pyarrow.parquet as pq

        run = f"{self.state.runs:06d}-{uuid.uuid4().hex[:12]}"
        staging = self.meta / "staging" / run
        moves: dict[str, str] = {}
        try:
            for rel in old:
                path = self.root / rel
                if not path.exists():
                    continue  # deleted by someone: read_failures reports it missing; nothing to move
                table = pq.read_table(path)
                hosts = (table.column("host").to_pylist() if "host" in table.column_names
                         else [None] * table.num_rows)
                folders = [host_dir(h) for h in hosts]
                for folder in sorted(set(folders)):
                    name = f"{folder}/{rel}"
                    (staging / name).parent.mkdir(parents=True, exist_ok=True)
                    pq.write_table(table.filter(pa.array([f == folder for f in folders], pa.bool_())),
                                   staging / name, compression="zstd")
                    _fsync_file(staging / name)
                    moves[f"staging/{run}/{name}"] = name
            new = State(self.state.files, [f for f in self.state.data_files if f not in set(old)]
                        + list(moves.values()), moves, self.state.parser_state, self.state.runs)
            _write_atomic(self.meta / "state.json", new.as_json())
        except OSError as exc:
            raise OutputError(f"could not move the store {self.root} to the host=/day= layout: "
                              f"{exc.strerror or exc}", hint="free space (or fix the permissions) there, then run "
                              "again: the store is as it was") from exc
        _crash_point("after-migrate-commit")
        self.state = new
        self._apply_moves(moves)
        shutil.rmtree(staging, ignore_errors=True)
        for rel in old:
            self._remove_data_file(rel)
        return len(old)

    def _stage(self, run: str, writer: DayWriter | None, parser_states: dict[str, Any] | None) -> State:
        """Everything a commit needs written first: the run's data files and the parser state."""
        staged = writer.close() if writer is not None else []
        moves = {f"staging/{run}/{name}": name for name in staged}
        new = State([], self.state.data_files + list(moves.values()), moves, self.state.parser_state,
                    self.state.runs + 1)
        if parser_states is not None:
            new.parser_state = f"parsers-{run}.json.gz"
            _write_atomic(self.meta / new.parser_state, parser_state_blob(parser_states))
        return new


def parser_state_blob(parser_states: dict[str, Any]) -> bytes:
    """The parsers' state as the store keeps it (gzip-compressed JSON)."""
    payload = json.dumps(dump_parser_states(parser_states), separators=(",", ":")).encode()
    return gzip.compress(payload, compresslevel=3)


def _apply_keep(new: State, keep_days: int | None, today: datetime | None) -> list[str]:
    """--keep: take the data files of days older than keep_days out of `new`; returns them."""
    if keep_days is None:
        return []
    cutoff = ((today or datetime.now(timezone.utc)) - timedelta(days=keep_days)).strftime("%Y-%m-%d")
    dropped = [f for f in new.data_files if _day_of(f) != NULL_DAY and _day_of(f) < cutoff]
    new.data_files = [f for f in new.data_files if f not in set(dropped)]
    new.moves = {k: v for k, v in new.moves.items() if v not in set(dropped)}
    return dropped


def open_store(root: str | Path) -> Store:
    """The store at `root`: a local folder (Store), or an fsspec URL (logscan/objstore.py)."""
    if isinstance(root, str) and "://" in root:
        from . import remote

        if remote.is_url(root):
            from .objstore import RemoteStore

            return RemoteStore(root)
        root = remote.local_path(root)
    return Store(Path(root))


def _day_of(rel: str) -> str:
    return Path(rel).parts[-2].removeprefix("day=")


def _rmdir_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass


def parse_keep(text: str) -> int:
    """"90d", "12w" or "90" -> days."""
    m = re.fullmatch(r"\s*(\d{1,5})\s*([dw]?)\s*", text)
    if not m or int(m.group(1)) == 0:
        raise UsageError(f"cannot read --keep {text!r}", hint="give a number of days or weeks, e.g. 90d or 12w")
    return int(m.group(1)) * (7 if m.group(2) == "w" else 1)


# --- reading the store ---------------------------------------------------------------------------

@dataclass
class StoredFailures:
    table: pa.Table  # the stored failures (columns of every logscan version that wrote them)
    files: list[dict[str, Any]]  # per log file: path, format, lines, failures, ignored, unparsed, ...
    runs: int
    missing: list[str] = field(default_factory=list)  # data files the state lists but someone deleted


def _plain_type(t: pa.DataType) -> pa.DataType:
    import pyarrow as pa

    return t.value_type if pa.types.is_dictionary(t) else t


def _day_range(since: datetime | None, until: datetime | None) -> tuple[str, str]:
    lo = since.astimezone(timezone.utc).strftime("%Y-%m-%d") if since else ""
    hi = until.astimezone(timezone.utc).strftime("%Y-%m-%d") if until else "9999"
    return lo, hi


def _files_in(data_files: list[str], since: datetime | None, until: datetime | None) -> Iterator[str]:
    lo, hi = _day_range(since, until)
    for rel in data_files:
        day = _day_of(rel)
        if day == NULL_DAY or lo <= day <= hi:  # rows without a time are kept and filtered below
            yield rel


def read_failures(root: str | Path, since: datetime | None = None, until: datetime | None = None) -> StoredFailures:
    """The stored failures with since <= time < until (timezone-aware datetimes; None: no bound)
    as one Arrow table, plus the per-file statistics. Files written by another logscan version
    may have more or fewer columns: the table has all of them, missing values null. Reads only
    what the committed state lists, so a run in progress is not seen half-written."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from . import schema

    store = open_store(root)
    state = store._load() if store.has_state() else None
    if state is None:
        raise UsageError(f"{store.root} is not a logscan store", hint="create one with `logscan scan LOGS --store DIR`")
    tables, missing = [], []
    for rel in _files_in(state.data_files, since, until):
        path = store.data_file(rel, state)
        try:
            t = store.read_table(path)
        except FileNotFoundError:
            missing.append(rel)
            continue
        except (OSError, pa.ArrowInvalid) as exc:
            raise StoreDamagedError(f"cannot read {path}: {exc}", hint="move the damaged file out of the store "
                                    "and remove it from data_files in _logscan/state.json") from None
        tables.append(t.cast(pa.schema([pa.field(f.name, _plain_type(f.type)) for f in t.schema])))
    own = schema.plain_arrow_schema()
    table = pa.concat_tables([own.empty_table(), *tables], promote_options="permissive")
    if since is not None or until is not None:
        mask = pc.is_valid(table.column("time"))
        if since is not None:
            mask = pc.and_(mask, pc.greater_equal(table.column("time"), pa.scalar(since, own.field("time").type)))
        if until is not None:
            mask = pc.and_(mask, pc.less(table.column("time"), pa.scalar(until, own.field("time").type)))
        table = table.filter(mask)
    return StoredFailures(table, [t.stats() for t in state.files], state.runs, missing)


def scan_into(root: str | Path, paths: list[str], forced_format: str | None, scan_fn,
              keep_days: int | None = None) -> tuple[Any, dict[str, Any]]:
    """One incremental run: scan_fn(sink=, resume=, states=) is pipeline.scan with the user's
    options; its failures go to the store. Returns the scan result (None when no file had
    anything new: then neither the rules nor pyarrow were loaded) and what the run did."""
    with open_store(root) as store:
        moved = store.migrate()
        if moved:
            print(f"logscan: store {root}: moved {moved} data file(s) of the day= layout to host=<host>/day=<day> "
                  "(once; readers of DIR/**/*.parquet see the host partition from now on)", file=sys.stderr)
        files, _ = discover(paths, forced_format)
        planner = Planner(store.state.files)
        if files and not planner.prepare(files):
            _crash_point("after-scan")
            kept = planner.new_state([], time.time())
            dropped = store.commit(f"{store.state.runs + 1:06d}-{uuid.uuid4().hex[:12]}", None, kept, None, keep_days)
            return None, _report(planner, 0, 0, dropped, store)
        run, writer = store.begin()
        states: dict[str, Any] = store.parser_states() if files else {}
        result = scan_fn(sink=writer.write, resume=planner.resume, states=states)
        _crash_point("after-scan")
        kept = planner.new_state(result.files, time.time())
        dropped = store.commit(run, writer, kept, states, keep_days)
        return result, _report(planner, writer.rows, len(result.files), dropped, store)


def _report(planner: Planner, stored: int, read: int, dropped: list[str], store: Store) -> dict[str, Any]:
    return {"stored": stored, "unchanged": len(planner.plan) - read - len(planner.waiting),
            "restarted": planner.restarted, "shortened": planner.shortened, "duplicates": planner.duplicates, "waiting": planner.waiting,
            "dropped_files": len(dropped), "runs": store.state.runs}
