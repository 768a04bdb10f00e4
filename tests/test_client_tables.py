"""The client libraries' software tables (logscan/knowledge/tables/<software>.toml): every failure
text a library can emit, with its category, read from the library's source. tests/test_tables.py
runs every row of every table through the whole engine (logscan.coverage.record fills it as the
table's parser would: source = the table's source_format, the library's own error code, the stage
and reply code where the row gives them); here, what a software table must say besides."""

from __future__ import annotations

import pytest

from logscan.coverage import load_tables
from logscan.parsers import REGISTRY

CLIENT_TABLES = ("nodemailer", "smtplib", "phpmailer", "javamail", "dotnet_mail", "mailkit", "symfony_mailer",
                 "swiftmailer", "ruby_net_smtp", "go_net_smtp", "msmtp")
TABLES = {t.id: t for t in load_tables()}


@pytest.mark.parametrize("name", CLIENT_TABLES)
def test_software_table_names_its_format_and_has_no_twice_listed_text(name):
    table = TABLES[name]
    assert table.kind == "software" and table.source_format
    # the format the texts are read in (MailKit and Microsoft's .NET are read as .NET's, JavaMail's as javamail)
    assert table.source_format in REGISTRY, table.source_format
    texts = [(r.text, r.error_code) for r in table.rows]
    assert len(texts) == len(set(texts)), "a text is listed twice"


def test_texts_that_name_no_cause_stay_unknown_and_are_counted():
    """A wrapper around a server reply that names no cause must stay unknown: no rule invents one."""
    no_cause = sum(r.category == "unknown" for name in CLIENT_TABLES for r in TABLES[name].rows)
    assert no_cause > 200
