"""Python smtplib failures in application logs (logging's usual formats, tracebacks included).

An application log is mostly noise: every line that is not an smtplib failure is counted as
ignored, never as unparsed. A failure is either
  * a traceback whose exception is smtplib's (smtplib.SMTPRecipientsRefused: {...}), or an OS/SSL
    error (ConnectionRefusedError, TimeoutError, ssl.SSLError, socket.gaierror, ...) raised through
    smtplib's frames; a chained traceback is one failure, the last exception naming the first;
  * a one-line record with an exception repr: "could not send: SMTPAuthenticationError(535, b'...')".
The time is the one of the log record the traceback belongs to. Exception texts are those of
CPython's Lib/smtplib.py and ssl/socket; every shape has a real line below, written by Python 3.11
here against the loopback trouble server (tools/samples/smtplib_scenarios.py, sample_logs/smtplib/).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from logscan.parsers.base import BaseParser, FileContext, ParserState, Sample, Traits, ascii_int, file_field
from logscan.parsers.syslog import PREFIX
from logscan.smtp import domain_of, split_reply

NAME = "smtplib"

# "2026-11-27 20:58:41,542 ERROR shop.mailer: message" (logging's asctime, also with "." or "T")
RECORD = re.compile(r"(\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[.,]\d{1,6})?(?:Z|[+-]\d\d:?\d\d)?) ")
EXCEPTION = re.compile(r"((?:smtplib\.|ssl\.|socket\.)?[A-Z]\w{0,60}(?:Error|Refused|Disconnected|Exception|timeout|gaierror)"
                       r"|socket\.(?:timeout|gaierror|herror)): ?(.{0,8000}+)$")
# "...: SMTPAuthenticationError(535, b'...')" at the end of a record: see _repr() (a regex searched
# from every "SMTP...Error(" of a line to its end was quadratic).
REPR_START = re.compile(r"\b(SMTP\w{0,40}(?:Error|Refused|Disconnected|Exception))\(")
REPR_MAX = 8000
# (code, b'text') as repr() writes bytes: the quote it chose is escaped inside, so the text is read
# in one pass to its closing quote (a lazy `.{0,8000}?` to a back-reference was quadratic: 1.4 s).
CODE_TEXT = re.compile(r"\((?P<code>[0-9]{3}), b(?:'(?P<text1>(?:[^'\\]|\\.){0,8000}+)'|\"(?P<text2>(?:[^\"\\]|\\.){0,8000}+)\")"
                       r"(?:, '(?P<sender>[^']{0,512}+)')?\)")
# smtplib's exception named in a one-line record: "send failed: smtplib.SMTPAuthenticationError: (535, ...)"
# (logger.error("%s: %s", type(e).__name__, e), traceback.format_exception_only())
EXCEPTION_IN_LINE = re.compile(r"(?<![\w.])((?:smtplib\.)?SMTP[A-Za-z]{0,40}(?:Error|Refused|Disconnected|Exception)): ?(.{0,8000}+)$")
# A line that names one of smtplib's exceptions (Lib/smtplib.py) is a failure row or an unparsed line,
# never ignored (tests/test_failure_markers.py)
FAILURE_MARKERS = re.compile(r"(?<![\w])(?:smtplib\.)?SMTP(?:Authentication|Recipients|Sender|Data|Helo|Connect|Server|NotSupported"
                             r"|Response)?(?:Error|Refused|Disconnected|Exception)\b")
RCPT_DICT = re.compile(r"\{'(?P<rcpt>[^']{1,512})': \(")
# Non-smtplib exceptions count only when the traceback went through smtplib.
NETWORK = ("ConnectionRefusedError", "TimeoutError", "socket.timeout", "ConnectionResetError", "OSError",
           "socket.gaierror", "gaierror", "ssl.SSLError", "ssl.SSLCertVerificationError", "SSLError",
           "SSLCertVerificationError", "ssl.SSLZeroReturnError", "BrokenPipeError", "ConnectionAbortedError")
EVENT = {
    "SMTPAuthenticationError": ("auth_failed", "AUTH"),
    "SMTPRecipientsRefused": ("send_failed", "RCPT TO"),
    "SMTPSenderRefused": ("send_failed", "MAIL FROM"),
    "SMTPDataError": ("send_failed", "end of DATA"),
    "SMTPHeloError": ("send_failed", "EHLO"),
    "SMTPConnectError": ("connect_failed", "greeting"),
    "SMTPServerDisconnected": ("connect_failed", None),
    "SMTPNotSupportedError": ("tls_failed", "STARTTLS"),
}


def _repr(line: str) -> tuple[str, str, int] | None:
    """(exception, "(args)", where it starts) of an smtplib exception's repr ending the line, or None: the first
    "SMTP...Error(" whose arguments run to the line's last ")" within REPR_MAX characters."""
    tail = line.rstrip()
    if not tail.endswith(")"):
        return None
    close = len(tail) - 1
    for m in REPR_START.finditer(line, max(0, close - REPR_MAX - 64)):
        if close - m.end() <= REPR_MAX:
            return m.group(1), f"({line[m.end():close]})", m.start()
    return None


def _tls_frame(frame: str, code: str) -> str | None:
    """TLS mode a traceback frame of smtplib shows: starttls() upgrading, or SMTP_SSL's
    _get_socket() wrapping the new socket (implicit TLS). smtplib's plain _get_socket() names no TLS."""
    if frame.endswith(", in starttls"):
        return "starttls"
    if frame.endswith(", in _get_socket") and "wrap_socket(" in code:
        return "implicit"
    return None


def _event(exc: str, text: str) -> tuple[str, str | None]:
    short = exc.rsplit(".", 1)[-1]
    if short in EVENT:
        event, stage = EVENT[short]
        if short == "SMTPNotSupportedError" and "STARTTLS" not in text:
            return "send_failed", None
        return event, stage
    if short.startswith("SSL") or exc.startswith("ssl."):
        return "tls_failed", "STARTTLS"
    return "connect_failed", "connect"


@dataclass
class SmtplibState(ParserState):
    # Where reading stands in one file (kept per file by incremental runs, parsers/base.py)
    stamp: str | None = file_field(default=None)  # time of the current log record
    in_traceback: bool = file_field(default=False)
    chained: bool = file_field(default=False)  # "During handling of the above exception ..." seen
    through_smtplib: bool = file_field(default=False)
    frame: str | None = file_field(default=None)  # the last smtplib "File ..." line (its code line follows)
    tls_mode: str | None = file_field(default=None)  # what the current traceback's smtplib frames show
    # The last exception line of the current traceback, emitted when the traceback ends:
    # (exception, text, line, line number, the exception it was raised while handling, TLS mode)
    pending: tuple[str, str, str, int, str | None, str | None] | None = file_field(default=None, open_record=True)
    chained_pending: bool = file_field(default=False)


class SmtplibParser(BaseParser):
    name = NAME
    description = "Python smtplib failures in application logs (logging formats, tracebacks)"
    traits = Traits(multiline=True)
    State = SmtplibState

    def detect(self, lines: list[str]) -> float:
        # smtplib's own exception lines, or log records that end in an smtplib exception's repr.
        hits = sum(1 for x in lines
                   if (x.startswith("smtplib.SMTP") and EXCEPTION.match(x)) or (RECORD.match(x) and _repr(x)))
        return hits / len(lines) if lines else 0.0

    def parse(self, lines: list[str], first_line_no: int, ctx: FileContext, state: SmtplibState) -> None:
        for offset, line in enumerate(lines):
            if line.startswith("Traceback (most recent call last)"):
                if not state.chained:  # a new traceback, not the next part of a chained one
                    self.finish(ctx, state)
                    state.through_smtplib = False
                    state.tls_mode = None
                state.chained_pending = state.chained
                state.in_traceback, state.chained, state.frame = True, False, None
                ctx.ignore()
                continue
            if state.in_traceback:
                if line.startswith(" ") and EXCEPTION_IN_LINE.match(line.lstrip()) and "smtplib." in line[:60]:
                    state.in_traceback = False  # an indented exception line of its own, not a frame's code
                    self.finish(ctx, state)
                elif line.startswith(" "):
                    if state.frame is not None:  # the code line under an smtplib frame
                        state.tls_mode = _tls_frame(state.frame, line) or state.tls_mode
                    state.frame = line.rstrip() if line.startswith("  File ") and "smtplib" in line else None
                    if "smtplib" in line:
                        state.through_smtplib = True
                    ctx.ignore()
                    continue
                if line.startswith(("During handling of the above exception", "The above exception was")):
                    state.chained = True
                    ctx.ignore()
                    continue
                if not line:
                    ctx.ignore()
                    continue
                e = EXCEPTION.match(line)
                if e:
                    # counted as ignored now; a failure line when finish() emits its row (opened)
                    ctx.ignore()
                    self._exception(e.group(1), e.group(2), line, first_line_no + offset, ctx, state)
                    continue
                state.in_traceback = False
                self.finish(ctx, state)
            r = RECORD.match(line)
            if r:
                state.stamp = r.group(1)
            else:
                p = PREFIX.match(line)
                if p:
                    state.stamp = p.group("stamp")
            rep = _repr(line) if "(" in line else None
            if rep and not line[:rep[2]].endswith("raise "):  # (a frame's code line is no record)
                self._emit(rep[0], rep[1], line, first_line_no + offset, ctx, state, None)
                continue
            e = EXCEPTION_IN_LINE.search(line) if "SMTP" in line else None
            if e:
                self._emit(e.group(1), e.group(2), line, first_line_no + offset, ctx, state, None)
            elif "SMTP" in line and FAILURE_MARKERS.search(line):
                ctx.unparsed(first_line_no + offset, line)  # smtplib's exception in a shape not read: shown
            else:
                ctx.ignore()  # everything else in an application log is noise

    def _exception(self, exc: str, text: str, line: str, line_no: int, ctx: FileContext, state: SmtplibState) -> None:
        if not (exc.startswith("smtplib.") or (state.through_smtplib and exc in NETWORK)):
            return
        cause = None
        if state.pending is not None and state.chained_pending:
            # A chained traceback is one failure: the last exception, naming the first.
            cause = f"{state.pending[0].rsplit('.', 1)[-1]}: {state.pending[1]}"
        else:
            self.finish(ctx, state)
        state.pending = (exc, text, line, line_no, cause, state.tls_mode)
        state.chained_pending = False

    def finish(self, ctx: FileContext, state: SmtplibState) -> None:
        """Emit the failure of a traceback that has ended (also called at the end of a file)."""
        if state.pending is not None:
            exc, text, line, line_no, cause, tls_mode = state.pending
            state.pending = None
            row = self._emit(exc, text, line, line_no, ctx, state, cause, opened=True)
            row["tls_mode"] = tls_mode or row["tls_mode"]

    @staticmethod
    def _emit(exc: str, text: str, line: str, line_no: int, ctx: FileContext, state: SmtplibState,
              cause: str | None, opened: bool = False) -> dict[str, Any]:
        short = exc.rsplit(".", 1)[-1]
        event, stage = _event(exc, text)
        ct = CODE_TEXT.search(text)
        code = ascii_int(ct.group("code"), "smtp_code") if ct else None
        reply = (ct.group("text1") or ct.group("text2") or "").replace("\\n", " ") if ct else text.strip("'\"")
        diagnostic = f"{code} {reply}" if code else f"{short}: {reply}"
        if cause:
            diagnostic = f"{diagnostic} (after {cause})"
        rc = RCPT_DICT.search(text)
        rcpt = rc.group("rcpt") if rc else None
        row: dict[str, Any] = {
            "source": NAME,
            "program": "python smtplib",
            "event": event,
            "direction": "outbound",
            "recipient": rcpt,
            "recipient_domain": domain_of(rcpt),
            "sender": ct.group("sender") if ct else None,
            "smtp_code": code,
            "enhanced_status": split_reply(reply)[1],
            "smtp_stage": stage,
            "error_code": short,
            "diagnostic": diagnostic,
            # SMTPNotSupportedError('STARTTLS extension not supported by server.') comes from starttls()
            "tls_mode": "starttls" if event == "tls_failed" and stage == "STARTTLS" and "STARTTLS" in text else None,
        }
        return ctx.emit(row, state.stamp or "", line_no, line, opened=opened)


PARSER = SmtplibParser()

TB = "Traceback (most recent call last):"
FRAME = '  File "/root/.pyenv/versions/3.11.7/lib/python3.11/smtplib.py", line 901, in sendmail'
SAMPLES: tuple[Sample, ...] = (
    Sample(
        "smtplib.SMTPRecipientsRefused: {'nouser@gmail-like.example': (550, b\"5.1.1 The email account that you tried to reach does not exist. Please try\\n5.1.1 double-checking the recipient's email address for typos or\\n5.1.1 unnecessary spaces. For more information, go to\\n5.1.1  https://support.google.com/mail/?p=NoSuchUser q38si2452950nwe.524 - gsmtp\")}",
        context=("2026-11-27 20:58:41,542 ERROR shop.mailer: could not send order 1002 confirmation", TB, FRAME,
                 "    raise SMTPRecipientsRefused(senderrs)"),
        expect={"event": "send_failed", "recipient": "nouser@gmail-like.example", "smtp_code": 550,
                "enhanced_status": "5.1.1", "smtp_stage": "RCPT TO", "error_code": "SMTPRecipientsRefused",
                "time_zone": "assumed:UTC", "category": "recipient_unknown"}),
    Sample(
        "2026-11-27 20:58:41,555 ERROR shop.mailer: could not send password reset: SMTPAuthenticationError(535, b'5.7.8 Username and Password not accepted. For more information, go to\\n5.7.8  https://support.google.com/mail/?p=BadCredentials u58si3522213otm.905 - gsmtp')",
        expect={"event": "auth_failed", "smtp_code": 535, "smtp_stage": "AUTH", "category": "auth_failed"}),
    Sample(
        "ConnectionRefusedError: [Errno 111] Connection refused",
        context=("2026-11-27 20:58:41,555 ERROR shop.mailer: could not send order 1003 confirmation", TB,
                 '  File "/root/.pyenv/versions/3.11.7/lib/python3.11/smtplib.py", line 341, in connect'),
        expect={"event": "connect_failed", "smtp_stage": "connect", "category": "connection_refused",
                "diagnostic": "ConnectionRefusedError: [Errno 111] Connection refused"}),
    Sample(
        "smtplib.SMTPServerDisconnected: Connection unexpectedly closed: timed out",
        context=("2026-11-27 20:58:44,562 ERROR shop.mailer: could not send order 1004 confirmation", TB,
                 '  File "/root/.pyenv/versions/3.11.7/lib/python3.11/smtplib.py", line 398, in getreply',
                 "TimeoutError: timed out", "",
                 "During handling of the above exception, another exception occurred:", "", TB,
                 '  File "/root/.pyenv/versions/3.11.7/lib/python3.11/smtplib.py", line 404, in getreply'),
        expect={"event": "connect_failed", "category": "connection_timeout",
                "diagnostic": "SMTPServerDisconnected: Connection unexpectedly closed: timed out "
                              "(after TimeoutError: timed out)"}),
    Sample(
        "ssl.SSLError: [SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)",
        context=("2026-11-27 20:58:44,654 ERROR shop.mailer: could not send order 1005 confirmation", TB,
                 '  File "/root/.pyenv/versions/3.11.7/lib/python3.11/smtplib.py", line 1057, in _get_socket',
                 "    new_socket = self.context.wrap_socket(new_socket,"),
        expect={"event": "tls_failed", "category": "wrong_port_or_protocol", "tls_mode": "implicit"}),
    Sample(
        "ssl.SSLCertVerificationError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate (_ssl.c:1006)",
        context=("2026-11-27 20:58:44,666 ERROR shop.mailer: could not send invoice 77", TB,
                 '  File "/root/.pyenv/versions/3.11.7/lib/python3.11/smtplib.py", line 790, in starttls',
                 "    self.sock = context.wrap_socket(self.sock,"),
        expect={"event": "tls_failed", "category": "tls_certificate", "tls_mode": "starttls"}),
    Sample(
        "2026-11-27 20:58:44,670 ERROR shop.mailer: could not send invoice 78: SMTPNotSupportedError('STARTTLS extension not supported by server.')",
        expect={"event": "tls_failed", "smtp_stage": "STARTTLS", "category": "tls_required", "tls_mode": "starttls"}),
    Sample(
        "smtplib.SMTPSenderRefused: (530, b'5.7.0 Authentication Required. For more information, go to\\n5.7.0  https://support.google.com/mail/?p=WantAuthError b84si3281373cvi.830 - gsmtp', 'shop@example.com')",
        context=("2026-11-27 20:58:44,741 ERROR shop.mailer: could not send order 1006 confirmation", TB, FRAME),
        expect={"event": "send_failed", "sender": "shop@example.com", "smtp_code": 530, "smtp_stage": "MAIL FROM",
                "category": "auth_required"}),
    Sample(
        "smtplib.SMTPDataError: (552, b\"5.2.3 Your message exceeded Google's message size limits. For more\\n5.2.3 information, go to\\n5.2.3  https://support.google.com/mail/?p=MaxSizeError p98si9594332glm.635 - gsmtp\")",
        context=("2026-11-27 20:58:44,733 ERROR shop.mailer: could not send catalogue", TB, FRAME),
        expect={"event": "send_failed", "smtp_code": 552, "smtp_stage": "end of DATA", "category": "message_too_large"}),
    Sample(
        "smtplib.SMTPAuthenticationError: (534, b'5.7.9 Application-specific password required. Learn more at\\n5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor l88si3872448xsq.418 - gsmtp')",
        context=("2026-11-27 21:30:17,135 ERROR shop.mailer: could not send order 1008 confirmation", TB,
                 '  File "/root/.pyenv/versions/3.11.7/lib/python3.11/smtplib.py", line 750, in login'),
        expect={"event": "auth_failed", "smtp_code": 534, "smtp_stage": "AUTH", "category": "auth_app_password"}),
    Sample(  # a mistyped host, run in tools/samples/sandbox.sh (loopback-only network, stub DNS: NXDOMAIN)
        "socket.gaierror: [Errno -2] Name or service not known",
        context=("2026-11-27 22:00:58,831 ERROR shop.mailer: could not send order 1012 confirmation", TB,
                 '  File "/root/.pyenv/versions/3.11.7/lib/python3.11/smtplib.py", line 312, in _get_socket',
                 "    return socket.create_connection((host, port), timeout,",
                 '  File "/root/.pyenv/versions/3.11.7/lib/python3.11/socket.py", line 962, in getaddrinfo'),
        expect={"event": "connect_failed", "smtp_stage": "connect", "error_code": "gaierror", "tls_mode": None,
                "category": "server_unresolvable"}),
    Sample("2026-11-27 20:58:41,488 INFO shop.mailer: sending order 1001 confirmation to sam@gmail-like.example via 127.0.0.1:2525",
           ignore=""),
)
