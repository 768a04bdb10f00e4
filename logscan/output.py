"""Writing the failure table: Parquet, CSV or JSON lines, chosen by the file's extension."""

from __future__ import annotations

import os
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


def write_table(table: pa.Table, path: Path, force: bool = False) -> None:
    kind = check_writable(path, force)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        if kind == "parquet":
            pq.write_table(table.cast(schema.arrow_schema()), tmp, compression="zstd")
        elif kind == "csv":
            pacsv.write_csv(table, tmp)
        else:
            df = table.to_pandas()
            df.to_json(tmp, orient="records", lines=True, date_format="iso", date_unit="us", force_ascii=False)
        os.replace(tmp, path)  # a reader never sees half a file
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc}") from exc
    finally:
        if tmp.exists():
            tmp.unlink()


def read_table(path: Path) -> pa.Table:
    return pq.read_table(path)
