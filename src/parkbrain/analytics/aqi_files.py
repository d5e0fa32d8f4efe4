"""AQI of the rows of a CSV file: the CNEMC real-time layout or the canonical readings layout.

- **CNEMC layout** (as archived from the national real-time release, see ``cnemc-aqi-sample``):
  ``timepoint, stationcode, positionname, area, so2, no2, co, pm10, pm2_5, o3_24h, so2_24h, …``.
  The 1-hour O3 value is the column ``o3_24h`` (the archive's header is misleading: ``o3`` holds the
  24-hour maximum of the 1-hour O3); ``so2_24h`` feeds the HJ 633-2012 rule for SO2 above 800.
- **Canonical readings layout**: ``point_id,ts,value`` or ``quantity,ts,value`` (optionally a
  ``station`` or ``device_id`` column). The pollutant is the quantity (``so2, no2, co, o3, pm10,
  pm2_5``), or the last dot-separated part of the point id (``<device_id>.<quantity>``, the way
  ParkBrain names points), whose first part is then the station. One AQI row per station and hour.

Times without an offset are Asia/Shanghai. Values are 1-hour means in µg/m³ (CO mg/m³); an empty cell
is a missing value (no AQI for that row). Anything else that is not a number is refused with the
file, line and column.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from parkbrain.analytics.aqi import compute_aqi
from parkbrain.errors import InvalidInput
from parkbrain.model.timeutil import PARK_TZ, parse_time

HOURLY_INPUTS = ("so2", "no2", "co", "o3", "pm10", "pm2_5")
#: CNEMC column of each input of the real-time report.
CNEMC_COLUMNS = {
    "so2": "so2",
    "no2": "no2",
    "co": "co",
    "o3": "o3_24h",
    "pm10": "pm10",
    "pm2_5": "pm2_5",
    "so2_24h": "so2_24h",
}
CNEMC_REQUIRED = ("timepoint", "stationcode", *CNEMC_COLUMNS.values())


@dataclass(frozen=True)
class AqiInput:
    """Rows to rate: their time, station fields and 1-h concentrations per input."""

    times: list[datetime]
    stations: list[dict[str, Any]]
    conc: dict[str, np.ndarray]


def read_aqi_csv(path: str | Path) -> AqiInput:
    """Read a CNEMC-layout or canonical-layout CSV (detected from the header)."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = [h.strip() for h in next(reader, [])]
        rows = list(reader)
    if "timepoint" in header or "stationcode" in header:
        return _read_cnemc(path, header, rows)
    if "ts" in header and "value" in header and ("point_id" in header or "quantity" in header):
        return _read_canonical(path, header, rows)
    raise InvalidInput(
        f"{path}, line 1: header {','.join(header)!r} is neither the CNEMC layout (timepoint, stationcode, "
        "so2, no2, co, o3_24h, pm10, pm2_5, …) nor the readings layout (point_id or quantity, ts, value)"
    )


def _number(path: Path, line: int, column: str, text: str) -> float:
    text = text.strip()
    if text == "":
        return math.nan
    try:
        value = float(text)
    except ValueError:
        value = math.nan
        bad = True
    else:
        bad = not math.isfinite(value) or value < 0
    if bad:
        raise InvalidInput(
            f"{path}, line {line}, column {column}: {text!r} is not a concentration "
            "(expected a number ≥ 0, or empty for a missing value)"
        )
    return value


def _time(path: Path, line: int, column: str, text: str) -> datetime:
    try:
        return parse_time(text.strip(), f"{path}, line {line}, column {column}")
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    except OverflowError:
        raise InvalidInput(
            f"{path}, line {line}, column {column}: {text.strip()!r} is out of range"
        ) from None


def _cell(path: Path, line: int, header: list[str], row: list[str], column: str) -> str:
    if len(row) != len(header):
        raise InvalidInput(f"{path}, line {line}: {len(row)} fields; the header has {len(header)}")
    return row[header.index(column)]


def _read_cnemc(path: Path, header: list[str], rows: list[list[str]]) -> AqiInput:
    missing = [c for c in CNEMC_REQUIRED if c not in header]
    if missing:
        raise InvalidInput(f"{path}, line 1: CNEMC layout without the column(s) {', '.join(missing)}")
    times, stations = [], []
    conc: dict[str, list[float]] = {k: [] for k in CNEMC_COLUMNS}
    for line, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        cell = partial(_cell, path, line, header, row)
        times.append(_time(path, line, "timepoint", cell("timepoint")))
        stations.append(
            {
                "station_code": cell("stationcode").strip(),
                "station": cell("positionname").strip() if "positionname" in header else None,
                "area": cell("area").strip() if "area" in header else None,
            }
        )
        for key, column in CNEMC_COLUMNS.items():
            conc[key].append(_number(path, line, column, cell(column)))
    return AqiInput(times, stations, {k: np.array(v, dtype=np.float64) for k, v in conc.items()})


def _read_canonical(path: Path, header: list[str], rows: list[list[str]]) -> AqiInput:
    by_key: dict[tuple[str, datetime], dict[str, float]] = {}
    for line, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        cell = partial(_cell, path, line, header, row)
        station, pollutant, column = _station_pollutant(header, cell)
        if pollutant not in HOURLY_INPUTS:
            raise InvalidInput(
                f"{path}, line {line}, column {column}: {pollutant!r} is not an AQI pollutant; expected one "
                f"of {', '.join(HOURLY_INPUTS)}"
                + (" (as <station>.<pollutant>)" if column == "point_id" else "")
            )
        ts = _time(path, line, "ts", cell("ts"))
        values = by_key.setdefault((station, ts), {})
        if pollutant in values:
            raise InvalidInput(
                f"{path}, line {line}: a second {pollutant} value for {station} at {ts.isoformat()}"
            )
        values[pollutant] = _number(path, line, "value", cell("value"))
    keys = sorted(by_key, key=lambda k: (k[1], k[0]))
    conc = {p: np.array([by_key[k].get(p, math.nan) for k in keys], dtype=np.float64) for p in HOURLY_INPUTS}
    stations = [{"station_code": k[0], "station": k[0], "area": None} for k in keys]
    return AqiInput([k[1] for k in keys], stations, conc)


def _station_pollutant(header: list[str], cell: Any) -> tuple[str, str, str]:
    station_col = next((c for c in ("station", "device_id") if c in header), None)
    if "quantity" in header:
        station = cell(station_col).strip() if station_col else "-"
        return station, cell("quantity").strip(), "quantity"
    point = cell("point_id").strip()
    prefix, _, suffix = point.rpartition(".")
    station = cell(station_col).strip() if station_col else (prefix or "-")
    return station, suffix, "point_id"


def compute_aqi_file(path: str | Path, standard: str = "auto") -> list[dict[str, Any]]:
    """The real-time AQI of every row (CNEMC) or station-hour (readings layout) of a CSV file:
    time (Asia/Shanghai), station fields, each IAQI, AQI, primary pollutant(s), level."""
    data = read_aqi_csv(path)
    local = [t.astimezone(PARK_TZ) for t in data.times]
    result = compute_aqi(data.conc, "hourly", standard, dates=[t.date() for t in local])
    return [
        {"time": t.isoformat(), **station, **row}
        for t, station, row in zip(local, data.stations, result.rows())
    ]
