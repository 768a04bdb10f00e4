"""Turning log time stamps into UTC.

Three stamp styles are read:

* classic syslog, ``Nov  1 00:00:00`` (no year, no zone; the day may be space-padded or not);
* RFC 3339 / ISO 8601 with optional fraction and zone, ``2026-11-27T19:20:01.123456+01:00``
  (rsyslog's RSYSLOG_FileFormat, Postfix's maillog_file with RFC 3339 stamps);
* journald's ``short-iso`` export, ``2026-11-27T19:20:01+0100`` (zone without a colon).

The year rule for classic stamps (documented in the README): the year is the one of the
*anchor* (the file's modification time, when the last line was written) unless that would put
the stamp more than one day after the anchor, in which case it belongs to the year before.
A log that spans new year thus gets December in the old year and January in the new one.
29 February walks back to the nearest leap year. ``--year`` replaces the rule with a fixed year.
Naive stamps are read in ``--tz`` (default: this machine's zone).
"""

from __future__ import annotations

import calendar
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import UsageError

MONTHS = {m: i for i, m in enumerate(calendar.month_abbr) if m}
UTC = timezone.utc


def local_zone_name() -> str:
    """Name of this machine's zone: $TZ, /etc/timezone, or the /etc/localtime link."""
    tz = os.environ.get("TZ", "").lstrip(":")
    if tz:
        return tz
    try:
        name = Path("/etc/timezone").read_text().strip()
        if name:
            return name
    except OSError:
        pass
    try:
        target = os.readlink("/etc/localtime")
        if "zoneinfo/" in target:
            return target.split("zoneinfo/", 1)[1]
    except OSError:
        pass
    return "UTC"


def load_zone(name: str | None) -> tuple[ZoneInfo, str]:
    name = name or local_zone_name()
    try:
        return ZoneInfo(name), name
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UsageError(
            f"unknown time zone {name!r}", hint="use an IANA name such as Europe/Berlin or UTC"
        ) from exc


class StampConverter:
    """Converts the stamps of one file to UTC; caches by stamp text (many lines share a second)."""

    def __init__(self, anchor: datetime, zone: ZoneInfo, zone_name: str, fixed_year: int | None = None):
        self.anchor = anchor.astimezone(zone).replace(tzinfo=None) + timedelta(days=1)
        self.zone = zone
        self.assumed = f"assumed:{zone_name}"
        self.fixed_year = fixed_year
        self._cache: dict[str, tuple[datetime | None, str | None, bool]] = {}

    def convert(self, stamp: str) -> tuple[datetime | None, str | None, bool]:
        """Return (utc time, zone note, year inferred); (None, None, False) when unreadable."""
        hit = self._cache.get(stamp)
        if hit is None:
            hit = self._convert(stamp)
            if len(self._cache) > 100_000:
                self._cache.clear()
            self._cache[stamp] = hit
        return hit

    def _convert(self, stamp: str) -> tuple[datetime | None, str | None, bool]:
        if stamp[:1].isdigit():
            return self._iso(stamp)
        return self._classic(stamp)

    def _iso(self, stamp: str):
        try:
            t = datetime.fromisoformat(stamp)
        except ValueError:
            return None, None, False
        if t.tzinfo is None:
            return t.replace(tzinfo=self.zone).astimezone(UTC), self.assumed, False
        off = t.utcoffset() or timedelta(0)
        sign = "-" if off < timedelta(0) else "+"
        minutes = abs(int(off.total_seconds())) // 60
        return t.astimezone(UTC), f"{sign}{minutes // 60:02d}:{minutes % 60:02d}", False

    def _classic(self, stamp: str):
        # "Nov  1 00:00:00", "Mar 7 02:09:33", optionally with a fraction.
        parts = stamp.split()
        if len(parts) != 3 or parts[0] not in MONTHS:
            return None, None, False
        try:
            month, day = MONTHS[parts[0]], int(parts[1])
            hms, _, frac = parts[2].partition(".")
            hh, mm, ss = (int(x) for x in hms.split(":"))
            micro = int((frac + "000000")[:6]) if frac else 0
        except ValueError:
            return None, None, False
        year = self.fixed_year or self._infer_year(month, day, hh, mm, ss)
        if month == 2 and day == 29:
            while not calendar.isleap(year):
                year -= 1
        try:
            naive = datetime(year, month, day, hh, mm, ss, micro)
        except ValueError:
            return None, None, False
        return naive.replace(tzinfo=self.zone).astimezone(UTC), self.assumed, True

    def _infer_year(self, month: int, day: int, hh: int, mm: int, ss: int) -> int:
        year = self.anchor.year
        if (month, day, hh, mm, ss) > (
            self.anchor.month,
            self.anchor.day,
            self.anchor.hour,
            self.anchor.minute,
            self.anchor.second,
        ):
            year -= 1
        return year
