"""Consumption for the console, with the closed days memoised per process.

A console page asks for this month's (or this year's) consumption again and again, and almost all of
it lies in days that are over. ``consumption_rows`` splits ``[start, end)`` at the Asia/Shanghai
midnight of the latest reading: the days before it are computed once (``analytics.energy``) and kept
while the ``readings_1d`` rollups of those days are unchanged — the key holds a fingerprint of them
(rows, readings, an order-free digest of every row), so late data, an import or a rebuild recomputes them; the current day is
always computed fresh. Both halves are added per period, dimension and carrier (consumption is
additive; a rollover bridging midnight belongs to the day of the reading before it, as in
``analytics.energy``). Entries are per store and per selection (the caller's scope is in the key).
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from parkbrain.analytics.console_parts import literal, local_midnight
from parkbrain.analytics.energy import DIMENSIONS, Consumption, Selection, compute_consumption
from parkbrain.store.base import Store

#: Closed-day results kept per store (least recently used dropped first).
CACHE_ENTRIES = 256

_CACHES: weakref.WeakKeyDictionary[Any, OrderedDict[tuple[Any, ...], Consumption]] = (
    weakref.WeakKeyDictionary()
)
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
    """``compute_consumption(store, selection, start, end, grain, by)``, its closed days memoised."""
    today = local_midnight(as_of)
    if not start < today < end:
        return compute_consumption(store, selection, start, end, grain, by)
    closed = _closed_days(store, selection, start, today, grain, tuple(by))
    live = compute_consumption(store, selection, today, end, grain, by)
    return Consumption(_merge(closed.rows, live.rows, by), closed.notes or live.notes)


def _closed_days(
    store: Store, selection: Selection, start: datetime, end: datetime, grain: str, by: tuple[str, ...]
) -> Consumption:
    params = tuple(tuple(v) if isinstance(v, list) else v for v in selection.params)
    key = (selection.where_sql, params, start, end, grain, by, _fingerprint(store, start, end))
    with _LOCK:
        cache = _CACHES.setdefault(store, OrderedDict())
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
    result = compute_consumption(store, selection, start, end, grain, by)
    with _LOCK:
        cache[key] = result
        while len(cache) > CACHE_ENTRIES:
            cache.popitem(last=False)
    return result


def _fingerprint(store: Store, start: datetime, end: datetime) -> tuple[Any, ...]:
    """What the day rollups of ``[start - 1 day, end)`` hold (a register reset is found from the
    day before the window): any reading added, changed or removed changes it."""
    row = store.query_rows(
        f"""SELECT count(*) AS buckets, sum(n) AS n,
                   bit_xor(hash(point_id, bucket, n, sum, delta, first, last)) AS digest
            FROM readings_1d
            WHERE bucket >= {literal(start - timedelta(days=1))} AND bucket < {literal(end)}"""
    )[0]
    return tuple(row.values())


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
