#!/usr/bin/env python3
"""Peak memory and wall time of `logscan report` against log size, before and after a change.

    python tools/bench/report_memory.py --quick                       # 10 and 30 MiB, a 3-host store
    python tools/bench/report_memory.py --sizes 100 300 1024 --hosts 4 \
        --run before=/tmp/before/bin/logscan --run after=.venv/bin/logscan

Logs are made by ../shared/bench/genlog.py (Postfix, seed 1) into --work (kept between runs, so
the 1 GiB log is generated once). For the store rows, `logscan scan` fills a store from --hosts
logs of --store-mb MiB each, one host name per log (mx1, mx2, ...: genlog's host renamed, seed per
host), then `report --store` is timed alone.

Peak memory is of the whole process tree (the command and every worker it forks), sampled every
50 ms from /proc: the largest sum of RSS seen, and the largest sum of PSS (shared pages divided
among the processes that share them: a forked worker's pages are not counted twice). The load
average is printed before and after each run: the machine is shared, wall times are noisy.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GENLOG = ROOT.parent.parent / "shared" / "bench" / "genlog.py"
if not GENLOG.exists():
    GENLOG = Path("/work/shared/bench/genlog.py")


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            return [int(x) for x in fh.read().split()]
    except OSError:
        return []


def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(_children(p))
    return out


def _kb(pid: int, name: str, field: str) -> int:
    try:
        with open(f"/proc/{pid}/{name}") as fh:
            for line in fh:
                if line.startswith(field):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def measure(cmd: list[str], env: dict | None = None) -> dict:
    """Run cmd; its peak tree RSS and PSS (MB), wall seconds, exit status and processes seen."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    peak_rss = peak_pss = 0
    seen: set[int] = set()
    while proc.poll() is None:
        pids = _tree(proc.pid)
        seen.update(pids)
        peak_rss = max(peak_rss, sum(_kb(p, "status", "VmRSS:") for p in pids))
        peak_pss = max(peak_pss, sum(_kb(p, "smaps_rollup", "Pss:") for p in pids))
        time.sleep(0.05)
    wall = time.perf_counter() - start
    out, err = proc.communicate()
    if proc.returncode != 0:
        sys.stderr.write(err.decode(errors="replace")[-2000:])
    return {"rss": peak_rss / 1024, "pss": peak_pss / 1024, "wall": wall, "rc": proc.returncode,
            "procs": len(seen), "out": out.decode(errors="replace").strip().splitlines()[:1]}


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def make_log(work: Path, mb: float, seed: int = 1, host: str = "mx1") -> Path:
    path = work / f"postfix-{mb:g}MiB-{host}-s{seed}.log"
    if path.exists():
        return path
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w") as fh:
        gen = subprocess.Popen([sys.executable, str(GENLOG), "postfix", "--mb", str(mb), "--seed", str(seed)],
                               stdout=subprocess.PIPE, text=True)
        for line in gen.stdout:  # genlog writes host mx1: one host name per log
            fh.write(line.replace(" mx1 postfix/", f" {host} postfix/", 1) if host != "mx1" else line)
        if gen.wait() != 0:
            raise SystemExit("genlog.py failed")
    tmp.replace(path)
    return path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=float, nargs="*", default=[100, 300, 1024], help="log sizes in MiB")
    ap.add_argument("--hosts", type=int, default=4, help="hosts in the store rows (0: no store rows)")
    ap.add_argument("--store-mb", type=float, default=100, help="MiB of log per host in the store rows")
    ap.add_argument("--run", action="append", default=[], metavar="LABEL=LOGSCAN",
                    help="a logscan executable to time, labelled (default: after=this checkout's .venv)")
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "logscan-report-bench")
    ap.add_argument("--quick", action="store_true", help="10 and 30 MiB, a store of 3 hosts of 10 MiB")
    ap.add_argument("--repeat", type=int, default=1)
    a = ap.parse_args()
    if a.quick:
        a.sizes, a.hosts, a.store_mb = [10, 30], 3, 10
    runs = [r.split("=", 1) for r in a.run] or [["after", str(ROOT / ".venv" / "bin" / "logscan")]]
    a.work.mkdir(parents=True, exist_ok=True)
    print(f"cores {os.cpu_count()}, load before {load()}", flush=True)
    rows = []
    cases = [(f"{mb:g} MiB log", [str(make_log(a.work, mb))], None) for mb in a.sizes]
    if a.hosts:
        logs = [str(make_log(a.work, a.store_mb, seed=h + 1, host=f"mx{h + 1}")) for h in range(a.hosts)]
        cases.append((f"store {a.hosts}x{a.store_mb:g} MiB", logs, "store"))
    for label, exe in runs:
        for name, logs, kind in cases:
            for _ in range(a.repeat):
                out = Path(tempfile.mkdtemp(prefix="report-", dir=a.work))
                before = load()
                if kind == "store":
                    store = out / "store"
                    scan = subprocess.run([exe, "scan", *logs, "--store", str(store)], capture_output=True)
                    if scan.returncode != 0:
                        raise SystemExit(f"{exe} scan --store failed: {scan.stderr.decode()[-500:]}")
                    cmd = [exe, "report", "--store", str(store), "--out", str(out / "r"), "--period", "day"]
                else:
                    cmd = [exe, "report", *logs, "--out", str(out / "r")]
                m = measure(cmd)
                rows.append((label, name, m, before, load()))
                print(f"{label:<8} {name:<22} peak RSS {m['rss']:7.0f} MB  PSS {m['pss']:7.0f} MB  wall "
                      f"{m['wall']:6.1f} s  rc {m['rc']}  procs {m['procs']}  load {before} -> {load()}  "
                      f"{' '.join(m['out'])}", flush=True)
                shutil.rmtree(out, ignore_errors=True)
    print()
    print("| run | input | peak RSS (tree) MB | peak PSS (tree) MB | wall s | load 1/5/15 before |")
    print("|---|---|---:|---:|---:|---|")
    for label, name, m, before, _ in rows:
        print(f"| {label} | {name} | {m['rss']:.0f} | {m['pss']:.0f} | {m['wall']:.1f} | {before} |")
    return 0 if all(m["rc"] == 0 for _, _, m, _, _ in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
