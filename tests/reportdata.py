"""Failure tables for the report tests: the real failures of the bundled Postfix samples, moved in
time to chosen days (the samples were all written within two hours), and file statistics."""

from __future__ import annotations

from datetime import datetime, timezone
from functools import cache

import pandas as pd
import pyarrow as pa

from logscan.pipeline import ScanOptions, scan
from logscan.reports.build import file_rows

from conftest import SAMPLE_LOGS


@cache
def postfix_scan():
    return scan([str(SAMPLE_LOGS / "postfix")], ScanOptions(workers=1))


def failures_on(days: dict[str, list[str]]) -> pa.Table:
    """{"2026-11-02": ["rate_limited", ...]}: that day gets the sample failures of those categories,
    kept at their time of day."""
    df = postfix_scan().table.to_pandas()
    parts = []
    for day, cats in days.items():
        part = df[df["category"].astype(str).isin(cats)].copy()
        midnight = pd.Timestamp(day, tz="UTC")
        part["time"] = midnight + (part["time"] - part["time"].dt.floor("D"))
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    return pa.Table.from_pandas(out, preserve_index=False)


def files_covering(first: str, last: str) -> list[dict]:
    """The samples' file statistics, claiming to cover [first, last] (UTC dates)."""
    rows = file_rows(postfix_scan().files)
    start = datetime.fromisoformat(first).replace(tzinfo=timezone.utc)
    end = datetime.fromisoformat(last).replace(hour=23, tzinfo=timezone.utc)
    days = pd.date_range(start.date(), end.date(), freq="D").strftime("%Y-%m-%d")
    for r in rows:
        r["first_time"], r["last_time"] = start, end
        # The samples' deliveries, as if each covered day had delivered as many.
        r["deliveries"] = {(day, dom, relay): n for day in days for (_, dom, relay), n in r["deliveries"].items()}
    return rows
