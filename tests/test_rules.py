"""Every rule's examples, run through the whole engine (so one rule shadowing another fails here)."""

from __future__ import annotations

import pytest

from logscan.engine import Engine, example_failures, load_categories, load_rule_file
from logscan.errors import RuleError


def test_every_rule_example_is_classified_by_its_rule():
    assert example_failures(Engine.load()) == []


def test_rules_name_known_categories_and_unique_ids():
    engine = Engine.load()
    ids = [r.id for r in engine.rules]
    assert len(ids) == len(set(ids))
    assert all(r.category in engine.categories for r in engine.rules)
    assert all(r.references for r in engine.rules), "every rule cites where its pattern comes from"


def test_categories_have_remediation():
    for cat in load_categories().values():
        assert cat.title and cat.description and cat.remediation, cat.id


def test_precedence_text_before_status_code():
    # A 5.7.1 is a block list, a relay denial or spam depending on the text: text wins.
    engine = Engine.load()
    v = engine.classify({"diagnostic": "554 5.7.1 <a@b.example>: Relay access denied", "enhanced_status": "5.7.1"})
    assert (v.category, v.rule_id) == ("relay_denied", "POL001")
    v = engine.classify({"diagnostic": "550 5.1.1 something odd", "enhanced_status": "5.1.1"})
    assert v.rule_id == "STA001"
    assert engine.classify({"diagnostic": "250 all fine?"}).category == "unknown"


def test_user_rules_come_first(tmp_path):
    f = tmp_path / "mine.toml"
    f.write_text(
        '[[rule]]\nid = "MY001"\ncategory = "blocklisted"\ntitle = "Our relay calls this a block"\n'
        "diagnostic = 'Relay access denied'\nreferences = [\"ours\"]\n"
        'examples.match = ["554 5.7.1 Relay access denied"]\n'
    )
    engine = Engine.load([f])
    assert engine.classify({"diagnostic": "554 5.7.1 Relay access denied"}).rule_id == "MY001"
    assert example_failures(engine, only={f}) == []


@pytest.mark.parametrize("text,error", [
    ('[[rule]]\nid = "X1"\ncategory = "nope"\ntitle = "t"\nexamples.match = ["x"]\n', "unknown category"),
    ('[[rule]]\nid = "X1"\ncategory = "unknown"\ntitle = "t"\ndiagnostic = "("\n', "bad regex"),
    ('[[rule]]\nid = "X1"\ncategory = "unknown"\ntitle = "t"\nsurprise = 1\n', "unknown keys"),
    ("[[rule]\n", "cannot read"),
])
def test_bad_rule_files_are_clear_errors(tmp_path, text, error):
    f = tmp_path / "bad.toml"
    f.write_text(text)
    with pytest.raises(RuleError, match=error):
        Engine.load([f])


def test_hostile_text_cannot_stall_a_rule():
    rule = load_rule_file("t.toml", '[[rule]]\nid = "T1"\ncategory = "unknown"\ntitle = "t"\n'
                                    "diagnostic = '(a+)+$'\n")[0]
    assert rule.matches({"signature": "a" * 5000 + "!"}) is None  # times out -> no match, no hang


def test_category_text_falls_back_to_english():
    from logscan.engine import _category

    c = _category("x", {"family": "config", "title": "T", "description": "D", "remediation": ["a"],
                        "title_zh": "标题"})
    assert c.text("title", "zh") == "标题"
    assert c.text("remediation", "zh") == ("a",)
    assert c.text("description") == "D"
