"""The store across many runs over a log that grows and is rotated: after every run it holds
exactly the failures of one scan over every complete line written so far, each once."""

from __future__ import annotations

import functools
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from logrotate_sim import LogDir, timeline
from typer.testing import CliRunner

from logscan.cli import app
from logscan.pipeline import ScanOptions, scan
from logscan.store import Store, read_failures, scan_into

runner = CliRunner()
# Provenance differs by design between an incremental run and one scan of the whole timeline.
PROVENANCE = {"source_file", "line_no"}


def run_store(store: Path, *paths, extra=()):
    r = runner.invoke(app, ["scan", *map(str, paths), "--store", str(store), "--quiet", *extra])
    return r


def rows_key(table: pa.Table) -> Counter:
    cols = [c for c in table.column_names if c not in PROVENANCE and c != "day"]
    return Counter(zip(*[table.column(c).to_pylist() for c in cols], strict=True))


def expected(tmp: Path, lines: list[bytes]) -> Counter:
    """The failures of one scan over these lines as a single file."""
    one = tmp / "oracle" / "all"
    one.parent.mkdir(exist_ok=True)
    one.write_bytes(b"".join(lines))
    return rows_key(scan([str(one)], ScanOptions(workers=1)).table)


def stored(store: Path) -> Counter:
    return rows_key(read_failures(store).table)


@pytest.fixture
def lines():
    return timeline()


@pytest.fixture
def growing(tmp_path, lines):
    """(the growing mail.log, its folder, a store folder not created yet)"""
    logs = tmp_path / "log"
    logs.mkdir()
    log = LogDir(logs, lines)
    yield log, logs, tmp_path / "store"
    log.close()


def check(tmp_path, store, log, lines, r):
    assert r.exit_code == 0, r.output
    got, want = stored(store), expected(tmp_path, lines[:log.written])
    assert sum(want.values()) > 0
    assert got == want, (f"missing {sum((want - got).values())}, extra {sum((got - want).values())}")


def test_rotation_across_runs(tmp_path, lines, growing):
    """rename (create), lines written to the renamed file before the HUP, compression, a missing
    run, copytruncate, dateext, a partial last line and a replaced file: nothing read twice or lost."""
    log, logs, store = growing
    step = len(lines) // 24

    log.write(step * 2)
    check(tmp_path, store, log, lines, run_store(store, logs))
    log.write(step)
    check(tmp_path, store, log, lines, run_store(store, logs))
    # logrotate renames mail.log; the daemon writes on into mail.log.1 until its HUP
    log.write(step)
    log.rotate(hup=False)
    log.write(step)
    log.hup()
    log.write(step)
    check(tmp_path, store, log, lines, run_store(store, logs))
    check(tmp_path, store, log, lines, run_store(store, logs))  # nothing new
    # next rotation compresses mail.log.1 into mail.log.2.gz (delaycompress)
    log.write(step)
    log.rotate()
    log.write(step)
    check(tmp_path, store, log, lines, run_store(store, logs))
    # a missing run: two rotations between runs
    log.write(step)
    log.rotate()
    log.write(step)
    log.rotate()
    log.write(step)
    check(tmp_path, store, log, lines, run_store(store, logs))
    assert sorted(p.name for p in logs.iterdir()) == ["mail.log", "mail.log.1", "mail.log.2.gz", "mail.log.3.gz",
                                                       "mail.log.4.gz"]
    # copytruncate: the copy holds what was read and the lines after it; mail.log starts over
    log.write(step)
    log.copytruncate()
    log.write(step)
    check(tmp_path, store, log, lines, run_store(store, logs))
    # dateext
    log.write(step)
    log.rotate_dateext("20261127")
    log.write(step)
    check(tmp_path, store, log, lines, run_store(store, logs))
    # the next dated rotation compresses the previous one (dateext + delaycompress)
    log.write(step)
    log.rotate_dateext("20261128")
    log.compress(logs / "mail.log-20261127")
    log.write(step)
    check(tmp_path, store, log, lines, run_store(store, logs))
    assert (logs / "mail.log-20261127.gz").exists() and not (logs / "mail.log-20261127").exists()
    # a half-written last line waits for the next run
    log.write(step)
    log.write_partial()
    check(tmp_path, store, log, lines, run_store(store, logs))
    log.finish_partial()
    log.write(step)
    check(tmp_path, store, log, lines, run_store(store, logs))
    # mail.log deleted and created anew: its new content is read from the start
    log.replace()
    log.write(step)
    check(tmp_path, store, log, lines, run_store(store, logs))
    # rotation without delaycompress: mail.log goes straight to mail.log.1.gz
    log.write(step)
    log.rotate(compress=True, delaycompress=False)
    log.write(len(lines))
    check(tmp_path, store, log, lines, run_store(store, logs))
    assert log.written == len(lines)
    log.close()


@pytest.mark.parametrize("kind,name", [("postfix", "mail.log"), ("exim", "mainlog")])
def test_correlation_state_carried_between_runs(tmp_path, kind, name):
    """A failure read in a later run than its message's arrival still has sender and client."""
    logs, store = tmp_path / "log", tmp_path / "store"
    logs.mkdir()
    lines = timeline(kind)
    log = LogDir(logs, lines, name)
    one_run = expected(tmp_path, lines)
    # a run every 40 lines, and a rotation now and then
    for i in range(0, len(lines), 40):
        log.write(40)
        if i % 200 == 0:
            log.rotate()
        assert run_store(store, logs).exit_code == 0
    assert stored(store) == one_run
    # without the carried state, some rows would lack their sender: the check above is not vacuous
    fresh = Counter()
    for k in range(0, len(lines), 40):
        fresh += expected(tmp_path, lines[k:k + 40])
    assert fresh != one_run
    log.close()


def test_resumed_rows_point_at_their_lines(tmp_path, lines, growing):
    log, logs, store = growing
    log.write(300)
    run_store(store, logs)
    log.write(300)
    run_store(store, logs)
    table = read_failures(store).table
    assert max(table.column("line_no").to_pylist()) > 300
    text = (logs / "mail.log").read_bytes().decode().split("\n")
    for row in table.select(["line_no", "line"]).to_pylist():
        assert text[row["line_no"] - 1] == row["line"]
    log.close()


def test_store_is_a_plain_hive_dataset(tmp_path):
    store = tmp_path / "store"
    assert run_store(store, Path(__file__).parents[1] / "sample_logs" / "postfix").exit_code == 0
    import pandas as pd
    import pyarrow.dataset as ds

    df = pd.read_parquet(store)
    assert len(df) == read_failures(store).table.num_rows > 0
    assert set(df["day"].astype(str)) == {p.name.removeprefix("day=") for p in store.glob("host=*/day=*")}
    dataset = ds.dataset(store, format="parquet", partitioning=ds.HivePartitioning.discover(infer_dictionary=True))
    assert dataset.count_rows() == len(df)


def test_since_until_and_file_stats(tmp_path, lines, growing):
    log, logs, store = growing
    log.write(len(lines))
    run_store(store, logs)
    got = read_failures(store)
    times = sorted(got.table.column("time").to_pylist())
    mid = times[len(times) // 2]
    early = read_failures(store, until=mid).table
    late = read_failures(store, since=mid).table
    assert early.num_rows + late.num_rows == got.table.num_rows
    assert all(t < mid for t in early.column("time").to_pylist())
    (stats,) = got.files
    assert stats["lines"] == len(lines) and stats["failures"] == got.table.num_rows
    log.close()


def test_schema_evolution_unifies_columns(tmp_path):
    """Data files written by a newer logscan with extra columns (and an older one with fewer)
    read as one table: missing values are null."""
    store = tmp_path / "store"
    assert run_store(store, Path(__file__).parents[1] / "sample_logs" / "postfix").exit_code == 0
    state_path = store / "_logscan" / "state.json"
    state = json.loads(state_path.read_text())
    first = pq.read_table(store / state["data_files"][0])
    newer = first.slice(0, 3).append_column("column_of_a_later_version", pa.array(["x"] * 3))
    older = first.slice(3, 2).drop_columns(["signature"])
    (store / "day=2026-01-01").mkdir()
    for name, table in (("part-999998-aa-0.parquet", newer), ("part-999999-bb-0.parquet", older)):
        pq.write_table(table, store / "day=2026-01-01" / name)
        state["data_files"].append(f"day=2026-01-01/{name}")
    state_path.write_text(json.dumps(state))
    table = read_failures(store).table
    assert table.num_rows == first.num_rows + 5
    assert table.column("column_of_a_later_version").null_count == table.num_rows - 3
    assert table.column("signature").null_count == 2


def test_keep_drops_old_days(tmp_path):
    store = tmp_path / "store"
    assert run_store(store, Path(__file__).parents[1] / "sample_logs" / "postfix").exit_code == 0
    days = {p.name for p in store.glob("host=*/day=*")}
    with Store(store) as s:  # a run a year from now with --keep 90d
        run, writer = s.begin()
        dropped = s.commit(run, writer, s.state.files, None, keep_days=90,
                           today=datetime.now(timezone.utc) + timedelta(days=365))
    assert dropped and not {p.name for p in store.glob("host=*/day=*")} & days
    assert not list(store.glob("host=*"))  # a host's folder goes with its last day
    assert read_failures(store).table.num_rows == 0
    r = run_store(store, Path(__file__).parents[1] / "sample_logs" / "postfix", extra=["--keep", "bad"])
    assert r.exit_code == 2 and "--keep" in r.output


def test_second_run_holds_lock_gets_exit_8(tmp_path):
    store = tmp_path / "store"
    # The lock is a POSIX record lock, held per process: the first run is another process.
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time\nfrom logscan.store import Store\n"
                               f"with Store(__import__('pathlib').Path({str(store)!r})):\n"
                               "    print('locked', flush=True); time.sleep(60)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        r = run_store(store, Path(__file__).parents[1] / "sample_logs" / "postfix")
    finally:
        holder.kill()
        holder.wait()
    assert r.exit_code == 8
    assert "another logscan run is using the store" in r.output
    assert not list(store.glob("host=*"))


def test_store_refuses_a_folder_with_other_things(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    r = run_store(tmp_path, Path(__file__).parents[1] / "sample_logs" / "postfix")
    assert r.exit_code == 2 and "not a logscan store" in r.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_damaged_state_is_a_clear_error(tmp_path):
    store = tmp_path / "store"
    assert run_store(store, Path(__file__).parents[1] / "sample_logs" / "postfix").exit_code == 0
    (store / "_logscan" / "state.json").write_text('{"version": 1, "data_files": ["../../etc/passwd"]}')
    r = run_store(store, Path(__file__).parents[1] / "sample_logs" / "postfix")
    assert r.exit_code == 10 and "cannot be read" in r.output and "Traceback" not in r.output


def test_parser_state_is_json_and_validated(tmp_path, lines, growing):
    log, logs, store = growing
    log.write(100)
    run_store(store, logs)
    state = json.loads((store / "_logscan" / "state.json").read_text())
    saved = store / "_logscan" / state["parser_state"]
    data = json.loads(gzip.decompress(saved.read_bytes()))
    assert data["postfix"]["queue"]  # queue ids still open after 100 lines
    saved.write_bytes(gzip.compress(json.dumps({"postfix": {"queue": {"X": [1, 2]}}}).encode()))
    log.write(100)
    r = run_store(store, logs)
    assert r.exit_code == 10 and "correlation state" in r.output
    log.close()


def test_fail_on_threshold(tmp_path):
    logs = Path(__file__).parents[1] / "sample_logs" / "postfix"
    store = tmp_path / "store"
    r = runner.invoke(app, ["scan", str(logs), "--store", str(store), "--quiet", "--fail-on", "network=5"])
    assert r.exit_code == 9 and "in network (more than 5)" in r.output
    assert read_failures(store).table.num_rows > 0  # the run was stored all the same
    r = runner.invoke(app, ["scan", str(logs), "--store", str(store), "--quiet", "--fail-on", "network=5"])
    assert r.exit_code == 0  # nothing new in this run
    r = runner.invoke(app, ["scan", str(logs), "--quiet", "--fail-on", "auth_failed=1000"])
    assert r.exit_code == 0
    r = runner.invoke(app, ["scan", str(logs), "--quiet", "--fail-on", "no_such_thing"])
    assert r.exit_code == 2 and "neither a category nor a family" in r.output


def test_report_from_store_reads_no_logs(tmp_path):
    logs = tmp_path / "logs"
    shutil.copytree(Path(__file__).parents[1] / "sample_logs" / "postfix", logs)
    store, out, direct = tmp_path / "store", tmp_path / "report", tmp_path / "direct"
    assert run_store(store, logs).exit_code == 0
    assert runner.invoke(app, ["report", str(logs), "--out", str(direct), "--period", "day"]).exit_code == 0
    shutil.rmtree(logs)  # the report must not need them
    r = runner.invoke(app, ["report", "--store", str(store), "--out", str(out), "--period", "day"])
    assert r.exit_code == 0, r.output
    # the same reports as from the logs themselves: problems, and failure rates from stored deliveries
    for day in sorted(p.name for p in direct.iterdir() if p.is_dir()):
        assert json.loads((out / day / "problems.json").read_text()) == \
            json.loads((direct / day / "problems.json").read_text())
        rate = re.search(r"Failure rate of Postfix, Exim and Sendmail delivery attempts: [\d.]+% \(\d+ delivered\)",
                         (direct / day / "index.html").read_text())
        assert rate and rate.group(0) in (out / day / "index.html").read_text()
    r = runner.invoke(app, ["report", "--store", str(store), "--out", str(out), "--force"])
    assert r.exit_code == 0, r.output
    n = read_failures(store).table.num_rows
    assert f"{n} failures from" in r.stdout
    assert pq.read_table(out / "failures.parquet").num_rows == n
    html = (out / "index.html").read_text().replace("<wbr>", "")  # the report's wrap points (html.seps)
    assert "mail.log.2.gz" in html  # the per-file totals come from the store
    r = runner.invoke(app, ["report", "--out", str(out), "--force"])
    assert r.exit_code == 2 and "--store" in r.output


def test_unchanged_run_loads_neither_pyarrow_nor_rules(tmp_path):
    """The cron case with nothing new: stat the files, read their heads, done."""
    import subprocess
    import sys

    logs = Path(__file__).parents[1] / "sample_logs" / "postfix"
    store = tmp_path / "store"
    assert run_store(store, logs).exit_code == 0
    code = ("import sys; from logscan.cli import main\n"
            f"sys.argv = ['logscan', 'scan', {str(logs)!r}, '--store', {str(store)!r}, '--quiet']\n"
            "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pyarrow', 'pandas') "
            "or m == 'logscan.engine'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
    assert json.loads((store / "_logscan" / "state.json").read_text())["runs"] == 2


def test_runs_during_a_rotation(tmp_path, lines, growing, monkeypatch):
    """A run while logrotate is still compressing mail.log.2 into mail.log.2.gz, or still copying
    mail.log for copytruncate: the half-made file is not read (the original stands for it), and
    the next run goes on from there."""
    from logscan import discover, reading

    # Format detection reads 256 KiB, more than this whole log: with a real one, a half-written
    # .gz has that much; here detection reads less so that the .gz is not skipped as unreadable.
    monkeypatch.setattr(discover, "head_lines", lambda path, n: reading.head_lines(path, n, 4096))
    log, logs, store = growing
    log.write(300)
    check(tmp_path, store, log, lines, run_store(store, logs))
    log.write(100)
    log.rotate()
    log.write(50)
    check(tmp_path, store, log, lines, run_store(store, logs))
    # compression under way: mail.log.1 renamed to mail.log.2, its .gz half written
    log.write(30)
    os.rename(logs / "mail.log.1", logs / "mail.log.2")
    packed = gzip.compress((logs / "mail.log.2").read_bytes())
    (logs / "mail.log.2.gz").write_bytes(packed[: len(packed) // 2])
    r = runner.invoke(app, ["scan", str(logs), "--store", str(store)])
    check(tmp_path, store, log, lines, r)
    assert "mail.log.2.gz starts like" in r.stdout
    (logs / "mail.log.2.gz").write_bytes(packed)
    (logs / "mail.log.2").unlink()
    check(tmp_path, store, log, lines, run_store(store, logs))
    # copytruncate under way: half of mail.log copied to mail.log.1 (mail.log.2.gz moved on first)
    log.write(40)
    os.rename(logs / "mail.log.2.gz", logs / "mail.log.3.gz")
    content = (logs / "mail.log").read_bytes()
    (logs / "mail.log.1").write_bytes(content[: len(content) // 2])
    r = runner.invoke(app, ["scan", str(logs), "--store", str(store)])
    check(tmp_path, store, log, lines, r)
    assert "mail.log.1 starts like" in r.stdout
    (logs / "mail.log.1").write_bytes(content)
    os.truncate(logs / "mail.log", 0)
    log.write(20)
    check(tmp_path, store, log, lines, run_store(store, logs))
    log.close()


def test_store_options_and_exit_codes_documented():
    import logscan.cli

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    helptext = runner.invoke(app, ["scan", "--help"]).stdout
    for option in ("--store", "--keep", "--fail-on"):
        assert option in readme and option in helptext
    doc = " ".join(logscan.cli.__doc__.split())
    for code, words in ((8, "the --store is locked by another run"), (9, "a `scan --fail-on` threshold was exceeded"),
                        (10, "the --store's state cannot be read")):
        assert f"{code} {words}" in doc
        assert f"{code} {words}".replace("--store", "`--store`") in " ".join(readme.split())
    assert "logscan report --store" in readme and "OnCalendar=" in readme and "* * * * root logscan scan" in readme


CLIENT_LOGS = [("msmtp", "msmtp.log"), ("phpmailer", "smtpdebug-level2.log"),
               ("phpmailer", "smtpdebug-level2-error_log.log"), ("phpmailer", "smtpdebug-level4.log"),
               ("smtplib", "app.log"), ("javamail", "app.log"), ("nodemailer", "app.log")]


@pytest.fixture(scope="module")
def cached_rules():
    """The rules compiled once for the many runs below (compiling them is most of a small run)."""
    from logscan.engine import Engine

    load, cache = Engine.load, {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Engine, "load", classmethod(lambda cls, files: cache.get(tuple(files))
                                               or cache.setdefault(tuple(files), load(files))))
        yield


def runs_cut_every(tmp_path: Path, kind: str, name: str, every: int, lines: list[bytes]) -> Counter:
    """Write the log `every` lines at a time, an incremental run after each (and one more after
    the last, as the next cron run would find it unchanged); the stored rows."""
    logs, store = tmp_path / f"logs-{every}", tmp_path / f"store-{every}"
    logs.mkdir(parents=True)
    run = functools.partial(scan_into, store, [str(logs)], kind,
                            functools.partial(scan, [str(logs)], ScanOptions(workers=1, forced_format=kind)))
    with open(logs / name, "ab") as fh:
        for start in range(0, len(lines), every):
            fh.write(b"".join(lines[start:start + every]))
            fh.flush()
            run()
    run()
    return stored(store)


@pytest.mark.parametrize("kind,name", CLIENT_LOGS)
def test_client_logs_cut_anywhere(tmp_path, cached_rules, kind, name):
    """Runs at any line boundary, in the middle of a traceback, a stack trace, an error dump or a
    multi-line reply, store exactly the rows of one scan of the whole log: the record left open at
    the end of a run is carried to the next (pipeline._read_into). Every 1 to 7 lines over the
    48 lines around the first failure of each sample (every boundary inside those records, in every
    phase), every 7 lines over all of it (about 1000 runs in all, so the rules are compiled once)."""
    path = Path(__file__).parents[1] / "sample_logs" / kind / name
    lines = path.read_bytes().splitlines(keepends=True)
    first = min(scan([str(path)], ScanOptions(workers=1, forced_format=kind)).table.column("line_no").to_pylist())
    window = lines[max(first - 30, 0):first + 18]  # 48 lines around the first failure
    one = tmp_path / "one" / name
    one.parent.mkdir()
    for label, part, cuts in (("window", window, range(1, 8)), ("all", lines, (7,))):
        one.write_bytes(b"".join(part))
        want = rows_key(scan([str(one)], ScanOptions(workers=1, forced_format=kind)).table)
        assert sum(want.values()) >= 1
        for every in cuts:
            got = runs_cut_every(tmp_path / label, kind, name, every, part)
            assert got == want, (every, f"missing {sum((want - got).values())}, extra {sum((got - want).values())}")


def test_open_record_waits_for_the_next_run(tmp_path, cached_rules):
    """A traceback that ends a run is not stored until the log grows or a run finds it unchanged;
    a rotated and compressed file finishes it too."""
    lines = (Path(__file__).parents[1] / "sample_logs" / "smtplib" / "app.log").read_bytes().splitlines(keepends=True)
    end = next(i for i, x in enumerate(lines) if x.startswith(b"smtplib.SMTPRecipientsRefused")) + 1
    logs, store = tmp_path / "logs", tmp_path / "store"
    logs.mkdir()
    (logs / "app.log").write_bytes(b"".join(lines[:end]))

    def run():
        scan_into(store, [str(logs)], "smtplib", functools.partial(scan, [str(logs)], ScanOptions(
            workers=1, forced_format="smtplib")))
        return sum(stored(store).values())

    assert run() == 0  # the traceback may go on ("During handling of the above exception ...")
    assert run() == 1  # unchanged since: it was complete
    assert run() == 1
    with open(logs / "app.log", "ab") as fh:
        fh.write(b"".join(lines[end:end + 40]))
    before = run()
    (logs / "app.log").rename(logs / "app.log.1")
    with open(logs / "app.log.1", "rb") as src, gzip.open(logs / "app.log.1.gz", "wb") as dst:
        dst.write(src.read())
    (logs / "app.log.1").unlink()
    one = tmp_path / "one.log"
    one.write_bytes(b"".join(lines[:end + 40]))
    want = rows_key(scan([str(one)], ScanOptions(workers=1, forced_format="smtplib")).table)
    assert run() == sum(want.values()) > before
    assert stored(store) == want


def test_open_record_in_state_is_validated(tmp_path, cached_rules):
    lines = (Path(__file__).parents[1] / "sample_logs" / "smtplib" / "app.log").read_bytes().splitlines(keepends=True)
    end = next(i for i, x in enumerate(lines) if x.startswith(b"smtplib.SMTPRecipientsRefused")) + 1
    logs, store = tmp_path / "logs", tmp_path / "store"
    logs.mkdir()
    (logs / "app.log").write_bytes(b"".join(lines[:end]))
    assert run_store(store, logs, extra=["--format", "smtplib"]).exit_code == 0
    path = store / "_logscan" / "state.json"
    state = json.loads(path.read_text())
    assert state["files"][0]["open_record"] and state["files"][0]["record"]["state"]["pending"]
    state["files"][0]["record"] = {"state": 5}
    path.write_text(json.dumps(state))
    r = run_store(store, logs, extra=["--format", "smtplib"])
    assert r.exit_code == 10 and "cannot be read" in r.output and "Traceback" not in r.output
