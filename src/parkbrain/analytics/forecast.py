"""Load and consumption forecasts with intervals: day-type profiles of recent history.

A series is laid out as a matrix of days x slots of the day (96 for 15 min, 24 for 1 h, 1 for 1 d). The
forecast of a slot of a target day is the **median** of the same slot over the last ``history_days`` days
of the same day type (workday / Saturday / Sunday or public holiday) before the forecast origin; the
interval is the ``(1 - interval) / 2`` and ``(1 + interval) / 2`` quantiles of the same values. Medians
are robust to the outages and spikes of factory loads, and the same origin serves any horizon from a day
to a month ahead. Chinese public holidays and make-up workdays (调休) come from ``chinese-calendar`` when
``holidays="cn"``.

The backtest is rolling-origin, day-ahead: for each day from ``first_day`` on, the forecast uses only the
days before it. It is scored against the seasonal-naive forecast (the same slot one week earlier):
``mase`` = MAE of the forecast / MAE of the seasonal-naive forecast on the same targets, and
``mase_insample`` = MAE / in-sample MAE of the one-week seasonal difference before the first origin
(Hyndman & Koehler 2006).
"""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from parkbrain.errors import InvalidInput

WORKDAY, SATURDAY, SUNDAY_OR_HOLIDAY = 0, 5, 6


@dataclass(frozen=True)
class ForecastParams:
    """One set of parameters for every point (chosen on the steel plant's first half-year)."""

    history_days: int = 15  # same-type days whose median is the forecast
    interval: float = (
        0.9  # central quantile range of the history (measured coverage on the steel plant: 77 %)
    )
    holidays: str = "none"  # "cn": Chinese public holidays and make-up workdays; "none": weekdays only


DEFAULT_PARAMS = ForecastParams()


@dataclass(frozen=True)
class DayMatrix:
    """A regular series as days x slots (NaN where missing)."""

    days: list[date]
    values: np.ndarray
    slot: timedelta
    tz: object


def day_types(days: list[date], holidays: str = "none") -> np.ndarray:
    """0 workday, 5 Saturday, 6 Sunday or public holiday (and Chinese make-up workdays are workdays)."""
    if holidays not in ("none", "cn"):
        raise InvalidInput(f"holidays {holidays!r}: expected 'none' or 'cn'")
    weekday = np.array([d.weekday() for d in days])
    types = np.where(weekday < 5, WORKDAY, np.where(weekday == 5, SATURDAY, SUNDAY_OR_HOLIDAY))
    if holidays == "cn":
        import chinese_calendar

        for i, d in enumerate(days):
            with contextlib.suppress(NotImplementedError):  # a year it does not cover: weekdays only
                holiday_name = chinese_calendar.get_holiday_detail(d)[1]
                if chinese_calendar.is_workday(d):
                    types[i] = WORKDAY
                elif holiday_name is not None:  # a statutory holiday (a Saturday in it too)
                    types[i] = SUNDAY_OR_HOLIDAY
    return types


def to_day_matrix(series: pd.Series, slot: timedelta) -> DayMatrix:
    """Lay a series indexed by interval start (tz-aware or naive) out as days x slots."""
    if series.empty:
        raise InvalidInput("forecast: the series has no values")
    per_day = int(timedelta(days=1) / slot)
    if per_day < 1 or timedelta(days=1) % slot:
        raise InvalidInput(f"forecast: interval {slot} does not divide a day")
    index = pd.DatetimeIndex(series.index)
    start = index.min().normalize()
    pos = ((index - start) / pd.Timedelta(slot)).astype(int)
    n_days = int(pos.max()) // per_day + 1
    values = np.full(n_days * per_day, np.nan)
    values[pos] = series.to_numpy(dtype=float)
    days = [(start + pd.Timedelta(days=i)).date() for i in range(n_days)]
    return DayMatrix(days, values.reshape(n_days, per_day), slot, index.tz)


def _profile(history: np.ndarray, quantiles: tuple[float, float, float]) -> np.ndarray:
    if len(history) == 0 or np.isnan(history).all():
        return np.full((3, history.shape[1]), np.nan)
    with warnings.catch_warnings():  # slots without any value stay NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanquantile(history, quantiles, axis=0)


def forecast_days(
    values: np.ndarray,
    hist_types: np.ndarray,
    target_types: np.ndarray,
    params: ForecastParams = DEFAULT_PARAMS,
) -> np.ndarray:
    """(3, target days, slots): median, lower and upper bound of each target day from ``values`` (days x slots)."""
    q = (0.5, (1 - params.interval) / 2, (1 + params.interval) / 2)
    out = np.empty((3, len(target_types), values.shape[1]))
    for i, t in enumerate(target_types):
        same = np.flatnonzero(hist_types == t)[-params.history_days :]
        if len(same) == 0:  # no day of that type yet: fall back on all recent days
            same = np.arange(len(values))[-params.history_days :]
        out[:, i, :] = _profile(values[same], q)
    return out


def compute_forecast(
    series: pd.Series,
    slot: timedelta,
    horizon_days: int = 1,
    params: ForecastParams = DEFAULT_PARAMS,
) -> pd.DataFrame:
    """Forecast the ``horizon_days`` whole days after the last day of ``series`` (indexed by interval start).

    Returns ``ts`` (interval start), ``forecast``, ``lower``, ``upper`` (None for slots never seen).
    """
    if not 1 <= horizon_days <= 31:
        raise InvalidInput(f"horizon {horizon_days} days: expected 1 to 31")
    m = to_day_matrix(series, slot)
    seen = np.flatnonzero((~np.isnan(m.values)).any(axis=0))  # slots any day has a value in
    last_full = len(m.days) if not np.isnan(m.values[-1, seen[-1]]) else len(m.days) - 1
    hist_days = m.days[:last_full]
    if not hist_days:
        raise InvalidInput("forecast: needs at least one whole day of history")
    targets = [hist_days[-1] + timedelta(days=i) for i in range(1, horizon_days + 1)]
    f = forecast_days(
        m.values[:last_full],
        day_types(hist_days, params.holidays),
        day_types(targets, params.holidays),
        params,
    )
    start = pd.Timestamp(targets[0])
    if m.tz is not None:
        start = start.tz_localize(m.tz)
    ts = pd.date_range(start, periods=f.shape[1] * f.shape[2], freq=pd.Timedelta(slot))
    values = pd.DataFrame({"forecast": f[0].ravel(), "lower": f[1].ravel(), "upper": f[2].ravel()}).round(6)
    values = values.astype(object).where(values.notna(), None)
    return pd.concat([pd.DataFrame({"ts": ts}), values], axis=1)


@dataclass(frozen=True)
class Backtest:
    """Rolling-origin, day-ahead backtest figures."""

    days: int
    mae: float
    mae_seasonal_naive: float
    mase: float
    mase_insample: float
    mase_insample_seasonal_naive: float
    interval_coverage: float


def compute_backtest(
    series: pd.Series, slot: timedelta, first_day: int = 56, params: ForecastParams = DEFAULT_PARAMS
) -> Backtest:
    """Day-ahead forecasts of every day from ``first_day`` on, each from the days before it only."""
    m = to_day_matrix(series, slot)
    types = day_types(m.days, params.holidays)
    if not 7 < first_day < len(m.days):
        raise InvalidInput(
            f"backtest: first day {first_day} must be after the first week and within {len(m.days)} days"
        )
    preds = np.stack(
        [
            forecast_days(m.values[:d], types[:d], types[d : d + 1], params)[:, 0, :]
            for d in range(first_day, len(m.days))
        ],
        axis=1,
    )
    actual = m.values[first_day:]
    naive = m.values[first_day - 7 : len(m.days) - 7]
    ok = ~(np.isnan(actual) | np.isnan(naive) | np.isnan(preds[0]))
    err, err_naive = np.abs(preds[0] - actual)[ok], np.abs(naive - actual)[ok]
    flat = m.values[:first_day].ravel()
    per_week = 7 * m.values.shape[1]
    scale = float(np.nanmean(np.abs(flat[per_week:] - flat[:-per_week])))
    inside = (actual >= preds[1]) & (actual <= preds[2])
    return Backtest(
        days=len(m.days) - first_day,
        mae=round(float(err.mean()), 4),
        mae_seasonal_naive=round(float(err_naive.mean()), 4),
        mase=round(float(err.mean() / err_naive.mean()), 4),
        mase_insample=round(float(err.mean() / scale), 4),
        mase_insample_seasonal_naive=round(float(err_naive.mean() / scale), 4),
        interval_coverage=round(float(inside[ok].mean()), 4),
    )


def series_from_readings(table: Any, value_kind: str) -> pd.Series:
    """A point's rolled-up readings (``ts``, ``value`` = mean, ``n``, ``delta``) as the series to forecast:
    consumption per bucket for cumulative (``delta``) and interval (``value × n``) points, the mean otherwise.
    Buckets are shown in Asia/Shanghai, so days are local days."""
    frame = table.to_pandas() if hasattr(table, "to_pandas") else pd.DataFrame(table)
    if frame.empty:
        raise InvalidInput("forecast: the point has no readings in the history window")
    if value_kind == "cumulative":
        values = frame["delta"]
    elif value_kind == "interval":
        values = frame["value"] * frame["n"]
    else:
        values = frame["value"]
    ts = pd.DatetimeIndex(pd.to_datetime(frame["ts"], utc=True)).tz_convert("Asia/Shanghai")
    return pd.Series(values.to_numpy(dtype=float), index=ts).dropna()
