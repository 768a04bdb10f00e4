"""Hostile and damaged inputs and outputs (issues 13 and 17): hidden logs are read, VCS and cache
folders are not searched, FIFOs, sockets and link loops never stall or crash a walk, a truncated
.gz gives its readable lines and exit status 11, a file of NULs is called what it is, range
splitting reads bounded blocks, and an output that cannot be written is found before the scan."""

from __future__ import annotations

import gzip
import os
import socket
import subprocess
import sys
import tracemalloc
import zlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from logscan import pipeline
from logscan.cli import app
from logscan.discover import discover
from logscan.errors import OutputError
from logscan.output import TableWriter
from logscan.reading import MAX_LINE_CHARS, ReadStats, head_lines, iter_line_chunks, open_log
from logscan.timestamps import load_zone

from conftest import SAMPLE_LOGS

runner = CliRunner()
MSMTP = SAMPLE_LOGS / "msmtp" / "msmtp.log"
EXIM_GZ = SAMPLE_LOGS / "exim" / "mainlog.2.gz"


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def logscan(*args, timeout=120):
    """The installed command as a user runs it (a hang fails the test instead of stalling it)."""
    exe = Path(sys.executable).with_name("logscan")
    return subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, timeout=timeout)


def reasons(skipped) -> dict[str, str]:
    return {Path(s.path).name: s.reason for s in skipped}


def cut_gzip(tmp_path: Path) -> tuple[Path, list[str]]:
    """A real sample's gzip cut short, and the complete lines zcat recovers from it."""
    data = EXIM_GZ.read_bytes()
    cut = tmp_path / "mainlog.3.gz"
    cut.write_bytes(data[: len(data) * 2 // 3])
    d = zlib.decompressobj(wbits=31)
    text = d.decompress(cut.read_bytes())  # what zcat writes before "unexpected end of file"
    assert not d.eof
    return cut, text.decode().split("\n")[:-1]  # complete lines only


def test_hidden_logs_are_read_and_vcs_cache_folders_are_not_searched(tmp_path):
    (tmp_path / ".msmtp.log").write_bytes(MSMTP.read_bytes())  # msmtp's documented default name
    for folder in (".git", "node_modules", "__pycache__", ".hg"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "mail.log").write_bytes(MSMTP.read_bytes())
    (tmp_path / ".config").mkdir()
    (tmp_path / ".config" / "msmtp.log").write_bytes(MSMTP.read_bytes())
    files, skipped = discover([str(tmp_path)])
    assert sorted(f.path.relative_to(tmp_path).as_posix() for f in files) == [".config/msmtp.log", ".msmtp.log"]
    why = reasons(skipped)
    assert "version-control folder" in why[".git"] and "version-control folder" in why[".hg"]
    assert "cache or package folder" in why["node_modules"] and "cache or package folder" in why["__pycache__"]
    # named explicitly, such a folder is read
    files, _ = discover([str(tmp_path / ".git")])
    assert [f.path.name for f in files] == ["mail.log"]
    r = run("scan", tmp_path)
    assert r.exit_code == 0, r.output
    assert f"skipped {tmp_path / '.git'}: a version-control folder" in r.stdout


def test_fifo_socket_and_link_loops_in_a_folder_are_skipped_with_a_reason(tmp_path):
    (tmp_path / "msmtp.log").write_bytes(MSMTP.read_bytes())
    os.mkfifo(tmp_path / "mail.log")  # opened, it would block discovery for ever
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / "mail.sock"))
    (tmp_path / "self").symlink_to("self")  # ELOOP
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "up").symlink_to("..")  # back up: a cycle if followed
    (tmp_path / "gone").symlink_to("nowhere")
    try:
        r = logscan("scan", tmp_path, timeout=60)
        files, skipped = discover([str(tmp_path)])
    finally:
        sock.close()
    assert r.returncode == 0, r.stderr
    assert [f.path.name for f in files] == ["msmtp.log"]
    why = reasons(skipped)
    assert why["mail.log"] == "a FIFO (named pipe): not opened"
    assert why["mail.sock"] == "a socket: not opened"
    assert why["self"].startswith("a symbolic link loop")
    assert why["up"].startswith("a link to a folder")
    assert why["gone"].startswith("a broken symbolic link")
    for name in ("mail.log", "mail.sock", "self", "up", "gone"):
        assert f"{name}: " in r.stdout
    # named explicitly, a FIFO is refused by name too, still without opening it
    files, skipped = discover([str(tmp_path / "mail.log")])
    assert files == [] and skipped[0].reason == "a FIFO (named pipe): not opened"


def test_a_file_swapped_for_a_fifo_after_discovery_is_refused_not_waited_on(tmp_path):
    os.mkfifo(tmp_path / "mail.log")
    with pytest.raises(OSError, match="FIFO"):
        open_log(tmp_path / "mail.log")


def test_recursive_glob_with_links_back_up_terminates(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "c").mkdir()
    (tmp_path / "a" / "msmtp.log").write_bytes(MSMTP.read_bytes())
    for name, target in (("b/up", "../.."), ("c/up", "../.."), ("c/side", "../b"), ("b/loop", "loop")):
        (tmp_path / "a" / name).symlink_to(target)
    (tmp_path / "a" / ".hidden.log").write_bytes(MSMTP.read_bytes())
    r = logscan("scan", f"{tmp_path}/**", timeout=60)  # quoted: logscan expands it
    assert r.returncode == 0, r.stderr
    files, skipped = discover([f"{tmp_path}/**"])
    assert [f.path.relative_to(tmp_path).as_posix() for f in files] == ["a/msmtp.log"]  # `*` skips dotfiles
    assert sum("a link to a folder" in s.reason for s in skipped) == 3
    assert "a symbolic link loop" in reasons(skipped)["loop"]
    files, _ = discover([f"{tmp_path}/**/*.log", f"{tmp_path}/a/.*.log"])
    assert sorted(f.path.name for f in files) == [".hidden.log", "msmtp.log"]
    _, skipped = discover([f"{tmp_path}/a/b/**/*.nothing"])  # what it could not enter is said instead
    assert sorted(s.reason[:20] for s in skipped) == ["a link to a folder: ", "a symbolic link loop"]
    _, skipped = discover([f"{tmp_path}/a/*/*.nothing", f"{tmp_path}/none/**"])
    assert [s.reason for s in skipped] == ["the pattern matched no file"] * 2


def test_truncated_gzip_yields_its_readable_lines_and_exit_11(tmp_path):
    cut, complete = cut_gzip(tmp_path)
    # the reader gives exactly zcat's complete lines, and says why it stopped
    stats = ReadStats()
    with open_log(cut) as fh:
        got = [line for chunk in iter_line_chunks(fh, stats) for line in chunk]
    assert got == complete and len(got) > 50
    assert "truncated" in stats.error and "incomplete line" in stats.error
    assert head_lines(cut) == complete[:200]  # discovery detects it from those lines
    out = tmp_path / "f.jsonl"
    for args in (["--quiet"], ["--output", out]):
        r = logscan("scan", cut, *args)
        assert r.returncode == 11, r.stderr
        assert f"Warning: {cut}: read in part, stopped after line {len(complete)}" in r.stderr
        assert "Error: 1 log file(s) could not be read or were read only in part" in r.stderr
    assert len(out.read_text().splitlines()) > 0  # written, everything it could
    r = logscan("scan", cut)
    assert r.returncode == 11
    assert f"  {len(complete):>9} " in r.stdout and "! read in part, stopped after line" in r.stdout
    rep = tmp_path / "rep"
    r = logscan("report", cut, "--out", rep, "--quiet")
    assert r.returncode == 11 and "read in part" in r.stderr
    html = (rep / "index.html").read_text()
    assert "Not read whole:</strong> read in part, stopped after line" in html


def test_unreadable_files_are_said_on_stderr_and_exit_11(tmp_path):
    (tmp_path / "msmtp.log").write_bytes(MSMTP.read_bytes())
    (tmp_path / "mail.log.1.gz").write_bytes(b"\x1f\x8b" + b"not gzip at all" * 10)  # gzip magic, no gzip
    r = logscan("scan", tmp_path, "--quiet")
    assert r.returncode == 11 and r.stdout == ""
    assert f"Warning: {tmp_path / 'mail.log.1.gz'}: cannot read: " in r.stderr
    r = logscan("scan", tmp_path, "--output", tmp_path / "f.parquet")
    assert r.returncode == 11 and "mail.log.1.gz" in r.stderr and (tmp_path / "f.parquet").exists()
    r = run("scan", tmp_path / "mail.log.1.gz", "--quiet")  # the only log given, unreadable: 11, not 3
    assert r.exit_code == 11 and r.stderr.startswith("Error: no mail log could be read (")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file whatever its permissions (the gzip cases "
                                              "above stand for an unreadable file)")
def test_permission_denied_is_said_and_exit_11(tmp_path):
    (tmp_path / "msmtp.log").write_bytes(MSMTP.read_bytes())
    locked = tmp_path / "mail.log"
    locked.write_bytes(MSMTP.read_bytes())
    locked.chmod(0)
    r = logscan("scan", tmp_path, "--quiet")
    assert r.returncode == 11 and f"Warning: {locked}: cannot read: Permission denied" in r.stderr


def test_a_file_gone_after_discovery_is_reported_not_a_crash(tmp_path):
    log = tmp_path / "msmtp.log"
    log.write_bytes(MSMTP.read_bytes())
    files, _ = discover([str(log)])
    log.unlink()
    stats = pipeline.parse_file(files[0], pipeline.REGISTRY["msmtp"].new_state(), pipeline.ScanOptions(),
                                *load_zone("UTC"), lambda t: None)
    assert stats.lines == 0 and stats.read_error.startswith("not read: No such file")


def test_an_error_of_the_sink_is_not_taken_for_a_read_error(tmp_path):
    """A full disk while rows are written must not end the file quietly as 'read in part'."""
    files, _ = discover([str(MSMTP)])

    def full(_table):
        raise OSError(28, "No space left on device")

    with pytest.raises(OutputError, match="No space left"):  # an output error (exit 4), not a read error
        pipeline.parse_file(files[0], pipeline.REGISTRY["msmtp"].new_state(), pipeline.ScanOptions(),
                            *load_zone("UTC"), full)


def test_sparse_file_of_nuls_is_called_what_it_is(tmp_path):
    sparse = tmp_path / "mail.log"
    with open(sparse, "wb") as fh:
        fh.truncate(2 << 30)  # 2 GiB, no block written
    (tmp_path / "zeros.log").write_bytes(b"\0" * 300_000)  # written zeros, no hole
    (tmp_path / "msmtp.log").write_bytes(MSMTP.read_bytes())
    for forced in (None, "postfix"):
        files, skipped = discover([str(tmp_path)], forced)
        assert [f.path.name for f in files] == ["msmtp.log"]
        why = reasons(skipped)
        assert why["mail.log"].startswith("only NUL bytes (2 GiB)")
        assert why["zeros.log"].startswith("only NUL bytes (293 KiB)")


def test_range_splitting_reads_bounded_blocks(tmp_path):
    """A line, a 1 GiB hole, a line: the split points are found without holding the hole."""
    path = tmp_path / "mail.log"
    first = b"Nov  1 00:00:00 mx1 postfix/qmgr[1]: 0F5383D: removed\n"
    with open(path, "wb") as fh:
        fh.write(first)
        fh.seek(1 << 30)
        fh.write(first * 3)
    end = path.stat().st_size
    tracemalloc.start()
    points = pipeline._split_points(path, 4, 0, end)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 1 << 20, peak
    assert points[0] == 0 and points[-1] == end and points == sorted(set(points))
    assert len(points) > 2 and all(p in (0, end, len(first)) or (p - (1 << 30)) % len(first) == 0 for p in points)
    # a file of NULs without a single newline: no split point at all, bounded too
    nuls = tmp_path / "nuls.log"
    nuls.write_bytes(b"\0" * (3 << 20))
    tracemalloc.start()
    assert pipeline._split_points(nuls, 4, 0, 3 << 20) == [0, 3 << 20]
    assert tracemalloc.get_traced_memory()[1] < 1 << 20
    tracemalloc.stop()


def test_cut_lines_are_counted_and_shown_per_file(tmp_path):
    line = ("Nov  1 00:00:00 mx1 postfix/smtp[1]: 0F5383D: to=<a@b.example>, relay=none, delay=1, "
            "status=deferred (connect to x[192.0.2.1]:25: Connection timed out ")
    log = tmp_path / "mail.log"
    log.write_text(line + "x" * (MAX_LINE_CHARS + 10) + ")\n" + line + ")\n")
    r = run("scan", log)
    assert r.exit_code == 0, r.output
    assert "      1 line(s) over 64 KiB cut at 64 KiB" in r.stdout
    r = run("scan", log, "--output", tmp_path / "f.csv")
    assert r.exit_code == 0 and "1 line(s) over 64 KiB cut." in r.stdout
    r = run("report", log, "--out", tmp_path / "rep")
    assert r.exit_code == 0, r.output
    html = (tmp_path / "rep" / "index.html").read_text()
    assert "Lines over 64 KiB cut at 64 KiB: 1." in html
    assert "base-uri 'none'; form-action 'none'" in html


@pytest.mark.parametrize("option,target", [("--output", "x.parquet"), ("--out", "rep"), ("--store", "store")])
def test_unwritable_outputs_are_found_before_the_scan(tmp_path, monkeypatch, option, target):
    blocker = tmp_path / "file"
    blocker.write_text("a regular file where a folder should be")
    called = []
    monkeypatch.setattr(pipeline, "scan", lambda *a, **k: called.append(1))
    path = blocker / "sub" / target
    r = run("report" if option == "--out" else "scan", MSMTP, option, path)
    assert r.exit_code == 4, r.output
    assert r.stderr.startswith(f"Error: cannot write {option} {path}: {blocker} is a file, not a folder")
    assert ".tmp" not in r.stderr and ".logscan-probe" not in r.stderr
    assert called == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a folder whatever its permissions")
def test_read_only_output_folder_is_found_before_the_scan(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    r = run("scan", MSMTP, "--output", ro / "x.parquet")
    assert r.exit_code == 4 and "Permission denied" in r.stderr and ".tmp" not in r.stderr


def test_write_errors_name_the_users_path_not_the_temporary_file(tmp_path):
    out = tmp_path / "f.parquet"
    w = TableWriter(out)
    err = w._error(OSError(f"Failed to open local file '{w.tmp}'. Detail: [errno 28] No space left on device"))
    w.abort()
    assert str(out) in str(err) and ".tmp-" not in str(err)
    assert list(tmp_path.iterdir()) == []


def test_concatenated_gzip_members_are_all_read(tmp_path):
    """gzip -c a >> x.gz; gzip -c b >> x.gz (logrotate's delaycompress never does this, cat does)."""
    path = tmp_path / "mail.log.1.gz"
    path.write_bytes(gzip.compress(b"one\n") + gzip.compress(b"two\n"))
    stats = ReadStats()
    with open_log(path) as fh:
        assert [x for c in iter_line_chunks(fh, stats) for x in c] == ["one", "two"]
    assert stats.error is None


def test_store_runs_say_an_unreadable_log_every_run(tmp_path):
    logs, store = tmp_path / "logs", tmp_path / "store"
    logs.mkdir()
    (logs / "msmtp.log").write_bytes(MSMTP.read_bytes())
    (logs / "msmtp.log.1.gz").write_bytes(b"\x1f\x8b" + b"no gzip" * 10)
    for _ in range(2):  # the second run has nothing new to read, and still says it
        r = run("scan", logs, "--store", store, "--quiet")
        assert r.exit_code == 11 and f"Warning: {logs / 'msmtp.log.1.gz'}: cannot read" in r.stderr
    (logs / "msmtp.log.1.gz").unlink()
    assert run("scan", logs, "--store", store, "--quiet").exit_code == 0


def test_store_reads_a_truncated_gzip_once_and_says_it(tmp_path):
    """Cut within its first KiB (the store's fingerprint): no crash, its lines stored, exit 11 once."""
    logs, store = tmp_path / "logs", tmp_path / "store"
    logs.mkdir()
    (logs / "mainlog.1.gz").write_bytes(EXIM_GZ.read_bytes()[:300])
    r = run("scan", logs, "--store", store, "--quiet")
    assert r.exit_code == 11 and "read in part, stopped after line 4" in r.stderr, r.output
    r = run("scan", logs, "--store", store)
    assert r.exit_code == 0 and "1 file(s) unchanged" in r.stdout, r.output


def _decompressible(kind: str, data: bytes) -> bytes:
    """What bzcat/xzcat write from a cut stream before they report it (the decompressor's output)."""
    import bz2
    import lzma

    d = bz2.BZ2Decompressor() if kind == "bzip2" else lzma.LZMADecompressor()
    return d.decompress(data)


@pytest.mark.parametrize("kind", ["bzip2", "xz"])
def test_truncated_bz2_and_xz_give_their_complete_lines(tmp_path, kind):
    import bz2
    import lzma

    text = gzip.decompress(EXIM_GZ.read_bytes()) * 20
    packed = bz2.compress(text, 1) if kind == "bzip2" else lzma.compress(text)  # bzip2: 100k blocks
    cut = tmp_path / f"mainlog.1.{'bz2' if kind == 'bzip2' else 'xz'}"
    cut.write_bytes(packed[: len(packed) // 2])
    complete = _decompressible(kind, cut.read_bytes()).decode().split("\n")[:-1]
    stats = ReadStats()
    with open_log(cut) as fh:
        got = [line for chunk in iter_line_chunks(fh, stats) for line in chunk]
    assert got == complete and len(got) > 10 and stats.error
    r = run("scan", cut, "--quiet")
    assert r.exit_code == 11 and f"read in part, stopped after line {len(complete)}" in r.stderr


def test_gzip_corrupt_in_the_middle_keeps_the_lines_before(tmp_path):
    data = bytearray(EXIM_GZ.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 64] = b"\xff" * 64  # garbage inside the deflate stream
    bad = tmp_path / "mainlog.1.gz"
    bad.write_bytes(bytes(data))
    stats = ReadStats()
    with open_log(bad) as fh:
        got = [line for chunk in iter_line_chunks(fh, stats) for line in chunk]
    assert got and stats.error
    # the lines before the damage are the file's own (after it, inflate may emit garbage until it
    # notices, as zcat does: those lines are counted like any others)
    before = zlib.decompressobj(wbits=31).decompress(bytes(data[: len(data) // 2])).decode().split("\n")[:-1]
    assert len(before) > 10 and got[: len(before)] == before
    r = run("scan", bad, "--quiet")
    assert r.exit_code == 11 and "read in part" in r.stderr


def test_gzip_with_a_wrong_checksum_is_read_whole_and_flagged(tmp_path):
    data = bytearray(EXIM_GZ.read_bytes())
    data[-8] ^= 0xFF  # CRC32 of the trailer
    bad = tmp_path / "mainlog.1.gz"
    bad.write_bytes(bytes(data))
    stats = ReadStats()
    with open_log(bad) as fh:
        got = [line for chunk in iter_line_chunks(fh, stats) for line in chunk]
    assert got == gzip.decompress(EXIM_GZ.read_bytes()).decode().split("\n")[:-1]
    assert "CRC" in stats.error
