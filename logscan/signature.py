"""Signatures: a diagnostic with its variable parts masked, so that recurrences group together.

    550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown in virtual mailbox table
 -> 550 5.1.1 <addr>: Recipient address rejected: User unknown in virtual mailbox table

Masked: e-mail addresses, IP addresses, host[ip] pairs, long mixed letter/digit tokens (queue and
session ids), numbers of five digits or more. Kept: reply codes, short numbers (ports, S3140,
TSS04) and plain words and domain names, which carry the meaning the rules look for.
All patterns are bounded (and the text is cut at 2,000 characters), so a hostile line cannot make
masking slow; they use `re`, which is about twice as fast as `regex` here.
"""

from __future__ import annotations

import re

_DELIMS = frozenset(" \t[]()<>;,")


def _ipv6(m: re.Match) -> str:
    s = m.group(0)
    return "<ip>" if "::" in s or s.count(":") >= 5 else s


def _long_id(m: re.Match) -> str:
    # Mixed letters and digits, ten characters or more: session/queue ids, not words or codes.
    s = m.group(0).rstrip(".")
    if any(c.isdigit() for c in s) and any(c.isalpha() for c in s):
        return "<id>" + m.group(0)[len(s):]
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
