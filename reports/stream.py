"""Failures on disk, read batch by batch, for reports that do not hold the failure table.

`report` on logs spools the scan's failures to a temporary Parquet file (spool(): the scan hands
them over batch by batch, as it does to a store); `report --store` reads the store's Parquet
files through pyarrow.dataset (hive partitioning: the day= layout and a host=/day= one both
read). From either, one pass keeps only what the figures are computed from (narrow()): the
columns the aggregates read, as plain values, without the log line (each line only where a page
shows it: lines()), the diagnostic only for the rows whose page shows it (unknown causes, block
lists). failures.parquet of each period is copied from the source batch by batch (write_periods()).
The figures are computed by the same code as for a table in memory (reports/aggregate.py,
outcomes.py, causes.py), so the pages are the same (tests/test_report_stream.py).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from logscan import schema
from logscan.errors import MemoryCeilingError
from logscan.reports.redact import Redactor
from logscan.store import META, StoreDamagedError

BATCH_ROWS = 65_536
WRITE_ROWS = 8_192  # every column, the line too: smaller batches when copying whole rows
# Not read into the frame the figures are computed from (no figure uses them); failures.parquet
# still has them, copied from the source.
NOT_HELD = ("line", "message_id", "size", "relay_ip", "time_zone", "year_inferred", "program", "tls_mode",
            "error_code", "enhanced_status", "smtp_code")
DIAGNOSTIC_SHOWN = ("blocklisted", "unknown")  # the categories whose diagnostic a page reads
HELD = tuple(n for n in schema.FIELD_NAMES if n not in NOT_HELD)
# What a held failure costs at the report's peak (frame, derived columns, groupbys): 2.4 KB measured with
# tools/bench/report_memory.py: the ceiling (--max-memory) is checked against rows times this.
BYTES_PER_FAILURE = 2500


def _plain(t: pa.DataType) -> pa.DataType:
    return t.value_type if pa.types.is_dictionary(t) else t


class Source:
    """Parquet files read in one fixed order (the order the in-memory path sees the rows in), each
    pass batch by batch, cast to the plain failure schema (a column a file lacks reads as nulls)."""

    def __init__(self, files: list[Path], root: Path | None = None, windowed: bool = False) -> None:
        self.files = [Path(f) for f in files]
        self.root = root
        # True for a store: its reader keeps only the rows in the window, so the rows without a
        # time are counted within it (none, when --since or --until is given)
        self.windowed = windowed
        self.rows_read = 0  # rows in the window, as narrow() found them

    def batches(self, columns: tuple[str, ...] = tuple(schema.FIELD_NAMES),
                batch_size: int = BATCH_ROWS) -> Iterator[pa.RecordBatch]:
        own = schema.plain_arrow_schema()
        for path in self.files:
            kw = {}
            try:
                if (self.root is not None and path.is_relative_to(self.root)
                        and META not in path.relative_to(self.root).parts and "host" not in pq.read_schema(path).names):
                    # host=/day= folders: the host a file lacks is taken from its folder's name (a file
                    # that has the column keeps it: the folder's dictionary type would clash with it)
                    kw = {"partitioning": "hive", "partition_base_dir": str(self.root)}
                dataset = ds.dataset([str(path)], format="parquet", **kw)
                names = set(dataset.schema.names)
                scanned = dataset.to_batches(columns=[c for c in columns if c in names], batch_size=batch_size,
                                             use_threads=False, batch_readahead=1, fragment_readahead=1)
                yield from self._cast(scanned, columns, names, own)
            except (OSError, pa.ArrowInvalid) as exc:
                if self.root is None:
                    raise
                raise StoreDamagedError(f"cannot read {path}: {exc}", hint="move the damaged file out of the store "
                                        "and remove it from data_files in _logscan/state.json") from None

    @staticmethod
    def _cast(scanned, columns, names, own) -> Iterator[pa.RecordBatch]:
        for batch in scanned:
            arrays = []
            for c in columns:
                want = own.field(c).type
                if c in names:
                    a = batch.column(batch.schema.get_field_index(c))
                    arrays.append(a if a.type == want else a.cast(_plain(a.type)).cast(want))
                else:
                    arrays.append(pa.nulls(batch.num_rows, want))
            yield pa.RecordBatch.from_arrays(arrays, schema=pa.schema([own.field(c) for c in columns]))


def window_mask(batch: pa.RecordBatch, since: datetime | None, until: datetime | None) -> pa.Array | None:
    """The rows of --since/--until (None: every row), as reports.periods.in_window keeps them."""
    if since is None and until is None:
        return None
    t = batch.column(batch.schema.get_field_index("time"))
    mask = pc.is_valid(t)
    typ = t.type
    if since is not None:
        mask = pc.and_(mask, pc.greater_equal(t, pa.scalar(since, typ)))
    if until is not None:
        mask = pc.and_(mask, pc.less(t, pa.scalar(until, typ)))
    return mask


def windowed(source: Source, opts, columns: tuple[str, ...], counts: dict | None = None,
             batch_size: int = BATCH_ROWS) -> Iterator[pa.RecordBatch]:
    """The source's batches within the window; `counts["untimed"]` gets the rows without a time
    (before the window: as the in-memory path counts them)."""
    for batch in source.batches(columns, batch_size):
        mask = window_mask(batch, opts.since, opts.until)
        if counts is not None and not source.windowed:
            counts["untimed"] = counts.get("untimed", 0) + batch.column(batch.schema.get_field_index("time")).null_count
        if mask is not None:
            batch = batch.filter(mask)
        if counts is not None and source.windowed:
            counts["untimed"] = counts.get("untimed", 0) + batch.column(batch.schema.get_field_index("time")).null_count
        if batch.num_rows:
            yield batch


def redact_batch(batch: pa.RecordBatch, redactor: Redactor) -> pa.RecordBatch:
    """Redactor.frame() for one batch (the pseudonyms are keyed per run, so every batch and every
    pass agree); its cache is emptied after, so it does not grow with the log."""
    frame = redactor.frame(batch.to_pandas())
    redactor._seen.clear()
    return pa.Table.from_pandas(frame, schema=batch.schema, preserve_index=False).combine_chunks().to_batches()[0]


def narrow(source: Source, opts, redactor: Redactor | None) -> tuple[pd.DataFrame, int]:
    """The failures in the window, as the frame the figures are computed from: the HELD columns
    (NOT_HELD absent; the diagnostic only of DIAGNOSTIC_SHOWN rows; `line` empty, see lines()),
    plain Python values as the in-memory path has them. Returns it and the rows without a time."""
    counts: dict = {}
    parts = []
    for batch in windowed(source, opts, HELD, counts):
        if redactor is not None:
            batch = redact_batch(batch, redactor)
        i = batch.schema.get_field_index("diagnostic")
        shown = pc.is_in(batch.column(batch.schema.get_field_index("category")), pa.array(DIAGNOSTIC_SHOWN))
        batch = batch.set_column(i, "diagnostic", pc.if_else(pc.fill_null(shown, False), batch.column(i),
                                                             pa.scalar(None, pa.string())))
        parts.append(batch.to_pandas())
    if not parts:
        frame = schema.plain_arrow_schema().empty_table().select(list(HELD)).to_pandas()
    else:
        frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    frame["line"] = None
    source.rows_read = len(frame)
    return frame, counts.get("untimed", 0)


def lines(source: Source, opts, redactor: Redactor | None, rows: set[int]) -> dict[int, str]:
    """The log lines of the given rows (positions in the window, as narrow() numbers them), in
    one pass that reads the line column only."""
    out: dict[int, str] = {}
    if not rows:
        return out
    wanted = pa.array(sorted(rows), pa.int64())
    at = 0
    for batch in windowed(source, opts, ("time", "line")):
        n = batch.num_rows
        local = pc.subtract(pc.filter(wanted, pc.and_(pc.greater_equal(wanted, at), pc.less(wanted, at + n))), at)
        if len(local):
            picked = batch.column(1).take(local).to_pylist()
            for r, text in zip(local.to_pylist(), picked, strict=True):
                out[r + at] = redactor.text(text) if redactor is not None and text else text
        at += n
    if redactor is not None:
        redactor._seen.clear()
    return out


def write_periods(source: Source, opts, redactor: Redactor | None, starts: Callable[[pa.Array], pa.Array] | None,
                  writers: dict) -> None:
    """Copy every failure of the window to the failures.parquet of its period, batch by batch.
    `starts(times)` gives each row's period start (None: one report, every row to writers[None]);
    `writers`: period start (a pd.Timestamp) -> logscan.output.TableWriter."""
    pool = pa.default_memory_pool()
    for batch in windowed(source, opts, tuple(schema.FIELD_NAMES), batch_size=WRITE_ROWS):
        pool.release_unused()  # the allocator gives back what the last batch used
        if redactor is not None:
            batch = redact_batch(batch, redactor)
        table = pa.Table.from_batches([batch])
        if starts is None:
            writers[None].write(table)
            continue
        keys = starts(batch.column(0))
        for start, index in pd.Series(keys).groupby(keys, sort=False).indices.items():
            if start in writers:
                writers[start].write(table.take(pa.array(index)))


class Spool:
    """The scan's failures, batch by batch, to a temporary Parquet file (a sink for
    pipeline.scan), with the memory ceiling checked against what the report will hold."""

    def __init__(self, ceiling: int | None = None) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="logscan-report-")
        self.path = Path(self._dir.name) / "failures.parquet"
        self.ceiling = ceiling
        self.rows = 0
        self._writer: pq.ParquetWriter | None = None

    def __call__(self, table: pa.Table) -> None:
        self.rows += table.num_rows
        if self.ceiling is not None and self.rows * BYTES_PER_FAILURE > self.ceiling:
            raise MemoryCeilingError(
                f"stopped after {self.rows} failures: working on them would need more than the memory ceiling "
                f"of {self.ceiling >> 20} MiB (about {BYTES_PER_FAILURE} bytes a failure)",
                hint="report on less at a time (--since/--until), or fill a store with `logscan scan --store DIR` "
                     "and report from it per --period, or raise --max-memory if the machine has the room")
        plain = schema.plain_arrow_schema()
        table = table.cast(pa.schema([plain.field(f.name) for f in table.schema]))
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, plain, compression="lz4")
        self._writer.write_table(table.select(plain.names) if table.schema.names != plain.names else table)

    def source(self) -> Source:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
            return Source([self.path])
        return Source([])

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self._dir.cleanup()

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
