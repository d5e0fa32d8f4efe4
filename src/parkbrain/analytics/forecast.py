"""Load and consumption forecasts with intervals: day-type profiles of recent history.

A series is laid out as a matrix of days x slots of the day (96 for 15 min, 24 for 1 h, 1 for 1 d). The
forecast of a slot of a target day is the **median** of the same slot over the last ``history_days`` days
of the same day type (workday / Saturday / Sunday or public holiday) before the forecast origin. Medians
are robust to the outages and spikes of factory loads, and the same origin serves any horizon from a day
to a month ahead. Chinese public holidays and make-up workdays (调休) come from ``chinese-calendar`` when
``holidays="cn"``.

The interval starts from the ``(1 - interval) / 2`` and ``(1 + interval) / 2`` quantiles of the same
values and is calibrated by conformalized quantile regression (Romano, Patterson & Candès 2019) on
rolling origins: for each number of days ahead *h*, the last ``calibration_days`` days of history are
forecast *h* days before each of them from the days before that origin, the score of each slot is how far
the actual lay outside its bounds (negative inside), and both bounds move out (or in) by the
``interval × (1 + 1/n)`` quantile of those scores. Uncalibrated, the quantiles of 15 past days held only
77 % of the steel plant's actuals for a nominal 90 %.

The backtest is rolling-origin, day-ahead: for each day from ``first_day`` on, the forecast uses only the
days before it. It is scored against the seasonal-naive forecast (the same slot one week earlier):
``mase`` = MAE of the forecast / MAE of the seasonal-naive forecast on the same targets, and
``mase_insample`` = MAE / in-sample MAE of the one-week seasonal difference before the first origin
(Hyndman & Koehler 2006).
"""

from __future__ import annotations

import contextlib
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
    interval: float = 0.9  # nominal coverage (steel plant, calibrated: 89.9 %; raw quantiles: 76.8 %)
    calibration_days: int = 28  # rolling-origin forecasts that calibrate the interval (0: raw quantiles)
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


def nan_quantiles(history: np.ndarray, quantiles: tuple[float, ...]) -> np.ndarray:
    """(quantiles, columns): ``np.nanquantile(history, quantiles, axis=0)`` (linear interpolation) without
    its per-column loop; NaN where a column has no value."""
    ordered = np.sort(history, axis=0)  # NaN sort last
    count = (~np.isnan(history)).sum(axis=0)
    out = np.full((len(quantiles), history.shape[1]), np.nan)
    has = count > 0
    cols = np.flatnonzero(has)
    for k, q in enumerate(quantiles):
        pos = q * (count[has] - 1)
        lo = np.floor(pos).astype(int)
        hi = np.minimum(lo + 1, count[has] - 1)
        frac = pos - lo
        out[k, cols] = ordered[lo, cols] * (1 - frac) + ordered[hi, cols] * frac
    return out


def _profile(history: np.ndarray, quantiles: tuple[float, float, float]) -> np.ndarray:
    if len(history) == 0:
        return np.full((3, history.shape[1]), np.nan)
    return nan_quantiles(history, quantiles)


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


def conformity(pred: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """Per slot, how far ``actual`` lay outside the bounds ``pred[1]``..``pred[2]`` (negative inside)."""
    return np.maximum(pred[1] - actual, actual - pred[2])


def conformal_margin(scores: np.ndarray, coverage: float) -> float:
    """The amount both bounds move out so that a share ``coverage`` of the scored slots would have been
    inside (0 where there are no scores)."""
    scores = scores[~np.isnan(scores)]
    if not len(scores):
        return 0.0
    return float(np.quantile(scores, min(1.0, coverage * (1 + 1 / len(scores)))))


def column_margins(scores: np.ndarray, coverage: float) -> np.ndarray:
    """``conformal_margin`` of each column of ``scores`` (rows x columns), vectorised."""
    if not len(scores):
        return np.zeros(scores.shape[1])
    n = (~np.isnan(scores)).sum(axis=0)
    pos = np.minimum(1.0, coverage * (1 + 1 / np.maximum(n, 1))) * np.maximum(n - 1, 0)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, np.maximum(n - 1, 0))
    ordered, cols = np.sort(scores, axis=0), np.arange(scores.shape[1])
    margin = ordered[lo, cols] * (1 - (pos - lo)) + ordered[hi, cols] * (pos - lo)
    return np.where(n > 0, margin, 0.0)


def widen(pred: np.ndarray, margin: np.ndarray | float) -> np.ndarray:
    """Move the bounds of ``pred`` (median, lower, upper) out by ``margin``, never past the median."""
    lower = np.minimum(pred[1] - margin, pred[0])
    upper = np.maximum(pred[2] + margin, pred[0])
    return np.stack([pred[0], lower, upper])


def horizon_margins(
    values: np.ndarray,
    types: np.ndarray,
    horizon: int,
    params: ForecastParams = DEFAULT_PARAMS,
    per_column: bool = False,
) -> np.ndarray:
    """(days ahead, columns): the conformal margin for 1 … ``horizon`` days ahead, from the last
    ``calibration_days`` days of ``values`` (days x columns) each forecast that many days before, from the
    days before that origin only (origins after a week). The columns (the slots of one series) share a
    margin, or each has its own (``per_column``: separate series such as enterprises)."""
    n, cols = values.shape
    out = np.zeros((horizon, cols))
    seen: dict[tuple[int, int], np.ndarray] = {}  # a forecast depends on its origin and day type only

    def forecast(origin: int, target: int) -> np.ndarray:
        key = (origin, int(types[target]))
        if key not in seen:
            seen[key] = forecast_days(values[:origin], types[:origin], types[target : target + 1], params)
        return seen[key][:, 0, :]

    for h in range(1, horizon + 1):
        targets = range(max(n - params.calibration_days, h + 6), n)
        scores = np.array([conformity(forecast(t - h + 1, t), values[t]) for t in targets]).reshape(-1, cols)
        if per_column:
            out[h - 1] = column_margins(scores, params.interval)
        else:
            out[h - 1] = conformal_margin(scores.ravel(), params.interval)
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
    hist_types = day_types(hist_days, params.holidays)
    f = forecast_days(m.values[:last_full], hist_types, day_types(targets, params.holidays), params)
    f = widen(f, horizon_margins(m.values[:last_full], hist_types, horizon_days, params))
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
    interval_coverage: float  # calibrated interval
    interval_coverage_quantiles: float  # the raw quantiles of the history, before calibration
    interval_width_mean: float


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
    cal_start = max(7, first_day - params.calibration_days)
    raw = np.stack(
        [
            forecast_days(m.values[:d], types[:d], types[d : d + 1], params)[:, 0, :]
            for d in range(cal_start, len(m.days))
        ],
        axis=1,
    )
    scores = conformity(raw, m.values[cal_start:])
    skip = first_day - cal_start
    margins = np.array(
        [
            conformal_margin(scores[max(0, i - params.calibration_days) : i].ravel(), params.interval)
            if params.calibration_days > 0
            else 0.0
            for i in range(skip, len(scores))
        ]
    )
    raw = raw[:, skip:]
    preds = widen(raw, margins[:, None])
    actual = m.values[first_day:]
    naive = m.values[first_day - 7 : len(m.days) - 7]
    ok = ~(np.isnan(actual) | np.isnan(naive) | np.isnan(preds[0]))
    err, err_naive = np.abs(preds[0] - actual)[ok], np.abs(naive - actual)[ok]
    flat = m.values[:first_day].ravel()
    per_week = 7 * m.values.shape[1]
    scale = float(np.nanmean(np.abs(flat[per_week:] - flat[:-per_week])))
    inside = (actual >= preds[1]) & (actual <= preds[2])
    inside_raw = (actual >= raw[1]) & (actual <= raw[2])
    return Backtest(
        days=len(m.days) - first_day,
        mae=round(float(err.mean()), 4),
        mae_seasonal_naive=round(float(err_naive.mean()), 4),
        mase=round(float(err.mean() / err_naive.mean()), 4),
        mase_insample=round(float(err.mean() / scale), 4),
        mase_insample_seasonal_naive=round(float(err_naive.mean() / scale), 4),
        interval_coverage=round(float(inside[ok].mean()), 4),
        interval_coverage_quantiles=round(float(inside_raw[ok].mean()), 4),
        interval_width_mean=round(float((preds[2] - preds[1])[ok].mean()), 4),
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
