""".NET System.Net.Mail failures in an application log: the exception as .NET prints it.

    2026-12-04T19:27:49.264Z ERROR Shop.Mailer: could not send order 1003 confirmation:
        System.Net.Mail.SmtpException: Message could not be sent. ---> System.Net.Sockets.SocketException: Connection refused
       --- End of inner exception stack trace ---
      at System.Net.Mail.SmtpClient.Send (System.Net.Mail.MailMessage message) [0x000bd] in <...>:0

A failure is a record (a line that starts with an ISO 8601 stamp) whose text holds a mail
exception's Exception.ToString(): "System.Net.Mail.Smtp...Exception: <message>", its inner
exceptions chained with " ---> ". The message may go on over several lines (a multi-line reply);
the stack trace and "--- End of inner exception stack trace ---" end it. The diagnostic is the
message with its inner exceptions, error_code the outer exception's short class name. A record
that names a System.Net.Mail exception in a shape not read here is unparsed, never ignored; every
other line is ignored. Every shape has a real line below, written by Mono 6.8's System.Net.Mail
(Debian's mono-runtime) here against the loopback trouble server
(tools/samples/DotnetMailScenarios.cs). Mono's texts differ from Microsoft .NET's in places
(logscan/knowledge/tables/dotnet_mail.toml lists both).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from logscan.parsers.base import BaseParser, FileContext, ParserState, Sample, Traits, file_field
from logscan.smtp import AUTH_REPLY_CODES, split_reply

NAME = "dotnet"

RECORD = re.compile(r"(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d{1,7})?(?:Z|[+-]\d\d:?\d\d)?) (.{0,16000})$")
EXCEPTION = re.compile(r"(?:^|[\s:])(?P<cls>System\.Net\.Mail\.\w{1,80}Exception)(?: \(0x[0-9A-Fa-f]{1,8}\))?: (?P<msg>.{0,16000})$")
MENTIONS = re.compile(r"\bSystem\.Net\.Mail\.\w{1,80}Exception\b")
STACK = re.compile(r"\s{1,8}(?:at |--- End of inner exception stack trace ---|--- End of stack trace)")


def _event(cls: str, msg: str, code: int | None) -> tuple[str, str | None]:
    if code in AUTH_REPLY_CODES:
        return "auth_failed", "AUTH"
    if "Server does not support secure connections" in msg:
        return "tls_failed", "STARTTLS"
    if "Authentication failed because the remote party" in msg or "AuthenticationException" in msg:
        return "tls_failed", "STARTTLS"
    if "SocketException" in msg:
        return "connect_failed", "connect"
    if "IOException" in msg:
        return "connect_failed", None
    if cls.endswith("FailedRecipientsException") or cls.endswith("FailedRecipientException"):
        return "send_failed", "RCPT TO"
    return "send_failed", None


@dataclass
class DotnetState(ParserState):
    # Where reading stands in one file (kept per file by incremental runs, parsers/base.py)
    # the failure being read: [stamp, line number, line, class, message lines, message ended]
    pending: list[Any] | None = file_field(default=None, open_record=True)


class DotnetParser(BaseParser):
    name = NAME
    description = ".NET System.Net.Mail exceptions (Exception.ToString()) in application logs"
    traits = Traits(multiline=True)
    State = DotnetState

    def detect(self, lines: list[str]) -> float:
        hits = sum(1 for x in lines if RECORD.match(x) and EXCEPTION.search(x))
        return hits / len(lines) if lines else 0.0

    def parse(self, lines: list[str], first_line_no: int, ctx: FileContext, state: DotnetState) -> None:
        for offset, line in enumerate(lines):
            r = RECORD.match(line)
            if r is None:
                pending = state.pending
                if pending is not None and not pending[5]:
                    if STACK.match(line):
                        pending[5] = True
                    elif line.strip():
                        pending[4].append(line.strip())
                ctx.ignore()  # the stack trace, or another record's lines
                continue
            self.finish(ctx, state)
            e = EXCEPTION.search(r.group(2))
            if e is None:
                if MENTIONS.search(line):
                    ctx.unparsed(first_line_no + offset, line)  # a mail exception in a shape not read here
                else:
                    ctx.ignore()
                continue
            state.pending = [r.group(1), first_line_no + offset, line, e.group("cls"), [e.group("msg").strip()], False]
            ctx.ignore()  # a failure line when finish() emits its row (opened)

    def finish(self, ctx: FileContext, state: DotnetState) -> None:
        """Emit the failure being read (at the next record, or the end of the file)."""
        pending, state.pending = state.pending, None
        if pending is None:
            return
        stamp, line_no, line, cls, parts, _ended = pending
        msg = " ".join(p for p in parts if p)
        code, enh = split_reply(msg)
        event, stage = _event(cls, msg, code)
        row: dict[str, Any] = {
            "source": NAME,
            "program": "system.net.mail",
            "event": event,
            "direction": "outbound",
            "smtp_code": code,
            "enhanced_status": enh,
            "smtp_stage": stage,
            "error_code": cls.rsplit(".", 1)[-1],
            "diagnostic": msg,
            "tls_mode": "starttls" if stage == "STARTTLS" else None,
        }
        ctx.emit(row, stamp, line_no, line, opened=True)


PARSER = DotnetParser()

SAMPLES: tuple[Sample, ...] = (
    Sample(
        "2026-12-04T19:27:49.264Z ERROR Shop.Mailer: could not send order 1003 confirmation: System.Net.Mail.SmtpException: Message could not be sent. ---> System.Net.Sockets.SocketException: Connection refused",
        expect={"event": "connect_failed", "smtp_stage": "connect", "error_code": "SmtpException", "time_zone": "+00:00",
                "diagnostic": "Message could not be sent. ---> System.Net.Sockets.SocketException: Connection refused",
                "category": "connection_refused"}),
    Sample(
        "535 5.7.8  https://support.google.com/mail/?p=BadCredentials w64si9225104muj.496 - gsmtp",
        context=("2026-12-04T19:27:49.139Z ERROR Shop.Mailer: could not send password reset: System.Net.Mail.SmtpException: 535-5.7.8 Username and Password not accepted. For more information, go to",),
        expect={"event": "auth_failed", "smtp_stage": "AUTH", "smtp_code": 535, "enhanced_status": "5.7.8",
                "category": "auth_failed"}),
    Sample(
        "2026-12-04T19:27:49.271Z ERROR Shop.Mailer: could not send newsletter: System.Net.Mail.SmtpException: Message could not be sent. ---> System.IO.IOException: Connection closed",
        expect={"event": "connect_failed", "category": "connection_lost"}),
    Sample(
        "2026-12-04T19:27:49.425Z ERROR Shop.Mailer: could not send invoice 77: System.Net.Mail.SmtpException: Message could not be sent. ---> System.IO.IOException: Authentication failed because the remote party has closed the transport stream.",
        expect={"event": "tls_failed", "smtp_stage": "STARTTLS", "tls_mode": "starttls", "category": "tls_handshake"}),
    Sample(
        "2026-12-04T19:27:49.436Z ERROR Shop.Mailer: could not send invoice 78: System.Net.Mail.SmtpException: Server does not support secure connections.",
        expect={"event": "tls_failed", "smtp_stage": "STARTTLS", "category": "tls_required"}),
    Sample(
        "2026-12-04T19:27:49.128Z ERROR Shop.Mailer: could not send order 1002 confirmation: System.Net.Mail.SmtpFailedRecipientsException: failed recipients",
        expect={"event": "send_failed", "smtp_stage": "RCPT TO", "error_code": "SmtpFailedRecipientsException",
                "category": "unknown"}),  # Mono keeps the replies in InnerExceptions, which ToString() leaves out
    Sample(
        "2026-12-04T19:27:49.531Z ERROR Shop.Mailer: could not send order 1010 confirmation: System.Net.Mail.SmtpException: 554 5.2.252 SendAsDenied; shop@contoso-like.example not allowed to send as noreply@contoso-like.example; STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied; Failed to process message due to a permanent exception with message Cannot submit message. [AM4PEPF00027A6C.eurprd04.prod.outlook-like.example 1796411158]",
        expect={"smtp_code": 554, "enhanced_status": "5.2.252", "category": "sender_rejected"}),
    Sample(  # a mistyped host, run in tools/samples/sandbox.sh (loopback-only network, stub DNS: NXDOMAIN)
        "2026-12-04T19:27:49.535Z ERROR Shop.Mailer: could not send order 1012 confirmation: System.Net.Mail.SmtpException: Message could not be sent. ---> System.Net.Sockets.SocketException: Could not resolve host 'smtp.gmial-like.example'",
        expect={"event": "connect_failed", "smtp_stage": "connect", "category": "server_unresolvable"}),
    Sample("2026-12-04T19:27:48.858Z INFO Shop.Mailer: sending order 1001 confirmation to sam@gmail-like.example via 127.0.0.1:2525",
           ignore=""),
    Sample("   --- End of inner exception stack trace ---", ignore=""),
    Sample("  at System.Net.Mail.SmtpClient.Send (System.Net.Mail.MailMessage message) [0x000bd] in <a85c1a570f9a4f9f9c3d2cfa5504e34f>:0 ",
           ignore=""),
)
