"""Small SMTP helpers shared by parsers: reply codes, host[ip]:port, address domains."""

from __future__ import annotations

import re

# "550 5.1.1 text", "550-5.7.1 text", "421 4.7.0 [TSS04] ...", "554 DT:SPM ...", "5.7.1 text" (milter)
# ASCII digits only ([0-9]: \d also takes '١٢', '１２')
REPLY = re.compile(r"(?P<code>[2-5][0-9][0-9])(?:[ -](?P<enh>[245]\.[0-9]{1,3}\.[0-9]{1,3})\b)?|(?P<enh2>[245]\.[0-9]{1,3}\.[0-9]{1,3})\b")
# Replies that only the AUTH exchange gives (RFC 4954: 534 mechanism too weak / app password, 535
# bad credentials, 538 encryption required for the mechanism): a client log that does not name the
# command still places them at AUTH.
AUTH_REPLY_CODES = (534, 535, 538)
HOST_IP_PORT = re.compile(r"(?P<host>[^\[\]\s]{0,255})\[(?P<ip>[^\]\s]{1,64})\](?::(?P<port>[0-9]{1,5}))?")


def split_reply(text: str) -> tuple[int | None, str | None]:
    """SMTP code and enhanced status at the start of a reply text."""
    m = REPLY.match(text)
    if not m:
        return None, None
    code = m.group("code")
    return (int(code) if code else None), (m.group("enh") or m.group("enh2"))


# A pasted MTA status text names the command the reply answered. Postfix: "host mx[192.0.2.1]
# said: 550 ... (in reply to RCPT TO command)" (sample_logs/postfix); Exim: "SMTP error from remote
# mail server after RCPT TO:<a@b>: 550 ..." or "... after MAIL FROM:<a@b> SIZE=1325: host 127.0.0.1
# [127.0.0.1]: 550 ..." (sample_logs/exim; ../shared/corpora/exim/log).
_POSTFIX_SAID = re.compile(r"\bsaid: (?P<reply>.{1,2000}?) \(in reply to (?P<cmd>[A-Za-z ]{1,30}) command\)\s*$")
_EXIM_AFTER = re.compile(r"SMTP error from remote mail server after (?:pipelined )?(?P<cmd>RCPT TO|MAIL FROM|"
                         r"end of data|DATA|initial connection|EHLO|HELO|AUTH|STARTTLS)(?::<[^>]{0,300}>)?[^:]{0,200}"
                         r"(?:: host \S{1,255} \[[^\]]{1,64}\])?: (?P<reply>.{1,2000})$")
_STAGE_OF_COMMAND = {"end of data": "end of DATA", "end of DATA": "end of DATA", "initial connection": "greeting"}


def reply_in_status(text: str) -> tuple[str | None, str | None]:
    """(the reply, the SMTP stage) in a Postfix or Exim status text; (None, None) for a bare reply."""
    m = _POSTFIX_SAID.search(text) or _EXIM_AFTER.search(text)
    if not m:
        return None, None
    cmd = m.group("cmd").strip()
    return m.group("reply"), _STAGE_OF_COMMAND.get(cmd, cmd)


def host_ip_port(text: str) -> tuple[str | None, str | None, int | None]:
    m = HOST_IP_PORT.match(text)
    if not m:
        return (text or None), None, None
    port = m.group("port")
    return (m.group("host") or None), m.group("ip"), (int(port) if port else None)


def domain_of(address: str | None) -> str | None:
    if not address or "@" not in address:
        return None
    return address.rsplit("@", 1)[1].strip().lower() or None
