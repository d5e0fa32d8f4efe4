"""The time grid of the demo and China's working calendar (weekends, public holidays, 调休 make-up days)."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import numpy as np

from parkbrain.model.timeutil import CST

WORKDAY, WEEKEND, HOLIDAY = 0, 1, 2
# Fixed-date public holidays used when chinese_calendar has no data for the year yet.
_FALLBACK_HOLIDAYS = {
    (1, 1),
    (5, 1),
    (5, 2),
    (5, 3),
    (10, 1),
    (10, 2),
    (10, 3),
    (10, 4),
    (10, 5),
    (10, 6),
    (10, 7),
}


def day_type(day: date) -> int:
    """WORKDAY, WEEKEND or HOLIDAY for a date, per the State Council's published schedule.

    Uses the ``chinese_calendar`` package (which follows the 国务院办公厅 notices, 调休 included);
    for years it does not cover yet, weekends plus the fixed-date holidays.
    """
    import chinese_calendar

    try:
        if chinese_calendar.is_workday(day):
            return WORKDAY
        is_holiday, name = chinese_calendar.get_holiday_detail(day)
        return HOLIDAY if name else WEEKEND
    except NotImplementedError:
        if (day.month, day.day) in _FALLBACK_HOLIDAYS:
            return HOLIDAY
        return WEEKEND if day.weekday() >= 5 else WORKDAY


@dataclass(frozen=True)
class Grid:
    """A regular time grid in UTC with its local (Asia/Shanghai) calendar attributes per step."""

    start: datetime  # UTC, aware
    step_s: int
    n: int
    days: tuple[date, ...]  # local dates covered, in order
    day_types: np.ndarray  # per local day

    @property
    def ts(self) -> np.ndarray:
        """UTC timestamps as datetime64[us]."""
        first = np.datetime64(self.start.replace(tzinfo=None), "us")
        return first + np.arange(self.n, dtype=np.int64) * np.timedelta64(self.step_s, "s")

    @property
    def local_hours(self) -> np.ndarray:
        """Fractional local hour of day (0–24) of each step."""
        seconds = (np.arange(self.n, dtype=np.int64) * self.step_s + self._local_offset_s) % 86400
        return seconds / 3600.0

    @property
    def day_index(self) -> np.ndarray:
        """Index into ``days`` of each step."""
        return ((np.arange(self.n, dtype=np.int64) * self.step_s + self._local_offset_s) // 86400).astype(
            np.int64
        )

    @property
    def _local_offset_s(self) -> int:
        local = self.start.astimezone(CST)
        return local.hour * 3600 + local.minute * 60 + local.second

    @property
    def step_day_types(self) -> np.ndarray:
        return self.day_types[self.day_index]


def make_grid(first_day: date, end: datetime, step_s: int) -> Grid:
    """Steps of ``step_s`` seconds from local midnight of ``first_day`` up to ``end`` (inclusive)."""
    start = datetime(first_day.year, first_day.month, first_day.day, tzinfo=CST)
    n = int((end - start).total_seconds() // step_s) + 1
    last_day = (start + timedelta(seconds=(n - 1) * step_s)).astimezone(CST).date()
    days = tuple(first_day + timedelta(days=i) for i in range((last_day - first_day).days + 1))
    types = np.array([day_type(d) for d in days], dtype=np.int8)
    return Grid(start.astimezone(timezone.utc), step_s, n, days, types)


def rng_for(seed: int, *keys: object) -> np.random.Generator:
    """A random generator for one part of the demo, stable whatever else is generated."""
    label = "/".join(str(k) for k in keys).encode("utf-8")
    return np.random.default_rng([seed, zlib.crc32(label)])
