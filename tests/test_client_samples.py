"""The bundled mail-client samples, end to end: every failing scenario of the script that made them
(tools/samples/make_<client>_samples.sh, listed in sample_logs/<client>/README.md) is one failure
row, nothing is unparsed, and every row has a root cause."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from typer.testing import CliRunner

from logscan.cli import app
from logscan.schema import TLS_MODES

from conftest import SAMPLE_LOGS

# failing scenarios per sample file (the README tables; successes are not failures)
FAILING = {
    "msmtp/msmtp.log": 17,
    "smtplib/app.log": 16,
    "phpmailer/smtpdebug-level2.log": 19,
    "phpmailer/smtpdebug-level2-error_log.log": 19,
    "phpmailer/smtpdebug-level4.log": 19,
    # the other Debugoutput forms and the WordPress SMTP plugins' logs (same scenarios; the plugin
    # forms skip the two new PHPMailer(false) runs)
    "phpmailer/smtpdebug-level2-html.log": 19,
    "phpmailer/smtpdebug-level2-closure-level.log": 19,
    "phpmailer/smtpdebug-level2-docblock.log": 19,
    "phpmailer/smtpdebug-level2-monolog.log": 19,
    "phpmailer/easy-wp-smtp-raw.log": 19,
    "phpmailer/easy-wp-smtp.log": 19,
    "phpmailer/wp-mail-smtp-debug-events.txt": 17,
    "phpmailer/post-smtp-debug.log": 17,
    "phpmailer/php-uncaught-exception.log": 1,
    "nodemailer/app.log": 16,
    "javamail/app.log": 14,
    "gosmtp/service.log": 19,
    "rubysmtp/production.log": 16,
    "symfony/laravel.log": 15,
    "symfony/laravel-swiftmailer.log": 16,
    "dotnet/app.log": 14,
}
# rows whose log does not say the cause: PHPMailer at SMTPDebug 2 logs an empty greeting alike for
# a silent server, one that hangs up, and an implicit-TLS port (SMTPDebug 3+ tells them apart).
# At SMTPDebug 4 the hang-up usually shows as 'SMTP INBOUND: ""', but when PHP sees end of file
# before the first read, get_lines() logs nothing: that run's row stays unknown (level 4, scenario 12).
# At SMTPDebug 1 (Easy WP SMTP) the server's replies are not logged: a 421 greeting is not seen either.
# Post SMTP's error log holds ErrorInfo only ("SMTP Error: Could not connect to SMTP host."), no transcript.
UNKNOWN = {"phpmailer/smtpdebug-level2.log": 5, "phpmailer/smtpdebug-level2-error_log.log": 5,
           "phpmailer/smtpdebug-level4.log": 1, "phpmailer/smtpdebug-level2-html.log": 5,
           "phpmailer/smtpdebug-level2-closure-level.log": 5, "phpmailer/smtpdebug-level2-docblock.log": 5,
           "phpmailer/smtpdebug-level2-monolog.log": 5, "phpmailer/easy-wp-smtp-raw.log": 6,
           "phpmailer/easy-wp-smtp.log": 6, "phpmailer/wp-mail-smtp-debug-events.txt": 4,
           "phpmailer/post-smtp-debug.log": 10, "phpmailer/php-uncaught-exception.log": 1,
           "gosmtp/service.log": 2,  # a bare 502 to STARTTLS / AUTH: Go's error names no command
           "dotnet/app.log": 3}  # Mono's "failed recipients": the replies are not in the exception's text


@pytest.mark.parametrize("name", sorted(FAILING))
def test_client_sample_rows(tmp_path, name):
    out = tmp_path / "rows.jsonl"
    r = CliRunner().invoke(app, ["scan", str(SAMPLE_LOGS / name), "--output", str(out), "--quiet"])
    assert r.exit_code == 0, r.output
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(rows) == FAILING[name]
    assert {x["tls_mode"] for x in rows} <= {None, *TLS_MODES}
    categories = Counter(x["category"] for x in rows)
    assert categories["unknown"] == UNKNOWN.get(name, 0), [x["diagnostic"] for x in rows if x["category"] == "unknown"]
    summary = CliRunner().invoke(app, ["scan", str(SAMPLE_LOGS / name)]).stdout
    assert f"{FAILING[name]} failures" in summary and ", 0 unparsed." in summary


def test_a_send_attempt_ends_with_its_file(tmp_path):
    """Two PHPMailer logs (two sites): the first ends inside a send attempt (connected to port 2531,
    empty greeting, then the log stops); the second starts with a bare summary. That summary must
    not borrow the first file's server, port or missing greeting."""
    lines = (SAMPLE_LOGS / "phpmailer" / "smtpdebug-level4.log").read_bytes().splitlines(keepends=True)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "smtp.log").write_bytes(b"".join(lines[518:529]))  # opening to :2531 .. closed
    (tmp_path / "b" / "smtp.log").write_bytes(b"".join(lines[529:531]))  # the bare summary
    out = tmp_path / "rows.jsonl"
    r = CliRunner().invoke(app, ["scan", str(tmp_path / "a"), str(tmp_path / "b"), "--format", "phpmailer",
                                 "-o", str(out)])
    assert r.exit_code == 0, r.output
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(rows) == 1 and rows[0]["source_file"].endswith("b/smtp.log")
    assert rows[0]["relay_port"] is None and "no greeting" not in rows[0]["diagnostic"]


def test_phpmailer_through_an_applications_own_logger():
    """PHPMailer's transcript through an application's logger, as quoted in a public issue
    (Hosteroid/domain-monitor#32): its own stamp and level before PHPMailer's messages. One failed
    send, one row; the summaries after the SMTP ERROR line are counted with their reason."""
    from logscan.parsers.phpmailer import PARSER, SUMMARY_REASON

    from conftest import make_context
    lines = ["[2025-11-14 16:37:57] [DEBUG] SMTP SERVER: SERVER -> CLIENT: 334 UGFzc3dvcmQ6",
             "[2025-11-14 16:37:57] [DEBUG] SMTP CLIENT: CLIENT -> SERVER: [credentials hidden]",
             "[2025-11-14 16:37:57] [DEBUG] SMTP SERVER: SERVER -> CLIENT: 535 5.7.0 Invalid login or password",
             "[2025-11-14 16:37:57] [DEBUG] SMTP CLIENT: SMTP ERROR: Password command failed: 535 5.7.0 Invalid login or password",
             "[2025-11-14 16:37:57] [DEBUG] SMTP SERVER: SMTP Error: Could not authenticate.",
             "[2025-11-14 16:37:57] [DEBUG] SMTP CLIENT: CLIENT -> SERVER: QUIT",
             "[2025-11-14 16:37:57] [DEBUG] SMTP SERVER: SERVER -> CLIENT:",
             "[2025-11-14 16:37:57] [DEBUG] SMTP CLIENT: SMTP ERROR: QUIT command failed:",
             "[2025-11-14 16:37:57] [DEBUG] SMTP SERVER: SMTP Error: Could not authenticate."]
    assert PARSER.detect(lines) > 0.5
    ctx, state = make_context(), PARSER.new_state()
    PARSER.parse(lines, 1, ctx, state)
    assert [(r["line_no"], r["event"], r["smtp_code"]) for r in ctx.rows] == [(4, "auth_failed", 535)]
    assert ctx.rows[0]["time"] is not None and ctx.stats.unparsed == 0
    assert ctx.stats.ignored_reasons[SUMMARY_REASON] == 2


def test_nodemailer_error_as_json_after_a_message():
    """A Node.js application's own logger, as committed in a public repository's log: the message,
    then JSON.stringify() of Nodemailer's error (no "message": an Error's message is not enumerable).
    The next line (the same failure retold without Nodemailer's code; its address replaced) is no second row."""
    from logscan.parsers.nodemailer import PARSER

    from conftest import make_context
    lines = ['[2026-04-09 14:06:35.862] [ERROR] [email] failed_to_send_email {"error":{"code":"EAUTH","response":'
             '"535 Incorrect authentication data","responseCode":535,"command":"AUTH PLAIN"}}',
             '[2026-04-09 14:06:35.863] [WARN] [ALARM_EMAIL] Alarm event email send failed {"eventType":"triggered",'
             '"alarmId":3459,"to":"ops@example.org","error":"Invalid login: 535 Incorrect authentication data"}']
    ctx, state = make_context(), PARSER.new_state()
    PARSER.parse(lines, 1, ctx, state)
    PARSER.finish(ctx, state)
    assert [(r["line_no"], r["event"], r["smtp_code"], r["smtp_stage"]) for r in ctx.rows] == [(1, "auth_failed", 535, "AUTH")]
    assert ctx.rows[0]["time"] is not None and ctx.stats.unparsed == 0
