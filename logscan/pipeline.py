"""paths -> discover -> read -> parse (and correlate) -> classify: the failure table.

Each stage hands the next plain data (lists of rows per file, then one Arrow table); nothing
reaches back. Correlation state is one object per format for the whole scan, so a failure in
mail.log still finds its sender in mail.log.1 (files are read oldest first).
"""

from __future__ import annotations

import lzma
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa

from logscan.parsers import REGISTRY
from logscan.parsers.base import FileContext, FileStats

from . import schema
from .discover import LogFile, Skipped, discover
from .engine import Engine
from .errors import NoInputError
from .reading import ReadStats, iter_line_chunks, open_log
from .timestamps import StampConverter, load_zone

ProgressFn = Callable[[int], None]


@dataclass
class ScanOptions:
    forced_format: str | None = None
    year: int | None = None
    tz: str | None = None
    rule_files: tuple[Path, ...] = ()


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
    return sum(f.path.stat().st_size for f in files)


def parse_file(log: LogFile, state, opts: ScanOptions, zone, zone_name, progress: ProgressFn | None = None):
    """Parse one file; returns (rows, stats). Never raises on file content."""
    parser = REGISTRY[log.format]
    stats = FileStats(path=str(log.path), format=log.format)
    mtime = datetime.fromtimestamp(log.path.stat().st_mtime, tz=timezone.utc)
    ctx = FileContext(str(log.path), StampConverter(mtime, zone, zone_name, opts.year), stats)
    read = ReadStats()
    line_no = 1
    last_bytes = 0
    try:
        with open_log(log.path) as fh:
            for lines in iter_line_chunks(fh, read):
                parser.parse(lines, line_no, ctx, state)
                line_no += len(lines)
                if progress is not None:
                    raw = fh.fileobj.tell() if hasattr(fh, "fileobj") else read.bytes_read
                    progress(raw - last_bytes)
                    last_bytes = raw
    except (OSError, EOFError, lzma.LZMAError) as exc:
        # A truncated .gz of a log still being rotated: keep what was read, say where it stopped.
        ctx.unparsed(line_no, f"[read error after line {line_no - 1}: {exc}]")
    stats.lines = line_no - 1
    stats.truncated_lines = read.truncated_lines
    stats.undecodable_chunks = read.bad_bytes_chunks
    return ctx.rows, stats


def rows_to_table(rows: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=schema.plain_arrow_schema())


def scan(paths: list[str], opts: ScanOptions, progress: ProgressFn | None = None,
         on_files: Callable[[list[LogFile], list[Skipped]], None] | None = None) -> ScanResult:
    engine = Engine.load(list(opts.rule_files))
    zone, zone_name = load_zone(opts.tz)
    files, skipped = discover(paths, opts.forced_format)
    if on_files is not None:
        on_files(files, skipped)
    if not files:
        why = "; ".join(f"{s.path}: {s.reason}" for s in skipped[:5]) or "no paths given"
        raise NoInputError(f"no mail log to read ({why})",
                           hint="point logscan at log files or folders, e.g. /var/log/mail.log*")
    states: dict[str, object] = {}
    tables: list[pa.Table] = []
    all_stats: list[FileStats] = []
    for log in files:
        state = states.setdefault(log.format, REGISTRY[log.format].new_state())
        rows, stats = parse_file(log, state, opts, zone, zone_name, progress)
        if rows:
            tables.append(rows_to_table(rows))
        all_stats.append(stats)
    table = pa.concat_tables(tables) if tables else schema.plain_arrow_schema().empty_table()
    table = engine.classify_table(table)
    return ScanResult(table, all_stats, skipped, engine.stats)
