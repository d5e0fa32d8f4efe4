"""Energy and carbon per period and dimension, with 同比 (same period last year) and 环比 (previous period).

``compute_energy_summary`` reads one window that starts a year before ``start`` (one query over the
rollups), accounts every row (tce, tCO2) and then matches each row of ``[start, end)`` with the row of
the same dimensions and carrier one period and one year earlier. Changes are relative (0.1 = +10 %).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from parkbrain.analytics.energy import (
    DIMENSIONS,
    Accounting,
    Selection,
    account,
    change,
    compute_consumption,
    previous_window,
    shift_year,
    totals,
)
from parkbrain.store.base import Store


def compute_energy_summary(
    store: Store,
    selection: Selection,
    start: datetime,
    end: datetime,
    acc: Accounting,
    grain: str = "month",
    by: Sequence[str] = (),
) -> dict[str, Any]:
    """Rows of period × ``by`` × carrier with amount, unit, tce, tco2, ``yoy`` and ``mom`` (on tce and
    amount); totals of the window; the coefficients and factors used."""
    if grain == "total":
        return _total_summary(store, selection, start, end, acc, by)
    usage = compute_consumption(store, selection, shift_year(start), end, grain, by)
    rows, used = account(usage.rows, acc)
    index = {_key(r, by): r for r in rows}
    current = [r for r in rows if r["period"] >= start_date(start)]
    for r in current:
        prev = index.get(_key(r, by, _step(r["period"], grain, -1)))
        last = index.get(_key(r, by, _step(r["period"], "year", -1)))
        r["mom_tce"], r["mom_amount"] = _changes(r, prev)
        r["yoy_tce"], r["yoy_amount"] = _changes(r, last)
    return {"rows": current, "totals": totals(current), **used, "notes": usage.notes}


def _total_summary(
    store: Store, selection: Selection, start: datetime, end: datetime, acc: Accounting, by: Sequence[str]
) -> dict[str, Any]:
    windows = {
        "cur": (start, end),
        "mom": previous_window(start, end),
        "yoy": (shift_year(start), shift_year(end)),
    }
    accounted = {}
    used: dict[str, Any] = {}
    notes: list[str] = []
    for name, (s, e) in windows.items():
        usage = compute_consumption(store, selection, s, e, "total", by)
        accounted[name], u = account(usage.rows, acc)
        used = used or u
        notes = notes or usage.notes
    earlier = {n: {_key(r, by): r for r in accounted[n]} for n in ("mom", "yoy")}
    for r in accounted["cur"]:
        r["mom_tce"], r["mom_amount"] = _changes(r, earlier["mom"].get(_key(r, by)))
        r["yoy_tce"], r["yoy_amount"] = _changes(r, earlier["yoy"].get(_key(r, by)))
    return {"rows": accounted["cur"], "totals": totals(accounted["cur"]), **used, "notes": notes}


def start_date(t: datetime) -> date:
    from parkbrain.model.timeutil import PARK_TZ

    return t.astimezone(PARK_TZ).date()


def _key(row: dict[str, Any], by: Sequence[str], period: date | None = None) -> tuple[Any, ...]:
    dims = tuple(row.get(DIMENSIONS[d]) for d in by)
    return (period if period is not None else row.get("period"), *dims, row["carrier"])


def _step(period: date, grain: str, n: int) -> date:
    if grain == "day":
        return date.fromordinal(period.toordinal() + n)
    if grain == "month":
        y, m = divmod(period.year * 12 + period.month - 1 + n, 12)
        return period.replace(year=y, month=m + 1)
    try:
        return period.replace(year=period.year + n)
    except ValueError:  # 29 February
        return period.replace(year=period.year + n, day=28)


def _changes(row: dict[str, Any], earlier: dict[str, Any] | None) -> tuple[float | None, float | None]:
    if earlier is None:
        return None, None
    return change(row["tce"], earlier["tce"]), change(row["amount"], earlier["amount"])
