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


def _packages_on_disk() -> set[str]:
    found = set()
    for name, folder in MAPPING.items():
        for init in (REPO / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(REPO / folder)
            found.add(".".join([name, *rel.parts]))
    return found


def test_every_package_folder_is_listed():
    assert _packages_on_disk() == set(PYPROJECT["tool"]["setuptools"]["packages"])


def test_no_data_folder_is_left_out():
    data = PYPROJECT["tool"]["setuptools"]["package-data"]
    for name, folder in MAPPING.items():
        for f in (REPO / folder).rglob("*"):
            if f.is_file() and f.suffix in {".toml", ".j2", ".json", ".css"}:
                rel = f.relative_to(REPO / folder).as_posix()
                assert any(fnmatch(rel, pat) for pat in data.get(name, [])), rel


@pytest.mark.slow
def test_built_wheel_contains_code_and_data(tmp_path):
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                        "-w", str(tmp_path), str(REPO)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot build a wheel here: {r.stderr[-300:]}")
    wheel = next(tmp_path.glob("*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for must in ("logscan/cli.py", "logscan/parsers/postfix.py", "logscan/reports/html.py",
                 "logscan/knowledge/categories.toml", "logscan/knowledge/rules/core.toml",
                 "logscan/reports/templates/report.html.j2"):
        assert must in names, must
    assert not any(n.startswith(("parsers/", "reports/")) for n in names), "no top-level parsers/reports"
