"""The forecasting benchmark: the steel plant's 15-min load (UCI Steel Industry Energy Consumption, 2018),
rolling-origin, day-ahead, against the seasonal-naive (one week) forecast measured in the same run."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from pathlib import Path

import pandas as pd

from parkbrain.analytics.forecast import DEFAULT_PARAMS, Backtest, compute_backtest
from parkbrain.errors import BadFile, NotFound

STEEL_FILE = "Steel_industry_data.csv"
SLOT = timedelta(minutes=15)
FIRST_DAY = 56  # eight weeks of history before the first origin
TARGET_MASE = 0.80


def read_steel(data_dir: str | Path) -> pd.Series:
    """kWh per 15 min indexed by interval start (the file's `date` is the interval's end, day first;
    its 00:00 rows close the day they are dated, e.g. ``31/05/2018 00:00`` is 1 June 00:00)."""
    path = Path(data_dir) / STEEL_FILE
    if not path.is_file():
        raise NotFound(f"{path}: not found; pass --data DIR pointing at the steel-industry-energy folder")
    frame = pd.read_csv(path, encoding="utf-8-sig", usecols=["date", "Usage_kWh"])
    try:
        ends = pd.to_datetime(frame["date"], format="%d/%m/%Y %H:%M")
    except ValueError as exc:
        raise BadFile(str(path), str(exc), field="date", expected="dd/mm/YYYY HH:MM") from None
    # the file writes the midnight that ends a day as 00:00 of that same day (24:00): move it a day on
    midnight = (ends.dt.hour == 0) & (ends.dt.minute == 0)
    ends = ends + pd.to_timedelta(midnight.astype(int), unit="D")
    return pd.Series(frame["Usage_kWh"].to_numpy(dtype=float), index=ends - SLOT, name="kWh")


def compute_forecast_bench(data_dir: str | Path, first_day: int = FIRST_DAY) -> Backtest:
    """Day-ahead backtest of the steel plant from ``first_day`` to the end of the year."""
    return compute_backtest(read_steel(data_dir), SLOT, first_day, DEFAULT_PARAMS)


def forecast_report(result: Backtest) -> dict:
    """JSON-ready report."""
    return {
        "dataset": "steel-industry-energy (UCI, DAEWOO Steel 2018), Usage_kWh at 15 min",
        "protocol": f"rolling origin, day-ahead (96 slots), origins from day {FIRST_DAY}; "
        "mase = MAE / MAE of the seasonal-naive (one week) forecast on the same targets; interval "
        "coverage = share of actuals inside the conformal interval calibrated on earlier origins only",
        "params": asdict(DEFAULT_PARAMS),
        "measured": asdict(result),
        "target": {"mase_at_most": TARGET_MASE},
    }


def forecast_lines(result: Backtest) -> list[str]:
    """A plain-text table of the same."""
    return [
        f"steel plant, day-ahead at 15 min, {result.days} rolling origins",
        f"{'model':<34}{'MAE kWh':>10}{'MASE':>8}{'MASE (in-sample scale)':>25}",
        f"{'ParkBrain day-type median':<34}{result.mae:>10.3f}{result.mase:>8.3f}{result.mase_insample:>25.3f}",
        f"{'seasonal naive (one week)':<34}{result.mae_seasonal_naive:>10.3f}{1.0:>8.3f}"
        f"{result.mase_insample_seasonal_naive:>25.3f}",
        f"{DEFAULT_PARAMS.interval:.0%} interval, conformal on the last {DEFAULT_PARAMS.calibration_days} "
        f"origins: coverage {result.interval_coverage:.1%}, mean width {result.interval_width_mean:.2f} kWh "
        f"(raw quantiles of history: {result.interval_coverage_quantiles:.1%})",
        f"target: MASE <= {TARGET_MASE}",
    ]
