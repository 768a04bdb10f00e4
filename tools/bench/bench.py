#!/usr/bin/env python3
"""`make bench`: logscan against pflogsumm (Postfix) and eximstats (Exim) on the same generated logs.

What it does
    For each size (default 100 MiB and 1 GiB; --quick: 20 MiB; --sizes 100,300,1024) and each kind
    (postfix, exim), it generates a log with the shared generator (/work/shared/bench/genlog.py,
    i.e. ../shared/bench/genlog.py next to this repository; kept in --cache, so a rerun does not
    generate again), reads it once (page cache), then runs these tools alternately, --runs times
    each (default 3 up to 200 MiB, 1 above), every run on the same file:

        pflogsumm        pflogsumm LOG > /dev/null                           (postfix)
        eximstats        perl eximstats LOG > /dev/null                      (exim)
        logscan          LOGSCAN_ENGINE=python logscan scan LOG --quiet --output X.parquet --force
        logscan-rust     the same with LOGSCAN_ENGINE=rust ("rust engine not built": skipped)
        logscan-1core    LOGSCAN_ENGINE=python LOGSCAN_WORKERS=1 (the 2-core speed-up's baseline)

    pflogsumm: `apt-get install -y pflogsumm`. eximstats: taken from Debian's exim4-base package
    without installing it (`apt-get download exim4-base` and `dpkg-deb -x` into --cache; done here
    on first use): installing exim4 would replace the machine's MTA.

What it measures, per run
    wall     seconds from start to exit;
    CPU      user + sys of the tool and every descendant it waited for (wait4's rusage);
    peak RSS of the whole process tree: /proc/<pid>/task/*/children is walked every 50 ms and the
             VmRSS of all the tree's processes at that instant summed; the largest sum is the peak.
             Pages a forked worker shares with its parent count in both (an upper bound); the same
             sum of Pss (/proc/<pid>/smaps_rollup) counts them once and is shown beside it. A peak
             shorter than 50 ms can be missed. (wait4's ru_maxrss, the largest single
             process, is kept in the JSON as maxrss_single_mb.)
    load     the machine's busy CPU during the run (/proc/stat) minus the tree's own CPU: what
             other processes used, in cores on average; the load average before and after; and
             the three other processes that used the most CPU meanwhile.

Output
    A Markdown table per log (median wall, CPU, cores used, MiB/s, peak RSS, ratio of the
    reference tool's wall time to the tool's; for logscan-1core, its time over logscan's: the
    2-core speed-up) on stdout and, unless --no-write, in docs/benchmark.md (date, commit, machine,
    load) whose body also replaces the README section between <!-- bench:begin --> and
    <!-- bench:end -->. --json FILE keeps every sample. --quick writes nothing unless --write.

    python3 tools/bench/bench.py                     # make bench: 100 MiB + 1 GiB, both kinds
    python3 tools/bench/bench.py --quick             # 20 MiB, both kinds, 1 run (a minute)
    python3 tools/bench/bench.py --sizes 100,300,1024 --tools logscan --runs 1   # memory flatness
    python3 tools/bench/bench.py --kind exim --log /var/log/exim4/mainlog

Exit status: 0 done; 1 a tool failed (its stderr tail is shown); 2 a setup problem. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_GENLOG = Path(__file__).resolve().parents[3] / "shared/bench/genlog.py"
DEFAULT_CACHE = Path(os.environ.get("LOGSCAN_BENCH_CACHE", "/var/tmp/logscan-bench"))
MIB = 1 << 20
HZ = os.sysconf("SC_CLK_TCK")
POLL_S = 0.05
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


class SetupError(Exception):
    """Something the benchmark needs is missing; the message says how to fix it."""


class ToolFailed(Exception):
    """A benchmarked tool exited non-zero."""


def tail(text: str, lines: int = 20) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


# --- the tools ---------------------------------------------------------------------------------

def find_logscan() -> str:
    venv = REPO / ".venv/bin/logscan"
    if venv.is_file() and os.access(venv, os.X_OK):
        return str(venv)
    on_path = shutil.which("logscan")
    if on_path:
        return on_path
    raise SetupError(f"logscan not found: neither {venv} nor `logscan` on PATH (run `make test` to create .venv)")


def find_pflogsumm(_cache: Path) -> list[str]:
    found = shutil.which("pflogsumm") or ("/usr/sbin/pflogsumm" if Path("/usr/sbin/pflogsumm").is_file() else None)
    if not found:
        raise SetupError("pflogsumm not found; install it with: apt-get install -y pflogsumm")
    return [found]


def find_eximstats(cache: Path) -> list[str]:
    """eximstats on PATH, else the script of Debian's exim4-base extracted into the cache (done here
    once: the package is downloaded, not installed, so the machine's MTA stays)."""
    found = shutil.which("eximstats") or ("/usr/sbin/eximstats" if Path("/usr/sbin/eximstats").is_file() else None)
    if found:
        return [found]
    script = cache / "exim4-base/usr/sbin/eximstats"
    if not script.is_file():
        debs = cache / "debs"
        debs.mkdir(parents=True, exist_ok=True)
        print("extracting eximstats from Debian's exim4-base (apt-get download, dpkg-deb -x) ...", file=sys.stderr)
        got = subprocess.run(["apt-get", "download", "exim4-base"], cwd=debs, capture_output=True, text=True)
        pkgs = sorted(debs.glob("exim4-base_*.deb"))
        if got.returncode != 0 or not pkgs:
            raise SetupError("eximstats not found and `apt-get download exim4-base` failed:\n" + tail(got.stderr)
                             + "\n(download the package by hand and run: dpkg-deb -x exim4-base_*.deb "
                             f"{cache / 'exim4-base'})")
        subprocess.run(["dpkg-deb", "-x", str(pkgs[-1]), str(cache / "exim4-base")], check=True)
    return ["perl", str(script)]


KINDS = {  # kind -> reference tool, its finder, name of the generated file
    "postfix": ("pflogsumm", find_pflogsumm, "mail.log"),
    "exim": ("eximstats", find_eximstats, "mainlog"),
}
LOGSCAN_TOOLS = {  # name -> environment
    "logscan": {"LOGSCAN_ENGINE": "python"},
    "logscan-rust": {"LOGSCAN_ENGINE": "rust"},
    "logscan-1core": {"LOGSCAN_ENGINE": "python", "LOGSCAN_WORKERS": "1"},
}


def rust_engine_missing(logscan: str) -> str | None:
    """None when logscan's interpreter can import the compiled core (logscan._core, built by
    `pip install -e .` where cargo is found); else why not."""
    python = Path(logscan).with_name("python")
    if not python.is_file():
        python = Path(sys.executable)
    got = subprocess.run([str(python), "-c", "import logscan._core"], capture_output=True, text=True,
                         errors="replace")
    if got.returncode == 0:
        return None
    last = (got.stderr.strip().splitlines() or [f"exit {got.returncode}"])[-1]
    return f"rust engine not built ({last[:160]})"


# --- measuring -----------------------------------------------------------------------------------

def _busy_jiffies() -> int:
    with open("/proc/stat") as fh:
        fields = [int(x) for x in fh.readline().split()[1:]]
    return sum(fields) - fields[3] - (fields[4] if len(fields) > 4 else 0)  # all but idle and iowait


def _loadavg() -> float:
    return os.getloadavg()[0]


def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except OSError:
            continue
    return out


def _kb(path: str, key: str) -> int:
    try:
        with open(path) as fh:
            for line in fh:
                if line.startswith(key):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _rss_pss_kb(pid: int) -> tuple[int, int]:
    """VmRSS, and Pss (the process's share of pages it shares with others: a forked worker's
    inherited pages count half in each), in KiB."""
    return _kb(f"/proc/{pid}/status", "VmRSS:"), _kb(f"/proc/{pid}/smaps_rollup", "Pss:")


def _cpu_by_process() -> dict[int, tuple[str, int]]:
    """pid -> (command name, user + sys jiffies so far), for every process."""
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as fh:
                text = fh.read()
        except OSError:
            continue
        comm = text[text.index("(") + 1:text.rindex(")")]
        fields = text[text.rindex(")") + 2:].split()
        out[int(name)] = (comm, int(fields[11]) + int(fields[12]))
    return out


def measure(name: str, cmd: list[str], env: dict[str, str], workdir: Path) -> dict:
    """Run cmd; wall, CPU of the tree, peak RSS of the tree, and the other load meanwhile."""
    err_path = workdir / f"stderr-{name}.txt"
    before_procs, load_before = _cpu_by_process(), _loadavg()
    busy0, t0 = _busy_jiffies(), time.perf_counter()
    with open(err_path, "wb") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env={**os.environ, **env})
    peak = [0, 0]
    seen: set[int] = set()
    done = threading.Event()

    def poll() -> None:
        while not done.is_set():
            pids = _tree(proc.pid)
            seen.update(pids)
            sizes = [_rss_pss_kb(p) for p in pids]
            peak[0] = max(peak[0], sum(r for r, _ in sizes))
            peak[1] = max(peak[1], sum(p for _, p in sizes))
            done.wait(POLL_S)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    busy = (_busy_jiffies() - busy0) / HZ
    done.set()
    poller.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    after_procs = _cpu_by_process()
    if proc.returncode != 0:
        raise ToolFailed(f"{name} failed (exit {proc.returncode}): {' '.join(cmd)}\n--- stderr (tail) ---\n"
                         + (tail(err_path.read_text(errors="replace")) or "(empty)"))
    cpu = usage.ru_utime + usage.ru_stime
    others = []
    for pid, (comm, ticks) in after_procs.items():
        if pid in seen or pid == os.getpid():
            continue
        was = before_procs.get(pid, (comm, 0))[1] if pid in before_procs else 0
        if ticks - was > 0:
            others.append((ticks - was, comm))
    others.sort(reverse=True)
    return {
        "wall_s": wall, "cpu_s": cpu, "peak_rss_mb": peak[0] / 1024, "peak_pss_mb": peak[1] / 1024, "maxrss_single_mb": usage.ru_maxrss / 1024,
        "others_cores": max(busy - cpu, 0.0) / wall if wall > 0 else 0.0,
        "load_before": load_before, "load_after": _loadavg(),
        "top_others": [f"{comm} {t / HZ:.1f}s" for t, comm in others[:3]],
    }


# --- the logs ------------------------------------------------------------------------------------

def generated_log(genlog: Path, kind: str, mb: float, cache: Path) -> Path:
    """The generated log of this kind and size, from the cache when there (genlog.py is deterministic)."""
    if not genlog.is_file():
        raise SetupError(f"log generator not found: {genlog} (pass --genlog PATH or --log FILE)")
    dest = cache / f"{kind}-{mb:g}MiB-{int(genlog.stat().st_mtime)}.log"
    if dest.is_file():
        return dest
    cache.mkdir(parents=True, exist_ok=True)
    print(f"generating {mb:g} MiB {kind} log with {genlog} ...", file=sys.stderr, flush=True)
    part = dest.with_suffix(".part")
    with part.open("wb") as out:
        got = subprocess.run([sys.executable, str(genlog), kind, "--mb", f"{mb:g}"], stdout=out, stderr=subprocess.PIPE)
    if got.returncode != 0:
        part.unlink(missing_ok=True)
        raise SetupError(f"genlog.py failed (exit {got.returncode}):\n" + tail(got.stderr.decode(errors="replace")))
    part.rename(dest)
    return dest


def count_lines(path: Path) -> int:
    """Count lines; this also pulls the file into the page cache before the timed runs."""
    lines = 0
    with path.open("rb") as f:
        while chunk := f.read(8 * MIB):
            lines += chunk.count(b"\n")
    return lines


# --- the table -----------------------------------------------------------------------------------

def summarize(samples: list[dict], size_mib: float) -> dict:
    med = {k: statistics.median(s[k] for s in samples)
           for k in ("wall_s", "cpu_s", "peak_rss_mb", "peak_pss_mb", "maxrss_single_mb", "others_cores")}
    med["min_wall_s"], med["max_wall_s"] = min(s["wall_s"] for s in samples), max(s["wall_s"] for s in samples)
    med["max_peak_rss_mb"] = max(s["peak_rss_mb"] for s in samples)
    med["mib_per_s"] = size_mib / med["wall_s"] if med["wall_s"] > 0 else 0.0
    med["runs"] = len(samples)
    return med


def table_of(block: dict) -> list[str]:
    """Markdown lines for one log: a row per tool, ratios against the reference tool."""
    ref = block["reference"]
    res = block["results"]
    lines = [f"**{block['kind'].capitalize()}, {block['size_mib']:.0f} MiB** ({block['lines']:,} lines; "
             f"{max(r['runs'] for r in res.values())} run(s) each, alternating; other processes used "
             f"{block['others_cores']:.2f} cores on average during the runs, load average "
             f"{block['load'][0]:.1f} -> {block['load'][1]:.1f})", "",
             "| tool | wall (median, min-max) | CPU user+sys | cores used | MiB/s | peak RSS (PSS), process tree | ratio |",
             "|---|---|---|---|---|---|---|"]
    base, base_cpu = res.get(ref, {}).get("wall_s"), res.get(ref, {}).get("cpu_s")
    for name, r in res.items():
        if name == ref:
            ratio = "reference"
        elif name == "logscan-1core" and "logscan" in res:
            ratio = f"2 cores / 1 core: {r['wall_s'] / res['logscan']['wall_s']:.2f}x the speed"
        elif base:
            ratio = f"{base / r['wall_s']:.2f}x {ref} (CPU {base_cpu / r['cpu_s']:.2f}x)"
        else:
            ratio = "-"
        lines.append(f"| {name} | {r['wall_s']:.2f} s ({r['min_wall_s']:.2f}-{r['max_wall_s']:.2f}) | "
                     f"{r['cpu_s']:.2f} s | {r['cpu_s'] / r['wall_s']:.2f} | {r['mib_per_s']:.1f} | "
                     f"{r['peak_rss_mb']:.0f} ({r['peak_pss_mb']:.0f}) MiB | {ratio} |")
    for name, why in block.get("skipped", {}).items():
        lines.append(f"| {name} | {why} | | | | | |")
    lines.append("")
    return lines


def report_text(meta: dict, blocks: list[dict]) -> str:
    out = [f"Measured {meta['date']} on commit {meta['commit']} ({meta['machine']}), "
           f"by `{meta['command']}`.", ""]
    for block in blocks:
        out += table_of(block)
    out += ["CPU is the tool's and its workers' user+sys time (wait4); cores used = CPU / wall. Peak RSS is "
            "the largest sum of VmRSS over the tool's process tree, sampled every 50 ms (a forked worker's "
            "pages shared with its parent count twice); PSS, in brackets, counts shared pages once. The ratio is the reference tool's median wall time "
            "over the tool's (in brackets, the same for CPU time, steadier on a busy machine). The machine is shared: read the other processes' load beside each table, "
            "and compare ratios within one table, not seconds across runs.", ""]
    return "\n".join(out)


def write_outputs(text: str, meta: dict) -> None:
    doc = REPO / "docs/benchmark.md"
    doc.write_text("# Benchmark (generated by `make bench`, tools/bench/bench.py)\n\n" + text)
    readme = REPO / "README.md"
    body = readme.read_text()
    if BEGIN in body and END in body:
        head, rest = body.split(BEGIN, 1)
        _, after = rest.split(END, 1)
        readme.write_text(f"{head}{BEGIN}\n{text}\n{END}{after}")
        print(f"written: {doc} and README.md's benchmark section", file=sys.stderr)
    else:
        print(f"written: {doc} (README.md has no {BEGIN} ... {END} section to fill)", file=sys.stderr)


def git_commit() -> str:
    """Short commit, '+' when the working tree has changes (read-only git calls)."""
    try:
        head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return (head or "unknown") + (" with uncommitted changes" if dirty else "")


def machine() -> str:
    model = ""
    try:
        model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "")
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0))
    return f"{cores} cores{', ' + model if model else ''}, Python {platform.python_version()}"


# --- the run -------------------------------------------------------------------------------------

def run(args: argparse.Namespace) -> int:
    cache = Path(args.cache)
    logscan = find_logscan()
    kinds = [args.kind] if args.kind else list(KINDS)
    sizes = [float(s) for s in args.sizes.split(",")] if args.sizes else ([20.0] if args.quick else [100.0, 1024.0])
    wanted = set(args.tools.split(",")) if args.tools else None
    workdir = Path(tempfile.mkdtemp(prefix="logscan-bench."))
    started = time.perf_counter()
    try:
        rust_missing = rust_engine_missing(logscan) if wanted is None or "logscan-rust" in wanted else None
        if rust_missing:
            print(rust_missing, file=sys.stderr)
        blocks = []
        for size in ([0.0] if args.log else sizes):
            for kind in kinds:
                ref, find_ref, _ = KINDS[kind]
                log = Path(args.log) if args.log else generated_log(Path(args.genlog), kind, size, cache)
                size_mib = log.stat().st_size / MIB
                lines = count_lines(log)
                out = workdir / "out.parquet"
                tools: dict[str, tuple[list[str], dict[str, str]]] = {}
                skipped = {}
                if wanted is None or ref in wanted:
                    tools[ref] = ([*find_ref(cache), str(log)], {})
                for name, env in LOGSCAN_TOOLS.items():
                    if wanted is not None and name not in wanted:
                        continue
                    if name == "logscan-rust" and rust_missing:
                        skipped[name] = "rust engine not built"
                        continue
                    tools[name] = ([logscan, "scan", str(log), "--quiet", "--output", str(out), "--force"], env)
                runs = args.runs or (3 if size_mib <= 200 else 1)
                samples: dict[str, list[dict]] = {name: [] for name in tools}
                for i in range(runs):
                    for name, (cmd, env) in tools.items():
                        print(f"{kind} {size_mib:.0f} MiB, run {i + 1}/{runs}: {name} ...", end=" ",
                              file=sys.stderr, flush=True)
                        s = measure(name, cmd, env, workdir)
                        samples[name].append(s)
                        print(f"{s['wall_s']:.2f} s wall, {s['cpu_s']:.2f} s CPU, {s['peak_rss_mb']:.0f} MiB; "
                              f"others {s['others_cores']:.2f} cores ({', '.join(s['top_others'])})",
                              file=sys.stderr, flush=True)
                all_samples = [s for v in samples.values() for s in v]
                blocks.append({
                    "kind": kind, "size_mib": size_mib, "lines": lines, "log": str(log), "reference": ref,
                    "results": {name: summarize(v, size_mib) for name, v in samples.items()},
                    "samples": samples, "skipped": skipped,
                    "others_cores": statistics.median(s["others_cores"] for s in all_samples),
                    "load": (all_samples[0]["load_before"], all_samples[-1]["load_after"]),
                })
        meta = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "commit": git_commit(),
                "machine": machine(), "command": "make bench" if not (args.quick or args.sizes or args.tools
                                                                      or args.kind or args.log or args.runs)
                else "python3 tools/bench/bench.py " + " ".join(sys.argv[1:]),
                "minutes": (time.perf_counter() - started) / 60}
        text = report_text(meta, blocks)
        print()
        print(text)
        print(f"({meta['minutes']:.1f} minutes)", file=sys.stderr)
        if args.json:
            Path(args.json).write_text(json.dumps({"meta": meta, "blocks": blocks}, indent=2) + "\n")
        if args.write or not (args.no_write or args.quick or args.log):
            write_outputs(text, meta)
        return 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="logscan against pflogsumm and eximstats on generated logs "
                                             "(wall, CPU, peak RSS of the process tree, the machine's other load).")
    ap.add_argument("--quick", action="store_true", help="20 MiB only (writes nothing unless --write)")
    ap.add_argument("--sizes", metavar="MIB,...", help="log sizes in MiB (default 100,1024)")
    ap.add_argument("--kind", choices=sorted(KINDS), help="one kind only (default both)")
    ap.add_argument("--tools", metavar="NAME,...",
                    help="only these: pflogsumm, eximstats, logscan, logscan-rust, logscan-1core")
    ap.add_argument("--runs", type=int, help="runs per tool (default 3 up to 200 MiB, 1 above)")
    ap.add_argument("--log", metavar="PATH", help="an existing log instead of generated ones (needs --kind)")
    ap.add_argument("--genlog", metavar="PATH", default=str(DEFAULT_GENLOG), help="the log generator")
    ap.add_argument("--cache", metavar="DIR", default=str(DEFAULT_CACHE),
                    help=f"generated logs and the extracted eximstats (default {DEFAULT_CACHE})")
    ap.add_argument("--json", metavar="FILE", help="also write every sample to this JSON file")
    ap.add_argument("--write", action="store_true", help="write docs/benchmark.md and README's section")
    ap.add_argument("--no-write", action="store_true", help="print only")
    args = ap.parse_args(argv)
    if args.log and not args.kind:
        ap.error("--log needs --kind")
    if args.runs is not None and args.runs < 1:
        ap.error("--runs must be at least 1")
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
