"""A mail log that grows and is rotated the way logrotate and syslog do it, for the store tests.

The lines are the real Postfix log in sample_logs/postfix (mail.log.2.gz, mail.log.1, mail.log:
one continuous timeline, oldest first). The "daemon" keeps appending to the file it has open
until it is told to reopen (hup), as rsyslog does between logrotate's rename and its postrotate
HUP; that is where lines land in an already rotated file.
"""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

from logscan.reading import open_log

from conftest import SAMPLE_LOGS


def timeline(kind: str = "postfix") -> list[bytes]:
    """The sample lines of a rotated set (Postfix mail.log*, Exim mainlog*), oldest first, each with its newline."""
    base = {"postfix": "mail.log", "exim": "mainlog"}[kind]
    out: list[bytes] = []
    for name in (f"{base}.2.gz", f"{base}.1", base):
        with open_log(SAMPLE_LOGS / kind / name) as fh:
            out.extend(fh.read().splitlines(keepends=True))
    return out


class LogDir:
    def __init__(self, folder: Path, lines: list[bytes], name: str = "mail.log") -> None:
        self.folder, self.lines, self.name = folder, lines, name
        self.written = 0  # lines of the timeline written so far (complete ones)
        self.live = folder / name
        self.live.touch()
        self.writing = self.live  # the file the daemon has open (by inode: it follows renames)
        self._fh = open(self.live, "ab", buffering=0)
        self.partial = b""

    def write(self, n: int) -> None:
        chunk = self.lines[self.written:self.written + n]
        self._fh.write(b"".join(chunk))
        self.written += len(chunk)

    def write_partial(self) -> None:
        """Half of the next line, without its newline (the daemon is mid-write)."""
        line = self.lines[self.written]
        self.partial = line[: len(line) // 2]
        self._fh.write(self.partial)

    def finish_partial(self) -> None:
        self._fh.write(self.lines[self.written][len(self.partial):])
        self.written += 1
        self.partial = b""

    def hup(self) -> None:
        """The daemon reopens its log by name (rsyslog's HUP after logrotate)."""
        self._fh.close()
        self._fh = open(self.live, "ab", buffering=0)

    def _path(self, k: int, compressed: bool) -> Path:
        return self.folder / f"{self.name}.{k}{'.gz' if compressed else ''}"

    def _shift(self, compress: bool, delaycompress: bool) -> None:
        """mail.log.N[.gz] -> mail.log.N+1[.gz]; the .1 is compressed on its way to .2."""
        numbers = {p: p.name[len(self.name) + 1:].split(".")[0] for p in self.folder.glob(f"{self.name}.*")}
        numbered = sorted((int(k), p) for p, k in numbers.items() if k.isdigit())
        for k, p in reversed(numbered):
            target = self._path(k + 1, p.name.endswith(".gz") or (compress and delaycompress))
            if target.name.endswith(".gz") and not p.name.endswith(".gz"):
                _gzip(p, target)
            else:
                os.rename(p, target)

    def rotate(self, compress: bool = True, delaycompress: bool = True, hup: bool = True) -> None:
        """logrotate with `create`: rename mail.log to mail.log.1 and create a new, empty mail.log."""
        self._shift(compress, delaycompress)
        first = self._path(1, False)
        os.rename(self.live, first)
        if compress and not delaycompress:
            _gzip(first, self._path(1, True))
        self.live.touch()
        if hup:
            self.hup()

    def rotate_dateext(self, stamp: str) -> None:
        """logrotate with `dateext`: mail.log -> mail.log-YYYYMMDD, a new mail.log, HUP."""
        os.rename(self.live, self.folder / f"{self.name}-{stamp}")
        self.live.touch()
        self.hup()

    def compress(self, path: Path) -> None:
        """logrotate's compression of an already rotated file: path -> path.gz."""
        _gzip(path, path.with_name(path.name + ".gz"))

    def copytruncate(self) -> None:
        """logrotate with `copytruncate`: copy mail.log to mail.log.1, then truncate mail.log in place."""
        self._shift(compress=True, delaycompress=True)
        shutil.copy2(self.live, self._path(1, False))
        os.truncate(self.live, 0)

    def replace(self) -> None:
        """A new mail.log in place of the old one (the old one deleted, not rotated); its lines
        were never read."""
        self._fh.close()
        self.live.unlink()
        self.live.touch()
        self._fh = open(self.live, "ab", buffering=0)

    def close(self) -> None:
        self._fh.close()


def _gzip(src: Path, dst: Path) -> None:
    with open(src, "rb") as fi, gzip.open(dst, "wb") as fo:
        shutil.copyfileobj(fi, fo)
    shutil.copystat(src, dst)
    src.unlink()
