"""The client libraries' software tables (logscan/knowledge/tables/<software>.toml): every failure
text a library can emit, with its category, read from the library's source. Each row is fed
through the whole engine as its parser fills the row (source = the table's source_format,
direction outbound, the text as diagnostic, the library's own error code, and the stage and reply
code where the row gives them) and must get the row's category. A row whose category is
"unknown" is a text that names no cause (a wrapper around a server reply that names none): it
must stay unknown, so that no rule invents a cause from the wrapper."""

from __future__ import annotations

import tomllib
from collections import Counter

import pytest

from logscan.engine import Engine

from conftest import REPO

TABLES = REPO / "logscan" / "knowledge" / "tables"
# The tables of the client libraries (the kb-providers tables of servers and providers are
# checked by their own test).
CLIENT_TABLES = ("nodemailer", "smtplib", "phpmailer", "javamail", "dotnet_mail", "mailkit", "symfony_mailer",
                 "swiftmailer", "ruby_net_smtp", "go_net_smtp", "msmtp")
ROW_KEYS = {"text", "error_code", "category", "note", "smtp_stage", "smtp_code", "event"}


def load_table(name: str) -> dict:
    return tomllib.loads((TABLES / f"{name}.toml").read_text(encoding="utf-8"))


def record(table: dict, row: dict) -> dict:
    """The failure-table fields the table's parser fills for this text."""
    rec = {"source": table["table"]["source_format"], "direction": "outbound", "diagnostic": row["text"],
           "error_code": row.get("error_code")}
    for key in ("smtp_stage", "smtp_code", "event"):
        if key in row:
            rec[key] = row[key]
    return rec


def misses(engine: Engine, name: str) -> list[str]:
    table = load_table(name)
    out = []
    for row in table["row"]:
        got = engine.classify(record(table, row))
        if got.category != row["category"]:
            out.append(f"{name}: {row['text']!r} ({row.get('error_code')}): {got.category} by "
                       f"{got.rule_id or 'no rule'}, table says {row['category']}")
    return out


def coverage(engine: Engine) -> dict[str, tuple[int, int]]:
    """Per table: (rows classified as the table says, rows)."""
    return {name: (len(load_table(name)["row"]) - len(misses(engine, name)), len(load_table(name)["row"]))
            for name in CLIENT_TABLES}


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.load()


@pytest.mark.parametrize("name", CLIENT_TABLES)
def test_table_is_well_formed(name, engine):
    table = load_table(name)
    head = table["table"]
    assert head["id"] == name and head["kind"] == "software" and head["title"] and head["source"]
    assert head["source_format"]
    texts = Counter((r["text"], r.get("error_code")) for r in table["row"])
    assert [t for t, n in texts.items() if n > 1] == [], "a text is listed twice"
    for row in table["row"]:
        assert set(row) <= ROW_KEYS, row
        assert row["text"] and row["category"] in engine.categories, row


@pytest.mark.parametrize("name", CLIENT_TABLES)
def test_every_row_gets_its_category(name, engine):
    assert misses(engine, name) == []
