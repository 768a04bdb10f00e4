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

import socket
import struct
import sys

HOST = "127.0.0.1"  # never change: loopback only
ZONE = "bl.logscan.test"
LISTED = {"4.0.0.127." + ZONE}


def answer(query: bytes) -> bytes | None:
    if len(query) < 12:
        return None
    qid, flags, qdcount = struct.unpack("!HHH", query[:6])
    if flags & 0x8000 or qdcount != 1:
        return None
    end, labels = 12, []
    while end < len(query) and query[end] != 0:
        n = query[end]
        labels.append(query[end + 1:end + 1 + n].decode("ascii", "replace").lower())
        end += 1 + n
    if end + 5 > len(query):
        return None
    qtype = struct.unpack("!H", query[end + 1:end + 3])[0]
    question = query[12:end + 5]
    name = ".".join(labels)
    base = 0x8000 | (flags & 0x7900) | 0x0080 | 0x0400  # QR, opcode+RD copied, RA, AA
    if "nxdomain" in labels or (name.endswith("." + ZONE) and name not in LISTED):
        return struct.pack("!HHHHHH", qid, base | 3, 1, 0, 0, 0) + question
    if qtype != 1:  # not A: the name exists, no data of that type
        return struct.pack("!HHHHHH", qid, base, 1, 0, 0, 0) + question
    ip = bytes([127, 0, 0, 2]) if name in LISTED else bytes([127, 0, 0, 1])
    rr = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + ip
    return struct.pack("!HHHHHH", qid, base, 1, 1, 0, 0) + question + rr


def main() -> int:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((HOST, 53))
    print("dnsbl_stub_dns ready on 127.0.0.1:53", flush=True)
    while True:
        query, peer = sock.recvfrom(4096)
        reply = answer(query)
        if reply is not None:
            sock.sendto(reply, peer)


if __name__ == "__main__":
    sys.exit(main())
