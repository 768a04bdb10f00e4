#!/usr/bin/env python3
"""dnsbl_stub_dns.py - a stub DNS server on 127.0.0.1:53 (UDP) for the Sendmail sample run.

Used by make_sendmail_samples.sh inside a network namespace that has only a loopback interface,
with /etc/resolv.conf bind-mounted to "nameserver 127.0.0.1" (as sandbox.sh does for the client
scripts). It lets Sendmail's own DNS checks write their real log lines without any packet leaving
the machine:

- FEATURE(`dnsbl', `bl.logscan.test'): "4.0.0.127.bl.logscan.test" A -> 127.0.0.2 (the client
  127.0.0.4 is "listed"); every other name in that zone is NXDOMAIN (not listed).
- names with a label "nxdomain" (a sender domain that does not exist): NXDOMAIN, so check_mail
  writes "Domain of sender address ... does not exist".
- every other A query: 127.0.0.1; every other query type: NOERROR without answers.

Standard library only.
"""
from __future__ import annotations

import struct
import sys

from nxdomain_dns import question_of, serve  # (beside this file; the server binds 127.0.0.1 only)

ZONE = "bl.logscan.test"
LISTED = {"4.0.0.127." + ZONE}


def answer(query: bytes) -> bytes | None:
    q = question_of(query)
    if q is None:
        return None
    qid, flags, labels, qtype, question = q
    name = ".".join(labels)
    base = 0x8000 | (flags & 0x7900) | 0x0080 | 0x0400  # QR, opcode+RD copied, RA, AA
    if "nxdomain" in labels or (name.endswith("." + ZONE) and name not in LISTED):
        return struct.pack("!HHHHHH", qid, base | 3, 1, 0, 0, 0) + question
    if qtype != 1:  # not A: the name exists, no data of that type
        return struct.pack("!HHHHHH", qid, base, 1, 0, 0, 0) + question
    ip = bytes([127, 0, 0, 2]) if name in LISTED else bytes([127, 0, 0, 1])
    rr = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + ip
    return struct.pack("!HHHHHH", qid, base, 1, 1, 0, 0) + question + rr


if __name__ == "__main__":
    sys.exit(serve(answer, "dnsbl_stub_dns"))
