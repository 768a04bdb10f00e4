"""--redact / --redact-ips: no local part (or IP) of the logs survives anywhere in the output, the
same address gets the same pseudonym everywhere, domains stay."""

from __future__ import annotations

import json
import re

import pyarrow.parquet as pq
import pytest
from reportdata import failures_on, files_covering

from logscan.engine import load_categories
from logscan.reports.build import ReportOptions, build_reports
from logscan.reports.redact import Redactor

DAYS = {"2026-11-02": ["rate_limited", "auth_failed", "blocklisted", "recipient_unknown"],
        "2026-11-03": ["rate_limited", "auth_failed", "mailbox_full"]}
ADDRESS = re.compile(r"([A-Za-z0-9._%+-]+)@([A-Za-z0-9.-]+\.[a-z]{2,})")


def test_redactor_is_consistent_and_keeps_domains():
    r = Redactor(ips=True, key=b"fixed")
    a = r.text("from=<Alice@example.com> to=<bob@example.org> [192.0.2.1] at 20:37:11")
    b = r.text("sasl_username=alice@example.com client=[192.0.2.1]")
    alice = r.local("alice")
    assert f"{alice}@example.com" in a and f"{alice}@example.com" in b  # case-insensitive, consistent
    assert "bob" not in a and "@example.org" in a and "192.0.2.1" not in a + b and "20:37:11" in a
    assert r._token("ip", "192.0.2.1") in a and r._token("ip", "192.0.2.1") in b
    assert r.account("alice") == alice  # a bare SASL name is all local part
    assert Redactor(key=b"other").local("alice") != alice  # per-run key: not a dictionary lookup


def test_quoted_local_parts_are_pseudonymized_whole():
    r = Redactor(key=b"fixed")
    quoted = r.text('verify fail for <"jules@box3.example"@plc.example>: and "a b"@example.com')
    assert "jules" not in quoted and "box3" not in quoted and '"a b"' not in quoted
    assert f"<{r.local(chr(34) + 'jules@box3.example' + chr(34))}@plc.example>" in quoted
    assert r.text('say "hi" to bob@example.org') == f'say "hi" to {r.local("bob")}@example.org'


def test_quoted_local_part_in_exim_corpus_line():
    from conftest import CORPORA

    log = CORPORA / "exim" / "log" / "0014"
    if not log.exists():
        pytest.skip("../shared/corpora not present")
    line = next(x for x in log.read_text().splitlines() if '<"jules@' in x)
    out = Redactor(key=b"fixed").text(line)
    assert "jules" not in out and "box3" not in out and "@plc.example>" in out


def _all_output(folder) -> str:
    texts = [p.read_text().replace("<wbr>", "") for p in folder.rglob("*") if p.suffix in (".html", ".csv", ".json")]
    for p in folder.rglob("failures.parquet"):
        texts.append(json.dumps(pq.read_table(p).to_pylist(), default=str))
    return "\n".join(texts)


@pytest.mark.parametrize("ips", [False, True])
def test_redacted_reports_leak_no_local_part(tmp_path, ips):
    table = failures_on(DAYS)
    df = table.to_pandas()
    originals = set()
    for col in ("sender", "recipient", "sasl_username", "diagnostic", "line"):
        for value in df[col].dropna().astype(str):
            originals |= {m.group(1) for m in ADDRESS.finditer(value)}
    originals -= {""}
    assert len(originals) > 5
    build_reports(table, files_covering("2026-11-02", "2026-11-03"), [], tmp_path,
                  ReportOptions(period="day", redact=True, redact_ips=ips), load_categories())
    out = _all_output(tmp_path)
    locals_out = {m.group(1) for m in ADDRESS.finditer(out)}
    leaked = {x for x in originals if x in locals_out}
    assert not leaked
    ours = {m.group(1) for c in load_categories().values() for step in c.remediation  # e.g. you@example.com
            for m in ADDRESS.finditer(step)}
    assert not originals & ours
    foreign = sorted(x for x in locals_out - ours if not x.startswith("user-"))
    assert not foreign
    domains = {m.group(2) for m in ADDRESS.finditer(out)}
    assert "example.com" in domains  # domains kept
    ip_seen = re.search(r"(?<![\d.])127\.0\.0\.1(?![\d])", out)
    assert (ip_seen is None) == ips

    # The same sender has the same pseudonym on both days and in every output.
    day1 = json.loads((tmp_path / "2026-11-02" / "problems.json").read_text())
    day2 = pq.read_table(tmp_path / "2026-11-03" / "failures.parquet").to_pandas()
    senders1 = set(pq.read_table(tmp_path / "2026-11-02" / "failures.parquet").column("sender").to_pylist())
    assert senders1 & set(day2["sender"]), "a sender of both days keeps one pseudonym"
    assert any(s in (tmp_path / "2026-11-02" / "index.html").read_text().replace("<wbr>", "") for s in senders1 if s)
    assert day1
