"""Consumption for the console, memoised per process while the day rollups it reads are unchanged.

A console page asks for this month's (or this year's) consumption again and again, and almost all of
it lies in days that are over. ``consumption_rows`` splits ``[start, end)`` at the Asia/Shanghai
midnight of the latest reading and computes each half with ``analytics.energy``; each result is kept
under a fingerprint of the ``readings_1d`` rows of its days (count, readings, an order-free digest of
every row: hours and days are folded together, so a new reading, late data, an import or a rebuild
changes it and the half is computed again). While a meter streams, only the current day is
recomputed, once per fold, and the closed days are read from memory. The halves are added per
period, dimension and carrier (consumption is additive; a rollover bridging midnight belongs to the
day of the reading before it, as in ``analytics.energy``). Entries are per store and per selection
(the caller's scope is in the key). ``clear`` empties them (benchmarks measure the uncached cost).
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from parkbrain.analytics.console_parts import literal, local_midnight
from parkbrain.analytics.energy import DIMENSIONS, Consumption, Selection, compute_consumption
from parkbrain.store.base import Store

T = TypeVar("T")
#: The points whose readings consumption reads (a predicate over ``point_id``).
ENERGY_POINTS = "point_id IN (SELECT point_id FROM points WHERE energy_carrier IS NOT NULL)"
#: Results kept per store (least recently used dropped first).
CACHE_ENTRIES = 256

_CACHES: weakref.WeakKeyDictionary[Any, OrderedDict[tuple[Any, ...], Any]] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def consumption_rows(
    store: Store,
    selection: Selection,
    start: datetime,
    end: datetime,
    as_of: datetime,
    grain: str = "total",
    by: Sequence[str] = (),
) -> Consumption:
    """``compute_consumption(store, selection, start, end, grain, by)``, memoised in two halves: the
    days before the day of ``as_of``, and from it on."""
    today = local_midnight(as_of)
    if not start < today < end:
        return Consumption(_merge(_memoised(store, selection, start, end, grain, tuple(by)).rows, [], by))
    closed = _memoised(store, selection, start, today, grain, tuple(by))
    live = _memoised(store, selection, today, end, grain, tuple(by))
    return Consumption(_merge(closed.rows, live.rows, by), closed.notes or live.notes)


def _memoised(
    store: Store, selection: Selection, start: datetime, end: datetime, grain: str, by: tuple[str, ...]
) -> Consumption:
    key = ("consumption", selection.where_sql, selection.params, grain, by)
    return memoised(
        store, key, start, end, lambda: compute_consumption(store, selection, start, end, grain, by)
    )


def memoised(
    store: Store,
    key: tuple[Any, ...],
    start: datetime,
    end: datetime,
    compute: Callable[[], T],
    points: str = "TRUE",
) -> T:
    """``compute()`` — a read of the rollups of ``[start, end)`` — kept under ``key`` (which must name
    everything else it depends on: the caller's scope too) while the day rollups of the window are
    unchanged, those of the points ``points`` admits (SQL over ``point_id``, no parameters: readings
    of other points do not matter to it). The result is shared: callers must not change it."""
    full = (*_hashable(key), points, start, end, fingerprint(store, start, end, points))
    with _LOCK:
        cache = _CACHES.setdefault(store, OrderedDict())
        if full in cache:
            cache.move_to_end(full)
            return cache[full]
    result = compute()
    with _LOCK:
        cache[full] = result
        while len(cache) > CACHE_ENTRIES:
            cache.popitem(last=False)
    return result


def _hashable(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(_hashable(v) for v in value)
    return value


def clear() -> None:
    """Forget every memoised result."""
    with _LOCK:
        _CACHES.clear()


def entries(store: Store) -> int:
    """How many results are kept for ``store``."""
    with _LOCK:
        return len(_CACHES.get(store) or ())


def fingerprint(store: Store, start: datetime, end: datetime, points: str = "TRUE") -> tuple[Any, ...]:
    """What the day rollups of ``[start - 1 day, end)`` hold (a register reset is found from the
    day before the window): any reading added, changed or removed changes it; and the register of
    points, devices and parks (a meter's unit or carrier, a device's enterprise, a park's region)."""
    row = store.query_rows(
        f"""SELECT count(*) AS buckets, sum(n) AS n,
                   bit_xor(hash(point_id, bucket, n, sum, delta, first, last)) AS digest,
                   {_REGISTER}
            FROM readings_1d
            WHERE bucket >= {literal(start - timedelta(days=1))} AND bucket < {literal(end)} AND ({points})"""
    )[0]
    return tuple(row.values())


_REGISTER = """(SELECT bit_xor(hash(point_id, device_id, quantity, unit, value_kind, energy_carrier))
        FROM points) AS points_digest,
    (SELECT bit_xor(hash(device_id, park_id, enterprise_id, building_id)) FROM devices) AS devices_digest,
    (SELECT bit_xor(hash(enterprise_id, park_id, building_id)) FROM enterprises) AS enterprises_digest,
    (SELECT bit_xor(hash(park_id, region_code)) FROM parks) AS parks_digest"""


def _merge(a: list[dict[str, Any]], b: list[dict[str, Any]], by: Sequence[str]) -> list[dict[str, Any]]:
    """Rows of two windows added per period, dimensions and carrier."""
    dims = [DIMENSIONS[d] for d in by]
    out: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in [*a, *b]:
        key = (row.get("period"), *(row.get(d) for d in dims), row["carrier"], row["unit"])
        if key in out:
            merged = out[key]
            merged["amount"] = (merged["amount"] or 0.0) + (row["amount"] or 0.0)
            merged["points"] = max(merged.get("points") or 0, row.get("points") or 0)
        else:
            out[key] = dict(row)
    return list(out.values())
