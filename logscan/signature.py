"""Signatures: a diagnostic with its variable parts masked, so that recurrences group together.

    550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown in virtual mailbox table
 -> 550 5.1.1 <addr>: Recipient address rejected: User unknown in virtual mailbox table

Masked: e-mail addresses, IP addresses, host[ip] pairs, long mixed letter/digit tokens (queue and
session ids), numbers of five digits or more. Kept: reply codes, short numbers (ports, S3140,
TSS04) and plain words and domain names, which carry the meaning the rules look for.
All patterns are bounded, so a hostile line cannot make masking slow.
"""

from __future__ import annotations

import regex


def _ipv6(m: regex.Match) -> str:
    s = m.group(0)
    return "<ip>" if "::" in s or s.count(":") >= 5 else s


def _long_id(m: regex.Match) -> str:
    s = m.group(0)
    # Mixed letters and digits, ten characters or more: session/queue ids, not words or codes.
    return "<id>" if len(s) >= 10 and "<" not in s else s


_SUBS = (
    (regex.compile(r"<[^<>\s]{0,256}@[^<>\s]{0,256}>"), "<addr>"),
    (regex.compile(r"(?<![\w.+=-])[\w.+=-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){0,10}"), "<addr>"),
    (regex.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w.]\d)"), "<ip>"),
    (regex.compile(r"(?i)(?<![\w:])(?:[0-9a-f]{1,4}:){2,7}(?::|[0-9a-f]{1,4})(?:::?[0-9a-f]{1,4}){0,6}(?![\w:])"), _ipv6),
    (regex.compile(r"[^\s\[\]()<>;,]{1,255}\[<ip>\]"), "<host>[<ip>]"),
    (regex.compile(r"(?<![\w])(?=[\w.-]{0,80}\d)(?=[\w.-]{0,80}[A-Za-z])[\w-]{1,40}(?:\.[\w-]{1,40}){0,4}(?![\w])"), _long_id),
    (regex.compile(r"(?<![\w.])\d{5,}(?![\w])"), "<n>"),
    (regex.compile(r"\s{2,}"), " "),
)


def signature_of(text: str | None) -> str:
    if not text:
        return ""
    s = text[:2000]
    for pattern, repl in _SUBS:
        s = pattern.sub(repl, s)
    return s.strip()
