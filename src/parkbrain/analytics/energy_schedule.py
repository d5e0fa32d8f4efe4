"""Scheduled energy & carbon reports: the schedule as data, when it is due, and the thread that runs it.

``MONTHLY`` runs on day 1 at 08:00 Asia/Shanghai for the previous month, for every park and every key
energy user (重点用能单位), as .xlsx and .csv. ``ReportScheduler`` is a small daemon thread that asks a
callback to run what is due every ``poll_s`` seconds; the clock is injected (``now``), so a test runs it
"at" a due time. What to generate and where is ``Park.run_scheduled_reports`` (facets/energy.py).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReportSchedule:
    """Monthly on ``day`` at ``hour`` (``tz``) for the previous month."""

    name: str = "monthly"
    day: int = 1
    hour: int = 8
    tz: str = "Asia/Shanghai"
    subjects: tuple[str, ...] = ("park", "key_energy_user")
    formats: tuple[str, ...] = ("xlsx", "csv")
    catch_up_days: int = 7  # a server that was down at the run time catches up within this many days

    def due_period(self, now: datetime) -> tuple[datetime, datetime] | None:
        """The month whose reports are due at ``now`` — the latest run time not after it, if it is at
        most ``catch_up_days`` old — as [start, end) in UTC; None when nothing is due."""
        local = now.astimezone(ZoneInfo(self.tz))
        month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        run = month_start.replace(day=self.day, hour=self.hour)
        if local < run:  # this month's run has not come yet: the previous run is the latest
            month_start = _add_months(month_start, -1)
            run = month_start.replace(day=self.day, hour=self.hour)
        if (local - run).days >= self.catch_up_days:
            return None
        start = _add_months(month_start, -1)
        return start.astimezone(timezone.utc), month_start.astimezone(timezone.utc)


MONTHLY = ReportSchedule()


def _add_months(t: datetime, months: int) -> datetime:
    y, m = divmod(t.year * 12 + t.month - 1 + months, 12)
    return t.replace(year=y, month=m + 1)


def report_id(schedule: str | None, kind: str, subject_id: str, period: str, fmt: str) -> str:
    """The stable id of a report file (a schedule that runs twice writes it once)."""
    key = "\x1f".join([schedule or "on-demand", kind, subject_id, period, fmt])
    return "R-" + hashlib.sha1(key.encode()).hexdigest()[:20]


def file_name(kind: str, subject_id: str, period: str, fmt: str) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in subject_id)
    return f"energy-{kind}-{safe}-{period}.{fmt}"


class ReportScheduler:
    """Calls ``run(now, stopping)`` every ``poll_s`` seconds (the first time after ``first_s``) in a
    daemon thread until ``stop()``; ``stopping()`` tells a long run to end early."""

    def __init__(
        self,
        run: Callable[[datetime, Callable[[], bool]], object],
        poll_s: float = 300.0,
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
        first_s: float = 60.0,
    ) -> None:
        self._run, self._poll_s, self._clock, self._first_s = run, poll_s, clock, first_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="parkbrain-reports", daemon=True)

    def start(self) -> ReportScheduler:
        self._thread.start()
        return self

    def tick(self) -> object:
        """Run once now (by the injected clock)."""
        return self._run(self._clock(), self._stop.is_set)

    def _loop(self) -> None:
        if self._stop.wait(self._first_s):
            return
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # a failed run is logged and retried at the next tick
                log.exception("scheduled reports failed")
            self._stop.wait(self._poll_s)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
