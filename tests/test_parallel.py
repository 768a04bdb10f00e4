"""A large file is parsed in byte ranges by several processes; the result must equal one pass
(up to row order), and streamed output must hold exactly the rows of an in-memory scan."""

from __future__ import annotations

import pytest

from logscan import pipeline
from logscan.pipeline import ScanOptions, scan

from conftest import SAMPLE_LOGS


@pytest.fixture(autouse=True)
def _python_engine(monkeypatch):
    """The byte-range split is the Python reference's (the compiled Postfix core reads a file whole)."""
    monkeypatch.setenv("LOGSCAN_ENGINE", "python")


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


def _rotated_set(folder, copies: int = 3):
    """A rotated Postfix set (oldest first: mail.log.2.gz, mail.log.1, mail.log), each file the
    bundled run written `copies` times with its own queue ids, so context crosses files."""
    import gzip
    src = SAMPLE_LOGS / "postfix"
    text = gzip.decompress((src / "mail.log.2.gz").read_bytes()).decode()
    text += (src / "mail.log.1").read_text() + (src / "mail.log").read_text()
    folder.mkdir()
    parts = ["".join(_renumber(text, k) for k in range(n * copies, (n + 1) * copies)) for n in range(3)]
    (folder / "mail.log.2.gz").write_bytes(gzip.compress(parts[0].encode()))
    (folder / "mail.log.1").write_text(parts[1])
    (folder / "mail.log").write_text(parts[2])
    return folder


def test_separate_files_parse_in_parallel_as_one_pass(tmp_path, monkeypatch):
    """Files of one format are shared out to the workers (a large plain one cut in ranges); their
    rows are signed and classified there: rows, per-file line accounting, deliveries and the
    engine's counts equal one pass, and the progress callback is told every byte of every file."""
    logs = _rotated_set(tmp_path / "logs")
    single = scan([str(logs)], ScanOptions(workers=1))
    monkeypatch.setattr(pipeline, "SPLIT_MIN_BYTES", 1000)
    monkeypatch.setattr(pipeline, "FLUSH_ROWS", 50)
    seen = []
    shares = []
    real_shares = pipeline._shares
    monkeypatch.setattr(pipeline, "_shares", lambda segs, n: shares.append(real_shares(segs, n)) or shares[-1])
    parallel = scan([str(logs)], ScanOptions(workers=3), progress=seen.append)
    assert len(shares[0]) == 3 and any(s.first_line == 0 for share in shares[0] for s in share)  # a file was cut
    assert sum(seen) == sum(p.stat().st_size for p in logs.iterdir())
    assert [f.as_dict() for f in parallel.files] == [f.as_dict() for f in single.files]
    assert [f.deliveries for f in parallel.files] == [f.deliveries for f in single.files]
    assert parallel.engine_stats == single.engine_stats
    key = ["source_file", "line_no", "queue_id"]
    one, split = single.table.sort_by([(k, "ascending") for k in key]), parallel.table.sort_by(
        [(k, "ascending") for k in key])
    assert one.num_rows > 300 and one.to_pylist() == split.to_pylist()
