"""Monthly energy forecasts of an enterprise or a park, forecast against actual, and the alert raised when
the actual consumption runs far from the forecast.

Daily consumption of one carrier comes from ``energy.compute_consumption`` (the day rollups, one
set-based query). Each day of the month that has passed is forecast day-ahead from the days before it
(the day-type median of ``forecast.py``, Chinese holidays) and set beside its actual; the days still to
come are forecast from today. Totals: ``forecast_at_month_start`` (None without history before the
month), ``forecast_to_date`` and ``actual_to_date`` (over the same days), ``outlook_total`` (actual so
far + forecast of the rest).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from parkbrain.analytics.alert_engine import alert_id
from parkbrain.analytics.energy import Selection, compute_consumption
from parkbrain.analytics.forecast import DEFAULT_PARAMS, day_types, forecast_days, horizon_margins, widen
from parkbrain.errors import InvalidInput
from parkbrain.model.timeutil import CST
from parkbrain.store.base import Store

HISTORY_DAYS = 120


@dataclass(frozen=True)
class DeviationRule:
    """Actual consumption of the month so far off the month-start forecast for the same days."""

    rule: str = "energy_forecast_deviation"
    threshold: float = 0.3  # |actual / forecast - 1| above this opens an alert
    min_days: int = 3  # days of the month that must have passed
    severity: str = "warning"
    source: str = "ParkBrain planning rule (forecast vs actual); the threshold is a park setting"


FORECAST_DEVIATION = DeviationRule()


def _daily(
    store: Store, selection: Selection, carrier: str, start: date, end: date, by: str | None
) -> tuple[pd.DataFrame, dict[str, dict[str, Any]], str]:
    """(days x subjects of daily amounts, each subject's ids and name, the unit) in one query."""
    lo = datetime(start.year, start.month, start.day, tzinfo=CST)
    hi = datetime(end.year, end.month, end.day, tzinfo=CST)
    dims = ("park", "enterprise") if by == "enterprise" else ("park",)
    rows = compute_consumption(store, selection, lo, hi, "day", dims).rows
    rows = [r for r in rows if r["carrier"] == carrier and (by != "enterprise" or r.get("enterprise_id"))]
    if not rows:
        raise InvalidInput(f"no {carrier} consumption in scope between {start} and {end}")
    frame = pd.DataFrame(rows)
    key = "enterprise_id" if by == "enterprise" else "park_id"
    if by is None:
        frame[key] = "all"
    subjects = {
        k: {
            "park_id": None if by is None else g["park_id"].iloc[0],
            "enterprise_id": k if by == "enterprise" else None,
            "name": k if by is None else g[f"{by}_name"].iloc[0] or k,
        }
        for k, g in frame.groupby(key)
    }
    table = frame.pivot_table(index="period", columns=key, values="amount", aggfunc="sum")
    index = pd.date_range(start, end - timedelta(days=1), freq="D")
    return table.set_axis(pd.to_datetime(table.index)).reindex(index), subjects, rows[0]["unit"]


def _forecast(history: pd.DataFrame, targets: list[date], holidays: str) -> np.ndarray:
    """(3, target days, subjects): the median and the interval, calibrated per subject and days ahead
    (``forecast.horizon_margins``; targets are the days right after the history)."""
    params = replace(DEFAULT_PARAMS, holidays=holidays)
    values = history.to_numpy(dtype=float)
    types = day_types([d.date() for d in history.index], holidays)
    pred = forecast_days(values, types, day_types(targets, holidays), params)
    return widen(pred, horizon_margins(values, types, len(targets), params, per_column=True))


def compute_month_forecasts(
    store: Store,
    selection: Selection,
    carrier: str,
    today: date,
    by: str | None = None,
    holidays: str = "cn",
) -> list[dict[str, Any]]:
    """The forecast of ``today``'s month against the actual days before ``today`` (Asia/Shanghai), for all
    selected points together (``by=None``), or per ``enterprise`` or ``park``."""
    if by not in (None, "enterprise", "park"):
        raise InvalidInput(f"by: expected enterprise or park; got {by!r}")
    first = today.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    daily, subjects, unit = _daily(store, selection, carrier, first - timedelta(days=HISTORY_DAYS), today, by)
    month_days = [first + timedelta(days=i) for i in range((following - first).days)]
    actual = daily[daily.index >= pd.Timestamp(first)].to_numpy(dtype=float)
    done = len(actual)
    # each past day forecast day-ahead from the days before it; the days to come from today
    parts = [_forecast(daily[daily.index < pd.Timestamp(d)], [d], holidays) for d in month_days[:done]]
    if done < len(month_days):
        parts.append(_forecast(daily, month_days[done:], holidays))
    per_day = np.concatenate(parts, axis=1)  # (3, month days, subjects)
    at_start = _forecast(daily[daily.index < pd.Timestamp(first)], month_days, holidays)[0]
    out = []
    for j, key in enumerate(daily.columns):
        days = [
            {
                "day": d.isoformat(),
                "forecast": _num(per_day[0, i, j]),
                "lower": _num(per_day[1, i, j]),
                "upper": _num(per_day[2, i, j]),
                "actual": _num(actual[i, j]) if i < done else None,
            }
            for i, d in enumerate(month_days)
        ]
        seen = ~np.isnan(actual[:, j]) & ~np.isnan(per_day[0, :done, j])
        actual_sum = float(np.nansum(actual[:, j]))
        out.append(
            {
                **subjects[key],
                "carrier": carrier,
                "unit": unit,
                "month": first.isoformat()[:7],
                "days_done": done,
                "forecast_at_month_start": _num(np.sum(at_start[:, j])),
                "forecast_to_date": _num(per_day[0, :done, j][seen].sum()),
                "actual_to_date": _num(actual[:, j][seen].sum()),
                "outlook_total": _num(actual_sum + np.nansum(per_day[0, done:, j])),
                "days": days,
            }
        )
    return out


def deviation_alert(
    result: dict[str, Any], rule: DeviationRule = FORECAST_DEVIATION
) -> dict[str, Any] | None:
    """The alert row when the month's actual runs off its forecast by more than the rule allows, else None."""
    subject = result
    forecast, actual = result["forecast_to_date"], result["actual_to_date"]
    if result["days_done"] < rule.min_days or not forecast:
        return None
    ratio = actual / forecast - 1
    if abs(ratio) <= rule.threshold:
        return None
    key = f"{subject['enterprise_id'] or subject['park_id']}:{result['carrier']}:{result['month']}"
    month_start = datetime.fromisoformat(result["month"] + "-01").replace(tzinfo=CST)
    word = "高于" if ratio > 0 else "低于"
    return {
        "alert_id": alert_id(rule.rule, key, int(month_start.timestamp() * 1_000_000)),
        "ts": month_start,
        "park_id": subject["park_id"],
        "enterprise_id": subject["enterprise_id"],
        "device_id": None,
        "point_id": None,
        "rule": rule.rule,
        "severity": rule.severity,
        "message": f"{subject['name']} {result['month']} {result['carrier']} 用量 {actual:.0f} {result['unit']}，"
        f"{word}预测 {forecast:.0f}（{ratio:+.0%}）/ consumption {ratio:+.0%} off the forecast",
        "status": "open",
        "value": round(ratio, 4),
    }


def _num(value: Any) -> float | None:
    value = float(value)
    return None if np.isnan(value) else round(value, 3)
