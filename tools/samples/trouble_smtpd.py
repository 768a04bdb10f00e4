#!/usr/bin/env python3
"""trouble_smtpd.py - a scripted SMTP server that imitates mail providers in trouble.

Used by make_postfix_samples.sh and make_exim_samples.sh to make a real MTA write real failure
lines into its log, and by the client scripts (make_<client>_samples.sh, through trouble_server.sh)
for msmtp, smtplib, PHPMailer, Nodemailer and Jakarta Mail. Pure asyncio (standard library only),
listens ONLY on 127.0.0.1.

Every "persona" listens on its own loopback port. Inside a persona the
behaviour is picked by the recipient's local part (e.g. ``nouser@gmail-like.example``
gets Gmail's "550-5.1.1 The email account that you tried to reach does not exist").
Anything not listed is accepted with the persona's normal 250 reply.

Reply texts are modelled on the texts those providers publish / send; the
source of each one is noted next to it. Host names, IDs and URLs are kept in
the providers' shape; the IP in "[...]" is the real peer address (127.0.0.1).

Ports (all on 127.0.0.1):
  2525 gmail      Gmail-like (STARTTLS with self-signed cert, PIPELINING, SIZE)
  2526 outlook    Microsoft 365 / Outlook.com-like (STARTTLS)
  2527 yahoo      Yahoo-like, per-recipient replies
  2528 generic    a Postfix/postgrey style MX: greylisting, relay denied,
                  RBL reject, SIZE 20480 (so Postfix itself refuses big mail),
                  mid-session disconnect, no reply after end-of-data
  2529 yahoo421   answers the connection with "421 4.7.0 [TSS04] ..." and hangs up
  2530 silent     accepts TCP, never sends a greeting
  2531 hangup     accepts TCP and closes it at once
  2532 selfsigned STARTTLS with the self-signed cert (for smtp_tls_security_level=verify)
  2533 notls      plain ESMTP without STARTTLS (for smtp_tls_security_level=encrypt)
  2534 authreq    offers AUTH PLAIN LOGIN, refuses every credential with 535 5.7.8,
                  refuses MAIL without AUTH with 530 5.7.0
  2535 apppass    like 2534, but refuses credentials with Gmail's 534 5.7.9 "Application-specific
                  password required"
  2536 relaydenied an Exchange-style submission host that refuses every recipient with
                  "550 5.7.54 SMTP; Unable to relay recipient in non-accepted domain"
  2537 sendas     Microsoft 365 (smtp.office365.com)-like: STARTTLS, AUTH accepts any credentials,
                  then refuses at end of DATA a MAIL FROM the user does not own (554 5.2.252 SendAsDenied)
  2538 implicit   implicit TLS (TLS from the first byte, like port 465 of smtp.gmail.com); a client
                  that waits for a clear-text greeting (plain or STARTTLS) gets none and times out
  465  implicit465 the same on the real SMTPS port, because clients and Postfix log the port they
                  used: a STARTTLS/plain client timing out on 465 is the classic TLS-mode mistake
  (2599 is intentionally left closed -> "Connection refused")

Usage:
  trouble_smtpd.py --cert cert.pem --key key.pem [--greylist-delay 20] [--transcript FILE]
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import random
import re
import ssl
import sys
import time

HOST = "127.0.0.1"  # never change: all traffic must stay on loopback

# --------------------------------------------------------------------------
# reply texts
# A reply is a list of lines without code prefix handling: each element is a
# full line *without* CRLF, written exactly as listed (multi-line replies use
# "550-5.1.1 ..." continuation lines like the real servers do).
# "{ip}" is replaced by the client IP, "{rcpt}" by the recipient, "{dom}" by
# the sender's domain, "{id}" by a random session id, "{ts}" by epoch seconds.
# --------------------------------------------------------------------------

# Gmail: https://support.google.com/a/answer/3726730 ("SMTP error reference")
# and real Gmail transcripts (lines wrapped at ~70 chars, "- gsmtp" trailer).
G = " {id} - gsmtp"
GMAIL = {
    "banner": ["220 mx.gmail-like.example ESMTP" + G],
    "ehlo_name": "mx.gmail-like.example at your service, [{ip}]",
    "size": 157286400,
    "ok": ["250 2.0.0 OK  {ts}" + G],
    "rcpt": {
        # Gmail 550 5.1.1 NoSuchUser
        "nouser": [
            "550-5.1.1 The email account that you tried to reach does not exist. Please try",
            "550-5.1.1 double-checking the recipient's email address for typos or",
            "550-5.1.1 unnecessary spaces. For more information, go to",
            "550 5.1.1  https://support.google.com/mail/?p=NoSuchUser" + G,
        ],
        # Gmail 452 4.2.2 OverQuotaTemp
        "overquota": [
            "452-4.2.2 The email account that you tried to reach is over quota. Please direct",
            "452-4.2.2 the recipient to",
            "452 4.2.2  https://support.google.com/mail/?p=OverQuotaTemp" + G,
        ],
        # Gmail 550 5.2.1 disabled account
        "disabled": [
            "550-5.2.1 The email account that you tried to reach is disabled. Learn more at",
            "550 5.2.1  https://support.google.com/mail/?p=DisabledUser" + G,
        ],
        # Gmail 450 4.2.1 recipient receiving mail too fast
        "toofast": [
            "450-4.2.1 The user you are trying to contact is receiving mail at a rate that",
            "450-4.2.1 prevents additional messages from being delivered. Please resend your",
            "450-4.2.1 message at a later time. If the user is able to receive mail at that",
            "450-4.2.1 time, your message will be delivered. For more information, go to",
            "450 4.2.1  https://support.google.com/mail/?p=ReceivingRate" + G,
        ],
        # Gmail 421 4.7.0 UnsolicitedRateLimitError (older wording, code 4.7.0),
        # sent at RCPT, then Gmail closes the connection
        "spamrate": ("close", [
            "421-4.7.0 [{ip}      15] Our system has detected an unusual rate of",
            "421-4.7.0 unsolicited mail originating from your IP address. To protect our",
            "421-4.7.0 users from spam, mail sent from your IP address has been temporarily",
            "421-4.7.0 rate limited. Please visit",
            "421-4.7.0  https://support.google.com/mail/?p=UnsolicitedRateLimitError to",
            "421 4.7.0 review our Bulk Email Senders Guidelines." + G,
        ]),
        # Gmail 421 4.7.28 (current wording of the IP rate limit)
        "ratelimit": ("close", [
            "421-4.7.28 [{ip}      15] Our system has detected an unusual rate of",
            "421-4.7.28 unsolicited mail originating from your IP address. To protect our",
            "421-4.7.28 users from spam, mail sent from your IP address has been temporarily",
            "421-4.7.28 rate limited. For more information, go to",
            "421 4.7.28  https://support.google.com/mail/?p=UnsolicitedRateLimitError" + G,
        ]),
        # Gmail 421 4.3.0 temporary system problem
        "sysproblem": [
            "421-4.3.0 Temporary System Problem.  Try again later (10). For more information,",
            "421 4.3.0 go to  https://support.google.com/a/answer/3221692" + G,
        ],
    },
    "data": {
        # Gmail 550 5.7.26 DMARC (https://support.google.com/mail/answer/2451690)
        "dmarc": [
            "550-5.7.26 Unauthenticated email from {dom} is not accepted due to",
            "550-5.7.26 domain's DMARC policy. Please contact the administrator of",
            "550-5.7.26 {dom} domain if this was a legitimate mail. Please visit",
            "550-5.7.26  https://support.google.com/mail/answer/2451690 to learn about the",
            "550 5.7.26 DMARC initiative." + G,
        ],
        # Gmail 550 5.7.1 UnsolicitedMessageError (multi-line 550-5.7.1 / 550 5.7.1)
        "spam": [
            "550-5.7.1 [{ip}      12] Our system has detected that this message is",
            "550-5.7.1 likely unsolicited mail. To reduce the amount of spam sent to Gmail,",
            "550-5.7.1 this message has been blocked. For more information, go to",
            "550 5.7.1  https://support.google.com/mail/?p=UnsolicitedMessageError" + G,
        ],
        # Gmail 552 5.2.3 MaxSizeError
        "toolarge": [
            "552-5.2.3 Your message exceeded Google's message size limits. For more",
            "552-5.2.3 information, go to",
            "552 5.2.3  https://support.google.com/mail/?p=MaxSizeError" + G,
        ],
        # Gmail 421 4.7.0 low reputation / suspicious, after DATA
        "suspicious": [
            "421-4.7.0 [{ip}      15] Our system has detected that this message is",
            "421-4.7.0 suspicious due to the very low reputation of the sending IP address.",
            "421-4.7.0 To protect our users from spam, mail sent from your IP address has",
            "421-4.7.0 been temporarily rate limited. For more information, go to",
            "421 4.7.0  https://support.google.com/mail/answer/188131" + G,
        ],
    },
}

# Microsoft: https://learn.microsoft.com/en-us/exchange/mail-flow-best-practices/
#   non-delivery-reports-in-exchange-online/non-delivery-reports-in-exchange-online
# and Outlook.com postmaster troubleshooting (S3150 / S2017 / S77714 texts).
MS_HOST = "[AM4PEPF00027A6C.eurprd04.prod.outlook-like.example {ts}]"
OUTLOOK = {
    "banner": ["220 AM4PEPF00027A6C.mail.protection.outlook-like.example Microsoft ESMTP MAIL Service ready at Fri, 27 Nov 2026 19:00:00 +0000"],
    "ehlo_name": "AM4PEPF00027A6C.mail.protection.outlook-like.example Hello [{ip}]",
    "size": 157286400,
    "ok": ["250 2.6.0 <{msgid}> [InternalId=4810363994{ts}, Hostname=AM9PR04MB8181.eurprd04.prod.outlook-like.example] 1234 bytes in 0.120, 10.028 KB/sec Queued mail for delivery"],
    "rcpt": {
        # Spamhaus listing as reported by Exchange Online Protection
        "spamhaus": [
            "550 5.7.1 Service unavailable, Client host [{ip}] blocked using Spamhaus. To request removal from this list see https://www.spamhaus.org/query/ip/{ip} AS(1450) " + MS_HOST,
        ],
        # Outlook.com consumer block list, S3150
        "s3150": [
            "550 5.7.1 Unfortunately, messages from [{ip}] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150). You can also refer your provider to http://mail.live.com/mail/troubleshooting.aspx#errors. [Name=Protocol Filter Agent][AGT=PFA][MxId=11B9B8F4A2C1D3E0] " + MS_HOST,
        ],
        # Outlook.com unknown mailbox, S2017
        "nouser": [
            "550 5.5.0 Requested action not taken: mailbox unavailable (S2017) " + MS_HOST,
        ],
        # Exchange Online directory based edge blocking
        "dbeb": [
            "550 5.4.1 Recipient address rejected: Access denied. For more information see https://aka.ms/EXOSmtpErrors AS(201806281) " + MS_HOST,
        ],
        # Outlook.com throttling, S77714
        "busy": [
            "451 4.7.500 Server busy. Please try again later from [{ip}]. (S77714) " + MS_HOST,
        ],
        # Exchange Online temporary mailbox-full reply
        "mailboxfull": [
            "452 4.2.2 The recipient's mailbox is full and can't accept messages now. Please try resending your message later, or contact the recipient directly. " + MS_HOST,
        ],
    },
    "data": {
        # Exchange Online: 550 5.7.509 DMARC reject
        "dmarc": [
            "550 5.7.509 Access denied, sending domain {dom} does not pass DMARC verification and has a DMARC policy of reject. " + MS_HOST,
        ],
        # Exchange Online 554 5.6.211 / 552 5.3.4 message too big
        "toolarge": [
            "552 5.3.4 Message size exceeds fixed maximum message size " + MS_HOST,
        ],
    },
}

# Yahoo: https://senders.yahooinc.com/smtp-error-codes/
YAHOO = {
    "banner": ["220 mta1012.mail.gq1.yahoo-like.example ESMTP ready"],
    "ehlo_name": "mta1012.mail.gq1.yahoo-like.example",
    "size": 41943040,
    "ok": ["250 ok dirdel"],
    "rcpt": {
        # Yahoo's classic unknown-user reply (note the odd "1" instead of an enhanced code)
        "nouser": ["552 1 Requested mail action aborted, mailbox not found"],
        # Yahoo TSS09 permanent deferral
        "tss09": ["553 5.7.2 [TSS09] All messages from {ip} will be permanently deferred; Retrying will NOT succeed. See https://senders.yahooinc.com/error-codes"],
        # Yahoo TS01 deferral for user complaints, then Yahoo closes the connection
        "ts01": ("close", ["421 4.7.0 [TS01] Messages from {ip} temporarily deferred due to user complaints - 4.16.56.1; see https://senders.yahooinc.com/error-codes"]),
        # Yahoo TSS04 at RCPT (usually at connect, see port 2529)
        "tss04": ("close", ["421 4.7.0 [TSS04] Messages from {ip} temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://senders.yahooinc.com/error-codes"]),
    },
    "data": {
        # Yahoo policy reject after DATA
        "policy": ["554 5.7.9 Message not accepted for policy reasons.  See https://senders.yahooinc.com/error-codes"],
        # Yahoo DMARC reject
        "dmarc": ["550 5.7.9 This mail has been blocked because the sender is unauthenticated. Yahoo requires all senders to authenticate with either SPF or DKIM."],
    },
}

YAHOO421 = {
    # Yahoo TSS04 in the greeting: Postfix logs "... refused to talk to me: 421 ..."
    "banner": ["421 4.7.0 [TSS04] Messages from {ip} temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://senders.yahooinc.com/error-codes"],
    "banner_close": True,
}

# A self-hosted Postfix + postgrey style MX (texts are Postfix's own reject
# texts from postconf(5)/smtpd(8) and postgrey's default greylist text).
GENERIC = {
    "banner": ["220 mx.example.net ESMTP Postfix"],
    "ehlo_name": "mx.example.net",
    "size": 20480,  # small on purpose: Postfix's client refuses larger mail itself
    "ok": ["250 2.0.0 Ok: queued as {qid}"],
    "rcpt": {
        # postgrey (http://postgrey.schweikert.ch/) - "greylist" is accepted
        # once greylist_delay seconds have passed since the first attempt
        "greylist": ("greylist", [
            "450 4.2.0 {rcpt}: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.net.html",
        ]),
        # Postfix reject_unauth_destination
        "relay": ["554 5.7.1 {rcpt}: Relay access denied"],
        # Postfix reject_unlisted_recipient (virtual)
        "nouser": ["550 5.1.1 {rcpt}: Recipient address rejected: User unknown in virtual mailbox table"],
        # Postfix reject_rbl_client zen.spamhaus.org
        "rbl": ["554 5.7.1 Service unavailable; Client host [{ip}] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/{ip}"],
        # Dovecot LMTP / quota style mailbox full
        "full": ["552 5.2.2 {rcpt}: Recipient address rejected: Mailbox full"],
        # Postfix temporary lookup failure
        "lookupfail": ["451 4.3.0 {rcpt}: Temporary lookup failure"],
        # Postfix greylisting via policy service returning DEFER
        "policydefer": ["450 4.7.1 {rcpt}: Recipient address rejected: Policy Rejection- Quota exceeded"],
        # drop the TCP connection while the client waits for the RCPT reply
        "drop": ("drop", []),
    },
    "data": {
        # Postfix's own text for message_size_limit
        "toolarge": ["552 5.3.4 Message size exceeds fixed limit"],
        # rspamd / amavis style content reject
        "virus": ["554 5.7.0 Reject, id=12345-01 - INFECTED: Eicar-Signature"],
        # never answer the end-of-data dot (client times out)
        "slowdata": ("silent", []),
        # close the connection instead of answering the dot
        "dropdata": ("drop", []),
        # temporary failure after data
        "tempfail": ["451 4.3.0 Error: queue file write error"],
    },
}

NOTLS = {
    "banner": ["220 legacy.notls.example.org ESMTP Sendmail 8.15.2/8.15.2; Fri, 27 Nov 2026 19:00:00 GMT"],
    "ehlo_name": "legacy.notls.example.org Hello [{ip}], pleased to meet you",
    "size": 10485760,
    "ok": ["250 2.0.0 4ARJ0Qx1012345 Message accepted for delivery"],
    "rcpt": {},
    "data": {},
}

AUTHREQ = {
    "banner": ["220 smtp.authfail.example.org ESMTP ready"],
    "ehlo_name": "smtp.authfail.example.org at your service, [{ip}]",
    "size": 35882577,
    "auth": True,
    "ok": ["250 2.0.0 OK  {ts}" + G],
    # Gmail's smtp.gmail.com BadCredentials text
    "auth_fail": [
        "535-5.7.8 Username and Password not accepted. For more information, go to",
        "535 5.7.8  https://support.google.com/mail/?p=BadCredentials" + G,
    ],
    # Gmail's smtp.gmail.com text for MAIL without AUTH
    "need_auth": [
        "530-5.7.0 Authentication Required. For more information, go to",
        "530 5.7.0  https://support.google.com/mail/?p=WantAuthError" + G,
    ],
    "rcpt": {},
    "data": {},
}

# Gmail (smtp.gmail.com) when the account has 2-step verification and the client sends the
# account password: https://support.google.com/mail/?p=InvalidSecondFactor
APPPASS = dict(AUTHREQ, auth_fail=[
    "534-5.7.9 Application-specific password required. Learn more at",
    "534 5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor" + G,
])

# Exchange / Exchange Online: anonymous submission to a domain the organisation does not accept.
# Text as Exchange sends it (listed in Sisimai's lib/Sisimai/Rhost/Microsoft.pm, norelaying, and
# Microsoft's NDR reference "Fix error code 550 5.7.54 SMTP; Unable to relay recipient in
# non-accepted domain": https://learn.microsoft.com/en-us/exchange/troubleshoot/email-delivery/).
# Every recipient gets it ("rcpt_any").
RELAYDENIED = {
    "banner": ["220 EXCH01.corp.contoso-like.example Microsoft ESMTP MAIL Service ready at Fri, 27 Nov 2026 19:00:00 +0000"],
    "ehlo_name": "EXCH01.corp.contoso-like.example Hello [{ip}]",
    "size": 37748736,
    "ok": ["250 2.6.0 <{msgid}> [InternalId=1, Hostname=EXCH01.corp.contoso-like.example] Queued mail for delivery"],
    "rcpt": {},
    "rcpt_any": ["550 5.7.54 SMTP; Unable to relay recipient in non-accepted domain"],
    "data": {},
}

# Microsoft 365 SMTP AUTH submission (smtp.office365.com:587) when the authenticated mailbox sends
# with a From it has no "Send As" right for. The reply comes after the end of DATA; text as
# Exchange Online writes it in public reports (e.g. smtplib "SMTPDataError: (554, b'5.2.252
# SendAsDenied; <user> not allowed to send as <from>')", sSMTP "554 5.2.0
# STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied; Failed to process
# message due to a permanent exception with message Cannot submit message."); Microsoft: "Fix
# email delivery issues for error code 5.2.252 SendAsDenied" (learn.microsoft.com, Exchange Online).
# AUTH succeeds ("235 2.7.0 Authentication successful", Exchange's text) for any credentials.
SENDAS = dict(OUTLOOK, rcpt={}, data={}, auth=True, auth_ok=["235 2.7.0 Authentication successful"],
              banner=["220 SN4PR0501CA0054.outlook.office365-like.example Microsoft ESMTP MAIL Service ready at Fri, 27 Nov 2026 19:00:00 +0000"],
              ehlo_name="SN4PR0501CA0054.outlook.office365-like.example Hello [{ip}]",
              need_auth=["530 5.7.57 Client not authenticated to send mail. [SN4PR0501CA0054.namprd05.prod.outlook-like.example]"],
              sendas_denied=[
                  "554 5.2.252 SendAsDenied; {user} not allowed to send as {from}; "
                  "STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied; "
                  "Failed to process message due to a permanent exception with message Cannot submit message. "
                  + MS_HOST])

# smtp.gmail.com:465 style implicit TLS: the listening socket starts TLS at once (the TLS session
# then speaks the Gmail dialogue). A clear-text client waits for a "220" that never comes, and the
# server waits for a ClientHello that never comes.
IMPLICIT = dict(GMAIL, implicit_tls=True, banner=["220 smtp.gmail-like.example ESMTP" + G])

PERSONAS = [
    # port, name, persona, starttls
    (2525, "gmail", GMAIL, True),
    (2526, "outlook", OUTLOOK, True),
    (2527, "yahoo", YAHOO, True),
    (2528, "generic", GENERIC, False),
    (2529, "yahoo421", YAHOO421, False),
    (2530, "silent", None, False),
    (2531, "hangup", None, False),
    (2532, "selfsigned", GMAIL, True),
    (2533, "notls", NOTLS, False),
    (2534, "authreq", AUTHREQ, False),
    (2535, "apppass", APPPASS, False),
    (2536, "relaydenied", RELAYDENIED, False),
    (2537, "sendas", SENDAS, True),
    (2538, "implicit", IMPLICIT, False),
    (465, "implicit465", IMPLICIT, False),
]

TRANSCRIPT = None
GREYLIST: dict[tuple[str, str], float] = {}
GREYLIST_DELAY = 20.0


def log(port, msg):
    if TRANSCRIPT:
        TRANSCRIPT.write(f"{time.strftime('%H:%M:%S')} :{port} {msg}\n")
        TRANSCRIPT.flush()


def rand_id():
    """Gmail-shaped session id, e.g. 'a2si1234567qkb.123'."""
    lower = "abcdefghijklmnopqrstuvwxyz"
    return (random.choice(lower) + str(random.randint(1, 99)) + "si"
            + str(random.randint(1000000, 9999999))
            + "".join(random.choice(lower) for _ in range(3))
            + "." + str(random.randint(100, 999)))


def b64text(data: str) -> str:
    try:
        return base64.b64decode(data.strip(), validate=False).decode("utf-8", "replace")
    except ValueError:
        return ""


def localpart(addr: str) -> str:
    addr = addr.strip().strip("<>")
    lp = addr.split("@", 1)[0].lower()
    return lp.split("+", 1)[0]


class Session:
    def __init__(self, port, persona, reader, writer, sslctx, starttls):
        self.port, self.p, self.r, self.w = port, persona, reader, writer
        self.sslctx, self.offer_tls = sslctx, starttls
        self.tls = bool(persona and persona.get("implicit_tls"))
        self.ip = writer.get_extra_info("peername")[0]
        self.authed = False
        self.user = ""  # the AUTH user, for personas that accept credentials
        self.reset()

    def reset(self):
        self.mail_from = None
        self.rcpts: list[str] = []

    def fmt(self, line, rcpt=""):
        dom = (self.mail_from or "").strip("<>").rpartition("@")[2] or "example.com"
        return (line.replace("{ip}", self.ip).replace("{rcpt}", rcpt)
                .replace("{user}", self.user).replace("{from}", (self.mail_from or "").strip("<>"))
                .replace("{dom}", dom).replace("{id}", rand_id())
                .replace("{ts}", str(int(time.time())))
                .replace("{msgid}", f"{random.randint(10**11, 10**12)}.{random.randint(1000, 9999)}@mx1.example.com")
                .replace("{qid}", "%X" % random.randint(0x10000000, 0xFFFFFFFF)))

    async def send(self, lines, rcpt=""):
        out = "".join(self.fmt(text, rcpt) + "\r\n" for text in lines)
        log(self.port, "S: " + out.replace("\r\n", " | "))
        self.w.write(out.encode())
        await self.w.drain()

    async def readline(self, timeout=300):
        line = await asyncio.wait_for(self.r.readline(), timeout)
        if not line:
            raise ConnectionError("client closed")
        return line.decode("utf-8", "replace").rstrip("\r\n")

    async def run(self):
        p = self.p
        await self.send(p["banner"])
        if p.get("banner_close"):
            # real servers that refuse in the greeting wait for QUIT, or just close
            try:
                line = await self.readline(10)
                log(self.port, "C: " + line)
                if line.upper().startswith("QUIT"):
                    await self.send(["221 2.0.0 Bye"])
            except Exception:
                pass
            return
        while True:
            line = await self.readline()
            log(self.port, "C: " + line)
            verb = line.split(" ", 1)[0].upper()
            arg = line[len(verb):].strip()
            if verb == "EHLO":
                self.reset()
                ext = [f"SIZE {p['size']}", "8BITMIME"]
                if self.offer_tls and not self.tls:
                    ext.append("STARTTLS")
                if p.get("auth"):
                    ext.append("AUTH LOGIN PLAIN")
                ext += ["ENHANCEDSTATUSCODES", "PIPELINING", "SMTPUTF8"]
                lines = ["250-" + p["ehlo_name"]] + ["250-" + e for e in ext[:-1]] + ["250 " + ext[-1]]
                await self.send(lines)
            elif verb == "HELO":
                await self.send(["250 " + p["ehlo_name"]])
            elif verb == "STARTTLS":
                if not self.offer_tls or self.tls:
                    await self.send(["502 5.5.1 Unrecognized command."])
                    continue
                await self.send(["220 2.0.0 Ready to start TLS"])
                await self.w.start_tls(self.sslctx)
                self.tls = True
                self.reset()
            elif verb == "AUTH":
                if not p.get("auth"):
                    await self.send(["502 5.5.1 Unrecognized command."])
                    continue
                mech = arg.split()[0].upper() if arg else ""
                user = ""
                if mech == "LOGIN":
                    await self.send(["334 " + base64.b64encode(b"Username:").decode()])
                    user = await self.readline()
                    log(self.port, "C: " + user)
                    await self.send(["334 " + base64.b64encode(b"Password:").decode()])
                    log(self.port, "C: " + await self.readline())
                    user = b64text(user)
                elif mech == "PLAIN":
                    if len(arg.split()) == 1:
                        await self.send(["334 "])
                        plain = await self.readline()
                        log(self.port, "C: " + plain)
                    else:
                        plain = arg.split()[1]
                    user = (b64text(plain).split("\0") + ["", ""])[1]
                if p.get("auth_ok"):
                    self.authed, self.user = True, user
                    await self.send(p["auth_ok"])
                else:
                    await self.send(p["auth_fail"])
            elif verb == "MAIL":
                if p.get("auth") and not self.authed:
                    await self.send(p["need_auth"])
                    continue
                m = re.search(r"SIZE=(\d+)", arg, re.I)
                if m and int(m.group(1)) > p["size"]:
                    await self.send(["552 5.3.4 Message size exceeds fixed maximum message size"])
                    continue
                self.mail_from = arg.split(":", 1)[1].split()[0] if ":" in arg else "<>"
                self.rcpts = []
                await self.send(["250 2.1.0 OK" + (G if p is GMAIL else "")])
            elif verb == "RCPT":
                if self.mail_from is None:
                    await self.send(["503 5.5.1 Error: need MAIL command"])
                    continue
                rcpt = arg.split(":", 1)[1].split()[0] if ":" in arg else arg
                rule = p["rcpt"].get(localpart(rcpt), p.get("rcpt_any"))
                if rule is None:
                    self.rcpts.append(rcpt)
                    await self.send(["250 2.1.5 OK" + (G if p is GMAIL else "")])
                elif isinstance(rule, tuple):
                    action, lines = rule
                    if action == "close":
                        await self.send(lines, rcpt)
                        return
                    if action == "drop":
                        log(self.port, "dropping connection")
                        return
                    if action == "greylist":
                        key = (self.mail_from.lower(), rcpt.lower())
                        first = GREYLIST.setdefault(key, time.time())
                        if time.time() - first >= GREYLIST_DELAY:
                            self.rcpts.append(rcpt)
                            await self.send(["250 2.1.5 Ok"])
                        else:
                            await self.send(lines, rcpt)
                else:
                    await self.send(rule, rcpt)
            elif verb == "DATA":
                if not self.rcpts:
                    await self.send(["554 5.5.1 Error: no valid recipients"])
                    continue
                await self.send(["354 Go ahead" + (G if p is GMAIL else "")])
                while True:
                    chunk = await self.r.readline()
                    if not chunk:
                        raise ConnectionError("client closed in DATA")
                    if chunk in (b".\r\n", b".\n"):
                        break
                reply = p["ok"]
                sender = (self.mail_from or "").strip("<>").lower()
                if p.get("sendas_denied") and self.user and sender != self.user.lower():
                    reply = p["sendas_denied"]
                for rc in self.rcpts:
                    rule = p["data"].get(localpart(rc))
                    if rule is not None:
                        reply = rule
                        break
                if isinstance(reply, tuple):
                    action, _ = reply
                    if action == "silent":
                        log(self.port, "not answering end of data")
                        await asyncio.sleep(3600)
                    return  # drop
                await self.send(reply)
                self.reset()
            elif verb == "RSET":
                self.reset()
                await self.send(["250 2.0.0 OK"])
            elif verb == "NOOP":
                await self.send(["250 2.0.0 OK"])
            elif verb == "QUIT":
                await self.send(["221 2.0.0 closing connection" + (G if p is GMAIL else "")])
                return
            else:
                await self.send(["502 5.5.1 Unrecognized command."])


def make_handler(port, name, persona, starttls, sslctx):
    async def handler(reader, writer):
        peer = writer.get_extra_info("peername")
        log(port, f"connect from {peer} ({name})")
        try:
            if name == "silent":
                await asyncio.sleep(3600)  # never greet
                return
            if name == "hangup":
                return  # close right after accept
            await Session(port, persona, reader, writer, sslctx, starttls).run()
        except (ConnectionError, asyncio.TimeoutError, ssl.SSLError, OSError) as e:
            log(port, f"session ended: {e!r}")
        except asyncio.CancelledError:
            pass
        finally:
            try:
                writer.close()
            except Exception:
                pass
            log(port, "disconnect")
    return handler


async def main():
    global TRANSCRIPT, GREYLIST_DELAY
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--greylist-delay", type=float, default=20.0)
    ap.add_argument("--transcript")
    a = ap.parse_args()
    GREYLIST_DELAY = a.greylist_delay
    if a.transcript:
        TRANSCRIPT = open(a.transcript, "a", buffering=1)
    sslctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sslctx.load_cert_chain(a.cert, a.key)
    servers = []
    for port, name, persona, starttls in PERSONAS:
        implicit = bool(persona and persona.get("implicit_tls"))
        srv = await asyncio.start_server(
            make_handler(port, name, persona, starttls, sslctx), HOST, port,
            ssl=sslctx if implicit else None)
        servers.append(srv)
        log(port, f"listening ({name})")
    print("trouble_smtpd ready on 127.0.0.1 ports "
          + ",".join(str(p[0]) for p in PERSONAS), flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
