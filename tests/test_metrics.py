"""scan --metrics: a Prometheus textfile with bounded labels, written atomically, that adds up."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timezone

from typer.testing import CliRunner

from logscan.cli import app
from logscan.metrics import _label, render
from logscan.store import read_failures

from conftest import REPO

runner = CliRunner()
SAMPLE = re.compile(r'^([a-z_0-9]+)(?:\{((?:[a-z_]+="(?:[^"\\]|\\.)*",?)*)\})? (-?[0-9.e+]+)$')


def parse(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    out: dict[str, list] = {}
    for line in text.splitlines():
        if line.startswith("#"):
            assert re.match(r"# (HELP|TYPE) [a-z_0-9]+ ", line), line
            continue
        m = SAMPLE.match(line)
        assert m, f"not Prometheus text format: {line!r}"
        labels = dict(re.findall(r'([a-z_]+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        out.setdefault(m.group(1), []).append((labels, float(m.group(3))))
    return out


def test_metrics_add_up_and_carry_the_thresholds(tmp_path):
    prom = tmp_path / "logscan.prom"
    store = tmp_path / "store"
    r = runner.invoke(app, ["scan", str(REPO / "sample_logs"), "--store", str(store), "--metrics", str(prom),
                            "--quiet", "--fail-on", "auth=5"])
    assert r.exit_code == 9  # the threshold is exceeded, and the file is written all the same
    text = prom.read_text()
    m = parse(text)
    stored = read_failures(store).table
    assert sum(v for _, v in m["logscan_run_new_failures"]) == stored.num_rows > 0
    by_cat = Counter()
    for labels, v in m["logscan_run_new_failures"]:
        assert set(labels) == {"family", "category", "direction", "host"}
        by_cat[labels["category"]] += v
    assert by_cat == Counter(stored.column("category").to_pylist())
    assert m["logscan_fail_on_limit"] == [({"name": "auth"}, 5)]
    assert m["logscan_fail_on_exceeded"] == [({"name": "auth"}, 1)]
    assert m["logscan_run_lines"][0][1] > 0
    assert "# TYPE logscan_failures_24h gauge" in text  # (empty: the samples are older than 24 hours)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    # the next run: only what it stored is new (a client log's last record, held open at the end of
    # the first run, is stored now)
    before = stored.num_rows
    assert runner.invoke(app, ["scan", str(REPO / "sample_logs"), "--store", str(store), "--metrics", str(prom),
                               "--quiet"]).exit_code == 0
    m = parse(prom.read_text())
    assert sum(v for _, v in m.get("logscan_run_new_failures", [])) == read_failures(store).table.num_rows - before
    assert runner.invoke(app, ["scan", str(REPO / "sample_logs"), "--store", str(store), "--metrics", str(prom),
                               "--quiet"]).exit_code == 0
    m = parse(prom.read_text())
    assert m.get("logscan_run_new_failures", []) == [] and m["logscan_run_lines"] == [({}, 0)]


def test_last_24_hours_from_the_store(tmp_path):
    # a real Postfix line of sample_logs/postfix/rfc3339, stamped now
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000000+00:00")
    line = (f"{now} mx1 postfix/smtp[15924]: 75B171644C3: to=<nouser@gmail-like.example>, relay=127.0.0.1[127.0.0.1]:2525, "
            "delay=0.03, delays=0.01/0/0.01/0.01, dsn=5.1.1, status=bounced (host 127.0.0.1[127.0.0.1] said: 550-5.1.1 "
            "The email account that you tried to reach does not exist. (in reply to RCPT TO command))\n")
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "mail.log").write_text(line)
    prom = tmp_path / "m.prom"
    assert runner.invoke(app, ["scan", str(logs), "--store", str(tmp_path / "s"), "--metrics", str(prom),
                               "--quiet"]).exit_code == 0
    m = parse(prom.read_text())
    assert m["logscan_failures_24h"] == [({"family": "recipient", "category": "recipient_unknown",
                                           "direction": "outbound", "host": "mx1"}, 1)]
    assert m["logscan_failures_24h_by_domain"] == [({"recipient_domain": "gmail-like.example"}, 1)]
    assert m["logscan_failures_24h_by_relay"] == [({"relay_host": "127.0.0.1"}, 1)]


def test_relay_hosts_are_the_top_ten_and_other():
    relays = Counter({f"mx{i}.example": 100 - i for i in range(30)})
    m = parse(render(Counter(), 0, 0, {}, [], (Counter(), Counter(), relays)))
    got = dict((labels["relay_host"], v) for labels, v in m["logscan_failures_24h_by_relay"])
    assert len(got) == 11 and got["mx0.example"] == 100 and got["other"] == sum(100 - i for i in range(10, 30))


def test_labels_from_logs_are_escaped_and_bounded():
    hostile = 'a"b\\c\nd' + "x" * 500
    assert _label(hostile) == 'a\\"b\\\\c d' + "x" * 93
    run = Counter({("auth_failed", "inbound", f"host{i}"): 1 for i in range(80)})
    text = render(run, 80, 0, {}, [])
    m = parse(text)
    hosts = {labels["host"] for labels, _ in m["logscan_run_new_failures"]}
    assert len(hosts) == 51 and "other" in hosts  # 50 hosts and the rest
    assert sum(v for _, v in m["logscan_run_new_failures"]) == 80


def test_an_unwritable_metrics_path_stops_before_the_scan(tmp_path):
    r = runner.invoke(app, ["scan", str(REPO / "sample_logs" / "postfix"), "--metrics",
                            str(tmp_path / "missing" / "m.prom"), "--quiet"])
    assert r.exit_code == 4 and "missing" in r.output and "lines read" not in r.output
