"""Resuming a file at a saved offset (pipeline.Resume), as incremental --store runs do: only
complete lines, right line numbers, the offset reached reported exactly."""

from __future__ import annotations

import gzip

import pytest

from logscan import pipeline
from logscan.discover import LogFile
from logscan.parsers import REGISTRY
from logscan.pipeline import Resume, ScanOptions, parse_file, whole_lines_end
from logscan.timestamps import load_zone

from conftest import SAMPLE_LOGS

LOG = (SAMPLE_LOGS / "postfix" / "mail.log").read_bytes()


def parse(path, resume=None, workers=1):
    zone, name = load_zone("UTC")
    rows = []
    stats = parse_file(LogFile(path, "postfix"), REGISTRY["postfix"].new_state(), ScanOptions(tz="UTC"), zone, name,
                       lambda t: rows.extend(t.to_pylist()), workers=workers, resume=resume)
    return rows, stats


def test_whole_lines_end(tmp_path):
    p = tmp_path / "f"
    p.write_bytes(b"one\ntwo\nthr")
    assert whole_lines_end(p, 0) == 8
    assert whole_lines_end(p, 8) == 8  # nothing complete after 8
    p.write_bytes(b"x" * 200_000 + b"\n" + b"y" * 100_000)
    assert whole_lines_end(p, 0) == 200_001


def test_resume_reads_complete_lines_only_and_numbers_them(tmp_path):
    lines = LOG.splitlines(keepends=True)
    p = tmp_path / "mail.log"
    cut = len(b"".join(lines[:200]))
    p.write_bytes(b"".join(lines[:250]) + lines[250][:30])  # the last line is half-written
    rows, stats = parse(p, Resume(cut, 201))
    assert stats.lines == 50 and stats.end_offset == len(b"".join(lines[:250]))
    text = LOG.decode().split("\n")
    assert rows and all(text[r["line_no"] - 1] == r["line"] and r["line_no"] > 200 for r in rows)
    # without Resume (a plain scan) the half line is read too, as before
    _, whole = parse(p)
    assert whole.lines == 251


def test_resume_in_a_compressed_file_and_a_truncated_one(tmp_path):
    lines = LOG.splitlines(keepends=True)
    p = tmp_path / "mail.log.2.gz"
    p.write_bytes(gzip.compress(LOG))
    cut = len(b"".join(lines[:100]))
    _, stats = parse(p, Resume(cut, 101))
    assert stats.lines == len(lines) - 100 and stats.end_offset == len(LOG)
    # a .gz cut short (still being written): what was read counts up to its last complete line
    big = LOG * (3 * (1 << 20) // len(LOG))  # larger than one read of the pipeline
    packed = gzip.compress(big)
    p.write_bytes(packed[: len(packed) * 2 // 3])
    _, stats = parse(p, Resume(0, 1))
    assert stats.read_error and 0 < stats.end_offset < len(big)
    assert big[stats.end_offset - 1:stats.end_offset] == b"\n"
    assert stats.end_offset == len(b"".join(big.splitlines(keepends=True)[:stats.lines]))


@pytest.mark.slow
def test_split_ranges_from_an_offset(tmp_path, monkeypatch):
    text = LOG * 6
    p = tmp_path / "mail.log"
    p.write_bytes(text + b"Nov 27 19:41:06 mx1 postfix/smtp")  # and a half line
    start = len(LOG) + 17
    start = text.index(b"\n", start) + 1
    first_line = text[:start].count(b"\n") + 1
    one, one_stats = parse(p, Resume(start, first_line))
    monkeypatch.setattr(pipeline, "SPLIT_MIN_BYTES", 1000)
    split, split_stats = parse(p, Resume(start, first_line), workers=3)
    key = sorted((r["line_no"], r["line"]) for r in split)
    assert key == sorted((r["line_no"], r["line"]) for r in one) and len(key) > 100
    assert split_stats.end_offset == one_stats.end_offset == len(text)
    assert split_stats.lines == one_stats.lines == text[start:].count(b"\n")
