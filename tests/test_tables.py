"""Every row of every published table (logscan/knowledge/tables/*.toml) through the whole engine.

A row is the provider's or program's own wording with the category it means; it is classified as
the record a logscan parser writes for that reply (logscan.coverage.record). A row no rule gives its
category fails here, named with the category it got.
"""

import re

import pytest

from logscan.coverage import coverage, load_table, load_tables, record, totals
from logscan.engine import Engine, load_categories
from logscan.errors import RuleError

TABLES = load_tables()


def test_the_tables_are_found_and_of_a_known_kind():
    assert {"gmail", "microsoft365"} <= {t.id for t in TABLES}
    assert all(t.kind in ("provider", "software") for t in TABLES)


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.id)
def test_table_names_its_source_and_real_categories(table):
    if table.kind == "provider":
        assert table.source.startswith(("http://", "https://")), f"{table.id}: source must be the page's address"
    else:  # a program's texts: the source files and the version they were read at
        assert re.search(r"[0-9]+\.[0-9]+", table.source), f"{table.id}: name the source's version"
    assert table.origin.endswith(f"/{table.id}.toml"), "the id is the file name without .toml"
    categories = set(load_categories())
    bad = [r.label() for r in table.rows if r.category not in categories]
    assert bad == [], f"{table.id}: rows with a category that does not exist"
    assert len({(r.code, r.status, r.text, r.stage, r.relay_host, r.error_code) for r in table.rows}) == len(table.rows), \
        f"{table.id}: a row is recorded twice"


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.id)
def test_every_row_gets_its_category(table):
    [result] = coverage(Engine.load(), [table])
    misses = [f"{m.row.label()[:100]!r}: expected {m.row.category}, got {m.got} ({m.rule_id or 'no rule'})"
              for m in result.wrong + result.unknown]
    assert misses == []
    assert result.right == result.rows


def test_record_is_what_a_parser_fills():
    table = load_table("t.toml", '[table]\nid = "t"\nkind = "provider"\ntitle = "T"\nsource = "https://x"\n'
                                 'relay_host = "mx.example.net"\n[[row]]\ncode = 452\nstatus = "4.2.2"\n'
                                 'text = "Mailbox full"\ncategory = "mailbox_full"\nstage = "RCPT TO"\n')
    rec = record(table, table.rows[0])
    assert rec == {"diagnostic": "452 4.2.2 Mailbox full", "smtp_code": 452, "enhanced_status": "4.2.2",
                   "smtp_stage": "RCPT TO", "relay_host": "mx.example.net", "direction": "outbound",
                   "event": "deferred"}
    [result] = coverage(Engine.load(), [table])
    assert (result.right, totals([result])["rows"]) == (1, 1)


@pytest.mark.parametrize("text, error", [
    ('[[row]]\ntext = "x"\ncategory = "unknown"\n', "[table] header"),
    ('[table]\nid = "t"\nkind = "vendor"\ntitle = "T"\nsource = "https://x"\n[[row]]\ntext = "x"\ncategory = "unknown"\n',
     "kind must be"),
    ('[table]\nid = "t"\nkind = "provider"\ntitle = "T"\n[[row]]\ntext = "x"\ncategory = "unknown"\n', "needs 'source'"),
    ('[table]\nid = "t"\nkind = "provider"\ntitle = "T"\nsource = "https://x"\n[[row]]\ntext = "x"\ncateg = "a"\n',
     "unknown keys"),
    ('[table]\nid = "t"\nkind = "provider"\ntitle = "T"\nsource = "https://x"\n[[row]]\ncode = 55\ntext = "x"\n'
     'category = "unknown"\n', "SMTP reply code"),
])
def test_malformed_tables_are_clear_errors(text, error):
    with pytest.raises(RuleError, match=error.replace("[", r"\[").replace("]", r"\]")):
        load_table("t.toml", text)


def test_rules_coverage_command(tmp_path):
    import json

    from typer.testing import CliRunner

    from logscan.cli import app

    runner = CliRunner()
    text = runner.invoke(app, ["rules", "coverage"])
    assert text.exit_code == 0, text.output
    assert "gmail" in text.output and "total (" in text.output
    out = runner.invoke(app, ["rules", "coverage", "--json", "--list"])
    data = json.loads(out.output)
    assert data["total"]["rows"] == sum(t["rows"] for t in data["tables"]) == sum(len(t.rows) for t in TABLES)
    # provider pages and programs' texts are counted apart, and the two add up to the total
    assert set(data["by_kind"]) == {"provider", "software"}
    for key in ("tables", "rows", "right", "wrong", "unknown"):
        assert sum(k[key] for k in data["by_kind"].values()) == data["total"][key]
    assert data["by_kind"]["software"]["rows"] == sum(len(t.rows) for t in TABLES if t.kind == "software")
    assert "provider (" in text.output and "software (" in text.output
    assert all(t["misses"] == [] for t in data["tables"])
    # a user rule that shadows a row shows as a miss, named by --list
    rule = tmp_path / "r.toml"
    rule.write_text('[[rule]]\nid = "X1"\ncategory = "spam_detected"\ntitle = "t"\ndiagnostic = "does not exist"\n'
                    'examples.match = ["does not exist"]\n', encoding="utf-8")
    listed = runner.invoke(app, ["rules", "coverage", "--list", "--rules", str(rule)])
    assert listed.exit_code == 0
    assert "expected recipient_unknown, got spam_detected (X1)" in listed.output
