"""One generic test for every parser: each declared real sample line must yield exactly the row
it declares (or be ignored with its stated reason). A new format needs no new test code."""

from __future__ import annotations

import pytest

from logscan.engine import Engine
from logscan.fastpath import RUST_PARSERS
from logscan.parsers import MODULES

from conftest import corpus_line, make_context

CASES = [(m.PARSER, i, s) for m in MODULES for i, s in enumerate(m.SAMPLES)]
# the compiled engine of a format (logscan/fastpath.py), where it is built, meets the same samples
CASES += [(RUST_PARSERS[p.name], i, s) for p, i, s in CASES if p.name in RUST_PARSERS]
IDS = [f"{p.name}{'-rust' if p in RUST_PARSERS.values() else ''}-{i}" for p, i, _ in CASES]
ENGINE = Engine.load()


def _resolve(text: str) -> str:
    return corpus_line(text[4:]) if text.startswith("ref:") else text


@pytest.mark.parametrize("parser,index,sample", CASES, ids=IDS)
def test_sample(parser, index, sample):
    line = corpus_line(sample.ref) if sample.ref else sample.line
    assert line, "a sample needs a line or a ref"
    assert (sample.expect is None) != (sample.ignore is None), "a sample either expects a row or is ignored"
    ctx = make_context()
    state = parser.new_state()
    context = [_resolve(c) for c in sample.context]
    if context:
        parser.parse(context, 1, ctx, state)
    before_rows, before_unparsed = len(ctx.rows), ctx.stats.unparsed
    before_reasons = dict(ctx.stats.ignored_reasons)
    parser.parse([line], len(context) + 1, ctx, state)
    parser.finish(ctx, state)  # parsers with multi-line records emit at the end of a record
    new = ctx.rows[before_rows:]
    assert ctx.stats.unparsed == before_unparsed, f"line was not understood: {line}"
    if sample.ignore is not None:
        assert new == [], f"expected no failure row, got {new}"
        if sample.ignore:
            assert ctx.stats.ignored_reasons.get(sample.ignore, 0) == before_reasons.get(sample.ignore, 0) + 1
        return
    assert len(new) == 1, f"expected exactly one failure row, got {len(new)}"
    row = dict(new[0])
    if "category" in sample.expect:
        row["category"] = ENGINE.classify(row).category
    if "last_deferral_category" in sample.expect:
        last = ENGINE.last_deferral(row)
        row["last_deferral_category"] = last.category if last else None
    for field, want in sample.expect.items():
        assert row.get(field) == want, f"{field}: want {want!r}, got {row.get(field)!r}\n{line}"
    # a record spanning lines (a traceback, an Error dump) is cited by its first line
    assert row["time"] is not None and row["line"] in [line, *context]


def test_every_parser_has_samples():
    for m in MODULES:
        assert any(s.expect for s in m.SAMPLES), f"{m.PARSER.name} declares no failure sample"
        assert any(s.ignore is not None for s in m.SAMPLES), f"{m.PARSER.name} declares no ignored sample"
