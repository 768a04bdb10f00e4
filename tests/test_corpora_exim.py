"""Exim's own test-suite output and fail2ban's Exim logs (../shared/corpora, read in place).

Reports and asserts the share of exim/failures.tsv lines (and of fail2ban's exim logs) that become
failure rows or are deliberately ignored with a stated reason, and that no corpus line crashes the
parser. Run with -s to see the numbers.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest

from logscan.parsers.exim import PARSER
from logscan.pipeline import ScanOptions, scan

from conftest import make_context

pytestmark = pytest.mark.slow

# failures.tsv was cut from the test suite's logs with a wide net: it also holds arrivals,
# deliveries and "Completed" lines (flags <=, =>, ->, *>), which are not failures.
NOT_A_FAILURE = re.compile(r"^\S+ \S+ (?:\S+-\S+-\S+ )?(?:<=|=>|->|\*>|>>) |Completed$")


def _outcome(line: str, path: str = "mainlog") -> str:
    ctx = make_context(path)
    PARSER.parse([line], 1, ctx, PARSER.new_state())
    if ctx.rows:
        return "row"
    if sum(ctx.stats.ignored_reasons.values()):
        return "ignored with a reason"
    return "unparsed" if ctx.stats.unparsed else "not handled"


def test_failures_tsv(corpora):
    outcomes, missed = Counter(), []
    for raw in open(corpora / "exim" / "failures.tsv", encoding="utf-8", errors="replace"):
        where, line = raw.rstrip("\n").split("\t", 1)
        if NOT_A_FAILURE.search(line):
            outcomes["arrival/delivery line (not a failure)"] += 1
            continue
        o = _outcome(line)
        outcomes[o] += 1
        if o not in ("row", "ignored with a reason"):
            missed.append(f"{where}: {line[:150]}")
    total = sum(outcomes.values())
    handled = outcomes["row"] + outcomes["ignored with a reason"]
    considered = total - outcomes["arrival/delivery line (not a failure)"]
    print(f"\nexim/failures.tsv: {total} lines: {dict(outcomes)}")
    print(f"  failure lines handled: {handled}/{considered} = {100 * handled / considered:.1f}%")
    for m in missed:
        print("  MISSED", m)
    assert handled / considered >= 0.99


def test_fail2ban_exim_logs(corpora):
    for name in ("exim.log", "exim-spam.log"):
        outcomes = Counter()
        for line in open(corpora / "fail2ban" / name, encoding="utf-8", errors="replace"):
            line = line.rstrip("\n")
            if line and not line.startswith("#"):
                outcomes[_outcome(line)] += 1
        print(f"\nfail2ban/{name}: {dict(outcomes)}")
        assert outcomes["unparsed"] == 0


def test_whole_test_suite_logs_never_crash(corpora):
    r = scan([str(corpora / "exim" / "log"), str(corpora / "exim" / "rejectlog")],
             ScanOptions(forced_format="exim", workers=1))
    t = r.totals
    print(f"\nExim test-suite main and reject logs: {len(r.files)} files, {t}")
    assert t["failures"] > 2000


def test_paniclog_entries_are_server_errors(corpora, tmp_path):
    src = corpora / "exim" / "paniclog" / "0148"
    log = tmp_path / "paniclog"
    log.write_bytes(src.read_bytes())
    r = scan([str(log)], ScanOptions(workers=1))
    assert r.files[0].format == "exim"
    events = set(r.table.column("event").to_pylist())
    assert events == {"server_error"}
    assert r.files[0].unparsed == 0
