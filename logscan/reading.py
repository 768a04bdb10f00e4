"""Reading log files: transparent decompression, bounded lines, never a crash on bad bytes.

Every file is opened through `open_log` (or `open_plain` for its raw bytes): a remote log (a
RemotePath from logscan/remote.py, for fsspec URLs) is opened there, read in blocks as a local one.
Lines are delivered in chunks (a list of str per ~1 MiB read) because per-line generator
overhead is a large share of a scan's time.

Hostile and damaged files: only regular files are opened (a FIFO or a device swapped in after
discovery fails here instead of blocking the run); a read error or a truncated compressed
stream ends the file's lines where the readable data ends (as zcat does), with the reason in
ReadStats.error; no line is held in memory beyond MAX_LINE_CHARS.
"""

from __future__ import annotations

import bz2
import errno
import fcntl
import gzip
import io
import lzma
import os
import stat
import zlib
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


# What a damaged or unreadable file raises while it is read (zlib.error: corrupt deflate data).
READ_ERRORS = (OSError, EOFError, lzma.LZMAError, zlib.error)

SPECIAL_KINDS = {stat.S_IFIFO: "a FIFO (named pipe)", stat.S_IFSOCK: "a socket", stat.S_IFCHR: "a character device",
                 stat.S_IFBLK: "a block device"}


def kind_of(mode: int) -> str:
    """What a file that is neither a regular file nor a folder is, for messages."""
    return SPECIAL_KINDS.get(stat.S_IFMT(mode), "not a regular file")


def open_regular(path: Path) -> BinaryIO:
    """Open a regular file for binary reading. The open itself cannot block (O_NONBLOCK, which
    regular files ignore): anything else (a FIFO, a device) raises OSError instead."""
    if getattr(path, "remote", False):  # an object of an fsspec URL (logscan.remote)
        return path.open()
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise OSError(errno.EINVAL, f"{kind_of(mode)}, not read")
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _magic(head: bytes) -> str | None:
    for magic, name in MAGIC.items():
        if head.startswith(magic):
            return name
    return None


def compression_of(path: Path) -> str | None:
    with open_regular(path) as fh:
        return _magic(fh.read(6))


class _OwnsRaw:
    """A decompressing reader that closes the regular file it was handed."""

    _raw: BinaryIO | None = None

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self._raw is not None:
                self._raw.close()


class _Gzip(_OwnsRaw, gzip.GzipFile):
    pass


class _Bz2(_OwnsRaw, bz2.BZ2File):
    pass


class _Xz(_OwnsRaw, lzma.LZMAFile):
    pass


def open_log(path: Path) -> BinaryIO:
    """Open a possibly compressed log for binary reading (by content, not by name)."""
    raw = open_regular(path)
    try:
        kind = _magic(raw.read(6))
        raw.seek(0)
        if kind == "zstd":
            try:
                import zstandard  # optional
            except ImportError as exc:
                raise OSError("zstd-compressed; install the 'zstandard' package to read it") from exc
            if getattr(path, "remote", False):
                return zstandard.ZstdDecompressor().stream_reader(raw, closefd=True)
            raw.close()  # checked regular just now; zstandard opens it by name, as before
            return zstandard.open(path, "rb")
        if kind is None:
            return raw
        fh = {"gzip": lambda: _Gzip(fileobj=raw, mode="rb"), "bzip2": lambda: _Bz2(raw, "rb"),
              "xz": lambda: _Xz(raw, "rb")}[kind]()
        fh._raw = raw
        return fh
    except BaseException:
        raw.close()
        raise


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
    error: str | None = None  # why reading stopped before the end (the lines before it were yielded)


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


def describe(exc: BaseException) -> str:
    """A read error for a message: the OS's words without the file name (the caller names it)."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    if isinstance(exc, EOFError):
        return "the compressed data ends early (a truncated file)"
    return str(exc) or type(exc).__name__


def iter_line_chunks(fh: BinaryIO, stats: ReadStats, chunk_bytes: int = CHUNK_BYTES) -> Iterator[list[str]]:
    """Yield lists of lines (without newline) read from fh, in order.

    A read error (a truncated or corrupt compressed stream, an I/O error) ends the lines there:
    every complete line before it is yielded, the reason goes to stats.error (the incomplete line
    it cut is not yielded)."""
    for block, several in iter_byte_chunks(fh, stats, chunk_bytes):
        if not several:
            yield [_decode(block, stats)]
            continue
        lines = _decode(block, stats).split("\n")
        if max(map(len, lines)) > MAX_LINE_CHARS:
            for i, line in enumerate(lines):
                if len(line) > MAX_LINE_CHARS:
                    lines[i] = line[:MAX_LINE_CHARS]
                    stats.truncated_lines += 1
        yield lines


def iter_byte_chunks(fh: BinaryIO, stats: ReadStats, chunk_bytes: int = CHUNK_BYTES) -> Iterator[tuple[bytes, bool]]:
    """The bytes iter_line_chunks makes its lines of, not decoded: (block, several). several: the
    block is whole lines joined by "\\n" (a line over MAX_LINE_CHARS characters is to be cut there);
    else it is one line (the cut start of an over-long line, or the last line, without newline).
    The compiled core (logscan/fastpath.py) reads these, and decodes them as _decode does."""
    carry = b""
    skipping = False  # inside the rest of an over-long line
    for data in _blocks(fh, stats, chunk_bytes):
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
                yield carry[:MAX_LINE_CHARS], False
                stats.truncated_lines += 1
                carry, skipping = b"", True
            continue
        block = carry + data[:cut]
        carry = data[cut + 1 :]
        stats.pending_bytes = len(carry)
        yield block, True
    if stats.error is not None:
        if carry and not skipping:
            stats.error += "; the incomplete line there was left out"
    elif carry:
        stats.pending_bytes = 0
        yield carry, False


def _blocks(fh: BinaryIO, stats: ReadStats, size: int) -> Iterator[bytes]:
    """fh's bytes in blocks of `size` (the last one shorter). read1 where the reader has it: a
    decompressor hands out what it produced before it fails, and that is kept; the error that
    ends the data goes to stats.error."""
    read = getattr(fh, "read1", None) or fh.read
    while True:
        parts: list[bytes] = []
        got = 0
        try:
            while got < size:
                data = read(size - got)
                if not data:
                    break
                parts.append(data)
                got += len(data)
        except READ_ERRORS as exc:
            stats.error = describe(exc)
            if parts:
                yield b"".join(parts)
            return
        if parts:
            yield b"".join(parts) if len(parts) > 1 else parts[0]
        if got < size:  # an empty read: the end
            return


def head_bytes(path: Path, max_bytes: int = 256 * 1024) -> tuple[bytes, str | None]:
    """Up to max_bytes of a file's first (decompressed) bytes, and the read error that stopped it
    short, if any (what was read before the error is kept). Opening it may raise OSError."""
    stats = ReadStats()
    with open_log(path) as fh:
        data = next(_blocks(fh, stats, max_bytes), b"")
    return data, stats.error


def head_lines(path: Path, n: int = 200, max_bytes: int = 256 * 1024) -> list[str]:
    """The first n lines of a file (decompressed), for format detection. A file damaged further
    on (a truncated .gz) gives the lines before the damage; one with nothing readable raises
    OSError with the reason."""
    data, error = head_bytes(path, max_bytes)
    if error is not None and not data:
        raise OSError(errno.EIO, error)
    stats = ReadStats()
    out: list[str] = []
    for lines in iter_line_chunks(io.BytesIO(data), stats):
        out.extend(lines)
    if data and not data.endswith(b"\n") and (len(data) >= max_bytes or error is not None) and out:
        out.pop()  # a partial last line would only confuse detection
    return out[:n]


NUL_SCAN_BYTES = 256 << 20  # how far past holes a file of NULs is searched for text


def nul_only(path: Path, limit: int = NUL_SCAN_BYTES) -> int | None:
    """For a file whose first bytes are NULs: None when text follows them (within `limit` bytes
    of written data), else how many bytes of NULs were looked at. A plain file's holes (a sparse
    file) are skipped with SEEK_DATA without reading them; memory stays at one block."""
    seen = 0
    with open_log(path) as fh:
        raw = isinstance(fh, io.BufferedReader)
        pos = 0
        while seen < limit:
            if raw:
                try:
                    pos = os.lseek(fh.fileno(), pos, os.SEEK_DATA)
                except OSError as exc:
                    if exc.errno == errno.ENXIO:  # only holes from here to the end
                        return os.fstat(fh.fileno()).st_size
                    raw = False  # SEEK_DATA not supported here: read on
                else:
                    fh.seek(pos)
            try:
                block = fh.read(1 << 16)
            except READ_ERRORS:
                block = b""
            if not block:
                return max(seen, pos)
            if block.strip(b"\0"):
                return None
            seen += len(block)
            pos += len(block)
    return seen


def open_plain(path: Path) -> BinaryIO:
    """A plain (uncompressed) file's bytes, local or remote, without the checks of open_regular."""
    return path.open() if getattr(path, "remote", False) else open(path, "rb")


def whole_lines_end(path: Path, start: int) -> int:
    """The offset just after the last newline of a plain file at or after `start` (start if none)."""
    with open_plain(path) as fh:
        end = fh.seek(0, os.SEEK_END)
        while end > start:
            block = max(start, end - (1 << 16))
            fh.seek(block)
            nl = fh.read(end - block).rfind(b"\n")
            if nl >= 0:
                return block + nl + 1
            end = block
    return start
