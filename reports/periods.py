"""Report periods: calendar days, ISO weeks (Monday to Sunday) or months, in UTC.

A period is a half-open interval [start, end). The reports cover the periods that the logs reach
(from the first to the last line any file holds, clipped to --since/--until); a period without
failures still gets its report, because "nothing failed" is news too. The period before one is
`known` only when the logs reach back into it: otherwise there is nothing to compare against.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

import pandas as pd

from logscan.errors import UsageError

KINDS = ("day", "week", "month")
_PANDAS_FREQ = {"day": "D", "week": "W-SUN", "month": "M"}


@dataclass(frozen=True)
class Period:
    kind: str  # day, week, month, or "all" (one report over the whole window)
    start: datetime  # inclusive, UTC
    end: datetime  # exclusive, UTC

    @property
    def label(self) -> str:
        """File-name-safe and sortable: 2026-11-27, 2026-W48, 2026-11, or all."""
        if self.kind == "day":
            return self.start.strftime("%Y-%m-%d")
        if self.kind == "week":
            y, w, _ = self.start.isocalendar()
            return f"{y}-W{w:02d}"
        if self.kind == "month":
            return self.start.strftime("%Y-%m")
        return "all"

    def previous(self) -> Period | None:
        if self.kind == "all":
            return None
        return Period(self.kind, _floor(self.start - timedelta(microseconds=1), self.kind), self.start)


def parse_when(text: str, option: str, end: bool = False) -> datetime:
    """--since/--until: a date (2026-11-27) or a date and time (2026-11-27T08:00, 2026-11-27 08:00,
    with an optional offset; none means UTC). A bare --until date includes that whole day."""
    try:
        if len(text.strip()) == 10:
            d = date.fromisoformat(text.strip())
            moment = datetime.combine(d + timedelta(days=1) if end else d, time(), timezone.utc)
        else:
            moment = datetime.fromisoformat(text.strip())
            moment = moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)
    except ValueError:
        raise UsageError(f"{option} {text!r} is not a date or a date and time",
                         hint="use e.g. 2026-11-27 or 2026-11-27T08:00 (UTC unless an offset is given)") from None
    return moment


def _floor(moment: datetime, kind: str) -> datetime:
    d = moment.astimezone(timezone.utc).date()
    if kind == "week":
        d -= timedelta(days=d.weekday())
    elif kind == "month":
        d = d.replace(day=1)
    return datetime.combine(d, time(), timezone.utc)


def _next(start: datetime, kind: str) -> datetime:
    if kind == "day":
        return start + timedelta(days=1)
    if kind == "week":
        return start + timedelta(days=7)
    return (start + timedelta(days=32)).replace(day=1)


def periods_between(first: datetime, last: datetime, kind: str) -> list[Period]:
    """Every period of `kind` that [first, last] touches, oldest first."""
    out = []
    start = _floor(first, kind)
    while start <= last:
        end = _next(start, kind)
        out.append(Period(kind, start, end))
        start = end
    return out


def bucket(times: pd.Series, kind: str) -> pd.Series:
    """The start of each timestamp's period (UTC), vectorised."""
    naive = times.dt.tz_convert("UTC").dt.tz_localize(None)
    return naive.dt.to_period(_PANDAS_FREQ[kind]).dt.start_time.dt.tz_localize("UTC")


def in_window(times: pd.Series, since: datetime | None, until: datetime | None) -> pd.Series:
    keep = pd.Series(True, index=times.index)
    if since is not None:
        keep &= times >= pd.Timestamp(since)
    if until is not None:
        keep &= times < pd.Timestamp(until)
    return keep
