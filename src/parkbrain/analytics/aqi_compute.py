"""Air quality and noise of a park from stored readings: hourly and daily AQI, GB 3095 exceedances,
GB 3096 day/night noise.

Stations are the devices whose points measure the AQI pollutants (``points.quantity`` in ``so2, no2,
co, o3, pm10, pm2_5``); noise points measure LAeq (``aqi_standards.NOISE_QUANTITIES``). Values are
converted to the standard's unit (µg/m³; CO mg/m³) with pint; a point whose unit cannot be converted is
left out and named in ``skipped``.

- hourly (real-time report): the 1-h means of ``readings_1h``; the SO2 24-h moving mean (≥ 20 hours)
  beside them for the HJ 633-2012 rule above 800 µg/m³;
- daily report (Asia/Shanghai days): the 24-h means of ``readings_1d``, valid with ≥ 20 hourly means
  (counted in ``readings_1h``); the O3 daily maximum 8-h moving mean of the hourly means (windows
  ending 08:00–24:00, each with ≥ 6 hours, ≥ 14 valid windows) and the daily maximum 1-h O3;
- noise: the energy mean of the raw LAeq readings per day (06–22) and night (22–06, dated by the
  evening it starts), against GB 3096-2008 (class 3 for industrial areas by default).

The caller passes the SQL predicate that limits the points to what it may read (``Scope.points``
over ``p`` and ``d``). Everything is set-based SQL plus numpy over the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from parkbrain.analytics.aqi import compute_aqi, exceedances, noise_exceeds
from parkbrain.analytics.aqi_standards import (
    DEFAULT_NOISE_CLASS,
    DEFAULT_ZONE_CLASS,
    NOISE_DAY_START_HOUR,
    NOISE_NIGHT_START_HOUR,
    NOISE_QUANTITIES,
    O3_8H_FIRST_END_BUCKET_HOUR,
    POLLUTANT_INFO,
    VALIDITY,
    check_standard,
    noise_limit,
)
from parkbrain.errors import InvalidInput
from parkbrain.model.units import UnitError, conversion
from parkbrain.store.base import Store

Predicate = tuple[str, list[Any]]
AIR_QUANTITIES = ("so2", "no2", "co", "o3", "pm10", "pm2_5")
INTERVALS = ("1h", "1d")
_DAY_ORIGIN = "TIMESTAMPTZ '2000-01-01 00:00:00+08'"  # Asia/Shanghai midnight
_LOCAL_HOUR = "((epoch_us({col}) // 3600000000 + 8) % 24)"


@dataclass(frozen=True)
class StationPoints:
    """The points of air stations (or noise meters) in scope, with the factors to the standard unit."""

    point_id: list[str]
    quantity: list[str]
    device_id: list[str]
    scale: list[float]
    offset: list[float]
    devices: dict[str, dict[str, Any]]
    skipped: list[str] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)  # point_id, quantity, device, park, enterprise

    def params(self) -> list[Any]:
        return [self.point_id, self.quantity, self.device_id, self.scale, self.offset]


_PTS_CTE = """pts AS (SELECT unnest(?::VARCHAR[]) AS point_id, unnest(?::VARCHAR[]) AS quantity,
    unnest(?::VARCHAR[]) AS device_id, unnest(?::DOUBLE[]) AS scale, unnest(?::DOUBLE[]) AS offs)"""


def station_points(
    store: Store, scope: Predicate, park_id: str | None, quantities: tuple[str, ...], units: dict[str, str]
) -> StationPoints:
    """Points of ``quantities`` that ``scope`` admits (of ``park_id`` when given), and their devices."""
    sql = f"""SELECT p.point_id, p.quantity, p.unit, d.device_id, d.park_id, d.name AS device_name,
                  d.enterprise_id
              FROM points p JOIN devices d USING (device_id)
              WHERE ({scope[0]}) AND list_contains(?::VARCHAR[], p.quantity)
                AND (?::VARCHAR IS NULL OR d.park_id = ?) AND p.value_kind <> 'cumulative'
              ORDER BY d.device_id, p.point_id"""
    rows = store.query_rows(sql, [*scope[1], list(quantities), park_id, park_id])
    out = StationPoints([], [], [], [], [], {})
    for r in rows:
        target = units.get(r["quantity"], r["unit"])
        try:
            scale, offset = conversion(r["unit"], target) if r["unit"] and r["unit"] != target else (1.0, 0.0)
        except UnitError:
            out.skipped.append(r["point_id"])
            continue
        out.rows.append({k: r[k] for k in ("point_id", "quantity", "device_id", "park_id", "enterprise_id")})
        out.point_id.append(r["point_id"])
        out.quantity.append(r["quantity"])
        out.device_id.append(r["device_id"])
        out.scale.append(scale)
        out.offset.append(offset)
        out.devices.setdefault(
            r["device_id"],
            {
                "device_id": r["device_id"],
                "park_id": r["park_id"],
                "station": r["device_name"] or r["device_id"],
            },
        )
    return out


STANDARD_UNITS = {q: POLLUTANT_INFO[q].unit for q in AIR_QUANTITIES}


def _pivot(quantities: tuple[str, ...], source: str = "value") -> str:
    return ", ".join(f"avg({source}) FILTER (WHERE quantity = '{q}') AS {q}" for q in quantities)


def _hourly_table(store: Store, pts: StationPoints, start: datetime, end: datetime) -> pa.Table:
    v24 = VALIDITY["24h"].min_values
    sql = f"""WITH {_PTS_CTE},
    h AS (SELECT pts.device_id, r.bucket, pts.quantity, r.sum / r.n * pts.scale + pts.offs AS value
          FROM readings_1h r JOIN pts USING (point_id)
          WHERE r.bucket >= ?::TIMESTAMPTZ - INTERVAL 23 HOUR AND r.bucket < ? AND r.n > 0),
    wide AS (SELECT device_id, bucket, {_pivot(AIR_QUANTITIES)} FROM h GROUP BY device_id, bucket)
    SELECT device_id, bucket, {", ".join(AIR_QUANTITIES)},
           CASE WHEN count(so2) OVER w24 >= {v24} THEN avg(so2) OVER w24 END AS so2_24h
    FROM wide
    WINDOW w24 AS (PARTITION BY device_id ORDER BY bucket RANGE BETWEEN INTERVAL 23 HOUR PRECEDING AND CURRENT ROW)
    QUALIFY bucket >= ?
    ORDER BY device_id, bucket"""
    return store.query(sql, [*pts.params(), start, end, start])


def _daily_table(store: Store, pts: StationPoints, start: datetime, end: datetime) -> pa.Table:
    v24, v8, v8d = (VALIDITY[k].min_values for k in ("24h", "8h", "8h_daily_max"))
    local_hour = _LOCAL_HOUR.format(col="bucket")
    sql = f"""WITH {_PTS_CTE},
    d AS (SELECT pts.device_id, pts.quantity, r.bucket AS day, r.sum / r.n * pts.scale + pts.offs AS value
          FROM readings_1d r JOIN pts USING (point_id) WHERE r.bucket >= ? AND r.bucket < ? AND r.n > 0),
    h AS (SELECT pts.device_id, pts.quantity, r.bucket, r.sum / r.n * pts.scale + pts.offs AS value,
                 time_bucket(INTERVAL 1 DAY, r.bucket, {_DAY_ORIGIN}) AS day
          FROM readings_1h r JOIN pts USING (point_id) WHERE r.bucket >= ? AND r.bucket < ? AND r.n > 0),
    hours AS (SELECT device_id, quantity, day, count(*) AS n_hours, max(value) AS max_1h FROM h GROUP BY ALL),
    o3w AS (SELECT device_id, day, bucket, avg(value) OVER w AS mean_8h, count(value) OVER w AS n_8h
            FROM h WHERE quantity = 'o3'
            WINDOW w AS (PARTITION BY device_id ORDER BY bucket
                         RANGE BETWEEN INTERVAL 7 HOUR PRECEDING AND CURRENT ROW)),
    o3d AS (SELECT device_id, day, max(mean_8h) FILTER (WHERE n_8h >= {v8}) AS o3_8h,
                   count(*) FILTER (WHERE n_8h >= {v8}) AS n_windows
            FROM o3w WHERE {local_hour} >= {O3_8H_FIRST_END_BUCKET_HOUR} GROUP BY ALL),
    valid AS (SELECT d.device_id, d.day, d.quantity,
                     CASE WHEN hours.n_hours >= {v24} THEN d.value END AS value,
                     CASE WHEN hours.n_hours >= {v24} THEN hours.max_1h END AS max_1h
              FROM d JOIN hours USING (device_id, quantity, day))
    SELECT v.device_id, v.day AS bucket, {_pivot(tuple(q for q in AIR_QUANTITIES if q != "o3"))},
           max(max_1h) FILTER (WHERE quantity = 'o3') AS o3,
           CASE WHEN any_value(o3d.n_windows) >= {v8d} THEN any_value(o3d.o3_8h) END AS o3_8h
    FROM valid v LEFT JOIN o3d USING (device_id, day)
    GROUP BY v.device_id, v.day ORDER BY v.device_id, v.day"""
    return store.query(sql, [*pts.params(), start, end, start, end])


def compute_air_quality(
    store: Store,
    scope: Predicate,
    park_id: str | None,
    start: datetime,
    end: datetime,
    interval: str = "1h",
    standard: str = "auto",
    zone_class: int = DEFAULT_ZONE_CLASS,
) -> dict[str, Any]:
    """Hourly (``1h``, the real-time report) or daily (``1d``) AQI of each station in scope, with the
    GB 3095 exceedances of each row. Returns ``{"interval", "standard", "zone_class", "stations",
    "rows", "skipped_points"}``; a row holds time (Asia/Shanghai), park_id, device_id, station, the
    concentrations, each IAQI, aqi, level …, primary pollutant(s) and ``exceedances``."""
    check_standard(standard)
    if interval not in INTERVALS:
        raise InvalidInput(f"interval: expected 1h or 1d; got {interval!r}")
    if end <= start:
        raise InvalidInput("end: must be after start")
    pts = station_points(store, scope, park_id, AIR_QUANTITIES, STANDARD_UNITS)
    table = (
        (_hourly_table if interval == "1h" else _daily_table)(store, pts, start, end)
        if pts.point_id
        else pa.table(
            {"device_id": pa.array([], pa.string()), "bucket": pa.array([], pa.timestamp("us", "UTC"))}
        )
    )
    rows = _rate(table, pts, "hourly" if interval == "1h" else "daily", standard, zone_class)
    return {
        "interval": interval,
        "standard": standard,
        "zone_class": zone_class,
        "stations": list(pts.devices.values()),
        "rows": rows,
        "points": pts.rows,
        "skipped_points": pts.skipped,
    }


def _rate(
    table: pa.Table, pts: StationPoints, report: str, standard: str, zone_class: int
) -> list[dict[str, Any]]:
    n = table.num_rows
    if n == 0:
        return []
    bucket_us = pc.cast(table.column("bucket"), pa.int64()).to_numpy()
    local_us = bucket_us + _LOCAL_OFFSET_US  # Asia/Shanghai has had no daylight saving since 1992
    days = (local_us // 86_400_000_000).astype("datetime64[D]")
    times = np.datetime_as_string(local_us.astype("datetime64[us]"), unit="s")
    conc = {
        c: np.asarray(table.column(c).to_numpy(zero_copy_only=False), dtype=np.float64)
        for c in table.column_names
        if c not in ("device_id", "bucket")
    }
    result = compute_aqi(conc, report, standard, days)
    over = exceedances(conc, days, report, zone_class, standard)
    shown = {
        c: [None if v != v else v for v in np.round(conc[c], POLLUTANT_INFO[c].decimals + 1).tolist()]
        for c in ("so2", "no2", "co", "o3", "o3_8h", "pm10", "pm2_5")
        if c in conc
    }
    devices = table.column("device_id").to_pylist()
    out = []
    for i, row in enumerate(result.rows()):
        values = {c: v[i] for c, v in shown.items()}
        time = f"{times[i]}+08:00"
        out.append({"time": time, **pts.devices[devices[i]], **values, **row, "exceedances": over[i]})
    return out


_LOCAL_OFFSET_US = 8 * 3_600_000_000


# -- noise -------------------------------------------------------------------------------------------


def compute_noise(
    store: Store,
    scope: Predicate,
    park_id: str | None,
    start: datetime,
    end: datetime,
    zone_class: str = DEFAULT_NOISE_CLASS,
) -> dict[str, Any]:
    """Day (06–22) and night (22–06) LAeq of each noise point in scope against GB 3096-2008."""
    limit = noise_limit(zone_class)
    pts = station_points(store, scope, park_id, NOISE_QUANTITIES, {})
    rows: list[dict[str, Any]] = []
    if pts.point_id:
        local_hour = _LOCAL_HOUR.format(col="r.ts")
        table = store.query(
            f"""WITH {_PTS_CTE}
            SELECT pts.point_id, pts.device_id,
                   CAST(r.ts + INTERVAL 8 HOUR - INTERVAL {NOISE_DAY_START_HOUR} HOUR AS DATE) AS day,
                   CASE WHEN {local_hour} >= {NOISE_DAY_START_HOUR} AND {local_hour} < {NOISE_NIGHT_START_HOUR}
                        THEN 'day' ELSE 'night' END AS period,
                   10 * log10(avg(pow(10, (r.value * pts.scale + pts.offs) / 10))) AS laeq_db,
                   count(*) AS n
            FROM readings r JOIN pts USING (point_id)
            WHERE r.ts >= ? AND r.ts < ? AND isfinite(r.value)
            GROUP BY ALL ORDER BY pts.point_id, day, period DESC""",
            [*pts.params(), start, end],
        )
        rows = table.to_pylist()
        limits = np.array([limit.day_db if r["period"] == "day" else limit.night_db for r in rows])
        over = noise_exceeds([r["laeq_db"] for r in rows], limits)
        for r, lim, exceeded in zip(rows, limits, over):
            device = pts.devices[r["device_id"]]
            r.update(
                park_id=device["park_id"],
                station=device["station"],
                day=r["day"].isoformat(),
                laeq_db=round(r["laeq_db"], 1),
                limit_db=float(lim),
                exceeds=bool(exceeded),
            )
    return {
        "zone_class": zone_class,
        "limit": limit.__dict__,
        "rows": rows,
        "points": pts.rows,
        "skipped_points": pts.skipped,
    }


def default_window(end: datetime | None, days: int) -> tuple[datetime, datetime]:
    """``(start, end)``: ``end`` (default: the next hour) and ``days`` before it."""
    from parkbrain.model.timeutil import now_utc

    end = end or (now_utc().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1))
    return end - timedelta(days=days), end
