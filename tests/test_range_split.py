"""A parse cut into byte ranges gives the rows of one sequential parse, every column, and the same
line accounting (issue 16): every row whose fields come from earlier lines of its (host, id) is a
Pending row of its range and is completed from the earlier ranges' state exactly as the sequential
parse filled it.

Two cuts are checked, through the functions the runs use:
- the local parallel parse (pipeline.parse_files with workers > 1: _shares, _parse_share,
  resolve_pending, merge_state), with every plain file cut into ranges of a few KiB. Only the
  process pool is replaced by one that runs each range here (its results pickled as a pool's are);
- the Dask engine (distributed.scan), which also cuts at every file: each rotated file's first range
  starts from a fresh state too, and the driver carries state from file to file by merge_state. Only
  the Dask client is replaced by one that runs each task here (pickled likewise).

Logs: every log of sample_logs/, the Postfix, Exim and Sendmail logs of ../shared/corpora (skipped
when absent; Sendmail is not splittable and is parsed whole either way) and genlog output (small,
seeded, rotated). The Exim test-suite logs (corpora/exim/log/*) reuse a few message ids across
hundreds of unrelated files; a scan of that folder carries one state across them, so a sequential
scan joins those ids too, and the cut parse must do exactly the same: they stay one sequence here.
"""

from __future__ import annotations

import contextlib
import math
import pickle
import subprocess
import sys
from collections import Counter
from concurrent.futures import Future
from pathlib import Path

import pytest

from logscan import distributed, pipeline
from logscan.pipeline import ScanOptions, scan

from conftest import CORPORA, REPO, SAMPLE_LOGS

GENLOG = REPO.parent / "shared" / "bench" / "genlog.py"
OPTS = dict(tz="UTC")
# The server-log folders of the corpora (the others hold client logs, JSON or TSV).
CORPUS_DIRS = ("exim/log", "exim/rejectlog", "exim/paniclog", "lightmeter/individual_files",
               "lightmeter/complete/logs_sample", "lightmeter/logparser_corpus", "fail2ban")
STAT_FIELDS = ("path", "format", "lines", "failures", "ignored", "unparsed", "read_error", "truncated_lines",
               "undecodable_chunks", "first_time", "last_time", "end_offset", "unparsed_examples",
               "ignored_reasons", "unparsed_reasons", "deliveries")


class _HerePool:
    """ProcessPoolExecutor's place in pipeline.parse_file: each range parsed here when submitted,
    its result pickled and read back as a worker process hands it."""

    def __init__(self, *args, initargs=(), **kwargs) -> None:
        _parent, engine, slots = initargs  # what pipeline._worker_init gives a worker at fork
        pipeline._WORKER.update(engine=engine, slots=slots)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass

    def submit(self, fn, *args, **kwargs) -> Future:
        fut: Future = Future()
        fut.set_result(pickle.loads(pickle.dumps(fn(*args, **kwargs))))
        return fut


class _HereTask:
    def __init__(self, value) -> None:
        self.value = value

    def result(self):
        return self.value

    def release(self) -> None:
        pass

    def cancel(self) -> None:
        pass


class _HereClient:
    """A distributed.Client's place in distributed.scan: each task runs here, pickled both ways."""

    def scatter(self, value, broadcast=False):
        return value

    def submit(self, fn, *args, pure=True):
        args = pickle.loads(pickle.dumps(args))
        return _HereTask(pickle.loads(pickle.dumps(fn(*args))))


def local_split(paths: list[Path], range_bytes: int, monkeypatch) -> pipeline.ScanResult:
    """The local parallel parse, every plain file of a splittable format cut every range_bytes."""
    shares = pipeline._shares
    with monkeypatch.context() as m:
        m.setenv("LOGSCAN_ENGINE", "python")  # the split is the Python reference's
        m.setattr(pipeline, "SPLIT_MIN_BYTES", 1)
        m.setattr(pipeline, "ProcessPoolExecutor", _HerePool)
        m.setattr(pipeline, "_shares", lambda segments, parts: shares(segments, max(2, math.ceil(
            sum(pipeline._input_bytes(s) for s in segments) / range_bytes))))
        return scan([str(p) for p in paths], ScanOptions(workers=2, **OPTS))


def dask_split(paths: list[Path], range_bytes: int, monkeypatch) -> pipeline.ScanResult:
    """The Dask engine's cut: every file a unit of its own, plain files cut every range_bytes."""
    pytest.importorskip("distributed")
    with monkeypatch.context() as m:
        m.setattr(distributed, "client_for", lambda dask, workers=None: contextlib.nullcontext(_HereClient()))
        return distributed.scan([str(p) for p in paths], ScanOptions(workers=1, **OPTS), dask="here",
                                range_bytes=range_bytes)


def rows(result: pipeline.ScanResult) -> Counter:
    table = result.table
    names = sorted(table.column_names)
    return Counter(zip(*[table.column(c).to_pylist() for c in names], strict=True))


def assert_same(one: pipeline.ScanResult, cut: pipeline.ScanResult, what: str) -> None:
    a, b = rows(one), rows(cut)
    if a != b:
        names = sorted(one.table.column_names)
        only_one, only_cut = list((a - b).elements()), list((b - a).elements())
        out = [f"{what}: {len(only_one)} of {sum(a.values())} sequential rows differ or are missing, "
               f"{len(only_cut)} rows of the cut parse differ or are extra"]
        for x in only_cut[:4] if not only_one else []:
            rx = dict(zip(names, x, strict=True))
            out.append(f"  extra: {rx['source_file']}:{rx['line_no']}: {rx['line']}")
        for x in only_one[:4]:
            rx = dict(zip(names, x, strict=True))
            twin = next((dict(zip(names, y, strict=True)) for y in only_cut
                         if y[names.index("source_file")] == rx["source_file"]
                         and y[names.index("line_no")] == rx["line_no"]), None)
            diff = {k: (rx[k], twin[k]) for k in names if twin is not None and rx[k] != twin[k]}
            out.append(f"  {rx['source_file']}:{rx['line_no']}: {diff if twin else 'missing in the cut parse'}")
        pytest.fail("\n".join(out))
    stats_one = {f.path: tuple(getattr(f, n) for n in STAT_FIELDS) for f in one.files}
    stats_cut = {f.path: tuple(getattr(f, n) for n in STAT_FIELDS) for f in cut.files}
    assert stats_cut.keys() == stats_one.keys()
    for path, want in stats_one.items():
        got = stats_cut[path]
        assert got == want, f"{what}: {path}: " + ", ".join(
            f"{n} {w!r} != {g!r}" for n, w, g in zip(STAT_FIELDS, want, got, strict=True) if w != g)
        assert want[2] == want[3] + want[4] + want[5]  # lines = failures + ignored + unparsed


def corpus_dirs() -> list[Path]:
    if not CORPORA.exists():
        pytest.skip("../shared/corpora not present")
    return [CORPORA / d for d in CORPUS_DIRS if (CORPORA / d).exists()]


def genlog_rotated(folder: Path, kind: str, name: str, mb: float, seed: int) -> Path:
    """A generated log as logrotate leaves it: NAME.2.gz, NAME.1 and NAME (messages span the cuts)."""
    if not GENLOG.exists():
        pytest.skip("../shared/bench/genlog.py not present")
    import gzip

    text = subprocess.run([sys.executable, str(GENLOG), kind, "--mb", str(mb), "--seed", str(seed)],
                          capture_output=True, check=True).stdout
    lines = text.splitlines(keepends=True)
    a, b = len(lines) // 4, len(lines) // 2
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.2.gz").write_bytes(gzip.compress(b"".join(lines[:a])))
    (folder / f"{name}.1").write_bytes(b"".join(lines[a:b]))
    (folder / name).write_bytes(b"".join(lines[b:]))
    return folder


CUTS = {"local": local_split, "dask": dask_split}


# 1317 bytes: one cut of sample_logs/exim/syslog/mail.log would fall between the two copies of a
# syslog_duplication line (pipeline._past_copies moves it).
@pytest.mark.parametrize("engine", sorted(CUTS))
@pytest.mark.parametrize("range_bytes", [1024, 1317, 3072])
def test_sample_logs_cut_in_small_ranges(engine, range_bytes, monkeypatch):
    paths = [SAMPLE_LOGS]
    one = scan([str(p) for p in paths], ScanOptions(workers=1, **OPTS))
    cut = CUTS[engine](paths, range_bytes, monkeypatch)
    assert one.table.num_rows > 1000
    assert_same(one, cut, f"sample_logs, {engine}, {range_bytes} bytes")


def test_a_range_never_starts_with_a_copy_of_the_line_before(tmp_path):
    # Exim through syslog with syslog_duplication: the reject line twice (sample_logs/exim/syslog/mail.log:40-41)
    copy = [x for x in (SAMPLE_LOGS / "exim" / "syslog" / "mail.log").read_bytes().splitlines(keepends=True)
            if b"rejected RCPT <ghost@example.com>" in x][0]
    other = b"Nov 27 22:28:46 mx1 exim[22946]: 1xX4Nq-0005Q0-0B Completed\n"
    log = tmp_path / "mail.log"
    log.write_bytes((other + copy * 3) * 200 + other)
    data = log.read_bytes()
    points = pipeline._split_points(log, 400, 0, len(data))
    assert len(points) > 150 and points == sorted(set(points))
    for pos in points[1:-1]:
        assert data[pos - 1:pos] == b"\n"
        assert not data.startswith(data[data.rfind(b"\n", 0, pos - 1) + 1:pos], pos)  # not a copy
    copies = tmp_path / "copies.log"
    copies.write_bytes(copy * 3)
    assert pipeline._split_points(copies, 3, 0, len(copy) * 3) == [0, len(copy) * 3]  # one range


@pytest.mark.slow
@pytest.mark.parametrize("engine", sorted(CUTS))
@pytest.mark.parametrize("range_kib", [2, 4])
def test_corpus_logs_cut_in_small_ranges(engine, range_kib, monkeypatch):
    paths = corpus_dirs()
    one = scan([str(p) for p in paths], ScanOptions(workers=1, **OPTS))
    assert {f.format for f in one.files} >= {"postfix", "exim", "sendmail"}
    cut = CUTS[engine](paths, range_kib << 10, monkeypatch)
    assert one.table.num_rows > 2000
    assert_same(one, cut, f"corpora, {engine}, {range_kib} KiB")


@pytest.mark.slow
@pytest.mark.parametrize("engine", sorted(CUTS))
@pytest.mark.parametrize("kind,name", [("postfix", "mail.log"), ("exim", "mainlog")])
def test_generated_logs_cut_in_small_ranges(engine, kind, name, tmp_path, monkeypatch):
    folder = genlog_rotated(tmp_path / "mx1", kind, name, 1.5, 7)
    one = scan([str(folder)], ScanOptions(workers=1, **OPTS))
    cut = CUTS[engine]([folder], 4 << 10, monkeypatch)
    pending_kinds = Counter(r["event"] for r in one.table.to_pylist() if r["sender"] is not None)
    assert one.table.num_rows > 300 and pending_kinds
    assert_same(one, cut, f"genlog {kind}, {engine}, 4 KiB")
