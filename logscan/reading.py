"""Reading log files: transparent decompression, bounded lines, never a crash on bad bytes.

Every file is opened through `open_log`, so later sources (fsspec URLs) need one change here.
Lines are delivered in chunks (a list of str per ~1 MiB read) because per-line generator
overhead is a large share of a scan's time.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CHUNK_BYTES = 1 << 20
# A mail log line is rarely over 4 KiB; a longer one is cut here (and counted), so a file with no
# newline at all cannot make a run hold it whole in memory.
MAX_LINE_CHARS = 64 * 1024

MAGIC = {
    b"\x1f\x8b": "gzip",
    b"BZh": "bzip2",
    b"\xfd7zXZ\x00": "xz",
    b"\x28\xb5\x2f\xfd": "zstd",
}


def compression_of(path: Path) -> str | None:
    with open(path, "rb") as fh:
        head = fh.read(6)
    for magic, name in MAGIC.items():
        if head.startswith(magic):
            return name
    return None


def open_log(path: Path) -> BinaryIO:
    """Open a possibly compressed log for binary reading (by content, not by name)."""
    kind = compression_of(path)
    if kind == "gzip":
        return gzip.open(path, "rb")
    if kind == "bzip2":
        return bz2.open(path, "rb")
    if kind == "xz":
        return lzma.open(path, "rb")
    if kind == "zstd":
        try:
            import zstandard  # optional
        except ImportError as exc:
            raise OSError("zstd-compressed; install the 'zstandard' package to read it") from exc
        return zstandard.open(path, "rb")
    return open(path, "rb")


@dataclass(frozen=True)
class Resume:
    """Where an incremental scan (logscan/store.py) picks a file up. A plain file is then read
    only up to its last complete line: a line still being written waits for the next run."""

    offset: int = 0  # decompressed bytes already consumed
    line_no: int = 1  # number of the line that starts at offset
    record: dict | None = None  # where the parser stood in the file's records (parsers/base.py take_record)
    final: bool = False  # unchanged since the last run: finish the record it was left open in


@dataclass
class ReadStats:
    bytes_read: int = 0
    pending_bytes: int = 0  # of bytes_read, the start of a line not yielded yet
    truncated_lines: int = 0
    bad_bytes_chunks: int = 0


def _decode(data: bytes, stats: ReadStats) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        # Invalid UTF-8 (Latin-1 host names, binary junk): keep the line, mark the bytes.
        stats.bad_bytes_chunks += 1
        text = data.decode("utf-8", "replace")
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    if "\r" in text:
        # CRLF line ends; the block itself stops just before a "\n", so its last "\r" is one too.
        text = text.replace("\r\n", "\n")
        if text.endswith("\r"):
            text = text[:-1]
    return text


def iter_line_chunks(fh: BinaryIO, stats: ReadStats, chunk_bytes: int = CHUNK_BYTES) -> Iterator[list[str]]:
    """Yield lists of lines (without newline) read from fh, in order."""
    carry = b""
    skipping = False  # inside the rest of an over-long line
    while True:
        data = fh.read(chunk_bytes)
        if not data:
            break
        stats.bytes_read += len(data)
        if skipping:
            nl = data.find(b"\n")
            if nl < 0:
                continue
            data = data[nl + 1 :]
            skipping = False
        cut = data.rfind(b"\n")
        if cut < 0:
            carry += data
            stats.pending_bytes = len(carry)
            if len(carry) > MAX_LINE_CHARS:
                stats.pending_bytes = 0
                yield [_decode(carry[:MAX_LINE_CHARS], stats)]
                stats.truncated_lines += 1
                carry, skipping = b"", True
            continue
        block = carry + data[:cut]
        carry = data[cut + 1 :]
        stats.pending_bytes = len(carry)
        lines = _decode(block, stats).split("\n")
        if max(map(len, lines)) > MAX_LINE_CHARS:
            for i, line in enumerate(lines):
                if len(line) > MAX_LINE_CHARS:
                    lines[i] = line[:MAX_LINE_CHARS]
                    stats.truncated_lines += 1
        yield lines
    if carry:
        stats.pending_bytes = 0
        yield [_decode(carry, stats)]


def head_lines(path: Path, n: int = 200, max_bytes: int = 256 * 1024) -> list[str]:
    """The first n lines of a file (decompressed), for format detection."""
    stats = ReadStats()
    out: list[str] = []
    with open_log(path) as fh:
        data = fh.read(max_bytes)
    for lines in iter_line_chunks(io.BytesIO(data), stats):
        out.extend(lines)
    if data and not data.endswith(b"\n") and len(data) == max_bytes and out:
        out.pop()  # a partial last line would only confuse detection
    return out[:n]


def whole_lines_end(path: Path, start: int) -> int:
    """The offset just after the last newline of a plain file at or after `start` (start if none)."""
    with open(path, "rb") as fh:
        end = fh.seek(0, os.SEEK_END)
        while end > start:
            block = max(start, end - (1 << 16))
            fh.seek(block)
            nl = fh.read(end - block).rfind(b"\n")
            if nl >= 0:
                return block + nl + 1
            end = block
    return start
