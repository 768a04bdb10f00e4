"""Go net/smtp errors in a Go service's log: the standard library's log package and log/slog.

    2026/12/04 19:05:54 mailer: could not send order 1002 confirmation to a@b: 550 "5.1.1 The ..."
    time=2026-12-04T19:05:58.015Z level=ERROR msg="mailer: could not send" rcpt=p@b err="read tcp ...: i/o timeout"
    {"time":"2026-12-04T19:07:15.464744654Z","level":"ERROR","msg":"...","rcpt":"a@b","err":"EOF"}

Go errors carry no class, so a failure is a record whose error has one of the shapes net/smtp and
the packages under it give (every shape has a real line below, written by Go 1.26's net/smtp here
against the loopback trouble server, tools/samples/go_smtp_scenarios/main.go):
  * a server reply, net/textproto.Error: '550 "5.1.1 The email account ..."' (Go 1.26 quotes the
    text, a multi-line reply with \\n inside; older Go wrote it unquoted, see ERROR below);
  * a dial, read or write error of package net: 'dial tcp 127.0.0.1:2599: connect: connection
    refused', 'dial tcp: lookup <host> on <resolver>: no such host', 'read tcp a->b: i/o timeout';
  * 'EOF' (the server closed the connection), crypto/tls and crypto/x509 errors ('tls: ...');
  * net/smtp's own texts: 'smtp: server doesn't support AUTH', PlainAuth's 'unencrypted
    connection'.
In a stdlib log line the error is the message's tail from the first such shape on (Go's
"context: error" convention); in slog records it is the `err` (or `error`) attribute. Every other
line of the service's log is counted as ignored. The recipient is slog's rcpt/to/recipient
attribute, or in a stdlib line the last address before the error. A stdlib stamp has no zone
(read in --tz); slog's has one.
"""

from __future__ import annotations

import json
import re
from typing import Any

from logscan.parsers.base import BaseParser, FileContext, ParserState, Sample, Traits
from logscan.smtp import AUTH_REPLY_CODES, domain_of, split_reply

NAME = "gosmtp"

# log.LstdFlags "2006/01/02 15:04:05", with log.Lmicroseconds ".000000"
STD = re.compile(r"(\d{4})/(\d\d)/(\d\d) (\d\d:\d\d:\d\d(?:\.\d{1,6})?) (.{0,16000})$")
SLOG_TEXT = re.compile(r"time=(\S{10,40}) level=([A-Z]{3,5}(?:[+-]\d{1,2})?) ")
SLOG_ATTR = re.compile(r'([\w.]{1,64})=("(?:[^"\\]|\\.){0,16000}"|\S{0,16000})')
# Where the error starts inside a stdlib message (the tail from the first match on is the error).
# Go before 1.2x wrote a reply unquoted ('%03d %s' in net/textproto, the newlines raw): '535 5.7.8
# Username and Password not accepted. Learn more at' (quoted in go-gomail/gomail#133, over
# net/smtp); that form is read when it has an enhanced status code (its first line: the rest of a
# multi-line reply follows on lines of its own, counted as ignored)
ERROR = re.compile(
    r"(?:^|: )(?P<err>[2-5]\d\d \"|[2-5]\d\d [245]\.\d{1,3}\.\d{1,3} |(?:dial|read|write) (?:tcp|udp)[46]? |dial tcp: lookup |tls: |x509: |remote error: tls|"
    r"smtp: |EOF$|unexpected EOF$|unencrypted connection$|wrong host name$|unexpected server challenge$)")
REPLY = re.compile(r"([2-5]\d\d) (\"(?:[^\"\\]|\\.){0,16000}\"|[245]\.\d{1,3}\.\d{1,3} .{0,16000})$")
ADDRESS = re.compile(r"[^\s<>\"'(),;:]{1,200}@[A-Za-z0-9.-]{1,255}[A-Za-z0-9]")
RCPT_KEYS = ("rcpt", "to", "recipient")
MAIL_WORD = re.compile(r"smtp|mail|@", re.IGNORECASE)
# net/http's server errors have the same shapes ('http: TLS handshake error from a:b: EOF'): not mail
HTTP_ERROR = re.compile(r"\bhttp: |\bhttp2: ")
ERR_KEYS = ("err", "error")


def _event(err: str, code: int | None) -> tuple[str, str | None]:
    if code in AUTH_REPLY_CODES or err in ("unencrypted connection", "wrong host name", "unexpected server challenge"):
        return "auth_failed", "AUTH"
    if err.startswith(("dial tcp", "dial udp")):
        return "connect_failed", "connect"
    if err.startswith(("tls: ", "x509: ", "remote error: tls")):
        return "tls_failed", None
    if code is None and (err.startswith(("read ", "write ")) or err.endswith("EOF")):
        return "connect_failed", None
    return "send_failed", None


def _unquote(value: str) -> str:
    """A Go %q / strconv.Quote string (as slog and textproto write them) to its text."""
    try:
        return json.loads(value) if value.startswith('"') else value
    except ValueError:
        return value[1:-1] if value.endswith('"') else value


class GosmtpParser(BaseParser):
    """Go's lines stand alone: nothing to correlate (the base ParserState)."""

    name = NAME
    description = "Go net/smtp errors in Go service logs (log, log/slog text and JSON)"
    traits = Traits()

    def detect(self, lines: list[str]) -> float:
        # Go log records (stdlib stamp, slog text or JSON) whose error has a net/smtp shape, with
        # mail in view: a reply, an 'smtp: ' error, or mail named on the line (a web service's
        # 'http: TLS handshake error ...: EOF' alone is not a mail log)
        hits = 0
        for x in lines:
            found = self._error(x)
            if found and (REPLY.match(found[1]) or found[1].startswith("smtp: ") or MAIL_WORD.search(x)):
                hits += 1
        return hits / len(lines) if lines else 0.0

    @staticmethod
    def _error(line: str) -> tuple[str, str, str | None] | None:
        """(stamp, error text, recipient) of a Go log record that carries a net/smtp error."""
        m = STD.match(line)
        if m:
            message = m.group(5)
            e = ERROR.search(message)
            if not e:
                return None
            before = message[:e.start("err")]
            if HTTP_ERROR.search(before):
                return None
            addresses = ADDRESS.findall(before)
            return f"{m.group(1)}-{m.group(2)}-{m.group(3)}T{m.group(4)}", message[e.start("err"):], \
                (addresses[-1] if addresses else None)
        if line.startswith("time="):
            t = SLOG_TEXT.match(line)
            if not t:
                return None
            stamp = t.group(1)
            attrs = {k: _unquote(v) for k, v in SLOG_ATTR.findall(line[t.end():])}
        elif line.startswith("{") and '"time"' in line:
            try:
                attrs = json.loads(line)
            except ValueError:
                return None
            if not isinstance(attrs, dict) or not isinstance(attrs.get("time"), str):
                return None
            stamp = attrs["time"]
        else:
            return None
        err = next((attrs[k] for k in ERR_KEYS if isinstance(attrs.get(k), str)), None)
        if err is None or not ERROR.match(err):
            return None
        rcpt = next((attrs[k] for k in RCPT_KEYS if isinstance(attrs.get(k), str)), None)
        return stamp, err, rcpt

    def parse(self, lines: list[str], first_line_no: int, ctx: FileContext, state: ParserState) -> None:
        for offset, line in enumerate(lines):
            found = self._error(line)
            if found is None:
                ctx.ignore()  # the rest of the service's log
                continue
            stamp, err, rcpt = found
            r = REPLY.match(err)
            reply = _unquote(r.group(2)).replace("\n", " ") if r else None
            code = int(r.group(1)) if r else None
            diagnostic = f"{code} {reply}" if r else err
            event, stage = _event(err, code)
            if rcpt is not None and "@" not in rcpt:
                rcpt = None
            row: dict[str, Any] = {
                "source": NAME,
                "program": "go net/smtp",
                "event": event,
                "direction": "outbound",
                "recipient": rcpt,
                "recipient_domain": domain_of(rcpt),
                "smtp_code": code,
                "enhanced_status": split_reply(diagnostic)[1] if r else None,
                "smtp_stage": stage,
                "diagnostic": diagnostic,
            }
            ctx.emit(row, stamp, first_line_no + offset, line)


PARSER = GosmtpParser()

SAMPLES: tuple[Sample, ...] = (
    Sample(
        '2026/12/04 19:05:54 mailer: could not send order 1002 confirmation to nouser@gmail-like.example: 550 "5.1.1 The email account that you tried to reach does not exist. Please try\\n5.1.1 double-checking the recipient\'s email address for typos or\\n5.1.1 unnecessary spaces. For more information, go to\\n5.1.1  https://support.google.com/mail/?p=NoSuchUser h8si4613163vut.411 - gsmtp"',
        expect={"event": "send_failed", "recipient": "nouser@gmail-like.example", "smtp_code": 550,
                "enhanced_status": "5.1.1", "category": "recipient_unknown"}),
    Sample(
        '2026/12/04 19:05:54 mailer: could not send password reset to relay@authfail.example.org: 535 "5.7.8 Username and Password not accepted. For more information, go to\\n5.7.8  https://support.google.com/mail/?p=BadCredentials x48si6235325hhs.604 - gsmtp"',
        expect={"event": "auth_failed", "smtp_stage": "AUTH", "smtp_code": 535, "category": "auth_failed",
                "diagnostic": "535 5.7.8 Username and Password not accepted. For more information, go to 5.7.8  "
                              "https://support.google.com/mail/?p=BadCredentials x48si6235325hhs.604 - gsmtp"}),
    Sample(
        "2026/12/04 19:05:54 mailer: could not send order 1003 confirmation to x@refused.example.org: dial tcp 127.0.0.1:2599: connect: connection refused",
        expect={"event": "connect_failed", "smtp_stage": "connect", "recipient": "x@refused.example.org",
                "category": "connection_refused", "diagnostic": "dial tcp 127.0.0.1:2599: connect: connection refused"}),
    Sample(
        'time=2026-12-04T19:05:58.015Z level=ERROR msg="mailer: could not send" what="order 1004 confirmation" rcpt=p@silent.example.org err="read tcp 127.0.0.1:46942->127.0.0.1:2530: i/o timeout"',
        expect={"event": "connect_failed", "recipient": "p@silent.example.org", "time_zone": "+00:00",
                "category": "connection_timeout"}),
    Sample(
        "2026/12/04 19:05:58 mailer: could not send newsletter to p@hangup.example.org: EOF",
        expect={"event": "connect_failed", "diagnostic": "EOF", "category": "connection_lost"}),
    Sample(
        '{"time":"2026-12-04T19:07:15.464744654Z","level":"ERROR","msg":"mailer: could not send","what":"newsletter","rcpt":"p@hangup.example.org","err":"EOF"}',
        expect={"event": "connect_failed", "recipient": "p@hangup.example.org", "category": "connection_lost"}),
    Sample(
        "2026/12/04 19:05:58 mailer: could not send order 1005 confirmation to y@outlook-like.example: tls: first record does not look like a TLS handshake",
        expect={"event": "tls_failed", "category": "wrong_port_or_protocol"}),
    Sample(
        "2026/12/04 19:05:58 mailer: could not send invoice 77 to p@selfsigned.example.org: tls: failed to verify certificate: x509: certificate is not valid for any names, but wanted to match smtp.example.com",
        expect={"event": "tls_failed", "category": "tls_certificate"}),
    Sample(
        'time=2026-12-04T19:05:58.487Z level=ERROR msg="mailer: could not send" what="invoice 78" rcpt=p@notls.example.org err="502 \\"5.5.1 Unrecognized command.\\""',
        expect={"event": "send_failed", "smtp_code": 502, "diagnostic": "502 5.5.1 Unrecognized command."}),
    Sample(
        'time=2026-12-04T19:05:58.556Z level=ERROR msg="mailer: could not send" what="order 1008 confirmation" rcpt=relay@apppass.example.org err="534 \\"5.7.9 Application-specific password required. Learn more at\\\\n5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor f6si9210808uff.934 - gsmtp\\""',
        expect={"event": "auth_failed", "smtp_code": 534, "enhanced_status": "5.7.9", "category": "auth_app_password"}),
    Sample(
        '{"time":"2026-12-04T19:07:15.490988658Z","level":"ERROR","msg":"mailer: could not send","what":"order 1009 confirmation","rcpt":"friend@elsewhere.example","err":"550 \\"5.7.54 SMTP; Unable to relay recipient in non-accepted domain\\""}',
        expect={"smtp_code": 550, "enhanced_status": "5.7.54", "recipient_domain": "elsewhere.example",
                "category": "relay_denied"}),
    Sample(  # a mistyped host, run in tools/samples/sandbox.sh (loopback-only network, stub DNS: NXDOMAIN)
        "2026/12/04 19:06:31 mailer: could not send order 1012 confirmation to sam@gmail-like.example: dial tcp: lookup smtp.gmial-like.example on 127.0.0.1:53: no such host",
        expect={"event": "connect_failed", "smtp_stage": "connect", "category": "server_unresolvable"}),
    Sample(
        "2026/12/04 19:06:31 mailer: could not send order 1013 confirmation to relay@authfail.example.org: unencrypted connection",
        expect={"event": "auth_failed", "smtp_stage": "AUTH", "category": "tls_required"}),
    Sample(
        "2026/12/04 19:06:31 mailer: could not send order 1015 confirmation to p@notls.example.org: smtp: server doesn't support AUTH",
        expect={"event": "send_failed", "category": "tls_required"}),
    Sample("2026/12/04 19:05:54 mailer: sending order 1002 confirmation to nouser@gmail-like.example via 127.0.0.1:2525",
           ignore=""),
    Sample("2026/12/04 19:05:54 mailer: sent order 1001 confirmation", ignore=""),
    # Go's net/http server log in the same service log has the same error shapes: not a mail failure
    # (the form of net/http's server.go: "http: TLS handshake error from %s: %v")
    Sample("2026/12/04 19:05:54 http: TLS handshake error from 127.0.0.1:52114: EOF", ignore=""),
)
