"""The chart: every failure lands in exactly one bar, whatever moment the window starts at."""

from __future__ import annotations

import pandas as pd
import pytest

from logscan.reports.chart import LABEL, category_chart


@pytest.mark.parametrize("unit,start,end", [
    ("hour", "2026-11-27T19:40:25", "2026-11-27T21:30:17"),  # "all": the window starts mid-hour
    ("day", "2026-11-02T07:13", "2026-11-20T00:00"),
    ("week", "2026-11-04T00:00", "2026-12-30T00:00"),
    ("month", "2026-10-15T00:00", "2027-02-01T00:00"),
    (None, "2026-11-27T19:40:25", "2026-11-27T21:30:17"),
])
def test_every_failure_is_in_one_bar(unit, start, end):
    start, end = pd.Timestamp(start, tz="UTC"), pd.Timestamp(end, tz="UTC")
    times = pd.Series(pd.date_range(start, end, periods=41)[:-1])  # [start, end)
    cats = pd.Series(["rate_limited", "expired", "auth_failed", "blocklisted", "a", "b", "c", "d", "e", "f"] * 4)
    chart = category_chart(times, cats, start, end, unit=unit)
    assert sum(x["failures"] for x in chart.legend) == len(times)
    # ten categories of equal size: all ten colours, nothing left for "other"
    assert len(chart.legend) == 10 and "other" not in [x["category"] for x in chart.legend]
    assert chart.narrow.startswith("<svg") and 'class="chart narrow"' in chart.narrow
    assert f'aria-label="{LABEL}"' in chart.svg and f"<title>{LABEL}</title>" in chart.svg
    assert chart.svg.startswith("<svg") and "<script" not in chart.svg and "currentColor" in chart.svg
    assert 'fill: #e69f00' in chart.svg.lower()  # the bars were drawn


def test_empty_is_no_chart():
    assert category_chart(pd.Series([], dtype="datetime64[ns, UTC]"), pd.Series([], dtype=object),
                          pd.Timestamp("2026-11-01", tz="UTC"), pd.Timestamp("2026-11-02", tz="UTC")) is None


def test_other_stays_small_and_the_chart_spans_the_data():
    # A long tail: the leading causes are named until "other" holds at most a tenth.
    counts = {"rate_limited": 300, "blocklisted": 200, "auth_failed": 150, "expired": 100, "a": 60, "b": 40,
              **{f"tail{i}": 5 for i in range(20)}}
    cats = pd.Series([c for c, n in counts.items() for _ in range(n)])
    start = pd.Timestamp("2026-11-01T00:00", tz="UTC")
    times = pd.Series(pd.date_range(start, start + pd.Timedelta(hours=13, minutes=55), periods=len(cats)))
    chart = category_chart(times, cats, times.min(), times.max(), unit="hour")
    other = next(x["failures"] for x in chart.legend if x["category"] == "other")
    assert other <= 0.1 * len(cats) and len(chart.legend) <= 10
    assert chart.start == start and chart.end == pd.Timestamp("2026-11-01T13:00", tz="UTC")  # not 00:00-23:00


def test_many_causes_of_similar_size_are_grouped_by_family_beyond_the_largest():
    # 24 categories of about the same size (a busy server's mix): named ones alone leave a third to
    # "other"; the largest five are named, the rest grouped by family, and "other" stays small.
    from logscan.engine import load_categories

    cats_known = load_categories()
    names = [c for c in cats_known if c not in ("unknown",)][:24]
    cats = pd.Series([c for i, c in enumerate(names) for _ in range(30 - i % 3)])
    start = pd.Timestamp("2026-11-01T00:00", tz="UTC")
    times = pd.Series(pd.date_range(start, start + pd.Timedelta(hours=10), periods=len(cats)))
    fams = {cid: c.family for cid, c in cats_known.items()}
    chart = category_chart(times, cats, times.min(), times.max() + pd.Timedelta(seconds=1), unit="hour", families=fams)
    legend = {x["category"]: x["failures"] for x in chart.legend}
    assert sum(legend.values()) == len(cats) and len(legend) <= 10
    assert 1 <= sum(1 for k in legend if k in cats_known) <= 5 and any(k.startswith("family:") for k in legend)
    assert legend.get("other", 0) <= 0.1 * len(cats)
