"""The server's periodic check of overdue maintenance: a daemon thread that calls a check on a clock.

``MaintenanceWatch(check, interval_s, clock)`` calls ``check(clock())`` once when started (before
``start`` returns) and then every ``interval_s`` seconds on a daemon thread until stopped; ``run_once()`` is the same call, for tests and for callers that
keep their own schedule. A failing check is logged and retried at the next tick: a bad plan never
stops the server. ``check`` is ``Park.check_maintenance`` of the local system in ``parkbrain serve``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from parkbrain.model.timeutil import now_utc

#: How often ``parkbrain serve`` checks maintenance plans (a due time is a day, not a second).
CHECK_INTERVAL_S = 600.0

log = logging.getLogger("parkbrain.maintenance")


class MaintenanceWatch:
    """Calls ``check(now)`` every ``interval_s`` seconds on a daemon thread."""

    def __init__(
        self,
        check: Callable[[datetime], Any],
        interval_s: float = CHECK_INTERVAL_S,
        clock: Callable[[], datetime] = now_utc,
    ) -> None:
        if interval_s <= 0:
            raise ValueError(f"interval_s must be positive; got {interval_s}")
        self.check = check
        self.interval_s = interval_s
        self.clock = clock
        self.runs = 0
        self.raised = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> list[Any]:
        """One check at ``clock()``; returns what it raised (nothing when it failed, which is logged)."""
        try:
            raised = list(self.check(self.clock()) or [])
        except Exception:  # noqa: BLE001 - keep the server up; the next tick retries
            log.exception("maintenance check failed")
            raised = []
        self.runs += 1
        self.raised += len(raised)
        if raised:
            log.info("maintenance check raised %d overdue alert(s)", len(raised))
        return raised

    def start(self) -> MaintenanceWatch:
        """Check once now (so a server answers only after it), then every ``interval_s`` on a thread."""
        self.run_once()
        self._thread = threading.Thread(target=self._loop, name="parkbrain-maintenance", daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.run_once()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
