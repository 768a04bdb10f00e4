"""Successful deliveries counted by Postfix and Exim parsers (the denominator of failure rates),
and the rates in the report."""

from __future__ import annotations

import gzip
import re
from collections import Counter
from pathlib import Path

import pytest

from logscan.engine import load_categories
from logscan.pipeline import ScanOptions, scan
from logscan.reports.build import ReportOptions, build_reports, file_rows

from conftest import SAMPLE_LOGS


def _lines(path):
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
        yield from fh


# What a delivery line is, independently of the parsers' str.find code: Postfix "status=sent",
# Exim "=>", "->" and ">>" after a message id (plain mainlog or through syslog).
DELIVERY = {"postfix": re.compile(r" to=<[^>]*>, .*status=sent "),
            "exim": re.compile(r"(?:^\S+ \S+|exim\[\d+\]:(?: \S+ \S+)?) \w{6}-\w{6,11}-\w{2,4} (?:=>|->|>>) ")}


@pytest.mark.parametrize("kind", ["postfix", "exim"])
def test_every_delivery_line_is_counted_once(kind):
    result = scan([str(SAMPLE_LOGS / kind)], ScanOptions(workers=1))
    for f in result.files:
        expected = sum(1 for line in _lines(Path(f.path)) if DELIVERY[kind].search(line))
        assert sum(f.deliveries.values()) == expected, f.path
    total = Counter()
    for f in result.files:
        total.update(f.deliveries)
    assert sum(total.values()) > 50
    days = {day for day, _, _ in total}
    assert days == {"2026-11-27"}
    assert ("2026-11-27", "gmail-like.example", "127.0.0.1") in total  # relay host as the failure rows name it


def test_failure_rates_in_the_report(tmp_path):
    result = scan([str(SAMPLE_LOGS / "postfix")], ScanOptions(workers=1))
    build_reports(result.table, file_rows(result.files), [], tmp_path, ReportOptions(), load_categories())
    html = (tmp_path / "index.html").read_text().replace("<wbr>", "")  # wrap points (html.seps)
    delivered = sum(sum(f.deliveries.values()) for f in result.files)
    failures = result.table.num_rows
    rate = 100 * failures / (failures + delivered)
    assert f"Failure rate of Postfix, Exim and Sendmail delivery attempts: {rate:.1f}% ({delivered} delivered)." in html
    domain_rows = re.findall(r'<td class="mono key"[^>]*>gmail-like\.example</td><td class="n"[^>]*>(\d+) .*?</td>'
                             r'<td class="n"[^>]*>(\d+)</td><td class="n"[^>]*>([\d.]+)%</td>', html)
    assert domain_rows, "the domain table shows deliveries and the rate"
    bad, ok, pct = domain_rows[0]
    assert abs(100 * int(bad) / (int(bad) + int(ok)) - float(pct)) < 0.06


def test_no_rate_without_server_logs(tmp_path):
    result = scan([str(SAMPLE_LOGS / "msmtp")], ScanOptions(workers=1))
    build_reports(result.table, file_rows(result.files), [], tmp_path, ReportOptions(), load_categories())
    html = (tmp_path / "index.html").read_text()
    assert "No failure rate: the logs read record no successful delivery (only Postfix and Exim logs do)." in html
    assert "failure rate</th>" not in html


def test_rates_survive_ip_redaction(tmp_path):
    result = scan([str(SAMPLE_LOGS / "postfix")], ScanOptions(workers=1))
    rows = file_rows(result.files)
    build_reports(result.table, rows, [], tmp_path / "plain", ReportOptions(), load_categories())
    build_reports(result.table, rows, [], tmp_path / "red", ReportOptions(redact=True, redact_ips=True),
                  load_categories())

    def relay_rates(folder):
        html = (folder / "index.html").read_text().replace("<wbr>", "")
        table = html.split("Relays (servers we talked to)")[1].split("</table>")[0]
        return sorted(re.findall(r'<td class="n"[^>]*>(\d+)</td><td class="n"[^>]*>([\d.]+)%</td>', table))

    plain, red = relay_rates(tmp_path / "plain"), relay_rates(tmp_path / "red")
    assert plain and plain == red
    assert "127.0.0.1" not in (tmp_path / "red" / "index.html").read_text()
