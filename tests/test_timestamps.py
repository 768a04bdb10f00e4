from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from logscan.errors import UsageError
from logscan.timestamps import StampConverter, load_zone, to_datetime

UTC = timezone.utc


def conv(anchor, zone="UTC", year=None):
    return StampConverter(anchor, ZoneInfo(zone), zone, year)


def when(c, stamp):
    micros, note, inferred = c.convert(stamp)
    return to_datetime(micros), note, inferred


def test_classic_stamp_takes_the_anchor_year():
    c = conv(datetime(2026, 11, 27, 12, tzinfo=UTC))
    assert when(c, "Nov  1 00:00:00") == (datetime(2026, 11, 1, tzinfo=UTC), "assumed:UTC", True)
    assert when(c, "Mar 7 02:09:33")[0] == datetime(2026, 3, 7, 2, 9, 33, tzinfo=UTC)  # unpadded day


def test_log_spanning_new_year_walks_back():
    c = conv(datetime(2027, 1, 2, 3, tzinfo=UTC))  # file last written on 2 January
    assert when(c, "Dec 31 23:59:59")[0] == datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert when(c, "Jan  2 01:00:00")[0] == datetime(2027, 1, 2, 1, tzinfo=UTC)
    assert when(c, "Jan  3 00:30:00")[0] == datetime(2027, 1, 3, 0, 30, tzinfo=UTC)  # within a day: clock skew


def test_feb_29_goes_to_a_leap_year():
    c = conv(datetime(2027, 3, 1, tzinfo=UTC))
    assert when(c, "Feb 29 10:00:00")[0] == datetime(2024, 2, 29, 10, tzinfo=UTC)


def test_fixed_year_and_zone():
    c = conv(datetime(2027, 3, 1, tzinfo=UTC), zone="Europe/Berlin", year=2025)
    t, note, inferred = when(c, "Jul  1 12:00:00")
    assert t == datetime(2025, 7, 1, 10, tzinfo=UTC) and note == "assumed:Europe/Berlin" and inferred


def test_rfc3339_and_journal_short_iso():
    c = conv(datetime(2026, 11, 27, tzinfo=UTC), zone="Asia/Shanghai")
    assert when(c, "2026-11-27T19:41:59.358854+00:00") == (
        datetime(2026, 11, 27, 19, 41, 59, 358854, tzinfo=UTC), "+00:00", False)
    assert when(c, "2026-11-27T20:00:01+0100")[0:2] == (datetime(2026, 11, 27, 19, 0, 1, tzinfo=UTC), "+01:00")
    # no zone in the stamp: --tz applies
    assert when(c, "2026-11-27T08:00:00") == (datetime(2026, 11, 27, 0, 0, tzinfo=UTC), "assumed:Asia/Shanghai", False)


@pytest.mark.parametrize("bad", ["Foo  1 00:00:00", "Feb 30 00:00:00", "Nov  1 25:00:00", "2026-13-01T00:00:00Z"])
def test_unreadable_stamps_give_none(bad):
    assert conv(datetime(2026, 11, 27, tzinfo=UTC)).convert(bad)[0] is None


def test_unknown_zone_is_a_usage_error():
    with pytest.raises(UsageError):
        load_zone("Mars/Olympus")
