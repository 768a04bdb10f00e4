"""The invariant of every application-log parser: a line that carries a failure marker of its
software (the parser's FAILURE_MARKERS) is a failure row or an unparsed line, never "ignored".

The marker lines are taken from the real samples (sample_logs/<format>/ and the parser's SAMPLES),
their own prefix taken off and the rest re-wrapped in other prefixes (other stamps, levels,
indentation), then injected into each sample file at record boundaries. An injected line may also
be ignored with one of the parser's MARKER_REASONS, each of which says the failure is a row already
(PHPMailer's summary after its SMTP ERROR line)."""

from __future__ import annotations

import re

import pytest

from logscan.parsers import MODULES

from conftest import SAMPLE_LOGS, make_context

# the parsers of application (client) logs that declare their software's failure markers
APP_PARSERS = tuple(m for m in MODULES if not m.PARSER.traits.server and hasattr(m, "FAILURE_MARKERS"))

# prefixes real application logs put before a message: none, PHPMailer's echo stamp, a level column,
# PHP's error_log, ISO with a level, Python logging, Monolog, syslog, plain indentation
PREFIXES = ("", "2026-11-27 21:11:10\t", "2026-11-27 21:11:10\t1\t", "[27-Nov-2026 21:11:10 UTC] ",
            "2026-11-27T21:11:10.123Z ERROR ", "2026-11-27 21:11:10,123 ERROR app.mailer: ",
            "[2026-11-27T21:11:10.123456+00:00] app.ERROR: ", "Nov 27 21:11:10 web1 app[123]: ", "    ")
# the prefix a sample line has: taken off before re-wrapping
OWN_PREFIX = re.compile(
    r"\s*(?:\[[^\]]{1,60}\](?: - | [\w.]{1,40}: | )?|\d{4}-\d\d-\d\d[ T][\d:.,]{8,15}(?:Z|[+-]\d\d:?\d\d)?[ \t]"
    r"|[A-Z][a-z]{2} [ \d]?\d \d\d:\d\d:\d\d [\w.-]{1,64} [\w/.-]{1,40}(?:\[\d{1,10}\])?: |debug level \d; message: )?"
    r"(?:\d\t)?(?:(?:ERROR|WARN|INFO|DEBUG|SEVERE|error|warn|info)\b:? ?)?")
# a line that starts a log record (a stamp at its start): where a line can be injected between records
BOUNDARY = re.compile(r"\[?(?:\d{4}-\d\d-\d\d|\d\d-[A-Z][a-z]{2}-\d{4}|\d\d/\d\d/\d{4}|[A-Z][a-z]{2} [ \d]?\d)")
BEFORE, AFTER = 40, 20  # lines of the sample around an injected line
POSITIONS = 7  # injection points per file


def _files(module) -> list[list[str]]:
    folder = SAMPLE_LOGS / module.PARSER.name
    return [p.read_text(encoding="utf-8", errors="replace").replace("\r\n", "\n").split("\n")
            for p in sorted(folder.iterdir()) if p.is_file() and p.suffix != ".md"]


def _cores(module, files) -> list[str]:
    """Each distinct marker line of the samples without its own prefix (at most 40, spread)."""
    seen: dict[str, None] = {}
    lines = [x for f in files for x in f] + [s.line for s in module.SAMPLES if s.line]
    for line in lines:
        if module.FAILURE_MARKERS.search(line):
            core = line[OWN_PREFIX.match(line).end():].strip()
            if module.FAILURE_MARKERS.search(core):
                seen.setdefault(core[:2000], None)
    cores = list(seen)
    step = max(1, len(cores) // 40)
    return cores[::step]


def _outcome(module, lines: list[str], at: int, injected: str) -> str:
    parser = module.PARSER
    before, after = lines[max(0, at - BEFORE):at], lines[at:at + AFTER]
    ctx, state = make_context(), parser.new_state()
    parser.parse(before, 1, ctx, state)
    unparsed, reasons = ctx.stats.unparsed, dict(ctx.stats.ignored_reasons)
    line_no = len(before) + 1
    parser.parse([injected], line_no, ctx, state)
    if ctx.stats.unparsed > unparsed:
        return "unparsed"
    if any(ctx.stats.ignored_reasons.get(r, 0) > reasons.get(r, 0) for r in getattr(module, "MARKER_REASONS", ())):
        return "a row already"
    parser.parse(after, line_no + 1, ctx, state)
    parser.finish(ctx, state)
    return "row" if any(r["line_no"] == line_no for r in ctx.rows) else "ignored"


def _injections(module):
    """(sample lines, where, the line injected there): every marker core in every prefix, each at one
    of the file's record boundaries (spread, deterministic)."""
    files = _files(module)
    cores = _cores(module, files)
    for lines in files:
        bounds = [i for i, x in enumerate(lines) if BOUNDARY.match(x)] + [len(lines)]
        points = sorted({bounds[i * (len(bounds) - 1) // (POSITIONS - 1)] for i in range(POSITIONS)} | {0})
        for i, core in enumerate(cores):
            for j, prefix in enumerate(PREFIXES):
                yield lines, points[(i + j) % len(points)], prefix + core


@pytest.mark.parametrize("module", APP_PARSERS, ids=[m.PARSER.name for m in APP_PARSERS])
def test_injected_marker_lines_are_never_ignored(module):
    assert _cores(module, _files(module)), f"{module.PARSER.name}: no marker line in its samples"
    outcomes = [(at, injected, _outcome(module, lines, at, injected)) for lines, at, injected in _injections(module)]
    ignored = [(at, injected[:160]) for at, injected, outcome in outcomes if outcome == "ignored"]
    assert len(outcomes) > 50 and {o for _, _, o in outcomes} >= {"row"}
    assert not ignored, f"{len(ignored)} of {len(outcomes)} injected marker lines were ignored, e.g. {ignored[:5]}"


if __name__ == "__main__":  # the ignored ones, most frequent first: python tests/test_failure_markers.py NAME
    import sys
    from collections import Counter
    module = {m.PARSER.name: m for m in APP_PARSERS}[sys.argv[1]]
    seen = Counter(injected[:150] for lines, at, injected in _injections(module)
                   if _outcome(module, lines, at, injected) == "ignored")
    for text, n in seen.most_common(40):
        print(n, repr(text))
