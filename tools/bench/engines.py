#!/usr/bin/env python3
"""The two engines side by side on one Postfix log (#15): wall time and peak RSS of
`logscan scan LOG --output x.parquet` with LOGSCAN_ENGINE=python and =rust, alternated, next to
`grep -c status= LOG`; and the parse alone (reading and parsing, no rules, signatures or output).

    python3 /work/shared/bench/genlog.py postfix --mb 100 --seed 7 > /tmp/mail.log
    .venv/bin/python tools/bench/engines.py /tmp/mail.log --runs 3

Needs GNU time (/usr/bin/time -v) for the peak RSS of the scans.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, int, float]:
    """Wall seconds, peak RSS (KiB) and CPU seconds (user + system) of cmd under GNU time."""
    t0 = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-v", *cmd], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr[-2000:]}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1))
    cpu = sum(float(re.search(rf"{k} time \(seconds\): ([0-9.]+)", r.stderr).group(1)) for k in ("User", "System"))
    return wall, rss, cpu


def parse_alone(log: Path, engine: str) -> tuple[float, int, float]:
    """Seconds to read and parse the file in this process (no rules, signatures, Arrow or output),
    the failure rows it gave, and the CPU seconds it took."""
    from logscan.fastpath import RUST_PARSERS
    from logscan.parsers import REGISTRY
    from logscan.parsers.base import FileContext, FileStats
    from logscan.reading import ReadStats, iter_byte_chunks, iter_line_chunks
    from logscan.timestamps import StampConverter, load_zone

    zone, name = load_zone("UTC")
    from datetime import datetime, timezone
    ctx = FileContext(str(log), StampConverter(datetime.now(timezone.utc), zone, name), FileStats(str(log), "postfix"))
    read = ReadStats()
    t0, c0 = time.perf_counter(), time.process_time()
    line_no, rows = 1, 0
    with open(log, "rb") as fh:
        if engine == "rust":
            parser = RUST_PARSERS["postfix"]
            state = parser.new_state()
            for block, several in iter_byte_chunks(fh, read):
                line_no += parser.parse_bytes(block, several, line_no, ctx, state, read)
                rows += len(state.core.take_rows()["line_no"])
        else:
            parser = REGISTRY["postfix"]
            state = parser.new_state()
            for lines in iter_line_chunks(fh, read):
                parser.parse(lines, line_no, ctx, state)
                line_no += len(lines)
                rows += len(ctx.rows)
                ctx.rows.clear()
    parser.finish(ctx, state)
    return time.perf_counter() - t0, rows, time.process_time() - c0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("log", type=Path)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    logscan = str(REPO / ".venv" / "bin" / "logscan")
    size = args.log.stat().st_size / (1 << 20)
    print(f"{args.log}: {size:.0f} MiB; load average {os.getloadavg()[0]:.1f} at the start")
    results: dict[str, list[tuple[float, int, float]]] = {"grep -c status=": [], "scan python": [], "scan rust": []}
    parse: dict[str, list[tuple[float, int, float]]] = {"python": [], "rust": []}
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "x.parquet")
        for _ in range(args.runs):
            results["grep -c status="].append(timed(["grep", "-c", "status=", str(args.log)], dict(os.environ)))
            for engine in ("python", "rust"):
                env = dict(os.environ, LOGSCAN_ENGINE=engine)
                results[f"scan {engine}"].append(
                    timed([logscan, "scan", str(args.log), "--quiet", "--output", out, "--force"], env))
                parse[engine].append(parse_alone(args.log, engine))
    med = statistics.median
    for name, runs in results.items():
        walls = [w for w, _, _ in runs]
        print(f"{name:18s} wall median {med(walls):6.2f} s (min {min(walls):.2f}, max {max(walls):.2f}), "
              f"CPU median {med(c for _, _, c in runs):6.2f} s, peak RSS median {med(r for _, r, _ in runs) / 1024:.0f} MiB")
    for engine, runs in parse.items():
        walls = [w for w, _, _ in runs]
        print(f"parse alone {engine:6s} wall median {med(walls):6.2f} s (min {min(walls):.2f}, max {max(walls):.2f}), "
              f"CPU median {med(c for _, _, c in runs):6.2f} s, {runs[0][1]} rows")
    ratio = {k: (med(w for w, _, _ in v), med(c for _, _, c in v)) for k, v in {**results, **parse}.items()}
    grep, scan_py, scan_rs, rust = ratio["grep -c status="], ratio["scan python"], ratio["scan rust"], ratio["rust"]
    print(f"scan python / rust: wall {scan_py[0] / scan_rs[0]:.1f}x, CPU {scan_py[1] / scan_rs[1]:.1f}x; "
          f"parse alone rust / grep -c: wall {rust[0] / grep[0]:.1f}x, CPU {rust[1] / grep[1]:.1f}x; "
          f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
