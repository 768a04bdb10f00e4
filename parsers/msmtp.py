"""msmtp's log (its `logfile`, any `logfile_time_format`, or its syslog form) to failure rows.

One line per message it tried to send (msmtp.c, msmtp_log_to_file / msmtp_get_log_info):

    <time> host=H tls=on|off auth=on|off [user=U] from=F recipients=R1,R2 [mailsize=N]
        [smtpstatus=C] [smtpmsg='reply, lines joined with \\n'] [errormsg='text'] exitcode=EX_*

or through syslog: "<syslog stamp> <host> msmtp: host=H ...". exitcode=EX_OK is a success; every
other line is a failure of the client to hand the message to its server. Every shape has real
lines below, written by msmtp 1.8.23 run here against the loopback trouble server
(tools/samples/make_msmtp_samples.sh, sample_logs/msmtp/).
"""

from __future__ import annotations

import re
from typing import Any

from logscan.parsers.base import BaseParser, FileContext, ParserState, Sample, Traits, ascii_int
from logscan.parsers.syslog import PREFIX
from logscan.smtp import domain_of, split_reply

NAME = "msmtp"

# A key starts a word ((?<!\w)): tried inside every run of word characters, \w{1,20} made a long
# line without '=' cost 20 steps a character.
FIELD = re.compile(r"(?<!\w)(\w{1,20})=('(?:[^']|'(?! \w{1,20}=|$)){0,8000}'|\S{0,2000})")
# A line with an exit code other than EX_OK is a failure row (or, without msmtp's fields, an unparsed
# line), never ignored (tests/test_failure_markers.py)
FAILURE_MARKERS = re.compile(r"\bexitcode=EX_(?!OK\b)[A-Z]{2,12}\b")
# errormsg -> the SMTP stage it names (msmtp.c messages)
STAGES = (
    ("recipient address", "RCPT TO"),
    ("envelope from address", "MAIL FROM"),
    ("did not accept the mail", "end of DATA"),
    ("authentication", "AUTH"),
    ("TLS", "STARTTLS"),
    ("cannot connect", "connect"),
    ("network read error", "connect"),
    ("cannot locate host", "DNS"),
)


# msmtp.c: "cannot connect to %s, port %d: %s" (the only place its log names the port)
CONNECT_PORT = re.compile(r"cannot connect to \S{1,255}, port (\d{1,5})")
# tls=on says TLS was configured, not whether STARTTLS or implicit TLS (tls_starttls is not logged)
TLS_MODE = {"on": "tls", "off": "none"}


def _event(errormsg: str) -> str:
    if "authentication" in errormsg:
        return "auth_failed"
    if "TLS" in errormsg:
        return "tls_failed"
    if errormsg.startswith(("cannot connect", "cannot locate host", "network read error", "network write error")):
        return "connect_failed"
    return "send_failed"


class MsmtpParser(BaseParser):
    """msmtp lines stand alone: nothing to correlate (the base ParserState)."""

    name = NAME
    description = "msmtp client log (logfile, any logfile_time_format, or syslog)"
    traits = Traits()

    def detect(self, lines: list[str]) -> float:
        hits = sum(1 for x in lines if " host=" in x and " exitcode=EX_" in x)
        return hits / len(lines) if lines else 0.0

    def parse(self, lines: list[str], first_line_no: int, ctx: FileContext, state: ParserState) -> None:
        for offset, line in enumerate(lines):
            i = line.find(" host=")
            if i < 0 or " exitcode=" not in line:
                if line.strip():
                    ctx.unparsed(first_line_no + offset, line)
                else:
                    ctx.ignore()
                continue
            if line.endswith("exitcode=EX_OK"):
                ctx.ignore()  # a mail sent
                continue
            m = PREFIX.match(line)
            if m and m.group("prog") == "msmtp":
                stamp, host = m.group("stamp"), m.group("host")
            else:
                stamp, host = line[:i], None
            fields = {k: v[1:-1] if v.startswith("'") else v for k, v in FIELD.findall(line[i + 1:])}
            self._row(fields, stamp, host, line, first_line_no + offset, ctx)

    @staticmethod
    def _row(f: dict[str, str], stamp: str, host: str | None, line: str, line_no: int, ctx: FileContext) -> None:
        errormsg = f.get("errormsg", "")
        reply = f.get("smtpmsg", "").replace("\\n", " ")
        code = ascii_int(f.get("smtpstatus"), "smtp_code")
        recipients = [r for r in f.get("recipients", "").split(",") if r]
        named = re.search(r"recipient address (\S+) not accepted", errormsg)
        rcpt = named.group(1) if named else (recipients[0] if recipients else None)
        stage = next((s for needle, s in STAGES if needle in errormsg), None)
        row: dict[str, Any] = {
            "host": host,
            "source": NAME,
            "program": "msmtp",
            "event": _event(errormsg),
            "direction": "outbound",
            "sender": f.get("from"),
            "recipient": rcpt,
            "recipient_domain": domain_of(rcpt),
            "sasl_username": f.get("user"),
            "relay_host": f.get("host"),
            "tls_mode": TLS_MODE.get(f.get("tls", "")),
            "smtp_code": code,
            "enhanced_status": split_reply(reply)[1] if reply else None,
            "smtp_stage": stage,
            "error_code": f.get("exitcode"),
            "diagnostic": reply or errormsg or f"msmtp failed ({f.get('exitcode')})",
        }
        port = CONNECT_PORT.search(errormsg)
        if port:
            row["relay_port"] = ascii_int(port.group(1), "relay_port")
        row["size"] = ascii_int(f.get("mailsize"), "size")
        ctx.emit(row, stamp, line_no, line)


PARSER = MsmtpParser()

SAMPLES: tuple[Sample, ...] = (
    Sample(
        "Nov 27 20:55:38 host=127.0.0.1 tls=on auth=off from=alice@example.com recipients=nouser@gmail-like.example smtpstatus=550 smtpmsg='550-5.1.1 The email account that you tried to reach does not exist. Please try\\n550-5.1.1 double-checking the recipient?s email address for typos or\\n550-5.1.1 unnecessary spaces. For more information, go to\\n550 5.1.1  https://support.google.com/mail/?p=NoSuchUser i51si5063759ony.267 - gsmtp' errormsg='recipient address nouser@gmail-like.example not accepted by the server' exitcode=EX_DATAERR",
        expect={"event": "send_failed", "direction": "outbound", "relay_host": "127.0.0.1", "sender": "alice@example.com",
                "recipient": "nouser@gmail-like.example", "smtp_code": 550, "enhanced_status": "5.1.1",
                "smtp_stage": "RCPT TO", "error_code": "EX_DATAERR", "category": "recipient_unknown"}),
    Sample(
        "Nov 27 20:55:48 host=127.0.0.1 tls=off auth=on user=alice@example.com from=alice@example.com recipients=relay@authfail.example.org smtpstatus=535 smtpmsg='535-5.7.8 Username and Password not accepted. For more information, go to\\n535 5.7.8  https://support.google.com/mail/?p=BadCredentials k81si5194404oib.427 - gsmtp' errormsg='authentication failed (method PLAIN)' exitcode=EX_NOPERM",
        expect={"event": "auth_failed", "sasl_username": "alice@example.com", "smtp_code": 535, "smtp_stage": "AUTH",
                "error_code": "EX_NOPERM", "category": "auth_failed"}),
    Sample(
        "Nov 27 21:30:12 host=127.0.0.1 tls=off auth=on user=alice@gmail-like.example from=alice@example.com recipients=relay@apppass.example.org smtpstatus=534 smtpmsg='534-5.7.9 Application-specific password required. Learn more at\\n534 5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor t19si8996340dvq.324 - gsmtp' errormsg='authentication failed (method PLAIN)' exitcode=EX_NOPERM",
        expect={"event": "auth_failed", "smtp_code": 534, "enhanced_status": "5.7.9", "error_code": "EX_NOPERM",
                "sasl_username": "alice@gmail-like.example", "category": "auth_app_password"}),
    Sample(
        "Nov 27 20:55:38 host=127.0.0.1 tls=off auth=off from=alice@example.com recipients=x@refused.example.org errormsg='cannot connect to 127.0.0.1, port 2599: Connection refused' exitcode=EX_TEMPFAIL",
        expect={"event": "connect_failed", "smtp_stage": "connect", "smtp_code": None, "category": "connection_refused",
                "relay_port": 2599, "tls_mode": "none",
                "diagnostic": "cannot connect to 127.0.0.1, port 2599: Connection refused"}),
    Sample(
        "Nov 27 20:55:38 host=127.0.0.1 tls=on auth=off from=bob@example.com recipients=y@outlook-like.example errormsg='TLS handshake failed: An unexpected TLS packet was received.' exitcode=EX_PROTOCOL",
        expect={"event": "tls_failed", "smtp_stage": "STARTTLS", "error_code": "EX_PROTOCOL", "tls_mode": "tls",
                "category": "wrong_port_or_protocol"}),
    # a mistyped host, run in tools/samples/sandbox.sh (loopback-only network, stub DNS: NXDOMAIN)
    Sample(
        "Nov 27 22:00:50 host=smtp.gmial-like.example tls=on auth=off from=alice@example.com recipients=sam@gmail-like.example errormsg='cannot locate host smtp.gmial-like.example: Name or service not known' exitcode=EX_NOHOST",
        expect={"event": "connect_failed", "smtp_stage": "DNS", "relay_host": "smtp.gmial-like.example",
                "error_code": "EX_NOHOST", "category": "server_unresolvable"}),
    Sample(
        "Nov 27 20:55:38 host=127.0.0.1 tls=off auth=on user=alice@example.com from=alice@example.com recipients=relay@authfail.example.org errormsg='cannot use a secure authentication method' exitcode=EX_UNAVAILABLE",
        expect={"event": "auth_failed", "category": "tls_required"}),
    Sample(
        "Nov 27 20:55:38 host=127.0.0.1 tls=off auth=off from=bob@example.com recipients=relay@authfail.example.org smtpstatus=530 smtpmsg='530-5.7.0 Authentication Required. For more information, go to\\n530 5.7.0  https://support.google.com/mail/?p=WantAuthError k63si2565936yhi.198 - gsmtp' errormsg='envelope from address bob@example.com not accepted by the server' exitcode=EX_DATAERR",
        expect={"event": "send_failed", "smtp_stage": "MAIL FROM", "smtp_code": 530, "category": "auth_required"}),
    Sample(
        "Nov 27 20:55:38 host=127.0.0.1 tls=on auth=off from=bob@example.com recipients=p@selfsigned.example.org errormsg='TLS certificate verification failed: The certificate is NOT trusted. The certificate issuer is unknown. The name in the certificate does not match the expected. ' exitcode=EX_UNAVAILABLE",
        expect={"event": "tls_failed", "category": "tls_certificate"}),
    Sample(
        "Nov 27 20:55:42 host=127.0.0.1 tls=off auth=off from=bob@example.com recipients=p@silent.example.org errormsg='network read error: the operation timed out' exitcode=EX_IOERR",
        expect={"event": "connect_failed", "category": "connection_timeout"}),
    Sample(
        "Nov 27 20:55:42 host=127.0.0.1 tls=on auth=off from=alice@example.com recipients=toolarge@gmail-like.example smtpstatus=552 smtpmsg='552-5.2.3 Your message exceeded Google?s message size limits. For more\\n552-5.2.3 information, go to\\n552 5.2.3  https://support.google.com/mail/?p=MaxSizeError o81si7006052vjh.174 - gsmtp' errormsg='the server did not accept the mail' exitcode=EX_UNAVAILABLE",
        expect={"event": "send_failed", "smtp_stage": "end of DATA", "category": "message_too_large"}),
    Sample(
        "2026-11-27 20:55:48 host=127.0.0.1 tls=on auth=off from=alice@example.com recipients=nouser@gmail-like.example smtpstatus=550 smtpmsg='550-5.1.1 The email account that you tried to reach does not exist. Please try\\n550-5.1.1 double-checking the recipient?s email address for typos or\\n550-5.1.1 unnecessary spaces. For more information, go to\\n550 5.1.1  https://support.google.com/mail/?p=NoSuchUser f71si6799881jhl.681 - gsmtp' errormsg='recipient address nouser@gmail-like.example not accepted by the server' exitcode=EX_DATAERR",
        expect={"time_zone": "assumed:UTC", "year_inferred": False, "smtp_code": 550}),
    Sample(
        "Nov 27 20:55:38 host=127.0.0.1 tls=on auth=off from=alice@example.com recipients=sam@gmail-like.example mailsize=148 smtpstatus=250 smtpmsg='250 2.0.0 OK  1795812938 v74si7011441ojj.548 - gsmtp' exitcode=EX_OK",
        ignore=""),
)
