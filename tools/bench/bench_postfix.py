#!/usr/bin/env python3
"""Benchmark `logscan scan` against pflogsumm (postfix) or eximstats (exim) on the same generated log.

--kind postfix (the default) compares with pflogsumm on a Postfix log; --kind exim compares with
eximstats on an Exim main log. Below, REF is the reference tool of the chosen kind.

What it does
    1. Generates a log of the chosen kind with the shared generator (`../shared/bench/genlog.py
       postfix --mb N` or `genlog.py exim --mb N`, i.e. /work/shared/bench/genlog.py next to this
       repository) into a temporary directory, or uses the file given with --log. The file is read
       once (to count lines), so every timed run starts with it in the page cache.
    2. Runs the two tools alternately, --runs times each (logscan, REF, logscan, REF, ...),
       each under GNU `/usr/bin/time -v`:
           logscan:   <repo>/.venv/bin/logscan scan LOG --quiet --output TMP.parquet --force
                      (`logscan` on PATH if the repository has no .venv)
           pflogsumm: pflogsumm LOG   (--kind postfix; report to /dev/null)
           eximstats: eximstats LOG   (--kind exim; report to /dev/null)
    3. Prints, per tool, the median / min / max wall-clock seconds, throughput (MiB/s at the median),
       the median peak RSS, and the ratio REF / logscan of the median wall times.

How to run (from the repository root)
    python3 tools/bench/bench_postfix.py                  # Postfix, 100 MiB, 3 runs each
    python3 tools/bench/bench_postfix.py --mb 20 --runs 1 # quick check
    python3 tools/bench/bench_postfix.py --kind exim      # Exim vs eximstats, 100 MiB, 3 runs each
    python3 tools/bench/bench_postfix.py --log /var/log/mail.log --runs 5 --json out/bench.json
    python3 tools/bench/bench_postfix.py --kind exim --log /var/log/exim4/mainlog
    make bench

    Needs: GNU time (`apt-get install -y time`), and pflogsumm (`apt-get install -y pflogsumm`)
    for --kind postfix or eximstats (`apt-get install -y exim4-base`) for --kind exim.

How to read the result
    ratio = median wall time of REF / median wall time of logscan, on the same file in the same
    run. Above 1: logscan is that many times faster than REF; below 1: slower.
    These machines are noisy: compare ratios from one run, not absolute seconds across runs.

    Peak RSS is GNU time's "Maximum resident set size": the largest single process of the tool
    (the process itself or one of its reaped children), not the sum. logscan may fork worker
    processes, so its total memory can be higher than the figure shown.

Exit status: 0 on success; 1 if a tool fails (its stderr tail is shown); 2 on a setup problem.
Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_GENLOG = Path(__file__).resolve().parents[3] / "shared/bench/genlog.py"
GNU_TIME = "/usr/bin/time"
MIB = 1024 * 1024

ELAPSED_RE = re.compile(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\):\s*(\S+)")
MAXRSS_RE = re.compile(r"Maximum resident set size \(kbytes\):\s*(\d+)")


class SetupError(Exception):
    """Something the benchmark needs is missing; the message says how to fix it."""


class ToolFailed(Exception):
    """A benchmarked tool exited non-zero or its timing could not be read."""


def parse_elapsed(text: str) -> float:
    """Seconds from GNU time's "h:mm:ss" or "m:ss.cc" wall-clock field."""
    seconds = 0.0
    for part in text.split(":"):
        seconds = seconds * 60 + float(part)
    return seconds


def parse_time_v(report: str) -> tuple[float, int]:
    """(wall seconds, max RSS in KiB) from the output of `/usr/bin/time -v`."""
    elapsed = ELAPSED_RE.search(report)
    maxrss = MAXRSS_RE.search(report)
    if not elapsed or not maxrss:
        raise ValueError("no 'Elapsed (wall clock) time' / 'Maximum resident set size' in time -v output")
    return parse_elapsed(elapsed.group(1)), int(maxrss.group(1))


def tail(text: str, lines: int = 20) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def find_logscan() -> str:
    venv = REPO / ".venv/bin/logscan"
    if venv.is_file() and os.access(venv, os.X_OK):
        return str(venv)
    on_path = shutil.which("logscan")
    if on_path:
        return on_path
    raise SetupError(f"logscan not found: neither {venv} nor `logscan` on PATH (run `make test` to create .venv)")


def find_pflogsumm() -> str:
    found = shutil.which("pflogsumm") or ("/usr/sbin/pflogsumm" if Path("/usr/sbin/pflogsumm").is_file() else None)
    if not found:
        raise SetupError("pflogsumm not found; install it with: apt-get install -y pflogsumm")
    return found


def find_eximstats() -> str:
    found = shutil.which("eximstats") or ("/usr/sbin/eximstats" if Path("/usr/sbin/eximstats").is_file() else None)
    if not found:
        raise SetupError("eximstats not found; install it with: apt-get install -y exim4-base")
    return found


# --kind -> (reference tool name, its finder, genlog.py kind, label in messages, generated file name)
KINDS = {
    "postfix": ("pflogsumm", find_pflogsumm, "postfix", "Postfix", "postfix.log"),
    "exim": ("eximstats", find_eximstats, "exim", "Exim", "mainlog"),
}


def check_gnu_time() -> None:
    ok = False
    if Path(GNU_TIME).is_file():
        probe = subprocess.run([GNU_TIME, "--version"], capture_output=True, text=True)
        ok = "GNU" in probe.stdout + probe.stderr
    if not ok:
        raise SetupError(f"GNU time not found at {GNU_TIME}; install it with: apt-get install -y time")


def generate_log(genlog: Path, mb: float, dest: Path, kind: str = "postfix", label: str = "Postfix") -> None:
    if not genlog.is_file():
        raise SetupError(f"log generator not found: {genlog} (pass --genlog PATH or --log FILE)")
    print(f"generating {mb:g} MiB {label} log with {genlog} ...", file=sys.stderr, flush=True)
    with dest.open("wb") as out:
        proc = subprocess.run([sys.executable, str(genlog), kind, "--mb", f"{mb:g}"],
                              stdout=out, stderr=subprocess.PIPE, text=False)
    if proc.returncode != 0:
        raise SetupError(f"genlog.py failed (exit {proc.returncode}):\n"
                         + tail(proc.stderr.decode(errors="replace")))


def count_lines(path: Path) -> int:
    """Count lines; this also pulls the file into the page cache before the timed runs."""
    lines = 0
    last = b"\n"
    with path.open("rb") as f:
        while chunk := f.read(MIB):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return lines + (last != b"\n")


def interpreter_version(script: str) -> str | None:
    """Python version of the interpreter named in a console script's shebang, if any."""
    try:
        with open(script, "rb") as f:
            first = f.readline().decode(errors="replace").strip()
    except OSError:
        return None
    if not first.startswith("#!"):
        return None
    argv = first[2:].split()
    try:
        proc = subprocess.run([*argv, "-c", "import platform; print(platform.python_version())"],
                              capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def nproc() -> int | None:
    """CPUs this process may use, as `nproc` reports them (affinity-aware)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count()


def git_commit() -> str | None:
    """Commit of the repository (read-only: no index refresh, so it cannot disturb other git users)."""
    try:
        proc = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def timed_run(name: str, cmd: list[str], workdir: Path) -> dict:
    """Run cmd under `/usr/bin/time -v`; its report goes to a file so the tool's own stderr stays apart."""
    report = workdir / f"time-{name}.txt"
    report.unlink(missing_ok=True)
    proc = subprocess.run([GNU_TIME, "-v", "-o", str(report), *cmd],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, errors="replace")
    if proc.returncode != 0:
        raise ToolFailed(f"{name} failed (exit {proc.returncode}): {' '.join(cmd)}\n"
                         f"--- stderr (tail) ---\n{tail(proc.stderr) or '(empty)'}")
    try:
        wall, maxrss_kb = parse_time_v(report.read_text(errors="replace"))
    except (OSError, ValueError) as e:
        raise ToolFailed(f"{name}: could not read the time -v report: {e}") from e
    return {"wall_s": wall, "maxrss_mb": maxrss_kb / 1024}


def summarize(samples: list[dict], size_mib: float) -> dict:
    walls = [s["wall_s"] for s in samples]
    median_wall = statistics.median(walls)
    return {
        "runs": len(samples),
        "median_wall_s": median_wall,
        "min_wall_s": min(walls),
        "max_wall_s": max(walls),
        "median_maxrss_mb": statistics.median(s["maxrss_mb"] for s in samples),
        "mib_per_s": size_mib / median_wall if median_wall > 0 else None,
        "samples": samples,
    }


def print_table(meta: dict, results: dict, ratio: float | None, ref: str = "pflogsumm") -> None:
    print()
    print(f"input:   {meta['log']}")
    print(f"         {meta['size_mib']:.1f} MiB, {meta['lines']:,} lines")
    print(f"machine: nproc={meta['nproc']}, Python {meta['python']}"
          + (f" (logscan runs on Python {meta['logscan_python']})"
             if meta.get("logscan_python") and meta["logscan_python"] != meta["python"] else ""))
    if meta.get("git_commit"):
        print(f"logscan: commit {meta['git_commit']} (working tree as found, uncommitted edits included)")
    print(f"runs:    {meta['runs']} per tool, alternating")
    print()
    header = f"{'tool':<10} {'median s':>9} {'min s':>8} {'max s':>8} {'MiB/s':>8} {'peak RSS MB':>12}"
    print(header)
    print("-" * len(header))
    for tool, r in results.items():
        rate = f"{r['mib_per_s']:.1f}" if r["mib_per_s"] is not None else "-"
        print(f"{tool:<10} {r['median_wall_s']:>9.2f} {r['min_wall_s']:>8.2f} {r['max_wall_s']:>8.2f}"
              f" {rate:>8} {r['median_maxrss_mb']:>12.0f}")
    print()
    if ratio is not None:
        verdict = "faster" if ratio >= 1 else "slower"
        shown = ratio if ratio >= 1 else 1 / ratio
        print(f"ratio {ref}/logscan (median wall): {ratio:.2f}  -> logscan is {shown:.2f}x {verdict}")
    print("peak RSS = largest single process (GNU time); logscan may fork workers, whose memory adds up.")
    print("these machines are noisy: compare ratios from one run, not absolute seconds.")


def run(args: argparse.Namespace) -> int:
    ref, find_ref, gen_kind, label, log_name = KINDS[args.kind]
    check_gnu_time()
    logscan = find_logscan()
    ref_tool = find_ref()

    workdir = Path(tempfile.mkdtemp(prefix=f"bench_{args.kind}."))
    keep_dir = False
    try:
        if args.log:
            log = Path(args.log).resolve()
            if not log.is_file():
                raise SetupError(f"--log: no such file: {log}")
        else:
            log = workdir / log_name
            generate_log(Path(args.genlog), args.mb, log, gen_kind, label)
            keep_dir = args.keep

        size_mib = log.stat().st_size / MIB
        lines = count_lines(log)
        parquet = workdir / "out.parquet"
        commands = {
            "logscan": [logscan, "scan", str(log), "--quiet", "--output", str(parquet), "--force"],
            ref: [ref_tool, str(log)],
        }
        meta = {
            "log": str(log),
            "size_mib": size_mib,
            "lines": lines,
            "runs": args.runs,
            "nproc": nproc(),
            "python": platform.python_version(),
            "logscan_python": interpreter_version(logscan),
            "git_commit": git_commit(),
            "commands": {k: " ".join(v) for k, v in commands.items()},
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }

        samples: dict[str, list[dict]] = {name: [] for name in commands}
        for i in range(1, args.runs + 1):
            for name, cmd in commands.items():
                print(f"run {i}/{args.runs}: {name} ...", end=" ", file=sys.stderr, flush=True)
                result = timed_run(name, cmd, workdir)
                samples[name].append(result)
                print(f"{result['wall_s']:.2f} s, {result['maxrss_mb']:.0f} MB", file=sys.stderr, flush=True)

        results = {name: summarize(s, size_mib) for name, s in samples.items()}
        lw, rw = results["logscan"]["median_wall_s"], results[ref]["median_wall_s"]
        ratio = rw / lw if lw > 0 else None
        print_table(meta, results, ratio, ref)

        if args.json:
            out = Path(args.json)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps({"meta": meta, "results": results, f"ratio_{ref}_over_logscan": ratio},
                                      indent=2) + "\n")
            print(f"numbers written to {out}")
        if keep_dir:
            print(f"kept generated log: {log}")
        return 0
    finally:
        if keep_dir:  # keep only the generated log
            for scratch in [workdir / "out.parquet", *workdir.glob("time-*.txt")]:
                scratch.unlink(missing_ok=True)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Compare `logscan scan` with pflogsumm (Postfix log) or eximstats"
                                             " (Exim log) on the same log.",
                                 epilog="Ratio = pflogsumm or eximstats / logscan median wall time"
                                        " (>1: logscan faster).")
    ap.add_argument("--kind", choices=sorted(KINDS), default="postfix",
                    help="log kind and reference tool: postfix (pflogsumm) or exim (eximstats); default postfix")
    ap.add_argument("--mb", type=float, default=100, help="size of the generated log in MiB (default 100)")
    ap.add_argument("--runs", type=int, default=3, help="timed runs per tool, alternating (default 3)")
    ap.add_argument("--log", metavar="PATH", help="use this existing log instead of generating one")
    ap.add_argument("--genlog", metavar="PATH", default=str(DEFAULT_GENLOG),
                    help=f"log generator (default {DEFAULT_GENLOG})")
    ap.add_argument("--keep", action="store_true", help="keep the generated log (its path is printed)")
    ap.add_argument("--json", metavar="FILE", help="also write the numbers to this JSON file")
    args = ap.parse_args(argv)
    if args.runs < 1:
        ap.error("--runs must be at least 1")
    if args.mb <= 0:
        ap.error("--mb must be positive")
    try:
        return run(args)
    except SetupError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except ToolFailed as e:
        print(f"\nerror: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
