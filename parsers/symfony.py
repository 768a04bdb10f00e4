"""Symfony Mailer (and SwiftMailer) transport failures in a Laravel / Monolog application log.

    [2026-12-04 19:14:59] production.ERROR: Expected response code "250/251/252" but got code "550",
    with message "550-5.1.1 The email account ... Please try                    (the message goes on
    550-5.1.1 double-checking ...                                                over several lines)
    550 5.1.1  https://support.google.com/mail/?p=NoSuchUser ... - gsmtp". {"exception":"[object]
    (Symfony\\Component\\Mailer\\Exception\\TransportException(code: 550): ... at .../SmtpTransport.php:307)
    [stacktrace]
    "}

A Monolog LineFormatter record ("[time] channel.LEVEL: message context extra", the form Laravel's
log manager configures, traces included) is a failure when its context names a mail transport
exception: Symfony Mailer's TransportException (or another class of its Exception namespace) or
SwiftMailer's Swift_TransportException. The diagnostic is the record's message (its lines
joined); a record spans the lines up to the next one. A record that names such an exception in a
shape not read here is unparsed, never ignored; every other line is ignored. Every shape has a
real line below, written by Symfony Mailer 5.4 (Debian's php-symfony-mailer) with Monolog 2.9 on
PHP 8.2 here against the loopback trouble server (tools/samples/symfony_send.php).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from logscan.parsers.base import BaseParser, FileContext, ParserState, Sample, Traits, file_field
from logscan.smtp import split_reply

NAME = "symfony"

RECORD = re.compile(r"\[(\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:Z|[+-]\d\d:?\d\d)?)\] ([\w.-]{1,60})\."
                    r"(DEBUG|INFO|NOTICE|WARNING|ERROR|CRITICAL|ALERT|EMERGENCY): (.{0,16000})$")
# Monolog's normalized exception in the context: "[object] (Class(code: N): message at file:line)"
EXCEPTION = re.compile(r' \{"exception":"\[object\] \((?P<cls>(?:[A-Za-z_]\w{0,60}+\\\\){0,8}+'
                       r'(?:Swift_\w{0,60}Exception|TransportException|\w{0,60}Exception))\(code: (?P<code>-?[0-9]{1,6})\): ')
MAIL_CLASS = re.compile(r"Symfony\\\\Component\\\\Mailer\\\\Exception\\\\|^Swift_")
MENTIONS = re.compile(r"Symfony\\+Component\\+Mailer\\+Exception|Swift_TransportException")
GOT_CODE = re.compile(r'but got code "(\d{3})"')
WITH_MESSAGE = re.compile(r'with message "(?P<reply>[2-5]\d\d[ -].{0,2000}?) ?"(?:\.| |$)')
EXPECTED = re.compile(r'^Expected response code "?(?P<want>[\d/]{3,20})"?')  # Symfony quotes it, SwiftMailer not
STAGES = {"220": "greeting", "250/251/252": "RCPT TO", "354": "DATA", "235": "AUTH", "334": "AUTH"}


def _event(message: str, code: int | None) -> tuple[str, str | None]:
    if message.startswith("Failed to authenticate on SMTP server") or message.startswith("Failed to find an authenticator"):
        return "auth_failed", "AUTH"
    if message.startswith(("Unable to connect with STARTTLS", "Unable to connect with TLS encryption")):
        return "tls_failed", "STARTTLS"
    if message.startswith("Connection could not be established"):
        return ("tls_failed" if "SSL operation failed" in message else "connect_failed"), "connect"
    if message.startswith("Connection to "):
        return "connect_failed", None
    e = EXPECTED.match(message)
    if e and e.group("want") == "220" and code in (454, 500, 501, 502):
        return "tls_failed", "STARTTLS"  # 220 is also STARTTLS's answer; a greeting is no reply to a command
    return "send_failed", STAGES.get(e.group("want")) if e else None


@dataclass
class SymfonyState(ParserState):
    # Where reading stands in one file (kept per file by incremental runs, parsers/base.py)
    # the record being read: [stamp, first line number, first line, lines]
    pending: list[Any] | None = file_field(default=None, open_record=True)


class SymfonyParser(BaseParser):
    name = NAME
    description = "Symfony Mailer / SwiftMailer transport errors in Laravel and Monolog logs"
    traits = Traits(multiline=True)
    State = SymfonyState

    def detect(self, lines: list[str]) -> float:
        # Monolog records whose context names a mail transport exception
        hits = sum(1 for x in lines if RECORD.match(x) and MENTIONS.search(x))
        hits += sum(1 for x in lines if x.startswith('error:0A') or x.startswith("[stacktrace]")) // 4
        return min(1.0, hits / len(lines)) if lines else 0.0

    def parse(self, lines: list[str], first_line_no: int, ctx: FileContext, state: SymfonyState) -> None:
        for offset, line in enumerate(lines):
            r = RECORD.match(line)
            if r is None:
                if state.pending is not None:
                    state.pending[3].append(line)
                ctx.ignore()
                continue
            self.finish(ctx, state)
            ctx.ignore()  # a record's first line: a failure (or unparsed) line if finish() says so (opened)
            if r.group(3) in ("DEBUG", "INFO", "NOTICE"):
                continue
            state.pending = [r.group(1), first_line_no + offset, line, [r.group(4)]]

    def finish(self, ctx: FileContext, state: SymfonyState) -> None:
        """Emit the record being read, if it is a mail failure (at the next record or the end)."""
        pending, state.pending = state.pending, None
        if pending is None:
            return
        stamp, line_no, line, parts = pending
        text = "\n".join(parts)
        e = EXCEPTION.search(text)
        if e is None or not MAIL_CLASS.search(e.group("cls")):
            if MENTIONS.search(text):
                ctx.unparsed(line_no, line, opened=True)  # a mail exception in a shape not read here
            return
        message = " ".join(x.strip() for x in text[:e.start()].splitlines() if x.strip())
        got = GOT_CODE.search(message)
        code = int(got.group(1)) if got else None
        reply = WITH_MESSAGE.search(message)
        event, stage = _event(message, code)
        row: dict[str, Any] = {
            "source": NAME,
            "program": "symfony mailer" if "Symfony" in e.group("cls") else "swiftmailer",
            "event": event,
            "direction": "outbound",
            "smtp_code": code,
            "enhanced_status": split_reply(reply.group("reply"))[1] if reply else None,
            "smtp_stage": stage,
            "error_code": e.group("cls").rsplit("\\", 1)[-1],
            "diagnostic": message,
            "tls_mode": "starttls" if stage == "STARTTLS" else None,
        }
        ctx.emit(row, stamp, line_no, line, opened=True)


PARSER = SymfonyParser()

EXC = '{"exception":"[object] (Symfony\\\\Component\\\\Mailer\\\\Exception\\\\TransportException(code: '
SAMPLES: tuple[Sample, ...] = (
    Sample(
        '[2026-12-04 19:14:59] production.ERROR: Connection could not be established with host "127.0.0.1:2599": stream_socket_client(): Unable to connect to 127.0.0.1:2599 (Connection refused) '
        + EXC + '0): Connection could not be established with host \\"127.0.0.1:2599\\": stream_socket_client(): Unable to connect to 127.0.0.1:2599 (Connection refused) at /usr/share/php/Symfony/Component/Mailer/Transport/Smtp/Stream/SocketStream.php:154)',
        expect={"event": "connect_failed", "smtp_stage": "connect", "error_code": "TransportException",
                "category": "connection_refused",
                "diagnostic": 'Connection could not be established with host "127.0.0.1:2599": stream_socket_client(): '
                              "Unable to connect to 127.0.0.1:2599 (Connection refused)"}),
    Sample(
        "550 5.1.1  https://support.google.com/mail/?p=NoSuchUser s44si8130257ivu.754 - gsmtp\". " + EXC + '550): Expected response code \\"250/251/252\\" but got code \\"550\\", with message \\"550-5.1.1 The email account that you tried to reach does not exist. Please try',
        context=('[2026-12-04 19:14:59] production.ERROR: Expected response code "250/251/252" but got code "550", with message "550-5.1.1 The email account that you tried to reach does not exist. Please try',
                 "550-5.1.1 double-checking the recipient's email address for typos or",
                 "550-5.1.1 unnecessary spaces. For more information, go to"),
        expect={"event": "send_failed", "smtp_stage": "RCPT TO", "smtp_code": 550, "enhanced_status": "5.1.1",
                "category": "recipient_unknown"}),
    Sample(
        '535 5.7.8  https://support.google.com/mail/?p=BadCredentials b68si8475936aey.111 - gsmtp".". ' + EXC + '0): Failed to authenticate on SMTP server with username \\"shop@example.com\\" using the following authenticators: \\"LOGIN\\", \\"PLAIN\\". Authenticator \\"LOGIN\\" returned \\"Expected response code \\"235\\" but got code \\"535',
        context=('[2026-12-04 19:14:59] production.ERROR: Failed to authenticate on SMTP server with username "shop@example.com" using the following authenticators: "LOGIN", "PLAIN". Authenticator "LOGIN" returned "Expected response code "235" but got code "535", with message "535-5.7.8 Username and Password not accepted. For more information, go to',
                 '535 5.7.8  https://support.google.com/mail/?p=BadCredentials o67si7664386xes.439 - gsmtp".". Authenticator "PLAIN" returned "Expected response code "235" but got code "535", with message "535-5.7.8 Username and Password not accepted. For more information, go to'),
        expect={"event": "auth_failed", "smtp_stage": "AUTH", "smtp_code": 535, "enhanced_status": "5.7.8",
                "category": "auth_failed"}),
    Sample(
        '[2026-12-04 19:15:02] production.ERROR: Connection to "127.0.0.1:2530" timed out. ' + EXC + '0): Connection to \\"127.0.0.1:2530\\" timed out. at /usr/share/php/Symfony/Component/Mailer/Transport/Smtp/Stream/AbstractStream.php:82)',
        expect={"event": "connect_failed", "category": "connection_timeout"}),
    Sample(
        '[2026-12-04 19:15:02] production.ERROR: Connection to "127.0.0.1:2531" has been closed unexpectedly. ' + EXC + '0): Connection to \\"127.0.0.1:2531\\" has been closed unexpectedly. at /usr/share/php/Symfony/Component/Mailer/Transport/Smtp/Stream/AbstractStream.php:85)',
        expect={"event": "connect_failed", "category": "connection_lost"}),
    Sample(
        "error:0A00010B:SSL routines::wrong version number " + EXC + '0): Connection could not be established with host \\"ssl://127.0.0.1:2526\\": stream_socket_client(): SSL operation failed with code 1. OpenSSL Error messages:',
        context=('[2026-12-04 19:15:02] production.ERROR: Connection could not be established with host "ssl://127.0.0.1:2526": stream_socket_client(): SSL operation failed with code 1. OpenSSL Error messages:',),
        expect={"event": "tls_failed", "smtp_stage": "connect", "category": "wrong_port_or_protocol"}),
    Sample(
        "error:0A000086:SSL routines::certificate verify failed " + EXC + '0): Unable to connect with STARTTLS: stream_socket_enable_crypto(): SSL operation failed with code 1. OpenSSL Error messages:',
        context=("[2026-12-04 19:15:03] production.ERROR: Unable to connect with STARTTLS: stream_socket_enable_crypto(): SSL operation failed with code 1. OpenSSL Error messages:",),
        expect={"event": "tls_failed", "smtp_stage": "STARTTLS", "tls_mode": "starttls", "category": "tls_certificate"}),
    Sample(
        '[2026-12-04 19:15:03] production.ERROR: Expected response code "250/251/252" but got code "550", with message "550 5.7.54 SMTP; Unable to relay recipient in non-accepted domain". ' + EXC + '550): Expected response code \\"250/251/252\\" but got code \\"550\\", with message \\"550 5.7.54 SMTP; Unable to relay recipient in non-accepted domain\\". at /usr/share/php/Symfony/Component/Mailer/Transport/Smtp/SmtpTransport.php:307)',
        expect={"smtp_code": 550, "enhanced_status": "5.7.54", "smtp_stage": "RCPT TO", "category": "relay_denied"}),
    Sample(  # a mistyped host, run in tools/samples/sandbox.sh (loopback-only network, stub DNS: NXDOMAIN)
        '[2026-12-04 19:15:06] production.ERROR: Connection could not be established with host "smtp.gmial-like.example:2525": stream_socket_client(): php_network_getaddresses: getaddrinfo for smtp.gmial-like.example failed: Name or service not known ' + EXC + '0): Connection could not be established with host \\"smtp.gmial-like.example:2525\\": stream_socket_client(): php_network_getaddresses: getaddrinfo for smtp.gmial-like.example failed: Name or service not known at /usr/share/php/Symfony/Component/Mailer/Transport/Smtp/Stream/SocketStream.php:154)',
        expect={"event": "connect_failed", "smtp_stage": "connect", "category": "server_unresolvable"}),
    # SwiftMailer 6.3 (Debian's php-swiftmailer), the same Monolog set-up (sample_logs/symfony/laravel-swiftmailer.log)
    Sample(
        '[2026-12-04 19:31:26] production.ERROR: Connection to 127.0.0.1:2530 Timed Out {"exception":"[object] (Swift_TransportException(code: 0): Connection to 127.0.0.1:2530 Timed Out at /usr/share/php/Swift/classes/Swift/Transport/AbstractSmtpTransport.php:475)',
        expect={"event": "connect_failed", "error_code": "Swift_TransportException", "category": "connection_timeout"}),
    Sample(
        '" {"exception":"[object] (Swift_TransportException(code: 502): Expected response code 220 but got code \\"502\\", with message \\"502 5.5.1 Unrecognized command.',
        context=('[2026-12-04 19:31:26] production.ERROR: Expected response code 220 but got code "502", with message "502 5.5.1 Unrecognized command.',),
        expect={"event": "tls_failed", "smtp_stage": "STARTTLS", "smtp_code": 502, "category": "tls_required"}),
    Sample(
        '[2026-12-04 19:31:26] production.ERROR: Unable to connect with TLS encryption {"exception":"[object] (Swift_TransportException(code: 0): Unable to connect with TLS encryption at /usr/share/php/Swift/classes/Swift/Transport/EsmtpTransport.php:349)',
        expect={"event": "tls_failed", "smtp_stage": "STARTTLS", "category": "tls_handshake"}),
    Sample(
        '" {"exception":"[object] (Swift_TransportException(code: 554): Expected response code 354 but got code \\"554\\", with message \\"554 5.5.1 Error: no valid recipients',
        context=('[2026-12-04 19:31:23] production.ERROR: Expected response code 354 but got code "554", with message "554 5.5.1 Error: no valid recipients',),
        expect={"smtp_stage": "DATA", "smtp_code": 554, "enhanced_status": "5.5.1", "category": "recipient_unknown"}),
    Sample("[2026-12-04 19:14:59] production.INFO: sending order 1002 confirmation to nouser@gmail-like.example via smtp://127.0.0.1:2525?verify_peer=0  ",
           ignore=""),
    Sample("[stacktrace]", ignore=""),
    Sample("#0 /usr/share/php/Symfony/Component/Mailer/Transport/Smtp/SmtpTransport.php(200): Symfony\\Component\\Mailer\\Transport\\Smtp\\SmtpTransport->assertResponseCode()",
           ignore=""),
)
