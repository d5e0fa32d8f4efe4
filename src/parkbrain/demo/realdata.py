"""Real measurements the demo uses where they exist, time-shifted into the demo window.

The datasets are read in place from the project's shared data folder (never copied into the
package): found through ``$PARKBRAIN_SHARED_DATA``, or a ``shared/data`` folder beside the current
directory or the source checkout. When a dataset is missing, the demo falls back to synthetic data
and says so in its report.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from parkbrain.model.timeutil import CST


@dataclass(frozen=True)
class RealSource:
    source_id: str
    title: str
    url: str
    license: str
    description: str


STEEL = RealSource(
    "real:steel-industry-energy",
    "Steel Industry Energy Consumption (DAEWOO Steel, Gwangyang) — UCI, DOI 10.24432/C52G8C",
    "https://archive.ics.uci.edu/dataset/851/steel+industry+energy+consumption",
    "CC BY 4.0",
    "15-min active energy of a real steel plant in 2018, used as one demo steel enterprise's meter",
)
SKAB = RealSource(
    "real:skab",
    "Skoltech Anomaly Benchmark (SKAB) v0.9 — Katser & Kozitsin 2020",
    "https://github.com/waico/SKAB",
    "GPL-3.0 (read in place, not redistributed)",
    "1-s sensors of a real water-pump test bed with induced faults, used as one demo pump",
)
BEIJING = RealSource(
    "real:beijing-air-quality",
    "Beijing Multi-Site Air Quality, station Aotizhongxin — UCI, DOI 10.24432/C5RK5G",
    "https://archive.ics.uci.edu/dataset/501/beijing+multi+site+air+quality+data",
    "CC BY 4.0",
    "hourly PM2.5/PM10/SO2/NO2/CO/O3 of a real monitoring station, used as one demo park's air station",
)


def find_shared_data() -> Path | None:
    """The shared datasets folder, or None when it cannot be found."""
    env = os.environ.get("PARKBRAIN_SHARED_DATA")
    candidates = [Path(env)] if env else []
    here = Path(__file__).resolve()
    for base in (Path.cwd(), *Path.cwd().parents[:2], *here.parents[:5]):
        candidates += [base / "shared" / "data", base.parent / "shared" / "data"]
    for path in candidates:
        if (path / "steel-industry-energy").is_dir() or (path / "skab").is_dir():
            return path
    return None


def week_aligned_shift(target_start: datetime, source_start: datetime) -> timedelta:
    """A whole number of weeks moving ``source_start`` onto or just before ``target_start``,
    so weekdays line up (Monday data lands on a Monday)."""
    weeks = (target_start - source_start).days // 7
    return timedelta(weeks=weeks)


def load_steel(path: Path, start: datetime, end: datetime) -> tuple[np.ndarray, np.ndarray, timedelta]:
    """The steel plant's 15-min kWh shifted into [start, end]: (UTC timestamps, kWh per interval, shift).

    The file labels each interval by its end, day first, and gives midnight the previous date; those
    are fixed here. The source year is 2018, so the window is matched to the same season in 2018.
    """
    df = pd.read_csv(path, encoding="utf-8-sig", usecols=["date", "Usage_kWh", "NSM"])
    ts = pd.to_datetime(df["date"], format="%d/%m/%Y %H:%M")
    ts = ts.where(df["NSM"] != 0, ts + pd.Timedelta(days=1))
    local = ts.dt.tz_localize(CST)
    span = end - start
    source_start = datetime(2018, start.month, min(start.day, 28), tzinfo=CST)
    if source_start + span + timedelta(days=8) > datetime(2019, 1, 1, tzinfo=CST):
        source_start = datetime(2019, 1, 1, tzinfo=CST) - span - timedelta(days=8)
    shift = week_aligned_shift(start, source_start)
    shifted = local + shift
    mask = (shifted >= start) & (shifted <= end)
    utc = shifted[mask].dt.tz_convert(timezone.utc).dt.tz_localize(None).to_numpy("datetime64[us]")
    return utc, df.loc[mask, "Usage_kWh"].to_numpy(dtype=float), shift


SKAB_SENSORS = {
    "Accelerometer1RMS": ("vibration_rms_1", "g0", "Sensor", "加速度计1 RMS"),
    "Accelerometer2RMS": ("vibration_rms_2", "g0", "Sensor", "加速度计2 RMS"),
    "Current": ("current", "A", "Current_Sensor", "电机电流"),
    "Pressure": ("pressure", "bar", "Pressure_Sensor", "泵后压力"),
    "Temperature": ("motor_temperature", "degC", "Temperature_Sensor", "电机温度"),
    "Thermocouple": ("fluid_temperature", "degC", "Temperature_Sensor", "介质温度"),
    "Voltage": ("voltage", "V", "Voltage_Sensor", "电机电压"),
    "Volume Flow RateRMS": ("flow_rate", "L/min", "Flow_Sensor", "流量"),
}
SKAB_RUNS = (
    "anomaly-free/anomaly-free.csv",
    "valve1/0.csv",
    "valve1/1.csv",
    "valve2/0.csv",
    "other/5.csv",
    "other/9.csv",
    "other/14.csv",
)


@dataclass(frozen=True)
class SkabRun:
    name: str
    ts: np.ndarray  # UTC datetime64[us]
    values: pd.DataFrame  # columns = SKAB sensor names
    anomaly: np.ndarray  # 0/1 per row (all 0 for the anomaly-free run)


def load_skab(folder: Path, last_day: datetime) -> list[SkabRun]:
    """SKAB runs replayed at 10:00 local time on consecutive days ending at ``last_day`` (a local date)."""
    runs = []
    day0 = last_day.date() - timedelta(days=len(SKAB_RUNS) - 1)
    for i, name in enumerate(SKAB_RUNS):
        df = pd.read_csv(folder / name, sep=";")
        t = pd.to_datetime(df["datetime"])
        slot = datetime(day0.year, day0.month, day0.day, 10, tzinfo=CST) + timedelta(days=i)
        offset = (t - t.iloc[0]).dt.total_seconds().to_numpy()
        start = np.datetime64(slot.astimezone(timezone.utc).replace(tzinfo=None), "us")
        ts = start + (offset * 1e6).astype("int64").astype("timedelta64[us]")
        anomaly = df["anomaly"].to_numpy(dtype=int) if "anomaly" in df else np.zeros(len(df), dtype=int)
        runs.append(SkabRun(name, ts, df[list(SKAB_SENSORS)], anomaly))
    return runs


BEIJING_POLLUTANTS = {"PM2.5": "pm2_5", "PM10": "pm10", "SO2": "so2", "NO2": "no2", "CO": "co", "O3": "o3"}


def load_beijing(path: Path, start: datetime, end: datetime) -> tuple[pd.DataFrame, int]:
    """Hourly concentrations of one station moved by whole years into [start, end].

    Returns a frame with a UTC ``ts`` column and one column per pollutant (µg/m³, CO in mg/m³;
    missing hours stay NaN), and the number of years shifted.
    """
    df = pd.read_csv(path, na_values=["NA"], low_memory=False)
    local = pd.to_datetime(df[["year", "month", "day", "hour"]]).dt.tz_localize(CST)
    first, last = local.min(), local.max()
    years = end.year - 2016
    for candidate in (years, years + 1, years - 1, years + 2, years - 2):
        lo = pd.Timestamp(start) - pd.DateOffset(years=candidate)
        hi = pd.Timestamp(end) - pd.DateOffset(years=candidate)
        if lo >= first and hi <= last:
            years = candidate
            break
    shifted = local + pd.DateOffset(years=years)
    mask = (shifted >= pd.Timestamp(start)) & (shifted <= pd.Timestamp(end))
    out = pd.DataFrame(
        {"ts": shifted[mask].dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[us]")}
    )
    for column, quantity in BEIJING_POLLUTANTS.items():
        values = df.loc[mask, column].to_numpy(dtype=float)
        out[quantity] = values / 1000.0 if quantity == "co" else values
    return out.reset_index(drop=True), years
