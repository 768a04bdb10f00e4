"""Exim mainlog, rejectlog and paniclog (also through syslog or the journal) to failure rows.

Line shape (Exim's log.c): "<date> <time>[.mmm][ +zone][ [pid]][ <message id>] <text>", with the
message id classic (1cIm8w-0000yI-6V) or 4.97+ (10HmaX-000000005vi-0000). Wrapped by syslog it is
"<syslog stamp> <host> exim[<pid>]: [<Exim stamp>] <text>". The texts were read from Exim's source
(deliver.c, smtp_in.c, acl.c, tls-*.c, transports/smtp.c; the defer codes of macros.h) and every
shape has a real line below: from Exim's own test suite and fail2ban (../shared/corpora, read by
reference) and from the real Exim run here (sample_logs/exim/).

Failures: "**" (failed), "==" (deferred: Exim's own code, defer (-NN) or the OS errno, goes to
error_code), "rejected ..." lines (ACLs), authenticator failures, TLS errors on incoming
connections, SMTP protocol/synchronization errors, and every paniclog entry. Correlation: the
"<=" line of a message id gives sender, size, client, authenticated id and Message-ID; forgotten at
"Completed", capped like Postfix's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from logscan.parsers.base import (
    BaseParser,
    FileContext,
    Key,
    ParserState,
    Pending,
    Sample,
    Traits,
    ascii_int,
    persisted_field,
)
from logscan.parsers.syslog import PREFIX
from logscan.smtp import domain_of, split_reply

if TYPE_CHECKING:
    from logscan.parsers.base import Row

NAME = "exim"

# "2026-11-27 20:00:00", "... 20:00:00.123", "... +0100", then "[pid] " (log_selector +pid).
STAMP = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d{1,6})?)(?: ([+-]\d{4}))? (?:\[\d{1,10}\] )?")
MSGID = re.compile(r"([0-9A-Za-z]{6}-(?:[0-9A-Za-z]{11}-[0-9A-Za-z]{4}|[0-9A-Za-z]{6}-[0-9A-Za-z]{2})) ")
# The journal export seen in fail2ban's corpus: "<date> <time> <host> exim[pid]: <text>", and a
# syslog line whose stamp was cut: "<host> exim[pid]: <Exim stamp> <text>".
JOURNAL = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) \S{1,255} exim4?(?:\[\d{1,10}\])?: ")
BARE_TAG = re.compile(r"\S{1,255} exim4?(?:\[\d{1,10}\])?: ")

# "** addr [<parent>] [fields] [defer (N)] [H=host [ip]:port] [I=[ip]:port]: diagnostic"
# (Exim's test suite output masks errnos as "dd"/"EEE" and ports as "PORT_S": accepted, kept out
# of the row.)
# Linear by construction (issue 17): every repetition is possessive (*+, {m,n}+) or atomic ((?>...)),
# so no part gives back what it matched. The parts cannot overlap: a value (VALUE) stops before a
# colon that ends it (": " or the end, the diagnostic follows), a quoted value is one field whatever
# it holds (Exim's C="..." and T="..."; unterminated, it runs to the end of the line), and a field
# starts with " X=". (The previous pattern let a quoted value and a bare one split ` T="` runs both
# ways: 40 of them after a pipe address took 121 s.)
# Exim escapes a quote inside as \" (../shared/corpora: the Exim test suite's T="... \"volume\" charts").
QUOTED = r'"(?:[^"\\]|\\.)*+(?:"|$)'
VALUE = r"(?:[^\s:]|:(?! |$))"
DELIVERY = re.compile(
    rf"(?P<addr>{VALUE}{{1,600}}+)(?: <(?P<parent>[^>]{{0,600}}+)>)?"
    rf"(?P<fields>(?: (?>routing|[A-Z]{{1,3}}=(?>\S{{1,300}}+ \[[^\]\s]{{1,64}}+\](?::\w{{1,8}}+)?\*?|{QUOTED}|{VALUE}{{1,300}}+)))*+)"
    r"(?: defer \((?P<code>-?[0-9]{1,5}+|dd|EEE)\))?(?: H=(?P<h>\S{1,300}+) \[(?P<ip>[^\]\s]{1,64}+)\](?::(?P<port>\w{1,8}+))?\*?)?"
    rf"(?: I={VALUE}{{1,80}}+)?(?: (?:DT|QT|RT)=[\w.]{{1,20}}+)*+(?: ?:(?: (?P<diag>.*))?)?$"
)
# Exim 4.96 with an errno: "defer (110): Connection timed out H=host [ip]:port I=... DT=6s: <detail>"
ERRNO_HOST = re.compile(
    r"(?P<err>[^:]{1,200}?) H=(?P<h>\S{1,300}+) \[(?P<ip>[^\]\s]{1,64}+)\](?::(?P<port>[0-9]{1,5}+))?"
    rf"(?: I={VALUE}{{1,80}}+)?(?: (?:DT|QT|RT)=[\w.]{{1,20}}+)*+: (?P<detail>.*)$"
)
# log_selector +deliver_time / +queue_time append " DT=0s QT=2m" after the reason.
TIME_FIELD = re.compile(r"(?:DT|QT|RT)=[\w.]{1,20}")


def _strip_times(text: str) -> str:
    """`text` without its trailing " DT=.. QT=.. RT=.." fields, taken off from the end one by one (a
    `(...)+$` regex retries every start: a 64 KiB run of " DT=1s" then cost 5.7 s). Exim writes
    each once; more than 8 are not its own and stay in the text."""
    end = len(text)
    for _ in range(8):
        i = text.rfind(" ", max(0, end - 24), end)
        if i < 0 or not TIME_FIELD.fullmatch(text, i + 1, end):
            break
        end = i
    return text[:end]
FIELD_HOST = re.compile(r" H=(?P<h>\S{1,300}) \[(?P<ip>[^\]\s]{1,64})\](?::(?P<port>\w{1,8}))?")
# A quoted value (T="subject" of log_selector +subject) is one field: what it holds is never read as fields.
FIELD = re.compile(rf" ([A-Z]{{1,3}})=({QUOTED}|\S{{1,300}}+)")
REMOTE_ERROR = re.compile(
    r"SMTP error from remote mail server after (?:pipelined )?(?P<cmd>RCPT TO|MAIL FROM|end of data|DATA|BDAT|"
    r"initial connection|EHLO|HELO|AUTH|STARTTLS|QUIT|\S{1,40}).{0,700}?: (?P<reply>.*)$"
)
# Client part of rejects and of "<=": "H=name (helo) [ip]:port", "H=(helo) [ip]", "H=[ip]".
CLIENT = re.compile(r"H=(?:(?P<name>[^\s(\[]{1,255}) ?)?(?:\((?P<helo>[^)]{0,255})\) ?)?\[(?P<ip>[^\]\s]{1,64})\]")
# "rejected EHLO from [127.0.0.1]:35892": the client without H=
BARE_CLIENT = re.compile(r"from (?:(?P<name>[^\s\[]{1,255}) )?(?:\((?P<helo>[^)]{0,255})\) )?\[(?P<ip>[^\]\s]{1,64})\]")
UNQUALIFIED = re.compile(r"unqualified (sender|recipient) rejected: <([^>]{0,512})>")
SENDER = re.compile(r"F=<?(?P<s>[^>\s]{0,512})>?")
# "<driver> authenticator failed for <host> [ip]:port I=...: 535 Incorrect authentication data (set_id=u)";
# also without "for" (custom messages) and for local callers ("for U=CALLER").
AUTH_FAIL = re.compile(
    r"(?P<auth>\S{1,64}) authenticator failed(?P<for> for)? (?P<who>.{0,600}?)(?:: | (?=[45]\d\d[ -]))"
    r"(?P<text>.*?)(?: \(set_id=(?P<user>[^)]{0,320})\))?$"
)
REJECT_WHAT = re.compile(
    r"(?P<temp>temporarily )?rejected (?P<what>RCPT|MAIL|after DATA|connection|HELO|EHLO|AUTH|VRFY|EXPN|ETRN|"
    r"DATA|BDAT|STARTTLS|XCLIENT|ATRN|WELLKNOWN|from|by local_scan\(\)|by non-SMTP ACL|during MIME ACL checks|"
    r"\"[^\"]{0,200}\")(?: (?P<target><[^>]{0,512}>|[^\s:]{1,512}))?"
)
REJECT_STAGE = {"RCPT": "RCPT TO", "MAIL": "MAIL FROM", "after DATA": "end of DATA", "connection": "connect",
                "from": "MAIL FROM", "by local_scan()": "end of DATA", "by non-SMTP ACL": "local submission",
                "during MIME ACL checks": "end of DATA"}

DEFER_STAGE = {"-44": "RCPT TO", "-45": "MAIL FROM", "-46": "DATA", "-43": "connect", "-42": "AUTH",
               "-37": "STARTTLS", "-38": "STARTTLS", "-32": "DNS", "-36": "DNS", "110": "connect", "111": "connect",
               "113": "connect", "101": "connect"}
# A "==" line with one of these codes or texts is a delivery our own settings postponed: no attempt
# was made, so nothing failed (src/macros.h: ERRNO_HELD -23, ERRNO_RRETRY/LRETRY/HRETRY -52..-54 "not
# time for ...", ERRNO_LOCAL_ONLY -55, ERRNO_QUEUE_DOMAIN -56, ERRNO_TRETRY -57 "transport concurrency
# limit"; the texts from transports/smtp.c, which logs them as defer (0) or (-1)). Exim test-suite log.
NO_ATTEMPT_CODES = frozenset({"-23", "-52", "-53", "-54", "-55", "-56", "-57"})
NO_ATTEMPT_TEXTS = ("SMTP delivery explicitly queued", "first-pass only routing due to -odqs")
NO_ATTEMPT = ("no delivery attempt: held or queued by our own settings (hold_domains, queue_domains, -odqs, "
              "max_parallel, serialize_hosts)")
RETRY_NOT_REACHED = "no delivery attempt (retry time not reached); the attempt that failed has its own line"


def _postponed(code: str | None, diag: str) -> str | None:
    """Why a "==" line records no delivery attempt at all, or None when it records a failed one."""
    if "etry time not reached" in diag or "etry time not yet reached" in diag:
        return RETRY_NOT_REACHED
    if code in NO_ATTEMPT_CODES or diag.startswith(NO_ATTEMPT_TEXTS):
        return NO_ATTEMPT
    return None


REPLY_STAGE = {"initial connection": "greeting", "end of data": "end of DATA"}

TLS_DETAILS = ("TLS error on connection to ", "TLS session: ", "Required TLS certificate status",
               "Server certificate revoked", "client ocsp status", "DANE attempt failed", "DANE error")
# Errors of the mail system itself (mainlog and paniclog): configuration, expansion, scanners.
CONFIG_ERRORS = ("Exim configuration error", "(SSL_CTX_", "re-exec of exim", "invalid ", "unable to ",
                 "Failed to ", "failed to ", "cannot ", "spool directory space check failed", "exec of ",
                 "expansion of ", "Error while reading message", "bind of ")

# Rejectlog repeats a rejected message's headers after its line: "Envelope-from: <x>",
# "P Received: ...", "I Message-Id: ...", "  continuation".
# Exim 4.96 writes a multi-line reply to a failed client AUTH with real newlines: "535 5.7.8 ..."
SMTP_CONTINUATION = re.compile(r"[2-5]\d\d[ -]")
HEADER_DUMP = re.compile(r"(?:Envelope-(?:from|to): |[A-Z* ] [\w-]{1,64}: )")


# Successful delivery flags (deliver.c): delivered, additional address, cut-through, suppressed.
DELIVERED = frozenset({"=> ", "-> ", ">> ", "*> "})


def _count_delivery(line: str, end: int, ctx: FileContext, hour_key: str | None = None,
                    stamp: str | None = None) -> None:
    """A delivery ("=>", "->" additional address, ">>" cutthrough), counted for failure rates by
    day, recipient domain and relay host. Real lines (sample_logs/exim/mainlog:4, Exim 4.96):
    "2026-11-27 20:38:48 1xX2iW-00087F-1e => bob <bob@example.com> F=<> P=<> R=local_user ...";
    remote ones carry " H=host [ip]:port" as in the failure lines (FIELD_HOST). `end` is where the
    message id ends (the flag follows it); -1 when `line` starts with the flag."""
    rest = line[end + 4:]
    space = rest.find(" ")
    addr = rest if space < 0 else rest[:space]
    if space >= 0 and rest[space + 1:space + 2] == "<":
        addr = rest[space + 2:rest.find(">", space)]
    h = rest.find(" H=")
    host = "" if h < 0 else rest[h + 3:rest.find(" ", h + 3)]
    ctx.delivered(hour_key or line[:13], stamp or line[:19], addr, host)


# SA-Exim (sa-exim.c, local_scan() for SpamAssassin) logs what it did as "SA: Action: ...". It never
# refuses a message by itself: it returns LOCAL_SCAN_REJECT or _TEMPREJECT and Exim then writes its
# own "F=<...> [temporarily ]rejected by local_scan(): <text>" line (receive.c), which is the failure
# row. The other actions accept the message: "scanned but message isn't spam", "flagged as Spam but
# accepted", "check skipped due to message size", "Not running SA because SAEximRunCond expanded to
# false", "spamd took more than N secs to run, accepting message", "SA didn't successfully run against
# message, accepting", and "silently tossed message" (accepted with 250, then discarded:
# recipients_count=0). Its "SA: Debug..", "Notice" and "Warning" lines are its own notes; a "PANIC"
# also goes to the paniclog, where it is read as a failure.
SA_EXIM_REFUSALS = ("permanently rejected message", "temporarily rejected message", "teergrubed sender")


def _sa_exim_note(text: str) -> str:
    """The stated reason an SA-Exim line is not a failure row."""
    action = text[12:] if text.startswith("SA: Action: ") else None
    if action is None:
        return "SA-Exim's own debug, notice or warning note; a refusal it causes is Exim's 'rejected by local_scan()' line"
    if action.startswith(SA_EXIM_REFUSALS):
        return "SA-Exim's note of its refusal; Exim's 'rejected by local_scan()' line is the failure"
    if action.startswith("silently tossed message"):
        return "SA-Exim accepted a message and discarded it (score over its SAdevnull threshold); nothing was refused"
    return "SA-Exim scanned (or skipped) a message that was accepted"


@dataclass
class EximState(ParserState):
    """Correlation by (host, message id) for one scan, bounded in size. The host is the syslog
    host of the line, or the file's (FileContext.host) for Exim's own log files, "" if unknown."""

    MAX_IDS = 200_000

    # Carried from one run to the next by an incremental scan (logscan/store.py saves it as JSON).
    arrivals: dict[Key, str] = persisted_field(default_factory=dict)  # -> raw "<=" text
    # -> {recipient: the row of its last deferral}, so that an expired address says why it
    # expired; forgotten with the message at "Completed".
    deferrals: dict[Key, dict[str, Row]] = persisted_field(default_factory=dict)
    # split_range: every message "Completed" in this range. merge_state forgets them in the earlier
    # ranges' state, and a row of the range after the Completed finds nothing there to wait for.
    completed: set[Key] = field(default_factory=set)
    last_syslog_line: str = ""

    def remember(self, key: Key, raw: str) -> None:
        if len(self.arrivals) >= self.MAX_IDS:
            for old in list(self.arrivals)[: self.MAX_IDS // 10]:
                del self.arrivals[old]
            if len(self.deferrals) >= self.MAX_IDS:
                for old in list(self.deferrals)[: self.MAX_IDS // 10]:
                    del self.deferrals[old]
        self.arrivals[key] = raw

    def forget(self, key: Key) -> bool:
        """The message is Completed; False if it was never seen arriving."""
        self.deferrals.pop(key, None)
        if self.arrivals.pop(key, None) is not None:
            return True
        if self.legacy:
            self.adopt("deferrals", key)
            return self.adopt("arrivals", key) is not None
        return False

    def arrival(self, key: Key) -> str | None:
        raw = self.arrivals.get(key)
        if raw is None and self.legacy:
            raw = self.adopt("arrivals", key)
            if raw is not None:
                self.arrivals[key] = raw
        return raw

    def deferrals_of(self, key: Key) -> dict[str, Row]:
        """The last deferral row by recipient of one message, made if missing."""
        got = self.deferrals.get(key)
        if got is None:
            got = self.deferrals[key] = (self.adopt("deferrals", key) if self.legacy else None) or {}
        return got

    def last_deferral(self, key: Key | None, rcpt: str | None) -> Row | None:
        if key is None:
            return None
        got = self.deferrals.get(key)
        if got is None and self.legacy:
            got = self.legacy.get("deferrals", {}).get(key[1])
        return got.get(rcpt) if got else None


def arrival_fields(raw: str | None) -> dict[str, Any]:
    """Decode an "<=" line: "<= sender H=... [ip] P=esmtpsa A=plain:user S=1234 id=msgid@host"."""
    if not raw:
        return {}
    out: dict[str, Any] = {}
    sender, _, rest = raw[3:].partition(" ")
    out["sender"] = "" if sender == "<>" else sender
    # The subject (log_selector +subject) comes after every field read here (receive.c writes
    # H=, U=, P=, A=, S=, id= before T="..."): nothing in it is read as a field or a client.
    t = rest.find(' T="')
    if t >= 0:
        rest = rest[:t]
    c = CLIENT.search(rest)
    if c:
        out["client_host"] = c.group("name") or c.group("helo")
        out["client_ip"] = c.group("ip")
    for key, value in FIELD.findall(" " + rest):
        if key == "A" and ":" in value:
            out["sasl_username"] = value.split(":", 1)[1]
        elif key == "S":
            out["size"] = ascii_int(value, "size")
    i = rest.find(" id=")
    if i >= 0:
        out["message_id"] = rest[i + 4:].split(" ", 1)[0].strip("<>") or None
    return out


LAST_DEFERRAL_FIELDS = ("relay_host", "relay_ip", "relay_port", "smtp_code", "enhanced_status", "smtp_stage",
                        "error_code")
LAST_DEFERRAL_KEPT = (*LAST_DEFERRAL_FIELDS, "diagnostic")


def _link_last_deferral(row: dict[str, Any], last: dict[str, Any]) -> None:
    """An expired address: the cause is its last deferral (like Postfix's qmgr expiry)."""
    for k in LAST_DEFERRAL_FIELDS:
        if row.get(k) is None:
            row[k] = last.get(k)
    row["diagnostic"] = f"{row['diagnostic']}; last deferral: {last.get('diagnostic')}"


# What a row takes from the state of its message, each part saying whether the state had it (see
# EximParser._emit_known): the same function completes a Pending row from the earlier ranges' state.
def _arrival_into(row: dict[str, Any], key: Key, state: EximState) -> bool:
    """Delivery failures and expiries: every field of the message's "<=" line."""
    raw = state.arrival(key)
    row.update(arrival_fields(raw))
    return raw is not None


def _reject_arrival_into(row: dict[str, Any], key: Key, state: EximState) -> bool:
    """Rejections with a message id: the line has the envelope and the client."""
    raw = state.arrival(key)
    fields = arrival_fields(raw)
    for k in ("message_id", "size", "sasl_username"):
        row[k] = fields.get(k)
    return raw is not None


def _last_deferral_into(row: dict[str, Any], key: Key, state: EximState) -> bool:
    """An expired address: its last deferral (before the arrival's fields: they do not overlap)."""
    last = state.last_deferral(key, row["recipient"])
    if last is not None:
        _link_last_deferral(row, last)
    return last is not None


def _row(stamp: str, zone: str | None, host: str | None, event: str, direction: str, **fields: Any) -> dict[str, Any]:
    return {"host": host, "source": NAME, "program": "exim", "event": event, "direction": direction,
            "_stamp": stamp if zone is None else f"{stamp.replace(' ', 'T')}{zone}", **fields}


class EximParser(BaseParser):
    name = NAME
    description = "Exim mainlog, rejectlog and paniclog (plain, cPanel, through syslog or the journal)"
    traits = Traits(server=True, counts_deliveries=True, splittable=True, persisted=True)
    State = EximState

    def detect(self, lines: list[str]) -> float:
        hits = 0
        for line in lines:
            u = self._unwrap(line)
            # (an HTML page's lines end in "<br>": PHPMailer's Debugoutput 'html' stamps them like Exim)
            if u is not None and (u[2] is not None or STAMP.match(u[1]) is not None) and not line.endswith("<br>"):
                hits += 1
        return hits / len(lines) if lines else 0.0

    @staticmethod
    def _unwrap(line: str) -> tuple[str | None, str, str | None] | None:
        """(syslog host, the Exim line, syslog stamp) or None when the line is not Exim's."""
        if line[:4].isdigit() and line[4:5] == "-" and line[10:11] == " ":
            j = JOURNAL.match(line)
            if j:
                rest = line[j.end():]
                return line[20:].split(" ", 1)[0], rest if STAMP.match(rest) else f"{j.group(1)} {rest}", None
            return None, line, None
        m = PREFIX.match(line)
        if m and m.group("prog") in ("exim", "exim4"):
            rest = line[m.end():]
            return m.group("host"), rest, (None if STAMP.match(rest) else m.group("stamp"))
        b = BARE_TAG.match(line)
        if b:
            return line.split(" ", 1)[0], line[b.end():], None
        return None

    # --- parallel ranges of one file (see logscan/pipeline.py) --------------------------------
    def resolve_pending(self, pending: list[Pending], earlier: EximState) -> None:
        """Complete rows of a later range with the "<=" lines (and last deferrals) the earlier ranges
        left in `earlier`: p.local holds the parts (_arrival_into, ...) the row's own range lacked."""
        for p in pending:
            for part in p.local:
                part(p.row, p.key, earlier)

    def merge_state(self, into: EximState, later: EximState) -> None:
        for key in later.completed:
            into.forget(key)
        for key, raw in later.arrivals.items():
            into.remember(key, raw)
        for key, by_rcpt in later.deferrals.items():
            into.deferrals_of(key).update(by_rcpt)

    def parse(self, lines: list[str], first_line_no: int, ctx: FileContext, state: EximState) -> None:
        panic = "panic" in ctx.path.rsplit("/", 1)[-1]
        fhost = ctx.host or ""  # Exim's own log files have no host column
        ignored = 0
        for offset, line in enumerate(lines):
            # Fast path for the bulk of a mainlog, "YYYY-MM-DD HH:MM:SS <message id> <flag> ...":
            # deliveries, arrivals and "Completed" need no regex (measured: most lines are these).
            if line[19:20] == " " and line[4:5] == "-" and line[26:27] == "-" and line[:4].isdigit():
                end = 36 if line[36:37] == " " else 43 if line[43:44] == " " else 0
                if end:
                    flag = line[end + 1:end + 4]
                    if flag in DELIVERED:
                        if flag != "*> ":  # "*>": delivery suppressed by -N
                            _count_delivery(line, end, ctx)
                        ignored += 1
                        continue
                    if flag == "<= ":
                        state.remember((fhost, line[20:end]), line[end + 1:])
                        ignored += 1
                        continue
                    if flag == "Com" and line.endswith("Completed"):
                        state.forget((fhost, line[20:end]))
                        if state.split_range:
                            state.completed.add((fhost, line[20:end]))
                        ignored += 1
                        continue
            line_no = first_line_no + offset
            unwrapped = self._unwrap(line) if line else None
            if unwrapped is None:
                if not line.strip():
                    ignored += 1
                    continue
                if HEADER_DUMP.match(line):
                    ctx.ignored("message headers that rejectlog writes after a rejection")
                elif line[0] in " \t":
                    ctx.ignored("continuation of a multi-line log entry (headers, or a warning's advice)")
                elif SMTP_CONTINUATION.match(line):
                    ctx.ignored("continuation of a multi-line server reply logged on the line before")
                else:
                    ctx.unparsed(line_no, line)
                continue
            host, body, syslog_stamp = unwrapped
            if host is not None:
                if line == state.last_syslog_line:
                    # syslog_duplication (default true): Exim sends reject and panic lines to
                    # syslog once for the main log and once for the reject/panic log.
                    ctx.ignored("second copy of a line (Exim's syslog_duplication)")
                    continue
                state.last_syslog_line = line
            else:
                host = ctx.host
            if syslog_stamp is not None:  # syslog_timestamp = false: the syslog stamp is the time
                stamp, zone, text = syslog_stamp, None, body
            else:
                s = STAMP.match(body)
                if s is None:
                    ctx.unparsed(line_no, line)
                    continue
                stamp, zone, text = s.group(1), s.group(2), body[s.end():]
            mid = None
            m = MSGID.match(text)
            if m:
                mid, text = m.group(1), text[m.end():]
            if not self._message(mid, text, stamp, zone, host, line, line_no, ctx, state):
                if panic:
                    # Every paniclog entry is an error Exim could not handle.
                    self._emit(ctx, _row(stamp, zone, host, "server_error", "local", queue_id=mid, diagnostic=text),
                               line_no, line)
                else:
                    ignored += 1
        ctx.ignore(ignored)

    def _emit(self, ctx: FileContext, row: dict[str, Any], line_no: int, line: str,
              pending: Key | None = None, local: Any = None) -> Row:
        stamp = row.pop("_stamp")
        return ctx.emit(row, stamp, line_no, line, pending, local=local)

    def _emit_known(self, ctx, row, line_no, line, state, key, parts) -> None:
        """Emit a row completed with what is known of its message: each of `parts` (_arrival_into,
        _last_deferral_into, ...) adds its share from the state and says whether it found it. In a
        later range (split_range) a row some part found nothing for waits (Pending), unless the
        range saw the message Completed before it: resolve_pending applies those parts to the
        earlier ranges' state, which is what a sequential parse had at this line."""
        missing = [f for f in parts if not f(row, key, state)]
        if missing and state.split_range and key not in state.completed:
            self._emit(ctx, row, line_no, line, key, missing)
        else:
            self._emit(ctx, row, line_no, line)

    def _message(self, mid, text, stamp, zone, host, line, line_no, ctx, state) -> bool:
        """Handle (and count) one Exim message text; False (not counted) when it is none of the
        shapes logscan knows."""
        flag = text[:3]
        key = (host or "", mid) if mid is not None else None
        if mid is not None:
            if flag == "<= ":
                state.remember(key, text)
                ctx.ignore()
                return True
            if flag in ("** ", "== "):
                self._delivery(mid, key, text, stamp, zone, host, line, line_no, ctx, state)
                return True
            if text == "Completed" or text.startswith("Completed "):
                state.forget(key)
                if state.split_range:
                    state.completed.add(key)
                ctx.ignore()
                return True
            if text.startswith(("Frozen", "Message is frozen", "frozen by", "Unfrozen")):
                ctx.ignored("freezing: the failure that froze the message is on its own ** or == line")
                return True
            if text.startswith(("spam acl condition: ", "malware acl condition: ")):
                # exiscan (spam.c, malware.c) could not use its scanner: an error of this server's own
                # setup (also in the paniclog), not a refusal; when it made the ACL defer the message,
                # that has its own "temporarily rejected after DATA" line
                self._emit(ctx, _row(stamp, zone, host, "server_error", "local", queue_id=mid, diagnostic=text),
                           line_no, line)
                return True
            if (text.startswith("H=") and " rejected " not in text) or text.endswith(
                    (" Connection refused", " Connection timed out")):
                ctx.ignored("per-host attempt; the == or ** line of the delivery is the failure")
                return True
            if text.startswith("cancelled by timeout_frozen_after"):
                # deliver.c: a frozen message given up after timeout_frozen_after.
                row = _row(stamp, zone, host, "expired", "outbound", queue_id=mid,
                           diagnostic="message frozen too long (timeout_frozen_after); returned to sender")
                self._emit_known(ctx, row, line_no, line, state, key, (_arrival_into,))
                return True
            if text.startswith(("event ", ". ", "\"")):
                ctx.ignored("event or subject note for a message; its delivery line carries the outcome")
                return True
        if text.startswith(("=> ", "-> ", ">> ")):  # through syslog/journal, or with log_timezone
            full = stamp if zone is None else f"{stamp.replace(' ', 'T')}{zone}"
            _count_delivery(text, -1, ctx, full[:13] + full[19:], full)
            ctx.ignore()
            return True
        if text.startswith("<= ") or text.startswith("*> ") or text == "Completed":
            ctx.ignore()
            return True
        if text.startswith(("SMTP protocol synchronization error", "SMTP protocol error", "SMTP syntax error",
                            "SMTP call from ")) and ("dropped" in text or "error" in text[:40]):
            c = CLIENT.search(text)
            self._emit(ctx, _row(stamp, zone, host, "rejected", "inbound", smtp_stage="protocol",
                                 client_host=(c.group("name") or c.group("helo")) if c else None,
                                 client_ip=c.group("ip") if c else None, diagnostic=text), line_no, line)
        elif text.startswith("SA: ") and not text.startswith("SA: PANIC"):  # (a PANIC is read as other errors are)
            ctx.ignored(_sa_exim_note(text))
        elif " rejected " in text or " rejected: " in text or text.startswith(("rejected ", "temporarily rejected ")):
            self._reject(mid, key, text, stamp, zone, host, line, line_no, ctx, state)
        elif " authenticator failed" in text:
            self._auth(text, stamp, zone, host, line, line_no, ctx)
        elif text.startswith("TLS error on connection from "):
            c = CLIENT.search("H=" + text[29:]) or CLIENT.search(text)
            self._emit(ctx, _row(stamp, zone, host, "tls_failed", "inbound", smtp_stage="STARTTLS",
                                 client_host=c.group("name") or c.group("helo") if c else None,
                                 client_ip=c.group("ip") if c else None,
                                 diagnostic=text[text.find(") ", 29) + 2:] if ") " in text[29:] else text),
                       line_no, line)
        elif " verify fail" in text or " verify defer" in text or text.startswith(
                ("sender verify ", "recipient verify ")):
            ctx.ignored("verification detail; the rejected line that follows is the failure")
        elif text.startswith(TLS_DETAILS) or "SSL verify error" in text:
            ctx.ignored("TLS detail of a connection; the delivery's == line or the rejected line is the failure")
        elif text.startswith("DKIM: ") or text.startswith("DKIM "):
            ctx.ignored("DKIM note (verification result or signing detail), not a delivery failure")
        elif text.startswith(CONFIG_ERRORS) or "failed to expand" in text or "malware acl condition:" in text:
            self._emit(ctx, _row(stamp, zone, host, "server_error", "local", queue_id=mid, diagnostic=text),
                       line_no, line)
        elif text.startswith(("no host name found for IP address", "no IP address found for host")):
            ctx.ignored("a client's reverse DNS does not match; a note, not a rejection")
        elif text.startswith("too many recipients"):
            c = CLIENT.search(text)
            self._emit(ctx, _row(stamp, zone, host, "rejected", "inbound", queue_id=mid, smtp_stage="RCPT TO",
                                 client_ip=c.group("ip") if c else None, diagnostic=text), line_no, line)
        elif " closed by DROP in ACL" in text:
            # smtp_in.c smtp_handle_acl_fail() writes "H=... rejected <what>: <reason>" (log_reject_target)
            # and only then "SMTP connection from ... closed by DROP in ACL": that rejected line is the
            # failure with its reason; this one says the connection was closed after it.
            ctx.ignored("connection closed by an ACL 'drop'; the rejected line before it is the failure")
        elif " dropped by '" in text:
            # acl.c: "H=.. dropped by 'connect' ACL: x"
            c = CLIENT.search(text)
            reason = text.split(" ACL: ", 1)[1] if " ACL: " in text else text
            self._emit(ctx, _row(stamp, zone, host, "rejected", "inbound", queue_id=mid, smtp_stage="connect",
                                 client_host=(c.group("name") or c.group("helo")) if c else None,
                                 client_ip=c.group("ip") if c else None, diagnostic=reason), line_no, line)
        elif text.startswith("VRFY failed for "):
            c = CLIENT.search(text)
            target = text[16:].split(" ", 1)[0].strip("<>")
            self._emit(ctx, _row(stamp, zone, host, "rejected", "inbound", smtp_stage="VRFY", recipient=target,
                                 recipient_domain=domain_of(target), client_ip=c.group("ip") if c else None,
                                 diagnostic="VRFY failed"), line_no, line)
        elif text.startswith(("Warning: ", "warning: ")) or " Warning: " in text[:200]:
            ctx.ignored("a warning from Exim that stops no delivery by itself")
        elif text.startswith(("smtp:", "where=", "ignoring AUTH=")):
            ctx.ignored("event or subject note for a message; its delivery line carries the outcome")
        elif text.startswith(("unfrozen by", "frozen by")):
            ctx.ignored("freezing: the failure that froze the message is on its own ** or == line")
        elif text.startswith(("SMTP command timeout", "SMTP data timeout", "unexpected disconnection",
                              "SMTP connection lost", "SMTP incomplete transaction lost", "no MAIL in SMTP connection",
                              "timed out while reading local message")):
            ctx.ignored("an SMTP client dropped or stalled its session with us; nothing was refused")
        else:
            return False
        return True

    def _delivery(self, mid, key, text, stamp, zone, host, line, line_no, ctx, state) -> None:
        d = DELIVERY.match(text, 3)
        if d is None:
            # An address with spaces (a pipe command) or a note without fields: the flag alone
            # says what happened; keep the first word as the address and the rest as the reason.
            addr, _, rest = text[3:].partition(" ")
            row = _row(stamp, zone, host, "deferred" if text[:2] == "==" else "bounced", "outbound", queue_id=mid,
                       recipient=addr, recipient_domain=domain_of(addr),
                       diagnostic=rest.split(": ", 1)[1] if ": " in rest else rest or text)
            self._emit_known(ctx, row, line_no, line, state, key, (_arrival_into,))
            return
        diag = _strip_times(d.group("diag") or "")
        code = d.group("code")
        if code in ("dd", "EEE"):  # Exim's test suite masks the errno
            code = None
        postponed = _postponed(code, diag) if text[:2] == "==" else None
        if postponed:
            ctx.ignored(postponed)
            return
        event = "deferred" if text[:2] == "==" else "bounced"
        if text[:2] == "**" and ("retry timeout exceeded" in diag or "have been failing for a long time" in diag
                                 or "retry time not reached for any host after a long failure period" in diag):
            event = "expired"
        rhost, rip, rport = d.group("h"), d.group("ip"), d.group("port")
        e = ERRNO_HOST.match(diag) if rhost is None and " H=" in diag else None
        if e:
            rhost, rip, rport = e.group("h"), e.group("ip"), e.group("port")
            diag = f"{e.group('err')}: {e.group('detail')}"
        if rhost is None:
            h = FIELD_HOST.search(d.group("fields") or "")
            if h:
                rhost, rip, rport = h.group("h"), h.group("ip"), h.group("port")
        stage = DEFER_STAGE.get(code or "")
        reply = REMOTE_ERROR.match(diag)
        smtp_code = None
        if reply:
            cmd = reply.group("cmd")
            stage = REPLY_STAGE.get(cmd, cmd)
            diag = reply.group("reply").replace("\\n", " ")
            smtp_code, enh = split_reply(diag)
        else:
            smtp_code, enh = split_reply(diag)  # Exim's own texts may start with a status: "5.1.2 ..."
            if diag.startswith("Remote host ") and "closed connection" in diag:
                stage = "greeting" if "initial connection" in diag else stage
        transport = dict(FIELD.findall(d.group("fields") or "")).get("T", "")
        local = any(k in transport for k in ("local", "appendfile", "pipe", "file", "maildir", "lmtp"))
        addr = d.group("addr")
        rcpt = d.group("parent") if addr.startswith(("|", "/")) and d.group("parent") else addr
        row = _row(stamp, zone, host, event, "local" if local else "outbound",
                   queue_id=mid, recipient=rcpt, recipient_domain=domain_of(rcpt), relay_host=rhost, relay_ip=rip,
                   relay_port=ascii_int(rport, "relay_port"),  # test suite: PORT_S
                   smtp_code=smtp_code, enhanced_status=enh,
                   smtp_stage=stage, error_code=code, diagnostic=diag or f"deferred (code {code})")
        self._emit_known(ctx, row, line_no, line, state, key,
                         (_last_deferral_into, _arrival_into) if event == "expired" else (_arrival_into,))
        if event == "deferred":
            # Only what an expiry takes from it (_link_last_deferral), not the whole row with its
            # line: a message deferred and never completed in what is read is held until MAX_IDS,
            # and whole rows made memory grow with the log (#15: 19,034 held at 100 MiB generated).
            state.deferrals_of(key)[rcpt] = {k: row[k] for k in LAST_DEFERRAL_KEPT}

    def _reject(self, mid, key, text, stamp, zone, host, line, line_no, ctx, state) -> None:
        r = REJECT_WHAT.search(text)
        if r is None:  # "unqualified sender rejected: <x>", local_scan()'s "message temporarily rejected", ...
            c = CLIENT.search(text)
            u = UNQUALIFIED.match(text)
            self._emit(ctx, _row(stamp, zone, host, "rejected", "inbound", queue_id=mid,
                                 diagnostic=text.split(" H=", 1)[0],
                                 sender=u.group(2) if u and u.group(1) == "sender" else None,
                                 recipient=u.group(2) if u and u.group(1) == "recipient" else None,
                                 smtp_stage=("MAIL FROM" if u.group(1) == "sender" else "RCPT TO") if u else None,
                                 client_host=(c.group("name") or c.group("helo")) if c else None,
                                 client_ip=c.group("ip") if c else None), line_no, line)
            return
        left, right = text[:r.start()], text[r.end():]
        what, target = r.group("what"), r.group("target")
        c = CLIENT.search(left) or CLIENT.search(right) or BARE_CLIENT.search(text)
        f = SENDER.search(left)
        rcpt = target.strip("<>") if what == "RCPT" and target else None
        sender = f.group("s") if f else (target.strip("<>") if what in ("MAIL", "from") and target else None)
        reason = right[2:] if right.startswith(": ") else ""
        if not reason:
            i = right.find(": ")
            reason = right[i + 2:] if i >= 0 else ""
        diag = reason or f"{'temporarily ' if r.group('temp') else ''}rejected {what}"
        code, enh = split_reply(diag)
        row = _row(stamp, zone, host, "rejected", "inbound", queue_id=mid, sender=sender, recipient=rcpt,
                   recipient_domain=domain_of(rcpt), client_host=(c.group("name") or c.group("helo")) if c else None,
                   client_ip=c.group("ip") if c else None, smtp_code=code, enhanced_status=enh,
                   smtp_stage=REJECT_STAGE.get(what, what.strip('"')), diagnostic=diag)
        if mid:
            self._emit_known(ctx, row, line_no, line, state, key, (_reject_arrival_into,))
        else:
            self._emit(ctx, row, line_no, line)

    def _auth(self, text, stamp, zone, host, line, line_no, ctx) -> None:
        a = AUTH_FAIL.search(text)
        if a is None:
            ctx.unparsed(line_no, line)
            return
        who = a.group("who")
        c = CLIENT.search(who if who.startswith("H=") else "H=" + who)
        if a.group("for") is None and who.startswith("H="):
            # "<driver> authenticator failed H=host [ip] 535 ...": our client login to a server failed
            # (smtp transport); "... failed for <client>" is a client failing against us.
            text_ = _strip_times(a.group("text"))
            row = _row(stamp, zone, host, "auth_failed", "outbound", smtp_stage="AUTH",
                       relay_host=c.group("name") if c else None, relay_ip=c.group("ip") if c else None,
                       smtp_code=split_reply(text_)[0], enhanced_status=split_reply(text_)[1],
                       diagnostic=text_.replace("\\n", " "))
            self._emit(ctx, row, line_no, line)
            return
        row = _row(stamp, zone, host, "auth_failed", "inbound", smtp_stage="AUTH",
                   client_host=(c.group("name") or c.group("helo")) if c else None,
                   client_ip=c.group("ip") if c else None,
                   sasl_username=a.group("user"), smtp_code=split_reply(a.group("text"))[0],
                   diagnostic=f"{a.group('auth')} authenticator failed: {a.group('text')}")
        self._emit(ctx, row, line_no, line)


PARSER = EximParser()

T = "exim/log/"
F2B = "fail2ban/exim.log"
SAMPLES: tuple[Sample, ...] = (
    # ---- written by the real Exim 4.96 run here (sample_logs/exim/, tools/samples/make_exim_samples.sh) ----
    Sample(
        '2026-11-27 20:31:20 1xX2bI-0007H6-0T ** nouser@gmail-like.example F=<alice@example.com> P=<alice@example.com> R=fake_remote T=remote_smtp H=127.0.0.1 [127.0.0.1]:2525 I=[127.0.0.1]:33029 X=TLS1.3:ECDHE_SECP256R1__RSA_PSS_RSAE_SHA256__AES_256_GCM:256 CV=no DN="CN=mx.selfsigned.example.org": SMTP error from remote mail server after RCPT TO:<nouser@gmail-like.example>: 550-5.1.1 The email account that you tried to reach does not exist. Please try\\n550-5.1.1 double-checking the recipient\'s email address for typos or\\n550-5.1.1 unnecessary spaces. For more information, go to\\n550 5.1.1  https://support.google.com/mail/?p=NoSuchUser t54si6450324ujw.805 - gsmtp DT=0s',
        context=('2026-11-27 20:31:20 1xX2bI-0007H6-0T <= alice@example.com U=alice P=local S=396 M8S=0 T="team update" from <alice@example.com> for sam@gmail-like.example nouser@gmail-like.example overquota@gmail-like.example',),
        expect={"event": "bounced", "direction": "outbound", "recipient": "nouser@gmail-like.example",
                "relay_host": "127.0.0.1", "relay_port": 2525, "smtp_stage": "RCPT TO", "smtp_code": 550,
                "enhanced_status": "5.1.1", "sender": "alice@example.com", "size": 396,
                "category": "recipient_unknown"}),
    Sample(
        '2026-11-27 20:31:20 1xX2bI-0007H6-0T == overquota@gmail-like.example R=fake_remote T=remote_smtp defer (-44) H=127.0.0.1 [127.0.0.1]:2525* I=[127.0.0.1]:33029 DT=0s: SMTP error from remote mail server after RCPT TO:<overquota@gmail-like.example>: 452-4.2.2 The email account that you tried to reach is over quota. Please direct\\n452-4.2.2 the recipient to\\n452 4.2.2  https://support.google.com/mail/?p=OverQuotaTemp x41si2700453xvn.947 - gsmtp',
        expect={"event": "deferred", "error_code": "-44", "smtp_code": 452, "enhanced_status": "4.2.2",
                "relay_port": 2525, "category": "mailbox_full"}),
    Sample(
        "2026-11-27 20:31:30 1xX2bM-0007M8-2A == postmaster@silent.example.org R=fake_fast T=smtp_fast defer (110): Connection timed out H=127.0.0.1 [127.0.0.1]:2530 I=[127.0.0.1]:43357 DT=6s: SMTP timeout after initial connection",
        expect={"event": "deferred", "error_code": "110", "relay_ip": "127.0.0.1", "relay_port": 2530,
                "diagnostic": "Connection timed out: SMTP timeout after initial connection",
                "category": "connection_timeout"}),
    Sample(
        "2026-11-27 20:31:31 1xX2bT-0007Mm-01 == postmaster@refused.example.org R=fake_fast T=smtp_fast defer (111): Connection refused DT=0s",
        expect={"event": "deferred", "error_code": "111", "diagnostic": "Connection refused",
                "category": "connection_refused"}),
    Sample(
        "2026-11-27 20:31:30 1xX2bS-0007MO-2b == postmaster@selfsigned.example.org R=fake_verify T=smtp_verify defer (-37) H=127.0.0.1 [127.0.0.1]:2532 I=[127.0.0.1]:45951 DT=0s: TLS session: (certificate verification failed): certificate invalid",
        expect={"event": "deferred", "error_code": "-37", "smtp_stage": "STARTTLS", "category": "tls_certificate"}),
    Sample(
        "2026-11-27 20:40:43 1xX2kM-0008Cl-35 ** again@refused.example.org: retry timeout exceeded",
        context=(
            "2026-11-27 20:40:42 1xX2kM-0008Cl-35 <= bob@example.com U=bob P=local S=371 M8S=0 T=\"refused again\" from <bob@example.com> for again@refused.example.org",
            "2026-11-27 20:40:43 1xX2kM-0008Cl-35 == again@refused.example.org R=fake_fast T=smtp_fast defer (111): Connection refused DT=0s",
        ),
        expect={"event": "expired", "recipient": "again@refused.example.org", "sender": "bob@example.com",
                "error_code": "111", "category": "expired", "last_deferral_category": "connection_refused",
                "diagnostic": "retry timeout exceeded; last deferral: Connection refused"}),
    Sample(
        "2026-11-27 20:31:31 1xX2bT-0007Nd-1E ** nosuchuser@example.com F=<bob@example.com>: Unknown user DT=0s",
        expect={"event": "bounced", "diagnostic": "Unknown user", "category": "recipient_unknown"}),
    Sample(
        "2026-11-27 20:31:30 1xX2bS-0007Me-33 PLAIN authenticator failed H=127.0.0.1 [127.0.0.1] 535-5.7.8 Username and Password not accepted. For more information, go to",
        expect={"event": "auth_failed", "direction": "outbound", "relay_ip": "127.0.0.1", "smtp_code": 535,
                "category": "auth_failed"}),
    Sample(
        "2026-11-27 20:31:35 LOGIN authenticator failed for (client.example.com) [127.0.0.1]:55830 I=[127.0.0.1]:587: 535 Incorrect authentication data (set_id=alice@example.com)",
        expect={"event": "auth_failed", "direction": "inbound", "client_host": "client.example.com",
                "client_ip": "127.0.0.1", "sasl_username": "alice@example.com", "category": "auth_failed"}),
    Sample(
        "2026-11-27 20:31:32 H=(client.example.com) [127.0.0.2]:40025 I=[127.0.0.1]:25 F=<someone@example.org> rejected RCPT <victim@gmail-like.example>: relay not permitted",
        expect={"event": "rejected", "client_ip": "127.0.0.2", "sender": "someone@example.org",
                "recipient": "victim@gmail-like.example", "category": "relay_denied"}),
    Sample(
        "2026-11-27 20:31:31 1xX2bT-0007O1-1z rejected from <bob@example.com> U=root: message too big: read=40961 max=40960",
        expect={"event": "rejected", "sender": "bob@example.com", "category": "message_too_large"}),
    Sample(
        "2026-11-27 20:31:33 rejected EHLO from [127.0.0.1]:35892 I=[127.0.0.1]:25: syntactically invalid argument(s): bad_helo",
        expect={"event": "rejected", "smtp_stage": "EHLO", "client_ip": "127.0.0.1", "category": "sender_rejected"}),
    Sample(
        "2026-11-27 20:31:38 SMTP protocol synchronization error (next input sent too soon: pipelining was not advertised): rejected \"MAIL FROM:<alice@example.com>\" H=(oldclient.example.com) [127.0.0.1]:45069 I=[127.0.0.1]:25 next input=\"RCPT TO:<bob@example.com>\\r\\n\"",
        expect={"event": "rejected", "smtp_stage": "protocol", "client_host": "oldclient.example.com"}),
    Sample("2026-11-27 20:37:22 unqualified sender rejected: <carol> H=(client.example.com) [127.0.0.1]:58362 I=[127.0.0.1]:25",
           expect={"event": "rejected", "sender": "carol", "smtp_stage": "MAIL FROM", "client_ip": "127.0.0.1",
                   "diagnostic": "unqualified sender rejected: <carol>"}),
    Sample('2026-11-27 20:37:23 1xX2h9-0007xY-2t H=(client.example.com) [127.0.0.2]:35987 I=[127.0.0.1]:25 F=<winner@example.org> rejected after DATA: spam subject "You won the lottery"',
           expect={"event": "rejected", "queue_id": "1xX2h9-0007xY-2t", "smtp_stage": "end of DATA",
                   "client_ip": "127.0.0.2", "sender": "winner@example.org", "category": "spam_detected"}),
    Sample("2026-11-27 20:31:24 1xX2bM-0007Lk-1A == slowdata@flaky.example.net R=fake_flaky T=smtp_flaky defer (-54) DT=0s: retry time not reached for any host for 'flaky.example.net'",
           ignore=RETRY_NOT_REACHED),
    Sample("2026-11-27 20:31:24 1xX2bM-0007Lc-0d H=127.0.0.1 [127.0.0.1]:2528: Remote host closed connection in response to pipelined RCPT TO:<drop@flaky.example.net>",
           ignore="per-host attempt; the == or ** line of the delivery is the failure"),
    # ---- Exim's own test suite output (../shared/corpora/exim/log, read by reference) ----
    Sample(ref=f"{T}0217:225", expect={
        "event": "bounced", "direction": "outbound", "queue_id": "10HmbL-000000005vi-0000",
        "recipient": "n166@test.ex", "relay_host": "127.0.0.1", "relay_ip": "127.0.0.1", "smtp_stage": "RCPT TO",
        "smtp_code": 550, "diagnostic": "550 NO"}),
    Sample(ref=f"{T}0622:12", expect={
        "event": "deferred", "recipient": "c@test.ex", "error_code": "-44", "smtp_stage": "RCPT TO",
        "smtp_code": 452, "enhanced_status": "4.5.3"}),
    Sample(ref=f"{T}0217:16", expect={"event": "deferred", "error_code": "-45", "smtp_stage": "MAIL FROM"}),
    Sample(ref=f"{T}0355:3", expect={"event": "expired", "diagnostic": "retry timeout exceeded",
                                     "category": "expired"}),
    Sample(ref=f"{T}5002:5", expect={"event": "deferred", "direction": "local", "error_code": "-22",
                                     "category": "mailbox_full"}),
    Sample(ref=f"{T}5820:49", expect={"event": "deferred", "error_code": "-37", "smtp_stage": "STARTTLS",
                                      "relay_host": "danebroken2.test.ex"}),
    Sample(ref=f"{T}0206:5", expect={"event": "bounced", "recipient": "unknown@test.ex",
                                     "diagnostic": "Unrouteable address"}),
    Sample(ref=f"{T}0206:16", expect={"event": "expired", "queue_id": "10HmaX-000000005vi-0000"}),
    Sample(ref=f"{T}0014:8", ignore="verification detail; the rejected line that follows is the failure"),
    Sample(ref=f"{T}0227:21", expect={
        "event": "rejected", "direction": "inbound", "client_host": "test", "client_ip": "V4NET.0.0.5",
        "sender": "ok@localhost1", "recipient": "z@remote.domain", "smtp_stage": "RCPT TO",
        "diagnostic": "relay not permitted", "category": "relay_denied"}),
    Sample(ref=f"{T}0507:2", expect={"event": "rejected", "smtp_stage": "end of DATA",
                                     "diagnostic": "bcc recipient detected"}),
    Sample(ref=f"{T}0021:1", expect={"event": "rejected", "smtp_stage": "local submission",
                                     "sender": "userx@test1"}),
    Sample(ref=f"{T}0373:1", expect={"event": "rejected", "smtp_stage": "connect"}),
    Sample(ref=f"{T}0300:8", expect={"event": "rejected", "smtp_stage": "protocol", "client_ip": "127.0.0.1"}),
    Sample(ref=f"{T}2000:10", expect={"event": "tls_failed", "direction": "inbound", "client_ip": "127.0.0.1",
                                      "category": "tls_handshake"}),
    Sample(ref=f"{T}9350:4", expect={"event": "auth_failed", "sasl_username": "userx", "client_ip": "127.0.0.1",
                                     "smtp_code": 535, "category": "auth_failed"}),
    Sample(ref=f"{T}0156:7", ignore="freezing: the failure that froze the message is on its own ** or == line"),
    Sample(ref=f"{T}0195:15",
           ignore=RETRY_NOT_REACHED),
    Sample(ref=f"{T}0014:1", ignore=""),
    Sample(ref=f"{T}0031:5", ignore=NO_ATTEMPT),
    Sample(ref=f"{T}0055:22", ignore=NO_ATTEMPT),
    Sample(ref=f"{T}0209:2", ignore=NO_ATTEMPT),
    Sample(ref=f"{T}0570:15", ignore=NO_ATTEMPT),
    Sample(ref=f"{T}0217:226", expect={"category": "recipient_unknown"}),
    # ---- fail2ban's Exim logs: plain, journal export and syslog with the stamp cut ----
    Sample(ref=f"{F2B}:86", ignore="connection closed by an ACL 'drop'; the rejected line before it is the failure"),
    Sample(ref=f"{F2B}:128", expect={"event": "rejected", "smtp_stage": "connect", "client_ip": "192.0.2.101",
                                     "diagnostic": "Country is banned", "category": "blocklisted"}),
    # SA-Exim's notes: accepted mail (flagged, tossed) is no rejection; its refusals are Exim's own line
    Sample(ref="fail2ban/exim-spam.log:19", ignore="SA-Exim scanned (or skipped) a message that was accepted"),
    Sample(ref="fail2ban/exim-spam.log:22",
           ignore="SA-Exim accepted a message and discarded it (score over its SAdevnull threshold); nothing was refused"),
    Sample(ref="fail2ban/exim-spam.log:12", expect={"event": "rejected", "smtp_stage": "end of DATA",
                                                    "diagnostic": "Rejected", "category": "spam_detected"}),
    Sample(ref=f"{F2B}:3", expect={"event": "auth_failed", "client_ip": "24.106.174.74", "sasl_username": "brian",
                                   "client_host": "rrcs-24-106-174-74.se.biz.rr.com"}),
    Sample(ref=f"{F2B}:20", expect={"event": "auth_failed", "host": "mx1.fqdn.local", "client_ip": "192.0.2.37",
                                    "sasl_username": "test@domain.com"}),
    Sample(ref=f"{F2B}:26", expect={"event": "auth_failed", "client_ip": "194.169.175.1"}),
    Sample(ref=f"{F2B}:40", expect={"event": "auth_failed", "host": "mail.example.com", "client_ip": "192.0.2.27"}),
)
