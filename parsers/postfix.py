"""Postfix (syslog, maillog_file or journal export) to failure rows.

Patterns use the standard `re` module: every quantifier is bounded, so a hostile line (at most
64 KiB, see logscan/reading.py) costs at most linear-times-a-constant; `re` matched the syslog prefix
1.7 times faster than `regex` here. User-supplied rule patterns use `regex` with timeouts.

Message formats were read from Postfix's source (smtp_proto.c, smtp_connect.c, smtp_sasl_glue.c,
smtpd.c, smtpd_check.c, cleanup_milter.c, qmgr_active.c, tls_client.c/tls_server.c) and every
pattern has real lines below: from the real Postfix 3.7 run here (sample_logs/postfix/, made by
tools/samples/make_postfix_samples.sh) or, by reference, from ../shared/corpora.

Correlation: each (host, queue id) remembers its sender, size, message-id, client and SASL user from the
smtpd/pickup, cleanup and qmgr lines, and its last deferral (for `expired`). It is forgotten at
`removed`; the table is capped (oldest first out), so this state does not grow with the log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict

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
from logscan.smtp import domain_of, host_ip_port, split_reply

if TYPE_CHECKING:
    from logscan.parsers.base import Row

NAME = "postfix"

DELIVERY_DAEMONS = frozenset({"smtp", "lmtp", "local", "virtual", "pipe", "error", "retry", "discard"})
KNOWN_DAEMONS = DELIVERY_DAEMONS | frozenset(
    "smtpd qmgr oqmgr cleanup pickup bounce postscreen dnsblog tlsproxy anvil scache master "
    "postfix-script postsuper postqueue postdrop sendmail trivial-rewrite verify tlsmgr proxymap "
    "showq flush postlogd postmap postconf spawn postmulti postlog".split()
)

# A line must start like a time stamp: classic syslog (a month) or RFC 3339 (a year).
MONTHS = frozenset("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split())
# Queue ids: short ones are upper-case hex (0F5383D), long ones (enable_long_queue_ids) mix
# cases and digits (4gsCYX4htvz8sXF). The parse loop takes "<alnum, 5-20 chars, not all
# lower case, not NOQUEUE>: " as a queue id, so words like "warning: " never pass.
# Lines without a queue id that can be failures (or failure details to count with a reason).
INTERESTING_UNQUEUED = (
    "warning: ", "fatal: ", "panic: ", "error: ", "SSL_accept error", "connect to ", "SSL_connect error",
    "certificate verification failed", "server certificate verification failed", "lost connection after ",
    "timeout after ", "too many errors after ",
)

# An address between <>: a quoted local part may hold ">" ("a>b"@example.com, RFC 5321 Quoted-string;
# Postfix logs the quoted form: to=<"user 1234 with space"@icloud.com>, a line quoted in the tests of
# lightmeterio/ControlCenter pkg/postfix/logparser/parser_test.go); bounded and possessive
ADDR = r'(?:"(?:[^"\\]|\\.){0,256}+"(?:@[^<>\s]{0,255})?|[^>]{0,512})'
# smtp/lmtp/local/...: "to=<r>, [orig_to=<o>, ]relay=..., delay=..., delays=..., dsn=X.Y.Z, status=S (text)"
DELIVERY = re.compile(
    rf"to=<(?P<rcpt>{ADDR})>, (?:orig_to=<(?P<orig>{ADDR})>, )?relay=(?P<relay>[^,]{{0,300}}), "
    r"(?>[a-z_]{1,20}=[^,]{0,100}, ){0,6}dsn=(?P<dsn>[0-9]\.[0-9]{1,3}\.[0-9]{1,3}), status=(?P<status>[\w-]{1,40})"
    r"(?: \((?P<text>.*?)\)?)?$"  # a line cut inside the text still parses
)
# qmgr: "from=<s>, size=n, nrcpt=n (queue active)" / "from=<s>, status=expired, returned to sender"
QMGR_FROM = re.compile(rf"from=<(?P<sender>{ADDR})>, (?:size=(?P<size>\d{{1,15}}), nrcpt=|status=(?P<status>expired))")
# smtpd: "client=host[ip]:port, sasl_method=PLAIN, sasl_username=u" (orig_client= with XCLIENT)
CLIENT = re.compile(
    r"client=(?P<client>[^,\s]{1,400})(?:, sasl_method=[^,\s]{1,40})?(?:, sasl_username=(?P<user>[^,]{0,320}))?"
)
# smtpd/cleanup/postscreen: "reject: RCPT from host[ip]:port: 550 5.1.1 <x>: text; from=<s> to=<r> proto=ESMTP helo=<h>"
REJECT = re.compile(
    r"(?P<action>reject|milter-reject|proxy-reject): (?P<cmd>[A-Z][A-Z-]{1,20}) from (?P<client>[^\s:\[]{0,300}\[[^\]\s]{1,64}\](?::\d{1,5})?): (?P<text>.*)$"
)
# cleanup header/body checks: "reject: header Subject: x from host[ip]; from=<s> to=<r> proto=ESMTP helo=<h>: 5.7.1 text"
CHECK_REJECT = re.compile(
    r"reject: (?P<what>header|body|mime-header|nested-header) (?P<content>.{0,2000}) from (?P<client>[^\s;\[]{0,300}\[[^\]\s]{1,64}\])"
    rf"; from=<(?P<sender>{ADDR})> to=<(?P<rcpt>{ADDR})>"
    r"(?: proto=\S{1,20})?(?: helo=<[^>]{0,300}>)?: (?P<text>.*)$"
)
# smtpd writes "; from=<s> to=<r> proto=ESMTP helo=<h>"; postscreen separates them with commas.
ENVELOPE = re.compile(
    rf"; from=<(?P<sender>{ADDR})>(?:,? to=<(?P<rcpt>{ADDR})>)?"
    r"(?:,? proto=[^\s,]{1,20})?(?:,? helo=<[^>]{0,300}>)?$"
)
SASL_FAIL = re.compile(
    r"(?P<client>[^\s\[]{0,300}\[[^\]\s]{1,64}\](?::\d{1,5})?): SASL (?P<mech>[\w-]{1,40}) authentication failed: ?"
    r"(?P<text>.*?)(?:, sasl_username=(?P<user>.{0,320}))?$"
)
SSL_ACCEPT = re.compile(r"SSL_accept error from (?P<client>[^\s\[]{0,300}\[[^\]\s]{1,64}\](?::\d{1,5})?): (?P<text>.*)$")
SAID = re.compile(r"host (?P<relay>[^\s\[]{0,300}\[[^\]\s]{1,64}\]) (?:said|refused to talk to me): (?P<reply>.*)$")
SASL_SERVER = re.compile(r"server (?P<relay>[^\s\[]{0,300}\[[^\]\s]{1,64}\])(?P<said> said)?: (?P<rest>.*)$")
IN_REPLY_TO = re.compile(r" \(in reply to (?P<cmd>[^)]{1,40}) command\)$")
WHILE = re.compile(r" (?:with|to) (?P<relay>[^\s\[]{0,300}\[[^\]\s]{1,64}\](?::\d{1,5})?) (?:timed out )?while (?P<what>[^(]{1,80})")

# What a Postfix "while ..." clause or a status text says about the SMTP stage.
WHILE_STAGE = (
    ("initial server greeting", "greeting"),
    ("EHLO", "EHLO"),
    ("HELO", "HELO"),
    ("TLS", "STARTTLS"),
    ("MAIL FROM", "MAIL FROM"),
    ("RCPT TO", "RCPT TO"),
    ("end of data", "end of DATA"),
    ("message content", "DATA"),
    ("DATA", "DATA"),
    ("AUTH", "AUTH"),
)


def _stage_of_while(what: str) -> str | None:
    for needle, stage in WHILE_STAGE:
        if needle in what:
            return stage
    return "connect" if "connect" in what else None


def explain_status_text(text: str) -> dict[str, Any]:
    """Split a delivery status text into relay, SMTP code, stage and the diagnostic itself."""
    out: dict[str, Any] = {}
    # error(8)/retry(8) repeat the reason of a destination that is currently suspended.
    body = text.removeprefix("delivery temporarily suspended: ")
    if body.startswith("SASL authentication failed; "):
        # smtp_sasl_glue.c: "SASL authentication failed; server %s said: %s" and
        # "SASL authentication failed; cannot authenticate to server %s: %s"
        out["smtp_stage"] = "AUTH"
        m = SASL_SERVER.search(body)
        if m:
            out["relay"] = m.group("relay")
            if m.group("said"):
                body = m.group("rest")
        out["smtp_code"], _ = split_reply(body)
        out["diagnostic"] = body
        return out
    m = SAID.match(body)
    if m:
        out["relay"] = m.group("relay")
        reply = m.group("reply")
        r = IN_REPLY_TO.search(reply)
        if r:
            cmd = r.group("cmd")
            out["smtp_stage"] = "AUTH" if cmd.startswith("AUTH") else cmd
            reply = reply[: r.start()]
        elif "refused to talk to me" in body:
            out["smtp_stage"] = "greeting"
        out["smtp_code"], _ = split_reply(reply)
        out["diagnostic"] = reply
        return out
    out["diagnostic"] = body
    if body.startswith("connect to "):
        out["smtp_stage"] = "connect"
        out["relay"] = body[11:].split(": ", 1)[0]
    elif body.startswith(("Host or domain name not found", "Name service error", "unknown mail transport")):
        out["smtp_stage"] = "DNS" if "Name service" in body or "Host or domain" in body else None
    elif "TLS" in body or "certificate" in body:
        out["smtp_stage"] = "STARTTLS"
        m = re.search(r"host (?P<relay>[^\s\[]{0,300}\[[^\]\s]{1,64}\])", body)
        if m:
            out["relay"] = m.group("relay")
    else:
        m = WHILE.search(body)
        if m:
            out["relay"] = m.group("relay")
            out["smtp_stage"] = _stage_of_while(m.group("what"))
    return out


def _row(p: tuple[str, str, str, str], event: str, direction: str, **fields: Any) -> dict[str, Any]:
    """A failure row with what every Postfix row has. p is the line's (stamp, host, program, pid)."""
    return {"host": p[1], "source": NAME, "program": p[2], "event": event, "direction": direction, **fields}


def _count_delivery(line: str, ctx: FileContext) -> None:
    """A "status=sent" line, counted for failure rates by day, recipient domain and relay host.
    Real line (sample_logs/postfix/mail.log:1, Postfix 3.7):
    Nov 27 19:41:06 mx1 postfix/local[13402]: 699DA16458F: to=<bob@example.com>, relay=local, delay=1,
    delays=0/0/0/1, dsn=2.0.0, status=sent (delivered to mailbox); smtp: relay=host[ip]:port."""
    to = line.find(" to=<")
    quote = line.find('"', to + 6) if line.startswith('"', to + 5) else -1  # a quoted local part may hold ">"
    end = line.find(">", max(to + 5, quote))
    relay = line.find(", relay=", end)
    if to < 0 or end < 0 or relay < 0:
        return
    host = line[relay + 8:line.find(",", relay + 8)]
    bracket = host.find("[")
    if bracket > 0:
        host = host[:bracket]
    if line[:4].isdigit():  # RFC 3339 / short-iso: the offset ends the stamp
        stamp = line[:line.find(" ")]
        key = stamp[:13] + stamp[-6:]
    else:  # "Nov 27 19:41:06"
        stamp, key = line[:15], line[:9]
    ctx.delivered(key, stamp, line[to + 5:end], host)


class QueueContext(TypedDict, total=False):
    """What one (host, queue id) remembers: its context lines raw (the text after "QID: "),
    decoded only when a failure of that queue id needs them (most messages never fail)."""

    client: str  # smtpd: "client=host[ip]:port, sasl_method=..., sasl_username=..."
    message_id: str  # cleanup: "message-id=<...>"
    qmgr: str  # qmgr: "from=<sender>, size=n, nrcpt=n (queue active)"
    pickup: str  # pickup: "uid=0 from=<sender>"
    last_deferral: Row  # the row of its last deferral, for `expired`


# Form-1 persisted states (before the host was in the key) named the context by the first four
# characters of its line.
FORM1_NAMES = {"clie": "client", "mess": "message_id", "from": "qmgr", "uid=": "pickup", "last_deferral": "last_deferral"}


@dataclass
class PostfixState(ParserState):
    """Correlation by (host, queue id) for one scan, bounded in size."""

    MAX_QUEUE_IDS = 200_000

    # Carried from one run to the next by an incremental scan (logscan/store.py saves it as JSON).
    queue: dict[Key, QueueContext] = persisted_field(default_factory=dict)
    daemon_cache: dict[str, str] = field(default_factory=dict)  # "postfix/smtp[4300]" -> "smtp" ("" = not Postfix)
    # Last TLS failure row per (host, pid): the "TLS library problem" line after it adds the reason.
    last_tls_row: dict[tuple[str, str], Row] = field(default_factory=dict)
    # split_range: every (host, queue id) `removed` in this range. merge_state removes them from the
    # earlier ranges' state, and a row of the range after the removal finds nothing there to wait for.
    removed: set[Key] = field(default_factory=set)

    def get(self, key: Key) -> QueueContext:
        q = self.queue.get(key)
        if q is None:
            if len(self.queue) >= self.MAX_QUEUE_IDS:
                # Forget the oldest tenth: messages that were never `removed` in what we read.
                for old in list(self.queue)[: self.MAX_QUEUE_IDS // 10]:
                    del self.queue[old]
            q = self.queue[key] = (self.adopt("queue", key) if self.legacy else None) or {}
        return q

    def lookup(self, key: Key) -> QueueContext | None:
        q = self.queue.get(key)
        if q is None and self.legacy:
            q = self.legacy.get("queue", {}).get(key[1])
        return q

    def remove(self, key: Key) -> bool:
        """The queue id is `removed`; False if this state never saw it."""
        if self.queue.pop(key, None) is not None:
            return True
        return bool(self.legacy) and self.adopt("queue", key) is not None

    def load_form1(self, name: str, value: dict[str, Any]) -> None:
        self.legacy[name] = {qid: {FORM1_NAMES[k]: v for k, v in info.items() if k in FORM1_NAMES}
                             for qid, info in value.items()}


def correlated(info: QueueContext | None) -> dict[str, Any]:
    """Decode the raw context lines of one queue id into failure-table fields."""
    out: dict[str, Any] = {}
    if not info:
        return out
    raw = info.get("client")
    if raw is not None:
        c = CLIENT.match(raw)
        if c:
            out["client_host"], out["client_ip"], _ = host_ip_port(c.group("client"))
            out["sasl_username"] = c.group("user")
    raw = info.get("message_id")
    if raw is not None:
        mid = raw[11:].strip()
        if mid.startswith("<") and mid.endswith(">"):
            mid = mid[1:-1]
        out["message_id"] = mid or None
    raw = info.get("qmgr")
    if raw is not None:
        f = QMGR_FROM.match(raw)
        if f:
            out["sender"] = f.group("sender")
            if f.group("size"):
                out["size"] = ascii_int(f.group("size"), "size")
    raw = info.get("pickup")
    if raw is not None and "sender" not in out:
        i = raw.find(" from=<")  # pickup: "uid=0 from=<root>"
        if i > 0:
            out["sender"] = raw[i + 7:].rstrip(">")
    return out


EXPIRED = "status=expired, returned to sender"  # qmgr's from= line of an expired message: a failure

# First four characters of the context lines kept per queue id (smtpd client=, cleanup
# message-id=, qmgr from=, pickup uid=) and of qmgr's "removed", to the QueueContext key.
CONTEXT_KINDS = {"clie": "client", "mess": "message_id", "from": "qmgr", "uid=": "pickup", "remo": "removed"}


# Context a failure row is complete with: message-id and qmgr's from=, and the origin (smtpd's
# client= or pickup's uid=). A row of a later range without all of them may find the rest in
# an earlier range (parallel parsing); qmgr repeats from= at each retry, the others it does not.
FULL_CONTEXT = frozenset({"message_id", "qmgr"})
ORIGIN_KINDS = frozenset({"client", "pickup"})
LAST_DEFERRAL_FIELDS = ("recipient", "recipient_domain", "relay_host", "relay_ip", "relay_port", "smtp_code",
                        "enhanced_status", "smtp_stage")


def _incomplete(info: QueueContext) -> bool:
    return not (info.keys() >= FULL_CONTEXT and info.keys() & ORIGIN_KINDS)


def _expired_detail(last: dict[str, Any] | None) -> dict[str, Any]:
    last = last or {}
    out = {k: last.get(k) for k in LAST_DEFERRAL_FIELDS}
    out["diagnostic"] = (
        f"message expired in the queue; last deferral: {last['diagnostic']}"
        if last.get("diagnostic")
        else "message expired in the queue (returned to sender); no deferral reason in the logs read"
    )
    return out


# How a row takes its queue id's context (a QueueContext). Each is applied once when the row is
# made, and, for a Pending row of a later range, again by resolve_pending with the earlier ranges'
# context under the range's own (_merged): the same function, so the same fields as a sequential parse.
def _with_context(row: dict[str, Any], info: QueueContext) -> None:
    """Delivery failures and the queue file size warning: everything the queue id's lines say."""
    row.update(correlated(info))


def _with_expiry(row: dict[str, Any], info: QueueContext) -> None:
    """qmgr's expiry: its last deferral's reason, and the queue id's context."""
    row.update(_expired_detail(info.get("last_deferral")))
    row.update(correlated(info))


def _with_reject_context(row: dict[str, Any], info: QueueContext) -> None:
    """smtpd/cleanup rejections with a queue id: the line has the envelope and the client."""
    fields = correlated(info)
    if fields:
        for k in ("message_id", "size", "sasl_username"):
            row[k] = fields.get(k)


def _with_check_context(row: dict[str, Any], info: QueueContext) -> None:
    """cleanup's header/body check rejections."""
    fields = correlated(info)
    row["message_id"] = fields.get("message_id")
    row["sasl_username"] = fields.get("sasl_username")


def _merged(earlier: QueueContext | None, local: QueueContext) -> QueueContext:
    """A queue id's context as a sequential parse has it: the earlier ranges', the later range's over
    it, except the expiry text _queued keeps as qmgr only when no earlier from= line gave one."""
    out = dict(earlier or {})
    for k, v in local.items():
        if k != "qmgr" or "qmgr" not in out or not v.endswith(EXPIRED):
            out[k] = v
    return out  # type: ignore[return-value]


class PostfixParser(BaseParser):
    name = NAME
    description = "Postfix through syslog, maillog_file or the journal (all daemons)"
    traits = Traits(server=True, counts_deliveries=True, splittable=True, persisted=True)
    State = PostfixState

    def detect(self, lines: list[str]) -> float:
        hits = 0
        for line in lines:
            m = PREFIX.match(line)
            if m and self._daemon(m.group("prog")) is not None:
                hits += 1
        return hits / len(lines) if lines else 0.0

    @staticmethod
    def _daemon(prog: str) -> str | None:
        # postfix/smtp, postfix-10.20.30.40/smtp, postfix/submission/smtpd, a custom syslog_name
        # such as mx-out/smtp, and bare postfix (postfix-script, master at start).
        daemon = prog.rpartition("/")[2]
        if daemon in KNOWN_DAEMONS and ("/" in prog or prog.startswith("postfix")):
            return daemon
        if prog.startswith("postfix"):
            return "master"
        return None

    def parse(self, lines: list[str], first_line_no: int, ctx: FileContext, state: PostfixState) -> None:
        # The hot loop splits "<stamp> <host> <prog>[<pid>]: <msg>" with str.find rather than a
        # regex (measured three times faster). Every line is counted: a failure (ctx.emit),
        # unparsed, or ignored (counted in bulk where the loop drops it, one by one otherwise).
        daemons = state.daemon_cache
        queue = state.queue
        split = state.split_range
        # Successful deliveries and smtpd's (dis)connect notes are most of a busy log: one C-level
        # pass drops them before the per-line work (they count as ignored).
        candidates = [(i, x) for i, x in enumerate(lines) if "status=sent " not in x and "connect from " not in x]
        for line in [x for x in lines if "status=sent " in x]:
            _count_delivery(line, ctx)
        ignored = len(lines) - len(candidates)
        for offset, line in candidates:
            colon = line.find(": ")
            if colon < 0 or not (line[:3] in MONTHS or line[:4].isdigit()):
                if line.strip():
                    ctx.unparsed(first_line_no + offset, line)
                else:
                    ignored += 1
                continue
            # Fast path for context lines (about half of a log): "QID: client=", "QID: message-id=",
            # "QID: from=<", "QID: uid=", "QID: removed". Stored raw; decoded only if QID fails.
            c = line.find(": ", colon + 2)
            tag_start = line.rfind(" ", 0, colon)
            host_start = line.rfind(" ", 0, tag_start) if tag_start > 0 else -1
            if colon + 7 <= c <= colon + 22 and (k4 := line[c + 2:c + 6]) in CONTEXT_KINDS:
                kind = CONTEXT_KINDS[k4]  # (`in` and [] are opcodes: cheaper than a .get() call)
                qid = line[colon + 2:c]
                if qid.isalnum() and not qid.islower() and (kind != "qmgr" or not line.endswith(EXPIRED)):
                    key = (line[host_start + 1:tag_start], qid)  # correlation is keyed by host and queue id
                    if kind == "removed":
                        if queue.pop(key, None) is None and state.legacy:
                            state.remove(key)
                        if split:
                            state.removed.add(key)
                    else:
                        info = queue.get(key)
                        if info is None:
                            info = state.get(key)
                        info[kind] = line[c + 2:]
                    ignored += 1
                    continue
            if host_start <= 0:
                ctx.unparsed(first_line_no + offset, line)
                continue
            tag = line[tag_start + 1:colon]
            daemon = daemons.get(tag)
            if daemon is None:
                bracket = tag.find("[")
                prog = tag[:bracket] if bracket > 0 else tag
                daemon = self._daemon(prog) or ""
                if len(daemons) > 20_000:
                    daemons.clear()
                daemons[tag] = daemon
            if not daemon:
                ignored += 1  # another program in the same mail log (dovecot, opendkim, ...)
                continue
            msg = line[colon + 2:]
            c = msg.find(": ")
            if 5 <= c <= 20:
                qid = msg[:c]
                if qid.isalnum() and not qid.islower() and qid != "NOQUEUE":
                    self._queued(daemon, qid, msg[c + 2:], self._prefix(line, host_start, tag_start, tag),
                                 line, first_line_no + offset, ctx, state)
                    continue
            if msg.startswith("NOQUEUE: "):
                self._reject(msg[9:], None, self._prefix(line, host_start, tag_start, tag),
                             line, first_line_no + offset, ctx, state)
            elif msg.startswith(INTERESTING_UNQUEUED):
                self._unqueued(daemon, msg, self._prefix(line, host_start, tag_start, tag),
                               line, first_line_no + offset, ctx, state)
            else:
                ignored += 1
        ctx.ignore(ignored)

    @staticmethod
    def _prefix(line: str, host_start: int, tag_start: int, tag: str) -> tuple[str, str, str, str]:
        bracket = tag.find("[")
        if bracket > 0:
            return line[:host_start], line[host_start + 1:tag_start], tag[:bracket], tag[bracket + 1:-1]
        return line[:host_start], line[host_start + 1:tag_start], tag, ""

    # --- lines with a queue id -------------------------------------------------------------
    def _queued(self, daemon, qid, rest, p, line, line_no, ctx, state) -> None:
        if daemon in DELIVERY_DAEMONS and rest.startswith("to=<"):
            d = DELIVERY.match(rest)
            if d is None:
                ctx.unparsed(line_no, line)
                return
            status = d.group("status")
            if status == "sent" or status == "deliverable":
                ctx.ignore()
                return
            self._delivery_failure(daemon, qid, d, p, line, line_no, ctx, state)
            return
        kind = CONTEXT_KINDS.get(rest[:4])
        if kind is not None:
            key = (p[1], qid)
            if kind == "removed":
                if rest == "removed":
                    state.remove(key)
                    if state.split_range:
                        state.removed.add(key)
                ctx.ignore()
                return
            info = state.get(key)
            if kind == "qmgr" and rest.endswith("status=expired, returned to sender"):
                info.setdefault("qmgr", rest)  # keep the earlier from= line: it has the size
                self._expired(key, info, p, line, line_no, ctx, state)
            else:
                info[kind] = rest
                ctx.ignore()
            return
        if rest.startswith(("reject: ", "milter-reject: ", "proxy-reject: ")):
            if daemon == "cleanup" and rest.startswith("reject: ") and CHECK_REJECT.match(rest):
                self._check_reject(qid, rest, p, line, line_no, ctx, state)
            else:
                self._reject(rest, qid, p, line, line_no, ctx, state)
            return
        if rest.startswith("lost connection with ") or rest.startswith("conversation with "):
            # smtp_proto.c logs this with the queue id after the recipients already have their
            # status= line (e.g. after a 5xx to MAIL FROM): that status line is the failure.
            ctx.ignored("session error after the delivery status of the same queue id")
            return
        if rest.startswith(("host ", "SASL authentication failed")):
            # "QID: host X said: 450 ..." without status= appears when the session goes on to the
            # next MX: the recipient's final status= line carries the outcome.
            ctx.ignored("per-host reply before the final status= line of the same queue id")
            return
        ctx.ignore()

    def _delivery_failure(self, daemon, qid, d, p, line, line_no, ctx, state) -> None:
        status = d.group("status")
        text = d.group("text") or ""
        event = {"deferred": "deferred", "bounced": "bounced", "expired": "expired"}.get(status)
        if event is None:
            event = "undeliverable" if status.startswith("undeliverable") else "bounced"
        key = (p[1], qid)
        info = state.get(key)
        relay_field = d.group("relay")
        ex = explain_status_text(text)
        relay = ex.get("relay") if relay_field in ("none", "") else relay_field
        rhost, rip, rport = host_ip_port(relay) if relay else (None, None, None)
        rcpt = d.group("rcpt")
        row = _row(
            p, event, "local" if daemon in ("local", "virtual", "pipe") else "outbound",
            queue_id=qid,
            recipient=rcpt,
            recipient_domain=domain_of(rcpt),
            relay_host=rhost,
            relay_ip=rip,
            relay_port=rport,
            smtp_code=ex.get("smtp_code"),
            enhanced_status=d.group("dsn"),
            smtp_stage=ex.get("smtp_stage"),
            diagnostic=ex.get("diagnostic") or text,
        )
        _with_context(row, info)
        self._emit(row, p, line_no, line, ctx, state, key, info, _with_context)
        if event == "deferred":
            info["last_deferral"] = row

    def _expired(self, key, info, p, line, line_no, ctx, state) -> None:
        # qmgr_active.c: "from=<%s>, status=expired, returned to sender". The reason is the last
        # deferral of the same queue id, when it is in what we read.
        row = _row(
            p, "expired", "outbound",
            queue_id=key[1],
        )
        _with_expiry(row, info)
        self._emit(row, p, line_no, line, ctx, state, key, info, _with_expiry)

    # --- parallel ranges of one file (see logscan/pipeline.py) --------------------------------
    @staticmethod
    def _emit(row, p, line_no, line, ctx, state, key, info, apply) -> None:
        """Emit a row `apply(row, info)` completed with its queue id's context. In a later range
        (split_range) the row waits (Pending) unless the range holds all its context or removed
        the queue id before it: resolve_pending applies the earlier ranges' context with this
        range's own over it (`local`), which is what a sequential parse had at this line."""
        if state.split_range and key not in state.removed and (
                _incomplete(info) or (apply is _with_expiry and "last_deferral" not in info)):
            ctx.emit(row, p[0], line_no, line, key, local=(apply, dict(info)))
        else:
            ctx.emit(row, p[0], line_no, line)

    def resolve_pending(self, pending: list[Pending], earlier: PostfixState) -> None:
        """Complete rows of a later range with the context the earlier ranges left in `earlier`."""
        for p in pending:
            apply, local = p.local
            apply(p.row, _merged(earlier.lookup(p.key), local))

    def merge_state(self, into: PostfixState, later: PostfixState) -> None:
        """Carry a later range's correlation state into the state of the ranges before it, as a
        sequential parse of the later range would have changed it."""
        for key in later.removed:
            into.remove(key)
        for key, info in later.queue.items():
            have = into.queue.get(key)
            if have is None:
                have = into.get(key)
            if "qmgr" in have and info.get("qmgr", "").endswith(EXPIRED):
                info = {k: v for k, v in info.items() if k != "qmgr"}  # _queued's setdefault
            have.update(info)
        into.last_tls_row.update(later.last_tls_row)

    def _reject(self, rest, qid, p, line, line_no, ctx, state) -> None:
        r = REJECT.match(rest)
        if r is None:
            if rest.startswith(("reject_warning: ", "discard: ", "filter: ", "hold: ", "redirect ", "warn: ")):
                ctx.ignored("smtpd access action that is not a rejection (warning, discard, filter, hold)")
            elif rest.startswith(("reject: ", "milter-reject: ")):
                ctx.unparsed(line_no, line)
            else:
                ctx.ignore()
            return
        text = r.group("text")
        sender = rcpt = None
        e = ENVELOPE.search(text)
        if e:
            sender, rcpt = e.group("sender"), e.group("rcpt")
            text = text[: e.start()]
        chost, cip, _ = host_ip_port(r.group("client"))
        code, enh = split_reply(text)
        row = _row(
            p, "rejected", "inbound",
            queue_id=qid,
            sender=sender,
            recipient=rcpt,
            recipient_domain=domain_of(rcpt),
            client_host=chost,
            client_ip=cip,
            smtp_code=code,
            enhanced_status=enh,
            smtp_stage=r.group("cmd"),
            diagnostic=text,
        )
        if qid:
            self._with_lookup(row, p, line_no, line, ctx, state, qid, _with_reject_context)
        else:
            ctx.emit(row, p[0], line_no, line)

    def _with_lookup(self, row, p, line_no, line, ctx, state, qid, apply) -> None:
        """Emit a row of a line that does not make its queue id known (a rejection, a warning)."""
        key = (p[1], qid)
        info = state.lookup(key) or {}
        apply(row, info)
        self._emit(row, p, line_no, line, ctx, state, key, info, apply)

    def _check_reject(self, qid, rest, p, line, line_no, ctx, state) -> None:
        r = CHECK_REJECT.match(rest)
        chost, cip, _ = host_ip_port(r.group("client"))
        text = r.group("text")
        code, enh = split_reply(text)
        rcpt = r.group("rcpt")
        row = _row(
            p, "rejected", "inbound",
            queue_id=qid,
            sender=r.group("sender"),
            recipient=rcpt,
            recipient_domain=domain_of(rcpt),
            client_host=chost,
            client_ip=cip,
            smtp_code=code,
            enhanced_status=enh,
            smtp_stage="DATA",
            diagnostic=f"{r.group('what')} check: {text}",
        )
        self._with_lookup(row, p, line_no, line, ctx, state, qid, _with_check_context)

    # --- lines without a queue id ----------------------------------------------------------
    def _unqueued(self, daemon, msg, p, line, line_no, ctx, state) -> None:
        if msg.startswith("warning: "):
            self._warning(daemon, msg[9:], p, line, line_no, ctx, state)
        elif msg.startswith(("fatal: ", "panic: ", "error: ")):
            level, _, text = msg.partition(": ")
            row = _row(
                p, "server_error", "local",
                diagnostic=text,
            )
            ctx.emit(row, p[0], line_no, line)
        elif msg.startswith("SSL_accept error from "):
            s = SSL_ACCEPT.match(msg)
            if s is None:
                ctx.unparsed(line_no, line)
                return
            chost, cip, _ = host_ip_port(s.group("client"))
            row = _row(
                p, "tls_failed", "inbound",
                client_host=chost,
                client_ip=cip,
                smtp_stage="STARTTLS",
                diagnostic=f"TLS handshake with client failed: {s.group('text')}",
            )
            state.last_tls_row[(p[1], p[3])] = ctx.emit(row, p[0], line_no, line)
        elif msg.startswith("connect to "):
            ctx.ignored("per-host connection attempt without queue id; the delivery's status= line is the failure")
        elif msg.startswith(("SSL_connect error to ", "certificate verification failed for ",
                             "server certificate verification failed for ")):
            ctx.ignored("outbound TLS detail; the delivery's status= line is the failure")
        elif msg.startswith(("lost connection after ", "timeout after ", "too many errors after ")):
            ctx.ignored("an SMTP client dropped or stalled its session with us; nothing was refused")
        else:
            ctx.ignore()

    def _warning(self, daemon, text, p, line, line_no, ctx, state) -> None:
        if " authentication failed" in text:
            s = SASL_FAIL.match(text)
            if s is None:
                ctx.unparsed(line_no, line)
                return
            chost, cip, _ = host_ip_port(s.group("client"))
            reason = s.group("text") or "(no reason given)"
            row = _row(
                p, "auth_failed", "inbound",
                client_host=chost,
                client_ip=cip,
                sasl_username=s.group("user"),
                smtp_stage="AUTH",
                diagnostic=f"SASL {s.group('mech').upper()} authentication failed: {reason}",
            )
            ctx.emit(row, p[0], line_no, line)
        elif text.startswith("TLS library problem: "):
            row = state.last_tls_row.pop((p[1], p[3]), None)
            if row is not None:
                row["diagnostic"] += f" ({text[21:]})"
                ctx.ignored("TLS library detail, added to the preceding TLS failure row")
            else:
                ctx.ignored("TLS library detail without a preceding TLS failure line")
        elif "RBL lookup error" in text or "DNSBL lookup error" in text or "dnsblog reply timeout" in text:
            row = _row(
                p, "server_error", "inbound",
                smtp_stage="DNS",
                diagnostic=text,
            )
            ctx.emit(row, p[0], line_no, line)
        elif text.endswith(": queue file size limit exceeded"):
            # smtpd.c: msg_warn("%s: queue file size limit exceeded", queue_id); the client got
            # "552 5.3.4 Message size exceeds fixed limit" and no reject line is logged.
            qid = text.partition(":")[0]
            row = _row(
                p, "rejected", "inbound",
                queue_id=qid,
                smtp_code=552,
                enhanced_status="5.3.4",
                smtp_stage="DATA",
                diagnostic="queue file size limit exceeded (message_size_limit)",
            )
            self._with_lookup(row, p, line_no, line, ctx, state, qid, _with_context)
        elif text.startswith("SASL authentication failure: "):
            ctx.ignored("client SASL detail; the delivery's status= line is the failure")
        else:
            ctx.ignored("warning that does not by itself stop a delivery")


PARSER = PostfixParser()

F2B = "fail2ban/postfix.log"
LM = "lightmeter/individual_files/"

SAMPLES: tuple[Sample, ...] = (
    # Postfix 3.7.11 (Debian 12) here, maillog_file, header_checks "/^Subject:.*lottery/ REJECT" and
    # body_checks "/claim your prize/ REJECT 5.7.1 body looks like a prize scam", swaks on 127.0.0.1
    Sample(
        "Nov 28 00:57:16 mx1 postfix/cleanup[16736]: C951F16436F: reject: header Subject: You won the lottery from unknown[127.0.0.1]; from=<alice@example.com> to=<root@example.com> proto=ESMTP helo=<vm>: 5.7.1 message content rejected",
        expect={"event": "rejected", "direction": "inbound", "smtp_stage": "DATA", "sender": "alice@example.com",
                "recipient": "root@example.com", "diagnostic": "header check: 5.7.1 message content rejected",
                "category": "content_rejected"}),
    Sample(
        "Nov 28 00:57:12 mx1 postfix/cleanup[16736]: 96DD916436E: reject: body Please claim your prize today from unknown[127.0.0.1]; from=<alice@example.com> to=<root@example.com> proto=ESMTP helo=<vm>: 5.7.1 body looks like a prize scam",
        expect={"event": "rejected", "diagnostic": "body check: 5.7.1 body looks like a prize scam",
                "category": "content_rejected"}),
    Sample(
        "Nov 28 00:56:11 mx1 postfix/smtpd[16668]: fatal: no SASL authentication mechanisms",
        expect={"event": "server_error", "direction": "local", "category": "local_configuration"}),
    # ---- written by the real Postfix 3.7.11 run here (sample_logs/postfix/, tools/samples/) ----
    Sample(
        "Nov 27 19:40:25 mx1 postfix/smtp[13043]: DA8AE164523: to=<overquota@gmail-like.example>, relay=127.0.0.1[127.0.0.1]:2525, delay=0.03, delays=0/0/0.01/0.02, dsn=4.2.2, status=deferred (host 127.0.0.1[127.0.0.1] said: 452-4.2.2 The email account that you tried to reach is over quota. Please direct 452-4.2.2 the recipient to 452 4.2.2  https://support.google.com/mail/?p=OverQuotaTemp r24si2513129sww.146 - gsmtp (in reply to RCPT TO command))",
        context=(
            "Nov 27 19:40:25 mx1 postfix/submission/smtpd[13058]: DA8AE164523: client=unknown[127.0.0.1], sasl_method=LOGIN, sasl_username=alice@example.com",
            "Nov 27 19:40:25 mx1 postfix/cleanup[13023]: DA8AE164523: message-id=<20261127194025.47FC5164523@mx1.example.com>",
            "Nov 27 19:40:25 mx1 postfix/qmgr[13007]: DA8AE164523: from=<alice@example.com>, size=317, nrcpt=1 (queue active)",
        ),
        expect={"event": "deferred", "direction": "outbound", "queue_id": "DA8AE164523",
                "recipient": "overquota@gmail-like.example", "recipient_domain": "gmail-like.example",
                "relay_host": "127.0.0.1", "relay_ip": "127.0.0.1", "relay_port": 2525, "smtp_code": 452,
                "enhanced_status": "4.2.2", "smtp_stage": "RCPT TO", "sender": "alice@example.com", "size": 317,
                "client_ip": "127.0.0.1", "sasl_username": "alice@example.com",
                "message_id": "20261127194025.47FC5164523@mx1.example.com", "category": "mailbox_full"}),
    Sample(
        "Nov 27 19:40:26 mx1 postfix/smtp[13043]: E1DFE164573: to=<archive@example.net>, relay=127.0.0.1[127.0.0.1]:2528, delay=0.01, delays=0.01/0/0/0, dsn=5.3.4, status=bounced (message size 31083 exceeds size limit 20480 of server 127.0.0.1[127.0.0.1])",
        expect={"event": "bounced", "enhanced_status": "5.3.4", "smtp_code": None, "category": "message_too_large"}),
    Sample(
        'Nov 27 19:40:27 mx1 postfix/local[13048]: 52D5F164586: to=<nosuchuser@example.com>, relay=local, delay=0.01, delays=0/0/0/0, dsn=5.1.1, status=bounced (unknown user: "nosuchuser")',
        expect={"event": "bounced", "direction": "local", "relay_host": "local", "category": "recipient_unknown"}),
    Sample(
        "Nov 27 19:41:29 mx1 postfix/qmgr[13007]: 3569D164580: from=<bob@example.com>, status=expired, returned to sender",
        context=("Nov 27 19:40:27 mx1 postfix/smtp[13262]: 3569D164580: to=<postmaster@refused.example.org>, relay=none, delay=0.02, delays=0/0.02/0/0, dsn=4.4.1, status=deferred (connect to 127.0.0.1[127.0.0.1]:2599: Connection refused)",),
        expect={"event": "expired", "sender": "bob@example.com", "recipient": "postmaster@refused.example.org",
                "enhanced_status": "4.4.1", "category": "expired", "last_deferral_category": "connection_refused",
                "diagnostic": "message expired in the queue; last deferral: connect to 127.0.0.1[127.0.0.1]:2599: Connection refused"}),
    Sample(
        "Nov 27 19:40:27 mx1 postfix/smtpd[13052]: NOQUEUE: reject: RCPT from unknown[127.0.0.2]: 554 5.7.1 <victim@gmail-like.example>: Relay access denied; from=<someone@example.org> to=<victim@gmail-like.example> proto=ESMTP helo=<client.example.com>",
        expect={"event": "rejected", "direction": "inbound", "client_host": "unknown", "client_ip": "127.0.0.2",
                "sender": "someone@example.org", "recipient": "victim@gmail-like.example", "smtp_stage": "RCPT",
                "category": "relay_denied"}),
    Sample(
        "Nov 27 19:40:30 mx1 postfix/submission/smtpd[13058]: warning: unknown[127.0.0.1]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=alice@example.com",
        expect={"event": "auth_failed", "sasl_username": "alice@example.com", "client_ip": "127.0.0.1",
                "category": "auth_failed"}),
    Sample(
        "Nov 27 19:40:27 mx1 postfix/smtp[13255]: 1091316457D: to=<relay@authfail.example.org>, relay=127.0.0.1[127.0.0.1]:2534, delay=0.12, delays=0.04/0.07/0.01/0, dsn=4.7.8, status=deferred (SASL authentication failed; server 127.0.0.1[127.0.0.1] said: 535-5.7.8 Username and Password not accepted. For more information, go to?535 5.7.8  https://support.google.com/mail/?p=BadCredentials q43si4810967sfo.583 - gsmtp)",
        expect={"event": "deferred", "smtp_stage": "AUTH", "smtp_code": 535, "enhanced_status": "4.7.8",
                "relay_port": 2534, "category": "auth_failed"}),
    Sample(
        "Nov 27 19:40:27 mx1 postfix/smtp[13257]: 1AF96164575: to=<relay@authnomech.example.org>, relay=127.0.0.1[127.0.0.1]:2534, delay=0.03, delays=0/0.02/0/0, dsn=4.7.0, status=deferred (SASL authentication failed; cannot authenticate to server 127.0.0.1[127.0.0.1]: no mechanism available)",
        expect={"event": "deferred", "smtp_stage": "AUTH", "relay_port": 2534, "category": "local_configuration",
                "diagnostic": "SASL authentication failed; cannot authenticate to server 127.0.0.1[127.0.0.1]: no mechanism available"}),
    Sample(
        "Nov 27 19:40:27 mx1 postfix/smtp[13262]: 24272164577: to=<postmaster@refused.example.org>, relay=none, delay=0.02, delays=0/0.02/0/0, dsn=4.4.1, status=deferred (connect to 127.0.0.1[127.0.0.1]:2599: Connection refused)",
        expect={"event": "deferred", "relay_host": "127.0.0.1", "relay_port": 2599, "smtp_stage": "connect",
                "category": "connection_refused"}),
    Sample(
        "Nov 27 19:40:27 mx1 postfix/error[13267]: 2B69516457E: to=<info@refused.example.org>, relay=none, delay=0.01, delays=0/0.01/0/0, dsn=4.4.1, status=deferred (delivery temporarily suspended: connect to 127.0.0.1[127.0.0.1]:2599: Connection refused)",
        expect={"program": "postfix/error", "event": "deferred", "relay_port": 2599, "category": "connection_refused",
                "diagnostic": "connect to 127.0.0.1[127.0.0.1]:2599: Connection refused"}),
    Sample(
        "Nov 27 19:40:32 mx1 postfix/smtp[13236]: E683B164573: to=<postmaster@silent.example.org>, relay=127.0.0.1[127.0.0.1]:2530, delay=6, delays=0/0.02/6/0, dsn=4.4.2, status=deferred (conversation with 127.0.0.1[127.0.0.1] timed out while receiving the initial server greeting)",
        expect={"event": "deferred", "smtp_stage": "greeting", "category": "connection_timeout"}),
    Sample(
        "Nov 27 19:40:26 mx1 postfix/smtp[13213]: C9A32164541: to=<drop@flaky.example.net>, relay=127.0.0.1[127.0.0.1]:2528, delay=0.02, delays=0/0.02/0.01/0, dsn=4.4.2, status=deferred (lost connection with 127.0.0.1[127.0.0.1] while sending RCPT TO)",
        expect={"event": "deferred", "smtp_stage": "RCPT TO", "category": "connection_lost"}),
    Sample(
        "Nov 27 19:40:26 mx1 postfix/smtp[13043]: 8C3D716452F: to=<someone@ymail-like.example>, relay=127.0.0.1[127.0.0.1]:2529, delay=0.02, delays=0.01/0/0.01/0, dsn=4.7.0, status=deferred (host 127.0.0.1[127.0.0.1] refused to talk to me: 421 4.7.0 [TSS04] Messages from 127.0.0.1 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://senders.yahooinc.com/error-codes)",
        expect={"event": "deferred", "smtp_stage": "greeting", "smtp_code": 421, "category": "rate_limited"}),
    Sample(
        "Nov 27 19:40:27 mx1 postfix/smtp[13251]: 04E05164574: to=<postmaster@notls.example.org>, relay=127.0.0.1[127.0.0.1]:2533, delay=0.05, delays=0.02/0.03/0/0, dsn=4.7.4, status=deferred (TLS is required, but was not offered by host 127.0.0.1[127.0.0.1])",
        expect={"event": "deferred", "smtp_stage": "STARTTLS", "category": "tls_required"}),
    Sample(
        "Nov 27 19:40:27 mx1 postfix/smtp[13245]: EFF2216457B: to=<postmaster@selfsigned.example.org>, relay=127.0.0.1[127.0.0.1]:2532, delay=0.13, delays=0/0.12/0.01/0, dsn=4.7.5, status=deferred (Server certificate not verified)",
        expect={"event": "deferred", "smtp_stage": "STARTTLS", "relay_port": 2532, "category": "tls_certificate"}),
    Sample(
        "Nov 27 19:40:26 mx1 postfix/smtp[13028]: 937CD16452D: to=<greylist@example.net>, relay=127.0.0.1[127.0.0.1]:2528, delay=0.02, delays=0/0/0/0.01, dsn=4.2.0, status=deferred (host 127.0.0.1[127.0.0.1] said: 450 4.2.0 <greylist@example.net>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.net.html (in reply to RCPT TO command))",
        expect={"event": "deferred", "smtp_code": 450, "category": "greylisted"}),
    Sample(
        "Nov 27 19:40:28 mx1 postfix/smtpd[13052]: warning: 16746164588: queue file size limit exceeded",
        context=("Nov 27 19:40:28 mx1 postfix/smtpd[13052]: 16746164588: client=unknown[127.0.0.1]",),
        expect={"event": "rejected", "direction": "inbound", "queue_id": "16746164588", "client_ip": "127.0.0.1",
                "smtp_code": 552, "category": "message_too_large"}),
    Sample(
        "Nov 27 19:40:27 mx1 postfix/sendmail[13306]: fatal: bob@example.com(0): message file too big",
        expect={"event": "server_error", "direction": "local", "category": "message_too_large"}),
    Sample("Nov 27 19:40:27 mx1 postfix/smtp[13262]: connect to 127.0.0.1[127.0.0.1]:2599: Connection refused",
           ignore="per-host connection attempt without queue id; the delivery's status= line is the failure"),
    Sample("Nov 27 19:40:27 mx1 postfix/smtp[13245]: certificate verification failed for 127.0.0.1[127.0.0.1]:2532: self-signed certificate",
           ignore="outbound TLS detail; the delivery's status= line is the failure"),
    Sample("Nov 27 19:40:27 mx1 postfix/smtp[13257]: warning: SASL authentication failure: No worthy mechs found",
           ignore="client SASL detail; the delivery's status= line is the failure"),
    Sample("Nov 27 19:40:25 mx1 postfix/qmgr[13007]: 47FC5164523: from=<alice@example.com>, size=317, nrcpt=1 (queue active)", ignore=""),
    Sample("Nov 27 19:40:25 mx1 postfix/pickup[13006]: 47FC5164523: uid=0 from=<alice@example.com>", ignore=""),
    Sample(
        "Nov 27 19:40:26 mx1 postfix/smtp[13043]: 4AD8716452C: to=<busy@outlook-like.example>, relay=127.0.0.1[127.0.0.1]:2526, delay=0.06, delays=0/0/0.04/0.02, dsn=4.7.500, status=deferred (host 127.0.0.1[127.0.0.1] said: 451 4.7.500 Server busy. Please try again later from [127.0.0.1]. (S77714) [AM4PEPF00027A6C.eurprd04.prod.outlook-like.example 1795808426] (in reply to RCPT TO command))",
        expect={"enhanced_status": "4.7.500", "smtp_code": 451, "category": "rate_limited"}),
    Sample(
        "2026-11-27T19:41:59.535177+00:00 mx1 postfix/smtp[13844]: 7C481164554: to=<greylist@example.net>, relay=127.0.0.1[127.0.0.1]:2528, delay=0.04, delays=0.02/0/0/0.01, dsn=4.2.0, status=deferred (host 127.0.0.1[127.0.0.1] said: 450 4.2.0 <greylist@example.net>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.net.html (in reply to RCPT TO command))",
        expect={"host": "mx1", "time_zone": "+00:00", "year_inferred": False, "queue_id": "7C481164554",
                "category": "greylisted"}),
    # ---- from public corpora, read from ../shared/corpora by reference ----
    # --- smtpd / postscreen rejections (inbound) ---
    Sample(ref=f"{F2B}:8", expect={
        "event": "rejected", "direction": "inbound", "smtp_code": 554, "enhanced_status": "5.7.1",
        "smtp_stage": "RCPT", "sender": "john@example.com", "recipient": "smtp@example.org",
        "client_host": "1-2-3-4-example.com", "client_ip": "1.2.3.4",
        "diagnostic": "554 5.7.1 <smtp@example.com>: Relay access denied", "category": "relay_denied"}),
    Sample(ref=f"{F2B}:20", expect={
        "event": "rejected", "queue_id": "00ADB3C0899", "smtp_code": 550, "enhanced_status": "5.1.1",
        "recipient": "sales@server.com", "category": "recipient_unknown"}),
    Sample(ref=f"{F2B}:18", expect={  # cut short in the source: no "; from=" tail
        "event": "rejected", "smtp_stage": "VRFY", "smtp_code": 550, "recipient": None}),
    Sample(ref=f"{F2B}:35", expect={
        "event": "rejected", "smtp_code": 450, "enhanced_status": "4.7.1", "category": "reverse_dns"}),
    Sample(ref=f"{F2B}:46", expect={  # milter-reject from smtpd, with a queue id
        "event": "rejected", "queue_id": "1D8CC1CA0A7F", "smtp_stage": "DATA", "smtp_code": 550,
        "recipient": "hostmaster@example.com", "category": "content_rejected"}),
    Sample(ref=f"{F2B}:71", expect={  # postscreen: "[ip]:port" and comma-separated envelope
        "program": "postfix/postscreen", "event": "rejected", "client_host": None,
        "client_ip": "216.245.194.173", "sender": "spammer@example.com",
        "recipient": "goodguy@example.com", "category": "blocklisted",
        "diagnostic": "550 5.7.1 Service unavailable; client [216.245.194.173] blocked using rbl.example.com"}),
    Sample(ref=f"{F2B}:96", expect={"program": "postfix-incoming/smtpd", "event": "rejected", "category": "blocklisted"}),
    Sample(ref=f"{F2B}:48", expect={  # long queue id, custom syslog_name, BDAT
        "program": "postfix-smo/submission/smtpd", "queue_id": "44JCRG5tYPzCqt2", "smtp_stage": "BDAT",
        "enhanced_status": "5.5.3", "sender": "", "category": "content_rejected"}),
    # --- server-side SASL failures ---
    Sample(ref=f"{F2B}:115", expect={
        "program": "postfix/submission/smtpd", "event": "auth_failed", "direction": "inbound",
        "client_ip": "82.221.106.233", "smtp_stage": "AUTH", "category": "auth_failed",
        "diagnostic": "SASL LOGIN authentication failed: UGFzc3dvcmQ6"}),
    Sample(ref=f"{F2B}:135", expect={"event": "auth_failed", "client_ip": "192.0.2.237"}),
    Sample(ref=f"{F2B}:155", expect={"event": "auth_failed", "sasl_username": "admin",
                                       "diagnostic": "SASL LOGIN authentication failed: (reason unavailable)"}),
    Sample(ref=f"{F2B}:129", expect={"program": "postfix/smtps/smtpd", "event": "auth_failed"}),
    # --- delivery status lines (outbound) with queue-id correlation ---
    Sample(ref=f"{LM}1_bounce_simple.log:19",
           context=(f"ref:{LM}1_bounce_simple.log:10", f"ref:{LM}1_bounce_simple.log:11",
                    f"ref:{LM}1_bounce_simple.log:12"),
           expect={"event": "bounced", "direction": "outbound", "queue_id": "776E41855DB2",
                   "recipient": "invalid.email@example.com", "recipient_domain": "example.com",
                   "relay_host": "mx.example.com", "relay_ip": "11.22.33.44", "relay_port": 25,
                   "smtp_code": 550, "enhanced_status": "5.1.1", "smtp_stage": "RCPT TO",
                   "sender": "user@sender.com", "size": 1111, "client_host": "localhost",
                   "client_ip": "127.0.0.1",
                   "message_id": "ca10035e-2951-bfd5-ec7e-1a5773fce1cd@mail.sender.com",
                   "category": "recipient_unknown"}),
    Sample(ref=f"{LM}15_milter-reject.log:4", expect={"event": "rejected", "direction": "inbound",
                                                     "diagnostic": "4.7.1 Try again later", "category": "greylisted"}),
    Sample(ref=f"{LM}20_rejected.log:5", expect={"event": "rejected", "category": "rate_limited"}),
    Sample(ref=f"{LM}18_expired.log:10", expect={
        "program": "postfix-239.58.50.50/smtp", "event": "deferred", "enhanced_status": "4.1.1",
        "smtp_code": 452, "smtp_stage": "RCPT TO", "category": "mailbox_full"}),
    Sample(ref=f"{LM}18_expired.log:22", context=(f"ref:{LM}18_expired.log:21",), expect={
        "event": "expired", "queue_id": "23EBE3D5C0", "recipient": "h-664d01@h-695da2287.com",
        "enhanced_status": "4.1.1", "category": "expired",
        "sender": "h-498b874f2bf0cf639807ad80e1@h-5e67b9b4406.com"}),
    Sample(ref=f"{LM}2_multiple_recipients_some_bounces.log:19", expect={  # relay=none, Postfix's own text
        "event": "bounced", "relay_host": None, "enhanced_status": "5.1.0",
        "diagnostic": "Domain example.com does not accept mail (nullMX)",
        "category": "recipient_domain_invalid"}),
    Sample(ref=f"{LM}2_multiple_recipients_some_bounces.log:21", expect={
        "event": "bounced", "smtp_stage": "MAIL FROM", "category": "blocklisted",
        "relay_host": "hotmail-com.olc.protection.outlook.com"}),
    # --- cleanup milter rejection ---
    Sample(ref=f"{LM}15_milter-reject.log:4", expect={
        "program": "postfix/cleanup", "event": "rejected", "queue_id": "B37FD2E05B9",
        "smtp_stage": "END-OF-MESSAGE", "smtp_code": None, "enhanced_status": "4.7.1",
        "diagnostic": "4.7.1 Try again later", "recipient": "h-7abde52c2@h-ffd2115d4f.com"}),
    # --- lines deliberately not made into rows ---
    Sample(ref=f"{LM}2_multiple_recipients_some_bounces.log:22",
           ignore="session error after the delivery status of the same queue id"),
    Sample(ref=f"{LM}1_bounce_simple.log:12", ignore=""),
    Sample(ref=f"{F2B}:26", ignore=""),
)
