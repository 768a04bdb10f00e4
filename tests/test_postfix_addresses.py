"""Postfix addresses with a quoted local part (RFC 5321 Quoted-string), which may hold ">" or spaces.

The real line is one quoted in the tests of lightmeterio/ControlCenter
(pkg/postfix/logparser/parser_test.go): Postfix logs the quoted form. The ">" variant is the same
line with its local part changed (a line whose recipient was `"a>b"@x` used to be unparsed)."""

from __future__ import annotations

import time

import pytest

from logscan.parsers.postfix import PARSER

from conftest import make_context

REAL = ('Feb  5 17:24:35 mail postfix/smtp[9635]: D298F2C60812: to=<"user 1234 with space"@icloud.com>, '
        'relay=mx6.mail.icloud.com[17.178.97.79]:25, delay=428621, delays=428619/0.02/1.9/0, dsn=4.7.0, '
        'status=deferred (host mx6.mail.icloud.com[17.178.97.79] refused to talk to me: 550 5.7.0 Blocked - '
        'see https://support.proofpoint.com/dnsbl-lookup.cgi?ip=142.93.169.220)')


def _parse(lines):
    ctx, state = make_context(), PARSER.new_state()
    PARSER.parse(lines, 1, ctx, state)
    PARSER.finish(ctx, state)
    return ctx


@pytest.mark.parametrize("local", ['"user 1234 with space"', '"a>b"', '"a\\"b>c"'])
def test_quoted_local_part(local):
    ctx = _parse([REAL.replace('"user 1234 with space"', local)])
    assert ctx.stats.unparsed == 0 and len(ctx.rows) == 1
    row = ctx.rows[0]
    assert row["recipient"] == f"{local}@icloud.com" and row["recipient_domain"] == "icloud.com"
    assert row["event"] == "deferred" and row["relay_host"] == "mx6.mail.icloud.com"


def test_quoted_local_part_of_a_delivery_and_a_sender():
    sent = REAL.replace('"user 1234 with space"', '"a>b"').replace("status=deferred", "status=sent")
    qmgr = 'Feb  5 17:24:30 mail postfix/qmgr[9600]: D298F2C60812: from=<"x>y"@example.org>, size=1234, nrcpt=1 (queue active)'
    ctx = _parse([qmgr, sent, REAL])
    assert ctx.stats.unparsed == 0
    assert [(k[1], k[2]) for k in ctx.stats.deliveries] == [("icloud.com", "mx6.mail.icloud.com")]
    assert ctx.rows[0]["sender"] == '"x>y"@example.org'


def test_hostile_quoted_local_part_is_read_in_linear_time():
    hostile = REAL.replace('"user 1234 with space"', '"' + "\\\\>" * 20000)
    start = time.perf_counter()
    _parse([hostile])
    assert time.perf_counter() - start < 1.0
