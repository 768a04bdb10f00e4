"""Nodemailer errors in Node.js application logs: console.error(err) and JSON logger lines.

    Error: Invalid login: 535-5.7.8 Username and Password not accepted. ...   (util.inspect of the
    <continuation lines of a multi-line message>                               Error, stack lines
        at SMTPConnection._formatError (.../nodemailer/lib/smtp-connection/index.js:809:19)
      code: 'EAUTH',                                                          and properties)
      response: '535-5.7.8 ...',
      responseCode: 535,
      command: 'AUTH PLAIN'
    }
    {"level":50,"msg":"could not send","err":{"message":"...","code":"EAUTH","command":"AUTH PLAIN",...}}

A failure needs Nodemailer's evidence: an error `code` of Nodemailer's (EAUTH, ECONNECTION,
ETIMEDOUT, EDNS, ESOCKET, ETLS, EENVELOPE, EMESSAGE, EPROTOCOL, ...) or a stack frame in
nodemailer. Everything else in the application log is counted as ignored. The time is the one of
the log record before the error. Every shape has a real line below, written by nodemailer 6.10.1 on
Node.js 20 here against the loopback trouble server (tools/samples/nodemailer_scenarios.js).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import timedelta
from itertools import accumulate
from typing import Any

from logscan.parsers.base import BaseParser, FileContext, ParserState, Sample, Traits, ascii_int, file_field
from logscan.smtp import split_reply
from logscan.timestamps import EPOCH, MAX_MICROS

NAME = "nodemailer"

# Error codes Nodemailer sets (lib/smtp-connection/index.js, lib/smtp-transport/index.js).
CODES = frozenset("EAUTH ECONNECTION ETIMEDOUT EDNS ESOCKET ETLS EENVELOPE EMESSAGE EPROTOCOL ESTREAM "
                  "EMAXLIMIT EOAUTH2 ECONFIG ENOAUTH EADDRESS".split())
# Messages Nodemailer raises without a code (lib/smtp-connection/index.js).
MESSAGES = ("Unexpected socket close", "Greeting never received", "Connection closed unexpectedly",
            "Connection timeout")
_CODE = r"(?P<code>" + "|".join(sorted(CODES)) + r")"
# A line with Nodemailer's error code in a property position (util.inspect's "code: 'EAUTH'", JSON's
# "code":"EAUTH", logfmt's code=EAUTH) is part of a failure row or an unparsed line, never ignored
# (tests/test_failure_markers.py)
FAILURE_MARKERS = re.compile(r"""\bcode['"]?\s?[:=]\s?['"]?""" + _CODE + r"\b")
STAMPED = re.compile(r"\[?(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:Z|[+-]\d\d:?\d\d)?)\]? ")
PROPERTY = re.compile(r"  (\w{1,30}): (.{0,8000}?),?$")
STAGE = {"CONN": "connect", "EHLO": "EHLO", "HELO": "HELO", "STARTTLS": "STARTTLS", "MAIL FROM": "MAIL FROM",
         "RCPT TO": "RCPT TO", "DATA": "end of DATA", "API": None}
EVENT = {"EAUTH": "auth_failed", "ENOAUTH": "auth_failed", "EOAUTH2": "auth_failed", "ETLS": "tls_failed",
         "ECONNECTION": "connect_failed", "ETIMEDOUT": "connect_failed", "EDNS": "connect_failed",
         "ESOCKET": "connect_failed"}


# util.inspect of an Error is a few dozen lines (message, stack, properties); a block is closed at
# this many, so that a file of lines after one "Error: " is not held (and copied) whole.
MAX_BLOCK_LINES = 500
# A logger's record nests a few levels (record, err, cause); json.loads recurses per level.
MAX_JSON_DEPTH = 64
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*+"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]++")
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def _json_depth(line: str) -> int:
    """How deep the brackets of a JSON line nest (strings left out), without recursion."""
    if line.count("[") + line.count("{") <= MAX_JSON_DEPTH:
        return 0  # cannot nest deeper: the common case, two C-level counts
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", line))
    return max(accumulate(map(_DEPTH_STEP.__getitem__, brackets)), default=0)  # C-level: 64 KiB in ~2 ms


def _text(value: Any, limit: int = 300) -> str | None:
    """A JSON value read as a text field: a string (cut to `limit`, lone surrogates replaced, as
    '\\ud800' decodes to one and Arrow only takes UTF-8), or None for any other type."""
    if type(value) is not str:
        return None
    value = value[:limit]
    return value if value.isascii() else value.encode("utf-8", "replace").decode("utf-8")


def _tls_mode(command: str | None, tls_evidence: bool) -> str | None:
    """starttls when the STARTTLS command failed; tls when the error came from a TLS socket or
    OpenSSL (an upgraded or an implicit-TLS connection: the dump does not say which)."""
    if command == "STARTTLS":
        return "starttls"
    return "tls" if tls_evidence else None


def _row(message: str, code: str | None, command: str | None, response_code: Any) -> dict[str, Any]:
    stage = STAGE.get(command or "", command)
    if command and command.startswith("AUTH"):
        stage = "AUTH"
    event = EVENT.get(code or "", "send_failed")
    if code == "ESOCKET" and re.search(r"certificate|SSL|TLS", message):
        event, stage = "tls_failed", "STARTTLS"
    smtp_code = response_code if isinstance(response_code, int) else None
    return {
        "source": NAME,
        "program": "nodemailer",
        "event": event,
        "direction": "outbound",
        "smtp_code": smtp_code,
        "enhanced_status": split_reply(message.split(": ", 1)[-1])[1],
        "smtp_stage": stage,
        "error_code": code,
        "diagnostic": message,
    }


@dataclass
class NodemailerState(ParserState):
    # Where reading stands in one file (kept per file by incremental runs, parsers/base.py)
    stamp: str | None = file_field(default=None)
    block: list[str] | None = file_field(default=None, open_record=True)  # lines of the util.inspect'ed Error being read
    block_line: tuple[int, str] | None = file_field(default=None)


class NodemailerParser(BaseParser):
    name = NAME
    description = "Nodemailer errors in Node.js application logs (console.error, JSON loggers)"
    traits = Traits(multiline=True)
    State = NodemailerState

    def detect(self, lines: list[str]) -> float:
        # Nodemailer's stack frames, its error codes as util.inspect prints them, or JSON err records.
        hits = sum(1 for x in lines if "/nodemailer/lib/" in x or re.match(r"  code: '(E[A-Z0-9]{2,12})',?$", x)
                   or ('"err"' in x and re.search(r'"code":"E[A-Z0-9]{2,12}"', x)))
        return hits / len(lines) if lines else 0.0

    def parse(self, lines: list[str], first_line_no: int, ctx: FileContext, state: NodemailerState) -> None:
        for offset, line in enumerate(lines):
            if state.block is not None:
                if line == "}":
                    state.block.append(line)
                    ctx.ignore()
                    self.finish(ctx, state)
                    continue
                if len(state.block) < MAX_BLOCK_LINES and (line[:1] in (" ", "\t") or not STAMPED.match(line)
                                                          and not line.startswith(("{", "Error", "[Error"))):
                    state.block.append(line)
                    ctx.ignore()
                    continue
                self.finish(ctx, state)
            s = STAMPED.match(line)
            if s:
                state.stamp = s.group(1)
                self._record(line[s.end():], line, first_line_no + offset, ctx, state)
                continue
            if line.startswith(("Error: ", "[Error: ")):
                # counted as ignored now; a failure line when finish() emits its row (opened)
                state.block, state.block_line = [line], (first_line_no + offset, line)
                ctx.ignore()
            elif "{" in line and ('"err' in line or '"code"' in line) \
                    and self._json(line[line.find("{"):], first_line_no + offset, ctx, state, line):
                pass
            elif FAILURE_MARKERS.search(line):
                ctx.unparsed(first_line_no + offset, line)  # Nodemailer's code in a shape not read: shown
            else:
                ctx.ignore()

    def _record(self, rest: str, line: str, line_no: int, ctx: FileContext, state: NodemailerState) -> None:
        """The text after a log record's stamp: a JSON object with Nodemailer's error in it, or a
        line with Nodemailer's code in a shape not read (unparsed)."""
        brace = rest.find("{")
        if brace >= 0 and ('"err' in rest or '"code"' in rest) and self._json(rest[brace:], line_no, ctx, state, line):
            return
        if FAILURE_MARKERS.search(rest):
            ctx.unparsed(line_no, line)
        else:
            ctx.ignore()

    def finish(self, ctx: FileContext, state: NodemailerState) -> None:
        """Emit the Error block being read (at its closing brace, the next record, or the end)."""
        block, where = state.block, state.block_line
        state.block = state.block_line = None
        if not block or where is None:
            return
        message_lines: list[str] = []
        props: dict[str, str] = {}
        nodemailer_frame, in_message, tls_frame = False, True, False
        for x in block:
            if x.startswith("    at "):
                nodemailer_frame = nodemailer_frame or "nodemailer" in x
                tls_frame = tls_frame or x.startswith("    at TLSSocket.")
                in_message = False
                continue
            p = PROPERTY.match(x)
            if p:
                props.setdefault(p.group(1), p.group(2).strip("'\""))
                in_message = False
            elif in_message and not x.startswith(("  ", "}", "]")):
                message_lines.append(x)
        message = " ".join(message_lines).removeprefix("[").removeprefix("Error: ").rstrip()
        code = props.get("code")
        if code not in CODES and not nodemailer_frame and not message.startswith(MESSAGES):
            return  # an Error from elsewhere in the application
        rc = props.get("responseCode")
        row = _row(message, code, props.get("command"), ascii_int(rc, "smtp_code"))
        row["tls_mode"] = _tls_mode(props.get("command"), tls_frame or props.get("library") == "SSL routines")
        # Node's socket errors carry the peer: "  address: '127.0.0.1'," and "  port: 2599,"
        row["relay_port"] = ascii_int(props.get("port"), "relay_port")
        if props.get("address"):
            row["relay_ip"] = props["address"]
        if props.get("hostname"):  # the name a failed DNS lookup was for (EDNS)
            row["relay_host"] = props["hostname"]
        ctx.emit(row, state.stamp or "", where[0], where[1], opened=True)

    @staticmethod
    def _json(text: str, line_no: int, ctx: FileContext, state: NodemailerState, line: str | None = None) -> bool:
        """A JSON object (a JSON log record, or the object a logger put after its message) whose "err"
        (pino), "error" or itself is Nodemailer's error. JSON.stringify(err) has no "message" (not an
        own enumerable property of an Error): then its "response" is the text, as in this real line
        of an application's log in a public repository:
        [2026-04-09 14:06:35.862] [ERROR] [email] failed_to_send_email {"error":{"code":"EAUTH",
        "response":"535 Incorrect authentication data","responseCode":535,"command":"AUTH PLAIN"}}
        True when the line is counted here, False when the text is not JSON. A serialised Error's fields as pino/winston write them; any
        other type or size is not read."""
        line = text if line is None else line
        if _json_depth(text) > MAX_JSON_DEPTH:
            ctx.unparsed(line_no, line)  # not a logger's record (the decoder would recurse that deep)
            return True
        try:
            record, _ = json.JSONDecoder().raw_decode(text)
        except (ValueError, RecursionError):
            return False
        err = None
        if isinstance(record, dict):
            err = next((record[k] for k in ("err", "error") if isinstance(record.get(k), dict)), None)
            if err is None and "code" in record:
                err = record
        if isinstance(err, dict) and not isinstance(err.get("message"), str) and isinstance(err.get("response"), str):
            err = {**err, "message": err["response"]}
        if not isinstance(err, dict) or not isinstance(err.get("message"), str):
            if FAILURE_MARKERS.search(text):
                ctx.unparsed(line_no, line)
            else:
                ctx.ignore()
            return True
        code, command = _text(err.get("code")), _text(err.get("command"))
        if code not in CODES and "nodemailer" not in str(err.get("stack", "")) \
                and not err["message"].startswith(MESSAGES):
            ctx.ignore()
            return True
        message = _text(err["message"], 8000).replace("\n", " ")
        rc = err.get("responseCode")
        row = _row(message, code, command, rc if type(rc) is int else None)
        row["tls_mode"] = _tls_mode(command, "TLSSocket." in str(err.get("stack", "")))
        if type(err.get("port")) is int:
            row["relay_port"] = err["port"]
        row["relay_ip"] = _text(err.get("address"))
        t = record.get("time")
        stamp = state.stamp or ""
        if type(t) is int and 10**11 < t < MAX_MICROS // 1000:  # pino's epoch milliseconds
            stamp = (EPOCH + timedelta(milliseconds=t)).isoformat()
        ctx.emit(row, stamp, line_no, line)
        return True


PARSER = NodemailerParser()

SAMPLES: tuple[Sample, ...] = (
    Sample(
        '{"level":50,"time":1795814142597,"msg":"could not send invoice 89","err":{"type":"Error","message":"Error upgrading connection with STARTTLS: 502 5.5.1 Unrecognized command.","code":"ETLS","command":"STARTTLS","response":"502 5.5.1 Unrecognized command.","responseCode":502}}',
        expect={"event": "tls_failed", "smtp_stage": "STARTTLS", "smtp_code": 502, "error_code": "ETLS", "tls_mode": "starttls",
                "time_zone": "+00:00", "category": "tls_required"}),
    Sample(
        "}",
        context=(
            '2026-11-27T21:15:38.563Z error: could not send order 2003',
            'Error: connect ECONNREFUSED 127.0.0.1:2599',
            '    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1611:16) {',
            '  errno: -111,',
            "  code: 'ESOCKET',",
            "  syscall: 'connect',",
            "  address: '127.0.0.1',",
            '  port: 2599,',
            "  command: 'CONN'",
        ),
        expect={"event": "connect_failed", "smtp_stage": "connect", "error_code": "ESOCKET", "relay_ip": "127.0.0.1",
                "relay_port": 2599, "tls_mode": None,
                "diagnostic": "connect ECONNREFUSED 127.0.0.1:2599", "category": "connection_refused"}),
    Sample(
        "}",
        context=(
            '2026-11-27T21:15:42.709Z error: could not send catalogue',
            "Error: Message failed: 552-5.2.3 Your message exceeded Google's message size limits. For more",
            '552-5.2.3 information, go to',
            '552 5.2.3  https://support.google.com/mail/?p=MaxSizeError l2si7037619ztw.199 - gsmtp',
            '    at SMTPConnection._formatError (/tmp/nm/node_modules/nodemailer/lib/smtp-connection/index.js:809:19)',
            '    at SMTPConnection._actionSMTPStream (/tmp/nm/node_modules/nodemailer/lib/smtp-connection/index.js:1730:34)',
            '    at SMTPConnection.<anonymous> (/tmp/nm/node_modules/nodemailer/lib/smtp-connection/index.js:1198:22)',
            '    at SMTPConnection._processResponse (/tmp/nm/node_modules/nodemailer/lib/smtp-connection/index.js:993:20)',
            '    at SMTPConnection._onData (/tmp/nm/node_modules/nodemailer/lib/smtp-connection/index.js:774:14)',
            '    at SMTPConnection._onSocketData (/tmp/nm/node_modules/nodemailer/lib/smtp-connection/index.js:195:44)',
            '    at TLSSocket.emit (node:events:524:28)',
            '    at addChunk (node:internal/streams/readable:561:12)',
            '    at readableAddChunkPushByteMode (node:internal/streams/readable:512:3)',
            '    at Readable.push (node:internal/streams/readable:392:5) {',
            "  code: 'EMESSAGE',",
            '  response: "552-5.2.3 Your message exceeded Google\'s message size limits. For more\\n" +',
            "    '552-5.2.3 information, go to\\n' +",
            "    '552 5.2.3  https://support.google.com/mail/?p=MaxSizeError l2si7037619ztw.199 - gsmtp',",
            '  responseCode: 552,',
            "  command: 'DATA'",
        ),
        expect={"event": "send_failed", "smtp_stage": "end of DATA", "smtp_code": 552, "error_code": "EMESSAGE", "tls_mode": "tls",
                "enhanced_status": "5.2.3", "category": "message_too_large"}),
    Sample(  # a mistyped host, run in tools/samples/sandbox.sh (loopback-only network, stub DNS: NXDOMAIN)
        "}",
        context=(
            "2026-11-27T22:01:43.788Z error: could not send order 2012",
            "Error: getaddrinfo ENOTFOUND smtp.gmial-like.example",
            "    at GetAddrInfoReqWrap.onlookupall [as oncomplete] (node:dns:122:26) {",
            "  errno: -3008,",
            "  code: 'EDNS',",
            "  syscall: 'getaddrinfo',",
            "  hostname: 'smtp.gmial-like.example',",
            "  command: 'CONN'",
        ),
        expect={"event": "connect_failed", "smtp_stage": "connect", "error_code": "EDNS",
                "relay_host": "smtp.gmial-like.example", "category": "server_unresolvable"}),
    Sample("2026-11-27T21:15:38.441Z info: sending order 2001 to sam@gmail-like.example via 127.0.0.1:2525", ignore=""),
)
