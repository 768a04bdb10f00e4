"""Block list evidence: the list and the listed IP only where the reply names them."""

from __future__ import annotations

import pytest

from logscan.reports.causes import blocklist_of, removal_page


@pytest.mark.parametrize("reply,expected", [
    # sisimai/diagnostics.jsonl:15 (Postfix reject through Amazon SES)
    ("554 5.7.1 <a8-95.smtp-out.amazonses.com[203.0.113.22]>: Client host rejected: blocked using "
     "mail.neko.example.org; Please see http://mail.neko.example.org/rbl/?ip=203.0.113.22 to send.",
     ("mail.neko.example.org", "203.0.113.22", "http://mail.neko.example.org/rbl/?ip=203.0.113.22")),
    # corpora exim/rejectlog/4116:1 (the reject text after the address)
    ("host is listed in rbl2.test.ex", ("rbl2.test.ex", None, None)),
    # sample_logs (the loopback server answering like Outlook.com)
    ("550 5.7.1 Unfortunately, messages from [127.0.0.1] weren't sent. Please contact your Internet service "
     "provider since part of their network is on our block list (S3150). You can also refer your provider to "
     "http://mail.live.com/mail/troubleshooting.aspx#errors.",
     ("block list (S3150)", "127.0.0.1", "http://mail.live.com/mail/troubleshooting.aspx#errors")),
    ("550 5.7.1 Message rejected as spam", (None, None, None)),  # names no list: none is guessed
])
def test_block_list_evidence_only_from_what_the_reply_names(reply, expected):
    assert blocklist_of(reply) == expected
    assert removal_page("zen.spamhaus.org") == "https://check.spamhaus.org/" and removal_page(None) is None
