"""Reports built batch by batch from Parquet (reports/stream.py: a scan's spool, a store) are the
same as reports built from the failure table held in memory: every page (the generation time
masked), every problems.csv/.json and every failures.parquet, on sample_logs, on the corpora and
on a generated log of several hosts read from a store."""

from __future__ import annotations

import functools
import re
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from logscan.api import store_source
from logscan.cli import app
from logscan.engine import load_categories
from logscan.pipeline import ScanOptions, scan
from logscan.reports import build
from logscan.reports.build import ReportOptions, build_reports, build_streamed, file_rows
from logscan.reports.periods import parse_when
from logscan.reports.redact import Redactor
from logscan.reports.stream import Spool
from logscan.store import read_failures

from conftest import CORPORA, REPO

GENERATED = re.compile(r"Generated [^<]*? by logscan|生成[^<]*")


def _same_reports(a: Path, b: Path) -> int:
    """Every file of report folder a equals its twin in b; returns the number of files compared."""
    names = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    for name in names:
        if name.suffix == ".parquet":
            x, y = pq.read_table(a / name), pq.read_table(b / name)
            assert x.schema.equals(y.schema) and x.to_pandas().equals(y.to_pandas()), name
        elif name.suffix == ".html":
            x, y = (GENERATED.sub("", (d / name).read_text()) for d in (a, b))
            assert x == y, name
        else:
            assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert any(n.suffix == ".html" for n in names)
    return len(names)


def _fixed_key(monkeypatch) -> None:
    """--redact's key is made per run: both builds get one key, so their pseudonyms agree."""
    monkeypatch.setattr(build, "Redactor", functools.partial(Redactor, key=b"k" * 32))


def _both_ways(result, tmp_path: Path, opts: dict) -> int:
    files = file_rows(result.files)
    skipped = [{"path": k.path, "reason": k.reason} for k in result.skipped]
    cats = load_categories()
    build_reports(result.table, files, skipped, tmp_path / "held", ReportOptions(**opts), cats)
    with Spool() as spool:
        for batch in result.table.to_batches(max_chunksize=300):  # several batches
            spool(__import__("pyarrow").Table.from_batches([batch]))
        build_streamed(spool.source(), files, skipped, tmp_path / "streamed", ReportOptions(**opts), cats)
    return _same_reports(tmp_path / "held", tmp_path / "streamed")


OPTIONS = [{}, {"period": "day"}, {"period": "week", "lang": "zh", "redact": True, "redact_ips": True},
           {"period": "day", "since": parse_when("2026-11-27", "--since"), "until": parse_when("2026-11-28", "--until", end=True)}]


@pytest.fixture(scope="module")
def sample_scan():
    return scan([str(REPO / "sample_logs")], ScanOptions(workers=1))


@pytest.mark.slow
@pytest.mark.parametrize("opts", OPTIONS, ids=["all", "day", "week-zh-redact", "window"])
def test_streamed_report_of_sample_logs_is_the_held_one(tmp_path, monkeypatch, opts, sample_scan):
    _fixed_key(monkeypatch)
    assert sample_scan.table.num_rows > 1000
    assert _both_ways(sample_scan, tmp_path, opts) >= 4


@pytest.mark.slow
@pytest.mark.parametrize("corpus", ["exim", "lightmeter"])
def test_streamed_report_of_the_corpora_is_the_held_one(tmp_path, monkeypatch, corpus):
    if not (CORPORA / corpus).exists():
        pytest.skip(f"../shared/corpora/{corpus} not present")
    _fixed_key(monkeypatch)
    result = scan([str(CORPORA / corpus)], ScanOptions(workers=1))
    if result.table.num_rows == 0:
        pytest.skip(f"no failure in {corpus}")
    _both_ways(result, tmp_path, {"period": "month", "redact": True})


GENLOG = REPO.parent.parent / "shared" / "bench" / "genlog.py"


def _host_log(path: Path, host: str, seed: int) -> Path:
    genlog = GENLOG if GENLOG.exists() else Path("/work/shared/bench/genlog.py")
    if not genlog.exists():
        pytest.skip("../shared/bench/genlog.py not present")
    text = subprocess.run([sys.executable, str(genlog), "postfix", "--mb", "0.5", "--seed", str(seed)],
                          capture_output=True, text=True, check=True).stdout
    path.write_text(text.replace(" mx1 postfix/", f" {host} postfix/"))
    return path


@pytest.mark.slow
def test_streamed_report_of_a_store_of_several_hosts_is_the_held_one(tmp_path, monkeypatch):
    _fixed_key(monkeypatch)
    logs = tmp_path / "logs"
    logs.mkdir()
    for i, host in enumerate(("mx1", "mx2", "relay3")):
        _host_log(logs / f"{host}.log", host, i + 1)
    store = tmp_path / "store"
    r = CliRunner().invoke(app, ["scan", str(logs), "--store", str(store)])
    assert r.exit_code == 0, r.output
    cats = load_categories()
    for name, opts in (("day", {"period": "day", "redact": True}),
                       ("window", {"since": parse_when("2026-11-01T00:10", "--since")})):
        o = ReportOptions(**opts)
        held = read_failures(store, o.since, o.until)
        assert set(held.table.column("host").to_pylist()) == {"mx1", "mx2", "relay3"}
        source, files, skipped, _ = store_source(store, o)
        build_reports(held.table, files, skipped, tmp_path / name / "held", ReportOptions(**opts), cats)
        build_streamed(source, files, skipped, tmp_path / name / "streamed", ReportOptions(**opts), cats)
        _same_reports(tmp_path / name / "held", tmp_path / name / "streamed")


def test_the_report_command_reads_a_store_laid_out_by_host_and_day(tmp_path):
    """host=/day= folders (the layout of a store of many hosts): a column the files lack is read
    from the folder names (hive partitioning)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from logscan import schema
    from logscan.reports.stream import Source

    table = scan([str(REPO / "sample_logs" / "postfix")], ScanOptions(workers=1)).table
    table = table.cast(schema.plain_arrow_schema())
    for i, host in enumerate(("a", "b")):
        folder = tmp_path / f"host={host}" / "day=2026-11-27"
        folder.mkdir(parents=True)
        part = table.slice(i * 10, 10)
        pq.write_table(part.drop_columns(["host"]), folder / "part-0.parquet")
    source = Source(sorted(tmp_path.rglob("*.parquet")), root=tmp_path)
    got = pa.Table.from_batches(list(source.batches(("host", "recipient"))))
    assert got.column("host").to_pylist() == ["a"] * 10 + ["b"] * 10
    assert got.column("recipient").to_pylist() == pc.fill_null(table.column("recipient").slice(0, 20), None).to_pylist()
