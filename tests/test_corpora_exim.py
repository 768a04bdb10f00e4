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


def test_sa_exim_notes_are_no_rejections(corpora):
    """SA-Exim's "SA: Action:" lines (sa-exim.c) are notes: of accepted mail, or of a refusal whose
    failure row is Exim's own "rejected by local_scan()" line (receive.c). The three real ones of
    fail2ban's exim-spam.log, and the texts sa-exim.c's log_write() calls give the other actions
    (its format strings with values filled in; no log of those is in the corpora)."""
    spam = (corpora / "fail2ban" / "exim-spam.log").read_text().splitlines()
    real = [x for x in spam if " SA: Action: " in x]
    assert len(real) == 3
    mid, tail = "2013-12-30 00:24:50 1VxPit-000MMd-U4 SA: Action: ", " (scanned in 6/6 secs | Message-Id: x@y). From <a@b.example> (host=h.example [192.0.2.1]) for c@d.example"
    from_source = [mid + "scanned but message isn't spam: score=1.2 required=5.0" + tail,
                   mid + "permanently rejected message: score=25.0 required=5.0 trigger=20.0" + tail,
                   mid + "temporarily rejected message: score=9.0 required=5.0 trigger=8.0" + tail,
                   mid + "Not running SA because SAEximRunCond expanded to false (Message-Id: x@y). From <a@b.example> (local) for c@d.example"]
    ctx = make_context()
    PARSER.parse(real + from_source, 1, ctx, PARSER.new_state())
    assert ctx.rows == [] and ctx.stats.unparsed == 0
    assert sum(n for r, n in ctx.stats.ignored_reasons.items() if r.startswith("SA-Exim")) == 7
    refused = [x for x in spam if "rejected by local_scan()" in x and not x.startswith("#")]
    ctx = make_context()
    PARSER.parse(refused, 1, ctx, PARSER.new_state())
    assert len(ctx.rows) == len(refused) == 2 and {r["event"] for r in ctx.rows} == {"rejected"}


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
