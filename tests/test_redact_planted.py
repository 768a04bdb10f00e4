"""Planted identities: real sample lines of Postfix and Exim carrying one identity in each form a
log can hold it (an unqualified sender, a bare SASL account, Exim's set_id, U= and A= names, a
VERP address, a local part over 64 characters, a quoted local part, zero-padded IPv4, an
[IPv6:...] literal in HELO, an IP as the syslog host), plus a file that is not a log, whose first
line the report quotes. `report --redact-ips` must leave none of them in any output file."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
from typer.testing import CliRunner

from logscan.cli import app

runner = CliRunner()
LONG = "plantlong" + "x" * 70  # a local part over 64 characters

# Each line is a real line of sample_logs (or of ../shared/corpora/fail2ban's postfix log, for the
# SASL warning) with its identities swapped for planted ones.
POSTFIX = "\n".join([
    "Nov 27 22:17:08 203.0.113.99 postfix/smtpd[13909]: NOQUEUE: reject: RCPT from unknown[198.051.100.007]: "
    "550 5.1.1 <plantrcpt@example.com>: Recipient address rejected: User unknown in local recipient table; "
    "from=<plantsender> to=<plantrcpt@example.com> proto=ESMTP helo=<[IPv6:2001:db8::77]>",
    "Nov 27 22:17:09 mx1 postfix/smtpd[1234]: warning: unknown[203.0.113.152]: SASL LOGIN authentication failed: "
    "(reason unavailable), sasl_username=plantsasl",
    "Nov 27 22:18:41 mx1 postfix/smtp[15924]: 75B171644C3: to=<bounce-42-plantverp=example.org@lists.example.net>, "
    "relay=127.0.0.1[127.0.0.1]:2525, delay=0.03, delays=0.01/0/0.01/0.01, dsn=5.1.1, status=bounced (host "
    "127.0.0.1[127.0.0.1] said: 550 5.1.1 <bounce-42-plantverp=example.org@lists.example.net> and <" + LONG +
    "@example.org>: The email account that you tried to reach does not exist (in reply to RCPT TO command))",
    "Nov 27 22:18:42 mx1 postfix/smtp[15924]: 75B171644C4: to=<\"plant quoted\"@example.com>, "
    "relay=127.0.0.1[127.0.0.1]:2525, delay=0.03, delays=0.01/0/0.01/0.01, dsn=5.1.1, status=bounced (host "
    "127.0.0.1[127.0.0.1] said: 550 5.1.1 No such user (in reply to RCPT TO command))",
]) + "\n"
EXIM = "\n".join([
    "2026-11-27 22:25:19 LOGIN authenticator failed for (client.example.com) [192.0.2.61]:54422 "
    "I=[127.0.0.1]:587: 535 Incorrect authentication data (set_id=plantsetid)",
    "2026-11-27 22:25:20 defer authenticator failed for H=(test.host) [10.0.0.1] U=plantuser: 435 Unable to "
    "authenticate at present (set_id=plantdefer): account suspended",
    "2026-11-27 22:25:15 1xX4NX-0005K1-02 ** plantexim@outlook-like.example F=<plantfrom@example.com> "
    "R=fake_remote T=remote_smtp H=127.0.0.1 [127.0.0.1]:2526: SMTP error from remote mail server after RCPT "
    "TO:<plantexim@outlook-like.example>: 550 5.5.0 Requested action not taken: mailbox unavailable (S2017)",
]) + "\n"
NOT_A_LOG = "hello plantnotalog, this is not a mail log\n"
PLANTED = ["plantrcpt", "plantsender", "203.0.113.99", "198.051.100.007", "2001:db8::77", "203.0.113.152",
           "plantsasl", "plantverp", LONG[:20], "plant quoted", "plantsetid", "192.0.2.61", "plantuser",
           "plantdefer", "plantexim", "plantfrom", "plantnotalog"]


def _logs(tmp_path: Path) -> Path:
    logs = tmp_path / "logs"
    (logs / "exim").mkdir(parents=True)
    (logs / "mail.log").write_text(POSTFIX)
    (logs / "exim" / "mainlog").write_text(EXIM)
    (logs / "notes.txt").write_text(NOT_A_LOG)
    return logs


def _every_output(out: Path) -> str:
    texts = []
    for f in out.rglob("*"):
        if f.suffix == ".parquet":
            texts.append(pq.read_table(f).to_pandas().to_csv())
        elif f.is_file():
            texts.append(f.read_text(encoding="utf-8", errors="replace"))
    return "\n".join(texts)


def test_planted_identities_are_in_the_plain_report(tmp_path):
    """The control: without --redact every planted identity is in the outputs (so the lines were read)."""
    out = tmp_path / "plain"
    r = runner.invoke(app, ["report", str(_logs(tmp_path)), "--out", str(out)])
    assert r.exit_code == 0, r.output
    text = _every_output(out)
    assert [p for p in PLANTED if p not in text] == []


def test_no_planted_identity_survives_redaction(tmp_path):
    out = tmp_path / "redacted"
    r = runner.invoke(app, ["report", str(_logs(tmp_path)), "--out", str(out), "--redact-ips"])
    assert r.exit_code == 0, r.output
    text = _every_output(out)
    assert [p for p in PLANTED if p in text] == []
    assert "@lists.example.net" in text and "@outlook-like.example" in text  # domains stay
