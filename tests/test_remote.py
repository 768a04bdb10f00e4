"""Logs, stores and reports at fsspec URLs: fsspec's memory:// file system (in this process), and
s3:// against moto's S3 server on a free loopback port (credentials faked in the environment)."""

from __future__ import annotations

import gzip
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import logscan
from logscan.cli import app
from logscan.errors import OutputError
from logscan.store import META, read_failures

from conftest import SAMPLE_LOGS

fsspec = pytest.importorskip("fsspec")
runner = CliRunner()
POSTFIX = SAMPLE_LOGS / "postfix"
PROVENANCE = {"source_file", "line_no"}


def rows_key(table: pa.Table) -> Counter:
    cols = [c for c in table.column_names if c not in PROVENANCE]
    return Counter(zip(*[table.column(c).to_pylist() for c in cols], strict=True))


def local_rows(*paths) -> Counter:
    return rows_key(logscan.scan([str(p) for p in paths], workers=1))


def upload(fs, top: Path, prefix: str) -> None:
    for p in sorted(top.rglob("*")):
        if p.is_file():
            fs.pipe_file(f"{prefix}/{p.relative_to(top).as_posix()}", p.read_bytes())


# --- memory:// ---------------------------------------------------------------------------------------

@pytest.fixture
def mem():
    fs = fsspec.filesystem("memory")
    root = f"/t{uuid.uuid4().hex[:8]}"
    yield fs, root
    fs.rm(root, recursive=True) if fs.exists(root) else None


def test_memory_scan_same_rows_as_local(mem):
    """A prefix is read recursively, oldest rotation first, the .gz decoded: the same failures and
    per-file counts as the same tree on disk; the README is skipped with the same reason."""
    fs, root = mem
    upload(fs, POSTFIX, root)
    got = logscan.scan_with_stats([f"memory://{root}/"], workers=1)
    want = logscan.scan_with_stats([str(POSTFIX)], workers=1)
    assert rows_key(got.table) == rows_key(want.table)
    assert got.table.num_rows > 200
    assert [(Path(f.path).name, f.lines, f.failures, f.read_error) for f in got.files] == \
        [(Path(f.path).name, f.lines, f.failures, f.read_error) for f in want.files]
    assert got.files[0].path == f"memory://{root}/mail.log.2.gz"
    assert [(Path(k.path).name, k.reason) for k in got.skipped] == [(Path(k.path).name, k.reason) for k in want.skipped]


def test_memory_glob_and_missing(mem):
    fs, root = mem
    upload(fs, POSTFIX, root)
    got = logscan.scan_with_stats([f"memory://{root}/mail.log*", f"memory://{root}/nothere.log"], workers=1)
    assert [Path(f.path).name for f in got.files] == ["mail.log.2.gz", "mail.log.1", "mail.log"]
    assert [(k.reason, k.unreadable) for k in got.skipped] == [("no such file or directory", False)]


def test_memory_damaged_gz_is_said_exit_11(mem):
    """A truncated remote .gz is read up to the damage and named on stderr; exit 11, as locally."""
    fs, root = mem
    data = gzip.compress((POSTFIX / "mail.log").read_bytes())
    fs.pipe_file(f"{root}/mail.log.1.gz", data[: len(data) // 2])
    r = runner.invoke(app, ["scan", f"memory://{root}/", "--quiet"])
    assert r.exit_code == 11, r.output
    assert f"memory://{root}/mail.log.1.gz: read in part" in r.output


def test_remote_read_error_mid_file(mem, monkeypatch):
    """A backend error in the middle of a read (not an OSError: botocore's, aiohttp's) stops that
    file there: its lines before are kept, the loss said, exit 11."""
    from fsspec.implementations.memory import MemoryFile

    fs, root = mem
    fs.pipe_file(f"{root}/mail.log", (POSTFIX / "mail.log").read_bytes() * 100)
    real = MemoryFile.read

    def flaky(self, n=-1):
        if self.tell() >= 2 << 20:  # past what discovery reads, within the pipeline's third chunk
            raise RuntimeError("connection reset by peer")
        return real(self, n)

    monkeypatch.setattr(MemoryFile, "read", flaky)
    r = runner.invoke(app, ["scan", f"memory://{root}/mail.log", "--quiet"])
    assert r.exit_code == 11, r.output
    assert "read in part, stopped after line" in r.output and "connection reset by peer" in r.output


def test_memory_store_exactly_once(mem, tmp_path):
    """scan --store memory://: runs over a log that grows; the store holds each failure once,
    the same rows as one scan of the whole log."""
    fs, root = mem
    lines = (POSTFIX / "mail.log").read_bytes().splitlines(keepends=True)
    log, store = f"{root}/logs/mail.log", f"memory://{root}/store"
    for cut in (len(lines) // 3, len(lines) // 3, 2 * len(lines) // 3, len(lines)):
        fs.pipe_file(log, b"".join(lines[:cut]))
        r = runner.invoke(app, ["scan", f"memory://{root}/logs/", "--store", store, "--quiet"])
        assert r.exit_code == 0, r.output
    (tmp_path / "mail.log").write_bytes(b"".join(lines))
    assert rows_key(logscan.read_store(store)) == local_rows(tmp_path / "mail.log")
    assert not fs.exists(f"{root}/store/{META}/lock.json")  # released
    assert json.loads(fs.cat_file(f"{root}/store/{META}/state.json"))["runs"] == 4


def test_local_run_does_not_import_fsspec():
    code = ("import sys, logscan; logscan.scan([sys.argv[1]], workers=1); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('fsspec', 's3fs') or m == 'logscan.remote'))")
    out = subprocess.run([sys.executable, "-c", code, str(POSTFIX)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_file_url_is_a_local_path(tmp_path):
    assert local_rows(f"file://{POSTFIX}") == local_rows(POSTFIX)


# --- s3:// against moto's server ----------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def moto_server():
    pytest.importorskip("s3fs")
    pytest.importorskip("moto.server")
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(url, timeout=1)
            break
        except OSError:
            if proc.poll() is not None:
                pytest.fail("moto's server did not start")
            time.sleep(0.05)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def s3(moto_server, monkeypatch):
    """(s3fs file system, a fresh bucket, the CLI's options for the server)"""
    import s3fs

    for k in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    fs = s3fs.S3FileSystem(endpoint_url=moto_server)
    bucket = f"b{uuid.uuid4().hex[:12]}"
    fs.mkdir(bucket)
    return fs, bucket, ["--endpoint-url", moto_server]


def test_s3_logs_to_s3_store_and_report(s3, tmp_path):
    """The README's commands: a scan of logs in a bucket into a store in the bucket, run again
    (nothing new), then a report from that store to the bucket, which is not overwritten without --force."""
    fs, bucket, opt = s3
    upload(fs, POSTFIX, f"{bucket}/logs/host1")
    store = f"s3://{bucket}/logscan"
    r = runner.invoke(app, ["scan", f"s3://{bucket}/logs/", "--store", store, "--quiet", *opt])
    assert r.exit_code == 0, r.output
    want = local_rows(POSTFIX)
    assert rows_key(logscan.read_store(store, storage_options={"endpoint_url": opt[1]})) == want
    r = runner.invoke(app, ["scan", f"s3://{bucket}/logs/", "--store", store, *opt])
    assert r.exit_code == 0, r.output
    assert "0 new failures stored (run 2); 5 file(s) unchanged" in r.output
    files = fs.find(f"{bucket}/logscan")
    assert f"{bucket}/logscan/{META}/state.json" in files and not any(f.endswith("lock.json") for f in files)

    out = f"s3://{bucket}/reports/mail"
    r = runner.invoke(app, ["report", "--store", store, "--out", out, "--quiet", *opt])
    assert r.exit_code == 0, r.output
    page = fs.cat_file(f"{bucket}/reports/mail/index.html").decode()
    assert "<html" in page.lower()
    assert pq.read_table(fs.open(f"{bucket}/reports/mail/failures.parquet")).num_rows == sum(want.values())
    r = runner.invoke(app, ["report", "--store", store, "--out", out, "--quiet", *opt])
    assert r.exit_code == 4 and "exists; not overwriting it" in r.output
    r = runner.invoke(app, ["report", str(POSTFIX), "--out", out, "--force", "--period", "day", "--quiet", *opt])
    assert r.exit_code == 0, r.output
    assert any(k.endswith("/index.html") and k.count("/") == 4 for k in fs.find(f"{bucket}/reports/mail"))  # a day


def test_s3_output_file(s3):
    fs, bucket, opt = s3
    url = f"s3://{bucket}/out/failures.parquet"
    r = runner.invoke(app, ["scan", str(POSTFIX), "--output", url, "--quiet", *opt])
    assert r.exit_code == 0, r.output
    assert rows_key(pq.read_table(fs.open(f"{bucket}/out/failures.parquet"))) == local_rows(POSTFIX)
    r = runner.invoke(app, ["scan", str(POSTFIX), "--output", url, "--quiet", *opt])
    assert r.exit_code == 4 and "exists; not overwriting it" in r.output


def test_s3_api_with_storage_options(s3, tmp_path):
    fs, bucket, opt = s3
    upload(fs, POSTFIX, f"{bucket}/logs")
    so = {"endpoint_url": opt[1]}
    got = logscan.scan_with_stats([f"s3://{bucket}/logs/mail.log*"], workers=1, storage_options=so)
    assert rows_key(got.table) == local_rows(POSTFIX / "mail.log.2.gz", POSTFIX / "mail.log.1", POSTFIX / "mail.log")
    page = logscan.report(got, f"s3://{bucket}/rep", storage_options=so)
    assert page == f"s3://{bucket}/rep/index.html" and fs.exists(f"{bucket}/rep/index.html")
    with pytest.raises(OutputError):
        logscan.report(got, f"s3://{bucket}/rep", storage_options=so)


def test_s3_no_credentials_said(s3, monkeypatch):
    """A bucket that does not exist: the listing's error is said, exit 11 (a log that could not be read)."""
    fs, bucket, opt = s3
    r = runner.invoke(app, ["scan", f"s3://{bucket}-none/logs/", "--quiet", *opt])
    assert r.exit_code in (3, 11), r.output
    assert f"s3://{bucket}-none/logs/" in r.output


def _cli(fs, args: list[str], env: dict) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-c", "from logscan.cli import main; main()", *args],
                          capture_output=True, text=True, env=env, timeout=300)
    fs.invalidate_cache()  # written by another process
    return done


@pytest.mark.slow
def test_s3_store_killed_mid_upload_then_rerun(s3, tmp_path):
    """kill -9 after the first part file is uploaded (the state not written): the part is not
    visible, the lock outlives the run until its lease ends (exit 8 before; its end is written
    into the lock here rather than waited for), and the rerun takes the lock over, stores every
    failure exactly once and deletes the orphan part."""
    fs, bucket, opt = s3
    upload(fs, POSTFIX, f"{bucket}/logs")
    store = f"s3://{bucket}/st"
    env = {k: v for k, v in os.environ.items() if k != "LOGSCAN_TEST_KILL_AT"}
    env |= {"LOGSCAN_STORE_LOCK_TTL": "600", "LOGSCAN_TEST_KILL_AT": "mid-upload"}
    args = ["scan", f"s3://{bucket}/logs/", "--store", store, "--quiet", *opt]
    killed = _cli(fs, args, env)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    parts = [k for k in fs.find(f"{bucket}/st") if k.endswith(".parquet")]
    assert len(parts) == 1 and not fs.exists(f"{bucket}/st/{META}/state.json")
    del env["LOGSCAN_TEST_KILL_AT"]
    busy = _cli(fs, args, env)
    assert busy.returncode == 8, busy.stderr
    assert "another logscan run is using the store" in busy.stderr
    lock = f"{bucket}/st/{META}/lock.json"
    held = json.loads(fs.cat_file(lock))
    assert held["expires"] > time.time() + 500
    fs.pipe_file(lock, json.dumps(held | {"expires": time.time() - 1}).encode())  # the lease ends
    again = _cli(fs, args, env)
    assert again.returncode == 0, again.stderr
    state = json.loads(fs.cat_file(f"{bucket}/st/{META}/state.json"))
    on_store = sorted(k.removeprefix(f"{bucket}/st/") for k in fs.find(f"{bucket}/st") if k.endswith(".parquet"))
    assert on_store == sorted(state["data_files"]) and parts[0].removeprefix(f"{bucket}/st/") not in on_store
    assert rows_key(read_failures_s3(store, opt[1])) == local_rows(POSTFIX)


def read_failures_s3(store: str, endpoint: str) -> pa.Table:
    from logscan.remote import storage_options

    with storage_options({"endpoint_url": endpoint}):
        return read_failures(store).table


def test_s3_store_upload_fails_then_rerun(s3, monkeypatch):
    """An upload that fails (exit 4) commits nothing; the next run stores every failure once."""
    import s3fs

    fs, bucket, opt = s3
    upload(fs, POSTFIX, f"{bucket}/logs")
    store = f"s3://{bucket}/st"
    args = ["scan", f"s3://{bucket}/logs/", "--store", store, "--quiet", *opt]
    real = fs.put_file
    calls = [0]

    def failing(lpath, rpath, *a, **kw):
        calls[0] += 1
        if calls[0] == 1:
            raise PermissionError("Access Denied")
        return real(lpath, rpath, *a, **kw)

    # (fsspec hands the CLI this same instance: one per set of options)
    assert s3fs.S3FileSystem(endpoint_url=opt[1]) is fs
    monkeypatch.setattr(fs, "put_file", failing)
    r = runner.invoke(app, args)
    assert r.exit_code == 4, r.output
    assert "nothing of this run was committed" in r.output
    assert not fs.exists(f"{bucket}/st/{META}/state.json")
    monkeypatch.setattr(fs, "put_file", real)
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    assert rows_key(read_failures_s3(store, opt[1])) == local_rows(POSTFIX)
    parts = [k for k in fs.find(f"{bucket}/st") if k.endswith(".parquet")]
    assert len(parts) == len(json.loads(fs.cat_file(f"{bucket}/st/{META}/state.json"))["data_files"])


def test_s3_store_lock_and_conditional_commit(s3):
    """A live lock makes another run exit 8; a state rewritten under a run (another writer) makes
    its commit fail instead of overwriting it (S3's If-Match)."""
    from logscan.objstore import RemoteStore
    from logscan.remote import storage_options
    from logscan.store import StoreBusyError

    fs, bucket, opt = s3
    url = f"s3://{bucket}/st"
    with storage_options({"endpoint_url": opt[1]}):
        with RemoteStore(url):
            r = runner.invoke(app, ["scan", str(POSTFIX), "--store", url, "--quiet", *opt])
            assert r.exit_code == 8, r.output
        with RemoteStore(url) as s:
            s.commit("000001-aaaaaaaaaaaa", None, [], None)
        with RemoteStore(url) as s:
            fs.pipe_file(f"{bucket}/st/{META}/state.json", fs.cat_file(f"{bucket}/st/{META}/state.json") + b" ")
            with pytest.raises(StoreBusyError, match="changed during this run"):
                s.commit("000002-bbbbbbbbbbbb", None, [], None)


def test_s3_expired_lock_taken_over_once(s3):
    """Two runs that both found the same lock expired: the swap is conditional on its ETag, so one
    takes it; and the stalled run whose lock was taken over cannot commit."""
    from logscan.objstore import LOCK, RemoteStore
    from logscan.remote import storage_options
    from logscan.store import StoreBusyError

    fs, bucket, opt = s3
    url, lock = f"s3://{bucket}/st", f"{bucket}/st/{META}/{LOCK}"
    with storage_options({"endpoint_url": opt[1]}):
        stalled = RemoteStore(url).__enter__()
        expired = json.loads(fs.cat_file(lock)) | {"expires": time.time() - 1}
        fs.pipe_file(lock, json.dumps(expired).encode())
        fs.invalidate_cache()
        a, b = RemoteStore(url), RemoteStore(url)
        a._token, b._token = "a" * 32, "b" * 32
        seen = a._lock_holder()
        assert seen["token"] == stalled._token and seen["_etag"]
        assert a._swap_lock(seen["_etag"]) is True
        assert b._swap_lock(seen["_etag"]) is False
        assert json.loads(fs.cat_file(lock))["token"] == a._token
        with pytest.raises(StoreBusyError, match="changed during this run"):
            stalled.commit("000001-cccccccccccc", None, [], None)
        assert not fs.exists(f"{bucket}/st/{META}/state.json")
        stalled.__exit__(None, None, None)
        assert json.loads(fs.cat_file(lock))["token"] == a._token  # (not released by the run that lost it)
