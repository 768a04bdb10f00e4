"""Writing the failure table: Parquet, CSV or JSON lines, chosen by the file's extension."""

from __future__ import annotations

import errno
import json
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import OutputError

if TYPE_CHECKING:
    import pyarrow as pa
# pyarrow is imported where rows are written: probe_folder runs in `scan --store` runs that have
# nothing new to read and must not pay for loading it.

FORMATS = {".parquet": "parquet", ".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def check_writable(path: Path, force: bool, option: str = "--output") -> str:
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise OutputError(f"cannot tell the output format of {option} {path}",
                          hint="end the name with .parquet, .csv or .jsonl")
    if path.is_dir():
        raise OutputError(f"{option} {path} is a folder", hint="give a file name, e.g. failures.parquet")
    if path.exists() and not force:
        raise OutputError(f"{path} exists; not overwriting it", hint="pass --force to replace it")
    parent = path.parent
    if not parent.exists():
        _check_ancestors(parent, option, path)
        raise OutputError(f"cannot write {option} {path}: folder {parent} does not exist",
                          hint="create it first, or choose a path in an existing folder")
    _check_ancestors(parent, option, path)
    return kind


def _check_ancestors(folder: Path, option: str, target: Path) -> Path:
    """The nearest existing folder at or above `folder`; OutputError when that is not a folder."""
    here = folder
    while not here.exists() and here != here.parent:
        here = here.parent
    if not here.is_dir():
        raise OutputError(f"cannot write {option} {target}: {here} is a file, not a folder",
                          hint="choose a path whose folders are folders")
    return here


def probe_folder(folder: Path, option: str) -> None:
    """Before a long scan: can a file be created in `folder` (or, when it does not exist yet, in
    the nearest folder above it, where it would be created)? OutputError naming the user's path
    and what to do if not. Nothing is left behind."""
    here = _check_ancestors(folder, option, folder)
    try:
        fd, probe = tempfile.mkstemp(prefix=".logscan-probe-", dir=here)
    except OSError as exc:
        where = "" if here == folder else f" (it would be created in {here})"
        raise OutputError(f"cannot write {option} {folder}{where}: {_why(exc)}",
                          hint=_what_to_do(exc)) from None
    os.close(fd)
    os.unlink(probe)


def _why(exc: BaseException) -> str:
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)


def _what_to_do(exc: BaseException) -> str:
    code = getattr(exc, "errno", None)
    if code == errno.EROFS:
        return "that file system is read-only: choose a folder on a writable one"
    if code in (errno.EACCES, errno.EPERM):
        return "run as a user who may write there, or choose another folder"
    if code == errno.ENOSPC:
        return "free some space there, or choose another folder"
    return "choose a folder you can write to"


class TableWriter:
    """Writes failure tables batch by batch to .parquet, .csv or .jsonl, atomically: the rows go to a
    hidden temporary file that replaces `path` only when close() is reached without error."""

    def __init__(self, path: Path, force: bool = False, option: str = "--output"):
        self.kind = check_writable(path, force, option)
        self.path = path
        self.option = option
        self.tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        self.rows = 0
        self._writer = None
        self._fh = None
        try:  # created now, before any scan: a folder we cannot write to is said at once
            os.close(os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
        except OSError as exc:
            raise self._error(exc) from None

    def _error(self, exc: BaseException) -> OutputError:
        """The user's path and what to do; never the name of the temporary file."""
        why = _why(exc).replace(str(self.tmp), str(self.path)).replace(self.tmp.name, self.path.name)
        return OutputError(f"cannot write {self.option} {self.path}: {why}", hint=_what_to_do(exc))

    def write(self, table: pa.Table) -> None:
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        from . import schema

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
            raise self._error(exc) from exc
        self.rows += table.num_rows

    def close(self) -> None:
        try:
            if self._writer is None and self._fh is None:
                from . import schema

                self.write(schema.plain_arrow_schema().empty_table())  # an empty result is a valid file
            if self._writer is not None:
                self._writer.close()
            if self._fh is not None:
                self._fh.close()
            os.replace(self.tmp, self.path)  # a reader never sees half a file
        except OSError as exc:
            raise self._error(exc) from exc
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
