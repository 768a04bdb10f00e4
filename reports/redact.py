"""--redact: pseudonymize the local part of every e-mail address (domains stay), and with
--redact-ips every IP address, in every text column of the failure table before anything is
aggregated, drawn or exported, so sample lines, exports and charts agree.

Pseudonyms are keyed hashes (HMAC-SHA256 with a key made for this run and then forgotten): the
same address gets the same pseudonym everywhere in one run, and cannot be recovered by hashing
guessed addresses.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re

import pandas as pd

# Linear time on hostile lines: possessive quantifiers (no backtracking into a run) and bounded
# quoted strings. The local part is a quoted string (RFC 5322 quoted-string, at most 64 characters:
# Exim logs '<"jules@box3.plc.example-is-not-known"@plc.example>', ../shared/corpora/exim/log/0014)
# or a run of RFC 5322's dot-atom characters of any length (a local part over 64 characters is
# still someone's), "=" included: VERP and BATV addresses carry the recipient there
# (bounce-123-alice=example.org@lists.example.net, prvs=tag=alice@...). The lookbehind keeps us from
# starting inside a longer word; a log key glued to the address (sasl_username=a@b, from=a@b) is
# kept apart (Redactor._address). The quoted form is tried first, so an "@" inside the quotes is not taken
# for the address's own.
_LOCAL = r"A-Za-z0-9!#$%&'*+/=?^_`{|}~.-"
_ADDRESS = re.compile(rf'("(?:[^"\\\r\n]|\\.){{1,64}}"|(?<![{_LOCAL}])[{_LOCAL}]++)@(?=[A-Za-z0-9\[])')
_LOG_KEY = re.compile(r"[A-Za-z_]{1,24}=")
# Names that are accounts or unqualified addresses, written without an "@" (Postfix
# sasl_username=alice and from=<carol>, Exim "(set_id=alice)", U=alice, A=plain:alice, Exim's
# "<= carol" / "** carol", Dovecot user=<alice>): the whole value is someone's.
_NAMED = re.compile(r"(?:(?<![\w.-])(?:(?:sasl_username|sasl_sender|set_id|user|authid|U)=<?+|A=[\w-]{1,40}+:"
                    r"|(?:from|to|orig_to)=<)|(?:^|(?<=\s))(?:<=|=>|->|\*\*|==) )"
                    r"([^\s<>,;()\"'@\[\]]{1,256}+)(?=[\s>,;()\"']|$)")
# Every dotted quad, zero-padded or not (198.051.100.007 is read as an address by some resolvers).
_IPV4 = re.compile(r"(?<![0-9.])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?![0-9])")
# IPv6: full or compressed form; at least three colons or a "::", so clock times (20:37:11) stay;
# also inside an address literal ([IPv6:2001:db8::1], in HELO names and Exim's H= too).
_IPV6 = re.compile(r"(?:(?<=IPv6:)|(?<![\w:.]))(?:(?:[0-9A-Fa-f]{1,4}:){3,7}[0-9A-Fa-f]{1,4}"
                   r"|(?:[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4}){0,6})?::(?:[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4}){0,6})?)"
                   r"(?![\w:])")
# discover.py quotes the first line of a file it does not know; under --redact it is not shown.
_FIRST_LINE = re.compile(r"""first line: (?:'(?:[^'\\]|\\.){0,400}+'|"(?:[^"\\]|\\.){0,400}+")""")

ADDRESS_COLUMNS = ("sender", "recipient", "sasl_username", "message_id", "diagnostic", "signature", "line")
ACCOUNT_COLUMNS = ("sender", "recipient", "sasl_username")  # a value without "@" is a name, all of it someone's
IP_COLUMNS = ("client_ip", "relay_ip", "relay_host", "client_host", "host", "diagnostic", "signature", "line")


class Redactor:
    def __init__(self, ips: bool = False, key: bytes | None = None) -> None:
        self.ips = ips
        self._key = key if key is not None else os.urandom(32)
        self._seen: dict[str, str] = {}

    def _token(self, kind: str, value: str) -> str:
        digest = hmac.new(self._key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:8]
        return f"{kind}-{digest}"

    def local(self, local_part: str) -> str:
        return self._token("user", local_part.lower())

    def text(self, value: str) -> str:
        if not value:
            return value
        hit = self._seen.get(value)
        if hit is None:
            hit = _ADDRESS.sub(self._address, value)
            hit = _NAMED.sub(lambda m: m.group(0)[:m.start(1) - m.start(0)] + self.local(m.group(1)), hit)
            if self.ips:
                hit = _IPV4.sub(lambda m: self._token("ip", m.group(0)), hit)
                hit = _IPV6.sub(lambda m: self._token("ip", m.group(0).lower()), hit)
            self._seen[value] = hit
        return hit

    def _address(self, m: re.Match) -> str:
        local = m.group(1)
        key = _LOG_KEY.match(local) if not local.startswith('"') else None
        if key is not None and key.end() < len(local):  # sasl_username=a@b: the key is not the address
            return key.group(0) + self.local(local[key.end():]) + "@"
        return self.local(local) + "@"

    def account(self, value: str) -> str:
        """A SASL user name or an envelope address: an address keeps its domain; a bare name
        (an unqualified sender or recipient) is all local part; the null sender stays."""
        if "@" in value or value.strip("<>") == "":
            return self.text(value)
        return self.local(value)

    def skip_reason(self, reason: str) -> str:
        """Why a file was not read, without the line of it that discover quotes."""
        return self.text(_FIRST_LINE.sub("first line: (hidden by --redact)", reason))

    def frame(self, df: pd.DataFrame) -> pd.DataFrame:
        """A copy of the failure table with every address (and IP) pseudonymized."""
        df = df.copy()
        columns = set(ADDRESS_COLUMNS) | (set(IP_COLUMNS) if self.ips else set())
        for name in sorted(columns & set(df.columns)):  # reports/stream.py holds fewer columns
            fn = self.account if name in ACCOUNT_COLUMNS else self.text
            col = df[name]
            values = col.dropna().unique()
            mapping = {v: fn(str(v)) for v in values}
            df[name] = col.astype(object).map(mapping).where(col.notna(), None)
        return df
