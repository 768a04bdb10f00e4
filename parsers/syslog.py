"""The syslog line prefix shared by the formats that log through syslog (Postfix, Exim via syslog).

    Nov  1 00:00:00 mx1 postfix/smtp[4300]: <message>                 classic (RFC 3164 style)
    Mar 7 02:09:33 server postfix/smtpd[27246]: <message>              unpadded day (fail2ban corpus)
    2026-11-27T19:20:01.123456+00:00 mx1 postfix/smtp[4300]: <message> RSYSLOG_FileFormat (Lightmeter corpus)
    2026-11-27T19:20:01+0000 mx1 postfix/smtp[4300]: <message>         journalctl -o short-iso

The program tag is anything up to '[' or ':' (postfix/smtp, postfix-10.20.30.40/smtp,
postfix/submission/smtpd, a custom syslog_name); the pid is optional (bare `postfix:`).
"""

from __future__ import annotations

import re

# Bounded quantifiers only: a hostile line cannot make this match take super-linear time.
PREFIX = re.compile(
    r"(?P<stamp>[A-Z][a-z]{2} {1,2}\d{1,2} \d\d:\d\d:\d\d(?:\.\d{1,9})?"
    r"|\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:?\d\d)?)"
    r" (?P<host>[^\s]{1,255}) (?P<prog>[^\s\[:]{1,128})(?:\[(?P<pid>\d{1,10})\])?: "
)

