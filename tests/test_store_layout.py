"""The store's layout: host=<host>/day=<day>/part-*.parquet, each row keeping its host; read by
read_failures, DuckDB and pyarrow alike; a store of the day=-only layout read as it is, then moved
by the first run that writes to it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from urllib.parse import unquote

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from logscan.cli import app
from logscan.store import DATA_FILE, HOST_DIR_MAX, META, NULL_DAY, host_dir, read_failures

SAMPLES = Path(__file__).parents[1] / "sample_logs"


def run_store(store: Path, *paths):
    return CliRunner().invoke(app, ["scan", *map(str, paths), "--store", str(store), "--quiet"])


def rows(table: pa.Table) -> Counter:
    table = table.select(sorted(c for c in table.column_names if c != "day"))
    return Counter(zip(*[table.column(c).to_pylist() for c in table.column_names], strict=True))


@pytest.fixture
def two_hosts(tmp_path) -> Path:
    """Postfix's real sample log as two hosts wrote it (the syslog host field changed)."""
    logs = tmp_path / "logs"
    logs.mkdir()
    text = (SAMPLES / "postfix" / "mail.log").read_text()
    assert " mx1 postfix/" in text
    (logs / "mx1.log").write_text(text)
    (logs / "mx2.log").write_text(text.replace(" mx1 postfix/", " mx2.example.org postfix/"))
    return logs


def test_partitioned_by_host_and_day(tmp_path, two_hosts):
    store = tmp_path / "store"
    assert run_store(store, two_hosts).exit_code == 0
    listed = json.loads((store / META / "state.json").read_text())["data_files"]
    assert {Path(f).parts[0] for f in listed} == {"host=mx1", "host=mx2.example.org"}
    for rel in listed:
        hosts = set(pq.read_table(store / rel).column("host").to_pylist())
        assert hosts == {unquote(Path(rel).parts[0].removeprefix("host="))}  # each row keeps its host
    table = read_failures(store).table
    by_host = Counter(table.column("host").to_pylist())
    assert by_host["mx1"] == by_host["mx2.example.org"] > 0 and len(by_host) == 2


def test_duckdb_reads_the_dataset(tmp_path, two_hosts):
    duckdb = pytest.importorskip("duckdb")
    store = tmp_path / "store"
    assert run_store(store, two_hosts).exit_code == 0
    con = duckdb.connect()
    got = dict(con.execute("SELECT host, count(*) FROM read_parquet(?, hive_partitioning = true) GROUP BY host",
                           [f"{store}/**/*.parquet"]).fetchall())
    assert got == dict(Counter(read_failures(store).table.column("host").to_pylist()))
    days = {r[0] for r in con.execute("SELECT DISTINCT CAST(day AS VARCHAR) FROM read_parquet(?, "
                                      "hive_partitioning = true)", [f"{store}/**/*.parquet"]).fetchall()}
    assert days == {p.name.removeprefix("day=") for p in store.glob("host=*/day=*")}


@pytest.mark.parametrize("host", ["mx1", "mx1.example.org", "../../etc", "a/b", "a b%c", "ÿ.example", "x" * 40,
                                  NULL_DAY, ".", ".."])
def test_host_folder_is_safe_and_decodes_back(host):
    folder = host_dir(host)
    assert DATA_FILE.fullmatch(f"{folder}/day=2026-11-27/part-000001-ab-0.parquet")
    assert "/" not in folder and folder not in (".", "..")
    enc = folder.removeprefix("host=")
    assert unquote(enc) == host if host != NULL_DAY else enc != NULL_DAY


def test_host_folder_of_no_host_and_of_a_long_host():
    assert host_dir(None) == host_dir("") == f"host={NULL_DAY}"
    long = host_dir("ä" * 300)
    assert len(long) <= len("host=") + HOST_DIR_MAX and long != host_dir("ä" * 301)
    assert DATA_FILE.fullmatch(f"{long}/day=2026-11-27/part-000001-ab-0.parquet")


def old_layout(store: Path) -> Counter:
    """Rewrite a store as a logscan of before the host partition wrote it: one file per day, all
    hosts in it. Returns its rows."""
    state_path = store / META / "state.json"
    state = json.loads(state_path.read_text())
    by_day: dict[str, list[pa.Table]] = {}
    for rel in state["data_files"]:
        by_day.setdefault(Path(rel).parts[1], []).append(pq.read_table(store / rel))
        os.unlink(store / rel)
    for folder in store.glob("host=*/day=*"):
        folder.rmdir()
    for folder in store.glob("host=*"):
        folder.rmdir()
    state["data_files"] = []
    for day, tables in by_day.items():
        (store / day).mkdir()
        pq.write_table(pa.concat_tables(tables), store / day / "part-000001-aaaa-0.parquet")
        state["data_files"].append(f"{day}/part-000001-aaaa-0.parquet")
    state_path.write_text(json.dumps(state))
    table = read_failures(store).table
    assert len(set(table.column("host").to_pylist())) == 2  # the old files hold both hosts
    return rows(table)


def test_old_layout_is_read_then_moved_by_the_next_run(tmp_path, two_hosts):
    store = tmp_path / "store"
    assert run_store(store, two_hosts).exit_code == 0
    before = old_layout(store)
    r = run_store(store, two_hosts)  # nothing new to read: only the move
    assert r.exit_code == 0, r.output
    assert "moved 1 data file(s) of the day= layout to host=<host>/day=<day>" in r.stderr
    assert rows(read_failures(store).table) == before
    assert not list(store.glob("day=*"))
    listed = set(json.loads((store / META / "state.json").read_text())["data_files"])
    assert listed == {str(p.relative_to(store)) for p in store.glob("host=*/day=*/*.parquet")}
    r = run_store(store, two_hosts)
    assert r.exit_code == 0 and "moved" not in r.stderr  # once


def test_move_killed_after_its_commit_is_finished_by_the_next_run(tmp_path, two_hosts):
    store = tmp_path / "store"
    assert run_store(store, two_hosts).exit_code == 0
    before = old_layout(store)
    env = dict(os.environ, LOGSCAN_TEST_KILL_AT="after-migrate-commit")
    proc = subprocess.run([sys.executable, "-c", "from logscan.cli import main; main()", "scan", str(two_hosts),
                           "--store", str(store), "--quiet"], env=env, capture_output=True)
    assert proc.returncode == -9
    assert list(store.glob("day=*/*.parquet"))  # killed between the commit and the renames
    assert rows(read_failures(store).table) == before  # a reader meanwhile sees the committed rows
    assert run_store(store, two_hosts).exit_code == 0
    assert not list(store.glob("day=*")) and rows(read_failures(store).table) == before
    table = read_failures(store).table
    assert pc.sum(pc.is_null(table.column("host"))).as_py() in (0, None)
