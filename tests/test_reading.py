from __future__ import annotations

import bz2
import gzip
import io
import lzma

import pytest

from logscan.reading import MAX_LINE_CHARS, ReadStats, head_lines, iter_line_chunks, open_log

TEXT = b"Nov  1 00:00:00 mx1 postfix/smtp[1]: one\nNov  1 00:00:01 mx1 postfix/smtp[1]: two\n"


def lines_of(data: bytes, chunk: int = 7) -> tuple[list[str], ReadStats]:
    stats = ReadStats()
    out: list[str] = []
    for lines in iter_line_chunks(io.BytesIO(data), stats, chunk_bytes=chunk):
        out.extend(lines)
    return out, stats


@pytest.mark.parametrize("compress", [lambda b: b, gzip.compress, bz2.compress, lzma.compress])
def test_compressed_files_read_by_content(tmp_path, compress):
    p = tmp_path / "mail.log.whatever"
    p.write_bytes(compress(TEXT))
    with open_log(p) as fh:
        assert fh.read() == TEXT
    assert head_lines(p) == TEXT.decode().splitlines()


def test_lines_split_across_chunks_and_no_final_newline():
    lines, _ = lines_of(TEXT + b"three", chunk=5)
    assert lines == ["Nov  1 00:00:00 mx1 postfix/smtp[1]: one", "Nov  1 00:00:01 mx1 postfix/smtp[1]: two", "three"]


def test_bad_bytes_nul_and_crlf_never_crash():
    lines, stats = lines_of(b"caf\xe9 \xff\xfe\r\nnul\x00here\n")
    assert lines == ["caf\ufffd \ufffd\ufffd", "nul\ufffdhere"]
    assert stats.bad_bytes_chunks >= 1


def test_over_long_lines_are_cut_and_counted():
    data = b"a" * (MAX_LINE_CHARS * 3) + b"\nnext\n"
    lines, stats = lines_of(data, chunk=4096)
    assert [len(x) for x in lines] == [MAX_LINE_CHARS, 4]
    assert stats.truncated_lines == 1
    lines, stats = lines_of(b"short\n" + b"b" * (MAX_LINE_CHARS + 10) + b"\nend\n", chunk=1 << 20)
    assert [len(x) for x in lines] == [5, MAX_LINE_CHARS, 3] and stats.truncated_lines == 1
