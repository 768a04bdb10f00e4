"""Dask as the distributed engine (logscan/distributed.py): on a LocalCluster of 2 worker processes,
the same rows as a local run, through the API and through `scan --dask ... --store`, with
correlation carried across byte ranges and rotated files; a missing Dask is exit 2 with the pip command."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

import logscan
from logscan import distributed
from logscan.cli import app
from logscan.discover import discover
from logscan.store import META, read_failures

from conftest import REPO

GENLOG = REPO.parent / "shared" / "bench" / "genlog.py"
SAMPLES = REPO / "sample_logs"
CLIENT_LOGS = [SAMPLES / name for name in ("phpmailer", "smtplib", "nodemailer", "msmtp", "symfony")]
needs_genlog = pytest.mark.skipif(not GENLOG.exists(), reason="../shared/bench/genlog.py not present")


def rows(table: pa.Table) -> Counter:
    table = table.select(sorted(c for c in table.column_names if c != "day"))
    return Counter(zip(*[table.column(c).to_pylist() for c in table.column_names], strict=True))


def rotated(folder: Path, kind: str, name: str, mb: float, seed: int) -> list[bytes]:
    """A generated log, as logrotate leaves it: NAME.2.gz, NAME.1, NAME (messages span the cuts)."""
    text = subprocess.run([sys.executable, str(GENLOG), kind, "--mb", str(mb), "--seed", str(seed)],
                          capture_output=True, check=True).stdout
    lines = text.splitlines(keepends=True)
    a, b = len(lines) // 3, 2 * len(lines) // 3
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.2.gz").write_bytes(gzip.compress(b"".join(lines[:a])))
    (folder / f"{name}.1").write_bytes(b"".join(lines[a:b]))
    (folder / name).write_bytes(b"".join(lines[b:]))
    return lines


@pytest.fixture(scope="module")
def cluster():
    dist = pytest.importorskip("distributed")
    with dist.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c, \
            dist.Client(c) as client:
        yield client


@pytest.fixture
def logs(tmp_path) -> Path:
    rotated(tmp_path / "logs" / "mx1", "postfix", "mail.log", 0.6, 11)
    rotated(tmp_path / "logs" / "mx2", "exim", "mainlog", 0.4, 12)
    return tmp_path / "logs"


@pytest.mark.slow
@needs_genlog
def test_same_rows_as_a_local_run(cluster, logs, monkeypatch):
    monkeypatch.setattr(distributed, "RANGE_BYTES", 48 << 10)  # several ranges per plain file
    plain = logs / "mx1" / "mail.log"
    assert len(distributed.units_of(discover([str(plain)], None)[0][0], None, distributed.RANGE_BYTES)) > 3
    paths = [logs, *CLIENT_LOGS]
    local = logscan.scan_with_stats(paths, workers=1)
    remote = logscan.scan_with_stats(paths, dask=cluster)
    assert rows(remote.table) == rows(local.table)
    assert remote.table.num_rows > 300 and len(set(remote.table.column("source").to_pylist())) >= 6
    pending = [r for r in remote.table.to_pylist() if r["source_file"].endswith(("mail.log", "mail.log.1"))
               and r["sender"] is not None]
    assert pending  # failures whose sender came from a range or file before theirs
    for mine, theirs in zip(remote.files, local.files, strict=True):
        assert (mine.path, mine.lines, mine.failures, mine.ignored, mine.unparsed, mine.end_offset, mine.deliveries) \
            == (theirs.path, theirs.lines, theirs.failures, theirs.ignored, theirs.unparsed, theirs.end_offset,
                theirs.deliveries)


def listing(store: Path) -> set[str]:
    return {str(Path(f).parent) for f in json.loads((store / META / "state.json").read_text())["data_files"]}


@pytest.mark.slow
@needs_genlog
def test_store_run_on_the_cluster_equals_a_local_one(cluster, logs, monkeypatch, tmp_path):
    """`scan --dask ADDRESS PATHS --store DIR`, twice (the log grows between the runs: the second
    run reads on from the offsets), holds the rows and partitions of the same runs made locally."""
    monkeypatch.setattr(distributed, "RANGE_BYTES", 64 << 10)
    runner = CliRunner()
    grow = rotated(tmp_path / "more", "postfix", "mail.log", 0.2, 13)
    for step in (0, 1):
        if step:
            with open(logs / "mx1" / "mail.log", "ab") as fh:
                fh.write(b"".join(grow))
        for store, extra in ((tmp_path / "local", []), (tmp_path / "dask", ["--dask", cluster.scheduler.address])):
            r = runner.invoke(app, ["scan", str(logs), "--store", str(store), "--quiet", *extra])
            assert r.exit_code == 0, r.output
        assert rows(read_failures(tmp_path / "dask").table) == rows(read_failures(tmp_path / "local").table)
    assert listing(tmp_path / "dask") == listing(tmp_path / "local")
    assert {p.split("/")[0] for p in listing(tmp_path / "dask")} >= {"host=mx1"}


def test_missing_dask_is_a_usage_error_with_the_pip_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    r = CliRunner().invoke(app, ["scan", "--dask", "local", str(SAMPLES / "postfix"), "--quiet"])
    assert r.exit_code == 2
    assert "pip install 'logscan-mail[dask]'" in r.output
    with pytest.raises(distributed.DaskMissingError):
        logscan.scan([SAMPLES / "postfix"], dask="local")


@pytest.mark.slow
def test_unreachable_scheduler_is_a_usage_error():
    pytest.importorskip("distributed")
    r = CliRunner().invoke(app, ["scan", "--dask", "tcp://127.0.0.1:9", str(SAMPLES / "postfix"), "--quiet"])
    assert r.exit_code == 2 and "cannot reach the Dask scheduler tcp://127.0.0.1:9" in r.output


@pytest.mark.slow
@needs_genlog
def test_a_read_error_stops_the_file_there_as_in_a_local_run(tmp_path, monkeypatch):
    """An I/O error in the middle of a plain file cut in ranges: the file's reading stops there, as
    in a local run (same rows, same stats, the same offset for an --store run to read on from); the
    ranges after it are not taken. Worker threads here, so the injected error reaches them."""
    dist = pytest.importorskip("distributed")
    import errno

    from logscan import pipeline

    rotated(tmp_path / "logs", "postfix", "mail.log", 0.3, 14)
    log = tmp_path / "logs" / "mail.log.1"
    bad_at = log.stat().st_size // 2
    real_read = pipeline._Range.read
    inode = log.stat().st_ino

    def read(self, n):  # the bytes before bad_at come, reading at bad_at fails: a bad sector there
        pos = self._fh.tell()
        if os.fstat(self._fh.fileno()).st_ino == inode and pos <= bad_at < pos + min(n, self._left):
            if pos == bad_at:
                raise OSError(errno.EIO, "Input/output error")
            return real_read(self, bad_at - pos)
        return real_read(self, n)

    monkeypatch.setattr(pipeline._Range, "read", read)
    monkeypatch.setattr(distributed, "RANGE_BYTES", 16 << 10)
    local = logscan.scan_with_stats([tmp_path / "logs"], workers=1)
    with dist.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as c, \
            dist.Client(c) as client:
        remote = logscan.scan_with_stats([tmp_path / "logs"], dask=client)
    assert rows(remote.table) == rows(local.table)
    (mine,), (theirs,) = ([f for f in r.files if f.path == str(log)] for r in (remote, local))
    assert mine.read_error and mine.read_error == theirs.read_error
    assert (mine.lines, mine.failures, mine.end_offset) == (theirs.lines, theirs.failures, theirs.end_offset)
    assert mine.end_offset <= bad_at
