#!/usr/bin/env python3
"""exim_smtp_abuse.py - badly behaved SMTP clients, to make a real Exim log
its protocol / syntax / TLS / lost-connection lines.

Used by make_exim_samples.sh. Connects ONLY to 127.0.0.1 (the local Exim).
Each scenario is one function; run one or more by name:

  exim_smtp_abuse.py early unknown syntax nopipe lostdata drop tlsgarbage idle
"""
from __future__ import annotations

import socket
import sys
import time

HOST = "127.0.0.1"  # never change: loopback only


def conn(port=25, src="127.0.0.1"):
    s = socket.create_connection((HOST, port), timeout=30, source_address=(src, 0))
    return s


def recv_reply(s):
    """read one (possibly multi-line) SMTP reply"""
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            return data.decode(errors="replace")
        data += chunk
        lines = data.split(b"\r\n")
        done = [x for x in lines[:-1] if len(x) >= 4 and x[3:4] == b" "]
        if done or (len(lines) > 1 and len(lines[-2]) == 3):
            return data.decode(errors="replace")


def cmd(s, line):
    s.sendall(line.encode() + b"\r\n")
    return recv_reply(s)


def cmds_until_dropped(s, lines):
    """send each command in turn; stop when Exim drops the connection (that is what we provoke)"""
    for line in lines:
        try:
            cmd(s, line)
        except OSError:
            break


def send_out_of_turn(s, data: bytes):
    """Send without waiting for our turn, read the answer if one comes, and hang up."""
    s.sendall(data)
    time.sleep(0.5)
    try:
        recv_reply(s)
    except OSError:
        pass
    s.close()


def early():
    """input sent before the greeting -> synchronization error"""
    send_out_of_turn(conn(), b"EHLO early.example.com\r\n")


def unknown():
    """unrecognized commands -> 'too many unrecognized commands'"""
    s = conn()
    recv_reply(s)
    cmd(s, "EHLO scanner.example.com")
    cmds_until_dropped(s, ("XYZZY", "GET / HTTP/1.0", "USER admin", "PASS admin"))
    s.close()


def syntax():
    """syntax and protocol errors -> 'too many syntax or protocol errors'"""
    s = conn()
    recv_reply(s)
    cmd(s, "EHLO broken.example.com")
    cmds_until_dropped(s, ("RCPT TO:<alice@example.com>", "MAIL FROM:<bad address@@example.com>",
                           "MAIL FROM:alice", "DATA", "MAIL FROM:<x@example.com> BODY=9BIT"))
    s.close()


def nopipe():
    """HELO (so no PIPELINING), then two commands in one packet"""
    s = conn()
    recv_reply(s)
    cmd(s, "HELO oldclient.example.com")
    send_out_of_turn(s, b"MAIL FROM:<alice@example.com>\r\nRCPT TO:<bob@example.com>\r\n")


def lostdata():
    """connection closed in the middle of DATA"""
    s = conn()
    recv_reply(s)
    cmd(s, "EHLO flaky-client.example.com")
    cmd(s, "MAIL FROM:<carol@example.com>")
    cmd(s, "RCPT TO:<alice@example.com>")
    cmd(s, "DATA")
    s.sendall(b"From: carol@example.com\r\nSubject: half a message\r\n\r\nfirst line\r\n")
    time.sleep(0.5)
    s.close()


def drop():
    """EHLO, MAIL, RCPT, then the client vanishes (incomplete transaction)"""
    s = conn()
    recv_reply(s)
    cmd(s, "EHLO vanishing.example.com")
    cmd(s, "MAIL FROM:<bob@example.com>")
    cmd(s, "RCPT TO:<alice@example.com>")
    s.close()


def nomail():
    """connect, EHLO, QUIT -> 'no MAIL in SMTP connection'"""
    s = conn()
    recv_reply(s)
    cmd(s, "EHLO prober.example.com")
    cmd(s, "QUIT")
    s.close()


def tlsgarbage():
    """STARTTLS, then plain text instead of a TLS ClientHello"""
    s = conn()
    recv_reply(s)
    cmd(s, "EHLO tlsbroken.example.com")
    cmd(s, "STARTTLS")
    s.sendall(b"EHLO this is not a TLS record\r\n" * 3)
    time.sleep(1)
    s.close()


def idle():
    """EHLO and then silence until Exim's smtp_receive_timeout"""
    s = conn()
    recv_reply(s)
    cmd(s, "EHLO sleepy.example.com")
    s.settimeout(60)
    try:
        recv_reply(s)  # Exim sends 421 on timeout
    except OSError:
        pass
    s.close()


if __name__ == "__main__":
    for name in sys.argv[1:]:
        try:
            globals()[name]()
        except Exception as e:  # keep going: the server side is what we want logged
            print(f"{name}: {e!r}", file=sys.stderr)
        time.sleep(0.3)
