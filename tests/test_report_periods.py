"""Report periods: bucketing, the window, previous-period deltas, new and stopped problems."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from reportdata import failures_on, files_covering

from logscan.engine import load_categories
from logscan.errors import UsageError
from logscan.reports.build import ReportOptions, build_reports
from logscan.reports.periods import bucket, parse_when, periods_between

UTC = timezone.utc


def t(s: str) -> datetime:
    return datetime.fromisoformat(s).replace(tzinfo=UTC)


def test_periods_cover_first_to_last_with_calendar_boundaries():
    days = periods_between(t("2026-11-29T23:59"), t("2026-12-01T00:00"), "day")
    assert [p.label for p in days] == ["2026-11-29", "2026-11-30", "2026-12-01"]
    weeks = periods_between(t("2026-11-29T12:00"), t("2026-11-30T01:00"), "week")  # Sunday, then Monday
    assert [p.label for p in weeks] == ["2026-W48", "2026-W49"]
    assert weeks[1].start == t("2026-11-30T00:00") and weeks[1].end == t("2026-12-07T00:00")
    months = periods_between(t("2026-12-31T23:00"), t("2027-01-01T00:00"), "month")
    assert [p.label for p in months] == ["2026-12", "2027-01"]
    assert months[0].previous().label == "2026-11" and weeks[0].previous().label == "2026-W47"


@pytest.mark.parametrize("kind,expected", [
    ("day", ["2026-11-29", "2026-11-30", "2026-11-30"]),
    ("week", ["2026-11-23", "2026-11-30", "2026-11-30"]),
    ("month", ["2026-11-01", "2026-11-01", "2026-11-01"]),
])
def test_bucket_matches_period_starts(kind, expected):
    times = pd.Series(pd.to_datetime(["2026-11-29T23:59:59.999", "2026-11-30T00:00", "2026-11-30T18:00"], utc=True, format="ISO8601"))
    got = bucket(times, kind)
    assert [x.strftime("%Y-%m-%d") for x in got] == expected
    assert all(x == periods_between(x.to_pydatetime(), x.to_pydatetime(), kind)[0].start for x in got)


def test_since_until_parsing():
    assert parse_when("2026-11-27", "--since") == t("2026-11-27T00:00")
    assert parse_when("2026-11-27", "--until", end=True) == t("2026-11-28T00:00")  # the whole day included
    assert parse_when("2026-11-27T08:30+01:00", "--since") == t("2026-11-27T07:30")
    assert parse_when("2026-11-27 08:30", "--since") == t("2026-11-27T08:30")
    with pytest.raises(UsageError):
        parse_when("yesterday", "--since")


# Three days: the first has rate limiting and refused connections, the second keeps the rate
# limiting, adds mailbox-full and drops the refusals; the third has no failures at all.
DAYS = {"2026-11-02": ["rate_limited", "connection_refused"], "2026-11-03": ["rate_limited", "mailbox_full"]}


@pytest.fixture(scope="module")
def daily(tmp_path_factory):
    out = tmp_path_factory.mktemp("daily")
    table = failures_on(DAYS)
    build_reports(table, files_covering("2026-11-02", "2026-11-04"), [], out, ReportOptions(period="day"),
                  load_categories())
    return out, table.to_pandas()


def test_one_report_per_period_and_an_index(daily):
    out, df = daily
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["2026-11-02", "2026-11-03", "2026-11-04"]
    index = (out / "index.html").read_text()
    for label in ("2026-11-02", "2026-11-03", "2026-11-04"):
        assert f'href="{label}/index.html"' in index
        for name in ("index.html", "failures.parquet", "problems.csv", "problems.json"):
            assert (out / label / name).is_file()
    # Each period's export holds exactly that period's failures.
    for label in ("2026-11-02", "2026-11-03"):
        exported = pq.read_table(out / label / "failures.parquet").to_pandas()
        expected = df[df["time"].dt.strftime("%Y-%m-%d") == label]
        assert len(exported) == len(expected) > 0
        assert set(exported["time"].dt.strftime("%Y-%m-%d")) == {label}
    assert pq.read_table(out / "2026-11-04" / "failures.parquet").num_rows == 0
    assert "No send failures in this period." in (out / "2026-11-04" / "index.html").read_text()


def test_previous_period_deltas(daily):
    out, df = daily
    n = df.groupby(df["time"].dt.strftime("%Y-%m-%d")).size()
    first = (out / "2026-11-02" / "index.html").read_text()
    assert "The logs do not reach back into the previous period" in first
    second = (out / "2026-11-03" / "index.html").read_text()
    change = n["2026-11-03"] - n["2026-11-02"]
    pct = round(100 * change / n["2026-11-02"])
    assert f"<b>{n['2026-11-03']}</b>failed attempts <span class=\"{'up' if change > 0 else 'down'}\">{change:+d} ({pct:+d}%)</span>" in second
    # The files end at 23:00 on 11-04: a partial day, compared per hour covered, never as a count.
    third = (out / "2026-11-04" / "index.html").read_text()
    assert "Partial period" in third and "the logs cover 23.0 of its 24 hours" in third
    assert '<b>0</b>failed attempts <span class="down">-100% per hour</span>' in third
    assert "Partial period" not in second


def test_new_and_stopped_problems(daily):
    out, df = daily
    problems = json.loads((out / "2026-11-03" / "problems.json").read_text())
    status = {(p["category"], p["status"]) for p in problems}
    assert ("mailbox_full", "new") in status and ("rate_limited", "continuing") in status
    assert not any(p["category"] == "connection_refused" for p in problems)
    page = (out / "2026-11-03" / "index.html").read_text()
    refused_signatures = set(df[(df["category"] == "connection_refused")]["signature"])
    stopped_html = page.split("Stopped (")[1].split("</div>")[0]
    assert int(stopped_html.split(")")[0]) == len(refused_signatures)
    new_count = sum(1 for p in problems if p["status"] == "new")
    assert f"New problems ({new_count})" in page and new_count == df[
        (df["category"] == "mailbox_full")]["signature"].nunique()
    first = json.loads((out / "2026-11-02" / "problems.json").read_text())
    assert {p["status"] for p in first} == {""}  # nothing to compare with: neither new nor continuing


def test_since_until_choose_the_window(tmp_path):
    table = failures_on(DAYS)
    opts = ReportOptions(period="day", since=t("2026-11-03T00:00"), until=t("2026-11-04T00:00"))
    build_reports(table, files_covering("2026-11-02", "2026-11-04"), [], tmp_path, opts, load_categories())
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == ["2026-11-03"]
    exported = pq.read_table(tmp_path / "2026-11-03" / "failures.parquet")
    assert exported.num_rows == sum(1 for d in table.column("time").to_pylist() if d.day == 3)


def test_problems_are_ranked_by_impact_with_samples(daily):
    out, _ = daily
    problems = json.loads((out / "2026-11-02" / "problems.json").read_text())
    for section in {p["section"] for p in problems}:
        ranked = [p for p in problems if p["section"] == section]
        keys = [(p["lost"], p["delayed"], p["other"], p["failures"]) for p in ranked]
        assert keys == sorted(keys, reverse=True) and [p["rank"] for p in ranked] == list(range(1, len(ranked) + 1))
    top = problems[0]
    assert top["days_active"] == 1 and top["rule_id"] and all(isinstance(s, str) for s in top["remediation"])
    assert top["remediation"]
    assert all(":" in s and s.split(": ", 1)[0].rsplit(":", 1)[1].isdigit() for s in top["samples"])
    csv_head = (out / "2026-11-02" / "problems.csv").read_text().splitlines()[0]
    assert csv_head.startswith("rank,section,status,category,title,last_deferral,rule_id,key,signature,lost,delayed")


def test_failures_without_time_are_counted_not_dropped(tmp_path):
    table = failures_on(DAYS)
    idx = table.schema.get_field_index("time")
    times = table.column("time").to_pylist()
    times[0] = None
    table = table.set_column(idx, "time", pa.array(times, table.schema.field("time").type))
    build_reports(table, files_covering("2026-11-02", "2026-11-03"), [], tmp_path, ReportOptions(period="day"),
                  load_categories())
    assert "1 failures have no usable time stamp and are in no period&#39;s report." in (
        tmp_path / "index.html").read_text()
    exported = sum(pq.read_table(p).num_rows for p in tmp_path.rglob("failures.parquet"))
    assert exported == table.num_rows - 1


def test_report_command_with_periods(tmp_path):
    from typer.testing import CliRunner

    from logscan.cli import app

    from conftest import SAMPLE_LOGS

    def run(*args):
        return CliRunner().invoke(app, ["report", str(SAMPLE_LOGS / "postfix"), "--out", str(tmp_path / "r"), *args])

    r = run("--period", "week", "--lang", "zh", "--redact")
    assert r.exit_code == 0, r.output
    assert f"Report: {(tmp_path / 'r' / 'index.html').resolve()}" in r.stdout
    weeks = [p.name for p in (tmp_path / "r").iterdir() if p.is_dir()]
    assert len(weeks) == 1 and weeks[0].startswith("20") and "-W" in weeks[0]
    assert run("--period", "week").exit_code == 4  # no silent overwrite
    for bad in (["--period", "fortnight"], ["--since", "yesterday"], ["--lang", "fr"],
                ["--since", "2026-11-28", "--until", "2026-11-27"]):
        r = run(*bad, "--force")
        assert r.exit_code == 2 and r.stderr.startswith("Error: "), bad



def test_each_period_rates_count_that_periods_deliveries(daily):
    out, df = daily
    per_day = sum(postfix_scan_deliveries().values())  # files_covering puts them on every covered day
    for label in ("2026-11-02", "2026-11-03"):
        failures = int((df["time"].dt.strftime("%Y-%m-%d") == label).sum())
        rate = 100 * failures / (failures + per_day)
        page = (out / label / "index.html").read_text()
        assert f"delivery attempts: {rate:.1f}% ({per_day} delivered)." in page, label


def postfix_scan_deliveries():
    from collections import Counter

    from reportdata import postfix_scan

    total = Counter()
    for f in postfix_scan().files:
        total.update(f.deliveries)
    return total


def test_expired_messages_belong_to_the_problem_of_their_last_deferral():
    from logscan.reports.aggregate import summarize

    categories = load_categories()
    s = summarize(failures_on({"2026-11-04": ["expired"]}), categories)
    caused = [p for p in s.problems if p["last_deferral"]]
    assert caused, "the Postfix samples have messages that expired after deferrals"
    for p in caused:
        cause = categories[p["last_deferral"]]
        # The problem is the cause itself, with the cause's steps, and its expired messages are lost.
        assert p["category"] == p["last_deferral"] and p["title"] == cause.title and p["lost"] > 0
        from logscan.reports.remedies import steps

        assert p["remediation"] == steps(cause, p["section"], p["sources"]) and "expired" in p["events"]
    expired = next(c for c in s.by_category if c["category"] == "expired")
    assert sum(n for _, _, n in expired["last_deferrals"]) == sum(p["events"]["expired"] for p in caused)


def test_a_day_that_only_delivered_gets_its_report(tmp_path):
    # Failures on 11-02 only; the files' failure times say nothing more, but they delivered on 11-05.
    from reportdata import postfix_scan

    from logscan.reports.build import file_rows

    files = file_rows(postfix_scan().files)
    for f in files:
        f["first_time"] = f["last_time"] = None
        f["deliveries"] = {("2026-11-05", dom, relay): n for (_, dom, relay), n in f["deliveries"].items()}
    assert any(f["deliveries"] for f in files)
    build_reports(failures_on({"2026-11-02": ["rate_limited"]}), files, [], tmp_path, ReportOptions(period="day"),
                  load_categories())
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == [
        "2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05"]
    assert "No send failures in this period." in (tmp_path / "2026-11-05" / "index.html").read_text()
