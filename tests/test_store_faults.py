"""Bad days for a --store run: a disk that fills up for a moment, a state file damaged in any way,
a run killed while its range workers parse. Each ends with a documented exit code, loses no row
and leaves the store usable."""

from __future__ import annotations

import errno
import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from logscan import store as store_mod
from logscan.cli import app
from logscan.store import META, read_failures

from conftest import REPO

runner = CliRunner()
POSTFIX = REPO / "sample_logs" / "postfix"
GENLOG = REPO.parent / "shared" / "bench" / "genlog.py"


def run_store(store: Path, logs: Path = POSTFIX):
    return runner.invoke(app, ["scan", str(logs), "--store", str(store), "--quiet"])


def stored_rows(store: Path) -> int:
    return read_failures(store).table.num_rows


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> int:
    store = tmp_path_factory.mktemp("clean") / "store"
    assert run_store(store).exit_code == 0
    return stored_rows(store)


def _enospc(*_a, **_k):
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("where", ["rows", "parser state", "commit"])
def test_a_full_disk_is_exit_4_commits_nothing_and_loses_nothing(tmp_path, monkeypatch, uninterrupted, where):
    store = tmp_path / "store"
    with monkeypatch.context() as m:
        if where == "rows":  # the first batch of rows
            m.setattr(store_mod.DayWriter, "write", _enospc)
        elif where == "parser state":
            m.setattr(store_mod.gzip, "compress", _enospc)
        else:
            real = store_mod._write_atomic
            m.setattr(store_mod, "_write_atomic",
                      lambda path, data: _enospc() if path.name == "state.json" else real(path, data))
        r = run_store(store)
    assert r.exit_code == 4, r.output
    assert "No space left on device" in r.output and "nothing of this run was committed" in r.output
    assert not (store / META / "state.json").exists()
    # the disk has room again: the next run reads everything, once
    assert run_store(store).exit_code == 0
    assert stored_rows(store) == uninterrupted
    assert run_store(store).exit_code == 0
    assert stored_rows(store) == uninterrupted


def _deep(n: int) -> str:
    return "[" * n + "]" * n


STATE_DAMAGE = {
    "nested 100k deep": lambda meta: (meta / "state.json").write_text(_deep(100_000)),
    "a list of numbers as files": lambda meta: (meta / "state.json").write_text(
        json.dumps({"version": 1, "files": [1, 2, 3]})),
    "a file entry with a wrong field type": lambda meta: (meta / "state.json").write_text(
        json.dumps({"version": 1, "files": [{"path": 1}]})),
    "not JSON": lambda meta: (meta / "state.json").write_bytes(b"\x00\xff{"),
    "a folder": lambda meta: ((meta / "state.json").unlink(), (meta / "state.json").mkdir()),
    "parser state not gzip": lambda meta: _parser_state(meta).write_bytes(b"not gzip at all"),
    "parser state cut short": lambda meta: _parser_state(meta).write_bytes(
        gzip.compress(b'{"postfix": {}}' * 100)[:30]),
    "parser state nested 100k deep": lambda meta: _parser_state(meta).write_bytes(gzip.compress(_deep(100_000).encode())),
    "parser state of a wrong type": lambda meta: _parser_state(meta).write_bytes(
        gzip.compress(json.dumps({"postfix": {"queue": [1, 2]}}).encode())),
}


def _parser_state(meta: Path) -> Path:
    return meta / json.loads((meta / "state.json").read_text())["parser_state"]


@pytest.mark.parametrize("damage", list(STATE_DAMAGE))
def test_damaged_state_of_any_kind_is_exit_10(tmp_path, damage):
    store = tmp_path / "store"
    assert run_store(store).exit_code == 0
    STATE_DAMAGE[damage](store / META)
    (POSTFIX / "mail.log").stat()  # the logs are unchanged: the run must still look at the state
    r = runner.invoke(app, ["scan", str(POSTFIX), str(REPO / "sample_logs" / "exim"), "--store", str(store), "--quiet"])
    assert r.exit_code == 10, (r.exit_code, r.output)
    assert "cannot be read" in r.output


def test_a_child_of_a_killed_run_does_not_keep_the_store_locked(tmp_path):
    """The lock belongs to the run's process: a process it forked that outlives it (a range worker
    whose run was killed with -9) does not hold it."""
    store = tmp_path / "store"
    code = (f"import os, sys, time\nfrom pathlib import Path\nfrom logscan.store import Store\n"
            f"s = Store(Path({str(store)!r})).__enter__()\n"
            "child = os.fork()\n"
            "if child == 0:\n    time.sleep(30); os._exit(0)\n"
            "print(child, flush=True); time.sleep(30)\n")
    run = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    child = int(run.stdout.readline())
    try:
        assert run_store(store).exit_code == 8  # the run itself holds it
        run.kill()
        run.wait()
        os.kill(child, 0)  # the orphan is still there ...
        assert run_store(store).exit_code == 0  # ... and the store is free
    finally:
        for pid in (child,):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found |= {int(c) for c in (task / "children").read_text().split()}
        except OSError:
            pass
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux") or not GENLOG.exists(), reason="Linux /proc and ../shared/bench")
def test_kill_9_during_a_parallel_parse_leaves_no_worker_and_no_lock(tmp_path):
    """A log over SPLIT_MIN_BYTES is parsed by range workers; kill -9 the run while they work: they
    die with it, their spool folder is removed by the next run, and the next run stores exactly
    the rows of an uninterrupted run."""
    log = tmp_path / "logs" / "mail.log"
    log.parent.mkdir()
    with open(log, "w") as fh:
        subprocess.run([sys.executable, str(GENLOG), "postfix", "--mb", "34"], stdout=fh, check=True)
    # (the range workers are the Python reference's: the compiled Postfix core reads a file whole)
    env = {**os.environ, "TMPDIR": str(tmp_path), "LOGSCAN_ENGINE": "python"}
    cmd = [sys.executable, "-c", "from logscan.cli import main; main()", "scan", str(log.parent), "--quiet"]
    proc = subprocess.Popen([*cmd, "--store", str(tmp_path / "killed")], env=env)
    workers: set[int] = set()
    deadline = time.monotonic() + 120
    while not workers and time.monotonic() < deadline and proc.poll() is None:
        workers = _children(proc.pid)
        time.sleep(0.05)
    if not workers:
        pytest.skip("the run finished before its workers could be seen")
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 10
    while any(map(_alive, workers)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(map(_alive, workers)), "a range worker outlived its killed run"
    assert subprocess.run([*cmd, "--store", str(tmp_path / "killed")], env=env).returncode == 0
    assert not list(tmp_path.glob("logscan-*")), "spool folders of the killed run are left"
    assert subprocess.run([*cmd, "--store", str(tmp_path / "clean")], env=env).returncode == 0
    assert stored_rows(tmp_path / "killed") == stored_rows(tmp_path / "clean") > 0


def test_a_log_cut_short_in_place_is_read_on_from_its_end_not_again(tmp_path):
    """`truncate -s` of a log to a shorter length that keeps its first part: that part was stored
    already, so nothing is read twice; lines written after the cut are read once. A file cut and
    rewritten with other content after its first KiB is still read again from the start."""
    logs = tmp_path / "logs"
    logs.mkdir()
    lines = (POSTFIX / "mail.log").read_bytes().splitlines(keepends=True)
    log = logs / "mail.log"
    log.write_bytes(b"".join(lines))
    store = tmp_path / "store"
    assert run_store(store, logs).exit_code == 0
    full = stored_rows(store)
    keep = len(lines) * 3 // 5
    os.truncate(log, sum(map(len, lines[:keep])))
    r = run_store(store, logs)
    assert r.exit_code == 0 and stored_rows(store) == full, r.output
    with open(log, "ab") as fh:  # the writer goes on after the cut: those lines are new
        fh.write(b"".join(lines[keep:]))
    assert run_store(store, logs).exit_code == 0
    assert stored_rows(store) == full + _rows_of(tmp_path, lines[keep:])
    # the same length and first KiB, other content after it: a rewrite, read from the start
    rewritten = lines[:12] + lines[keep:]
    os.truncate(log, 0)
    log.write_bytes(b"".join(rewritten))
    before = stored_rows(store)
    assert run_store(store, logs).exit_code == 0
    assert stored_rows(store) == before + _rows_of(tmp_path, rewritten)


def _rows_of(tmp_path: Path, lines: list[bytes]) -> int:
    folder = tmp_path / f"alone-{len(lines)}"
    folder.mkdir()
    (folder / "mail.log").write_bytes(b"".join(lines))
    assert run_store(folder / "store", folder).exit_code == 0
    return stored_rows(folder / "store")


def test_report_stops_at_its_memory_ceiling_with_a_clear_error(tmp_path):
    out = tmp_path / "report"
    r = runner.invoke(app, ["report", str(REPO / "sample_logs"), "--out", str(out), "--max-memory", "1M"])
    assert r.exit_code == 12, r.output
    assert "memory ceiling of 1 MiB" in r.output and "--since" in r.output
    assert not out.exists()  # nothing half-written
    assert runner.invoke(app, ["report", str(REPO / "sample_logs"), "--out", str(out), "--max-memory", "lots"]).exit_code == 2
    assert runner.invoke(app, ["report", str(REPO / "sample_logs"), "--out", str(out), "--max-memory", "2G"]).exit_code == 0
