from datetime import datetime, time
from zoneinfo import ZoneInfo

from aggregator.scrapers.framework import MaintenanceWindow

NY = ZoneInfo("America/New_York")


def test_window_crossing_midnight_belongs_to_its_start_day():
    window = MaintenanceWindow(weekdays=frozenset({6}), start=time(23, 0), end=time(2, 0))  # Sunday night
    assert window.contains(datetime(2026, 11, 29, 23, 30, tzinfo=NY))  # Sunday 23:30
    assert window.contains(datetime(2026, 11, 30, 1, 59, tzinfo=NY))  # Monday 01:59
    assert not window.contains(datetime(2026, 11, 30, 2, 0, tzinfo=NY))
    assert not window.contains(datetime(2026, 11, 28, 23, 30, tzinfo=NY))  # Saturday


def test_window_uses_the_carriers_zone():
    window = MaintenanceWindow(start=time(1, 0), end=time(3, 0), timezone="America/New_York")
    assert window.contains(datetime(2026, 11, 27, 7, 0, tzinfo=ZoneInfo("UTC")))  # 02:00 in New York
    assert not window.contains(datetime(2026, 11, 27, 2, 0, tzinfo=ZoneInfo("UTC")))
