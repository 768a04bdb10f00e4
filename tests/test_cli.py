"""The command line as a user meets it: outputs, messages, exit codes, the report."""

from __future__ import annotations

import json
import re

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from logscan.cli import app

from conftest import REPO, SAMPLE_LOGS

runner = CliRunner()
CLEAN = SAMPLE_LOGS / "postfix" / "clean"


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.mark.parametrize("kind,files", [("postfix", 5), ("exim", 5), ("msmtp", 1), ("smtplib", 1), ("phpmailer", 12),
                                             ("nodemailer", 1), ("javamail", 1), ("rubysmtp", 1), ("gosmtp", 1),
                                             ("symfony", 2), ("dotnet", 1)])
def test_scan_summary_on_bundled_samples(kind, files):
    r = run("scan", SAMPLE_LOGS / kind)
    assert r.exit_code == 0, r.output
    assert re.search(rf"^\d+ lines read in {files} file\(s\): \d+ failures, \d+ ignored, 0 unparsed\.$", r.stdout, re.M)
    assert "Failures by root cause:" in r.stdout and "Top recurring problems" in r.stdout
    assert f"({kind})" in r.stdout
    assert "skipped" in r.stdout and "README.md" in r.stdout  # the skipped file is named, with why


@pytest.mark.parametrize("folder", [CLEAN, SAMPLE_LOGS / "exim" / "clean"])
def test_clean_log_yields_zero_failures(folder):
    r = run("scan", folder)
    assert r.exit_code == 0, r.output
    assert re.search(r"^\d+ lines read in 1 file\(s\): 0 failures, \d+ ignored, 0 unparsed\.$", r.stdout, re.M)


@pytest.mark.parametrize("ext", ["parquet", "csv", "jsonl"])
def test_output_formats(tmp_path, ext):
    out = tmp_path / f"f.{ext}"
    r = run("scan", SAMPLE_LOGS, "--output", out, "--quiet")
    assert r.exit_code == 0 and r.stdout == ""
    if ext == "parquet":
        t = pq.read_table(out)
        assert t.num_rows > 100 and {"category", "rule_id", "signature", "line"} <= set(t.column_names)
        assert t.schema.field("time").type.tz == "UTC"
    elif ext == "jsonl":
        rows = [json.loads(x) for x in out.read_text().splitlines()]
        assert rows and all("category" in x for x in rows)
    else:
        assert out.read_text().splitlines()[0].startswith('"time"')


def test_never_overwrites_without_force(tmp_path):
    out = tmp_path / "f.parquet"
    out.write_text("precious")
    r = run("scan", CLEAN, "--output", out)
    assert r.exit_code == 4
    assert "Error:" in r.stderr and "--force" in r.stderr
    assert out.read_text() == "precious"
    assert run("scan", CLEAN, "--output", out, "--force").exit_code == 0


@pytest.mark.parametrize("args,code,words", [
    (["scan", "/nonexistent/mail.log"], 3, "no mail log to read"),
    (["scan", "{clean}", "--tz", "Mars/Base"], 2, "unknown time zone"),
    (["scan", "{clean}", "--format", "qmail"], 2, "unknown format"),
    (["scan", "{clean}", "--output", "x.xlsx"], 4, "cannot tell the output format"),
    (["rules", "show", "NOPE1"], 2, "no rule"),
])
def test_errors_are_clear_with_exit_codes(args, code, words):
    r = run(*[a.replace("{clean}", str(CLEAN)) for a in args])
    assert r.exit_code == code, r.output
    assert r.stderr.startswith("Error: ") and words in r.stderr
    assert "Traceback" not in r.output


def test_report_is_self_contained(tmp_path):
    r = run("report", SAMPLE_LOGS, "--out", tmp_path / "rep")
    assert r.exit_code == 0, r.output
    index = tmp_path / "rep" / "index.html"
    assert f"Report: {index.resolve()}" in r.stdout
    html = index.read_text()
    assert "What to fix first" in html and "Connection refused" in html
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html), "no external fetch"
    assert "<script" not in html
    assert "fill: #e69f00" in html.lower()  # the chart has bars (the first category's colour)
    assert pq.read_table(tmp_path / "rep" / "failures.parquet").num_rows > 100
    assert run("report", SAMPLE_LOGS, "--out", tmp_path / "rep").exit_code == 4  # no silent overwrite


PAYLOADS = ["</script><script>alert(1)</script>", "<img src=x onerror=alert(1)>", '"><svg onload=alert(1)>']


def test_log_text_is_inert_in_the_report(tmp_path):
    lines = []
    for i, p in enumerate(PAYLOADS):
        lines.append(
            f"Nov 27 10:00:0{i} mx1 postfix/smtp[1]: ABCDEF{i}: to=<x{i}@evil.example>, relay=mx.evil.example"
            f"[192.0.2.1]:25, delay=1, delays=0/0/0/1, dsn=5.7.1, status=bounced (host mx.evil.example[192.0.2.1] "
            f"said: 550 5.7.1 {p} (in reply to RCPT TO command))")
        lines.append(f"Nov 27 10:00:1{i} mx1 postfix/smtpd[2]: NOQUEUE: reject: RCPT from {p}[192.0.2.9]: "
                     f"554 5.7.1 <{p}@x>: Relay access denied; from=<{p}> to=<{p}@x> proto=ESMTP helo=<{p}>")
    log = tmp_path / "evil" / "mail.log"
    log.parent.mkdir()
    log.write_text("\n".join(lines) + "\n")
    r = run("report", log.parent, "--out", tmp_path / "rep")
    assert r.exit_code == 0, r.output
    html = (tmp_path / "rep" / "index.html").read_text().replace("<wbr>", "")  # wrap points (html.seps)
    for p in PAYLOADS:
        assert p not in html
    assert "<script" not in html and "<img" not in html
    assert html.count("<svg") == html.count('<svg xmlns:xlink="http://www.w3.org/1999/xlink" role="img" class="chart ')
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_classify_and_rules_commands():
    r = run("classify", "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org")
    assert r.exit_code == 0 and "category: blocklisted" in r.stdout and "rule:     BLK001" in r.stdout
    assert "what to do:" in r.stdout
    listed = run("rules", "list").stdout.splitlines()
    assert listed[0].split()[0] and any(x.startswith("REP001") for x in listed)
    shown = run("rules", "show", "REP001")
    assert shown.exit_code == 0 and "references:" in shown.stdout
    from logscan.parsers import REGISTRY

    listed = [x.split()[:2] for x in run("formats").stdout.splitlines()]
    assert listed == [[n, "server" if REGISTRY[n].traits.server else "client"] for n in sorted(REGISTRY)]
    assert len(listed) == 12 and sum(k == "server" for _, k in listed) == 3
    assert "| `category` |" in run("schema").stdout


def test_classify_reads_a_text_in_the_direction_given_or_inferred():
    # OTH002 holds for replies we got (outbound): auto reads a pasted reply so.
    r = run("classify", "451 4.3.0 Temporary server error. Please try again later")
    assert "rule:     OTH002" in r.stdout and "direction: outbound (auto)" in r.stdout
    assert "category: unknown" in run("classify", "--direction", "inbound",
                                      "451 4.3.0 Temporary server error. Please try again later").stdout
    # Exim's "Unrouteable address": a domain without route when sending, an unknown user when receiving.
    assert "rule:     EXI012" in run("classify", "--source", "exim", "Unrouteable address").stdout
    r = run("classify", "--source", "exim", "--direction", "inbound", "Unrouteable address")
    assert "rule:     EXI013" in r.stdout and "direction: inbound" in r.stdout
    assert run("classify", "--source", "qmail", "x").exit_code == 2
    assert run("classify", "--direction", "sideways", "x").exit_code == 2
    lines = '{"diagnostic": "Unrouteable address", "source": "exim"}\n{"diagnostic": "Unrouteable address", "direction": "outbound"}\n'
    out = [json.loads(x) for x in runner.invoke(app, ["classify", "--jsonl", "--direction", "inbound", "--source", "exim"],
                                                input=lines).stdout.splitlines()]
    assert [o["rule_id"] for o in out] == ["EXI013", "EXI012"]  # a line's own direction wins


def test_every_command_has_help_and_is_documented():
    readme = (REPO / "README.md").read_text()
    commands = ["scan", "report", "classify", "rules list", "rules show", "rules test", "formats", "schema"]
    for cmd in commands:
        r = run(*cmd.split(), "--help")
        assert r.exit_code == 0 and "Usage:" in r.stdout, cmd
        assert f"logscan {cmd}" in readme, f"README does not mention `logscan {cmd}`"


def test_remediation_code_spans_are_escaped_then_marked():
    from logscan.reports.html import codespans

    assert str(codespans("run `postconf -n` now")) == "run <code>postconf -n</code> now"
    assert str(codespans("`<script>`")) == "<code>&lt;script&gt;</code>"


def test_hostile_bytes_never_crash_a_scan(tmp_path):
    log = tmp_path / "mail.log"
    good = b"Nov 27 10:00:00 mx1 postfix/smtpd[2]: warning: unknown[192.0.2.1]: SASL LOGIN authentication failed: x\n"
    log.write_bytes(good + b"\xff\xfe\x00garbage \x00\x00\n" + b"Nov 27 10:00:01 " + b"A" * 200_000 + b"\n"
                    + b"no newline at the end \xc3")
    r = run("scan", log, "--format", "postfix")
    assert r.exit_code == 0, r.output
    assert "4 lines read in 1 file(s): 1 failures, 0 ignored, 3 unparsed." in r.stdout


def test_exim_rejectlog_and_paniclog_named_explicitly():
    exim = SAMPLE_LOGS / "exim"
    r = run("scan", exim / "rejectlog", exim / "paniclog")
    assert r.exit_code == 0, r.output
    assert "0 unparsed" in r.stdout.splitlines()[0]
    panic = [x for x in r.stdout.splitlines() if x.rstrip().endswith("paniclog (exim)")][0].split()
    assert panic[0] == panic[1]  # every paniclog entry is a failure (lines == failures)


def test_classify_and_rules_show_in_chinese():
    r = run("classify", "--lang", "zh", "550 5.1.1 <bob@example.org>: Recipient address rejected: User unknown")
    assert r.exit_code == 0 and "category: recipient_unknown (收件人地址不存在)" in r.stdout
    assert "处理步骤：" in r.stdout and "`virtual_mailbox_maps`" in r.stdout
    shown = run("rules", "show", "AUT003", "--lang", "zh")
    assert shown.exit_code == 0 and "授权码" in shown.stdout and "Set-CASMailbox" in shown.stdout
    assert run("classify", "--lang", "fr", "x").exit_code == 2


def test_every_category_is_translated_with_the_same_commands():
    from logscan.engine import load_categories

    for cat in load_categories().values():
        assert cat.translations.get("zh", {}).keys() == {"title", "description", "remediation"}, cat.id
        en, zh = cat.remediation, cat.text("remediation", "zh")
        assert len(en) == len(zh), cat.id
        for e, z in zip(en, zh, strict=True):
            spans_en, spans_zh = re.findall(r"`[^`]+`", e), re.findall(r"`[^`]+`", z)
            assert len(spans_en) == len(spans_zh), (cat.id, e, z)
            # the same commands and settings; only placeholders such as <our IP> are translated
            assert [s for s in spans_en if "<" not in s] == [s for s in spans_zh if "<" not in s], (cat.id, e, z)


def test_classify_jsonl_keeps_fields_adds_category_and_reports_bad_lines():
    lines = [
        json.dumps({"diagnostic": "550 5.1.1 <bob@example.org>: User unknown", "relay_host": "mx.example.org", "id": 1}),
        "not json at all",
        "",
        json.dumps({"diagnostic": "421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred", "smtp_code": "421"}),
        json.dumps({"smtp_code": 550}),
        json.dumps({"diagnostic": "250 2.0.0 ok"}),
    ]
    r = runner.invoke(app, ["classify", "--jsonl"], input="\n".join(lines) + "\n")
    assert r.exit_code == 7
    out = [json.loads(x) for x in r.stdout.splitlines()]
    assert [(o.get("id"), o["category"], o["rule_id"]) for o in out] == [
        (1, "recipient_unknown", "RCP001"), (None, "rate_limited", "YAH001"), (None, "unknown", None)]
    assert out[0]["relay_host"] == "mx.example.org" and out[1]["smtp_code"] == 421
    assert "line 2: not JSON" in r.stderr and "line 5: field 'diagnostic'" in r.stderr
    assert "2 bad line(s) skipped" in r.stderr
    assert runner.invoke(app, ["classify", "--jsonl"], input=lines[0] + "\n").exit_code == 0
    r = runner.invoke(app, ["classify", "--jsonl"], input=b'{"diagnostic": "550 \xff"}\n' + lines[0].encode() + b"\n")
    assert r.exit_code == 7 and "line 1: not UTF-8" in r.stderr and len(r.stdout.splitlines()) == 1
    assert run("classify").exit_code == 2  # neither TEXT nor --jsonl


def test_classify_names_the_last_deferral_of_an_expired_message():
    # Exim's line for a message that expired after deferrals (sample in parsers/exim.py)
    expired = {"diagnostic": "retry timeout exceeded; last deferral: Connection refused", "event": "expired",
               "source": "exim", "error_code": "111"}
    r = runner.invoke(app, ["classify", "--jsonl"], input=json.dumps(expired) + "\n")
    out = json.loads(r.stdout)
    assert (out["category"], out["last_deferral_category"]) == ("expired", "connection_refused")
    plain = runner.invoke(app, ["classify", "--jsonl"], input=json.dumps({"diagnostic": "550 5.1.1 unknown"}) + "\n")
    assert "last_deferral_category" not in json.loads(plain.stdout)


def test_classify_reads_the_stage_of_a_pasted_status_text():
    # Exim (../shared/corpora/exim/log/0217) and Postfix (sample_logs/postfix) status texts: the
    # command the reply answered decides when the reply names no reason.
    texts = ["SMTP error from remote mail server after RCPT TO:<n167@test.ex>: 550 NO",
             "SMTP error from remote mail server after pipelined MAIL FROM:<CALLER@the.local.host.name>: "
             "550 mail cmd refused",
             "host 127.0.0.1[127.0.0.1] said: 550 NO (in reply to RCPT TO command)"]
    r = runner.invoke(app, ["classify", "--jsonl"], input="".join(json.dumps({"diagnostic": t}) + "\n" for t in texts))
    got = [(o["category"], o["rule_id"]) for o in map(json.loads, r.stdout.splitlines())]
    assert got == [("recipient_unknown", "STA021"), ("sender_rejected", "POL003"), ("recipient_unknown", "STA021")]


def test_reply_in_status():
    from logscan.smtp import reply_in_status

    said = ("host 127.0.0.1[127.0.0.1] said: 452-4.2.2 The email account that you tried to reach is over quota. "
            "(in reply to RCPT TO command)")
    assert reply_in_status(said) == ("452-4.2.2 The email account that you tried to reach is over quota.", "RCPT TO")
    assert reply_in_status("SMTP error from remote mail server after end of data: 550 x") == ("550 x", "end of DATA")
    assert reply_in_status("550 5.1.1 User unknown") == (None, None)
