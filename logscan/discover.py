"""From the paths a user gave to an ordered list of log files with their formats.

* files, directories (recursively) and globs;
* format by content (each parser scores the first lines), never by name; `--format` forces one;
* rotated sets read oldest first: mail.log.3.gz, mail.log.2.gz, mail.log.1, mail.log, and
  date-suffixed mail.log-20261031.gz before mail.log-20261101.gz before mail.log;
* rsyslog's Debian default writes warnings and errors to mail.log *and* to mail.warn/mail.err:
  inside a folder that has mail.log, those copies are skipped (with the reason) so nothing is
  counted twice; name them explicitly to read them anyway.
Every file not read is reported with a reason.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path

import regex

from logscan.parsers import REGISTRY

from .errors import UsageError
from .reading import head_lines

ROTATED = regex.compile(
    r"^(?P<base>.+?)(?:\.(?P<num>\d{1,4})|-(?P<date>\d{8}(?:\d{2})?))?(?P<comp>\.(?:gz|bz2|xz|zst))?$"
)
# copy -> the log that already holds its lines
COPIES = {"mail.warn": "mail.log", "mail.err": "mail.log", "mail.info": "mail.log",
          "rejectlog": "mainlog", "paniclog": "mainlog",
          "exim_rejectlog": "exim_mainlog", "exim_paniclog": "exim_mainlog"}
DETECT_LINES = 1000


@dataclass(frozen=True)
class LogFile:
    path: Path
    format: str


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


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


def _expand(paths: list[str]) -> tuple[list[tuple[Path, bool]], list[Skipped]]:
    """(file, named explicitly) pairs, and the paths that gave nothing."""
    found: list[tuple[Path, bool]] = []
    missing: list[Skipped] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for root, dirs, files in os.walk(p, followlinks=False):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if not name.startswith("."):
                        found.append((Path(root) / name, False))
        elif p.is_file():
            found.append((p, True))
        elif any(c in raw for c in "*?["):
            hits = sorted(glob.glob(raw, recursive=True))
            if not hits:
                missing.append(Skipped(raw, "the pattern matched no file"))
            for h in hits:
                if Path(h).is_file():
                    found.append((Path(h), True))
        elif p.exists():
            missing.append(Skipped(raw, "not a regular file or directory"))
        else:
            missing.append(Skipped(raw, "no such file or directory"))
    return found, missing


def discover(paths: list[str], forced_format: str | None = None) -> tuple[list[LogFile], list[Skipped]]:
    if forced_format is not None and forced_format not in REGISTRY:
        raise UsageError(
            f"unknown format {forced_format!r}", hint=f"choose one of: {', '.join(sorted(REGISTRY))}"
        )
    found, skipped = _expand(paths)
    seen: set[Path] = set()
    unique: list[tuple[Path, bool]] = []
    for path, explicit in found:
        real = path.resolve()
        if real not in seen:
            seen.add(real)
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
        except (OSError, EOFError) as exc:
            skipped.append(Skipped(str(path), f"cannot read: {exc}"))
            continue
        if forced_format:
            files.append(LogFile(path, forced_format))
            continue
        if not lines:
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
