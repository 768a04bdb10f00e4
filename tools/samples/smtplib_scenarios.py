#!/usr/bin/env python3
"""Real Python smtplib failures in an application log (sample_logs/smtplib/app.log).

Sends one message per scenario with the standard library's smtplib to the scripted loopback
server tools/samples/trouble_smtpd.py (127.0.0.1 only; start it first, see
make_smtplib_samples.sh) and logs the outcome the way applications usually do: logging's
"%(asctime)s %(levelname)s %(name)s: %(message)s" format, logger.exception() with the traceback,
and for some scenarios a one-line logger.error("... %r", exc). Ordinary INFO lines are mixed in,
as in a real application log.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import sys
from email.message import EmailMessage

HOST = "127.0.0.1"  # never change: loopback only


def message(rcpt: str, size: int = 0) -> EmailMessage:
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = "shop@example.com", rcpt, "Your order"
    m.set_content("Thank you for your order.\n" + "x" * size)
    return m


def insecure() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def send(port, rcpt, *, starttls=None, implicit=False, login=None, size=0, timeout=5, sender=None, host=HOST):
    # another host name only inside sandbox.sh's loopback-only network namespace
    assert host == HOST or os.environ.get("LOGSCAN_SANDBOX"), "wrong-host scenario outside the sandbox"
    cls = smtplib.SMTP_SSL if implicit else smtplib.SMTP
    kwargs = {"context": ssl.create_default_context()} if implicit else {}
    with cls(host, port, timeout=timeout, **kwargs) as s:
        if starttls is not None:
            s.starttls(context=starttls)
        if login:
            s.login(*login)
        s.send_message(message(rcpt, size), from_addr=sender)


SCENARIOS = [
    ("order 1001 confirmation", dict(port=2525, rcpt="sam@gmail-like.example", starttls=insecure())),
    ("order 1002 confirmation", dict(port=2525, rcpt="nouser@gmail-like.example", starttls=insecure())),
    ("password reset", dict(port=2534, rcpt="relay@authfail.example.org", login=("shop@example.com", "wrong"))),
    ("order 1003 confirmation", dict(port=2599, rcpt="x@refused.example.org")),
    ("order 1004 confirmation", dict(port=2530, rcpt="p@silent.example.org", timeout=3)),
    ("newsletter", dict(port=2531, rcpt="p@hangup.example.org")),
    ("order 1005 confirmation", dict(port=2526, rcpt="y@outlook-like.example", implicit=True)),
    ("invoice 77", dict(port=2532, rcpt="p@selfsigned.example.org", starttls=ssl.create_default_context())),
    ("invoice 78", dict(port=2533, rcpt="p@notls.example.org", starttls=insecure())),
    ("catalogue", dict(port=2525, rcpt="toolarge@gmail-like.example", starttls=insecure(), size=60000)),
    ("order 1006 confirmation", dict(port=2534, rcpt="relay@authfail.example.org")),
    ("order 1007 confirmation", dict(port=2525, rcpt="ratelimit@gmail-like.example", starttls=insecure())),
    ("order 1008 confirmation", dict(port=2535, rcpt="relay@apppass.example.org",
                                     login=("shop@gmail-like.example", "account-password"))),
    ("order 1009 confirmation", dict(port=2536, rcpt="friend@elsewhere.example")),
    ("order 1010 confirmation", dict(port=2537, rcpt="customer@elsewhere.example", starttls=insecure(),
                                     login=("shop@contoso-like.example", "the-right-password"),
                                     sender="noreply@contoso-like.example")),
    ("order 1011 confirmation", dict(port=2538, rcpt="sam@gmail-like.example", starttls=insecure(), timeout=3)),
    ("order 1012 confirmation", dict(port=2525, rcpt="sam@gmail-like.example", host="smtp.gmial-like.example")),
]


def main() -> int:
    logging.basicConfig(stream=sys.stdout, level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log = logging.getLogger("shop.mailer")
    logging.getLogger("shop.orders").info("worker started, 12 jobs queued")
    for n, (what, kw) in enumerate(SCENARIOS):
        log.info("sending %s to %s via %s:%s", what, kw["rcpt"], kw.get("host", HOST), kw["port"])
        try:
            send(**kw)
        except Exception as exc:
            if n % 3 == 2:
                log.error("could not send %s: %r", what, exc)  # the one-line style
            else:
                log.exception("could not send %s", what)
        else:
            log.info("sent %s", what)
    logging.getLogger("shop.orders").info("worker finished")
    return 0


if __name__ == "__main__":
    sys.exit(main())
