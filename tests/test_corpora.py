"""Real lines from public projects (../shared/corpora, read in place, never copied here).

Reports and asserts: every Postfix failure line of fail2ban's postfix.log and of Lightmeter's logs
becomes a failure row or is deliberately ignored with a stated reason; and on the Logstash
postfix-grok-patterns cases for smtp, lmtp, error, qmgr and smtpd, the fields logscan extracts agree
with the expected ones. Run with -s to see the printed agreement.
"""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from logscan.parsers.postfix import DELIVERY, PARSER, explain_status_text
from logscan.pipeline import ScanOptions, scan
from logscan.smtp import host_ip_port

from conftest import make_context

pytestmark = pytest.mark.slow

# What a person reading the log would call a failure line: an independent oracle, not the parser.
FAILURE_LOOKING = re.compile(
    r"status=(?!sent\b|deliverable\b)\S|reject(?:_warning)?: |authentication failed|fatal: |panic: |error: |"
    r"SSL_accept error|lost connection with|timed out while|Connection refused|Connection timed out|"
    r"No route to host|Network is unreachable|TLS is required|certificate verification failed|warning: "
)


def _postfix_lines(path):
    with open(path, encoding="utf-8", errors="replace") as fh:
        for n, line in enumerate(fh, 1):
            line = line.rstrip("\n")
            if line and not line.startswith("#") and re.search(r" postfix[^ ]*(?:\[\d+\])?: ", line):
                yield n, line


def _one(line):
    ctx = make_context()
    PARSER.parse([line], 1, ctx, PARSER.new_state())
    return ctx


def _corpus_files(corpora):
    files = [corpora / "fail2ban" / "postfix.log"]
    files += sorted((corpora / "lightmeter").rglob("*"))
    return [f for f in files if f.is_file() and not f.name.startswith("unsupported_")]


def test_every_failure_line_is_a_row_or_ignored_with_a_reason(corpora):
    total = Counter()
    misses = []
    for path in _corpus_files(corpora):
        for n, line in _postfix_lines(path):
            if not FAILURE_LOOKING.search(line):
                continue
            ctx = _one(line)
            total["failure-looking lines"] += 1
            if ctx.rows:
                total["rows"] += 1
            elif sum(ctx.stats.ignored_reasons.values()):
                total["ignored with a stated reason"] += 1
            else:
                misses.append(f"{path.relative_to(corpora)}:{n}: {line[:160]}")
    print("\nfail2ban + Lightmeter Postfix lines:", dict(total))
    for m in misses:
        print("  MISSED", m)
    assert total["failure-looking lines"] > 100
    assert misses == []


def test_unparsed_counts_per_corpus_file(corpora):
    print()
    for path in _corpus_files(corpora):
        r = scan([str(path)], ScanOptions(forced_format="postfix", workers=1))
        f = r.files[0]
        print(f"  {path.relative_to(corpora)}: {f.lines} lines, {f.failures} failures, {f.ignored} ignored, "
              f"{f.unparsed} unparsed")
        # fail2ban's test file has '# failJSON' comments and blank lines; one Lightmeter file has a
        # line broken in two by the logger (18_expired.log:28). Nothing else may be unparsed.
        comments = sum(1 for x in open(path, errors="replace") if x.startswith("#"))
        allowed = comments + (1 if path.name == "18_expired.log" else 0)
        assert f.unparsed <= allowed, f.unparsed_examples


GROK_DAEMONS = {"POSTFIX_SMTP": "smtp", "POSTFIX_LMTP": "lmtp", "POSTFIX_ERROR": "error",
                "POSTFIX_QMGR": "qmgr", "POSTFIX_SMTPD": "smtpd"}


def _extract(line):
    """The fields logscan reads from a line: its failure row, and for delivery status lines (also
    status=sent, which makes no row) the status parse the failure path uses, with the status text
    whole (the row's diagnostic drops Postfix's "host X said:" and "(in reply to ...)" around it)."""
    ctx = _one(line)
    got = dict(ctx.rows[0]) if ctx.rows else {}
    if got:
        got["status"] = None if got["event"] == "rejected" else got["event"]
    msg = line.split("]: ", 1)[1]
    qid, _, rest = msg.partition(": ")
    d = DELIVERY.match(rest)
    if d:
        ex = explain_status_text(d.group("text") or "")
        h, ip, port = host_ip_port(d.group("relay"))
        got.update(queue_id=qid, relay_host=h, relay_ip=ip, relay_port=port, status=d.group("status"),
                   enhanced_status=d.group("dsn"), diagnostic=d.group("text"), smtp_stage=ex.get("smtp_stage"))
    return got, ctx


def test_grok_pattern_cases_agree(corpora):
    compared, agreed, differ = Counter(), Counter(), []
    for raw in open(corpora / "postfix-grok-patterns" / "cases.jsonl"):
        case = json.loads(raw)
        daemon = GROK_DAEMONS.get(case["pattern"])
        if not daemon or "\n" in case["data"]:
            continue
        line = f"Nov 27 12:00:00 mx1 postfix/{daemon}[123]: {case['data']}"
        got, ctx = _extract(line)
        assert ctx.stats.unparsed == 0, line
        want = case["results"]
        checks = {
            "queue id": (want.get("postfix_queueid"), got.get("queue_id") or ("NOQUEUE" if got else None)),
            "relay host": (want.get("postfix_relay_hostname"), got.get("relay_host")),
            "relay ip": (want.get("postfix_relay_ip"), got.get("relay_ip")),
            "relay port": (want.get("postfix_relay_port"), got.get("relay_port")),
            "client ip": (want.get("postfix_client_ip"), got.get("client_ip")),
            "dsn": (re.search(r"dsn=([\d.]+)", want.get("postfix_keyvalue_data", "")) and
                    re.search(r"dsn=([\d.]+)", want["postfix_keyvalue_data"]).group(1)
                    or want.get("postfix_status_code_enhanced"), got.get("enhanced_status")),
            "status": (want.get("postfix_status"), got.get("status")),
            "response": (want.get("postfix_smtp_response"), got.get("diagnostic")),
            "stage": (want.get("postfix_smtp_stage"), got.get("smtp_stage")),
        }
        for field, (w, g) in checks.items():
            if w is None or not got:
                continue
            compared[field] += 1
            if str(w).strip() == str(g).strip():
                agreed[field] += 1
            else:
                differ.append(f"{case['file']} {field}: expected {w!r}, logscan {g!r}")
    print("\npostfix-grok-patterns agreement (smtp, lmtp, error, qmgr, smtpd):")
    for field in compared:
        print(f"  {field:<11} {agreed[field]:>3}/{compared[field]}")
    for d in differ:
        print("  DIFF", d)
    assert sum(compared.values()) >= 75
    assert differ == []
