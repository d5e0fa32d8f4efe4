"""Keeps the console warm while a server runs: the first page after a start or an import is fast too.

A console page computed for the first time pays for more than its queries: the modules and unit
registry it loads, the rollup blocks DuckDB reads from disk, and the consumption and AQI it memoises
(``console_cache``). ``ConsoleWarmer`` does that work in a background thread: at server start, then
whenever the data the console reads changed (``version``: a digest of this month's day rollups and
of the register of points, devices, enterprises and parks), looking every ``interval_s`` seconds.
What it computes is the caller's business (``Park.console_warm_up``: the province page and each
park's page, under the scopes their users have); the warmer only schedules it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from parkbrain.analytics.console_cache import fingerprint
from parkbrain.analytics.console_parts import local_midnight, month_start
from parkbrain.model.timeutil import now_utc
from parkbrain.store.base import Store

#: How often the warmer looks for changed data (seconds).
INTERVAL_S = 15.0

log = logging.getLogger(__name__)


def console_version(store: Store) -> tuple[Any, ...]:
    """What the warmed pages depend on: the day rollups of the month of the latest reading (a day
    before it too) and the register (``console_cache.fingerprint``)."""
    row = store.query_rows("SELECT max(ts) AS ts FROM latest_readings")
    latest = row[0]["ts"] if row and row[0]["ts"] is not None else now_utc()
    start = month_start(latest) - timedelta(days=1)
    return fingerprint(store, start, local_midnight(latest, 2))


class ConsoleWarmer:
    """Runs ``warm(stopping)`` in a daemon thread at start and whenever ``version()`` changes;
    ``stopping()`` turns true when the warmer is stopped (a long warm-up ends early)."""

    def __init__(
        self,
        warm: Callable[[Callable[[], bool]], Any],
        version: Callable[[], Any],
        interval_s: float = INTERVAL_S,
    ) -> None:
        self._warm = warm
        self._version = version
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.rounds = 0  # completed warm-ups (tests and the benchmark read it)
        self.warmed = threading.Event()  # set after the first warm-up

    def start(self) -> ConsoleWarmer:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="parkbrain-console-warm", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def _run(self) -> None:
        seen: Any = object()
        while not self._stop.is_set():
            try:
                current = self._version()
                if current != seen:
                    self._warm(self._stop.is_set)
                    seen = current
                    self.rounds += 1
            except Exception:  # noqa: BLE001 - a warm-up that fails leaves the pages to compute themselves
                log.warning("console warm-up failed", exc_info=True)
            self.warmed.set()
            self._stop.wait(self._interval_s)
