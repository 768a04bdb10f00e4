"""Signatures: a diagnostic with its variable parts masked, so that recurrences group together.

    550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown in virtual mailbox table
 -> 550 5.1.1 <addr>: Recipient address rejected: User unknown in virtual mailbox table

Masked: e-mail addresses, IP addresses, host[ip] pairs, long mixed letter/digit tokens (queue and
session ids), numbers of five digits or more. Kept: reply codes, short numbers (ports, S3140,
TSS04), plain words and domain names (block-list zones such as dnsbl-1.uceprotect.net, provider
hosts), which carry the meaning the rules look for; inside a domain name only a label that is an
id itself is masked (AM4PEPF00027A6C.eurprd04.prod.outlook.com -> <id>.eurprd04.prod.outlook.com:
the server's own id varies from one reply to the next, the provider's domain is the evidence).
All patterns are bounded (and the text is cut at 2,000 characters), so a hostile line cannot make
masking slow; they use `re`, which is about twice as fast as `regex` here.
"""

from __future__ import annotations

import re

_DELIMS = frozenset(" \t[]()<>;,")


def _ipv6(m: re.Match) -> str:
    s = m.group(0)
    return "<ip>" if "::" in s or s.count(":") >= 5 else s


def _is_id(s: str) -> bool:
    """Ten characters or more mixing letters and digits, and not made of words: a part (between -, _
    and .) that is a word with at most two digits after it (UCEPROTECT-Level1, pf1) is no id."""
    return (len(s) >= 10 and any(c.isdigit() for c in s) and any(c.isalpha() for c in s)
            and not all(_WORDLIKE.fullmatch(p) for p in _PARTS.split(s) if p))


def _long_id(m: re.Match) -> str:
    # Mixed letters and digits, ten characters or more: session/queue ids, not words or codes.
    s = m.group(0).rstrip(".")
    if not _DIGIT.search(s):
        return m.group(0)  # words and names without digits hold no id
    tail = m.group(0)[len(s):]
    if _DOMAIN.fullmatch(s):
        # A host or zone name (labels, then an alphabetic top-level label): keep the name, mask only
        # labels that are ids themselves (AM4PEPF00027A6C.eurprd04.prod.outlook.com ->
        # <id>.eurprd04.prod.outlook.com; dnsbl-1.uceprotect.net stays).
        return ".".join("<id>" if _is_id(label) else label for label in s.split(".")) + tail
    if _is_id(s):
        return "<id>" + tail
    return m.group(0)


def _hosts(s: str) -> str:
    """host[<ip>] -> <host>[<ip>] (string work: a regex led by a character class is slow here)."""
    parts = s.split("[<ip>]")
    for i in range(len(parts) - 1):
        p = parts[i]
        j = len(p)
        while j > 0 and p[j - 1] not in _DELIMS and len(p) - j < 255:
            j -= 1
        if j < len(p):
            parts[i] = p[:j] + "<host>"
    return "[<ip>]".join(parts)


_ADDR_BRACKETED = re.compile(r"<[^<>\s]{0,256}@[^<>\s]{0,256}>")
_ADDR_BARE = re.compile(r"(?<![\w.+=-])[\w.+=-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){0,10}")
_IPV4 = re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w.]\d)")
_IPV6 = re.compile(r"(?i)(?<![\w:])(?:[0-9a-f]{1,4}:){2,7}(?::|[0-9a-f]{1,4})(?:::?[0-9a-f]{1,4}){0,6}(?![\w:])")
# Two or more labels of letters, digits and hyphens, the last one alphabetic (a TLD-like label).
_DOMAIN = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})\.){1,20}[A-Za-z]{2,24}")
_WORDLIKE = re.compile(r"[A-Za-z]+\d{0,2}|\d{1,2}")
_PARTS = re.compile(r"[-_.]")
_TOKEN = re.compile(r"(?<![\w.<-])[\w.-]{10,200}(?![\w-])")
_NUMBER = re.compile(r"(?<![\w.])\d{5,}(?![\w])")
_SPACES = re.compile(r"\s{2,}")
_DIGIT = re.compile(r"\d")


def signature_of(text: str | None) -> str:
    if not text:
        return ""
    s = text[:2000]
    # Each step runs only when a cheap substring test says it has something to do.
    if "@" in s:
        s = _ADDR_BRACKETED.sub("<addr>", s)
        if "@" in s:
            s = _ADDR_BARE.sub("<addr>", s)
    if _DIGIT.search(s):
        if "." in s:
            s = _IPV4.sub("<ip>", s)
        if "::" in s or s.count(":") >= 7:
            s = _IPV6.sub(_ipv6, s)
        if "[<ip>]" in s:
            s = _hosts(s)
        s = _TOKEN.sub(_long_id, s)
        s = _NUMBER.sub("<n>", s)
    if "  " in s or "\t" in s:
        s = _SPACES.sub(" ", s)
    return s.strip()


def signatures_of(texts: list[str | None]) -> list[str]:
    """Signatures for a column of diagnostics, each distinct text masked once."""
    cache = {t: signature_of(t) for t in set(texts)}
    return [cache[t] for t in texts]
