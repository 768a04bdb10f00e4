"""Fuzzing every parser, the rule engine and the report with mutated real lines (hypothesis).

Seeds are real lines: every parser's declared samples (with their context lines) and windows of the
bundled sample logs (sample_logs/<format>/, written by the real software). A case is a few
consecutive seed lines, some mutated (byte flips, truncations, ASCII digits swapped for Unicode
ones, huge numbers, a piece repeated, text inserted, a piece of another line spliced in), written as
one file's bytes and read the way a scan reads it: the pipeline's reader (decoding, the line cap),
the parser, the Arrow tables and the rules. Every case must keep the line accounting (lines =
failures + ignored + unparsed), build its table, classify it, and raise nothing, not even an
exception the pipeline would catch (a caught parser error is a bug too: it is counted by reason).

The CI run is short and fixed (derandomized: the same cases every run, a few seconds). A long run:

    LOGSCAN_FUZZ_EXAMPLES=150000 nice .venv/bin/pytest tests/test_fuzz.py -s

runs that many cases (files) per target (7 parsers; the report gets 1 in 1,000 of them, each the
report of a mutated file of every format) with a random seed each run, and prints the case count
per target (and every 10,000 cases). A failure prints the smallest case hypothesis found: make it a
regression line in tests/test_hostile_lines.py (or a sample of the parser) before fixing it.
"""

from __future__ import annotations

import gzip
import io
import os

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logscan.engine import Engine, load_categories
from logscan.parsers import MODULES, REGISTRY
from logscan.pipeline import _Collector, _read_into
from logscan.reports.build import ReportOptions, build_reports, file_rows
from logscan.schema import EVENTS, plain_arrow_schema

from conftest import SAMPLE_LOGS, make_context

LONG = int(os.environ.get("LOGSCAN_FUZZ_EXAMPLES", "0"))
CASES = LONG or 60
# A long run draws its files in batches (hypothesis' own cost per example is several times a case's);
# the CI run draws one file per example, so that a failure shrinks to the smallest file.
BATCH = 25 if LONG else 1
SETTINGS = settings(max_examples=max(1, CASES // BATCH), derandomize=not LONG, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))
ENGINE = Engine.load()
WINDOW = 6
# Digits str.isdigit() / int() / \d accept besides 0-9 (superscripts, fullwidth, Arabic-Indic, ...)
UNICODE_DIGITS = "²³⁵⁰¹１２９١٢٣۴५০๓߀"


def _seed_lines(fmt: str) -> list[list[str]]:
    """Groups of consecutive real lines of one format: each sample with its context, and windows
    of the bundled sample logs."""
    module = next(m for m in MODULES if m.PARSER.name == fmt)
    groups = [[*s.context, s.line] for s in module.SAMPLES if s.line and not any(c.startswith("ref:") for c in s.context)]
    for path in sorted((SAMPLE_LOGS / fmt).rglob("*")):
        if not path.is_file() or path.name == "README.md":
            continue
        data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        lines = data.decode("utf-8", "replace").splitlines()
        groups += [lines[i:i + WINDOW] for i in range(0, max(1, len(lines) - WINDOW + 1), 2)]
    return [g for g in groups if g]


SEEDS = {fmt: _seed_lines(fmt) for fmt in REGISTRY}
OPS = st.lists(st.sampled_from(("flip", "truncate", "digits", "huge", "repeat", "insert", "splice")), max_size=3)
DIGIT_PICKS = st.lists(st.integers(0, len(UNICODE_DIGITS) - 1), min_size=1, max_size=4)


@st.composite
def mutated_line(draw, line: str, others: list[str]) -> bytes:
    data = bytearray(line.encode())
    for op in draw(OPS):
        n = len(data)
        pos = draw(st.integers(0, n))
        if op == "flip" and n:
            data[min(pos, n - 1)] = draw(st.integers(0, 255))
        elif op == "truncate":
            del data[pos:]
        elif op in ("digits", "huge"):
            text = data.decode("utf-8", "replace")
            digits = [i for i, c in enumerate(text) if c in "0123456789"]
            if digits:
                i = digits[draw(st.integers(0, len(digits) - 1))]
                j = i
                while j < len(text) and text[j] in "0123456789":
                    j += 1
                new = ("".join(UNICODE_DIGITS[k] for k in draw(DIGIT_PICKS)) if op == "digits"
                       else "9" * draw(st.integers(6, 40)))
                data = bytearray((text[:i] + new + text[j:]).encode())
        elif op == "repeat" and n:
            width = draw(st.integers(1, 40))
            piece = data[pos:pos + width] or data[-width:]
            data[pos:pos] = piece * draw(st.integers(2, 400))
        elif op == "insert":
            data[pos:pos] = draw(st.text(max_size=20)).encode("utf-8", "surrogatepass")
        elif op == "splice" and others:
            other = others[draw(st.integers(0, len(others) - 1))].encode()
            a = draw(st.integers(0, len(other)))
            data[pos:pos] = other[a:a + draw(st.integers(1, 200))]
    return bytes(data)


@st.composite
def log_file(draw, fmt: str) -> bytes:
    """A file's bytes: a few consecutive real lines of the format, some of them mutated."""
    # indices, not sampled_from(): hypothesis would hash the whole seed list at every draw
    group = SEEDS[fmt][draw(st.integers(0, len(SEEDS[fmt]) - 1))]
    start = draw(st.integers(0, len(group) - 1))
    lines = group[start:start + draw(st.integers(1, WINDOW))]
    out = []
    for line in lines:
        out.append(draw(mutated_line(line, group)) if draw(st.booleans()) else line.encode())
    return b"\n".join(out) + (b"\n" if draw(st.booleans()) else b"")


def check_file(fmt: str, data: bytes, path: str = "fuzz.log"):
    """Read one file's bytes as a scan would; the accounting must hold and nothing may escape."""
    parser = REGISTRY[fmt]
    ctx = make_context(path)
    state = parser.new_state()
    tables = []
    out = _Collector(lambda t: tables.append(ENGINE.classify_table(t)))
    _read_into(parser, io.BytesIO(data), ctx, state, None, out)
    st_ = ctx.stats
    expected_lines = data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
    assert st_.lines == expected_lines
    assert st_.lines == st_.failures + st_.ignored + st_.unparsed and st_.ignored >= 0
    assert not st_.unparsed_reasons, f"a parser raised: {dict(st_.unparsed_reasons)}"
    # a failure line gives one row, or several (Sendmail's to= list, PHPMailer messages glued on one line)
    assert sum(t.num_rows for t in tables) >= st_.failures and (st_.failures > 0) == any(t.num_rows for t in tables)
    for t in tables:
        assert set(t.column("event").to_pylist()) <= set(EVENTS)
        assert None not in t.column("category").to_pylist()
    return st_, tables


COUNTS: dict[str, int] = {}


@pytest.mark.parametrize("fmt", sorted(REGISTRY))
def test_fuzz_parser(fmt):
    COUNTS[fmt] = 0

    @SETTINGS
    @given(files=st.lists(log_file(fmt), min_size=BATCH, max_size=BATCH), panic=st.booleans())
    def run(files, panic):
        for data in files:
            COUNTS[fmt] += 1
            check_file(fmt, data, "paniclog" if panic and fmt == "exim" else "fuzz.log")
            if LONG and COUNTS[fmt] % 10_000 == 0:
                print(f"fuzz {fmt}: {COUNTS[fmt]} cases", flush=True)

    run()
    print(f"\nfuzz {fmt}: {COUNTS[fmt]} cases")
    assert COUNTS[fmt] >= min(CASES, 10)


@pytest.mark.slow
def test_fuzz_report(tmp_path_factory):
    """The report (one page, or pages per day; redacted or not) over the failures of a mutated file
    of every format: written, nothing raised."""
    COUNTS["report"] = 0

    @settings(SETTINGS, max_examples=max(4, CASES // 1000))
    @given(files=st.fixed_dictionaries({fmt: log_file(fmt) for fmt in sorted(REGISTRY)}),
           period=st.sampled_from((None, "day")), redact=st.booleans())
    def run(files, period, redact):
        COUNTS["report"] += 1
        stats, tables = [], []
        for fmt, data in files.items():
            st_, t = check_file(fmt, data, f"/var/log/{fmt}.log")
            stats.append(st_)
            tables += t
        table = pa.concat_tables(tables) if tables else pa.Table.from_batches([], plain_arrow_schema())
        out = tmp_path_factory.mktemp("report")
        page = build_reports(table, file_rows(stats), [], out, ReportOptions(period=period, redact=redact, force=True),
                             load_categories())
        assert page.stat().st_size > 0

    run()
    print(f"\nfuzz report: {COUNTS['report']} cases")
