"""A large file is parsed in byte ranges by several processes; the result must equal one pass
(up to row order), and streamed output must hold exactly the rows of an in-memory scan."""

from __future__ import annotations

import pytest

from logscan import pipeline
from logscan.pipeline import ScanOptions, scan

from conftest import SAMPLE_LOGS


@pytest.mark.slow
def test_split_scan_equals_single_pass(tmp_path, monkeypatch):
    # The bundled run written 8 times over, with distinct queue ids per copy, as one plain file.
    import gzip
    src = SAMPLE_LOGS / "postfix"
    text = gzip.decompress((src / "mail.log.2.gz").read_bytes()).decode()
    text += (src / "mail.log.1").read_text() + (src / "mail.log").read_text()
    big = "".join(_renumber(text, k) for k in range(8))
    log = tmp_path / "mail.log"
    log.write_text(big)
    single = scan([str(log)], ScanOptions(workers=1))
    one = single.table
    monkeypatch.setattr(pipeline, "SPLIT_MIN_BYTES", 1000)
    monkeypatch.setattr(pipeline, "FLUSH_ROWS", 50)  # many batches per range
    # Rows a later range completes with earlier context come after that range's other rows.
    parallel = scan([str(log)], ScanOptions(workers=3))
    split = parallel.table.sort_by("line_no")
    assert parallel.files[0].deliveries == single.files[0].deliveries  # ranges' delivery counts add up
    assert sum(single.files[0].deliveries.values()) == big.count("status=sent ")
    cols = [c for c in one.column_names]
    assert one.num_rows == split.num_rows > 100
    a, b = one.select(cols).to_pylist(), split.select(cols).to_pylist()
    diffs = [(i, k, x[k], y[k]) for i, (x, y) in enumerate(zip(a, b, strict=True)) for k in cols if x[k] != y[k]]
    assert diffs == []


def _renumber(text: str, k: int) -> str:
    # Postfix queue ids here are 11 hex digits; a copy-number prefix keeps each copy's ids apart.
    import re
    return re.sub(r"\b([0-9A-F]{11})\b", lambda m: f"{k:X}{m.group(1)}", text)


def test_streamed_output_equals_collected_table(tmp_path, monkeypatch):
    from logscan.output import TableWriter

    monkeypatch.setattr(pipeline, "FLUSH_ROWS", 7)
    collected = scan([str(SAMPLE_LOGS)], ScanOptions(workers=1)).table
    out = tmp_path / "f.parquet"
    with TableWriter(out) as writer:
        scan([str(SAMPLE_LOGS)], ScanOptions(workers=1), sink=writer.write)
    import pyarrow.parquet as pq

    streamed = pq.read_table(out)
    assert streamed.num_rows == collected.num_rows == writer.rows > 100
    assert streamed.column("line").to_pylist() == collected.column("line").to_pylist()
    assert streamed.column("category").to_pylist() == collected.column("category").to_pylist()
