"""Small SMTP helpers shared by parsers: reply codes, host[ip]:port, address domains."""

from __future__ import annotations

import re

# "550 5.1.1 text", "550-5.7.1 text", "421 4.7.0 [TSS04] ...", "554 DT:SPM ...", "5.7.1 text" (milter)
REPLY = re.compile(r"(?P<code>[2-5]\d\d)(?:[ -](?P<enh>[245]\.\d{1,3}\.\d{1,3})\b)?|(?P<enh2>[245]\.\d{1,3}\.\d{1,3})\b")
HOST_IP_PORT = re.compile(r"(?P<host>[^\[\]\s]{0,255})\[(?P<ip>[^\]\s]{1,64})\](?::(?P<port>\d{1,5}))?")


def split_reply(text: str) -> tuple[int | None, str | None]:
    """SMTP code and enhanced status at the start of a reply text."""
    m = REPLY.match(text)
    if not m:
        return None, None
    code = m.group("code")
    return (int(code) if code else None), (m.group("enh") or m.group("enh2"))


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
