"""kill -9 at any point of a --store run, then run again: the store holds exactly the rows of
runs that were never interrupted (no duplicate, no gap), and no debris."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pytest
from logrotate_sim import LogDir, timeline
from typer.testing import CliRunner

from logscan.cli import app
from logscan.store import META, read_failures

from conftest import REPO

GENLOG = REPO.parent / "shared" / "bench" / "genlog.py"
KILL_POINTS = ["mid-scan", "after-scan", "before-commit", "after-commit", "after-moves"]


def logscan(store: Path, logs: Path, kill_at: str | None = None) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "LOGSCAN_TEST_KILL_AT"}
    if kill_at:
        env["LOGSCAN_TEST_KILL_AT"] = kill_at
    return subprocess.Popen([sys.executable, "-c", "from logscan.cli import main; main()", "scan", str(logs),
                             "--store", str(store), "--quiet"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def finish(proc: subprocess.Popen) -> int:
    out, err = proc.communicate(timeout=300)
    assert proc.returncode in (0, -signal.SIGKILL), err.decode()
    return proc.returncode


def all_rows(store: Path) -> Counter:
    """Every stored row, whole; source_file by name, as the two runs read logs in different folders."""
    table: pa.Table = read_failures(store).table
    cols = [table.column(c).to_pylist() for c in table.column_names]
    names = table.column_names.index("source_file")
    cols[names] = [Path(p).name for p in cols[names]]
    return Counter(zip(*cols, strict=True))


def assert_no_debris(store: Path) -> None:
    listed = set(json.loads((store / META / "state.json").read_text())["data_files"])
    on_disk = {str(p.relative_to(store)) for p in store.glob("host=*/day=*/*.parquet")}
    assert on_disk == listed
    assert not any((store / META / "staging").glob("*/**/*.parquet"))


def scenario(logs: Path, step: int):
    """Three runs' worth of log changes: growth, then a rotation with lines after it."""
    log = LogDir(logs, timeline())
    yield lambda: log.write(step)
    yield lambda: (log.write(step), log.rotate(hup=False), log.write(step // 2), log.hup(), log.write(step))
    yield lambda: (log.write(step), log.rotate(), log.write(step))


def run_in_process(store: Path, logs: Path) -> None:
    r = CliRunner().invoke(app, ["scan", str(logs), "--store", str(store), "--quiet"])
    assert r.exit_code == 0, r.output


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> list[Counter]:
    """The store's rows after each run of the scenario, no run killed."""
    tmp = tmp_path_factory.mktemp("uninterrupted")
    logs, store = tmp / "logs", tmp / "store"
    logs.mkdir()
    out = []
    for change in scenario(logs, 300):
        change()
        run_in_process(store, logs)
        out.append(all_rows(store))
    return out


@pytest.mark.parametrize("kill_at", KILL_POINTS)
def test_killed_run_then_rerun_equals_uninterrupted(tmp_path, kill_at, uninterrupted):
    logs, store = tmp_path / "logs", tmp_path / "store"
    logs.mkdir()
    for change, want in zip(scenario(logs, 300), uninterrupted, strict=True):
        change()
        assert finish(logscan(store, logs, kill_at)) == -signal.SIGKILL  # a real process, killed
        run_in_process(store, logs)
        # provenance included: the same files were read in the same runs
        assert all_rows(store) == want
        assert_no_debris(store)


def _wait_for(proc: subprocess.Popen, ready, timeout: float = 120) -> bool:
    """Poll until ready() or the process ends; True if ready() while it still ran."""
    end = time.monotonic() + timeout
    while time.monotonic() < end and proc.poll() is None:
        try:
            if ready():
                return True
        except FileNotFoundError:  # the run removed a folder while glob walked it: look again
            pass
        time.sleep(0.005)
    return False


@pytest.mark.slow
@pytest.mark.skipif(not GENLOG.exists(), reason="../shared/bench/genlog.py not present")
def test_kills_at_observed_moments_on_a_large_log(tmp_path):
    """kill -9 a run parsing a generated 8 MiB log as soon as it has begun, as soon as its first
    rows are staged, and a while after; then run to the end: the rows equal an uninterrupted run's."""
    logs = tmp_path / "logs"
    logs.mkdir()
    with open(logs / "mail.log", "wb") as fh:
        subprocess.run([sys.executable, str(GENLOG), "postfix", "--mb", "8", "--seed", "7"], stdout=fh, check=True)
    ref_store, store = tmp_path / "ref-store", tmp_path / "store"
    assert finish(logscan(ref_store, logs)) == 0
    staging = store / META / "staging"
    moments = [lambda: any(staging.glob("*")),  # the run has begun
               lambda: any(staging.glob("*/host=*/day=*/*.parquet")),  # its first rows are staged
               lambda: any(staging.glob("*/host=*/day=*/*.parquet")) and time.sleep(0.3) is None]
    killed = 0
    for ready in moments:
        proc = logscan(store, logs)
        if _wait_for(proc, ready):
            proc.send_signal(signal.SIGKILL)
            killed += finish(proc) == -signal.SIGKILL
        else:
            finish(proc)
    assert killed >= 2  # the run lasts long enough for these moments to come before its end
    if killed == len(moments):
        assert not (store / META / "state.json").exists()  # a killed run commits nothing
    assert finish(logscan(store, logs)) == 0
    assert_no_debris(store)
    got, want = all_rows(store), all_rows(ref_store)
    assert got == want and sum(want.values()) > 1000
