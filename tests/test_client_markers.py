"""The failure-marker invariant for the Ruby, Go, Symfony and .NET parsers: a line that carries a
failure marker of its software (a Net::SMTP exception class, a net/smtp error, a mail
TransportException, a System.Net.Mail exception)
becomes a failure row or an unparsed line, never an ignored one, wherever it is injected into the
real sample log, also in shapes the parser does not read."""

from __future__ import annotations

import pytest

from logscan.parsers import REGISTRY

from conftest import SAMPLE_LOGS, make_context

# (format, sample log, marker lines in shapes the real software writes or could write)
CASES = [
    ("rubysmtp", "rubysmtp/production.log", [
        "E, [2026-12-04T19:11:12.434026 #27525] ERROR -- : could not send: Net::SMTPServerBusy: 421 4.3.2 Service not available",
        "E, [2026-12-04T19:11:12.434026 #27525] ERROR -- : mailer: Net::SMTPFatalError raised, giving up",
        "F, [2026-12-04T19:11:12.434026 #27525] FATAL -- mailer: 550 5.1.1 <a@b.example>: Recipient address rejected",
    ]),
    ("gosmtp", "gosmtp/service.log", [
        "2026/12/04 19:05:54 mailer: could not send: smtp: A line must not contain CR or LF",
        'time=2026-12-04T19:05:58.015Z level=ERROR msg="could not send" err="421 \\"4.7.0 Try again later\\""',
        # an older Go's unquoted reply (the error text as quoted in go-gomail/gomail#133)
        "2019/03/11 10:00:00 mailer: could not send: 535 5.7.8 Username and Password not accepted. Learn more at",
    ]),
    ("symfony", "symfony/laravel.log", [
        '[2026-12-04 19:14:59] production.ERROR: Unable to write bytes on the wire. {"exception":"[object] '
        '(Symfony\\\\Component\\\\Mailer\\\\Exception\\\\TransportException(code: 0): Unable to write bytes on the wire. '
        'at /x/AbstractStream.php:47)',
        "[2026-12-04 19:14:59] production.CRITICAL: Uncaught Symfony\\Component\\Mailer\\Exception\\TransportException in a shape not read here",
    ]),
    ("dotnet", "dotnet/app.log", [
        "2026-12-04T19:27:49.264Z ERROR Shop.Mailer: System.Net.Mail.SmtpException (0x80004005): Failure sending mail.",
        "2026-12-04T19:27:49.264Z ERROR Shop.Mailer: send failed with System.Net.Mail.SmtpFailedRecipientException in a shape not read here",
    ]),
]


@pytest.mark.parametrize("fmt,sample,markers", CASES, ids=[c[0] for c in CASES])
def test_marker_lines_are_never_ignored(fmt, sample, markers):
    lines = (SAMPLE_LOGS / sample).read_text(encoding="utf-8").splitlines()
    parser = REGISTRY[fmt]
    for where in (0, len(lines) // 3, len(lines) // 2, len(lines)):
        for marker in markers:
            text = lines[:where] + [marker] + lines[where:]
            ctx = make_context()
            state = parser.new_state()
            parser.parse(text, 1, ctx, state)
            parser.finish(ctx, state)
            marker_no = where + 1
            as_row = any(r["line_no"] == marker_no for r in ctx.rows)
            as_unparsed = any(n == marker_no for n, _ in ctx.stats.unparsed_examples)
            assert as_row or as_unparsed, f"{fmt}: marker at line {marker_no} was ignored: {marker}"
