"""The parser contract (parsers/base.py): every registered parser satisfies the Parser protocol
with consistent traits and a declared state; every line is counted by the parser itself
(lines = failures + ignored + unparsed, nothing derived) over every sample, corpus log, sample
log and generated log; the host is part of every correlation key; the persisted state's form 2
is written and form 1 still read."""

from __future__ import annotations

import gzip
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from logscan import pipeline, schema
from logscan.cli import app
from logscan.parsers import MODULES, REGISTRY
from logscan.parsers.base import (
    BaseParser,
    Parser,
    ParserState,
    Pending,
    Traits,
    formats_where,
    row_type,
)
from logscan.pipeline import ScanOptions, scan
from logscan.store import STATE_FORM, StoreDamagedError, dump_parser_states, load_parser_states

from conftest import CORPORA, REPO, SAMPLE_LOGS, corpus_line, make_context

GENLOG = REPO.parent / "shared" / "bench" / "genlog.py"
runner = CliRunner()


# --- the protocol ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_parser_satisfies_the_protocol(name):
    parser = REGISTRY[name]
    assert isinstance(parser, Parser) and isinstance(parser.traits, Traits)
    assert parser.name == name and parser.description
    state = parser.new_state()
    assert isinstance(state, ParserState) and state.split_range is False
    t = parser.traits
    # multiline: a declared open record among the declared per-file fields; else none
    assert bool(state.file_fields()) == t.multiline
    assert (state.open_record_field() in state.file_fields()) if t.multiline else state.open_record_field() is None
    assert bool(state.persisted_fields()) == t.persisted
    for n in (*state.file_fields(), *state.persisted_fields()):
        assert hasattr(state, n)
    if t.splittable:  # carries correlation across byte ranges, in a state made for a range
        assert parser.new_state(split_range=True).split_range is True
        assert type(parser).resolve_pending is not BaseParser.resolve_pending
        assert type(parser).merge_state is not BaseParser.merge_state
    else:
        with pytest.raises(NotImplementedError):
            parser.merge_state(state, parser.new_state())
    assert not (t.counts_deliveries and not t.server), "only server logs count deliveries"


def test_format_lists_come_from_the_traits():
    from logscan.reports import aggregate, causes

    assert aggregate.DELIVERY_SOURCES == formats_where(counts_deliveries=True)
    assert causes.SERVERS == formats_where(server=True)
    assert set(formats_where(server=True)) | set(formats_where(server=False)) == set(REGISTRY)
    assert len(REGISTRY) == 12
    r = runner.invoke(app, ["formats"])
    for name in REGISTRY:
        assert name in r.output


def test_row_type_is_the_schema():
    row = row_type()
    assert tuple(row.__annotations__) == schema.FIELD_NAMES
    assert row.__total__ is False


def test_parsers_do_not_import_pyarrow():
    code = "import sys, logscan.parsers; print(sorted(m for m in sys.modules if m.startswith('pyarrow')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- every line counted by the parser ----------------------------------------------------------

def _balanced(stats, lines: int) -> None:
    assert lines == stats.failures + stats.ignored + stats.unparsed, \
        f"{stats.path}: {lines} lines, {stats.failures} failures + {stats.ignored} ignored + {stats.unparsed} unparsed"
    assert not any("uncounted" in r for r in stats.unparsed_reasons), stats.unparsed_reasons


SAMPLE_CASES = [(m.PARSER, i, s) for m in MODULES for i, s in enumerate(m.SAMPLES)]


@pytest.mark.parametrize("parser,index,sample", SAMPLE_CASES, ids=[f"{p.name}-{i}" for p, i, _ in SAMPLE_CASES])
def test_every_sample_line_is_counted_once(parser, index, sample):
    lines = [corpus_line(c[4:]) if c.startswith("ref:") else c for c in sample.context]
    lines.append(corpus_line(sample.ref) if sample.ref else sample.line)
    ctx = make_context()
    state = parser.new_state()
    for i, line in enumerate(lines):  # one call per line, as the pipeline's retry after an error does
        parser.parse([line], i + 1, ctx, state)
    parser.finish(ctx, state)
    _balanced(ctx.stats, len(lines))
    whole, whole_state = make_context(), parser.new_state()  # and all in one call
    parser.parse(lines, 1, whole, whole_state)
    parser.finish(whole, whole_state)
    _balanced(whole.stats, len(lines))


def _log_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix not in (".md", ".eml", ".json", ".yaml"))


@pytest.mark.parametrize("root", ["sample_logs", "corpora"])
def test_every_corpus_and_sample_log_line_is_counted(root, monkeypatch):
    base = SAMPLE_LOGS if root == "sample_logs" else CORPORA
    if not base.exists():
        pytest.skip(f"{base} not present")
    files = [str(p) for p in _log_files(base)]
    result = scan(files, ScanOptions(workers=1, tz="UTC"))
    assert len(result.files) > 10
    for f in result.files:
        _balanced(f, f.lines)


def _genlog(kind: str, mb: float, out: Path, seed: int = 1) -> Path:
    with open(out, "w") as fh:
        subprocess.run([sys.executable, str(GENLOG), kind, "--mb", str(mb), "--seed", str(seed)], stdout=fh, check=True)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["postfix", "exim"])
def test_generated_logs_are_counted_in_one_range_and_in_several(kind, tmp_path, monkeypatch):
    if not GENLOG.exists():
        pytest.skip("../shared/bench/genlog.py not present")
    log = _genlog(kind, 3, tmp_path / f"{kind}.log")
    one = scan([str(log)], ScanOptions(workers=1, tz="UTC"))
    monkeypatch.setattr(pipeline, "SPLIT_MIN_BYTES", 1 << 20)
    monkeypatch.setenv("LOGSCAN_ENGINE", "python")  # the split is the Python reference's
    split = scan([str(log)], ScanOptions(workers=3, tz="UTC"))
    for r in (one, split):
        (f,) = r.files
        _balanced(f, f.lines)
    assert one.totals == split.totals
    key = ["line_no", "recipient"]
    a, b = one.table.sort_by([(k, "ascending") for k in key]), split.table.sort_by([(k, "ascending") for k in key])
    assert a.num_rows > 100 and a.to_pylist() == b.to_pylist()


def test_a_line_a_parser_forgets_is_unparsed_not_ignored(tmp_path, monkeypatch, capsys):
    log = SAMPLE_LOGS / "msmtp"
    parser = REGISTRY["msmtp"]
    real = type(parser).parse

    def forgetful(self, lines, first_line_no, ctx, state):
        before = ctx.stats.ignored
        real(self, lines, first_line_no, ctx, state)
        ctx.stats.ignored = before  # a parser bug: its ignored lines not counted

    monkeypatch.setattr(type(parser), "parse", forgetful)
    result = scan([str(log)], ScanOptions(workers=1, forced_format="msmtp"))
    f = result.files[0]
    assert f.ignored == 0 and f.unparsed > 0 and f.lines == f.failures + f.unparsed
    assert any("uncounted" in r for r in f.unparsed_reasons)
    assert "uncounted" in capsys.readouterr().err


# --- the host in every correlation key (#16) ---------------------------------------------------

# The lines below have the shapes of the real lines in sample_logs/ (Postfix 3.7, Exim 4.96 and
# Sendmail runs here), with the host, ids and addresses of two machines.
def _postfix_host(host: str, qid: str, sender: str, rcpt: str, t: int) -> list[str]:
    stamp = f"Nov 27 19:40:{t:02d}"
    return [
        f"{stamp} {host} postfix/smtpd[100]: {qid}: client=client-{host}.example[192.0.2.{t}]",
        f"{stamp} {host} postfix/cleanup[101]: {qid}: message-id=<m-{host}@example.com>",
        f"{stamp} {host} postfix/qmgr[102]: {qid}: from=<{sender}>, size={100 + t}, nrcpt=1 (queue active)",
        f"{stamp} {host} postfix/smtp[103]: {qid}: to=<{rcpt}>, relay=mx.example.net[198.51.100.1]:25, delay=1, "
        f"delays=0/0/0/1, dsn=5.1.1, status=bounced (host mx.example.net[198.51.100.1] said: 550 5.1.1 "
        f"<{rcpt}>: Recipient address rejected: User unknown (in reply to RCPT TO command))",
        f"{stamp} {host} postfix/qmgr[102]: {qid}: removed",
    ]


def _interleave(a: list[str], b: list[str]) -> list[str]:
    return [x for pair in zip(a, b, strict=True) for x in pair]


def _by_host(table) -> dict[str, dict]:
    return {r["host"]: r for r in table.to_pylist()}


def _two_hosts(tmp_path, make, same_id: str, fmt: str) -> dict[str, dict]:
    """The rows of one log where mx1 and mx2 write the same id at once, their lines interleaved
    line by line; make(host, id, sender, recipient, t) gives one host's lines."""
    lines = _interleave(make("mx1", same_id, "a@one.example", "x@dest.example", 10),
                        make("mx2", same_id, "b@two.example", "y@dest.example", 20))
    log = tmp_path / f"{fmt}.log"
    log.write_text("\n".join(lines) + "\n")
    return _by_host(scan([str(log)], ScanOptions(workers=1, tz="UTC", forced_format=fmt)).table)


def test_postfix_queue_ids_of_two_hosts_never_join(tmp_path):
    rows = _two_hosts(tmp_path, _postfix_host, "0F5383D", "postfix")
    assert set(rows) == {"mx1", "mx2"}
    assert (rows["mx1"]["sender"], rows["mx1"]["client_host"], rows["mx1"]["size"], rows["mx1"]["message_id"]) == \
        ("a@one.example", "client-mx1.example", 110, "m-mx1@example.com")
    assert (rows["mx2"]["sender"], rows["mx2"]["client_host"], rows["mx2"]["size"], rows["mx2"]["message_id"]) == \
        ("b@two.example", "client-mx2.example", 120, "m-mx2@example.com")
    assert rows["mx1"]["queue_id"] == rows["mx2"]["queue_id"] == "0F5383D"


def test_postfix_removed_on_one_host_keeps_the_others_context(tmp_path):
    a = _postfix_host("mx1", "0F5383D", "a@one.example", "x@dest.example", 10)
    b = _postfix_host("mx2", "0F5383D", "b@two.example", "y@dest.example", 20)
    # mx1's message is removed before mx2's failure: mx2's context must still be there
    lines = a[:3] + b[:3] + [a[4]] + [b[3]]
    log = tmp_path / "mail.log"
    log.write_text("\n".join(lines) + "\n")
    rows = _by_host(scan([str(log)], ScanOptions(workers=1, tz="UTC")).table)
    assert rows["mx2"]["sender"] == "b@two.example"


def _exim_syslog(host: str, mid: str, sender: str, rcpt: str, t: int) -> list[str]:
    stamp = f"Nov 27 20:31:{t:02d}"
    return [
        f"{stamp} {host} exim[200]: 2026-11-27 20:31:{t:02d} {mid} <= {sender} H=client-{host}.example "
        f"[192.0.2.{t}] P=esmtp S={300 + t} id=m-{host}@example.com",
        f"{stamp} {host} exim[201]: 2026-11-27 20:31:{t:02d} {mid} ** {rcpt} R=dnslookup T=remote_smtp "
        f"H=mx.example.net [198.51.100.1]: SMTP error from remote mail server after RCPT TO:<{rcpt}>: "
        "550 5.1.1 User unknown",
        f"{stamp} {host} exim[201]: 2026-11-27 20:31:{t:02d} {mid} Completed",
    ]


def test_exim_message_ids_of_two_hosts_never_join_in_syslog(tmp_path):
    rows = _two_hosts(tmp_path, _exim_syslog, "1xX2bI-0007H6-0T", "exim")
    assert (rows["mx1"]["sender"], rows["mx1"]["size"], rows["mx1"]["client_ip"]) == ("a@one.example", 310, "192.0.2.10")
    assert (rows["mx2"]["sender"], rows["mx2"]["size"], rows["mx2"]["client_ip"]) == ("b@two.example", 320, "192.0.2.20")


def test_exim_mainlogs_take_the_host_of_their_folder(tmp_path):
    """Exim's own mainlog has no host column: the file's host (a host=NAME folder) is the rows'
    host and their key's. mx2's mainlog holds a failure of an id whose arrival only mx1 logged."""
    mid = "1xX2bI-0007H6-0T"
    one, two = tmp_path / "host=mx1", tmp_path / "host=mx2"
    one.mkdir()
    two.mkdir()
    a = [x.split(": ", 1)[1] for x in _exim_syslog("mx1", mid, "a@one.example", "x@dest.example", 10)]
    b = [x.split(": ", 1)[1] for x in _exim_syslog("mx2", mid, "b@two.example", "y@dest.example", 20)]
    (one / "mainlog").write_text("\n".join(a[:1]) + "\n")  # arrival only, still in the queue
    (two / "mainlog").write_text("\n".join(b[1:]) + "\n")  # a failure without its arrival
    result = scan([str(one / "mainlog"), str(two / "mainlog")], ScanOptions(workers=1, tz="UTC", forced_format="exim"))
    (row,) = result.table.to_pylist()
    assert row["host"] == "mx2" and row["sender"] is None and row["queue_id"] == mid


def _sendmail_host(host: str, qid: str, sender: str, rcpt: str, t: int) -> list[str]:
    stamp = f"Nov 27 21:00:{t:02d}"
    return [
        f"{stamp} {host} sm-mta[300]: {qid}: from=<{sender}>, size={400 + t}, class=0, nrcpts=1, "
        f"msgid=<m-{host}@example.com>, proto=ESMTP, daemon=MTA-v4, relay=client-{host}.example [192.0.2.{t}]",
        f"{stamp} {host} sm-mta[301]: {qid}: to=<{rcpt}>, delay=00:00:01, xdelay=00:00:01, mailer=esmtp, pri=120000, "
        f"relay=mx.example.net. [198.51.100.1], dsn=5.1.1, stat=User unknown",
    ]


def test_sendmail_queue_ids_of_two_hosts_never_join(tmp_path):
    rows = _two_hosts(tmp_path, _sendmail_host, "4ARK0E1a000123", "sendmail")
    assert (rows["mx1"]["sender"], rows["mx1"]["size"]) == ("a@one.example", 410)
    assert (rows["mx2"]["sender"], rows["mx2"]["size"]) == ("b@two.example", 420)


@pytest.mark.parametrize("fmt", ["postfix", "exim", "sendmail"])
def test_server_rows_keep_their_host(fmt):
    result = scan([str(SAMPLE_LOGS / fmt)], ScanOptions(workers=1, tz="UTC", forced_format=fmt))
    hosts = result.table.column("host").to_pylist()
    syslog = [r for r in result.table.to_pylist() if r["line"][:3].isalpha()]  # syslog lines name their host
    assert hosts and all(r["host"] for r in syslog)
    if fmt != "exim":
        assert all(hosts)


# --- the persisted state: form 2, form 1 still read --------------------------------------------

def _state_after(fmt: str, lines: list[str]):
    parser = REGISTRY[fmt]
    state = parser.new_state()
    parser.parse(lines, 1, make_context(), state)
    return state


def test_state_form_2_round_trip():
    lines = _interleave(_postfix_host("mx1", "0F5383D", "a@one.example", "x@dest.example", 10)[:3],
                        _postfix_host("mx2", "0F5383D", "b@two.example", "y@dest.example", 20)[:3])
    state = _state_after("postfix", lines)
    saved = json.loads(json.dumps(dump_parser_states({"postfix": state})))
    assert saved["postfix"]["form"] == STATE_FORM == 2
    assert sorted(e[0] for e in saved["postfix"]["queue"]) == ["mx1", "mx2"]
    back = load_parser_states(saved)["postfix"]
    assert back.queue == state.queue


def _postfix_form1(queue: dict) -> dict:
    return {"postfix": {"queue": queue}}


def test_form_1_postfix_state_is_read_and_its_ids_join_the_first_host():
    form1 = _postfix_form1({"0F5383D": {
        "clie": "client=old-client.example[192.0.2.7]",
        "mess": "message-id=<old@example.com>",
        "from": "from=<old@one.example>, size=77, nrcpt=1 (queue active)"}})
    state = load_parser_states(form1)["postfix"]
    assert not state.queue and "0F5383D" in state.legacy["queue"]
    ctx = make_context()
    failure = _postfix_host("mx1", "0F5383D", "unused@x", "x@dest.example", 10)[3]
    REGISTRY["postfix"].parse([failure], 1, ctx, state)
    (row,) = ctx.rows
    assert (row["sender"], row["size"], row["client_host"], row["message_id"]) == \
        ("old@one.example", 77, "old-client.example", "old@example.com")
    assert ("mx1", "0F5383D") in state.queue and not state.legacy["queue"]
    # saved again: form 2, and an id no host took over stays carried (host null)
    state.legacy["queue"]["AAAA1"] = {"qmgr": "from=<z@z.example>, size=1, nrcpt=1 (queue active)"}
    saved = dump_parser_states({"postfix": state})["postfix"]
    assert [None, "AAAA1", {"qmgr": "from=<z@z.example>, size=1, nrcpt=1 (queue active)"}] in saved["queue"]
    assert load_parser_states({"postfix": saved})["postfix"].legacy["queue"].keys() == {"AAAA1"}


def test_form_1_exim_and_sendmail_states_are_read():
    exim = load_parser_states({"exim": {"arrivals": {"1xX2bI-0007H6-0T": "<= old@one.example S=55"},
                                        "deferrals": {}}})["exim"]
    ctx = make_context()
    line = _exim_syslog("mx1", "1xX2bI-0007H6-0T", "unused@x", "x@dest.example", 10)[1]
    REGISTRY["exim"].parse([line], 1, ctx, exim)
    assert (ctx.rows[0]["sender"], ctx.rows[0]["size"]) == ("old@one.example", 55)
    sendmail = load_parser_states({"sendmail": {"queue": {"mx1 4ARK0E1a000123": {"sender": "old@one.example"}}}})
    assert sendmail["sendmail"].queue == {("mx1", "4ARK0E1a000123"): {"sender": "old@one.example"}}


def test_unknown_or_malformed_state_forms_are_refused():
    with pytest.raises(ValueError, match="form 3"):
        load_parser_states({"postfix": {"form": 3, "queue": []}})
    with pytest.raises(ValueError, match="malformed"):
        load_parser_states({"postfix": {"form": 2, "queue": [["mx1", "A"]]}})
    with pytest.raises(ValueError, match="malformed"):
        load_parser_states({"postfix": {"form": 2, "queue": [["mx1", "A", [1, 2]]]}})


def test_a_store_with_a_form_1_state_goes_on(tmp_path):
    """A store written before the host was in the key: its saved queue context still completes a
    failure logged in the next run; a state of a form this logscan does not know is exit 10."""
    logs, store = tmp_path / "logs", tmp_path / "store"
    logs.mkdir()
    log = logs / "mail.log"
    lines = _postfix_host("mx1", "0F5383D", "a@one.example", "x@dest.example", 10)
    log.write_text("\n".join(lines[:3]) + "\n")
    assert runner.invoke(app, ["scan", str(logs), "--store", str(store), "--quiet"]).exit_code == 0
    state = json.loads((store / "_logscan" / "state.json").read_text())
    saved = store / "_logscan" / state["parser_state"]
    data = json.loads(gzip.decompress(saved.read_bytes()))
    assert data["postfix"]["form"] == 2 and data["postfix"]["queue"][0][:2] == ["mx1", "0F5383D"]
    # rewrite it in form 1, as the logscan before this one wrote it
    from logscan.parsers.postfix import FORM1_NAMES
    old_names = {v: k for k, v in FORM1_NAMES.items()}
    form1 = {"postfix": {"queue": {qid: {old_names[k]: v for k, v in info.items()}
                                   for _, qid, info in data["postfix"]["queue"]}}}
    saved.write_bytes(gzip.compress(json.dumps(form1).encode()))
    with open(log, "a") as fh:
        fh.write(lines[3] + "\n")
    assert runner.invoke(app, ["scan", str(logs), "--store", str(store), "--quiet"]).exit_code == 0
    from logscan.store import read_failures
    (row,) = read_failures(store).table.to_pylist()
    assert (row["host"], row["sender"], row["size"]) == ("mx1", "a@one.example", 110)
    # a form from the future: refused with the store's exit 10 and its hint
    saved = store / "_logscan" / json.loads((store / "_logscan" / "state.json").read_text())["parser_state"]
    saved.write_bytes(gzip.compress(json.dumps({"postfix": {"form": 9, "queue": []}}).encode()))
    with open(log, "a") as fh:
        fh.write(lines[4] + "\n")
    r = runner.invoke(app, ["scan", str(logs), "--store", str(store), "--quiet"])
    assert r.exit_code == StoreDamagedError.exit_code == 10 and "form 9" in r.output


def test_pending_rows_are_carried_explicitly():
    parser = REGISTRY["postfix"]
    later = parser.new_state(split_range=True)
    ctx = make_context()
    failure = _postfix_host("mx1", "0F5383D", "a@one.example", "x@dest.example", 10)
    parser.parse([failure[3]], 1, ctx, later)
    assert not ctx.rows and len(ctx.pending) == 1
    (p,) = ctx.pending
    assert isinstance(p, Pending) and p.key == ("mx1", "0F5383D") and "_pending" not in p.row
    earlier = parser.new_state()
    parser.parse(failure[:3], 1, make_context(), earlier)
    parser.resolve_pending(ctx.pending, earlier)
    assert p.row["sender"] == "a@one.example"


def test_same_rows_script_compares_two_scans(tmp_path):
    spec = importlib.util.spec_from_file_location("same_rows", REPO / "tools" / "contract" / "same_rows.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = tmp_path / "a.parquet"
    assert runner.invoke(app, ["scan", str(SAMPLE_LOGS / "postfix"), "--output", str(out), "--quiet"]).exit_code == 0
    assert mod.main(["same_rows", str(out), str(out)]) == 0


def test_two_hosts_with_clashing_ids_across_byte_ranges(tmp_path, monkeypatch):
    """The same ids on two hosts in a file parsed in byte ranges at once: each failure finds its own
    host's context, whichever range it lies in, as in one range."""
    lines = []
    for n in range(400):
        qid = f"{0xA0000 + n:X}"
        a = _postfix_host("mx1", qid, f"a{n}@one.example", f"x{n}@dest.example", n % 60)
        b = _postfix_host("mx2", qid, f"b{n}@two.example", f"y{n}@dest.example", n % 60)
        lines += a[:3] + b[:3] + [a[3], b[3], a[4], b[4]]
    log = tmp_path / "mail.log"
    log.write_text("\n".join(lines) + "\n")
    one = scan([str(log)], ScanOptions(workers=1, tz="UTC"))
    monkeypatch.setattr(pipeline, "SPLIT_MIN_BYTES", 1 << 10)
    monkeypatch.setenv("LOGSCAN_ENGINE", "python")  # the split is the Python reference's
    split = scan([str(log)], ScanOptions(workers=3, tz="UTC"))
    for result in (one, split):
        rows = result.table.to_pylist()
        assert len(rows) == 800
        for r in rows:
            n = int(r["recipient"][1:].split("@")[0])
            assert r["sender"] == (f"a{n}@one.example" if r["host"] == "mx1" else f"b{n}@two.example")
    key = [("line_no", "ascending")]
    assert one.table.sort_by(key).to_pylist() == split.table.sort_by(key).to_pylist()
