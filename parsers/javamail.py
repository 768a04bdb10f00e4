"""Jakarta Mail / JavaMail failures in Java application logs (java.util.logging, log4j/logback).

    Nov 27, 2026 9:23:13 PM JavaMailScenarios main        <- java.util.logging record header
    SEVERE: could not send order 3002
    jakarta.mail.SendFailedException: Invalid Addresses;   <- the exception, message may span lines
      nested exception is:
    <TAB>com.sun.mail.smtp.SMTPAddressFailedException: 550-5.1.1 The email account ...
    <TAB>at ...
    Caused by: com.sun.mail.smtp.SMTPAddressFailedException: 550-5.1.1 ...

One stack trace is one failure: the first exception of the mail library, with the SMTP reply of
the first exception in the chain that has one, and the last "Caused by" (the root cause). Other
lines of the application log are counted as ignored. Texts are Jakarta Mail's (com.sun.mail.smtp
.SMTPTransport, jakarta.mail.*); every shape has a real line below, written by Jakarta Mail 2.0 on
OpenJDK 17 here against the loopback trouble server (tools/samples/JavaMailScenarios.java).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from logscan.parsers.base import BaseParser, FileContext, ParserState, Sample, Traits, ascii_int, file_field
from logscan.smtp import split_reply
from logscan.timestamps import strptime_iso

NAME = "javamail"

MAIL_EXCEPTION = re.compile(
    r"((?:jakarta\.mail|javax\.mail|com\.sun\.mail|org\.eclipse\.angus\.mail)[\w.$]{0,200}"
    r"(?:Exception|Error)): ?(.{0,8000})$")
# the same named inside a log record ("ERROR c.e.Mailer : send failed: jakarta.mail.MessagingException: ...",
# Spring's "...; nested exception is jakarta.mail.AuthenticationFailedException: 535 ...")
MAIL_EXCEPTION_IN_LINE = re.compile(
    r"(?<![\w.])((?:jakarta\.mail|javax\.mail|com\.sun\.mail|org\.eclipse\.angus\.mail)\.[\w.$]{0,200}"
    r"(?:Exception|Error)): ?(.{0,8000})$")
# A line that names an exception of the mail library is part of a failure row or an unparsed line,
# never ignored (tests/test_failure_markers.py)
FAILURE_MARKERS = re.compile(r"(?<![\w.])(?:jakarta\.mail|javax\.mail|com\.sun\.mail|org\.eclipse\.angus\.mail)\.[\w.$]{0,200}?"
                             r"(?:Exception|Error)\b")
ANY_EXCEPTION = re.compile(r"\t?(?:Caused by: )?([a-z][\w.$]{0,200}\.[A-Z][\w$]{0,100}(?:Exception|Error)): ?(.{0,8000})$")
JUL_HEADER = re.compile(r"([A-Z][a-z]{2} \d{1,2}, \d{4} \d{1,2}:\d\d:\d\d [AP]M) \S")
# SMTPTransport.openServer(): "Couldn't connect to host, port: HOST, PORT; timeout N;" and
# "Could not connect to SMTP host: HOST, port: PORT;"
SERVER = re.compile(r"(?:Couldn't connect to host, port|Could not connect to SMTP host): (?P<host>[^,\s]{1,255}),(?: port:)? (?P<port>\d{1,5})\b")
# stack frames that show the TLS mode: SMTPTransport.startTLS (STARTTLS); SocketFetcher's
# configureSSLSocket reached from createSocket, not from startTLS (mail.smtp.ssl.enable: implicit)
STARTTLS_FRAME = "at com.sun.mail.smtp.SMTPTransport.startTLS("
SSL_SOCKET_FRAME = "at com.sun.mail.util.SocketFetcher.configureSSLSocket("
# A trace's state stays bounded whatever follows its first line (the lines beyond are still counted).
MAX_CHAIN, MAX_MESSAGE_LINES = 64, 200
ISO_HEADER = re.compile(r"(\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[.,]\d{1,6})?(?:Z|[+-]\d\d:?\d\d)?) ")


def _event(types: list[str], text: str) -> tuple[str, str | None]:
    joined = " ".join(types)
    if "AuthenticationFailedException" in joined:
        return "auth_failed", "AUTH"
    if "ssl" in joined.lower() or "TLS" in text:
        return "tls_failed", "STARTTLS"
    if re.search(r"ConnectException|MailConnectException|SocketTimeoutException|UnknownHostException", joined) \
            or "Exception reading response" in text:
        return "connect_failed", "connect"
    if "SMTPAddressFailedException" in joined or "SendFailedException" in joined and "Invalid Addresses" in text:
        return "send_failed", "RCPT TO"
    return "send_failed", None


@dataclass
class JavamailState(ParserState):
    # Where reading stands in one file (kept per file by incremental runs, parsers/base.py)
    stamp: str | None = file_field(default=None)
    # the stack trace being read: (line no, first line, [(type, message lines)])
    trace: tuple[int, str, list[list[Any]]] | None = file_field(default=None, open_record=True)
    tls_mode: str | None = file_field(default=None)  # what the trace's frames show
    blank: bool = file_field(default=False)  # the last line of the trace was blank


class JavamailParser(BaseParser):
    name = NAME
    description = "Jakarta Mail / JavaMail exceptions in Java application logs"
    traits = Traits(multiline=True)
    State = JavamailState

    def detect(self, lines: list[str]) -> float:
        hits = sum(1 for x in lines if MAIL_EXCEPTION.match(x.removeprefix("Caused by: ").lstrip("\t")))
        return hits / len(lines) if lines else 0.0

    def parse(self, lines: list[str], first_line_no: int, ctx: FileContext, state: JavamailState) -> None:
        for offset, line in enumerate(lines):
            if state.trace is not None and state.blank and not line.startswith(("\tat ", "\t... ", "Caused by: ")):
                self.finish(ctx, state)  # the blank line ended the trace
            if state.trace is not None:
                # a blank line ends the trace unless its frames go on (a reply that ended in CRLF
                # leaves a blank line between the message and the frames)
                state.blank = not line.strip()
                if line.startswith(("\tat ", "\t... ", "  nested exception is:")) or state.blank:
                    if STARTTLS_FRAME in line:
                        state.tls_mode = "starttls"
                    elif SSL_SOCKET_FRAME in line and state.tls_mode is None:
                        state.tls_mode = "implicit"
                    ctx.ignore()
                    continue
                e = ANY_EXCEPTION.match(line)
                if e and (line.startswith(("\t", "Caused by: "))):
                    if len(state.trace[2]) < MAX_CHAIN:
                        state.trace[2].append([e.group(1), [e.group(2)]])
                    ctx.ignore()
                    continue
                if not (JUL_HEADER.match(line) or ISO_HEADER.match(line) or re.match(r"[A-Z]{4,8}: ", line)
                        or (line[:1] != "\t" and MAIL_EXCEPTION_IN_LINE.search(line))):
                    if len(state.trace[2][-1][1]) < MAX_MESSAGE_LINES:
                        state.trace[2][-1][1].append(line)  # the message continues on this line
                    ctx.ignore()
                    continue
                self.finish(ctx, state)  # (a mail exception of its own starts a new trace)
            h = JUL_HEADER.match(line)
            if h:
                state.stamp = strptime_iso(h.group(1), "%b %d, %Y %I:%M:%S %p")
                ctx.ignore()
                continue
            i = ISO_HEADER.match(line)
            if i:
                state.stamp = i.group(1)
            m = MAIL_EXCEPTION.match(line) or MAIL_EXCEPTION_IN_LINE.search(line)
            if m:
                state.trace = (first_line_no + offset, line, [[m.group(1), [m.group(2)]]])
                state.tls_mode = None
                ctx.ignore()  # a failure line when finish() emits its row (opened)
            elif FAILURE_MARKERS.search(line):
                ctx.unparsed(first_line_no + offset, line)  # a mail exception in a shape not read: shown
            else:
                ctx.ignore()

    def finish(self, ctx: FileContext, state: JavamailState) -> None:
        """Emit the stack trace being read (at a blank line, the next record, or the end)."""
        trace, state.trace, state.blank = state.trace, None, False
        if trace is None:
            return
        line_no, line, chain = trace
        messages = [(t, " ".join(x.strip() for x in lines if x.strip())) for t, lines in chain]
        top_type, top = messages[0]
        with_code = next(((t, msg) for t, msg in messages if split_reply(msg)[0]), None)
        reply = with_code[1] if with_code else top
        root_type, root = messages[-1]
        diagnostic = reply if with_code else top
        if root and root != diagnostic and root_type != top_type:
            diagnostic = f"{diagnostic} (caused by {root_type.rsplit('.', 1)[-1]}: {root})"
        event, stage = _event([t for t, _ in messages], diagnostic)
        code, enh = split_reply(reply)
        row = {
            "source": NAME,
            "program": "jakarta mail",
            "event": event,
            "direction": "outbound",
            "smtp_code": code,
            "enhanced_status": enh,
            "smtp_stage": stage,
            "error_code": top_type.rsplit(".", 1)[-1],
            "diagnostic": diagnostic,
            # "STARTTLS is required but host does not support STARTTLS": the client asked for it
            "tls_mode": "starttls" if "STARTTLS" in top else state.tls_mode,
        }
        server = SERVER.search(top)
        if server:
            row["relay_host"], row["relay_port"] = server.group("host"), ascii_int(server.group("port"), "relay_port")
        ctx.emit(row, state.stamp or "", line_no, line, opened=True)


PARSER = JavamailParser()

SAMPLES: tuple[Sample, ...] = (
    Sample(
        '550 5.1.1  https://support.google.com/mail/?p=NoSuchUser a52si2501329cyu.720 - gsmtp',
        context=(
            'Nov 27, 2026 9:23:13 PM JavaMailScenarios main',
            'SEVERE: could not send order 3002',
            'jakarta.mail.SendFailedException: Invalid Addresses;',
            '  nested exception is:',
            '\tcom.sun.mail.smtp.SMTPAddressFailedException: 550-5.1.1 The email account that you tried to reach does not exist. Please try',
            "550-5.1.1 double-checking the recipient's email address for typos or",
            '550-5.1.1 unnecessary spaces. For more information, go to',
        ),
        expect={'event': 'send_failed', 'smtp_stage': 'RCPT TO', 'smtp_code': 550, 'error_code': 'SendFailedException', 'category': 'recipient_unknown'}),
    Sample(
        '535 5.7.8  https://support.google.com/mail/?p=BadCredentials p35si7236121vlw.940 - gsmtp',
        context=(
            'Nov 27, 2026 9:23:13 PM JavaMailScenarios main',
            'SEVERE: could not send password reset',
            'jakarta.mail.AuthenticationFailedException: 535-5.7.8 Username and Password not accepted. For more information, go to',
        ),
        expect={'event': 'auth_failed', 'smtp_code': 535, 'enhanced_status': '5.7.8', 'smtp_stage': 'AUTH', 'error_code': 'AuthenticationFailedException', 'category': 'auth_failed'}),
    Sample(
        '\t... 8 more',
        context=(
            'Nov 27, 2026 9:23:13 PM JavaMailScenarios main',
            'SEVERE: could not send order 3003',
            "com.sun.mail.util.MailConnectException: Couldn't connect to host, port: 127.0.0.1, 2599; timeout 5000;",
            '  nested exception is:',
            '\tjava.net.ConnectException: Connection refused',
            '\tat com.sun.mail.smtp.SMTPTransport.openServer(SMTPTransport.java:2210)',
            '\tat com.sun.mail.smtp.SMTPTransport.protocolConnect(SMTPTransport.java:722)',
            'Caused by: java.net.ConnectException: Connection refused',
            '\tat java.base/sun.nio.ch.Net.pollConnect(Native Method)',
            '\tat java.base/sun.nio.ch.Net.pollConnectNow(Net.java:672)',
        ),
        expect={'event': 'connect_failed', 'smtp_stage': 'connect', 'error_code': 'MailConnectException', 'category': 'connection_refused',
                'relay_host': '127.0.0.1', 'relay_port': 2599, 'tls_mode': None}),
    Sample(
        '\t... 9 more',
        context=(
            'Nov 27, 2026 9:23:16 PM JavaMailScenarios main',
            'SEVERE: could not send order 3004',
            'jakarta.mail.MessagingException: Exception reading response;',
            '  nested exception is:',
            '\tjava.net.SocketTimeoutException: Read timed out',
            '\tat com.sun.mail.smtp.SMTPTransport.readServerResponse(SMTPTransport.java:2476)',
            '\tat com.sun.mail.smtp.SMTPTransport.openServer(SMTPTransport.java:2172)',
            'Caused by: java.net.SocketTimeoutException: Read timed out',
            '\tat java.base/sun.nio.ch.NioSocketImpl.timedRead(NioSocketImpl.java:288)',
            '\tat java.base/sun.nio.ch.NioSocketImpl.implRead(NioSocketImpl.java:314)',
        ),
        expect={'event': 'connect_failed', 'category': 'connection_timeout'}),
    Sample(
        '\t... 8 more',
        context=(
            'Nov 27, 2026 9:23:16 PM JavaMailScenarios main',
            'SEVERE: could not send order 3005',
            'jakarta.mail.MessagingException: Could not connect to SMTP host: 127.0.0.1, port: 2526;',
            '  nested exception is:',
            '\tjavax.net.ssl.SSLException: Unsupported or unrecognized SSL message',
            '\tat com.sun.mail.smtp.SMTPTransport.openServer(SMTPTransport.java:2212)',
            '\tat com.sun.mail.smtp.SMTPTransport.protocolConnect(SMTPTransport.java:722)',
            'Caused by: javax.net.ssl.SSLException: Unsupported or unrecognized SSL message',
            '\tat java.base/sun.security.ssl.SSLSocketInputRecord.handleUnknownRecord(SSLSocketInputRecord.java:457)',
            '\tat java.base/sun.security.ssl.SSLSocketInputRecord.decode(SSLSocketInputRecord.java:175)',
            '\tat com.sun.mail.util.SocketFetcher.configureSSLSocket(SocketFetcher.java:602)',
        ),
        expect={'event': 'tls_failed', 'category': 'wrong_port_or_protocol', 'relay_host': '127.0.0.1', 'relay_port': 2526,
                'tls_mode': 'implicit'}),
    Sample(
        '\t... 27 more',
        context=(
            'Nov 27, 2026 9:23:16 PM JavaMailScenarios main',
            'SEVERE: could not send invoice 91',
            'jakarta.mail.MessagingException: Could not convert socket to TLS;',
            '  nested exception is:',
            '\tjavax.net.ssl.SSLHandshakeException: PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target',
            '\tat com.sun.mail.smtp.SMTPTransport.startTLS(SMTPTransport.java:2140)',
            '\tat com.sun.mail.smtp.SMTPTransport.protocolConnect(SMTPTransport.java:734)',
            'Caused by: javax.net.ssl.SSLHandshakeException: PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target',
            '\tat java.base/sun.security.ssl.Alert.createSSLException(Alert.java:131)',
            '\tat java.base/sun.security.ssl.TransportContext.fatal(TransportContext.java:383)',
            '\t... 8 more',
            'Caused by: sun.security.validator.ValidatorException: PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target',
            '\tat java.base/sun.security.validator.PKIXValidator.doBuild(PKIXValidator.java:439)',
            '\tat java.base/sun.security.validator.PKIXValidator.engineValidate(PKIXValidator.java:306)',
            '\t... 22 more',
            'Caused by: sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target',
            '\tat java.base/sun.security.provider.certpath.SunCertPathBuilder.build(SunCertPathBuilder.java:148)',
            '\tat java.base/sun.security.provider.certpath.SunCertPathBuilder.engineBuild(SunCertPathBuilder.java:129)',
        ),
        expect={'event': 'tls_failed', 'smtp_stage': 'STARTTLS', 'category': 'tls_certificate', 'tls_mode': 'starttls'}),
    Sample(
        '\tat jakarta.mail.Service.connect(Service.java:342)',
        context=(
            'Nov 27, 2026 9:23:16 PM JavaMailScenarios main',
            'SEVERE: could not send invoice 92',
            'jakarta.mail.MessagingException: STARTTLS is required but host does not support STARTTLS',
            '\tat com.sun.mail.smtp.SMTPTransport.protocolConnect(SMTPTransport.java:744)',
        ),
        expect={'event': 'tls_failed', 'category': 'tls_required', 'tls_mode': 'starttls'}),
    Sample(
        '552 5.2.3  https://support.google.com/mail/?p=MaxSizeError d99si2753041xwm.125 - gsmtp',
        context=(
            'Nov 27, 2026 9:23:16 PM JavaMailScenarios main',
            'SEVERE: could not send catalogue',
            "com.sun.mail.smtp.SMTPSendFailedException: 552-5.2.3 Your message exceeded Google's message size limits. For more",
            '552-5.2.3 information, go to',
        ),
        expect={'event': 'send_failed', 'smtp_code': 552, 'error_code': 'SMTPSendFailedException', 'category': 'message_too_large'}),
    Sample(
        '530 5.7.0  https://support.google.com/mail/?p=WantAuthError a24si6430458nrc.935 - gsmtp',
        context=(
            'Nov 27, 2026 9:23:16 PM JavaMailScenarios main',
            'SEVERE: could not send order 3006',
            'com.sun.mail.smtp.SMTPSendFailedException: 530-5.7.0 Authentication Required. For more information, go to',
        ),
        expect={'smtp_code': 530, 'category': 'auth_required'}),
    Sample(  # a mistyped host, run in tools/samples/sandbox.sh (loopback-only network, stub DNS: NXDOMAIN)
        '\t... 8 more',
        context=(
            'Nov 27, 2026 10:02:00 PM JavaMailScenarios main',
            'SEVERE: could not send order 3011',
            "com.sun.mail.util.MailConnectException: Couldn't connect to host, port: smtp.gmial-like.example, 2525; timeout 5000;",
            '  nested exception is:',
            '\tjava.net.UnknownHostException: smtp.gmial-like.example',
            '\tat com.sun.mail.smtp.SMTPTransport.openServer(SMTPTransport.java:2210)',
            'Caused by: java.net.UnknownHostException: smtp.gmial-like.example',
            '\tat java.base/sun.nio.ch.NioSocketImpl.connect(NioSocketImpl.java:572)',
        ),
        expect={'event': 'connect_failed', 'smtp_stage': 'connect', 'relay_host': 'smtp.gmial-like.example',
                'relay_port': 2525, 'category': 'server_unresolvable'}),
    Sample("Nov 27, 2026 9:23:13 PM JavaMailScenarios main", ignore=""),
)
