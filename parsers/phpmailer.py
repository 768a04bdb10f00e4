"""PHPMailer's SMTP debug output (SMTPDebug 1-4; Debugoutput echo or error_log), as WordPress SMTP
plugins and PHP applications record it.

    2026-11-27 21:11:10<TAB>SMTP ERROR: RCPT TO command failed: 550-5.1.1 The email account ...
                       <TAB>                  550 5.1.1  https://support.google.com/...   (continuation)
    [27-Nov-2026 21:10:51 UTC] SMTP ERROR: Password command failed: 535-5.7.8 ...         (error_log)

One failed send is one row: the specific "SMTP ERROR: <command> command failed: <reply>" or
"SMTP ERROR: Failed to connect to server: <reason> (<errno>)" line; the summaries that follow
("SMTP Error: Could not authenticate.", "Mailer Error: ...") are counted as ignored with that
reason, or become the row when no specific line came first (certificate failures, timeouts).
A bare summary gets the cause the same attempt logged before it: a greeting that was not 220
("SERVER -> CLIENT: 421 ..."), an empty greeting, and at SMTPDebug 3/4 PHP's warnings
("Connection failed. Error #2: stream_socket_client(): ...") and get_lines()'s
"select timed-out" / 'SMTP INBOUND: ""' (end of file). The rest of the transcript is ignored. Texts are PHPMailer's (src/SMTP.php, src/PHPMailer.php);
every shape has a real line below, written by PHPMailer 6.6.3 on PHP 8.2 here against the loopback
trouble server (tools/samples/make_phpmailer_samples.sh, sample_logs/phpmailer/).
"""

from __future__ import annotations

import re
from typing import Any

from logscan.parsers.base import FileContext, Sample, ascii_int
from logscan.smtp import domain_of, split_reply
from logscan.timestamps import strptime_iso

NAME = "phpmailer"

ECHO_STAMP = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\t")
ERROR_LOG_STAMP = re.compile(r"\[(\d\d-[A-Z][a-z]{2}-\d{4} \d\d:\d\d:\d\d)(?: (UTC|[A-Za-z_/+-]{1,40}))?\] ")
COMMAND_FAILED = re.compile(r"SMTP ERROR: (?P<cmd>[A-Z][A-Za-z ]{0,20}) command failed: ?(?P<reply>.*)$")
CONNECT_FAILED = re.compile(r"SMTP ERROR: Failed to connect to server: (?P<reason>.*?) ?\((?P<errno>-?\d{1,6})\)$")
MAX_TEXT = 8000  # a diagnostic or PHP warning continued over lines stops growing here
SUMMARIES = ("SMTP Error: ", "Mailer Error: ", "SMTP connect() failed")
# SMTP.php errorHandler(): "Connection failed. Error #2: <PHP warning> [<file> line <n>]" (level 3+)
PHP_WARNING = re.compile(r"Connection failed\. Error #\d{1,6}: (?P<msg>.*)$")
WARNING_WHERE = re.compile(r" \[[^\[\]]{1,500} line \d{1,7}\]$")
# SMTP.php connect() (level 3+): "Connection: opening to ssl://smtp.example.com:465, timeout=300, ..."
OPENING = re.compile(r"Connection: opening to (?:(?P<wrap>ssl|tls)://)?(?P<host>\[[^\]\s]{1,64}\]|[^\s:]{1,255}):(?P<port>\d{1,5}),")
# the envelope as the transcript shows it (SMTPDebug 1+)
ENVELOPE = re.compile(r"CLIENT -> SERVER: (?P<cmd>MAIL FROM|RCPT TO):<(?P<addr>[^<>\s]{0,512})>")
# SMTP.php get_lines() (level 4): why it stopped reading
GET_LINES = re.compile(r"SMTP -> get_lines\(\): (?P<why>(?:select|stream) timed-out.{0,40}|timelimit reached.{0,40}|select failed.{0,300})$")
STAGE = {"RCPT TO": "RCPT TO", "MAIL FROM": "MAIL FROM", "DATA END": "end of DATA", "DATA": "DATA",
         "STARTTLS": "STARTTLS", "Password": "AUTH", "Username": "AUTH", "AUTH": "AUTH", "EHLO": "EHLO",
         "HELO": "HELO"}


def _event(stage: str | None, text: str) -> str:
    if stage == "AUTH" or "authenticate" in text:
        return "auth_failed"
    if stage == "STARTTLS" or "crypto" in text or "SSL" in text or "TLS" in text:
        return "tls_failed"
    if stage in ("RCPT TO", "MAIL FROM", "end of DATA", "DATA") or "recipients failed" in text or "data not" in text:
        return "send_failed"
    return "connect_failed"


class PhpmailerState:
    # Everything is one file's: a send attempt, and the row that continuation lines of a multi-line
    # reply still extend. finish() clears it at the end of a file, so one site's log never lends
    # its causes or server to the next file's first failure; an incremental scan carries it per
    # file from one run to the next (take_record / restore_record), as a send attempt may be
    # logged across two runs.
    FILE_STATE = ("stamp", "attempt_row", "causes", "cause_open", "sent", "quit", "greeting", "server", "tls_mode",
                  "sender", "recipient", "last_row")
    OPEN_RECORD = "last_row"

    def __init__(self) -> None:
        self.stamp: str | None = None
        self.attempt_row = False  # the current send attempt already has its failure row
        self.last_row: dict[str, Any] | None = None  # continuation lines extend its diagnostic
        self.new_attempt()

    def new_attempt(self) -> None:
        """What one connection attempt logged that may explain a bare summary later."""
        self.causes: list[str] = []  # PHP warnings and get_lines() notes, in order
        self.cause_open = False  # continuation lines extend the last cause
        self.sent = False  # the client has sent a command (so a reply is no longer the greeting)
        self.quit = False  # QUIT sent: its reply ends the connection
        self.greeting: str | None = None  # a greeting that was not 220; "" = none came
        self.server: tuple[str, int] | None = None  # host and port from "Connection: opening to"
        # implicit (ssl:// or tls://), starttls (STARTTLS sent), none (level 3+ showed a plain
        # connection); None when the log does not say (level 2 without STARTTLS)
        self.tls_mode: str | None = None
        self.sender: str | None = None  # MAIL FROM:<...> of this attempt
        self.recipient: str | None = None  # the last RCPT TO:<...> (PHPMailer stops at a refused one)

    def take_causes(self) -> str:
        causes = "; ".join(WARNING_WHERE.sub("", c) for c in self.causes)
        self.causes, self.cause_open = [], False
        return causes


class PhpmailerParser:
    name = NAME
    description = "PHPMailer SMTP debug output (WordPress SMTP plugins, PHP applications)"

    def detect(self, lines: list[str]) -> float:
        hits = sum(1 for x in lines
                   if (ECHO_STAMP.match(x) or ERROR_LOG_STAMP.match(x))
                   and ("SERVER -> CLIENT:" in x or "CLIENT -> SERVER:" in x or "SMTP ERROR: " in x))
        return hits / len(lines) if lines else 0.0

    def new_state(self) -> PhpmailerState:
        return PhpmailerState()

    def finish(self, ctx: FileContext, state: PhpmailerState) -> None:
        """The end of a file ends its last send attempt (its rows are already written: a row is
        made when its summary line comes)."""
        vars(state).update(vars(PhpmailerState()))

    def parse(self, lines: list[str], first_line_no: int, ctx: FileContext, state: PhpmailerState) -> None:
        for offset, line in enumerate(lines):
            m = ECHO_STAMP.match(line)
            if m:
                state.stamp, text = m.group(1), line[m.end():]
            else:
                e = ERROR_LOG_STAMP.match(line)
                if e:
                    t = strptime_iso(e.group(1), "%d-%b-%Y %H:%M:%S")  # None: no real date (30-Feb)
                    state.stamp = t and t + ("+00:00" if e.group(2) == "UTC" else "")
                    text = line[e.end():]
                elif line.startswith("Mailer Error: "):
                    text = line
                elif line.strip() and state.cause_open:
                    if len(state.causes[-1]) < MAX_TEXT:  # bounded: appending is not quadratic
                        state.causes[-1] += " " + line.strip()  # the rest of a PHP warning
                    continue
                elif line.strip() and state.last_row is not None:
                    # continuation of a multi-line reply that became a row (indented in the echo
                    # form, at column 0 in the error_log form)
                    if len(state.last_row["diagnostic"]) < MAX_TEXT:
                        state.last_row["diagnostic"] += " " + line.strip()
                    continue
                else:
                    state.last_row = None
                    continue  # the rest of a multi-line debug message
            self._text(text, line, first_line_no + offset, ctx, state)

    def _text(self, text: str, line: str, line_no: int, ctx: FileContext, state: PhpmailerState) -> None:
        state.last_row = None
        state.cause_open = False
        if text.startswith("Connection: opening to "):
            state.attempt_row = False
            state.new_attempt()
            o = OPENING.match(text)
            if o:
                state.server = (o.group("host").strip("[]"), ascii_int(o.group("port"), "relay_port"))
                state.tls_mode = "implicit" if o.group("wrap") else "none"
            return
        w = PHP_WARNING.match(text)
        if w:
            state.causes.append(w.group("msg"))
            state.cause_open = True
            return
        g = GET_LINES.match(text)
        if g:
            state.causes.append("get_lines(): " + g.group("why"))
            return
        if text == 'SMTP INBOUND: ""' and not state.sent:
            state.causes.append(text)  # get_lines() read end of file: the server closed
            return
        if text.startswith("CLIENT -> SERVER:"):
            state.sent = True
            state.quit = text == "CLIENT -> SERVER: QUIT"
            if text == "CLIENT -> SERVER: STARTTLS":
                state.tls_mode = "starttls"
            e = ENVELOPE.match(text)
            if e and e.group("cmd") == "MAIL FROM":
                state.sender, state.recipient = e.group("addr"), None
            elif e:
                state.recipient = e.group("addr")
        elif text.startswith("SERVER -> CLIENT:") and state.quit:
            state.new_attempt()  # the reply to QUIT (PHPMailer may send it after "Mailer Error")
            return
        elif text.startswith("SERVER -> CLIENT:") and not state.sent:
            greeting = text.removeprefix("SERVER -> CLIENT:").strip()
            if not greeting.startswith("220"):
                state.greeting = greeting
        if text.startswith(("CLIENT -> SERVER: EHLO", "CLIENT -> SERVER: HELO", "SERVER -> CLIENT: 220 ")):
            state.attempt_row = False  # a new connection (or TLS restart) begins
            return
        c = COMMAND_FAILED.match(text)
        if c and c.group("cmd") != "QUIT":
            stage = STAGE.get(c.group("cmd"), c.group("cmd"))
            self._emit(ctx, state, line, line_no, stage, c.group("reply"), None)
            return
        if c:
            ctx.ignored("QUIT after a failure; the failure is logged above")
            return
        f = CONNECT_FAILED.match(text)
        if f:
            reason = f.group("reason") or "(no reason given)"
            causes = state.take_causes()
            self._emit(ctx, state, line, line_no, "connect",
                       f"Failed to connect to server: {reason}" + (f" ({causes})" if causes else ""),
                       f.group("errno") if f.group("errno") != "0" else None)
            if not f.group("reason") and f.group("errno") == "0":
                # stream_socket_client() gives errno 0 and no text when the TCP connection opened
                # but starting implicit TLS (ssl://) failed (level 4 shows the OpenSSL error)
                state.last_row["event"] = "tls_failed"
            return
        if text.startswith(SUMMARIES):
            if state.attempt_row:
                ctx.ignored("PHPMailer's summary of the failure logged above")
            else:
                self._summary(text.removeprefix("Mailer Error: "), line, line_no, ctx, state)
            if text.startswith("Mailer Error: "):
                state.attempt_row = False  # the send call returned: the next attempt starts
                state.new_attempt()

    def _summary(self, summary: str, line: str, line_no: int, ctx: FileContext, state: PhpmailerState) -> None:
        """A bare summary is the row: with the cause the attempt logged before it, if any."""
        stage = "AUTH" if "authenticate" in summary else "STARTTLS" if "crypto" in summary else None
        greeting, causes = state.greeting, state.take_causes()
        if greeting:  # the server refused in its greeting ("421 4.7.0 [TSS04] ...")
            self._emit(ctx, state, line, line_no, "greeting", greeting, None)
            return
        if greeting is not None:  # connected, but no greeting came
            stage = "greeting"
            causes = causes or "no greeting from the server"
        if "Connection failed." in summary:
            causes = ""  # the summary already carries PHP's warning
        self._emit(ctx, state, line, line_no, stage, summary + (f" ({causes})" if causes else ""), None)

    @staticmethod
    def _emit(ctx: FileContext, state: PhpmailerState, line: str, line_no: int, stage: str | None, text: str,
              errno: str | None) -> None:
        code, enh = split_reply(text)
        row = {
            "source": NAME,
            "program": "phpmailer",
            "event": _event(stage, text),
            "direction": "outbound",
            "smtp_code": code,
            "enhanced_status": enh,
            "smtp_stage": stage,
            "error_code": errno,
            "diagnostic": text,
            "tls_mode": state.tls_mode,
            "sender": state.sender,
            "recipient": state.recipient,
            "recipient_domain": domain_of(state.recipient),
        }
        if state.server:
            row["relay_host"], row["relay_port"] = state.server
        state.attempt_row = True
        state.greeting = None
        state.last_row = ctx.emit(row, state.stamp or "", line_no, line)


PARSER = PhpmailerParser()

SAMPLES: tuple[Sample, ...] = (
    Sample("2026-11-27 21:11:10\tSMTP ERROR: Failed to connect to server: Connection refused (111)",
           expect={"event": "connect_failed", "smtp_stage": "connect", "error_code": "111",
                   "category": "connection_refused"}),
    Sample("2026-11-27 21:11:10\tSMTP Error: Could not connect to SMTP host.",
           context=("2026-11-27 21:11:10\tSMTP ERROR: Failed to connect to server: Connection refused (111)",),
           ignore="PHPMailer's summary of the failure logged above"),
    Sample("2026-11-27 21:11:10\tSMTP ERROR: STARTTLS command failed: 502 5.5.1 Unrecognized command.",
           context=("2026-11-27 21:11:10\tCLIENT -> SERVER: STARTTLS",),
           expect={"event": "tls_failed", "smtp_stage": "STARTTLS", "smtp_code": 502, "tls_mode": "starttls",
                   "relay_port": None}),
    Sample("2026-11-27 21:11:10\tSMTP ERROR: Password command failed: 535-5.7.8 Username and Password not accepted. For more information, go to",
           expect={"event": "auth_failed", "smtp_stage": "AUTH", "smtp_code": 535, "enhanced_status": "5.7.8",
                   "category": "auth_failed"}),
    Sample("2026-11-27 21:11:10\tSMTP ERROR: RCPT TO command failed: 550-5.1.1 The email account that you tried to reach does not exist. Please try",
           context=("2026-11-27 21:11:10\tCLIENT -> SERVER: MAIL FROM:<wordpress@blog.example.org>",
                    "2026-11-27 21:11:10\tSERVER -> CLIENT: 250 2.1.0 OK j1si5528385wyx.467 - gsmtp",
                    "2026-11-27 21:11:10\tCLIENT -> SERVER: RCPT TO:<nouser@gmail-like.example>",
                    "2026-11-27 21:11:10\tSERVER -> CLIENT: 550-5.1.1 The email account that you tried to reach does not exist. Please try"),
           expect={"event": "send_failed", "smtp_stage": "RCPT TO", "smtp_code": 550, "category": "recipient_unknown",
                   "sender": "wordpress@blog.example.org", "recipient": "nouser@gmail-like.example",
                   "recipient_domain": "gmail-like.example"}),
    Sample("2026-11-27 21:11:10\tSMTP ERROR: DATA END command failed: 552-5.2.3 Your message exceeded Google's message size limits. For more",
           expect={"event": "send_failed", "smtp_stage": "end of DATA", "category": "message_too_large"}),
    Sample("2026-11-27 21:11:10\tSMTP ERROR: RCPT TO command failed: 421-4.7.28 [127.0.0.1      15] Our system has detected an unusual rate of",
           expect={"smtp_code": 421, "category": "rate_limited"}),
    Sample("Mailer Error: SMTP connect() failed. https://github.com/PHPMailer/PHPMailer/wiki/Troubleshooting",
           context=("2026-11-27 21:11:13\tSMTP ERROR: Failed to connect to server: Connection refused (111)",
                    "2026-11-27 21:11:13\tSMTP connect() failed. https://github.com/PHPMailer/PHPMailer/wiki/Troubleshooting"),
           ignore="PHPMailer's summary of the failure logged above"),
    # SMTPDebug 4: PHP's warnings give the bare failure its cause (SMTPSecure 'ssl' on a STARTTLS port)
    Sample("2026-11-27 21:50:35\tSMTP ERROR: Failed to connect to server:  (0)",
           context=("2026-11-27 21:50:35\tConnection: opening to ssl://127.0.0.1:2526, timeout=300, options=array (",
                    "                   \t                    'ssl' => ",
                    "                   \t                  )",
                    "2026-11-27 21:50:35\tConnection failed. Error #2: stream_socket_client(): SSL operation failed with code 1. OpenSSL Error messages:",
                    "                   \t                  error:0A00010B:SSL routines::wrong version number [/usr/share/php/libphp-phpmailer/src/SMTP.php line 388]",
                    "2026-11-27 21:50:35\tConnection failed. Error #2: stream_socket_client(): Failed to enable crypto [/usr/share/php/libphp-phpmailer/src/SMTP.php line 388]"),
           expect={"event": "tls_failed", "smtp_stage": "connect", "error_code": None, "category": "wrong_port_or_protocol",
                   "relay_host": "127.0.0.1", "relay_port": 2526, "tls_mode": "implicit",
                   "diagnostic": "Failed to connect to server: (no reason given) (stream_socket_client(): SSL operation "
                                 "failed with code 1. OpenSSL Error messages: error:0A00010B:SSL routines::wrong version "
                                 "number; stream_socket_client(): Failed to enable crypto)"}),
    # ... the same at SMTPDebug 2: errno 0 without a text is a failed ssl:// start (the TCP connect worked)
    Sample("2026-11-27 21:50:25\tSMTP ERROR: Failed to connect to server:  (0)",
           expect={"event": "tls_failed", "category": "tls_handshake"}),
    Sample("2026-11-27 21:50:38\tSMTP Error: Could not connect to SMTP host.",
           context=("2026-11-27 21:50:42\tConnection: opening to 127.0.0.1:2538, timeout=3, options=array (",
                    "                   \t                  )",
                    "2026-11-27 21:50:42\tConnection: opened",
                    "2026-11-27 21:50:45\tSMTP -> get_lines(): select timed-out in (3 sec)",
                    "2026-11-27 21:50:38\tSERVER -> CLIENT:",
                    "2026-11-27 21:50:38\tConnection: closing due to error"),
           expect={"event": "connect_failed", "smtp_stage": "greeting", "category": "connection_timeout",
                   "relay_port": 2538, "tls_mode": "none"}),
    Sample("2026-11-27 21:50:38\tSMTP Error: Could not connect to SMTP host.",
           context=("2026-11-27 21:50:38\tConnection: opened",
                    '2026-11-27 21:50:38\tSMTP INBOUND: ""',
                    "2026-11-27 21:50:38\tSERVER -> CLIENT:"),
           expect={"smtp_stage": "greeting", "category": "connection_lost"}),
    Sample("2026-11-27 21:50:28\tSMTP Error: Could not connect to SMTP host.",
           context=("2026-11-27 21:50:28\tSERVER -> CLIENT: 421 4.7.0 [TSS04] Messages from 127.0.0.1 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://senders.yahooinc.com/error-codes",),
           expect={"smtp_stage": "greeting", "smtp_code": 421, "enhanced_status": "4.7.0", "category": "rate_limited"}),
    # SMTPDebug 2 does not say why no greeting came (a silent server and one that hangs up look
    # the same): the row says so, and the rules leave it unknown rather than guess
    Sample("2026-11-27 21:50:28\tSMTP Error: Could not connect to SMTP host.",
           context=("2026-11-27 21:50:28\tSERVER -> CLIENT:",),
           expect={"smtp_stage": "greeting", "category": "unknown",
                   "diagnostic": "SMTP Error: Could not connect to SMTP host. (no greeting from the server)"}),
    # a mistyped host, run in tools/samples/sandbox.sh (loopback-only network, stub DNS: NXDOMAIN)
    Sample("2026-11-27 22:01:24\tSMTP ERROR: Failed to connect to server: php_network_getaddresses: getaddrinfo for smtp.gmial-like.example failed: Name or service not known (0)",
           context=("2026-11-27 22:01:24\tConnection: opening to smtp.gmial-like.example:2525, timeout=300, options=array (",
                    "                   \t                  )"),
           expect={"event": "connect_failed", "smtp_stage": "connect", "relay_host": "smtp.gmial-like.example",
                   "relay_port": 2525, "tls_mode": "none", "category": "server_unresolvable"}),
    Sample("2026-11-27 21:11:10\tCLIENT -> SERVER: EHLO blog.example.org", ignore=""),
)
