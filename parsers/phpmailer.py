"""PHPMailer's SMTP debug output (SMTPDebug 1-4; Debugoutput echo or error_log), as WordPress SMTP
plugins and PHP applications record it.

    2026-11-27 21:11:10<TAB>SMTP ERROR: RCPT TO command failed: 550-5.1.1 The email account ...
                       <TAB>                  550 5.1.1  https://support.google.com/...   (continuation)
    [27-Nov-2026 21:10:51 UTC] SMTP ERROR: Password command failed: 535-5.7.8 ...         (error_log)

One failed send is one row: the specific "SMTP ERROR: <command> command failed: <reply>" or
"SMTP ERROR: Failed to connect to server: <reason> (<errno>)" line; the summaries that follow
("SMTP Error: Could not authenticate.", "Mailer Error: ...") are counted as ignored with that
reason, or become the row when no specific line came first (certificate failures, timeouts).
The rest of the transcript is ignored. Texts are PHPMailer's (src/SMTP.php, src/PHPMailer.php);
every shape has a real line below, written by PHPMailer 6.6.3 on PHP 8.2 here against the loopback
trouble server (tools/samples/make_phpmailer_samples.sh, sample_logs/phpmailer/).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from logscan.parsers.base import FileContext, Sample
from logscan.smtp import split_reply

NAME = "phpmailer"

ECHO_STAMP = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\t")
ERROR_LOG_STAMP = re.compile(r"\[(\d\d-[A-Z][a-z]{2}-\d{4} \d\d:\d\d:\d\d)(?: (UTC|[A-Za-z_/+-]{1,40}))?\] ")
COMMAND_FAILED = re.compile(r"SMTP ERROR: (?P<cmd>[A-Z][A-Za-z ]{0,20}) command failed: ?(?P<reply>.*)$")
CONNECT_FAILED = re.compile(r"SMTP ERROR: Failed to connect to server: (?P<reason>.*?) ?\((?P<errno>-?\d{1,6})\)$")
SUMMARIES = ("SMTP Error: ", "Mailer Error: ", "SMTP connect() failed")
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
    # Carried from one run to the next by an incremental scan (logscan/store.py saves it as JSON):
    # a send attempt may be logged across two runs.
    PERSISTED = ("stamp", "attempt_row")

    def __init__(self) -> None:
        self.stamp: str | None = None
        self.attempt_row = False  # the current send attempt already has its failure row
        self.last_row: dict[str, Any] | None = None  # continuation lines extend its diagnostic


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

    def parse(self, lines: list[str], first_line_no: int, ctx: FileContext, state: PhpmailerState) -> None:
        for offset, line in enumerate(lines):
            m = ECHO_STAMP.match(line)
            if m:
                state.stamp, text = m.group(1), line[m.end():]
            else:
                e = ERROR_LOG_STAMP.match(line)
                if e:
                    t = datetime.strptime(e.group(1), "%d-%b-%Y %H:%M:%S").isoformat()
                    state.stamp = t + ("+00:00" if e.group(2) == "UTC" else "")
                    text = line[e.end():]
                elif line[:1] in (" ", "\t") and state.last_row is not None:
                    # continuation of a multi-line reply that became a row
                    state.last_row["diagnostic"] += " " + line.strip()
                    continue
                elif line.startswith("Mailer Error: "):
                    text = line
                else:
                    state.last_row = None
                    continue  # the rest of a multi-line debug message
            self._text(text, line, first_line_no + offset, ctx, state)

    def _text(self, text: str, line: str, line_no: int, ctx: FileContext, state: PhpmailerState) -> None:
        state.last_row = None
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
            self._emit(ctx, state, line, line_no, "connect", f"Failed to connect to server: {reason}",
                       f.group("errno") if f.group("errno") != "0" else None)
            return
        if text.startswith(SUMMARIES):
            if state.attempt_row:
                ctx.ignored("PHPMailer's summary of the failure logged above")
            else:
                summary = text.removeprefix("Mailer Error: ")
                stage = "AUTH" if "authenticate" in summary else "STARTTLS" if "crypto" in summary else None
                self._emit(ctx, state, line, line_no, stage, summary, None)
            if text.startswith("Mailer Error: "):
                state.attempt_row = False  # the send call returned: the next attempt starts

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
        }
        state.attempt_row = True
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
           expect={"event": "tls_failed", "smtp_stage": "STARTTLS", "smtp_code": 502}),
    Sample("2026-11-27 21:11:10\tSMTP ERROR: Password command failed: 535-5.7.8 Username and Password not accepted. For more information, go to",
           expect={"event": "auth_failed", "smtp_stage": "AUTH", "smtp_code": 535, "enhanced_status": "5.7.8",
                   "category": "auth_failed"}),
    Sample("2026-11-27 21:11:10\tSMTP ERROR: RCPT TO command failed: 550-5.1.1 The email account that you tried to reach does not exist. Please try",
           expect={"event": "send_failed", "smtp_stage": "RCPT TO", "smtp_code": 550, "category": "recipient_unknown"}),
    Sample("2026-11-27 21:11:10\tSMTP ERROR: DATA END command failed: 552-5.2.3 Your message exceeded Google's message size limits. For more",
           expect={"event": "send_failed", "smtp_stage": "end of DATA", "category": "message_too_large"}),
    Sample("2026-11-27 21:11:10\tSMTP ERROR: RCPT TO command failed: 421-4.7.28 [127.0.0.1      15] Our system has detected an unusual rate of",
           expect={"smtp_code": 421, "category": "rate_limited"}),
    Sample("Mailer Error: SMTP connect() failed. https://github.com/PHPMailer/PHPMailer/wiki/Troubleshooting",
           context=("2026-11-27 21:11:13\tSMTP ERROR: Failed to connect to server: Connection refused (111)",
                    "2026-11-27 21:11:13\tSMTP connect() failed. https://github.com/PHPMailer/PHPMailer/wiki/Troubleshooting"),
           ignore="PHPMailer's summary of the failure logged above"),
    Sample("2026-11-27 21:11:10\tCLIENT -> SERVER: EHLO blog.example.org", ignore=""),
)
