"""One truth, two engines: the compiled core (logscan._core via logscan/fastpath.py) and the reference
Python parser must give the same rows (classified, field for field), the same delivery counts and the
same line accounting (lines, failures, ignored and its reasons, unparsed and its examples, times,
offsets) on every Postfix input: the parsers' samples, sample_logs/, the corpora, generated logs, hostile
lines, and incremental runs that switch engines between runs."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest
from test_contract import _interleave, _postfix_host

from logscan import fastpath, pipeline
from logscan.parsers import MODULES, REGISTRY, postfix
from logscan.pipeline import ScanOptions, scan
from logscan.schema import FIELD_NAMES
from logscan.store import load_parser_states, read_failures, scan_into

from conftest import REPO, SAMPLE_LOGS, corpus_line, make_context

pytestmark = pytest.mark.skipif(fastpath._core is None, reason="the compiled core is not built (needs cargo)")

GENLOG = REPO.parent / "shared" / "bench" / "genlog.py"


def _scan(engine: str, paths, monkeypatch, fmt: str | None = "postfix", workers: int = 1):
    monkeypatch.setenv("LOGSCAN_ENGINE", engine)
    return scan([str(p) for p in paths], ScanOptions(workers=workers, tz="UTC", forced_format=fmt))


def same_on(paths, monkeypatch, fmt: str | None = "postfix", workers: int = 1):
    """Both engines over the paths: every row, delivery and count the same. Returns the reference's.
    workers > 1: the reference splits a large file in byte ranges; the compiled engine, which is
    not splittable, reads it whole."""
    ref, fast = _scan("python", paths, monkeypatch, fmt, workers), _scan("rust", paths, monkeypatch, fmt, workers)
    assert ref.table.schema == fast.table.schema
    want, got = ref.table.to_pylist(), fast.table.to_pylist()
    assert len(want) == len(got)
    for a, b in zip(want, got, strict=True):
        assert a == b, {k: (a[k], b[k]) for k in a if a[k] != b[k]}
    assert len(ref.files) == len(fast.files)
    for a, b in zip(ref.files, fast.files, strict=True):
        assert a.as_dict() == b.as_dict()
        assert (a.deliveries, a.first_time, a.last_time, a.end_offset) == \
            (b.deliveries, b.first_time, b.last_time, b.end_offset)
    return ref


def _lines_of_every_sample(modules=MODULES) -> list[str]:
    out = []
    for m in modules:
        for s in m.SAMPLES:
            for text in (*s.context, s.ref and f"ref:{s.ref}", s.line):
                if text:
                    out.append(corpus_line(text[4:]) if text.startswith("ref:") else text)
    return out


def test_every_sample_of_every_parser(monkeypatch):
    """Each sample (and its context) through the Parser protocol's parse() of both: the same rows
    and counts; then all of them, every format's lines, as one Postfix log."""
    compiled = fastpath.RUST_PARSERS["postfix"]
    reference = REGISTRY["postfix"]
    for m in MODULES:
        for s in m.SAMPLES:
            context = [corpus_line(c[4:]) if c.startswith("ref:") else c for c in s.context]
            line = corpus_line(s.ref) if s.ref else s.line
            results = []
            for parser in (reference, compiled):
                ctx, state = make_context(), parser.new_state()
                if context:
                    parser.parse(context, 1, ctx, state)
                parser.parse([line], len(context) + 1, ctx, state)
                parser.finish(ctx, state)
                rows = [{k: r.get(k) for k in FIELD_NAMES} for r in ctx.rows]  # a missing field is None
                results.append((rows, ctx.stats.as_dict(), ctx.stats.deliveries))
            assert results[0] == results[1], line


def test_all_samples_as_one_log(tmp_path, monkeypatch):
    log = tmp_path / "samples.log"
    log.write_text("\n".join(_lines_of_every_sample()) + "\n")
    ref = same_on([log], monkeypatch)
    assert ref.table.num_rows > 30 and ref.files[0].unparsed > 0 and ref.files[0].ignored_reasons


def test_sample_logs(monkeypatch):
    postfix = sorted(p for p in (SAMPLE_LOGS / "postfix").rglob("*") if p.is_file() and p.suffix != ".md")
    ref = same_on(postfix, monkeypatch, None)  # detected, with mail.log.2.gz
    assert ref.table.num_rows > 200 and sum(sum(f.deliveries.values()) for f in ref.files) > 0
    others = sorted(p for p in SAMPLE_LOGS.rglob("*") if p.is_file() and p.suffix != ".md" and "postfix" not in p.parts)
    same_on(others, monkeypatch)  # every other format's log read as Postfix: the same accounting


@pytest.mark.slow
def test_corpora(corpora, monkeypatch):
    files = [corpora / "fail2ban" / "postfix.log", *sorted(p for p in (corpora / "lightmeter").rglob("*") if p.is_file()),
             *sorted(p for p in (corpora / "postfix-grok-patterns").rglob("*") if p.is_file())]
    ref = same_on(files, monkeypatch)
    assert ref.table.num_rows > 100
    exim = sorted(p for p in (corpora / "exim").rglob("*") if p.is_file())
    same_on(exim, monkeypatch)  # Exim's logs through the Postfix engines: other programs, unparsed lines


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_generated_logs(tmp_path, monkeypatch, seed):
    if not GENLOG.exists():
        pytest.skip("../shared/bench/genlog.py not present")
    log = tmp_path / "mail.log"
    with open(log, "wb") as fh:
        subprocess.run([sys.executable, str(GENLOG), "postfix", "--mb", "3", "--seed", str(seed)], stdout=fh, check=True)
    ref = same_on([log], monkeypatch)
    assert ref.table.num_rows > 500 and sum(ref.files[0].deliveries.values()) > 2000


HOSTILE = [
    "Nov 27 19:40:25 mx1 postfix/qmgr[1]: ÄBCDE1: from=<a@b>, size=3, nrcpt=1 (queue active)",
    "Nov 27 19:40:25 mx1 postfix/smtp[1]: ÄBCDE1: to=<x@Ünï.example>, relay=none, delay=1, dsn=4.4.1, status=deferred (connect to a[1.2.3.4]:25: refused)",
    "Nov 27 19:40:25 mx1 postfix/smtp[1]: ABCDE٣: to=<x@y.example>, relay=none, delay=1, dsn=4.4.1, status=deferréd (x)",
    "２０２６-11-27T19:41:59+00:00 mx1 postfix/smtp[2]: 7C481164554: to=<a@b.example>, relay=h[1.2.3.4]:25, delay=1, dsn=2.0.0, status=sent (ok)",
    "Nov 27 19:40:25 mx1 postfix/smtp[1]: abcde1: to=<x@y.example>, relay=none, delay=1, dsn=5.1.1, status=bounced (host h[1.2.3.4] said: 550 5.1.1٣ no (in reply to RCPT TO command))",
    "Nov 27 19:40:25 mx1 postfix/smtp[1]: ABCDE2: to=<x@y.example>, relay=none, delay=1, dsn=5.1.1, status=bounced (host h[1.2.3.4] said: 550 5.1.1\u0301 no (in reply to RCPT TO command))",
    "Nov 27 19:40:25 mx1 postfix/smtpd[3]: warning: h[1.2.3.4]: SASL lögin authentication failed: x, sasl_username=ü",
    "Nov 27 19:40:25 mx1 postfix/smtpd[3]: warning: h[1.2.3.4]:\x1c SASL LOGIN authentication failed: x",
    "Nov 27 19:40:25 mx1 postfix/smtpd[4]: SSL_accept error from h[1.2.3.4]:25: -1",
    "Nov 27 19:40:26 mx1 postfix/smtpd[4]: warning: TLS library problem: error:0A000126:SSL routines::unexpected eof",
    "Nov 27 19:40:26 mx1 postfix/smtpd[5]: NOQUEUE: reject: RCPT from h[1.2.3.4]: 554 5.7.1 <v@x>: Relay access denied; from=<s@x\x00> to=<v@x> proto=ESMTP helo=<c>",
    "Nov 27 19:40:26 mx1 postfix/cleanup[6]: ABCDE3: message-id=\u3000<id@x>\u3000",
    "Nov 27 19:40:26 mx1 postfix/cleanup[6]: ABCDE3: messäge-id=<id@x>",
    "Nov 27 19:40:26 mx1 postfix/qmgr[1]: ABCDE3: from=<s@x>, status=expired, returned to sender",
    "\x1c\x1d ",
    "\u2003",
    "Nov 27 19:40:27 mx1 postfix/smtp[1]: ABCDE4: to=<\"a>b\"@x.example>, relay=h[1.2.3.4]:99999999, delay=1, dsn=4.0.0, status=deferred (lost connection with h[1.2.3.4] while sending RCPT TO)",
    "Nov 27 19:40:27 mx1 postfix/smtp[1]: ABCDE5: to=<a@x>, relay=h[1.2.3.4]:25, delay=1, dsn=2.0.0, status=sent ",
    "Nov 27 19:40:27 mx1 postfix/local[1]: ABCDE6: to=<a@x>, relay=local, delay=1, dsn=2.0.0, status=sent (x)\r",
    "Nov 27 19:40:27 mx1 postfix/smtp[1]: ABCDE7: to=<a@x>, relay=h[1.2.3.4]:25, delay=1, dsn=4.0.0, status=deferred (" + "é" * 70_000 + ")",
]


def test_hostile_lines(tmp_path, monkeypatch):
    """Text that is not ASCII where the reference asks Python's str methods (isalnum, isdigit, lower,
    upper, strip), Python's white space and word characters, NUL, CR, invalid UTF-8, over-long lines."""
    log = tmp_path / "hostile.log"
    data = "\n".join(HOSTILE).encode() + b"\nNov 27 19:40:28 mx1 postfix/smtp[1]: ABCDE8: to=<a@\xff\xfe>, relay=none, " \
        b"delay=1, dsn=5.0.0, status=bounced (x\xc3)\nNov 27 19:40:28 mx1 postfix/smtp[9]: no newline at the end\r"
    log.write_bytes(data)
    ref = same_on([log], monkeypatch)
    f = ref.files[0]
    assert f.truncated_lines == 1 and f.undecodable_chunks == 1 and f.unparsed > 0 and ref.table.num_rows >= 8


PALETTE = ["", " ", ": ", "<", ">", "[", "]", ",", "=", "\"", "\\", "(", ")", "@", "Ä", "٣", "\u3000", "\x1c", "\t",
           "status=sent ", "status=deferred", "connect from ", "NOQUEUE: ", "from=<", " to=<", "relay=none, ",
           "warning: ", "reject: ", "postfix/", "2026-", "Nov 27 "]


@pytest.mark.slow
def test_mutated_lines(tmp_path, monkeypatch):
    """Seeded mutations of every sample line (cut, spliced, with tricky characters put in)."""
    rnd = random.Random(15)
    base = _lines_of_every_sample([postfix])
    lines = []
    for _ in range(4000):
        line = rnd.choice(base)
        for _ in range(rnd.randint(1, 3)):
            i, j = sorted(rnd.randrange(len(line) + 1) for _ in range(2))
            op = rnd.randrange(3)
            if op == 0:
                line = line[:i] + rnd.choice(PALETTE) + line[i:]
            elif op == 1:
                line = line[:i] + line[j:]
            else:
                line = line[:i] + rnd.choice(base)[i:j] + line[j:]
        lines.append(line.replace("\n", " "))
    log = tmp_path / "mutated.log"
    log.write_text("\n".join(lines) + "\n")
    ref = same_on([log], monkeypatch)
    assert ref.table.num_rows > 500


def _clashing_ids(messages: int = 400) -> list[str]:
    """test_contract's file of messages whose queue ids are the same on mx1 and mx2, interleaved."""
    lines = []
    for n in range(messages):
        qid = f"{0xA0000 + n:X}"
        a = _postfix_host("mx1", qid, f"a{n}@one.example", f"x{n}@dest.example", n % 60)
        b = _postfix_host("mx2", qid, f"b{n}@two.example", f"y{n}@dest.example", n % 60)
        lines += a[:3] + b[:3] + [a[3], b[3], a[4], b[4]]
    return lines


def test_two_hosts(tmp_path, monkeypatch):
    """Correlation keyed by (host, queue id) in both: the same id on mx1 and mx2, their lines
    interleaved; one host's `removed` keeps the other's context (tests/test_contract.py's cases)."""
    a = _postfix_host("mx1", "0F5383D", "a@one.example", "x@dest.example", 10)
    b = _postfix_host("mx2", "0F5383D", "b@two.example", "y@dest.example", 20)
    for k, lines in enumerate((_interleave(a, b), a[:3] + b[:3] + [a[4]] + [b[3]])):
        log = tmp_path / f"two-{k}.log"
        log.write_text("\n".join(lines) + "\n")
        rows = {r["host"]: r for r in same_on([log], monkeypatch).table.to_pylist()}
        assert rows["mx2"]["sender"] == "b@two.example" and rows["mx2"]["client_host"] == "client-mx2.example"


def test_two_hosts_with_clashing_ids(tmp_path, monkeypatch):
    """400 messages whose ids clash on two hosts: the same rows from the reference in one range, the
    reference in three byte ranges at once, and the compiled engine (which reads the file whole)."""
    log = tmp_path / "mail.log"
    log.write_text("\n".join(_clashing_ids()) + "\n")
    one = same_on([log], monkeypatch)
    monkeypatch.setattr(pipeline, "SPLIT_MIN_BYTES", 1 << 10)
    split = same_on([log], monkeypatch, workers=3)
    key = [("line_no", "ascending")]
    assert one.table.num_rows == 800 and one.table.sort_by(key).to_pylist() == split.table.sort_by(key).to_pylist()
    for r in one.table.to_pylist():
        n = int(r["recipient"][1:].split("@")[0])
        assert r["sender"] == (f"a{n}@one.example" if r["host"] == "mx1" else f"b{n}@two.example")


def test_form_1_state_in_both_engines(monkeypatch):
    """A form-1 state (keyed by queue id alone): its entry joins the first host that uses the id in
    both engines, and what is not taken over stays carried (legacy) through an engine switch."""
    form1 = {"postfix": {"queue": {qid: {"clie": "client=old-client.example[192.0.2.7]",
                                         "from": f"from=<old-{qid}@one.example>, size=77, nrcpt=1 (queue active)"}
                                   for qid in ("0F5383D", "AAAA1")}}}
    failure = _postfix_host("mx1", "0F5383D", "unused@x", "x@dest.example", 10)[3]
    results = []
    for engine in ("python", "rust"):
        monkeypatch.setenv("LOGSCAN_ENGINE", engine)
        states = load_parser_states(form1)
        parser, state = fastpath.parser_for("postfix", states)
        ctx = make_context()
        parser.parse([failure], 1, ctx, state)
        (row,) = [{k: r.get(k) for k in FIELD_NAMES} for r in ctx.rows]
        assert (row["sender"], row["size"], row["client_host"]) == ("old-0F5383D@one.example", 77, "old-client.example")
        assert list(state.queue) == [("mx1", "0F5383D")] and list(state.legacy["queue"]) == ["AAAA1"]
        results.append((row, state.queue, state.legacy))
    assert results[0] == results[1]


@pytest.mark.slow
@pytest.mark.parametrize("source", ["sample", "two-hosts"])
def test_incremental_runs_switch_engines(tmp_path, monkeypatch, source):
    """A store filled by one engine is carried on by the other (the (host, queue id) state is
    exchanged in form 2): the same stored rows as with the reference alone, whichever engine ran
    which part; the two-host file is cut between its messages' context and their failures."""
    if source == "sample":
        lines = (SAMPLE_LOGS / "postfix" / "mail.log").read_bytes().splitlines(keepends=True)
    else:
        lines = [(x + "\n").encode() for x in _clashing_ids(100)]
    cut = len(lines) // 2 + (3 if source == "two-hosts" else 0)

    def runs(engines: tuple[str, str]):
        root, log = tmp_path / f"store-{'-'.join(engines)}", tmp_path / f"in-{'-'.join(engines)}" / "mail.log"
        log.parent.mkdir()
        log.write_bytes(b"".join(lines[:cut]))
        for k, engine in enumerate(engines):
            if k:
                with open(log, "ab") as fh:
                    fh.write(b"".join(lines[cut:]))
            monkeypatch.setenv("LOGSCAN_ENGINE", engine)
            scan_into(root, [str(log)], "postfix",
                      lambda **kw: scan([str(log)], ScanOptions(workers=1, tz="UTC", forced_format="postfix"), **kw))
        stored = read_failures(root).table.drop_columns(["source_file"]).to_pylist()
        return sorted(stored, key=lambda r: r["line_no"])

    want = runs(("python", "python"))
    assert want and (source != "sample" or any(r["event"] == "expired" for r in want))
    assert runs(("python", "rust")) == want
    assert runs(("rust", "python")) == want
    assert runs(("rust", "rust")) == want


def test_engine_choice(monkeypatch, capsys):
    monkeypatch.setenv("LOGSCAN_ENGINE", "python")
    states: dict = {}
    parser, state = fastpath.parser_for("postfix", states)
    assert parser is REGISTRY["postfix"] and states["postfix"] is state
    monkeypatch.setenv("LOGSCAN_ENGINE", "auto")
    parser, state = fastpath.parser_for("postfix", states)
    assert parser is fastpath.RUST_PARSERS["postfix"] and isinstance(state, fastpath.RustPostfixState)
    assert fastpath.parser_for("exim", states)[0] is REGISTRY["exim"]  # no compiled engine: the reference
    assert not parser.traits.splittable and parser.traits.persisted  # whole files only (see fastpath)
    with pytest.raises(ValueError):
        parser.new_state(split_range=True)
    monkeypatch.setenv("LOGSCAN_ENGINE", "fast")
    with pytest.raises(fastpath.UsageError):
        fastpath.parser_for("postfix", states)


def test_missing_core_warns_once(monkeypatch, capsys):
    monkeypatch.setattr(fastpath, "_core", None)
    monkeypatch.setattr(fastpath, "_warned", [False])
    monkeypatch.setenv("LOGSCAN_ENGINE", "auto")
    for _ in range(3):
        assert fastpath.parser_for("postfix", {})[0] is REGISTRY["postfix"]
    assert capsys.readouterr().err.count("pip install .") == 1
    monkeypatch.setenv("LOGSCAN_ENGINE", "rust")
    with pytest.raises(fastpath.UsageError):
        fastpath.parser_for("postfix", {})
