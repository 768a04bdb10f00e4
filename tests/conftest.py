from __future__ import annotations

import importlib.util
import sys
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType

import pytest

from logscan.parsers.base import FileContext, FileStats
from logscan.timestamps import StampConverter, load_zone

REPO = Path(__file__).resolve().parents[1]
CORPORA = REPO.parent / "shared" / "corpora"
SAMPLE_LOGS = REPO / "sample_logs"
ANCHOR = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)


def corpus_line(ref: str) -> str:
    """'<file>:<n>' in ../shared/corpora -> that line (skips the test when the corpora are absent)."""
    name, _, number = ref.rpartition(":")
    path = CORPORA / name
    if not path.exists():
        pytest.skip(f"../shared/corpora not present ({name})")
    with open(path, encoding="utf-8", errors="replace") as fh:
        for i, line in enumerate(fh, 1):
            if i == int(number):
                return line.rstrip("\n")
    raise AssertionError(f"{ref}: no such line")


def agreement_tool(name: str) -> ModuleType:
    """tools/agreement/<name>.py as a module (the measuring scripts are not part of the package)."""
    spec = importlib.util.spec_from_file_location(f"agreement_{name}", REPO / "tools" / "agreement" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def make_context(path: str = "test.log", zone: str = "UTC") -> FileContext:
    z, name = load_zone(zone)
    return FileContext(path, StampConverter(ANCHOR, z, name), FileStats(path=path, format="test"))


@pytest.fixture
def corpora() -> Path:
    if not CORPORA.exists():
        pytest.skip("../shared/corpora not present")
    return CORPORA
