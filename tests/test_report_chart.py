"""The chart: every failure lands in exactly one bar, whatever moment the window starts at."""

from __future__ import annotations

import pandas as pd
import pytest

from logscan.reports.chart import category_chart


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
    cats = pd.Series(["rate_limited", "expired", "auth_failed", "blocklisted", "a", "b", "c", "d"] * 5)
    chart = category_chart(times, cats, start, end, unit=unit)
    assert sum(x["failures"] for x in chart.legend) == len(times)
    assert [x["category"] for x in chart.legend][-1] == "other"  # eight categories: six, then other
    assert chart.svg.startswith("<svg") and "<script" not in chart.svg and "currentColor" in chart.svg
    assert 'fill: #e69f00' in chart.svg.lower()  # the bars were drawn


def test_empty_is_no_chart():
    assert category_chart(pd.Series([], dtype="datetime64[ns, UTC]"), pd.Series([], dtype=object),
                          pd.Timestamp("2026-11-01", tz="UTC"), pd.Timestamp("2026-11-02", tz="UTC")) is None
