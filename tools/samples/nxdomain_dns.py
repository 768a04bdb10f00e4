#!/usr/bin/env python3
"""nxdomain_dns.py - a stub DNS server on 127.0.0.1:53 (UDP) that answers every query NXDOMAIN.

Used by sandbox.sh inside a network namespace that has only a loopback interface, with
/etc/resolv.conf bind-mounted to "nameserver 127.0.0.1": a mail client given a wrong host name
then writes its real "host not found" error (glibc getaddrinfo: EAI_NONAME "Name or service not
known"; c-ares: ENOTFOUND) without any packet leaving the machine. Standard library only.
The reply is the query's header and question with QR, RA and RCODE 3 (Name Error, RFC 1035 4.1.1).
"""
from __future__ import annotations

import socket
import struct
import sys

HOST = "127.0.0.1"  # never change: loopback only


def question_of(query: bytes) -> tuple[int, int, list[str], int, bytes] | None:
    """(id, flags, the name's labels in lower case, QTYPE, the question as sent) of a DNS query
    with one question (RFC 1035 4.1.1, 4.1.2), or None for anything else."""
    if len(query) < 12:
        return None
    qid, flags, qdcount = struct.unpack("!HHH", query[:6])
    if flags & 0x8000 or qdcount != 1:  # not a query, or not one question
        return None
    end, labels = 12, []
    while end < len(query) and query[end] != 0:  # the question's name: length-prefixed labels
        n = query[end]
        labels.append(query[end + 1:end + 1 + n].decode("ascii", "replace").lower())
        end += 1 + n
    if end + 5 > len(query):
        return None
    qtype = struct.unpack("!H", query[end + 1:end + 3])[0]
    return qid, flags, labels, qtype, query[12:end + 5]  # name, root label, QTYPE, QCLASS


def nxdomain(query: bytes) -> bytes | None:
    q = question_of(query)
    if q is None:
        return None
    qid, flags, _, _, question = q
    reply_flags = 0x8000 | (flags & 0x7900) | 0x0080 | 3  # QR, opcode and RD copied, RA, NXDOMAIN
    return struct.pack("!HHHHHH", qid, reply_flags, 1, 0, 0, 0) + question


def serve(answer, name: str) -> int:
    """Answer UDP queries on 127.0.0.1:53 with answer(query) (None: no reply), for ever."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((HOST, 53))
    print(f"{name} ready on 127.0.0.1:53", flush=True)
    while True:
        query, peer = sock.recvfrom(4096)
        reply = answer(query)
        if reply is not None:
            sock.sendto(reply, peer)


if __name__ == "__main__":
    sys.exit(serve(nxdomain, "nxdomain_dns"))
