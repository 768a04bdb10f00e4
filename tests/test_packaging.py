"""The wheel must carry every sub-package and data file (an unlisted one is silently left out)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from fnmatch import fnmatch

import pytest

from conftest import REPO

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
MAPPING = PYPROJECT["tool"]["setuptools"]["package-dir"]


DATA_SUFFIXES = {".toml", ".j2", ".json", ".css"}


def _package_of(folder_path, name: str, root) -> str:
    return ".".join([name, *folder_path.relative_to(root).parts])


def _packages_on_disk() -> set[str]:
    """Folders with an __init__.py, and folders that hold data files (installed as packages too)."""
    found = set()
    for name, folder in MAPPING.items():
        root = REPO / folder
        for f in root.rglob("*"):
            if "__pycache__" in f.parts or not f.is_file():
                continue
            if f.name == "__init__.py" or f.suffix in DATA_SUFFIXES:
                found.add(_package_of(f.parent, name, root))
    return found


def test_every_package_folder_is_listed():
    assert _packages_on_disk() == set(PYPROJECT["tool"]["setuptools"]["packages"])


def test_no_data_file_is_left_out():
    data = PYPROJECT["tool"]["setuptools"]["package-data"]
    for name, folder in MAPPING.items():
        root = REPO / folder
        for f in root.rglob("*"):
            if f.is_file() and f.suffix in DATA_SUFFIXES:
                package = _package_of(f.parent, name, root)
                assert any(fnmatch(f.name, pat) for pat in data.get(package, [])), f"{package}: {f.name}"


@pytest.mark.slow
def test_built_wheel_contains_code_and_data(tmp_path):
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-v",
                        "-w", str(tmp_path), str(REPO)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot build a wheel here: {r.stderr[-300:]}")
    # no warning of the project's own configuration (unlisted data packages, the old license table)
    said = r.stdout + r.stderr
    for warning in ("is absent from the `packages` configuration", "License classifiers are deprecated",
                    "`project.license` as a TOML table is deprecated"):
        assert warning not in said, warning
    wheel = next(tmp_path.glob("*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for must in ("logscan/cli.py", "logscan/parsers/postfix.py", "logscan/reports/html.py",
                 "logscan/knowledge/categories.toml", "logscan/knowledge/rules/core.toml",
                 "logscan/reports/templates/report.html.j2"):
        assert must in names, must
    assert not any(n.startswith(("parsers/", "reports/")) for n in names), "no top-level parsers/reports"
    assert any(n.startswith("logscan/_core.") and n.endswith((".so", ".pyd")) for n in names), "the compiled core"
