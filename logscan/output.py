"""Writing the failure table: Parquet, CSV or JSON lines, chosen by the file's extension."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from . import schema
from .errors import OutputError

FORMATS = {".parquet": "parquet", ".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def check_writable(path: Path, force: bool) -> str:
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise OutputError(f"cannot tell the output format of {path}",
                          hint="end the name with .parquet, .csv or .jsonl")
    if path.exists() and not force:
        raise OutputError(f"{path} exists; not overwriting it", hint="pass --force to replace it")
    if not path.parent.exists():
        raise OutputError(f"folder {path.parent} does not exist", hint="create it first")
    return kind


class TableWriter:
    """Writes failure tables batch by batch to .parquet, .csv or .jsonl, atomically: the rows go to a
    hidden temporary file that replaces `path` only when close() is reached without error."""

    def __init__(self, path: Path, force: bool = False):
        self.kind = check_writable(path, force)
        self.path = path
        self.tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        self.rows = 0
        self._writer = None
        self._fh = None

    def write(self, table: pa.Table) -> None:
        try:
            if self.kind == "parquet":
                table = table.cast(schema.arrow_schema())
                if self._writer is None:
                    self._writer = pq.ParquetWriter(self.tmp, table.schema, compression="zstd")
                self._writer.write_table(table)
            elif self.kind == "csv":
                if self._writer is None:
                    self._writer = pacsv.CSVWriter(str(self.tmp), table.schema)
                self._writer.write_table(table)
            else:
                if self._fh is None:
                    self._fh = open(self.tmp, "w", encoding="utf-8")
                for row in table.to_pylist():
                    self._fh.write(json.dumps(row, ensure_ascii=False, default=_json_default) + "\n")
        except OSError as exc:
            self.abort()
            raise OutputError(f"cannot write {self.path}: {exc}") from exc
        self.rows += table.num_rows

    def close(self) -> None:
        try:
            if self._writer is None and self._fh is None:
                self.write(schema.plain_arrow_schema().empty_table())  # an empty result is a valid file
            if self._writer is not None:
                self._writer.close()
            if self._fh is not None:
                self._fh.close()
            os.replace(self.tmp, self.path)  # a reader never sees half a file
        except OSError as exc:
            raise OutputError(f"cannot write {self.path}: {exc}") from exc
        finally:
            self.abort()

    def abort(self) -> None:
        if self.tmp.exists():
            self.tmp.unlink()

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def _json_default(value):
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def write_table(table: pa.Table, path: Path, force: bool = False) -> None:
    with TableWriter(path, force) as w:
        w.write(table)
