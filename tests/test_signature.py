"""Signatures mask what varies between recurrences (addresses, IPs, queue and session ids) and keep
what the rules read (reply codes, words, host and block-list names)."""

from __future__ import annotations

import pytest

from logscan.engine import Engine
from logscan.signature import signature_of


@pytest.mark.parametrize(("text", "expected"), [
    # Block-list zones and provider hosts with digits in a label stay readable.
    ("blocked using dnsbl-1.uceprotect.net; IP 192.0.2.1 is UCEPROTECT-Level1 listed.",
     "blocked using dnsbl-1.uceprotect.net; IP <ip> is UCEPROTECT-Level1 listed."),
    ("554-gmx.net (mxgmx104) Nemesis ESMTP", "554-gmx.net (mxgmx104) Nemesis ESMTP"),
    # Inside a host name, a label that is an id is masked and the provider's domain kept: the
    # Exchange Online server name varies from reply to reply.
    ("Access denied [AM4PEPF00027A6C.eurprd04.prod.outlook.com]", "Access denied [<id>.eurprd04.prod.outlook.com]"),
    ("[BN8NAM12FT012.eop-nam12.prod.protection.outlook.com]", "[<id>.eop-nam12.prod.protection.outlook.com]"),
    ("host mail-pf1-f206.google.com said", "host <id>.google.com said"),
    # Session and queue ids are still masked: a Gmail session id ends in digits, not a TLD.
    ("421 4.7.0 Try again later, closing connection. (EHLO) a2si1234567qkb.123 - gsmtp",
     "421 4.7.0 Try again later, closing connection. (EHLO) <id> - gsmtp"),
    ("550 5.1.1 https://support.google.com/mail/?p=NoSuchUser t54si6450324ujw.805 - gsmtp",
     "550 5.1.1 https://support.google.com/mail/?p=NoSuchUser <id> - gsmtp"),
    ("queued as 4Xyz1234AbcdEfgh", "queued as <id>"),  # Postfix long queue id
    ("queued as 3F1C5A1B2C3", "queued as <id>"),  # Postfix short (hex) queue id
    ("message 1abcDE-000123-AB frozen", "message <id> frozen"),  # Exim message id
    ("message 10HmaX-000000005vi-0000 frozen", "message <id> frozen"),  # Exim 4.97+ message id
    ("451 DT:SPM 163 mx13,P8CowECpNVM_oEVaenoEAQ--.23796S3 1514512449, please try again 15min later",
     "451 DT:SPM 163 mx13,<id> <n>, please try again 15min later"),
])
def test_signature_masks_ids_and_keeps_names(text, expected):
    assert signature_of(text) == expected


def test_a_block_list_zone_is_evidence_a_rule_can_match():
    # Before domain names were kept, "dnsbl-1.uceprotect.net" became "<id>" and no rule saw it.
    v = Engine.load().classify({"diagnostic": "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using "
                                              "dnsbl-1.uceprotect.net", "direction": "outbound"})
    assert (v.category, v.rule_id) == ("blocklisted", "BLK004")
