#!/usr/bin/env python3
"""Benchmark incremental `logscan scan --store` runs, the way cron runs them.

What it does
    1. Generates a Postfix log with the shared generator (../shared/bench/genlog.py, --mb MiB, 100
       by default) or takes --log FILE, and holds back its last --new percent of lines (1 by default).
    2. Times, each as a fresh `logscan scan DIR --store STORE --quiet` process (wall clock,
       Python start-up included, as cron pays it):
         full       the first run into an empty store (reads everything but the held-back lines);
         unchanged  a second run with nothing new (--repeat times; median shown);
         new        a run after the held-back lines are appended (--new percent of the log).
    3. Prints the times, the share new/full (of the whole process, and of its parse-and-classify
       stage as LOGSCAN_TIMING reports it), and the rows in the store after each run (they must
       grow only in the `new` run).

How to run (from the repository root)
    python3 tools/bench/bench_incremental.py                 # 100 MiB, 1% new
    python3 tools/bench/bench_incremental.py --mb 20 --repeat 3
    python3 tools/bench/bench_incremental.py --log /var/log/mail.log --json out/incr.json

How to read the result
    unchanged should be well under a second: it stats the files, reads the first KiB of each for
    format detection and compares nothing else. new/full should be near the new share of the
    log plus the fixed cost of a process (Python, typer, pyarrow, compiling the rules: about 1.5 to
    2 s on these shared machines); the parse-and-classify share shows the proportional part.

Exit status: 0 on success; 1 if a run fails (its stderr tail is shown); 2 on a setup problem.
Standard library only (reads the store's row count with the project's own Python).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import DEFAULT_CACHE, DEFAULT_GENLOG, SetupError, find_logscan, generated_log, tail

REPO = Path(__file__).resolve().parents[2]


def timed_run(logscan: str, logs: Path, store: Path) -> tuple[float, float]:
    """(wall seconds of the process, seconds in parse and classify as LOGSCAN_TIMING reports them;
    0 when the run had nothing to parse)."""
    start = time.perf_counter()
    proc = subprocess.run([logscan, "scan", str(logs), "--store", str(store), "--quiet"], capture_output=True,
                          text=True, env={**os.environ, "LOGSCAN_TIMING": "1"})
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        print(f"logscan failed (exit {proc.returncode}):\n{tail(proc.stderr)}", file=sys.stderr)
        sys.exit(1)
    m = re.search(r"parse and classify ([\d.]+)s", proc.stderr)
    return wall, float(m.group(1)) if m else 0.0


def stored_rows(logscan: str, store: Path) -> int:
    python = Path(logscan).with_name("python")
    code = "import sys; from logscan.store import read_failures; print(read_failures(sys.argv[1]).table.num_rows)"
    out = subprocess.run([str(python) if python.exists() else sys.executable, "-c", code, str(store)],
                         capture_output=True, text=True, check=True)
    return int(out.stdout)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=float, default=100, help="size of the generated log in MiB (default 100)")
    ap.add_argument("--log", type=Path, help="use this log instead of generating one")
    ap.add_argument("--new", type=float, default=1.0, help="percent of the lines held back for the last run")
    ap.add_argument("--repeat", type=int, default=5, help="unchanged runs to time (median shown)")
    ap.add_argument("--genlog", type=Path, default=DEFAULT_GENLOG)
    ap.add_argument("--json", type=Path, help="also write the numbers here")
    a = ap.parse_args()
    try:
        logscan = find_logscan()
        with tempfile.TemporaryDirectory(prefix="logscan-incr-") as tmp_name:
            tmp = Path(tmp_name)
            source = a.log or generated_log(a.genlog, "postfix", a.mb, DEFAULT_CACHE)
            data = source.read_bytes()
            keep = len(data) - int(len(data) * a.new / 100)
            keep = data.index(b"\n", keep) + 1 if b"\n" in data[keep:] else len(data)
            logs = tmp / "logs"
            logs.mkdir()
            (logs / "mail.log").write_bytes(data[:keep])
            store = tmp / "store"
            full, full_parse = timed_run(logscan, logs, store)
            rows_full = stored_rows(logscan, store)
            unchanged = [timed_run(logscan, logs, store)[0] for _ in range(a.repeat)]
            rows_unchanged = stored_rows(logscan, store)
            with open(logs / "mail.log", "ab") as fh:
                fh.write(data[keep:])
            new, new_parse = timed_run(logscan, logs, store)
            rows_new = stored_rows(logscan, store)
    except SetupError as exc:
        print(f"setup problem: {exc}", file=sys.stderr)
        return 2
    mib = len(data) / (1 << 20)
    result = {
        "log_mib": round(mib, 1), "new_mib": round((len(data) - keep) / (1 << 20), 2),
        "full_s": round(full, 3), "unchanged_s_median": round(statistics.median(unchanged), 3),
        "unchanged_s_all": [round(x, 3) for x in unchanged], "new_s": round(new, 3),
        "new_over_full": round(new / full, 4),
        "parse_s": {"full": full_parse, "new": new_parse},
        "rows": {"full": rows_full, "unchanged": rows_unchanged, "new": rows_new},
    }
    print(f"log {result['log_mib']} MiB, new {result['new_mib']} MiB")
    print(f"full run        {full:8.2f} s   {rows_full} rows (parse and classify {full_parse:.2f} s)")
    print(f"unchanged run   {statistics.median(unchanged):8.2f} s   (median of {a.repeat}; {rows_unchanged} rows)")
    print(f"run after new   {new:8.2f} s   {rows_new} rows; {100 * new / full:.1f}% of the full run "
          f"(parse and classify {new_parse:.2f} s, {100 * new_parse / max(full_parse, 1e-9):.1f}% of the full run's)")
    if a.json:
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
