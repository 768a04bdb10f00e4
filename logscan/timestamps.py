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


# Times outside this window are no readable stamp (time null, the line still counted): a hostile or
# corrupt "Nov 99999999999" or year-9999 stamp must not reach Arrow, pandas (nanoseconds: 1677-2262)
# or datetime.fromtimestamp (year 10000) later.
MIN_MICROS = 0
MAX_MICROS = (datetime(2262, 1, 1, tzinfo=UTC) - EPOCH) // timedelta(microseconds=1)


def _micros(t: datetime) -> int | None:
    us = (t - EPOCH) // timedelta(microseconds=1)
    return us if MIN_MICROS <= us < MAX_MICROS else None


def strptime_iso(text: str, fmt: str) -> str | None:
    """An application log's stamp in `fmt` as ISO 8601 text, or None when it is no real date
    (Feb 30, non-ASCII digits): the line is then read without a time, never raises."""
    if not text.isascii():
        return None
    try:
        return datetime.strptime(text, fmt).isoformat()
    except (ValueError, OverflowError):
        return None


def utc_day(micros: int | None) -> str | None:
    """UTC epoch microseconds as 'YYYY-MM-DD'; None for None or a time no calendar date has."""
    if micros is None:
        return None
    try:
        return (EPOCH + timedelta(microseconds=micros)).strftime("%Y-%m-%d")
    except (ValueError, OverflowError):
        return None


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
        """Return (UTC epoch microseconds, zone note, year inferred); (None, None, False) if unreadable.
        Only ASCII digits are numbers (str.isdigit and int() also take '١٢', '１２')."""
        if not stamp.isascii():
            return None, None, False
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
        t = base + (mm * 60 + ss) * 1_000_000 + micro
        return (t, self.assumed, True) if t < MAX_MICROS else (None, None, False)

    def _iso(self, stamp: str) -> tuple[int | None, str | None, bool]:
        try:
            t = datetime.fromisoformat(stamp)
        except ValueError:
            return None, None, False
        try:
            us = _micros(t.replace(tzinfo=self.zone) if t.tzinfo is None else t)
        except (ValueError, OverflowError):  # a zone offset that moves 9999-12-31 past the calendar
            us = None
        if us is None:
            return None, None, False
        if t.tzinfo is None:
            return us, self.assumed, False
        off = t.utcoffset() or timedelta(0)
        sign = "-" if off < timedelta(0) else "+"
        minutes = abs(int(off.total_seconds())) // 60
        return us, f"{sign}{minutes // 60:02d}:{minutes % 60:02d}", False

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
        except (ValueError, OverflowError):  # Feb 30, Nov 99999999999
            return None
        return _micros(naive.replace(tzinfo=self.zone))

    def _infer_year(self, month: int, day: int, hour: int) -> int:
        a = self.anchor
        return a.year - 1 if (month, day, hour) > (a.month, a.day, a.hour) else a.year


def to_datetime(micros: int | None) -> datetime | None:
    return None if micros is None else EPOCH + timedelta(microseconds=micros)
