"""logscan's root causes against Sisimai's verdicts on real bounces (tools/agreement/sisimai.py).

The floors are the figures measured when the rules last changed: they may only go up. Run
`python tools/agreement/sisimai.py --list` to see every disagreement.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from conftest import CORPORA, REPO, agreement_tool

AGREEMENT_FLOOR = 0.878  # agree / judged (290/330 measured), rounded down to 0.1%
AGREEMENT_OR_REVIEWED_FLOOR = 0.966  # (agree + reviewed) / judged (319/330)
ABSTAIN_CEILING = 11  # rows where logscan says unknown because the reply names no cause: may only go down


def _tool():
    return agreement_tool("sisimai")


def test_mapping_doc_shows_the_mapping_in_use():
    doc = (REPO / "docs" / "sisimai-mapping.md").read_text(encoding="utf-8")
    assert _tool().mapping_markdown() in doc, "run `python tools/agreement/sisimai.py --mapping` and paste it"


@pytest.mark.slow
def test_agreement_with_sisimai_does_not_drop():
    corpus = CORPORA / "sisimai" / "diagnostics.jsonl"
    if not corpus.exists():
        pytest.skip("../shared/corpora/sisimai not present")
    tool = _tool()
    result = tool.measure(corpus)
    print(f"\nSisimai agreement: {result.count('agree')}/{result.judged} = {100 * result.agreement:.1f}%, "
          f"with reviewed: {100 * result.agreement_with_reviewed:.1f}%")
    assert result.judged >= 300
    assert result.agreement >= AGREEMENT_FLOOR
    assert result.agreement_with_reviewed >= AGREEMENT_OR_REVIEWED_FLOOR
    assert result.stale_reviews(tool.load_reviewed()) == [], "a reviewed disagreement no longer occurs"
    abstain = tool.load_reviewed(table="abstain")
    assert result.stale_reviews(abstain, "abstain") == [], "an abstention is no longer unknown: review it"
    assert result.count("abstain") == len(abstain) <= ABSTAIN_CEILING
    assert result.count("disagree") == 0, "every disagreement is reviewed: logscan right, or abstaining with a why"


def test_abstentions_quote_whole_replies_that_stay_unknown(tmp_path):
    """Each [[abstain]] entry quotes the whole reply (its sha1 is the key), and the script counts it
    as an abstention, with its why, never as agreement."""
    tool = _tool()
    abstain = tool.load_reviewed(table="abstain")
    assert abstain
    rows = []
    for key, e in abstain.items():
        file, _, digest = key.rpartition("#")
        assert hashlib.sha1(e["text"].encode("utf-8")).hexdigest()[:8] == digest, key
        rows.append({"file": file, "reason": e["sisimai"], "diagnosticcode": e["text"]})
    corpus = tmp_path / "diagnostics.jsonl"
    corpus.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    result = tool.measure(corpus)
    assert [c.verdict for c in result.cases] == ["abstain"] * len(rows)
    assert all(c.category == "unknown" and c.why == abstain[c.key]["why"] for c in result.cases)
    assert result.count("agree") == 0 and result.agreement == 0.0
