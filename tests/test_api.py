"""The Python API as a user calls it: `import logscan`, then scan, classify, read_store, report."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timezone

import pyarrow as pa
import pytest
from typer.testing import CliRunner

import logscan
from logscan.cli import app
from logscan.errors import NoInputError, OutputError, UsageError

from conftest import REPO

SAMPLES = REPO / "sample_logs"


def test_import_logscan_loads_neither_pyarrow_nor_pandas():
    code = "import sys, logscan; print('pyarrow' in sys.modules, 'pandas' in sys.modules, callable(logscan.classify))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False", "True"]


def test_scan_returns_the_same_table_as_the_cli(tmp_path):
    table = logscan.scan([SAMPLES / "postfix"])
    assert isinstance(table, pa.Table) and table.num_rows > 0
    df = table.to_pandas()
    assert {"time", "category", "rule_id", "recipient_domain", "diagnostic"} <= set(df.columns)
    out = tmp_path / "f.parquet"
    assert CliRunner().invoke(app, ["scan", str(SAMPLES / "postfix"), "--output", str(out), "--quiet"]).exit_code == 0
    import pyarrow.parquet as pq

    cli = pq.read_table(out)
    assert sorted(cli.column("line_no").to_pylist()) == sorted(table.column("line_no").to_pylist())
    assert sorted(cli.column("category").to_pylist()) == sorted(table.column("category").to_pylist())


def test_scan_with_stats_counts_every_line():
    result = logscan.scan_with_stats([SAMPLES / "exim"], workers=1)
    t = result.totals
    assert t["lines"] == t["failures"] + t["ignored"] + t["unparsed"] and t["failures"] == result.table.num_rows


def test_scan_errors_are_logscan_errors(tmp_path):
    with pytest.raises(NoInputError) as e:
        logscan.scan([tmp_path])
    assert e.value.exit_code == 3 and e.value.hint
    with pytest.raises(UsageError):
        logscan.scan([SAMPLES], workers=0)


def test_classify_gives_category_evidence_and_steps():
    c = logscan.classify("535 5.7.8 Username and Password not accepted", relay_host="smtp.gmail.com")
    assert c.category == "auth_failed" and c.rule_id and c.evidence and c.remediation
    assert c.direction == "outbound" and c.title
    zh = logscan.classify("535 5.7.8 Username and Password not accepted", lang="zh")
    assert zh.category == c.category and zh.title != c.title
    unknown = logscan.classify("something happened")
    assert unknown.category == "unknown" and unknown.rule_id == ""
    expired = logscan.classify("message expired in the queue; last deferral: connect to mx.example.net[192.0.2.1]:25: "
                               "Connection refused", event="expired")
    assert expired.category == "expired" and expired.last_deferral.category == "connection_refused"
    with pytest.raises(UsageError):
        logscan.classify("x", source="no-such-format")


def test_classify_agrees_with_the_cli():
    text = "550 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org"
    out = CliRunner().invoke(app, ["classify", text]).stdout
    c = logscan.classify(text)
    assert f"category: {c.category} " in out and f"rule:     {c.rule_id}" in out


def test_read_store_and_report(tmp_path):
    store = tmp_path / "store"
    assert CliRunner().invoke(app, ["scan", str(SAMPLES / "postfix"), "--store", str(store), "--quiet"]).exit_code == 0
    stored = logscan.read_store(store)
    assert stored.num_rows == logscan.scan([SAMPLES / "postfix"]).num_rows
    assert logscan.read_store(store, since="2100-01-01").num_rows == 0
    assert logscan.read_store(store, until=datetime(2000, 1, 1, tzinfo=timezone.utc)).num_rows == 0
    with pytest.raises(UsageError):
        logscan.read_store(store, since=datetime(2026, 1, 1))  # naive: which zone?
    page = logscan.report(store, tmp_path / "from-store")
    assert page.name == "index.html" and page.exists()
    page = logscan.report(logscan.scan_with_stats([SAMPLES / "postfix"]), tmp_path / "daily", period="day")
    assert page.exists() and any((tmp_path / "daily").glob("2026-*/index.html"))
    page = logscan.report(stored.to_pandas(), tmp_path / "from-frame")
    assert page.exists()
    with pytest.raises(OutputError):
        logscan.report(stored, tmp_path / "from-frame")
    assert logscan.report(stored, tmp_path / "from-frame", force=True).exists()


def test_the_api_is_documented():
    doc = logscan.__doc__
    for name in logscan.__all__:
        assert name in doc or name == "Classification"
        assert getattr(logscan, name).__doc__
    readme = (REPO / "README.md").read_text()
    assert "import logscan" in readme and "logscan.scan(" in readme
