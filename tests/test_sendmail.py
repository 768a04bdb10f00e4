"""Sendmail: the real sample log (sample_logs/sendmail), fail2ban's sendmail logs read in place
(../shared/corpora/fail2ban, skipped when absent), queue-id correlation and hostile lines."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from logscan.discover import discover
from logscan.engine import Engine
from logscan.parsers import sendmail
from logscan.parsers.sendmail import PARSER

from conftest import CORPORA, SAMPLE_LOGS, make_context

ENGINE = Engine.load()
SAMPLE = SAMPLE_LOGS / "sendmail" / "mail.log"
CLEAN = SAMPLE_LOGS / "sendmail" / "clean" / "mail.log"


def _read(path: Path):
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    ctx = make_context(str(path))
    state = PARSER.new_state()
    PARSER.parse(lines, 1, ctx, state)
    PARSER.finish(ctx, state)
    return lines, ctx


def test_sample_log_every_line_understood():
    lines, ctx = _read(SAMPLE)
    assert ctx.stats.unparsed == 0, ctx.stats.unparsed_examples
    events = Counter(r["event"] for r in ctx.rows)
    for event in ("deferred", "bounced", "expired", "rejected", "auth_failed", "tls_failed"):
        assert events[event] > 0, event
    cats = Counter(ENGINE.classify(r).category for r in ctx.rows)
    assert cats["unknown"] / len(ctx.rows) < 0.1, cats
    # every stat=Sent recipient is a delivery, except the MSP's hand-off to the local MTA (mailer=relay)
    sent = [x for x in lines if ", stat=Sent" in x]
    handoffs = [x for x in sent if ", mailer=relay, " in x]
    assert handoffs and sum(ctx.stats.deliveries.values()) == len(sent) - len(handoffs)


def test_loglevel_14_log_every_line_understood():
    lines, ctx = _read(SAMPLE_LOGS / "sendmail" / "loglevel14" / "mail.log")
    assert ctx.stats.unparsed == 0, ctx.stats.unparsed_examples
    assert [r for r in ctx.rows if ENGINE.classify(r).category == "unknown"] == []
    # trust_auth refusals of the MSP's AUTH= parameter are not refused mail
    assert not any("trust_auth" in r["line"] for r in ctx.rows)


def test_clean_log_has_no_failures():
    lines, ctx = _read(CLEAN)
    assert ctx.rows == [] and ctx.stats.unparsed == 0
    assert sum(ctx.stats.deliveries.values()) >= 10


def test_detected_as_sendmail():
    files, skipped = discover([str(SAMPLE), str(CLEAN)])
    assert [f.format for f in files] == ["sendmail", "sendmail"], skipped


@pytest.mark.parametrize("name", ["sendmail-auth.log", "sendmail-reject.log"])
def test_fail2ban_logs(name):
    path = CORPORA / "fail2ban" / name
    if not path.exists():
        pytest.skip("../shared/corpora not present")
    lines, ctx = _read(path)
    # only fail2ban's own "# failJSON: ..." comment lines are not log lines
    assert all(text.startswith("#") for _, text in ctx.stats.unparsed_examples)
    assert ctx.stats.unparsed == sum(1 for x in lines if x.startswith("#"))
    assert ctx.rows, name
    assert [r["diagnostic"] for r in ctx.rows if ENGINE.classify(r).category == "unknown"] == []
    # every fail2ban "match": true line of a failure (not a from= context line) is a row or a stated reason
    handled = ctx.stats.failures + sum(ctx.stats.ignored_reasons.values())
    expected = sum(1 for i, x in enumerate(lines) if '"match": true' in x.replace(" ,", ",")
                   and i + 1 < len(lines) and " from=<" not in lines[i + 1])
    assert handled >= expected


def test_one_row_per_recipient_and_sender_from_ctladdr():
    line = ("Dec  4 18:42:08 mx1 sendmail[23794]: 6B4Ig8LG023794: to=pat@gmail-like.example,j.smith@outlook-like.example, "
            "ctladdr=alice@example.com (0/0), delay=00:00:00, xdelay=00:00:00, mailer=relay, pri=60127, "
            "relay=[127.0.0.1] [127.0.0.1], dsn=4.4.1, stat=Deferred: Connection refused by [127.0.0.1]")
    ctx = make_context()
    PARSER.parse([line], 1, ctx, PARSER.new_state())
    assert [r["recipient"] for r in ctx.rows] == ["pat@gmail-like.example", "j.smith@outlook-like.example"]
    assert {r["sender"] for r in ctx.rows} == {"alice@example.com"}
    assert {r["relay_ip"] for r in ctx.rows} == {"127.0.0.1"}
    assert ENGINE.classify(ctx.rows[0]).category == "connection_refused"


def test_expiry_takes_the_last_deferral_of_its_queue_id():
    lines = [
        "Dec  4 18:45:50 mx1 sm-mta[30100]: 6B4Ijq23030132: from=<bob@example.com>, size=351, class=0, nrcpts=1, "
        "msgid=<a1@mx1.example.com>, proto=ESMTPS, daemon=MTA-v4, relay=localhost [127.0.0.1]",
        "Dec  4 18:46:01 mx1 sm-mta[30547]: 6B4Ijq23030132: to=<greylist@example.net>, ctladdr=<bob@example.com> "
        "(1002/1002), delay=00:00:09, xdelay=00:00:00, mailer=esmtp2528, pri=300351, relay=[127.0.0.1] [127.0.0.1], "
        "dsn=4.2.0, reply=450 4.2.0 <greylist@example.net>: Recipient address rejected: Greylisted, stat=Deferred: "
        "450 4.2.0 <greylist@example.net>: Recipient address rejected: Greylisted",
        "Dec  4 18:48:01 mx1 sm-mta[30700]: 6B4Ijq23030132: 6B4IiYwS027381: sender notify: Cannot send message for 2 minutes",
    ]
    ctx = make_context()
    PARSER.parse(lines, 1, ctx, PARSER.new_state())
    expired = ctx.rows[-1]
    assert expired["event"] == "expired" and expired["recipient"] == "greylist@example.net"
    assert expired["sender"] == "bob@example.com" and expired["message_id"] == "a1@mx1.example.com"
    assert ENGINE.classify(expired).category == "expired"
    assert ENGINE.last_deferral(expired).category == "greylisted"


def test_hostile_lines_are_linear_and_visible():
    prefix = "Dec  4 18:42:08 mx1 sm-mta[1]: 6B4Ig8LG023794: "
    hostile = [
        prefix + "to=" + "a," * 30_000 + " stat=Deferred",
        prefix + "ruleset=check_rcpt, arg1=" + "<x, " * 10_000 + "relay=x",
        prefix + "AUTH failure (PLAIN): " + ", user=" * 8_000,
        prefix + "from=<" + "x" * 60_000,
        prefix + "to=<a@b>, delay=00:00:00, mailer=esmtp, dsn=9.99.99, stat=" + "Deferred: " * 5_000,
    ]
    ctx = make_context()
    started = time.perf_counter()
    PARSER.parse(hostile, 1, ctx, PARSER.new_state())
    assert time.perf_counter() - started < 2
    assert ctx.stats.unparsed + ctx.stats.failures >= 3
    assert all(r["enhanced_status"] != "9.99.99" for r in ctx.rows)


def test_expiry_text_is_the_engines():
    from logscan.engine import LAST_DEFERRAL

    assert sendmail.LAST_DEFERRAL == LAST_DEFERRAL


def test_incremental_store_carries_the_queue_context():
    from logscan.store import dump_parser_states

    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    state = PARSER.new_state()
    PARSER.parse(lines[:375], 1, make_context(), state)  # cut after a tls_rcpt refusal, before its to= line
    assert any("pending" in v for v in state.queue.values())
    carried = dump_parser_states({"sendmail": state})["sendmail"]["queue"]
    assert len(carried) == len(state.queue)
