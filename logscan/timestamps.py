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


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _micros(t: datetime) -> int:
    return (t - EPOCH) // timedelta(microseconds=1)


class StampConverter:
    """Converts the stamps of one file to UTC epoch microseconds.

    Classic stamps are converted per hour (cached: "Nov  1 00"), then minutes and seconds are
    added, since zone offsets change on the hour; RFC 3339 stamps carry their own offset.
    """

    def __init__(self, anchor: datetime, zone: ZoneInfo, zone_name: str, fixed_year: int | None = None):
        self.anchor = anchor.astimezone(zone).replace(tzinfo=None) + timedelta(days=1)
        self.zone = zone
        self.assumed = f"assumed:{zone_name}"
        self.fixed_year = fixed_year
        self._hours: dict[str, int | None] = {}

    def convert(self, stamp: str) -> tuple[int | None, str | None, bool]:
        """Return (UTC epoch microseconds, zone note, year inferred); (None, None, False) if unreadable."""
        if stamp[:1].isdigit():
            return self._iso(stamp)
        parts = stamp.split()
        if len(parts) != 3 or len(parts[2]) < 8:
            return None, None, False
        hour_key = f"{parts[0]} {parts[1]} {parts[2][:2]}"
        base = self._hours.get(hour_key, -1)
        if base == -1:
            base = self._classic_hour(parts[0], parts[1], parts[2][:2])
            if len(self._hours) > 50_000:
                self._hours.clear()
            self._hours[hour_key] = base
        if base is None:
            return None, None, False
        try:
            mm, ss = int(parts[2][3:5]), int(parts[2][6:8])
            frac = parts[2][9:]
            micro = int((frac + "000000")[:6]) if frac else 0
        except ValueError:
            return None, None, False
        if not (0 <= mm < 60 and 0 <= ss < 61):
            return None, None, False
        return base + (mm * 60 + ss) * 1_000_000 + micro, self.assumed, True

    def _iso(self, stamp: str) -> tuple[int | None, str | None, bool]:
        try:
            t = datetime.fromisoformat(stamp)
        except ValueError:
            return None, None, False
        if t.tzinfo is None:
            return _micros(t.replace(tzinfo=self.zone)), self.assumed, False
        off = t.utcoffset() or timedelta(0)
        sign = "-" if off < timedelta(0) else "+"
        minutes = abs(int(off.total_seconds())) // 60
        return _micros(t), f"{sign}{minutes // 60:02d}:{minutes % 60:02d}", False

    def _classic_hour(self, mon: str, day: str, hour: str) -> int | None:
        try:
            month, d, hh = MONTHS[mon], int(day), int(hour)
        except (KeyError, ValueError):
            return None
        year = self.fixed_year or self._infer_year(month, d, hh)
        if month == 2 and d == 29:
            while not calendar.isleap(year):
                year -= 1
        try:
            naive = datetime(year, month, d, hh)
        except ValueError:
            return None
        return _micros(naive.replace(tzinfo=self.zone))

    def _infer_year(self, month: int, day: int, hour: int) -> int:
        a = self.anchor
        return a.year - 1 if (month, day, hour) > (a.month, a.day, a.hour) else a.year


def to_datetime(micros: int | None) -> datetime | None:
    return None if micros is None else EPOCH + timedelta(microseconds=micros)
