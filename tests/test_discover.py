from __future__ import annotations

import gzip
import os

import pytest

from logscan.discover import discover
from logscan.errors import UsageError

from conftest import SAMPLE_LOGS

LINE = "Nov  1 00:00:00 mx1 postfix/qmgr[1]: 0F5383D: removed\n"


def write(path, text=LINE, gz=False):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(text.encode()) if gz else text.encode())
    return path


def test_rotated_sets_read_oldest_first(tmp_path):
    write(tmp_path / "mail.log")
    write(tmp_path / "mail.log.1")
    write(tmp_path / "mail.log.2.gz", gz=True)
    write(tmp_path / "mail.log.10.gz", gz=True)
    write(tmp_path / "d" / "mail.log-20261101.gz", gz=True)
    write(tmp_path / "d" / "mail.log-20261031")
    write(tmp_path / "d" / "mail.log")
    files, skipped = discover([str(tmp_path)])
    names = [f.path.relative_to(tmp_path).as_posix() for f in files]
    assert names == ["mail.log.10.gz", "mail.log.2.gz", "mail.log.1", "mail.log",
                     "d/mail.log-20261031", "d/mail.log-20261101.gz", "d/mail.log"]
    assert skipped == []


def test_format_by_content_not_name_and_skips_say_why(tmp_path):
    write(tmp_path / "weird-name.txt")
    write(tmp_path / "notes.log", "hello world\n")
    write(tmp_path / "empty.log", "")
    write(tmp_path / "bin.log", "\x00\x01\x02\ufffd\n" * 10)
    files, skipped = discover([str(tmp_path), str(tmp_path / "missing.log"), str(tmp_path / "*.nothing")])
    assert [f.path.name for f in files] == ["weird-name.txt"] and files[0].format == "postfix"
    reasons = {os.path.basename(s.path): s.reason for s in skipped}
    assert "not a recognised mail log format" in reasons["notes.log"]
    assert reasons["empty.log"] == "empty file"
    assert reasons["missing.log"] == "no such file or directory"
    assert reasons["*.nothing"] == "the pattern matched no file"
    assert "bin.log" in reasons


def test_rsyslog_copies_skipped_unless_named(tmp_path):
    write(tmp_path / "mail.log")
    warn = write(tmp_path / "mail.warn")
    files, skipped = discover([str(tmp_path)])
    assert [f.path.name for f in files] == ["mail.log"]
    assert "repeats lines of mail.log" in skipped[0].reason
    files, _ = discover([str(tmp_path / "mail.log"), str(warn)])
    assert {f.path.name for f in files} == {"mail.log", "mail.warn"}


def test_forced_format(tmp_path):
    write(tmp_path / "x.log", "hello\n")
    files, _ = discover([str(tmp_path / "x.log")], forced_format="postfix")
    assert files[0].format == "postfix"
    with pytest.raises(UsageError):
        discover([str(tmp_path)], forced_format="nope")


def test_bundled_samples_are_found():
    files, skipped = discover([str(SAMPLE_LOGS)])
    assert {f.format for f in files} == {"postfix", "exim", "sendmail", "msmtp", "smtplib", "phpmailer", "nodemailer",
                                         "javamail", "rubysmtp", "gosmtp", "symfony", "dotnet"}
    assert len(files) >= 9
    assert all(s.path.endswith(".md") or "repeats lines of mainlog" in s.reason for s in skipped)


def test_exim_copies_skipped_unless_named(tmp_path):
    line = "2026-11-27 20:00:00 H=(x) [192.0.2.1] F=<a@b.example> rejected RCPT <c@d.example>: relay not permitted\n"
    write(tmp_path / "mainlog", line)
    write(tmp_path / "rejectlog", line)
    write(tmp_path / "paniclog", "2026-11-27 20:00:00 Exim configuration error in line 12 of /etc/exim4/exim4.conf:\n")
    files, skipped = discover([str(tmp_path)])
    assert [(f.path.name, f.format) for f in files] == [("mainlog", "exim")]
    assert sorted(os.path.basename(s.path) for s in skipped) == ["paniclog", "rejectlog"]
    files, _ = discover([str(tmp_path / "paniclog")])
    assert [(f.path.name, f.format) for f in files] == [("paniclog", "exim")]
