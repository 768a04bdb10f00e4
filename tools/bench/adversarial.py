#!/usr/bin/env python3
"""Adversarial-line benchmark: the worst time a single hostile line costs each parser and detect().

Log lines are written by whoever talks to the server; a regex that backtracks lets one line stall a
run (issue 17: a 329-byte Exim line took 121 s). This builds, per format, lines from its real
sample lines (parsers' SAMPLES) and from hostile shapes:
    repeated separators and field markers of the format (` T="`, ` DT=1s`, `to=<`, `(550, b'`, ...),
    nested brackets ( ( [ { < ), the 64 KiB line cap (logscan/reading.py MAX_LINE_CHARS) without
    the terminator the format expects (no closing quote, bracket or `$`-anchored tail),
and times, per line, the parser's parse() (fresh state, after the sample's context lines) and its
detect() over the first lines of a file made of that line (as much as format detection reads:
256 KiB, at most 1,000 lines). Each line runs in a worker process with a time limit, so a
catastrophic case is reported as "> LIMIT" instead of hanging the benchmark.

How to run (from the repository root; a minute or two)
    .venv/bin/python tools/bench/adversarial.py                 # every format
    .venv/bin/python tools/bench/adversarial.py --format exim --limit 10 --show 5

How to read the result
    per format: the worst milliseconds per line for parse and for detect (and which line it was:
    its shape and length); the target is at most 50 ms a line (issue 17). The machine is shared and
    noisy: a worst case near the target is worth a second run; one far above it is a real problem.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TARGET_MS = 50.0
SIZES = (330, 4096, 64 * 1024)  # the short exponential case, a long line, the line cap
DETECT_BYTES, DETECT_LINES = 256 * 1024, 1000  # what logscan/reading.py head_lines() reads

# Per format: the separators and field markers its parser looks for.
MARKERS = {
    "postfix": ["to=<", ", ", "said: ", " (in reply to ", "[", "]:", "relay=", " status=", "<", "=<>, ",
                "host x[1.2.3.4] said: ", "reject: RCPT from x[1.2.3.4]: ", ": "],
    "exim": [' T="', " DT=1s", " H=", " [", " <", " defer (", ": ", " R=", '"', " H=h [1.2.3.4]:25",
             " authenticator failed for ", " rejected RCPT ", " S=99999999999999999999999", " I=[1.2.3.4]:25"],
    "msmtp": [" x='", " smtpstatus=", "'", "' ", " a=' b=", "=", " port ", "recipient address "],
    "smtplib": ["(550, b'", "\\n", "Error: ", "SMTP", "((", "{'", "'", "b'", "(", "SMTPDataError(", ": ",
                ")", "Error"],
    "nodemailer": ['{"err":', '"code":"E', "[", "{", "  code: ", "Error: ", '"', "\\", ",", ": "],
    "phpmailer": ["SMTP ERROR: ", "(", "[", " line 1]", "CLIENT -> SERVER: ", " command failed: ", ":", "\t",
                  "Connection failed. Error #2: "],
    "javamail": ["Caused by: ", "jakarta.mail.X", "\tat ", ".", "Exception: ", "$", ", ", "Couldn't connect to host, port: "],
}
BRACKETS = ("()", "[]", "{}", "<>")
SEPARATORS = (" ", ":", "=", ", ", "\t", "'", '"', "\\")


def _prefixes(module) -> list[tuple[str, list[str]]]:
    """(a real line of the format, the context lines it needs) from the module's samples."""
    from logscan.parsers import MODULES  # noqa: F401  (imports every parser)

    out = []
    for s in module.SAMPLES:
        if s.line and not any(c.startswith("ref:") for c in s.context):
            out.append((s.line, list(s.context)))
    return out


def cases(fmt: str) -> Iterator[tuple[str, list[str], str]]:
    """(shape, context lines, hostile line) for one format."""
    from logscan.parsers import MODULES

    module = next(m for m in MODULES if m.PARSER.name == fmt)
    samples = _prefixes(module)
    if fmt == "exim":  # issue 17: a .forward pipe address followed by 40 ` T="` (121 s before)
        yield "pipe + 40 T=\"", [], "2026-11-27 20:38:49 1xX2iW-00087F-1e ** |/usr/bin/procmail" + ' T="' * 40
    for size in SIZES:
        # every sample at the short size (where exponential cases show), two at the longer ones
        for k, (line, context) in enumerate(samples if size == SIZES[0] else samples[:2]):
            for marker in MARKERS.get(fmt, []) + list(SEPARATORS):
                reps = max(1, (size - len(line)) // len(marker))
                yield f"sample{k} + {marker!r}*n", context, (line + marker * reps)[:size]
                # a tail no pattern expects: an anchored regex fails at the very end
                yield f"sample{k} + {marker!r}*n + ' ~'", context, (line + marker * reps)[:size - 2] + " ~"
                yield f"sample{k}[:half] + {marker!r}*n + ' ~'", context, \
                    (line[: len(line) // 2] + marker * reps)[:size - 2] + " ~"
                yield f"{marker!r}*n + sample{k}", context, (marker * reps)[: size - len(line)] + line
            for o, c in BRACKETS:
                n = max(1, (size - len(line)) // 2)
                yield f"sample{k} + nested {o}{c}", context, line + o * n + c * n
                yield f"sample{k} + unclosed {o}", context, (line + o * size)[:size]
            yield f"sample{k} + 64 KiB, no terminator", context, (line.rstrip(")]}'\"") + "x" * size)[:size]


def _run_one(fmt: str, context: list[str], line: str) -> tuple[float, float]:
    from logscan.parsers import REGISTRY
    from logscan.parsers.base import FileContext, FileStats
    from logscan.timestamps import StampConverter, load_zone

    parser = REGISTRY[fmt]
    zone, name = load_zone("UTC")
    ctx = FileContext("bench.log", StampConverter(datetime(2026, 11, 27, tzinfo=timezone.utc), zone, name),
                      FileStats(path="bench.log", format=fmt))
    state = parser.new_state()
    if context:
        parser.parse(context, 1, ctx, state)
    t0 = time.perf_counter()
    parser.parse([line], len(context) + 1, ctx, state)
    parser.finish(ctx, state)
    parse_ms = (time.perf_counter() - t0) * 1000
    head = [line] * max(1, min(DETECT_LINES, DETECT_BYTES // (len(line) + 1)))
    t0 = time.perf_counter()
    for p in REGISTRY.values():  # discovery asks every parser
        p.detect(head)
    detect_ms = (time.perf_counter() - t0) * 1000 / len(head)  # per line of the head
    return parse_ms, detect_ms


def _best_of(fmt: str, context: list[str], line: str) -> tuple[float, float]:
    """The line's times; one over half the target is measured twice more and the least kept (on a
    shared machine a single run may include time the process was not running)."""
    best = _run_one(fmt, context, line)
    for _ in range(2 if max(best) > TARGET_MS / 2 else 0):
        again = _run_one(fmt, context, line)
        best = (min(best[0], again[0]), min(best[1], again[1]))
    return best


def _worker(conn, jobs) -> None:
    for fmt, context, line in jobs:
        try:
            conn.send(_best_of(fmt, context, line))
        except Exception as exc:  # a crash is reported as such, not as a hang  # noqa: BLE001
            conn.send(f"{type(exc).__name__}: {exc}"[:200])


def measure(jobs: list[tuple[str, list[str], str]], limit_s: float) -> list[tuple[float, float] | str | None]:
    """Per job (parse ms, detect ms per line), the exception it raised (str), or None when it took
    longer than limit_s."""
    ctx = multiprocessing.get_context("fork")
    results: list[tuple[float, float] | None] = []
    while len(results) < len(jobs):
        parent, child = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_worker, args=(child, jobs[len(results):]), daemon=True)
        proc.start()
        child.close()
        while len(results) < len(jobs):
            if not parent.poll(limit_s):
                proc.kill()
                results.append(None)  # this job hung; the next worker starts after it
                break
            try:
                results.append(parent.recv())
            except EOFError:
                results.append(None)
                break
        proc.join()
        parent.close()
    return results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--format", action="append", help="only this format (repeatable)")
    ap.add_argument("--limit", type=float, default=20.0, help="seconds a line may take before it is cut off")
    ap.add_argument("--show", type=int, default=1, help="how many of the worst lines to show per format")
    args = ap.parse_args()
    sys.path.insert(0, str(REPO))
    from logscan.parsers import REGISTRY

    formats = args.format or list(REGISTRY)
    worst_all = 0.0
    for fmt in formats:
        jobs = [(fmt, ctx, line) for _, ctx, line in cases(fmt)]
        shapes = [shape for shape, _, _ in cases(fmt)]
        results = measure(jobs, args.limit)
        hung = [i for i, r in enumerate(results) if r is None]
        crashed = [i for i, r in enumerate(results) if isinstance(r, str)]
        timed = [(r, i) for i, r in enumerate(results) if isinstance(r, tuple)]
        scored = sorted(((max(r), i) for r, i in timed), reverse=True)
        p_worst = max((r[0] for r, _ in timed), default=0.0)
        d_worst = max((r[1] for r, _ in timed), default=0.0)
        worst = float("inf") if hung or crashed else max(p_worst, d_worst)
        worst_all = max(worst_all, worst)
        flag = "ok" if worst <= TARGET_MS else "OVER"
        print(f"{fmt:11} {len(jobs):4} lines  worst parse {p_worst:9.1f} ms  worst detect {d_worst:7.2f} ms/line"
              f"  hung (> {args.limit:g} s) {len(hung)}  crashed {len(crashed)}  [{flag}]")
        for i in hung[: args.show]:
            print(f"    > {args.limit:g} s: {shapes[i]} ({len(jobs[i][2])} chars)")
        for i in crashed[: args.show]:
            print(f"    crash {results[i]}: {shapes[i]} ({len(jobs[i][2])} chars)")
        for ms, i in scored[: args.show]:
            print(f"    {ms:9.1f} ms: {shapes[i]} ({len(jobs[i][2])} chars)")
    print(f"worst over all formats: {worst_all:.1f} ms per line (target {TARGET_MS:g})")
    return 0 if worst_all <= TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
