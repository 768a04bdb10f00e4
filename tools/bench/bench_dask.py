"""How `scan --dask` scales with workers: one generated log, scanned locally (1 process) and on a
LocalCluster of 1 and of 2 single-threaded worker processes; wall time of each (the cluster's start
and the workers' import of logscan not counted, as on a long-lived cluster), the rows (which must be the same) and the load average around each run.

    python tools/bench/bench_dask.py --mb 24 --range-mb 4
"""

from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GENLOG = Path(__file__).resolve().parents[3] / "shared" / "bench" / "genlog.py"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kind", default="postfix", choices=("postfix", "exim"))
    ap.add_argument("--mb", type=float, default=24)
    ap.add_argument("--range-mb", type=float, default=4, help="bytes of the log per task")
    ap.add_argument("--log", type=Path, help="scan this log instead of generating one")
    args = ap.parse_args()

    from distributed import Client, LocalCluster

    from logscan import distributed
    from logscan.pipeline import ScanOptions, scan

    with tempfile.TemporaryDirectory() as tmp:
        log = args.log
        if log is None:
            log = Path(tmp) / "mail.log"
            with open(log, "wb") as fh:
                subprocess.run([sys.executable, str(GENLOG), args.kind, "--mb", str(args.mb), "--seed", "5"],
                               stdout=fh, check=True)
        size = log.stat().st_size
        print(f"log: {log} ({size / 2**20:.1f} MiB), {int(args.range_mb * 2**20)} bytes per task, "
              f"{os.cpu_count()} cores")

        def timed(name: str, fn) -> None:
            load = os.getloadavg()[0]
            t0 = time.perf_counter()
            rows = fn()
            dt = time.perf_counter() - t0
            print(f"{name:<22} {dt:7.2f} s  {size / 2**20 / dt:6.2f} MiB/s  {rows} rows  "
                  f"load {load:.1f} -> {os.getloadavg()[0]:.1f}", flush=True)

        timed("local, 1 process", lambda: scan([str(log)], ScanOptions(workers=1)).table.num_rows)
        for n in (1, 2):
            t0 = time.perf_counter()
            with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None) as c, \
                    Client(c) as client:
                # a long-lived cluster's workers have imported logscan already: so do these, before the clock
                client.run(importlib.import_module, "logscan.distributed")
                print(f"  (cluster of {n} started and warmed in {time.perf_counter() - t0:.1f} s)")
                timed(f"dask, {n} worker(s)", lambda client=client, n=n: distributed.scan(
                    [str(log)], ScanOptions(workers=n), dask=client,
                    range_bytes=int(args.range_mb * 2**20)).table.num_rows)


if __name__ == "__main__":
    main()
