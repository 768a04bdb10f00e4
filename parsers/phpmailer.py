"""PHPMailer's SMTP debug output (SMTPDebug 1-4), whatever its Debugoutput put before each message,
as WordPress SMTP plugins and PHP applications record it.

    2026-11-27 21:11:10<TAB>SMTP ERROR: RCPT TO command failed: 550-5.1.1 The email account ...
                       <TAB>                  550 5.1.1  https://support.google.com/...   (continuation)
    [27-Nov-2026 21:10:51 UTC] SMTP ERROR: Password command failed: 535-5.7.8 ...         (error_log)
    2026-12-04 18:41:53<TAB>1<TAB>SMTP ERROR: Password command failed: 535-5.7.8 ...      (the wiki's closure)
    2026-12-04 18:41:40 SMTP ERROR: RCPT TO command failed: 550-5.1.1 ...<br>             (html)
    [2026-12-04T18:42:19.348966+00:00] mail.DEBUG: SMTP ERROR: Password command ... [] [] (Monolog)
    [12/04/2026 6:42:45 PM] - SMTP ERROR: Failed to connect to server: ... (111)         (Easy WP SMTP)

A line is read from the first PHPMailer message in its first 300 characters (MESSAGE); the text
before it is the prefix, which may hold the time (STAMP). Messages a closure glued together without a
line break are split again. WP Mail SMTP's debug events ("Mailer: Other SMTP", the summary, "Debug
Output:", the transcript) and Post SMTP's "ERROR PostmanWpMail: ... message=<ErrorInfo>" lines are
read too (sample_logs/phpmailer/README.md says where each form comes from).

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

import html
import re
from dataclasses import dataclass
from typing import Any

from logscan.parsers.base import BaseParser, FileContext, ParserState, Sample, Traits, ascii_int, file_field
from logscan.smtp import domain_of, split_reply
from logscan.timestamps import strptime_iso

NAME = "phpmailer"

# Where a PHPMailer message starts, after whatever prefix its Debugoutput wrote: 'echo' (SMTP.php:
# "Y-m-d H:i:s<TAB>"), 'html' ("Y-m-d H:i:s " + htmlentities() + "<br>"), 'error_log' (PHP's
# "[d-M-Y H:i:s UTC] " in a file, nothing on stderr), a closure (the Troubleshooting wiki's
# gmdate() . "\t$level\t$str\n", "$level: $str", a plugin's own stamp) or a PSR-3 logger (Monolog's
# "[2026-12-04T18:42:19.188542+00:00] mail.DEBUG: "). The messages are PHPMailer's own
# (src/SMTP.php edebug() calls, src/PHPMailer.php setError() texts) and "Mailer Error: " of its examples.
MESSAGE = re.compile(r"SERVER -> CLIENT:|CLIENT -> SERVER:|SMTP ERROR: |SMTP Error: |Mailer Error: |SMTP connect\(\) failed"
                     r"|Connection: |Connection failed\. |SMTP -> get_lines\(\): |SMTP INBOUND: |SMTP NOTICE: "
                     r"|Auth method|Debug Output:$")
PREFIX_MAX = 300  # a longer prefix is not a log prefix
STAMP = re.compile(
    r"(?P<iso>\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[.,]\d{1,6})?(?:Z|[+-]\d\d:?\d\d)?)"
    r"|\[(?P<php>\d\d-[A-Z][a-z]{2}-\d{4} \d\d:\d\d:\d\d)(?: (?P<zone>UTC|[A-Za-z_/+-]{1,40}))?\]"
    # Easy WP SMTP's debug logger: '[' . date('m/d/Y g:i:s A') . '] - ' (class-easywpsmtp-debug-logger.php);
    # WordPress runs PHP in UTC (wp-settings.php: date_default_timezone_set('UTC'))
    r"|\[(?P<us>\d\d/\d\d/\d{4} \d{1,2}:\d\d:\d\d [AP]M)\] - ")
# Post SMTP (Postman/PostmanWpMail.php send(), PostmanLogger.php printLog()) writes the exception
# of a failed send to PHP's error log: "ERROR PostmanWpMail: <class> code=<n> message=<ErrorInfo>"
POST_SMTP = re.compile(r"ERROR PostmanWpMail: [\w\\]{1,200} code=-?\d{1,9} message=$")
POST_SMTP_LINE = re.compile(r"\[\d\d-[A-Z][a-z]{2}-\d{4} \d\d:\d\d:\d\d[^\]]{0,45}\] ERROR PostmanWpMail: ")
# PHP's own line for an exception nobody caught (PHPMailer(true) without try/catch), in its error log:
# "[04-Dec-2026 19:29:35 UTC] PHP Fatal error:  Uncaught PHPMailer\PHPMailer\Exception: SMTP Error: Could
# not connect to SMTP host. in /usr/share/php/libphp-phpmailer/src/PHPMailer.php:2207", then "Stack trace:",
# "#0 ..." lines and "  thrown in ... on line N"
UNCAUGHT = re.compile(r"PHP Fatal error:  Uncaught [\w\\]{0,100}Exception: $")
THROWN_AT = re.compile(r" in [^\s]{1,1000}:\d{1,7}$")
PHP_TRACE = re.compile(r"Stack trace:$|#\d{1,4} |  thrown in ")
# the stamp of a closure's next message glued to the last one (Easy WP SMTP, the wiki's closure)
GLUED_STAMP = re.compile(r"(?:\[\d\d/\d\d/\d{4} \d{1,2}:\d\d:\d\d [AP]M\] - |\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\t(?:\d\t)?)\Z")
# Monolog's LineFormatter: "[%datetime%] %channel%.%level_name%: %message% %context% %extra%"
MONOLOG_PREFIX = re.compile(r"\] [\w.-]{1,80}\.[A-Z]{4,9}: $")
MONOLOG_TAIL = re.compile(r" (?:\[\]|\{[^{}]{0,4000}\}) (?:\[\]|\{[^{}]{0,4000}\})$")
# the closure of PHPMailer's docblock for $Debugoutput (src/PHPMailer.php):
# function($str, $level) {echo "debug level $level; message: $str";} adds no line break of its own
DOCBLOCK = re.compile(r"debug level \d; message: ")
# WP Mail SMTP's debug event (src/MailCatcherTrait.php smtp_send()): "Mailer: <title>\r\n" . ErrorInfo
# . "\r\nDebug Output:\r\n" . the transcript: the summary comes first, its detail after it
WP_MAILER = re.compile(r"Mailer: [A-Z][\w .()/-]{0,60}$")
# A line that holds one of these and is not read as PHPMailer's output is counted unparsed, never
# ignored (tests/test_failure_markers.py): PHPMailer's failure texts (src/SMTP.php "SMTP ERROR: ",
# language strings of src/PHPMailer.php). Its errorHandler's PHP warnings ("Connection failed. Error #2:
# ...") are causes: they go into the row of the failure that follows them.
FAILURE_MARKERS = re.compile(r"SMTP ERROR: |SMTP Error: |Mailer Error: |SMTP connect\(\) failed|Could not authenticate"
                             r"|Could not connect to SMTP host|Could not instantiate mail function")
TRANSCRIPT = ("SERVER -> CLIENT:", "CLIENT -> SERVER:", "SMTP INBOUND: ")  # what was said, not a failure
SUMMARY_REASON = "PHPMailer's summary of the failure logged above"
QUIT_REASON = "QUIT after a failure; the failure is logged above"
DETAIL_REASON = "the detail of a failure whose summary above is its row (WP Mail SMTP debug event)"
# the ignore reasons a marker line may get: each says the failure is a row already
MARKER_REASONS = (SUMMARY_REASON, QUIT_REASON, DETAIL_REASON)
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


def _unglued(text: str) -> list[str]:
    """Closures that add no line break glue messages together ("...(111)SMTP Error: ...", or with
    their own stamp between): a message that starts right after a character other than a space or a
    colon, or after such a stamp, is a new one ("Mailer Error: SMTP Error: ..." stays one)."""
    m = MESSAGE.match(text)
    starts, ends = [0], []
    for x in MESSAGE.finditer(text, m.end() if m else 1):
        if x.group() == "Debug Output:":
            continue
        glue = GLUED_STAMP.search(text, max(0, x.start() - 40), x.start())
        if glue or text[x.start() - 1] not in " \t:":
            ends.append(glue.start() if glue else x.start())
            starts.append(x.start())
    return [text[a:b] for a, b in zip(starts, ends + [len(text)], strict=True)]


@dataclass
class PhpmailerState(ParserState):
    # Everything is one file's: a send attempt, and the row that continuation lines of a multi-line
    # reply still extend. finish() clears it at the end of a file, so one site's log never lends
    # its causes or server to the next file's first failure; an incremental scan carries it per
    # file from one run to the next (take_record / restore_record), as a send attempt may be
    # logged across two runs.
    stamp: str | None = file_field(default=None)
    attempt_row: bool = file_field(default=False)  # the current send attempt already has its failure row
    last_row: dict[str, Any] | None = file_field(default=None, open_record=True)  # continuation lines extend its diagnostic
    upgrade: dict[str, Any] | None = file_field(default=None)  # WP Mail SMTP: the summary row the transcript details
    summary_row: dict[str, Any] | None = file_field(default=None)  # the row the last message (a bare summary) made
    # one send attempt (new_attempt() says what each is)
    causes: list[str] = file_field(default_factory=list)
    cause_open: bool = file_field(default=False)
    sent: bool = file_field(default=False)
    quit: bool = file_field(default=False)
    greeting: str | None = file_field(default=None)
    server: tuple[str, int] | None = file_field(default=None)
    tls_mode: str | None = file_field(default=None)
    sender: str | None = file_field(default=None)
    recipient: str | None = file_field(default=None)
    summarized: bool = file_field(default=False)

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
        self.summarized = False  # a summary ("SMTP Error: ...") came, and no command since

    def take_causes(self) -> str:
        causes = "; ".join(WARNING_WHERE.sub("", c) for c in self.causes)
        self.causes, self.cause_open = [], False
        return causes


class PhpmailerParser(BaseParser):
    name = NAME
    description = "PHPMailer SMTP debug output (WordPress SMTP plugins, PHP applications)"
    traits = Traits(multiline=True)
    State = PhpmailerState

    def detect(self, lines: list[str]) -> float:
        hits = 0
        for x in lines:
            x = html.unescape(x[:-4]) if x.endswith("<br>") else x
            d = DOCBLOCK.match(x)
            m = MESSAGE.match(x, d.end()) if d else MESSAGE.search(x, 0, PREFIX_MAX + 20)
            # a transcript line at the start of the line or after a stamped (or a very short) prefix
            hits += (m is not None and m.group() in ("SERVER -> CLIENT:", "CLIENT -> SERVER:", "SMTP ERROR: ")
                     and (d is not None or not x[:m.start()].strip(" \t0123456789:")
                          or STAMP.search(x, 0, m.start()) is not None)
                     or POST_SMTP_LINE.match(x) is not None or "PHP Fatal error:  Uncaught PHPMailer\\PHPMailer\\Exception: " in x)
        return hits / len(lines) if lines else 0.0

    def finish(self, ctx: FileContext, state: PhpmailerState) -> None:
        """The end of a file ends its last send attempt (its rows are already written: a row is
        made when its summary line comes)."""
        fresh = PhpmailerState()
        for n in state.file_fields():
            setattr(state, n, getattr(fresh, n))

    def parse(self, lines: list[str], first_line_no: int, ctx: FileContext, state: PhpmailerState) -> None:
        for offset, line in enumerate(lines):
            line_no = first_line_no + offset
            raw = html.unescape(line[:-4]) if line.endswith("<br>") else line  # Debugoutput 'html'
            segments = self._segments(raw)
            ignored_before = ctx.stats.ignored
            if segments is None:
                self._continuation(raw, line, line_no, ctx, state)
                ctx.count_line_once(line_no, ignored_before)
                continue
            lead, first, records = segments
            if lead:  # the rest of the previous message, glued to this one (no line break between)
                self._continuation(lead, line, line_no, ctx, state)
            prefix = raw[:first]
            if prefix.strip():
                self._stamp(prefix, state)
                if POST_SMTP.search(prefix):  # the exception that ended a send: like "Mailer Error: "
                    records[0] = "Mailer Error: " + records[0]
                elif UNCAUGHT.search(prefix):  # likewise, without the file and line PHP adds
                    records[0] = "Mailer Error: " + THROWN_AT.sub("", records[0])
            for text in records:
                if MONOLOG_PREFIX.search(prefix):
                    text = MONOLOG_TAIL.sub("", text)
                self._text(text.rstrip(), line, line_no, ctx, state)
            ctx.count_line_once(line_no, ignored_before)  # several messages glued on one line: one line

    @staticmethod
    def _segments(raw: str) -> tuple[str, int, list[str]] | None:
        """The PHPMailer messages of one line: (text before the first, where the first starts, the
        messages), or None when the line starts none."""
        d = DOCBLOCK.search(raw, 0, PREFIX_MAX + 30)
        if d:
            parts = DOCBLOCK.split(raw)
            lead, first, pieces = parts[0], d.end(), [x for x in parts[1:] if x]
            m = MESSAGE.search(lead, 0, PREFIX_MAX + 20)
            if m:  # the line starts with a message of its own (another prefix before the docblock's)
                lead, first, pieces = "", m.start(), [lead[m.start():], *pieces]
        else:
            m = MESSAGE.search(raw, 0, PREFIX_MAX + 20)
            if m is None:
                return ("", 0, [raw]) if WP_MAILER.match(raw) else None
            lead, first, pieces = "", m.start(), [raw[m.start():]]
        return lead, first, [text for piece in pieces for text in _unglued(piece)]

    @staticmethod
    def _stamp(prefix: str, state: PhpmailerState) -> None:
        s = STAMP.search(prefix)
        if s is None:
            return  # a prefix without a time: the row keeps the time of the last stamped line
        if s.group("iso"):
            state.stamp = s.group("iso").replace(",", ".")
        elif s.group("php"):
            t = strptime_iso(s.group("php"), "%d-%b-%Y %H:%M:%S")  # None: no real date (30-Feb)
            state.stamp = t and t + ("+00:00" if s.group("zone") == "UTC" else "")
        else:
            t = strptime_iso(s.group("us"), "%m/%d/%Y %I:%M:%S %p")
            state.stamp = t and t + "+00:00"

    @staticmethod
    def _continuation(text: str, line: str, line_no: int, ctx: FileContext, state: PhpmailerState) -> None:
        """A line that starts no PHPMailer message: the rest of a multi-line one, or other output."""
        if PHP_TRACE.match(text):
            state.last_row, state.cause_open = None, False  # PHP's stack trace of an uncaught exception
        elif FAILURE_MARKERS.search(text):
            state.last_row, state.cause_open = None, False
            ctx.unparsed(line_no, line)  # a failure text we cannot place: shown, never ignored
        elif text.strip() and state.cause_open:
            if len(state.causes[-1]) < MAX_TEXT:  # bounded: appending is not quadratic
                state.causes[-1] += " " + text.strip()  # the rest of a PHP warning
        elif text.strip() and state.last_row is not None:
            # continuation of a multi-line reply that became a row (indented in the echo form, at
            # column 0 in the error_log form and in closures that write $str as it is)
            if len(state.last_row["diagnostic"]) < MAX_TEXT:
                state.last_row["diagnostic"] += " " + text.strip()
        else:
            state.last_row = None  # the rest of a multi-line debug message

    def _text(self, text: str, line: str, line_no: int, ctx: FileContext, state: PhpmailerState) -> None:
        state.last_row, state.cause_open = None, False
        summary, state.summary_row = state.summary_row, None
        if WP_MAILER.match(text):  # WP Mail SMTP: a debug event (one failed send) begins
            state.attempt_row, state.upgrade = False, None
            state.new_attempt()
            return
        if text == "Debug Output:":
            # WP Mail SMTP: the transcript of the failure whose summary was the row just made
            state.upgrade = summary
            return
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
        if text.startswith("SERVER -> CLIENT:") and state.summarized and not state.quit:
            # a reply after the summary of a failure, with no command since: the greeting of the next
            # connection (a log without "Mailer Error: " lines between sends, e.g. a closure's)
            state.attempt_row = False
            state.new_attempt()
        state.summarized = state.summarized and not text.startswith("CLIENT -> SERVER:")
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
            ctx.ignored(QUIT_REASON)
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
            state.summarized = True
            if state.attempt_row:
                ctx.ignored(SUMMARY_REASON)
            else:
                self._summary(text.removeprefix("Mailer Error: "), line, line_no, ctx, state)
            if text.startswith("Mailer Error: "):
                state.attempt_row, state.upgrade = False, None  # the send call returned: the next attempt starts
                state.new_attempt()
        elif FAILURE_MARKERS.search(text) and not text.startswith(TRANSCRIPT):
            ctx.unparsed(line_no, line)  # an "SMTP ERROR: " of another shape: shown, never ignored

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
        state.summary_row = state.last_row

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
        if state.upgrade is not None:
            # WP Mail SMTP: the transcript's failure line is the detail of the row made from the
            # summary above it; that row takes the detail and still cites the summary's line
            state.last_row, state.upgrade = state.upgrade, None
            state.last_row.update(row)
            ctx.ignored(DETAIL_REASON)
            return
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
    # Debugoutput forms other than 'echo' (sample_logs/phpmailer/README.md): the Troubleshooting wiki's
    # closure gmdate() . "\t$level\t$str\n" (the level column; $str keeps its CRLF)
    Sample("2026-12-04 18:41:53\t1\tSMTP ERROR: Password command failed: 535-5.7.8 Username and Password not accepted. For more information, go to",
           expect={"event": "auth_failed", "smtp_stage": "AUTH", "smtp_code": 535, "category": "auth_failed"}),
    # 'html': htmlentities() and "<br>"; a multi-line reply loses its line breaks
    Sample("2026-12-04 18:41:40 SMTP ERROR: RCPT TO command failed: 550-5.1.1 The email account that you tried to reach does not exist. Please try550-5.1.1 double-checking the recipient&#039;s email address for typos or550-5.1.1 unnecessary spaces. For more information, go to550 5.1.1  https://support.google.com/mail/?p=NoSuchUser k61si9840537yua.440 - gsmtp<br>",
           context=("2026-12-04 18:41:40 CLIENT -&gt; SERVER: MAIL FROM:&lt;wordpress@blog.example.org&gt;<br>",
                    "2026-12-04 18:41:40 CLIENT -&gt; SERVER: RCPT TO:&lt;nouser@gmail-like.example&gt;<br>"),
           expect={"smtp_stage": "RCPT TO", "smtp_code": 550, "sender": "wordpress@blog.example.org",
                   "recipient": "nouser@gmail-like.example", "category": "recipient_unknown"}),
    # a PSR-3 logger: Monolog 2's LineFormatter (newlines become spaces; empty context and extra)
    Sample("[2026-12-04T18:42:19.348966+00:00] mail.DEBUG: SMTP ERROR: Password command failed: 535-5.7.8 Username and Password not accepted. For more information, go to 535 5.7.8  https://support.google.com/mail/?p=BadCredentials i36si6192748cbw.559 - gsmtp  [] []",
           expect={"event": "auth_failed", "smtp_code": 535, "category": "auth_failed",
                   "diagnostic": "535-5.7.8 Username and Password not accepted. For more information, go to 535 5.7.8  "
                                 "https://support.google.com/mail/?p=BadCredentials i36si6192748cbw.559 - gsmtp"}),
    # Easy WP SMTP's debug log: its stamp before each $str; messages without a line break are glued
    Sample("[12/04/2026 6:42:45 PM] - SMTP ERROR: Failed to connect to server: Connection refused (111)[12/04/2026 6:42:45 PM] - SMTP Error: Could not connect to SMTP host.Mailer Error: SMTP Error: Could not connect to SMTP host.",
           expect={"event": "connect_failed", "error_code": "111", "category": "connection_refused"}),
    # Post SMTP's ERROR line in PHP's error log: the exception message (ErrorInfo) of a failed send
    Sample("[04-Dec-2026 18:43:08 UTC] ERROR PostmanWpMail: PHPMailer\\PHPMailer\\Exception code=0 message=SMTP Error: Could not authenticate.",
           expect={"smtp_stage": "AUTH", "event": "auth_failed", "category": "auth_failed",
                   "diagnostic": "SMTP Error: Could not authenticate."}),
    # PHP's error log line of an uncaught PHPMailer exception (php -d error_log=FILE, PHPMailer(true))
    Sample("[04-Dec-2026 19:29:35 UTC] PHP Fatal error:  Uncaught PHPMailer\\PHPMailer\\Exception: SMTP Error: Could not connect to SMTP host. in /usr/share/php/libphp-phpmailer/src/PHPMailer.php:2207",
           expect={"event": "connect_failed", "diagnostic": "SMTP Error: Could not connect to SMTP host."}),
    Sample("#0 /usr/share/php/libphp-phpmailer/src/PHPMailer.php(1996): PHPMailer\\PHPMailer\\PHPMailer->smtpConnect()",
           context=("[04-Dec-2026 19:29:35 UTC] PHP Fatal error:  Uncaught PHPMailer\\PHPMailer\\Exception: SMTP Error: Could not connect to SMTP host. in /usr/share/php/libphp-phpmailer/src/PHPMailer.php:2207",
                    "Stack trace:"),
           ignore=""),
    # WP Mail SMTP's debug event: the summary is the row, the transcript after "Debug Output:" its detail
    Sample("SMTP ERROR: Password command failed: 535-5.7.8 Username and Password not accepted. For more information, go to",
           context=("Mailer: Other SMTP", "SMTP Error: Could not authenticate.", "", "Debug Output:",
                    "SERVER -> CLIENT: 220 mx.gmail-like.example ESMTP"),
           ignore=DETAIL_REASON),
)
