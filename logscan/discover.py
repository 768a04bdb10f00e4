"""From the paths a user gave to an ordered list of log files with their formats.

* files, directories (recursively) and globs;
* format by content (each parser scores the first lines), never by name; `--format` forces one;
* rotated sets read oldest first: mail.log.3.gz, mail.log.2.gz, mail.log.1, mail.log, and
  date-suffixed mail.log-20261031.gz before mail.log-20261101.gz before mail.log;
* rsyslog's Debian default writes warnings and errors to mail.log *and* to mail.warn/mail.err:
  inside a folder that has mail.log, those copies are skipped (with the reason) so nothing is
  counted twice; name them explicitly to read them anyway.
Every file not read is reported with a reason.

Folder walks and globs are safe on hostile trees: hidden files are read (`.msmtp.log` is msmtp's
documented default name), version-control and cache folders are not searched, FIFOs, sockets and
devices are never opened (only stat()ed), links to folders inside a walk are not followed (each
is listed with the reason; a link named on the command line is), and a folder is entered once per
run (visited (st_dev, st_ino)), so symlink loops, links back up and bind-mount loops all end.

URLs (s3://bucket/logs/, gs://.../mail.log*, https://host/mail.log.gz, memory://) are listed
through fsspec (logscan/remote.py): an object, a prefix read recursively, or a glob; file:// URLs
are local paths.
"""

from __future__ import annotations

import errno
import fnmatch
import glob
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import regex

from logscan.parsers import REGISTRY

from .errors import UsageError
from .reading import describe, head_lines, kind_of, nul_only

ROTATED = regex.compile(
    r"^(?P<base>.+?)(?:\.(?P<num>\d{1,4})|-(?P<date>\d{8}(?:\d{2})?))?(?P<comp>\.(?:gz|bz2|xz|zst))?$"
)
# copy -> the log that already holds its lines
COPIES = {"mail.warn": "mail.log", "mail.err": "mail.log", "mail.info": "mail.log",
          "rejectlog": "mainlog", "paniclog": "mainlog",
          "exim_rejectlog": "exim_mainlog", "exim_paniclog": "exim_mainlog"}
DETECT_LINES = 1000
DETECT_BYTES = 256 * 1024
# Folders a walk does not search: version control and caches hold no mail logs, and can be huge.
NOT_SEARCHED = dict.fromkeys((".git", ".hg", ".svn", ".bzr", "CVS", "_darcs", ".jj", ".pijul"),
                             "a version-control folder") | dict.fromkeys(
    ("__pycache__", "node_modules", ".venv", ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache"),
    "a cache or package folder")


@dataclass(frozen=True)
class LogFile:
    path: Path
    format: str


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str
    # A log that could not be read (permission, I/O error, damaged compression): said on stderr
    # even under --quiet, and the run's exit status is 11. Other skips are choices, listed only.
    unreadable: bool = False


def _rotation_key(path: Path) -> tuple:
    m = ROTATED.match(path.name)
    base = m.group("base") if m else path.name
    if m and m.group("num"):
        age = (0, -int(m.group("num")), "")  # higher number = older
    elif m and m.group("date"):
        age = (0, 0, m.group("date"))  # older date first
    else:
        age = (1, 0, "")  # the live file last
    return (str(path.parent), base, age)


def _cannot_stat(path: Path, exc: OSError) -> Skipped:
    if os.path.islink(path):
        if exc.errno == errno.ELOOP:
            return Skipped(str(path), "a symbolic link loop (the link leads back to itself)")
        return Skipped(str(path), f"a broken symbolic link ({describe(exc)})")
    if exc.errno in (errno.ENOENT, errno.ENOTDIR):
        return Skipped(str(path), "no such file or directory")
    return Skipped(str(path), f"cannot read: {describe(exc)}", unreadable=True)


class _Walker:
    """Collects (file, named explicitly, stat) and the reasons for what it leaves, entering each
    folder at most once (by device and inode)."""

    def __init__(self) -> None:
        self.found: list[tuple[Path, bool, os.stat_result]] = []
        self.skipped: list[Skipped] = []
        self.visited: set[tuple[int, int]] = set()

    def entry(self, path: Path, explicit: bool) -> tuple[os.stat_result | None, bool]:
        """Stat one path (following links, never opening it): (its stat, is a folder to enter),
        or (None, False) with the reason recorded when it is not read."""
        try:
            st = os.stat(path)
        except OSError as exc:
            self.skipped.append(_cannot_stat(path, exc))
            return None, False
        if stat.S_ISREG(st.st_mode):
            return st, False
        if not stat.S_ISDIR(st.st_mode):
            self.skipped.append(Skipped(str(path), f"{kind_of(st.st_mode)}: not opened"))
            return None, False
        if not explicit and path.name in NOT_SEARCHED:
            self.skipped.append(Skipped(str(path), f"{NOT_SEARCHED[path.name]}: not searched (name it to read it)"))
            return None, False
        seen = (st.st_dev, st.st_ino) in self.visited
        if not explicit and os.path.islink(path):
            # as find, rg and os.walk do: a walk stays in the tree it was given
            self.skipped.append(Skipped(str(path), "a link to a folder this run reads already (a loop): not followed"
                                        if seen else "a link to a folder: not followed (name the folder to read it)"))
            return None, False
        if seen:  # a folder named twice is read once; a bind mount looping back is not entered again
            if not explicit:
                self.skipped.append(Skipped(str(path), "a folder this run reads already (mounted twice?): not "
                                                       "entered again"))
            return None, False
        self.visited.add((st.st_dev, st.st_ino))
        return st, True

    def folder(self, top: Path, pattern: list[str] | None = None) -> None:
        """Walk a folder entered with entry(): every regular file in it and below, depth first in
        name order. With `pattern` (glob segments relative to top, with `**`), only the entries it
        matches are kept, and names starting with '.' only where the pattern says so."""
        stack: list[tuple[Path, tuple[str, ...]]] = [(top, ())]
        while stack:
            folder, rel = stack.pop()
            try:
                with os.scandir(folder) as it:
                    names = sorted(e.name for e in it)
            except OSError as exc:
                self.skipped.append(Skipped(str(folder), f"cannot list the folder: {describe(exc)}", unreadable=True))
                continue
            subfolders = []
            for name in names:
                path, sub = folder / name, (*rel, name)
                states = _states(pattern, sub) if pattern is not None else None
                if states is not None and not states:
                    continue  # nothing at or below this name can match the glob
                st, enter = self.entry(path, explicit=False)
                if enter:
                    subfolders.append((path, sub))
                elif st is not None and (states is None or len(pattern) in states):
                    self.found.append((path, pattern is not None, st))
            stack.extend(reversed(subfolders))


def _segment_match(pat: str, name: str) -> bool:
    if name.startswith(".") and not pat.startswith("."):
        return False  # as in the shell: * and ? do not match a leading dot
    return fnmatch.fnmatchcase(name, pat)


def _states(pat: list[str], names: tuple[str, ...]) -> set[int]:
    """Positions in the glob segments `pat` (`**`: any number of folders) reachable after the path
    `names`: a set, so matching is linear in the path, never backtracking. Empty: no match below."""
    states = _closure(pat, {0})
    for name in names:
        nxt = set()
        for i in states:
            if i < len(pat):
                if pat[i] == "**":
                    if not name.startswith("."):
                        nxt.add(i)
                elif _segment_match(pat[i], name):
                    nxt.add(i + 1)
        states = _closure(pat, nxt)
        if not states:
            break
    return states


def _closure(pat: list[str], states: set[int]) -> set[int]:
    out = set(states)
    for i in states:
        while i < len(pat) and pat[i] == "**":
            i += 1
            out.add(i)
    return out


def _expand(paths: list[str]) -> tuple[list[tuple[Path, bool, os.stat_result]], list[Skipped]]:
    """(file, named explicitly, stat) triples, and the paths that gave nothing, with the reason."""
    walk = _Walker()
    for raw in paths:
        if "://" in raw:  # a URL (logscan/remote.py: fsspec, imported only here)
            from . import remote

            if remote.is_url(raw):
                remote.expand(raw, walk.found, walk.skipped, NOT_SEARCHED, Skipped)
                continue
            raw = remote.local_path(raw)
        p = Path(raw)
        if glob.has_magic(raw) and not os.path.lexists(raw):
            _expand_glob(raw, walk)
            continue
        st, enter = walk.entry(p, explicit=True)
        if enter:
            walk.folder(p)
        elif st is not None:
            walk.found.append((p, True, st))
    return walk.found, walk.skipped


def _expand_glob(raw: str, walk: _Walker) -> None:
    """A quoted glob, matched here as the shell would. Without `**`, each folder it matches is
    read like a folder given by name; with `**`, the pattern chooses the files itself (`dir/**`:
    every file under dir) and is walked once, never entering a folder twice."""
    found, skipped = len(walk.found), len(walk.skipped)
    parts = raw.split(os.sep)
    if "**" not in parts:
        for hit in sorted(glob.glob(raw)):
            st, enter = walk.entry(Path(hit), explicit=False)
            if enter:
                walk.folder(Path(hit))
            elif st is not None:
                walk.found.append((Path(hit), True, st))
    else:
        fixed = 0
        while fixed < len(parts) and not glob.has_magic(parts[fixed]):
            fixed += 1
        top = Path(os.sep.join(parts[:fixed]) or ".") if parts[:fixed] != [""] else Path(os.sep)
        pattern = [x for x in parts[fixed:] if x != ""] or ["**"]
        st, enter = walk.entry(top, explicit=True) if os.path.isdir(top) else (None, False)
        if enter:
            walk.folder(top, pattern=pattern)
    if len(walk.found) == found and len(walk.skipped) == skipped:  # (what it matched and left is said)
        walk.skipped.append(Skipped(raw, "the pattern matched no file"))


def discover(paths: list[str], forced_format: str | None = None) -> tuple[list[LogFile], list[Skipped]]:
    if forced_format is not None and forced_format not in REGISTRY:
        raise UsageError(
            f"unknown format {forced_format!r}", hint=f"choose one of: {', '.join(sorted(REGISTRY))}"
        )
    found, skipped = _expand(paths)
    seen: set[tuple[int, int]] = set()
    unique: list[tuple[Path, bool]] = []
    for path, explicit, st in found:
        if (st.st_dev, st.st_ino) not in seen:  # the same file twice (a link, a path named twice)
            seen.add((st.st_dev, st.st_ino))
            unique.append((path, explicit))
    bases_by_folder: dict[str, set[str]] = {}
    for p, _ in unique:
        m = ROTATED.match(p.name)
        bases_by_folder.setdefault(str(p.parent), set()).add(m.group("base") if m else p.name)
    files: list[LogFile] = []
    for path, explicit in unique:
        m = ROTATED.match(path.name)
        base = m.group("base") if m else path.name
        original = COPIES.get(base)
        if not explicit and original in bases_by_folder.get(str(path.parent), ()):
            skipped.append(Skipped(str(path), f"{base} repeats lines of {original} in the same folder; "
                                              "name it explicitly to read it"))
            continue
        try:
            lines = head_lines(path, DETECT_LINES)
            nuls = nul_only(path) if all(not line.strip("\ufffd") for line in lines) else None
        except OSError as exc:
            skipped.append(Skipped(str(path), f"cannot read: {describe(exc)}", unreadable=True))
            continue
        if nuls:
            skipped.append(Skipped(str(path), f"only NUL bytes ({_size(nuls)}): a sparse or zero-filled file "
                                              "(space kept after a crash?), no log lines"))
            continue
        if forced_format:
            files.append(LogFile(path, forced_format))
            continue
        if not lines:
            if nuls is None and path.stat().st_size:
                skipped.append(Skipped(str(path), f"its first {_size(DETECT_BYTES)} are NUL bytes (text follows "
                                                  "later); use --format to read it"))
            else:
                skipped.append(Skipped(str(path), "empty file"))
            continue
        if sum("\ufffd" in line for line in lines) > len(lines) // 2:
            skipped.append(Skipped(str(path), "binary or not text"))
            continue
        scores = {name: parser.detect(lines) for name, parser in REGISTRY.items()}
        best = max(scores, key=scores.get)
        if scores[best] <= 0:
            first = lines[0][:80]
            skipped.append(Skipped(str(path), f"not a recognised mail log format (first line: {first!r}); "
                                              f"use --format to force one"))
            continue
        files.append(LogFile(path, best))
    files.sort(key=lambda f: _rotation_key(f.path))
    return files, skipped


def _size(n: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} bytes"
