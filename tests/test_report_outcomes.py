"""Sections, the message view and the one ranking (reports/outcomes.py), on the bundled samples and
on small hand-made tables whose outcome is known."""

from __future__ import annotations

import json
from functools import cache

import pandas as pd
import pytest
from typer.testing import CliRunner

from logscan.cli import app
from logscan.engine import load_categories
from logscan.pipeline import ScanOptions, scan
from logscan.reports import outcomes
from logscan.reports.aggregate import as_frame, families, summarize
from logscan.reports.build import ReportOptions, build_reports, file_rows

from conftest import SAMPLE_LOGS


@cache
def samples():
    return scan([str(SAMPLE_LOGS)], ScanOptions(workers=1))


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    result = samples()
    build_reports(result.table, file_rows(result.files), [], out, ReportOptions(), load_categories())
    return out, json.loads((out / "problems.json").read_text()), as_frame(result.table)


def test_every_failure_is_in_one_section_and_they_add_up(demo):
    out, problems, df = demo
    s = summarize(df, load_categories())
    assert sum(s.totals["sections"].values()) == len(df) == s.totals["failures"]
    # Exim paniclog, local mailboxes (and the expiry of a message deferred locally)
    assert s.totals["sections"]["local"] >= (df["direction"] == "local").sum() > 0
    by_section = {sec: sum(p["failures"] for p in problems if p["section"] == sec) for sec in outcomes.SECTIONS}
    assert by_section == s.totals["sections"]
    # Client logs are submission; our own refusals are inbound, never outbound.
    sec = outcomes.sections(df, families(load_categories()))
    assert set(sec[~df["source"].astype(str).isin(outcomes.SERVER_SOURCES)]) == {"submission"}
    assert set(sec[df["direction"] == "inbound"]) == {"inbound"}
    page = (out / "index.html").read_text()
    for title in ("Outbound: mail we could not deliver", "Submission: our own clients", "Inbound defence",
                  "Local: delivery on this machine"):
        assert title in page


def test_a_block_list_problem_never_mixes_our_refusals_with_our_listing(demo):
    _, problems, _ = demo
    listed = [p for p in problems if p["category"] == "blocklisted"]
    assert {p["section"] for p in listed} >= {"outbound", "inbound"}
    inbound = [p for p in listed if p["section"] == "inbound"]
    # Inbound: our own DNSBL check, so no delisting advice ("removal", "delist") for it.
    assert inbound and not any("delist" in step.lower() or "removal" in step.lower()
                               for p in inbound for step in p["remediation"])


GMAIL_535 = [  # one Gmail reply as each program quoted it (signatures of sample_logs rows)
    "535-5.7.8 Username and Password not accepted. For more information, go to ",  # Exim: first line only
    "535-5.7.8 Username and Password not accepted. For more information, go to 535 5.7.8 "
    "https://support.google.com/mail/?p=BadCredentials <id> - gsmtp",  # msmtp, PHPMailer, JavaMail
    "535-5.7.8 Username and Password not accepted. For more information, go to?535 5.7.8 "
    "https://support.google.com/mail/?p=BadCredentials <id> - gsmtp",  # Postfix
    "Invalid login: 535-5.7.8 Username and Password not accepted. For more information, go to 535 5.7.8 "
    "https://support.google.com/mail/?p=BadCredentials <id> - gsmtp",  # Nodemailer
    "535 5.7.8 Username and Password not accepted. For more information, go to 5.7.8 "
    "https://support.google.com/mail/?p=BadCredentials <id> - gsmtp",  # smtplib
    "535-5.7.8 Username and Password not accepted. For more information, go to535 5.7.8 "
    "https://support.google.com/mail/?p=BadCredentials <id> - gsmtp",  # PHPMailer's docblock closure
]


def test_one_provider_reply_is_one_problem(demo):
    assert {outcomes.reply_key(s) for s in GMAIL_535} == {
        "Username and Password not accepted. For more information, go to"}
    # Different replies stay apart; a code inside an explanation is kept.
    assert outcomes.reply_key("550 5.1.1 <addr>: Recipient address rejected: User unknown") != \
        outcomes.reply_key("550 5.7.1 <addr>: Recipient address rejected: Access denied")
    assert outcomes.reply_key("Connection refused") == "Connection refused"
    _, problems, _ = demo
    gmail = [p for p in problems if p["key"].startswith("Username and Password not accepted")]
    assert len(gmail) == 1 and len(gmail[0]["sources"]) >= 5 and gmail[0]["section"] == "submission"


T0 = pd.Timestamp("2026-11-02 08:00", tz="UTC")


def _row(minutes, event, qid, rcpt, **kw):
    base = {"time": T0 + pd.Timedelta(minutes=minutes), "host": "mx1", "source": "postfix", "event": event,
            "direction": "outbound", "queue_id": qid, "recipient": rcpt, "recipient_domain": rcpt.split("@")[1],
            "client_ip": None, "category": "connection_timeout", "last_deferral_category": None,
            "signature": "connect to <ip>[<ip>]:25: Connection timed out", "where": f"f:{minutes}"}
    return {**base, **kw}


def test_message_outcomes_add_up():
    rows = [
        _row(0, "deferred", "A", "a@x.example"), _row(70, "deferred", "A", "a@x.example"),  # then no more: delivered
        _row(0, "deferred", "B", "b@y.example"), _row(290, "deferred", "B", "b@y.example"),  # at the end: deferred
        _row(10, "deferred", "C", "c@y.example"), _row(100, "expired", "C", "c@y.example", category="expired",
                                                      last_deferral_category="connection_timeout",
                                                      signature="message expired in the queue; last deferral: "
                                                                "connect to <ip>[<ip>]:25: Connection timed out"),
        _row(20, "bounced", "D", "d1@z.example", category="recipient_unknown", signature="550 5.1.1 User unknown"),
        _row(20, "deferred", "D", "d2@z.example"),  # D: one recipient bounced, one delivered: the message is lost
        _row(30, "send_failed", None, "e@z.example", source="msmtp", category="auth_failed", signature="535 bad"),
    ]
    df = pd.DataFrame(rows)
    outcomes.add_columns(df, families(load_categories()), T0 + pd.Timedelta(minutes=300))
    mv = outcomes.message_view(df)
    got = {r["outcome"]: (r["messages"], r["recipients"], r["attempts"]) for r in mv["rows"] if r["attempts"]}
    assert got == {"delivered_after_retry": (1, 2, 3), "deferred_at_end": (1, 1, 2), "expired": (1, 1, 2),
                   "bounced": (1, 1, 1), "not_sent": (1, 1, 1)}
    assert (mv["messages"], mv["recipients"], mv["attempts"]) == (5, 6, len(rows))
    assert mv["lost_messages"] == 3 and mv["lost_recipients"] == 3
    assert dict(mv["lost_domains"]) == {"y.example": 1, "z.example": 2}
    # The expiry is part of the deferral problem: lost 1 (C), delayed 3 (A, B, D's d2).
    ranked = outcomes.rank(df).set_index(["section", "cause"])
    timeout = ranked.loc[("outbound", "connection_timeout")]
    assert (timeout["lost"], timeout["delayed"], timeout["failures"]) == (1, 3, 7)
    assert ranked.index[0] == ("submission", "auth_failed") or ranked.iloc[0]["lost"] >= 1


def test_the_scan_summary_ranks_like_the_report(demo):
    _, problems, _ = demo
    r = CliRunner().invoke(app, ["scan", str(SAMPLE_LOGS), "--top", "3"])
    assert r.exit_code == 0, r.output
    assert "ranked as in the report" in r.output
    for section in ("outbound", "submission", "inbound"):
        first = next(p for p in problems if p["section"] == section)
        block = r.output.split(f"  {section}:\n")[1]
        line = block.splitlines()[0]
        assert f"lost {first['lost']:>4} delayed {first['delayed']:>4}" in line and f"x {first['category']} " in line


def test_remediation_variants_are_known_translated_and_keep_their_commands():
    import re
    import tomllib

    from logscan.reports import remedies

    text = (SAMPLE_LOGS.parent / "logscan" / "knowledge" / "categories.toml").read_text(encoding="utf-8")
    known = {"inbound", "postfix", "exim", "sendmail", "client", *remedies.CLIENTS}
    seen = 0
    for cid, c in tomllib.loads(text).items():
        for key, steps in c.items():
            if not key.startswith("remediation_") or key.endswith("_zh") or key == "remediation_zh":
                continue
            seen += 1
            assert key.removeprefix("remediation_") in known, (cid, key)
            zh = c[f"{key}_zh"]
            assert len(zh) == len(steps), (cid, key)
            for en, cn in zip(steps, zh, strict=True):
                # the same commands and settings (Chinese word order may put them in another order)
                assert sorted(re.findall(r"`[^`]+`", en)) == sorted(re.findall(r"`[^`]+`", cn)), (cid, key, en)
    assert seen >= 30


def test_remediation_follows_the_software_and_the_direction(demo):
    _, problems, _ = demo

    def steps(section, category, source=None):
        p = next(p for p in problems if p["section"] == section and p["category"] == category
                 and (source is None or source in p["sources"]))
        return " ".join(p["remediation"])

    assert "fail2ban" in steps("inbound", "auth_failed") and "smtp_sasl_password_maps" not in steps("inbound", "auth_failed")
    panic = steps("local", "local_configuration", "exim")
    assert "exim -bV" in panic and "postfix check" not in panic
    assert "SMTPSecure" in steps("submission", "tls_required", "phpmailer")
    gmail = next(p for p in problems if p["key"].startswith("Username and Password not accepted"))
    text = " ".join(gmail["remediation"])
    assert "Postfix: " in text and "PHPMailer" in text and "$mail->Username" in text and "passwd.client" in text
