"""Postfix (syslog, maillog_file or journal export) to failure rows.

Message formats were read from Postfix's source (smtp_proto.c, smtp_connect.c, smtp_sasl_glue.c,
smtpd.c, smtpd_check.c, cleanup_milter.c, qmgr_active.c, tls_client.c/tls_server.c) and every
pattern has real lines below: from the real Postfix 3.7 run here (sample_logs/postfix/, made by
tools/samples/make_postfix_samples.sh) or, by reference, from ../shared/corpora.

Correlation: each queue id (per host) remembers its sender, size, message-id, client and SASL
user from the smtpd/pickup, cleanup and qmgr lines, and its last deferral (for `expired`). It is
forgotten at `removed`; the table is capped (oldest first out), so memory does not grow with the log.
"""

from __future__ import annotations

from typing import Any

import regex

from logscan.parsers.base import FileContext, Sample
from logscan.parsers.syslog import PREFIX
from logscan.smtp import domain_of, host_ip_port, split_reply

NAME = "postfix"

DELIVERY_DAEMONS = frozenset({"smtp", "lmtp", "local", "virtual", "pipe", "error", "retry", "discard"})
KNOWN_DAEMONS = DELIVERY_DAEMONS | frozenset(
    "smtpd qmgr oqmgr cleanup pickup bounce postscreen dnsblog tlsproxy anvil scache master "
    "postfix-script postsuper postqueue postdrop sendmail trivial-rewrite verify tlsmgr proxymap "
    "showq flush postlogd postmap postconf spawn postmulti postlog".split()
)

# Short queue ids are upper-case hex; long ones (enable_long_queue_ids) use a base-52 alphabet
# without vowels with a 'z' separator: 4gsCYX4htvz8sXF. Words like "warning" never match.
QUEUE_ID = regex.compile(r"([0-9A-F]{5,20}|[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-y]{6,20}z[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-y]{1,20}): ")

# smtp/lmtp/local/...: "to=<r>, [orig_to=<o>, ]relay=..., delay=..., delays=..., dsn=X.Y.Z, status=S (text)"
DELIVERY = regex.compile(
    r"to=<(?P<rcpt>[^>]{0,512})>, (?:orig_to=<(?P<orig>[^>]{0,512})>, )?relay=(?P<relay>[^,]{0,300}), "
    r"(?:[a-z_]{1,20}=[^,]{0,100}, ){0,6}dsn=(?P<dsn>\d\.\d{1,3}\.\d{1,3}), status=(?P<status>[\w-]{1,40})"
    r"(?: \((?P<text>.*?)\)?)?$"  # a line cut inside the text still parses
)
# qmgr: "from=<s>, size=n, nrcpt=n (queue active)" / "from=<s>, status=expired, returned to sender"
QMGR_FROM = regex.compile(r"from=<(?P<sender>[^>]{0,512})>, (?:size=(?P<size>\d{1,15}), nrcpt=|status=(?P<status>expired))")
# smtpd: "client=host[ip]:port, sasl_method=PLAIN, sasl_username=u" (orig_client= with XCLIENT)
CLIENT = regex.compile(
    r"client=(?P<client>[^,\s]{1,400})(?:, sasl_method=[^,\s]{1,40})?(?:, sasl_username=(?P<user>[^,]{0,320}))?"
)
# smtpd/cleanup/postscreen: "reject: RCPT from host[ip]:port: 550 5.1.1 <x>: text; from=<s> to=<r> proto=ESMTP helo=<h>"
REJECT = regex.compile(
    r"(?P<action>reject|milter-reject|proxy-reject): (?P<cmd>[A-Z][A-Z-]{1,20}) from (?P<client>[^\s:\[]{0,300}\[[^\]\s]{1,64}\](?::\d{1,5})?): (?P<text>.*)$"
)
# cleanup header/body checks: "reject: header Subject: x from host[ip]; from=<s> to=<r> proto=ESMTP helo=<h>: 5.7.1 text"
CHECK_REJECT = regex.compile(
    r"reject: (?P<what>header|body|mime-header|nested-header) .{0,4000}? from (?P<client>[^\s;]{0,300}\[[^\]\s]{1,64}\])"
    r"(?:; from=<(?P<sender>[^>]{0,512})> to=<(?P<rcpt>[^>]{0,512})>)?.{0,600}?: (?P<text>\d\.\d{1,3}\.\d{1,3} .*|[45]\d\d .*)$"
)
# smtpd writes "; from=<s> to=<r> proto=ESMTP helo=<h>"; postscreen separates them with commas.
ENVELOPE = regex.compile(
    r"; from=<(?P<sender>[^>]{0,512})>(?:,? to=<(?P<rcpt>[^>]{0,512})>)?(?:,? proto=[^\s,]{1,20})?(?:,? helo=<[^>]{0,300}>)?$"
)
SASL_FAIL = regex.compile(
    r"(?P<client>[^\s\[]{0,300}\[[^\]\s]{1,64}\](?::\d{1,5})?): SASL (?P<mech>[\w-]{1,40}) authentication failed: ?"
    r"(?P<text>.*?)(?:, sasl_username=(?P<user>.{0,320}))?$"
)
SSL_ACCEPT = regex.compile(r"SSL_accept error from (?P<client>[^\s\[]{0,300}\[[^\]\s]{1,64}\](?::\d{1,5})?): (?P<text>.*)$")
SAID = regex.compile(r"host (?P<relay>[^\s\[]{0,300}\[[^\]\s]{1,64}\]) (?:said|refused to talk to me): (?P<reply>.*)$")
IN_REPLY_TO = regex.compile(r" \(in reply to (?P<cmd>[^)]{1,40}) command\)$")
WHILE = regex.compile(r" (?:with|to) (?P<relay>[^\s\[]{0,300}\[[^\]\s]{1,64}\](?::\d{1,5})?) (?:timed out )?while (?P<what>[^(]{1,80})")

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
    body = text
    for prefix in ("delivery temporarily suspended: ",):
        if body.startswith(prefix):
            body = body[len(prefix):]
    if body.startswith("SASL authentication failed; server "):
        # smtp_sasl_glue.c: "SASL authentication failed; server %s said: %s"
        out["smtp_stage"] = "AUTH"
        m = regex.search(r"server (?P<relay>[^\s\[]{0,300}\[[^\]\s]{1,64}\]) said: (?P<reply>.*)$", body)
        if m:
            out["relay"] = m.group("relay")
            body = m.group("reply")
        code, _ = split_reply(body)
        out["smtp_code"] = code
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
        m = regex.search(r"host (?P<relay>[^\s\[]{0,300}\[[^\]\s]{1,64}\])", body)
        if m:
            out["relay"] = m.group("relay")
    else:
        m = WHILE.search(body)
        if m:
            out["relay"] = m.group("relay")
            out["smtp_stage"] = _stage_of_while(m.group("what"))
    return out


class PostfixState:
    """Queue-id correlation for one scan, bounded in size."""

    MAX_QUEUE_IDS = 200_000

    def __init__(self) -> None:
        self.queue: dict[tuple[str, str], dict[str, Any]] = {}
        # Last TLS failure row per (host, pid): the "TLS library problem" line after it adds the reason.
        self.last_tls_row: dict[tuple[str, str], dict[str, Any]] = {}

    def get(self, key: tuple[str, str]) -> dict[str, Any]:
        q = self.queue.get(key)
        if q is None:
            if len(self.queue) >= self.MAX_QUEUE_IDS:
                # Forget the oldest tenth: messages that were never `removed` in what we read.
                for old in list(self.queue)[: self.MAX_QUEUE_IDS // 10]:
                    del self.queue[old]
            q = self.queue[key] = {}
        return q


CORRELATED = ("sender", "size", "message_id", "client_host", "client_ip", "sasl_username")


class PostfixParser:
    name = NAME
    description = "Postfix through syslog, maillog_file or the journal (all daemons)"

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

    def new_state(self) -> PostfixState:
        return PostfixState()

    def parse(self, lines: list[str], first_line_no: int, ctx: FileContext, state: PostfixState) -> None:
        prefix_match = PREFIX.match
        daemon_of = self._daemon
        for offset, line in enumerate(lines):
            line_no = first_line_no + offset
            m = prefix_match(line)
            if m is None:
                if line.strip():
                    ctx.unparsed(line_no, line)
                else:
                    ctx.ignored()
                continue
            daemon = daemon_of(m.group("prog"))
            if daemon is None:
                ctx.ignored()  # another program in the same mail log (dovecot, opendkim, ...)
                continue
            msg = line[m.end():]
            host = m.group("host")
            q = QUEUE_ID.match(msg)
            if q is not None:
                self._queued(daemon, q.group(1), msg[q.end():], m, host, line, line_no, ctx, state)
            elif msg.startswith("NOQUEUE: "):
                self._reject(msg[9:], None, m, host, line, line_no, ctx, state)
            else:
                self._unqueued(daemon, msg, m, host, line, line_no, ctx, state)

    # --- lines with a queue id -------------------------------------------------------------
    def _queued(self, daemon, qid, rest, m, host, line, line_no, ctx, state) -> None:
        if daemon in DELIVERY_DAEMONS and rest.startswith("to=<"):
            d = DELIVERY.match(rest)
            if d is None:
                ctx.unparsed(line_no, line)
                return
            status = d.group("status")
            if status == "sent" or status == "deliverable":
                ctx.ignored()
                return
            self._delivery_failure(daemon, qid, d, m, host, line, line_no, ctx, state)
            return
        if rest.startswith("client="):
            c = CLIENT.match(rest)
            if c:
                chost, cip, _ = host_ip_port(c.group("client"))
                info = state.get((host, qid))
                info["client_host"], info["client_ip"] = chost, cip
                if c.group("user"):
                    info["sasl_username"] = c.group("user")
            ctx.ignored()
            return
        if rest.startswith("message-id="):
            mid = rest[11:].strip()
            if mid.startswith("<") and mid.endswith(">"):
                mid = mid[1:-1]
            state.get((host, qid))["message_id"] = mid or None
            ctx.ignored()
            return
        if rest.startswith("from=<"):
            f = QMGR_FROM.match(rest)
            if f is None:
                ctx.ignored()
                return
            info = state.get((host, qid))
            info["sender"] = f.group("sender")
            if f.group("size"):
                info["size"] = int(f.group("size"))
            if f.group("status") == "expired":
                self._expired(qid, info, m, host, line, line_no, ctx)
            else:
                ctx.ignored()
            return
        if rest.startswith("uid="):  # pickup: "uid=0 from=<root>"
            i = rest.find(" from=<")
            if i > 0:
                state.get((host, qid))["sender"] = rest[i + 7:].rstrip(">")
            ctx.ignored()
            return
        if rest == "removed":
            state.queue.pop((host, qid), None)
            ctx.ignored()
            return
        if rest.startswith(("reject: ", "milter-reject: ", "proxy-reject: ")):
            if daemon == "cleanup" and rest.startswith("reject: ") and CHECK_REJECT.match(rest):
                self._check_reject(qid, rest, m, host, line, line_no, ctx, state)
            else:
                self._reject(rest, qid, m, host, line, line_no, ctx, state)
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
        ctx.ignored()

    def _delivery_failure(self, daemon, qid, d, m, host, line, line_no, ctx, state) -> None:
        status = d.group("status")
        text = d.group("text") or ""
        event = {"deferred": "deferred", "bounced": "bounced", "expired": "expired"}.get(status)
        if event is None:
            event = "undeliverable" if status.startswith("undeliverable") else "bounced"
        info = state.get((host, qid))
        relay_field = d.group("relay")
        ex = explain_status_text(text)
        relay = ex.get("relay") if relay_field in ("none", "") else relay_field
        rhost, rip, rport = host_ip_port(relay) if relay else (None, None, None)
        rcpt = d.group("rcpt")
        row = {
            "host": host,
            "source": NAME,
            "program": m.group("prog"),
            "event": event,
            "direction": "local" if daemon in ("local", "virtual", "pipe") else "outbound",
            "queue_id": qid,
            "recipient": rcpt,
            "recipient_domain": domain_of(rcpt),
            "relay_host": rhost,
            "relay_ip": rip,
            "relay_port": rport,
            "smtp_code": ex.get("smtp_code"),
            "enhanced_status": d.group("dsn"),
            "smtp_stage": ex.get("smtp_stage"),
            "diagnostic": ex.get("diagnostic") or text,
        }
        for k in CORRELATED:
            row[k] = info.get(k)
        ctx.emit(row, m.group("stamp"), line_no, line)
        if event == "deferred":
            info["last_deferral"] = row

    def _expired(self, qid, info, m, host, line, line_no, ctx) -> None:
        # qmgr_active.c: "from=<%s>, status=expired, returned to sender". The reason is the last
        # deferral of the same queue id, when it is in what we read.
        last = info.get("last_deferral") or {}
        row = {
            "host": host,
            "source": NAME,
            "program": m.group("prog"),
            "event": "expired",
            "direction": "outbound",
            "queue_id": qid,
        }
        for k in ("recipient", "recipient_domain", "relay_host", "relay_ip", "relay_port", "smtp_code",
                  "enhanced_status", "smtp_stage"):
            row[k] = last.get(k)
        row["diagnostic"] = (
            f"message expired in the queue; last deferral: {last['diagnostic']}"
            if last.get("diagnostic")
            else "message expired in the queue (returned to sender); no deferral reason in the logs read"
        )
        for k in CORRELATED:
            row[k] = info.get(k)
        ctx.emit(row, m.group("stamp"), line_no, line)

    def _reject(self, rest, qid, m, host, line, line_no, ctx, state) -> None:
        r = REJECT.match(rest)
        if r is None:
            if rest.startswith(("reject_warning: ", "discard: ", "filter: ", "hold: ", "redirect ", "warn: ")):
                ctx.ignored("smtpd access action that is not a rejection (warning, discard, filter, hold)")
            elif rest.startswith(("reject: ", "milter-reject: ")):
                ctx.unparsed(line_no, line)
            else:
                ctx.ignored()
            return
        text = r.group("text")
        sender = rcpt = None
        e = ENVELOPE.search(text)
        if e:
            sender, rcpt = e.group("sender"), e.group("rcpt")
            text = text[: e.start()]
        chost, cip, _ = host_ip_port(r.group("client"))
        code, enh = split_reply(text)
        info = state.queue.get((host, qid)) if qid else None
        row = {
            "host": host,
            "source": NAME,
            "program": m.group("prog"),
            "event": "rejected",
            "direction": "inbound",
            "queue_id": qid,
            "sender": sender,
            "recipient": rcpt,
            "recipient_domain": domain_of(rcpt),
            "client_host": chost,
            "client_ip": cip,
            "smtp_code": code,
            "enhanced_status": enh,
            "smtp_stage": r.group("cmd"),
            "diagnostic": text,
        }
        if info:
            for k in ("message_id", "size", "sasl_username"):
                row[k] = info.get(k)
        ctx.emit(row, m.group("stamp"), line_no, line)

    def _check_reject(self, qid, rest, m, host, line, line_no, ctx, state) -> None:
        r = CHECK_REJECT.match(rest)
        chost, cip, _ = host_ip_port(r.group("client"))
        text = r.group("text")
        code, enh = split_reply(text)
        rcpt = r.group("rcpt")
        info = state.queue.get((host, qid)) or {}
        row = {
            "host": host,
            "source": NAME,
            "program": m.group("prog"),
            "event": "rejected",
            "direction": "inbound",
            "queue_id": qid,
            "sender": r.group("sender"),
            "recipient": rcpt,
            "recipient_domain": domain_of(rcpt),
            "client_host": chost,
            "client_ip": cip,
            "smtp_code": code,
            "enhanced_status": enh,
            "smtp_stage": "DATA",
            "diagnostic": f"{r.group('what')} check: {text}",
            "message_id": info.get("message_id"),
            "sasl_username": info.get("sasl_username"),
        }
        ctx.emit(row, m.group("stamp"), line_no, line)

    # --- lines without a queue id ----------------------------------------------------------
    def _unqueued(self, daemon, msg, m, host, line, line_no, ctx, state) -> None:
        if msg.startswith("warning: "):
            self._warning(daemon, msg[9:], m, host, line, line_no, ctx, state)
        elif msg.startswith(("fatal: ", "panic: ", "error: ")):
            level, _, text = msg.partition(": ")
            row = {
                "host": host,
                "source": NAME,
                "program": m.group("prog"),
                "event": "server_error",
                "direction": "local",
                "diagnostic": text,
            }
            ctx.emit(row, m.group("stamp"), line_no, line)
        elif msg.startswith("SSL_accept error from "):
            s = SSL_ACCEPT.match(msg)
            if s is None:
                ctx.unparsed(line_no, line)
                return
            chost, cip, _ = host_ip_port(s.group("client"))
            row = {
                "host": host,
                "source": NAME,
                "program": m.group("prog"),
                "event": "tls_failed",
                "direction": "inbound",
                "client_host": chost,
                "client_ip": cip,
                "smtp_stage": "STARTTLS",
                "diagnostic": f"TLS handshake with client failed: {s.group('text')}",
            }
            state.last_tls_row[(host, m.group("pid") or "")] = ctx.emit(row, m.group("stamp"), line_no, line)
        elif msg.startswith("connect to "):
            ctx.ignored("per-host connection attempt without queue id; the delivery's status= line is the failure")
        elif msg.startswith(("SSL_connect error to ", "certificate verification failed for ",
                             "server certificate verification failed for ")):
            ctx.ignored("outbound TLS detail; the delivery's status= line is the failure")
        elif msg.startswith(("lost connection after ", "timeout after ", "too many errors after ")):
            ctx.ignored("an SMTP client dropped or stalled its session with us; nothing was refused")
        else:
            ctx.ignored()

    def _warning(self, daemon, text, m, host, line, line_no, ctx, state) -> None:
        if " authentication failed" in text:
            s = SASL_FAIL.match(text)
            if s is None:
                ctx.unparsed(line_no, line)
                return
            chost, cip, _ = host_ip_port(s.group("client"))
            reason = s.group("text") or "(no reason given)"
            row = {
                "host": host,
                "source": NAME,
                "program": m.group("prog"),
                "event": "auth_failed",
                "direction": "inbound",
                "client_host": chost,
                "client_ip": cip,
                "sasl_username": s.group("user"),
                "smtp_stage": "AUTH",
                "diagnostic": f"SASL {s.group('mech').upper()} authentication failed: {reason}",
            }
            ctx.emit(row, m.group("stamp"), line_no, line)
        elif text.startswith("TLS library problem: "):
            row = state.last_tls_row.pop((host, m.group("pid") or ""), None)
            if row is not None:
                row["diagnostic"] += f" ({text[21:]})"
                ctx.ignored("TLS library detail, added to the preceding TLS failure row")
            else:
                ctx.ignored("TLS library detail without a preceding TLS failure line")
        elif "RBL lookup error" in text or "DNSBL lookup error" in text or "dnsblog reply timeout" in text:
            row = {
                "host": host,
                "source": NAME,
                "program": m.group("prog"),
                "event": "server_error",
                "direction": "inbound",
                "smtp_stage": "DNS",
                "diagnostic": text,
            }
            ctx.emit(row, m.group("stamp"), line_no, line)
        else:
            ctx.ignored("warning that does not by itself stop a delivery")


PARSER = PostfixParser()

F2B = "fail2ban/postfix.log"
LM = "lightmeter/individual_files/"

SAMPLES: tuple[Sample, ...] = (
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
