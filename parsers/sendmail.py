"""Sendmail (sm-mta, the MSP's sendmail, other sm-* labels) through syslog to failure rows.

Sendmail logs every line through syslog with its -L label as program (Debian: sm-mta for the daemon,
sendmail for the MSP and command-line queue runs; Fedora/RHEL: sendmail for all) and a queue id
(8 letters/digits for time and sequence, then the process id: 6B4IgWVR024596, xA32R2PQ3529566).
Formats were read from the lines the real Sendmail 8.17.1.9 (Debian 12) wrote here
(sample_logs/sendmail/, made by tools/samples/make_sendmail_samples.sh) and from the sendmail
lines of ../shared/corpora/fail2ban (sendmail-auth.log, sendmail-reject.log, public fail2ban test
logs from many Sendmail versions and distributions). Message texts are those of Sendmail's
deliver.c (logdelivery: "to=, ctladdr=, delay=, xdelay=, mailer=, pri=, relay=, dsn=, reply=,
stat="), srvrsmtp.c ("AUTH failure", "lost input channel", "did not issue MAIL/EXPN/VRFY/ETRN",
"possible SMTP attack", "rejecting commands from ... due to pre-greeting traffic"), parseaddr.c /
err.c (usrerr "<addr>... text"), savemail.c/queue.c ("DSN:", "return to sender:", "sender notify:")
and the rulesets' "ruleset=check_*, arg1=, relay=, reject=" (parseaddr.c: markfailure/rscheck).

Correlation: each queue id keeps its sender, size, message-id, client (relay= of the from= line)
and SMTP AUTH id (the AUTH=server line of the same process), its last deferral (for the
"Cannot send message for ..." expiry) and a pending detail line (a tls_rcpt/tls_server refusal,
"timeout waiting for input ... during client ...") that the next to= line of that id completes.
The table is capped (oldest first out) so it does not grow with the log.

Regexes use the `regex` module with bounded quantifiers only (no nested unbounded repetition);
numbers are ASCII [0-9] and range-checked before use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import regex

from logscan.parsers.base import BaseParser, FileContext, Key, ParserState, Sample, Traits, persisted_field
from logscan.smtp import domain_of, split_reply

NAME = "sendmail"
# How an expired row names its last deferral: the same text as logscan.engine.LAST_DEFERRAL (not
# imported: the engine loads pyarrow, which a parser must not need; tests/test_sendmail.py checks).
LAST_DEFERRAL = "last deferral: "

# "<stamp> [<facility.level>] <host> <prog>[<pid>]: <message>". The "<mail.notice>" form is
# FreeBSD syslogd with -v (fail2ban corpus, sendmail-reject.log:101).
LINE = regex.compile(
    r"(?P<stamp>[A-Z][a-z]{2} {1,2}[0-9]{1,2} [0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?"
    r"|[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?(?:Z|[+-][0-9]{2}:?[0-9]{2})?)"
    r" (?:<[a-z0-9]{1,12}\.[a-z]{1,10}> )?(?P<host>[^\s]{1,255}) (?P<prog>[^\s\[:]{1,128})"
    r"(?:\[(?P<pid>[0-9]{1,10})\])?: (?P<msg>.*)$"
)
# Queue ids: sendmail 8.12+ "YMDhmsNN" (8 base-60 characters) + the pid, zero-padded to 5 or 6
# digits (longer pids are longer: xA32R2PQ3529566, fail2ban corpus gh-2563).
QID = regex.compile(r"(?P<qid>[0-9A-Za-z]{8}[0-9]{5,10}|NOQUEUE): ")
# deliver.c logdelivery(): "to=<r>[,<r2>...], [ctladdr=<s> (uid/gid), ]delay=hh:mm:ss, ..."
TO = regex.compile(
    r"to=(?P<to>.{1,4000}?), (?:ctladdr=(?P<ctl><[^>]{0,512}>|[^\s,]{0,512})(?: \([0-9]{1,10}/[0-9]{1,10}\))?, )?"
    r"delay=(?P<delay>[0-9+:]{1,20}), (?P<rest>.*)$"
)
# srvrsmtp.c / queue.c: "from=<s>, size=N, class=N, nrcpts=N[, msgid=<m>][, bodytype=..], proto=.., daemon=.., relay=.."
FROM = regex.compile(
    r"from=(?P<sender><[^>]{0,512}>|[^\s,]{0,512}), size=(?P<size>[0-9]{1,15}), class=-?[0-9]{1,6}, "
    r"nrcpts=(?P<nrcpts>[0-9]{1,6})(?P<rest>.*)$"
)
# parseaddr.c rscheck(): "ruleset=check_rcpt, arg1=<a>, [arg2=.., ]relay=host [ip], reject=550 5.7.1 ..."
RULESET = regex.compile(
    r"ruleset=(?P<rs>[A-Za-z0-9_]{1,40}), arg1=(?P<arg1>.{0,600}?), (?:arg2=(?P<arg2>[^,]{0,300}), )?"
    r"relay=(?P<relay>[^,]{0,400}), (?P<action>reject|discard|quarantine)(?:=(?P<text>.*))?$"
)
# srvrsmtp.c: "AUTH failure (MECH): text (n) SASL(-n): text[, user=u], relay=host [ip]"
AUTH_FAIL = regex.compile(
    r"AUTH failure \((?P<mech>[A-Za-z0-9_-]{1,40})\): (?P<text>.{0,2000}?)(?:, user=(?P<user>.{0,320}?))?"
    r", relay=(?P<relay>[^,]{0,400})$"
)
AUTH_OK = regex.compile(r"AUTH=server, relay=[^,]{0,400}, authid=(?P<id>[^,]{0,320}), mech=")
# "host [ip]", "[ip]", "host. [ip] (may be forged)", "[IPv6:2001:DB8::1]", "root@localhost" (the MSP)
RELAY = regex.compile(r"(?P<host>\[[^\]\s]{1,64}\]|[^\s\[]{0,255})\s?(?:\[(?P<ip>[^\]\s]{1,64})\])?(?: \(may be forged\))?$")
PREGREET = regex.compile(r"rejecting commands from (?P<relay>.{0,400}) due to pre-greeting traffic after (?P<n>[0-9]{1,6}) seconds$")
SIZE_REFUSED = regex.compile(r"message size \((?P<size>[0-9]{1,15})\) exceeds maximum \((?P<max>[0-9]{1,15})\)$")
DSN = regex.compile(r"[245]\.[0-9]{1,3}\.[0-9]{1,3}")
USRERR = regex.compile(r"<(?P<addr>[^>]{0,512})>\.\.\. (?P<text>.{1,2000})$")

# Where a ruleset runs in the SMTP dialogue (cf/README: check_relay at connect, check_mail at MAIL,
# check_rcpt at RCPT, check_data/check_eoh/check_eom during and after DATA).
RULESET_STAGE = {"check_relay": "connect", "check_mail": "MAIL FROM", "check_rcpt": "RCPT TO",
                 "check_data": "DATA", "check_eoh": "DATA", "check_eom": "end of DATA",
                 "check_vrfy": "VRFY", "check_expn": "EXPN", "check_etrn": "ETRN", "check_compat": "RCPT TO",
                 "srv_features": "EHLO", "try_tls": "STARTTLS", "tls_client": "STARTTLS"}
# Rulesets of Sendmail as a client (to a server): their refusal is a detail of the to= line after it.
CLIENT_RULESETS = frozenset({"tls_server", "tls_rcpt", "clt_features", "tls_srv_features"})
# "timeout waiting for input from [ip] during client <phase>" (sendmail as a client)
CLIENT_PHASE_STAGE = (("greeting", "greeting"), ("EHLO", "EHLO"), ("HELO", "HELO"), ("STARTTLS", "STARTTLS"),
                      ("AUTH", "AUTH"), ("MAIL", "MAIL FROM"), ("RCPT", "RCPT TO"), ("DATA status", "end of DATA"),
                      ("DATA", "DATA"))
LOCAL_MAILERS = frozenset({"local", "prog", "*file*", "*include*", "procmail", "cyrus", "cyrusv2", "lmtp", "dovecot"})
LOOPBACK = ("127.", "localhost", "::1", "IPv6:::1")
MAX_RECIPIENTS = 1000

CLIENT_GONE = "an SMTP client dropped or stalled its session with us; nothing was refused"
SESSION_DETAIL = "per-host session detail; the delivery's to= line is the failure"
# Lines of a Sendmail program that carry one of these and match no pattern are shown as unparsed.
FAILURE_MARKERS = ("reject=", "stat=", "dsn=", "SYSERR", "AUTH failure", "error")


def _relay(text: str | None) -> tuple[str | None, str | None]:
    """(host, ip) of a relay= value: 'host [ip]', '[ip]', '[ip] [ip]', 'host. [ip] (may be forged)'."""
    if not text:
        return None, None
    m = RELAY.match(text.strip())
    if m is None:
        return text, None
    host, ip = m.group("host"), m.group("ip")
    if host.startswith("["):  # an address literal: "[192.0.2.1]", "[192.0.2.1] [192.0.2.1]"
        host = host[1:-1]
        ip = ip or host
    host = host.rstrip(".") or None
    if ip and ip.startswith("IPv6:"):
        ip = ip[5:]
    return host, ip


def _addr(text: str | None) -> str | None:
    if text is None:
        return None
    text = text.strip()
    return text[1:-1] if text.startswith("<") and text.endswith(">") else text


def _fields(text: str) -> dict[str, str]:
    """'xdelay=.., mailer=esmtp, pri=.., relay=host [ip], dsn=5.1.1' -> dict (values have no ', ')."""
    out: dict[str, str] = {}
    for part in text.split(", ", 12):
        key, eq, value = part.partition("=")
        if eq and key.isalpha() and len(key) <= 12:
            out[key] = value
    return out


def _stage_of_phase(phase: str) -> str | None:
    for needle, stage in CLIENT_PHASE_STAGE:
        if needle in phase:
            return stage
    return None


@dataclass
class SendmailState(ParserState):
    """Correlation by (host, queue id) for one scan, bounded in size."""

    MAX_QUEUE_IDS = 200_000
    MAX_SESSIONS = 20_000

    # (host, queue id) -> its from= line's fields, "pending" detail and "last_deferral" row
    queue: dict[Key, dict[str, Any]] = persisted_field(default_factory=dict)
    # SMTP AUTH id of a server process (host, pid), for the from= line of the same session.
    authid: dict[tuple[str, str], str] = field(default_factory=dict)
    # Last deferral text per (host, pid, mailer, relay) of a queue run, for a bare "Deferred".
    host_status: dict[tuple[str, str, str | None, str | None], str] = field(default_factory=dict)

    def get(self, key: Key) -> dict[str, Any]:
        q = self.queue.get(key)
        if q is None:
            if len(self.queue) >= self.MAX_QUEUE_IDS:
                for old in list(self.queue)[: self.MAX_QUEUE_IDS // 10]:
                    del self.queue[old]
            q = self.queue[key] = {}
        return q

    def load_form1(self, name: str, value: dict[str, Any]) -> None:
        """Form 1 already keyed Sendmail's queue by host: "<host> <queue id>"."""
        for k, v in value.items():
            host, _, qid = k.rpartition(" ")
            self.queue[(host, qid)] = v


def _context(info: dict[str, Any] | None) -> dict[str, Any]:
    """Failure-table fields from a queue id's from= line (and AUTH id)."""
    out: dict[str, Any] = {}
    if not info:
        return out
    for k in ("sender", "size", "message_id", "client_host", "client_ip", "sasl_username"):
        if info.get(k) is not None:
            out[k] = info[k]
    return out


class SendmailParser(BaseParser):
    name = NAME
    description = "Sendmail through syslog (sm-mta, sendmail and other sm-* syslog labels)"
    traits = Traits(server=True, counts_deliveries=True, persisted=True)
    State = SendmailState

    @staticmethod
    def _ours(prog: str) -> bool:
        return prog == "sendmail" or prog.startswith("sm-")

    def detect(self, lines: list[str]) -> float:
        hits = 0
        for line in lines:
            m = LINE.match(line)
            if m and self._ours(m.group("prog")):
                hits += 1
        return hits / len(lines) if lines else 0.0

    def parse(self, lines: list[str], first_line_no: int, ctx: FileContext, state: SendmailState) -> None:
        for offset, line in enumerate(lines):
            line_no = first_line_no + offset
            m = LINE.match(line)
            if m is None:
                if line.strip():
                    ctx.unparsed(line_no, line)
                else:
                    ctx.ignore()
                continue
            stamp, host, prog, pid, msg = m.groups()  # one call: a group() call each costs more
            if not (prog == "sendmail" or prog.startswith("sm-")):
                ctx.ignore()  # another program in the same mail log (dovecot, opendkim, ...)
                continue
            p = (stamp, host, prog, pid or "")
            q = QID.match(msg)
            qid = None
            if q:
                qid = None if q.group("qid") == "NOQUEUE" else q.group("qid")
                msg = msg[q.end():]
            key = (p[1], qid) if qid else None  # correlation is keyed by host and queue id
            if not self._message(qid, key, msg, p, line, line_no, ctx, state):
                if any(x in msg for x in FAILURE_MARKERS):
                    ctx.unparsed(line_no, line)
                else:
                    ctx.ignore()

    # --- one message ---------------------------------------------------------------------------
    def _message(self, qid, key, msg, p, line, line_no, ctx, state) -> bool:
        """Handle (and count) one message; False (not counted) when it matches nothing known
        (unparsed if it looks like a failure)."""
        if msg.startswith("to="):
            return self._delivery(qid, key, msg, p, line, line_no, ctx, state)
        if msg.startswith("from="):
            if not self._from(key, msg, p, state):
                return False
            ctx.ignore()
            return True
        if msg.startswith("ruleset="):
            return self._ruleset(qid, key, msg, p, line, line_no, ctx, state)
        if qid and len(msg) > 16:
            q2 = QID.match(msg)
            if q2 and q2.group("qid") != "NOQUEUE":
                return self._notice(qid, key, msg[q2.end():], p, line, line_no, ctx, state)
        if msg.startswith("AUTH failure ("):
            return self._auth_failure(msg, p, line, line_no, ctx)
        if msg.startswith("AUTH=server, "):
            a = AUTH_OK.match(msg)
            if a:
                if len(state.authid) >= state.MAX_SESSIONS:
                    state.authid.clear()
                state.authid[(p[1], p[3])] = a.group("id")
            ctx.ignore()
            return True
        if msg.startswith("<") and "... " in msg:
            return self._usrerr(qid, key, msg, p, line, line_no, ctx, state)
        if msg.startswith("SYSERR"):
            # err.c syserr(): "SYSERR(root): text" / "SYSERR: text"
            text = msg.partition(": ")[2] or msg
            ctx.emit(self._row(p, "server_error", "local", queue_id=qid, diagnostic=text), p[0], line_no, line)
            return True
        if msg.startswith("timeout waiting for input from "):
            phase = msg.rpartition(" during ")[2]
            if phase.startswith("client ") and qid:
                state.get(key)["pending"] = {"text": None, "stage": _stage_of_phase(phase)}
                ctx.ignored(SESSION_DETAIL)
            else:
                ctx.ignored(CLIENT_GONE)
            return True
        if (msg.startswith(("lost input channel from ", "collect: ")) or " did not issue MAIL/EXPN/VRFY/ETRN during connection to " in msg):
            ctx.ignored(CLIENT_GONE)
            return True
        if ": possible SMTP attack: command=" in msg:
            ctx.ignored("a client repeated a command past Sendmail's limit (MaxAuthCommands, ...); its refusals are logged apart")
            return True
        if msg.endswith(" [rejected]") and (" EXPN " in msg or " VRFY " in msg or " expn " in msg or " vrfy " in msg):
            ctx.ignored("EXPN/VRFY refused by PrivacyOptions (address probing); no mail was refused")
            return True
        if msg.startswith("rejecting commands from "):
            return self._pregreet(qid, msg, p, line, line_no, ctx)
        if msg.startswith("message size ("):
            if SIZE_REFUSED.match(msg) is None:
                return False
            # srvrsmtp.c: the recipients of the refused message follow as to= lines without a mailer
            ctx.ignored("size refusal detail; the to= lines of the same queue id are the failures")
            return True
        if msg.startswith("STARTTLS=server, error: "):
            # tls.c: "STARTTLS=server, error: accept failed=%d, reason=%s, SSL_error=%d, ..., relay=%s"
            text, _, relay = msg[24:].rpartition(", relay=")
            chost, cip = _relay(relay) if text else (None, None)
            row = self._row(p, "tls_failed", "inbound", queue_id=qid, client_host=chost, client_ip=cip,
                            smtp_stage="STARTTLS", diagnostic=f"TLS handshake with client failed: {text or msg[24:]}")
            ctx.emit(row, p[0], line_no, line)
            return True
        if msg.startswith("STARTTLS=client, error: ") or (msg.startswith("STARTTLS=client, ") and " failed" in msg):
            # "STARTTLS=client, error: connect failed=...", "STARTTLS=client, SSL_shutdown failed: -1"
            ctx.ignored("outbound TLS detail; the delivery's to= line is the failure")
            return True
        # LogLevel 10+ (sample_logs/sendmail/loglevel14): OpenSSL's text after a STARTTLS error line,
        # the per-connection TLS feature notes, makeconnection() failures, the SASL config search.
        if msg.startswith(("STARTTLS=server: error:", "STARTTLS=client: error:", "STARTTLS: error:")):
            ctx.ignored("TLS library detail of a STARTTLS error line")
            return True
        if msg.startswith(("tls_srv_features=", "tls_clt_features=")):
            ctx.ignore()
            return True
        if msg.startswith("makeconnection ("):
            ctx.ignored(SESSION_DETAIL)
            return True
        if msg.startswith("error: safesasl("):
            ctx.ignored("SASL configuration file search (a candidate path that does not exist)")
            return True
        return False

    @staticmethod
    def _row(p, event: str, direction: str, **fields: Any) -> dict[str, Any]:
        return {"host": p[1], "source": NAME, "program": p[2], "event": event, "direction": direction, **fields}

    def _from(self, key, msg, p, state) -> bool:
        f = FROM.match(msg)
        if f is None or key is None:
            return f is not None
        info = state.get(key)
        info["sender"] = _addr(f.group("sender"))
        info["size"] = int(f.group("size"))
        rest = _fields(f.group("rest").lstrip(", "))
        mid = rest.get("msgid")
        if mid:
            info["message_id"] = _addr(mid) or None
        relay = rest.get("relay")
        if relay and "daemon" in rest:  # an SMTP client; the MSP writes relay=user@localhost
            info["client_host"], info["client_ip"] = _relay(relay)
        user = state.authid.pop((p[1], p[3]), None)
        if user:
            info["sasl_username"] = user
        return True

    def _delivery(self, qid, key, msg, p, line, line_no, ctx, state) -> bool:
        t = TO.match(msg)
        if t is None:
            return False
        to_list, ctl, _, rest = t.groups()
        s = rest.rfind("stat=")
        if s < 0 or (s > 0 and rest[s - 2:s] != ", "):
            return False  # a line cut before its status
        stat = rest[s + 5:]
        head = rest[: max(s - 2, 0)]
        reply = None
        r = head.find("reply=")
        if r >= 0 and (r == 0 or head[r - 2:r] == ", "):
            reply, head = head[r + 6:], head[: max(r - 2, 0)]
        fields = _fields(head)
        mailer = fields.get("mailer")
        relay_host, relay_ip = _relay(fields.get("relay"))
        recipients = [_addr(x) for x in to_list.split(",", MAX_RECIPIENTS) if x.strip()]
        if stat.startswith("Sent"):
            # the MSP's hand-off to the local MTA (mailer=relay to [127.0.0.1]) is not a delivery
            if not (mailer == "relay" and (fields.get("relay") or "").lstrip("[").startswith(LOOPBACK)):
                stamp = p[0]
                key = stamp[:13] + stamp[-6:] if stamp[:4].isdigit() else stamp[:9]
                where = relay_host or mailer or ""
                for rcpt in recipients:
                    ctx.delivered(key, stamp, rcpt, where)
            ctx.ignore()
            return True
        if stat.startswith("queued") or stat == "Deferred: queued":
            ctx.ignore()
            return True
        info = state.get(key) if key else {}
        # {"text", "stage"}: a dict, so an incremental run's store carries it (plain JSON)
        pending = (info.pop("pending", None) or {}) if key else {}
        deferred = stat.startswith("Deferred")
        detail = stat[10:] if stat.startswith("Deferred: ") else ""
        session = (p[1], p[3], mailer, relay_host)
        if deferred:
            diagnostic = detail or reply or pending.get("text")
            if diagnostic is None:
                # A bare "stat=Deferred" (no reply, no detail): Sendmail reused the status of an
                # earlier connection to the same host and mailer in this queue run (mci cache).
                diagnostic = state.host_status.get(session) or stat
            else:
                if len(state.host_status) >= state.MAX_SESSIONS:
                    state.host_status.clear()
                state.host_status[session] = diagnostic
        else:
            diagnostic = reply or stat
        code, enh = split_reply(diagnostic)
        dsn = fields.get("dsn")
        if dsn and not DSN.fullmatch(dsn):
            dsn = None
        stage = pending.get("stage")
        if stage is None:
            if diagnostic.startswith("Connection refused") or diagnostic.startswith("No route to host"):
                stage = "connect"
            elif pending.get("text"):
                stage = "STARTTLS"
        if mailer is None and not fields.get("relay"):
            # srvrsmtp.c: a recipient of a message refused during the SMTP session (size, ...)
            event, direction = "rejected", "inbound"
        else:
            event = "deferred" if deferred else "bounced"
            direction = "local" if mailer in LOCAL_MAILERS else "outbound"
        ctl = _addr(ctl)
        for rcpt in recipients:
            row = self._row(
                p, event, direction,
                queue_id=qid,
                recipient=rcpt,
                recipient_domain=domain_of(rcpt),
                relay_host=relay_host if relay_host != "root@localhost" else None,
                relay_ip=relay_ip,
                smtp_code=code,
                enhanced_status=dsn or enh,
                smtp_stage=stage,
                diagnostic=diagnostic,
            )
            row.update(_context(info))
            if row.get("sender") is None and ctl:
                row["sender"] = ctl
            ctx.emit(row, p[0], line_no, line)
            if deferred and key:
                info["last_deferral"] = row
        if not recipients:
            ctx.ignore()
        return True

    def _notice(self, qid, key, text, p, line, line_no, ctx, state) -> bool:
        """'QID: NEWQID: DSN: ...' / 'return to sender: ...' / 'sender notify: ...' / 'postmaster notify: ...'."""
        kind, sep, body = text.partition(": ")
        if not sep or kind not in ("DSN", "return to sender", "sender notify", "postmaster notify"):
            return False
        if body.startswith("Cannot send message for "):
            # queue.c/savemail.c: Timeout.queuereturn passed; the reason is the last deferral.
            info = state.get(key)
            last = info.get("last_deferral") or {}
            row = self._row(p, "expired", "outbound", queue_id=qid)
            for k in ("recipient", "recipient_domain", "relay_host", "relay_ip", "smtp_code", "enhanced_status", "smtp_stage"):
                row[k] = last.get(k)
            row["diagnostic"] = (
                f"message expired in the queue ({body}); {LAST_DEFERRAL}{last['diagnostic']}" if last.get("diagnostic")
                else f"message expired in the queue ({body}); no deferral reason in the logs read")
            row.update(_context(info))
            if row.get("sender") is None:
                row["sender"] = last.get("sender")  # ctladdr= of the deferral
            ctx.emit(row, p[0], line_no, line)
        elif body.startswith("Warning: could not send message for past "):
            ctx.ignored("delay warning to the sender (Timeout.queuewarn); the deferrals are the failures")
        else:
            ctx.ignored("bounce notice for failures already logged by their to= lines")
        return True

    def _ruleset(self, qid, key, msg, p, line, line_no, ctx, state) -> bool:
        r = RULESET.match(msg)
        if r is None:
            return False
        rs = r.group("rs")
        if rs == "trust_auth":
            # proto.m4 trust_auth: the AUTH= parameter of MAIL FROM is not trusted (RFC 4954 section
            # 5: passed on as AUTH=<>); the MAIL command itself was accepted.
            ctx.ignored("the AUTH= parameter of MAIL FROM was not trusted; the mail was not refused")
            return True
        if r.group("action") != "reject":
            ctx.ignored("ruleset action that is not a rejection (discard, quarantine)")
            return True
        text = r.group("text") or ""
        if rs in CLIENT_RULESETS:
            if key:
                state.get(key)["pending"] = {"text": f"{text} ({rs} ruleset)",
                                             "stage": "STARTTLS" if rs.startswith("tls") else None}
            ctx.ignored("outbound ruleset refusal; the delivery's to= line is the failure")
            return True
        chost, cip = _relay(r.group("relay"))
        arg1 = _addr(r.group("arg1"))
        code, enh = split_reply(text)
        row = self._row(
            p, "rejected", "inbound",
            queue_id=qid,
            sender=arg1 if rs == "check_mail" else None,
            recipient=arg1 if rs in ("check_rcpt", "check_compat") else None,
            recipient_domain=domain_of(arg1) if rs in ("check_rcpt", "check_compat") else None,
            client_host=chost,
            client_ip=cip,
            smtp_code=code,
            enhanced_status=enh,
            smtp_stage=RULESET_STAGE.get(rs),
            diagnostic=text,
        )
        ctx.emit(row, p[0], line_no, line)
        return True

    def _usrerr(self, qid, key, msg, p, line, line_no, ctx, state) -> bool:
        u = USRERR.match(msg)
        if u is None:
            return False
        info = state.queue.get(key) if key else None
        if info and "size" in info:
            # the message was accepted (its from= line came first): a note of its delivery run
            ctx.ignored("address error during a delivery; the to= line is the failure")
            return True
        # During the SMTP session (the from= line comes at its end): usrerr() of RCPT, e.g.
        # "<ghost@example.com>... User unknown" (the client got 550 5.1.1).
        addr = u.group("addr")
        row = self._row(p, "rejected", "inbound", queue_id=qid, recipient=addr, recipient_domain=domain_of(addr),
                        smtp_stage="RCPT TO", diagnostic=u.group("text"))
        ctx.emit(row, p[0], line_no, line)
        return True

    def _auth_failure(self, msg, p, line, line_no, ctx) -> bool:
        a = AUTH_FAIL.match(msg)
        if a is None:
            return False
        chost, cip = _relay(a.group("relay"))
        row = self._row(p, "auth_failed", "inbound", client_host=chost, client_ip=cip, sasl_username=a.group("user"),
                        smtp_stage="AUTH", diagnostic=f"AUTH failure ({a.group('mech')}): {a.group('text')}")
        ctx.emit(row, p[0], line_no, line)
        return True

    def _pregreet(self, qid, msg, p, line, line_no, ctx) -> bool:
        g = PREGREET.match(msg)
        if g is None:
            return False
        chost, cip = _relay(g.group("relay").replace("  ", " "))
        row = self._row(p, "rejected", "inbound", queue_id=qid, client_host=chost, client_ip=cip, smtp_stage="greeting",
                        diagnostic=f"rejecting commands due to pre-greeting traffic after {g.group('n')} seconds")
        ctx.emit(row, p[0], line_no, line)
        return True


PARSER = SendmailParser()

F2B_AUTH = "fail2ban/sendmail-auth.log"
F2B_REJ = "fail2ban/sendmail-reject.log"

SAMPLES: tuple[Sample, ...] = (
    # ---- written by the real Sendmail 8.17.1.9 (Debian 12) run here (sample_logs/sendmail/mail.log) ----
    Sample(
        'Dec  4 18:59:31 mx1 sm-mta[14888]: 6B4IxVdI014877: to=<overquota@gmail-like.example>, ctladdr=<alice@example.com> (1001/1001), delay=00:00:00, xdelay=00:00:00, mailer=esmtp2525, pri=90385, relay=[127.0.0.1] [127.0.0.1], dsn=4.2.2, reply=452-4.2.2 The email account that you tried to reach is over quota. Please direct, stat=Deferred: 452-4.2.2 The email account that you tried to reach is over quota. Please direct',
        context=('Dec  4 18:59:31 mx1 sm-mta[14877]: 6B4IxVdI014877: from=<alice@example.com>, size=385, class=0, nrcpts=3, msgid=<202612041859.6B4IxVbl014875@mx1.example.com>, proto=ESMTPS, daemon=MTA-v4, relay=localhost [127.0.0.1]',),
        expect={"event": "deferred", "direction": "outbound", "queue_id": "6B4IxVdI014877",
                "recipient": "overquota@gmail-like.example", "recipient_domain": "gmail-like.example",
                "relay_host": "127.0.0.1", "relay_ip": "127.0.0.1", "smtp_code": 452, "enhanced_status": "4.2.2",
                "sender": "alice@example.com", "size": 385, "client_host": "localhost", "client_ip": "127.0.0.1",
                "message_id": "202612041859.6B4IxVbl014875@mx1.example.com", "category": "mailbox_full"}),
    Sample(
        'Dec  4 18:59:31 mx1 sm-mta[14888]: 6B4IxVdI014877: to=<nouser@gmail-like.example>, ctladdr=<alice@example.com> (1001/1001), delay=00:00:00, xdelay=00:00:00, mailer=esmtp2525, pri=90385, relay=[127.0.0.1] [127.0.0.1], dsn=5.1.1, reply=550-5.1.1 The email account that you tried to reach does not exist. Please try, stat=User unknown',
        expect={"event": "bounced", "smtp_code": 550, "enhanced_status": "5.1.1", "sender": "alice@example.com",
                "diagnostic": "550-5.1.1 The email account that you tried to reach does not exist. Please try",
                "category": "recipient_unknown"}),
    Sample('Dec  4 18:59:37 mx1 sm-mta[15093]: 6B4IxbkC015091: to=<greylist@example.net>, ctladdr=<bob@example.com> (1002/1002), delay=00:00:00, xdelay=00:00:00, mailer=esmtp2528, pri=30351, relay=[127.0.0.1] [127.0.0.1], dsn=4.2.0, reply=450 4.2.0 <greylist@example.net>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.net.html, stat=Deferred: 450 4.2.0 <greylist@example.net>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.net.html', expect={"event": "deferred", "smtp_code": 450, "category": "greylisted"}),
    Sample('Dec  4 18:59:42 mx1 sm-mta[15297]: 6B4Ixgcd015293: to=<postmaster@refused.example.org>, ctladdr=<alice@example.com> (1001/1001), delay=00:00:00, xdelay=00:00:00, mailer=esmtp2599, pri=30360, relay=[127.0.0.1] [127.0.0.1], dsn=4.4.1, stat=Deferred: Connection refused by [127.0.0.1]', expect={"event": "deferred", "smtp_stage": "connect", "category": "connection_refused",
                              "diagnostic": "Connection refused by [127.0.0.1]"}),
    Sample('Dec  4 18:59:47 mx1 sm-mta[15202]: 6B4IxfK3015200: to=<postmaster@silent.example.org>, ctladdr=<alice@example.com> (1001/1001), delay=00:00:06, xdelay=00:00:06, mailer=esmtp2530, pri=30357, relay=[127.0.0.1] [127.0.0.1], dsn=4.4.2, stat=Deferred: Connection timed out with [127.0.0.1]', context=('Dec  4 18:59:47 mx1 sm-mta[15202]: 6B4IxfK3015200: timeout waiting for input from [127.0.0.1] during client greeting',),
           expect={"event": "deferred", "smtp_stage": "greeting", "enhanced_status": "4.4.2",
                   "category": "connection_timeout"}),
    Sample('Dec  4 18:59:41 mx1 sm-mta[15208]: 6B4IxfKM015206: to=<postmaster@hangup.example.org>, ctladdr=<alice@example.com> (1001/1001), delay=00:00:00, xdelay=00:00:00, mailer=esmtp2531, pri=30357, relay=[127.0.0.1] [127.0.0.1], dsn=4.4.2, stat=Deferred: Connection reset by [127.0.0.1]', expect={"event": "deferred", "category": "connection_lost"}),
    Sample('Dec  4 18:59:41 mx1 sm-mta[15214]: 6B4IxfYh015212: to=<postmaster@selfsigned.example.org>, ctladdr=<alice@example.com> (1001/1001), delay=00:00:00, xdelay=00:00:00, mailer=esmtp2532, pri=30369, relay=[127.0.0.1] [127.0.0.1], dsn=4.2.0, stat=Deferred', context=('Dec  4 18:59:41 mx1 sm-mta[15214]: 6B4IxfYh015212: ruleset=tls_rcpt, arg1=postmaster@selfsigned.example.org, relay=[127.0.0.1], reject=454 4.7.0 authentication failed',),
           expect={"event": "deferred", "smtp_stage": "STARTTLS", "smtp_code": 454, "enhanced_status": "4.2.0",
                   "diagnostic": "454 4.7.0 authentication failed (tls_rcpt ruleset)", "category": "tls_certificate"}),
    Sample('Dec  4 18:59:41 mx1 sm-mta[15214]: 6B4IxfYh015212: ruleset=tls_rcpt, arg1=postmaster@selfsigned.example.org, relay=[127.0.0.1], reject=454 4.7.0 authentication failed', ignore="outbound ruleset refusal; the delivery's to= line is the failure"),
    Sample('Dec  4 18:59:42 mx1 sm-mta[15257]: 6B4IxfPs015245: to=<relay@authfail.example.org>, ctladdr=<alice@example.com> (1001/1001), delay=00:00:01, xdelay=00:00:00, mailer=esmtp2534, pri=30353, relay=[127.0.0.1] [127.0.0.1], dsn=5.7.0, reply=530 5.7.0 Authentication Required. For more information, go to, stat=Service unavailable', expect={"event": "bounced", "smtp_code": 530, "category": "auth_required"}),
    Sample('Dec  4 18:59:40 mx1 sm-mta[15195]: 6B4IxeTn015193: to=<archive@example.net>, ctladdr=<carol@example.com> (1003/1003), delay=00:00:00, xdelay=00:00:00, mailer=esmtp2528, pri=60715, relay=[127.0.0.1] [127.0.0.1], dsn=5.3.4, reply=552 5.3.4 Message size exceeds fixed maximum message size, stat=Service unavailable', expect={"event": "bounced", "enhanced_status": "5.3.4", "category": "message_too_large"}),
    Sample('Dec  4 18:59:43 mx1 sendmail[15311]: 6B4IxhhI015311: to=nosuchuser@example.com, ctladdr=bob@example.com (0/0), delay=00:00:00, xdelay=00:00:00, mailer=relay, pri=30091, relay=[127.0.0.1] [127.0.0.1], dsn=5.1.1, reply=550 5.1.1 <nosuchuser@example.com>... User unknown, stat=User unknown', expect={"program": "sendmail", "event": "bounced", "recipient": "nosuchuser@example.com",
                              "sender": "bob@example.com", "category": "recipient_unknown"}),
    Sample('Dec  4 19:01:42 mx1 sm-mta[16928]: 6B4IxeOq015163: 6B4J1SEo016928: sender notify: Cannot send message for 2 minutes', context=('Dec  4 19:01:42 mx1 sm-mta[16928]: 6B4IxeOq015163: to=<slowdata@flaky.example.net>, ctladdr=<bob@example.com> (1002/1002), delay=00:02:02, xdelay=00:00:08, mailer=esmtp2528, pri=570357, relay=[127.0.0.1] [127.0.0.1], dsn=4.4.2, stat=Deferred: Connection timed out with [127.0.0.1]',),
           expect={"event": "expired", "queue_id": "6B4IxeOq015163", "recipient": "slowdata@flaky.example.net",
                   "sender": "bob@example.com", "category": "expired", "last_deferral_category": "connection_timeout"}),
    Sample('Dec  4 19:00:48 mx1 sm-mta[15972]: 6B4IxeOq015163: 6B4J0Sxq015972: sender notify: Warning: could not send message for past 1 minute', ignore="delay warning to the sender (Timeout.queuewarn); the deferrals are the failures"),
    Sample('Dec  4 18:59:31 mx1 sm-mta[14888]: 6B4IxVdI014877: 6B4IxVdH014888: DSN: User unknown', ignore="bounce notice for failures already logged by their to= lines"),
    Sample('Dec  4 18:59:43 mx1 sm-mta[15327]: 6B4IxhM6015327: ruleset=check_rcpt, arg1=<victim@gmail-like.example>, relay=[127.0.0.2], reject=550 5.7.1 <victim@gmail-like.example>... Relaying denied. IP name lookup failed [127.0.0.2]', expect={"event": "rejected", "direction": "inbound", "recipient": "victim@gmail-like.example",
                              "client_host": "127.0.0.2", "client_ip": "127.0.0.2", "smtp_stage": "RCPT TO",
                              "smtp_code": 550, "enhanced_status": "5.7.1", "category": "relay_denied"}),
    Sample('Dec  4 18:59:44 mx1 sm-mta[15408]: ruleset=check_relay, arg1=[127.0.0.4], arg2=127.0.0.2, relay=[127.0.0.4], reject=550 5.7.1 Rejected: 127.0.0.4 listed at bl.logscan.test', expect={"event": "rejected", "smtp_stage": "connect", "client_ip": "127.0.0.4",
                              "category": "blocklisted"}),
    Sample('Dec  4 18:59:44 mx1 sm-mta[15401]: ruleset=check_relay, arg1=[127.0.0.3], arg2=127.0.0.3, relay=[127.0.0.3], reject=550 5.7.1 Access denied', expect={"event": "rejected", "smtp_stage": "connect", "client_ip": "127.0.0.3",
                              "diagnostic": "550 5.7.1 Access denied"}),
    Sample('Dec  4 18:59:44 mx1 sm-mta[15423]: 6B4IxiTE015423: ruleset=check_mail, arg1=<someone@nxdomain.example.org>, relay=[127.0.0.2], reject=553 5.1.8 <someone@nxdomain.example.org>... Domain of sender address someone@nxdomain.example.org does not exist', expect={"event": "rejected", "smtp_stage": "MAIL FROM", "sender": "someone@nxdomain.example.org",
                              "smtp_code": 553, "category": "sender_rejected"}),
    Sample('Dec  4 18:59:44 mx1 sm-mta[15374]: 6B4IxiJN015374: <ghost@example.com>... User unknown', expect={"event": "rejected", "direction": "inbound", "recipient": "ghost@example.com",
                              "diagnostic": "User unknown", "category": "recipient_unknown"}),
    Sample('Dec  4 18:59:45 mx1 sm-mta[15430]: 6B4IxjWj015430: to=<alice@example.com>, delay=00:00:00, pri=111644, stat=Message exceeds maximum fixed size (40960)', expect={"event": "rejected", "direction": "inbound", "recipient": "alice@example.com",
                              "category": "message_too_large"}),
    Sample('Dec  4 18:59:45 mx1 sm-mta[15433]: 6B4Ixj8e015433: AUTH failure (LOGIN): authentication failure (-13) SASL(-13): authentication failure: checkpass failed, user=alice@example.com, relay=localhost [127.0.0.1]', expect={"event": "auth_failed", "direction": "inbound", "sasl_username": "alice@example.com",
                              "client_host": "localhost", "client_ip": "127.0.0.1", "smtp_stage": "AUTH",
                              "category": "auth_failed"}),
    Sample('Dec  4 19:00:39 mx1 sm-mta[16061]: 6B4J0dmi016061: rejecting commands from [127.0.0.6] [127.0.0.6] due to pre-greeting traffic after 0 seconds', expect={"event": "rejected", "client_ip": "127.0.0.6", "smtp_stage": "greeting",
                              "category": "wrong_port_or_protocol"}),
    Sample('Dec  4 19:00:45 mx1 sm-mta[16120]: STARTTLS=server, error: accept failed=-1, reason=wrong version number, SSL_error=1, errno=0, retry=-1, relay=localhost [127.0.0.1]', expect={"event": "tls_failed", "direction": "inbound", "client_ip": "127.0.0.1",
                              "category": "tls_handshake"}),
    Sample('Dec  4 18:59:31 mx1 sm-mta[14871]: 6B4IxVlC014871: from=<alice@example.com>, size=280, class=0, nrcpts=1, msgid=<20261204185930.8.swaks@client.example.com>, proto=ESMTPSA, daemon=MSA-v4, relay=localhost [127.0.0.1]', context=('Dec  4 18:59:31 mx1 sm-mta[14871]: AUTH=server, relay=localhost [127.0.0.1], authid=alice@example.com, mech=LOGIN, bits=0',), ignore=""),
    Sample('Dec  4 18:59:46 mx1 sm-mta[15495]: 6B4Ixkxp015495: localhost [127.0.0.1]: possible SMTP attack: command=AUTH, count=3', ignore="a client repeated a command past Sendmail's limit (MaxAuthCommands, ...); its refusals are logged apart"),
    Sample('Dec  4 19:00:45 mx1 sm-mta[16118]: 6B4J0jsF016118: lost input channel from localhost [127.0.0.1] to MTA-v4 after rcpt', ignore=CLIENT_GONE),
    Sample('Dec  4 18:59:45 mx1 sm-mta[15433]: 6B4Ixj8e015433: localhost [127.0.0.1] did not issue MAIL/EXPN/VRFY/ETRN during connection to MSA-v4', ignore=CLIENT_GONE),
    Sample('Dec  4 19:00:57 mx1 sm-mta[16122]: 6B4J0lEn016122: timeout waiting for input from localhost during server cmd read', ignore=CLIENT_GONE),
    Sample('Dec  4 19:00:44 mx1 sm-mta[16110]: 6B4J0iYm016110: collect: premature EOM: unexpected close', ignore=CLIENT_GONE),
    Sample('Dec  4 18:59:47 mx1 sm-mta[15202]: 6B4IxfK3015200: timeout waiting for input from [127.0.0.1] during client greeting', ignore=SESSION_DETAIL),
    Sample('Dec  4 18:59:31 mx1 sm-mta[14843]: 6B4IxUJj014842: to=<bob@example.com>, ctladdr=<alice@example.com> (1001/1001), delay=00:00:01, xdelay=00:00:01, mailer=local, pri=30603, dsn=2.0.0, stat=Sent', ignore=""),
    Sample('Dec  4 18:59:29 mx1 sendmail[14816]: 6B4IxToe014816: from=alice@example.com, size=98, class=0, nrcpts=1, msgid=<202612041859.6B4IxToe014816@mx1.example.com>, relay=root@localhost', ignore=""),
    Sample('Dec  4 18:59:28 mx1 sm-mta[14807]: starting daemon (8.17.1.9): SMTP+queueing@00:00:15', ignore=""),
    # ---- the same Sendmail at LogLevel 14 (sample_logs/sendmail/loglevel14/mail.log) ----
    Sample('Dec  4 19:32:07 mx1 sm-mta[11310]: ruleset=trust_auth, arg1=alice@example.com, relay=localhost [127.0.0.1], reject=550 5.7.1 <alice@example.com>... not authenticated', ignore="the AUTH= parameter of MAIL FROM was not trusted; the mail was not refused"),
    Sample('Dec  4 19:32:05 mx1 sm-mta[11294]: error: safesasl(/etc/sasl2/Sendmail.conf) failed: No such file or directory', ignore="SASL configuration file search (a candidate path that does not exist)"),
    Sample('Dec  4 19:32:07 mx1 sm-mta[11310]: tls_srv_features=empty, stat=0, relay=localhost [127.0.0.1]', ignore=""),
    Sample('Dec  4 19:32:12 mx1 sm-mta[11429]: STARTTLS=server: error:0A00010B:SSL routines::wrong version number:../ssl/record/ssl3_record.c:350:', ignore="TLS library detail of a STARTTLS error line"),
    Sample('Dec  4 19:32:07 mx1 sm-mta[11312]: STARTTLS=client, SSL_shutdown failed: -1', ignore="outbound TLS detail; the delivery's to= line is the failure"),
    Sample('Dec  4 19:32:09 mx1 sm-mta[11350]: 6B4JW8kg011348: makeconnection ([127.0.0.1] [127.0.0.1].2599 (2)) failed: Connection refused by [127.0.0.1]', ignore=SESSION_DETAIL),
    # ---- from fail2ban's test logs, read from ../shared/corpora by reference ----
    Sample(ref=f"{F2B_AUTH}:22", expect={"event": "auth_failed", "sasl_username": "user@example.com",
                                         "client_host": "example.com", "client_ip": "192.0.2.3", "category": "auth_failed"}),
    Sample(ref=f"{F2B_AUTH}:24", expect={"event": "auth_failed", "client_ip": "192.0.2.4"}),  # injected "relay=" in the user
    Sample(ref=f"{F2B_AUTH}:27", expect={"event": "auth_failed", "sasl_username": "scanner", "category": "auth_failed"}),
    Sample(ref=f"{F2B_AUTH}:36", expect={"event": "auth_failed", "sasl_username": None, "client_ip": "192.0.2.9"}),
    Sample(ref=f"{F2B_AUTH}:16", ignore="a client repeated a command past Sendmail's limit (MaxAuthCommands, ...); its refusals are logged apart"),
    Sample(ref=f"{F2B_REJ}:4", expect={"program": "sm-acceptingconnections", "event": "rejected",
                                        "recipient": "asservnew@freemailhost.ru", "client_host": "128-68-136-133.broadband.corbina.ru",
                                        "client_ip": "128.68.136.133", "smtp_code": 550, "enhanced_status": "5.7.1",
                                        "category": "relay_denied"}),
    Sample(ref=f"{F2B_REJ}:7", expect={"client_host": "int0.client.access.azadnet.net", "client_ip": "80.253.155.119"}),
    Sample(ref=f"{F2B_REJ}:22", expect={"event": "rejected", "category": "blocklisted"}),
    Sample(ref=f"{F2B_REJ}:34", expect={"queue_id": None, "smtp_stage": "connect", "category": "rate_limited"}),
    Sample(ref=f"{F2B_REJ}:38", expect={"smtp_code": 421, "enhanced_status": "4.3.2", "category": "rate_limited"}),
    Sample(ref=f"{F2B_REJ}:47", expect={"client_ip": "209.15.212.253", "category": "wrong_port_or_protocol"}),
    Sample(ref=f"{F2B_REJ}:55", expect={"recipient": "non-existing-user@example.com", "category": "recipient_unknown"}),
    Sample(ref=f"{F2B_REJ}:79", expect={"category": "reverse_dns"}),
    Sample(ref=f"{F2B_REJ}:82", expect={"event": "rejected", "recipient": "arhipov@domain.com", "category": "recipient_unknown"}),
    Sample(ref=f"{F2B_REJ}:101", expect={"host": "robin", "event": "rejected", "recipient": "baduser@yourhost.com"}),
    Sample(ref=f"{F2B_REJ}:122", ignore=CLIENT_GONE),
    Sample(ref=f"{F2B_REJ}:127", ignore=CLIENT_GONE),
    Sample(ref=f"{F2B_REJ}:64", ignore="EXPN/VRFY refused by PrivacyOptions (address probing); no mail was refused"),
    Sample(ref=f"{F2B_REJ}:103", ignore=""),
)
