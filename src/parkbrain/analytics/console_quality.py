"""The data-quality report for the console's data page: the last one computed, recomputed in the background.

A full report reads every raw reading (``analytics.quality``: seconds on a province), too slow for a
page. ``quality_snapshot`` answers at once with the last report of the park (or of all parks) and
its time, and starts one computation in a background thread when there is none yet, when the data
changed since (``data_version``: rows of every reported table, the latest readings, the imports) or
when it is older than ``MAX_AGE_S`` (timeliness depends on the clock). Until the first report is
ready the answer says ``computing``; the page asks again. Snapshots are kept per store and park.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from parkbrain.analytics.quality_rules import TABLES_ZH
from parkbrain.errors import ParkError
from parkbrain.store.base import Store

#: A report older than this is recomputed (in the background) even when the data did not change.
MAX_AGE_S = 600.0
#: A report younger than this is served as it is, even when the data changed (a streaming meter
#: changes it every second; the report takes seconds).
MIN_INTERVAL_S = 30.0
#: The most a caller may wait for a computation to finish (``wait_s``).
MAX_WAIT_S = 60.0


@dataclass
class _Snapshot:
    report: dict[str, Any] | None = None
    generated_at: datetime | None = None
    version: tuple[Any, ...] | None = None
    error: str | None = None
    done: threading.Event = field(default_factory=threading.Event)
    running: bool = False


_SNAPSHOTS: weakref.WeakKeyDictionary[Any, dict[str | None, _Snapshot]] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def quality_snapshot(
    store: Store,
    park_id: str | None,
    compute: Callable[[], dict[str, Any]],
    wait_s: float = 0.0,
    max_age_s: float = MAX_AGE_S,
    min_interval_s: float = MIN_INTERVAL_S,
) -> dict[str, Any]:
    """The last report of ``park_id`` (``compute()``: the report as a dict), refreshed in the background
    when missing, changed (at most once per ``min_interval_s``) or older than ``max_age_s``; ``wait_s`` seconds are spent waiting for a
    computation under way. Keys: ``status`` (ready | computing | error), ``generated_at``, ``age_s``,
    ``refreshing``, ``report`` and ``error``."""
    version = data_version(store)
    with _LOCK:
        snap = _SNAPSHOTS.setdefault(store, {}).setdefault(park_id, _Snapshot())
        if not snap.running and _stale(snap, version, max_age_s, min_interval_s):
            snap.running = True
            snap.done.clear()
            threading.Thread(
                target=_refresh, args=(snap, version, compute), name="parkbrain-quality", daemon=True
            ).start()
    if wait_s > 0 and snap.running:
        snap.done.wait(min(wait_s, MAX_WAIT_S))
    return _answer(snap)


def _stale(snap: _Snapshot, version: tuple[Any, ...], max_age_s: float, min_interval_s: float) -> bool:
    if snap.generated_at is None:
        return snap.error is None or snap.version != version
    age = (datetime.now(timezone.utc) - snap.generated_at).total_seconds()
    return (snap.version != version and age >= min_interval_s) or age > max_age_s


def _refresh(snap: _Snapshot, version: tuple[Any, ...], compute: Callable[[], dict[str, Any]]) -> None:
    try:
        report = compute()
        with _LOCK:
            snap.report, snap.error, snap.version = report, None, version
            snap.generated_at = _generated_at(report)
    except ParkError as exc:  # a domain error (the park was removed …): said, never a traceback
        with _LOCK:
            snap.error, snap.version = exc.message, version
    except Exception as exc:  # noqa: BLE001 - a background thread has nobody to raise to
        with _LOCK:
            snap.error, snap.version = f"{type(exc).__name__}: {exc}", version
    finally:
        with _LOCK:
            snap.running = False
            snap.done.set()


def _generated_at(report: dict[str, Any]) -> datetime:
    text = report.get("generated_at")
    return datetime.fromisoformat(text) if isinstance(text, str) else datetime.now(timezone.utc)


def _answer(snap: _Snapshot) -> dict[str, Any]:
    with _LOCK:
        status = "ready" if snap.report is not None else ("error" if snap.error else "computing")
        age = (
            round((datetime.now(timezone.utc) - snap.generated_at).total_seconds(), 1)
            if snap.generated_at
            else None
        )
        return {
            "status": status,
            "generated_at": snap.generated_at.isoformat() if snap.generated_at else None,
            "age_s": age,
            "refreshing": snap.running,
            "report": snap.report,
            "error": snap.error,
        }


def data_version(store: Store) -> tuple[Any, ...]:
    """What the report depends on, cheaply: the rows of every reported table (readings counted, the
    small tables hashed row by row), the latest reading of every point and the imports."""
    tables = set(store.table_names())
    parts = [
        f"SELECT '{t}' AS t, count(*) AS n, {'0' if t == 'readings' else 'bit_xor(hash(x))'} AS digest FROM {t} x"
        for t in sorted(set(TABLES_ZH) | {"imports"})
        if t in tables
    ]
    if "latest_readings" in tables:
        parts.append("SELECT 'latest', count(*), bit_xor(hash(point_id, ts, value)) FROM latest_readings")
    if not parts:
        return ()
    rows = store.query(" UNION ALL ".join(parts)).to_pylist()
    return tuple(sorted((r["t"], r["n"], r["digest"]) for r in rows))


def forget() -> None:
    """Drop every snapshot (tests and benchmarks measure the first computation)."""
    with _LOCK:
        _SNAPSHOTS.clear()


def wait_idle(timeout_s: float = MAX_WAIT_S, store: Store | None = None) -> bool:
    """Wait until no report (of ``store``, or of any) is being computed (True) or ``timeout_s``
    passes (False). A store must not be closed under a computation: ``Park.close`` waits here."""
    deadline = time.monotonic() + timeout_s
    while True:
        with _LOCK:
            stores = [_SNAPSHOTS.get(store) or {}] if store is not None else list(_SNAPSHOTS.values())
            running = [s for snaps in stores for s in snaps.values() if s.running]
        left = deadline - time.monotonic()
        if not running or left <= 0:
            return not running
        running[0].done.wait(left)
