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

# Bounded repetitions: linear time on hostile lines. The local part is a quoted string (RFC 5322
# quoted-string, at most 64 characters: Exim logs '<"jules@box3.plc.example-is-not-known"@plc.example>',
# ../shared/corpora/exim/log/0014) or RFC 5322's dot-atom characters (at most 64) except "=", which
# logs use between key and value (sasl_username=a@b); the lookbehind keeps us from starting inside
# a longer word. The quoted form is tried first, so an "@" inside the quotes is not taken for the
# address's own.
_ADDRESS = re.compile(r'("(?:[^"\\\r\n]|\\.){1,64}"'
                      r"|(?<![A-Za-z0-9!#$%&'*+/?^_`{|}~.-])[A-Za-z0-9!#$%&'*+/?^_`{|}~.-]{1,64})@"
                      r"(?=[A-Za-z0-9\[])")
_IPV4 = re.compile(r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![\d])")
# IPv6: full or compressed form; at least three colons or a "::", so clock times (20:37:11) stay.
_IPV6 = re.compile(r"(?<![\w:.])(?:(?:[0-9A-Fa-f]{1,4}:){3,7}[0-9A-Fa-f]{1,4}"
                   r"|(?:[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4}){0,6})?::(?:[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4}){0,6})?)"
                   r"(?![\w:])")

ADDRESS_COLUMNS = ("sender", "recipient", "sasl_username", "message_id", "diagnostic", "signature", "line")
IP_COLUMNS = ("client_ip", "relay_ip", "relay_host", "client_host", "diagnostic", "signature", "line")


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
            hit = _ADDRESS.sub(lambda m: self.local(m.group(1)) + "@", value)
            if self.ips:
                hit = _IPV4.sub(lambda m: self._token("ip", m.group(0)), hit)
                hit = _IPV6.sub(lambda m: self._token("ip", m.group(0).lower()), hit)
            self._seen[value] = hit
        return hit

    def account(self, value: str) -> str:
        """A SASL user name: an address keeps its domain; a bare name is all local part."""
        return self.text(value) if "@" in value else self.local(value)

    def frame(self, df: pd.DataFrame) -> pd.DataFrame:
        """A copy of the failure table with every address (and IP) pseudonymized."""
        df = df.copy()
        columns = set(ADDRESS_COLUMNS) | (set(IP_COLUMNS) if self.ips else set())
        for name in sorted(columns):
            fn = self.account if name == "sasl_username" else self.text
            col = df[name]
            values = col.dropna().unique()
            mapping = {v: fn(str(v)) for v in values}
            df[name] = col.astype(object).map(mapping).where(col.notna(), None)
        return df
