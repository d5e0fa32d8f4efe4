"""Energy consumption from the rollups, converted to standard coal (GB/T 2589-2020) and CO2.

Consumption of a meter point over a bucket, by its ``value_kind``:

- ``cumulative`` register → the rollup's ``delta`` (a drop is a reset and counts the new reading);
  a drop that is a **rollover** (``quality_rules.RegisterDrops``: 99 999.x → 0.x) adds back the
  register's range, found from the 15-minute rollups of the days with a drop (never raw readings);
- ``interval`` totals → the rollup's ``sum``;
- ``instant`` power → the mean power of each hour bucket × 1 h (``readings_1h``).

Day buckets are Asia/Shanghai days; a window ``[start, end)`` takes the buckets that start in it.
Values are converted with pint (``model.units``) to the carrier's unit (``CARRIER_UNITS``). All of it
is one set-based SQL query over ``readings_1d`` / ``readings_1h``; Python only sees the aggregates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from parkbrain.analytics.energy_factors import (
    MODES,
    PURCHASED_HEAT,
    GridFactor,
    equal_value,
    fuel,
    standard_coal,
)
from parkbrain.analytics.quality_rules import REGISTER_DROPS
from parkbrain.errors import InvalidInput
from parkbrain.model.timeutil import PARK_TZ
from parkbrain.model.units import UnitError, conversion
from parkbrain.store.base import Store

#: The unit consumption of each carrier is reported in (anything else converts to it with pint).
CARRIER_UNITS: dict[str, str] = {
    "electricity": "kWh",
    "natural_gas": "m3",
    "steam": "t",
    "heat": "GJ",
    "water": "m3",
    "diesel": "t",
    "gasoline": "t",
    "kerosene": "t",
    "fuel_oil": "t",
    "crude_oil": "t",
    "lpg": "t",
    "lng": "t",
    "raw_coal": "t",
    "coke": "t",
}
#: Dimensions consumption can be grouped by, and the SQL expression of each (over the ``pts`` CTE).
DIMENSIONS: dict[str, str] = {
    "point": "point_id",
    "enterprise": "enterprise_id",
    "building": "building_id",
    "park": "park_id",
    "prefecture": "prefecture_code",
    "province": "province_code",
}
GRAINS = ("day", "month", "year", "total")
_GRAIN_SQL = {
    "day": "CAST(timezone('Asia/Shanghai', u.bucket) AS DATE)",
    "month": "CAST(date_trunc('month', timezone('Asia/Shanghai', u.bucket)) AS DATE)",
    "year": "CAST(date_trunc('year', timezone('Asia/Shanghai', u.bucket)) AS DATE)",
    "total": "NULL::DATE",
}
_NAMES = {
    "enterprise": "(SELECT name FROM enterprises x WHERE x.enterprise_id = a.enterprise_id)",
    "building": "(SELECT name FROM buildings x WHERE x.building_id = a.building_id)",
    "park": "(SELECT name FROM parks x WHERE x.park_id = a.park_id)",
    "prefecture": "(SELECT name FROM regions x WHERE x.region_code = a.prefecture_code)",
    "province": "(SELECT name FROM regions x WHERE x.region_code = a.province_code)",
}


@dataclass(frozen=True)
class Selection:
    """Which meter points count: a WHERE clause over ``p`` (points) and ``d`` (devices), with its
    parameters — the caller's scope and filters, built by ``Park``."""

    where_sql: str = ""
    params: tuple[Any, ...] = ()


@dataclass
class Consumption:
    """Aggregated consumption rows and what was left out (with why)."""

    rows: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)


# -- consumption ------------------------------------------------------------------------------------


def compute_consumption(
    store: Store,
    selection: Selection,
    start: datetime,
    end: datetime,
    grain: str = "total",
    by: Sequence[str] = (),
    resolution: str = "1d",
) -> Consumption:
    """Consumption per period (``grain``), dimensions ``by`` and carrier, in the carrier's unit.

    Rows: ``period`` (a date; None for ``total``), each dimension id (and ``<dim>_name``), ``carrier``,
    ``unit``, ``amount``, ``points``. ``resolution='1h'`` adds ``hour`` (0–23, Asia/Shanghai).
    """
    if grain not in GRAINS:
        raise InvalidInput(f"grain: expected one of {', '.join(GRAINS)}; got {grain!r}")
    unknown = [d for d in by if d not in DIMENSIONS]
    if unknown:
        raise InvalidInput(f"by: expected some of {', '.join(DIMENSIONS)}; got {unknown[0]!r}")
    if end <= start:
        raise InvalidInput(f"end: {end.isoformat()} is not after start {start.isoformat()}")
    scales, notes = _scales(store, selection)
    if not scales:
        return Consumption([], notes)
    drops = register_days(store, selection, scales, start, end)
    sql, params = _consumption_sql(selection, scales, grain, list(by), resolution, start, end, drops)
    return Consumption(store.query_rows(sql, params), notes)


def consumption_query(
    store: Store,
    selection: Selection,
    start: datetime,
    end: datetime,
    grain: str,
    by: Sequence[str],
    resolution: str = "1d",
) -> tuple[str, list[Any], list[str]] | None:
    """The SQL of ``compute_consumption`` (to nest in other queries), its parameters and the notes;
    None when no point is selected. The window is written into the SQL as constants (from datetimes,
    never text), so that DuckDB skips the row groups of the rollups outside it."""
    scales, notes = _scales(store, selection)
    if not scales:
        return None
    sql, params = _consumption_sql(selection, scales, grain, list(by), resolution, start, end)
    return sql, params, notes


def _scales(store: Store, selection: Selection) -> tuple[list[tuple[str, str, str, float]], list[str]]:
    """(carrier, unit, value_kind, factor to the carrier's unit) for each kind of point selected."""
    where_sql = f"AND {selection.where_sql}" if selection.where_sql else ""
    kinds = store.query_rows(
        f"""SELECT p.energy_carrier AS carrier, p.unit, p.value_kind, count(*) AS n, min(p.point_id) AS example
        FROM points p JOIN devices d USING (device_id)
        WHERE p.energy_carrier IS NOT NULL {where_sql} GROUP BY ALL ORDER BY ALL""",
        list(selection.params),
    )
    scales, notes = [], []
    for k in kinds:
        target = CARRIER_UNITS.get(k["carrier"]) or _coal_unit(k["carrier"]) or k["unit"]
        source = f"({k['unit']})*hour" if k["value_kind"] == "instant" else k["unit"]
        try:
            factor, offset = conversion(source, target)
        except UnitError as exc:
            notes.append(
                f"{k['n']} {k['carrier']} point(s) in {k['unit']} ({k['value_kind']}, e.g. {k['example']}) "
                f"left out: {exc}"
            )
            continue
        if offset:
            notes.append(f"{k['carrier']} points in {k['unit']}: not an amount of energy; left out")
            continue
        scales.append((k["carrier"], k["unit"], k["value_kind"], factor))
    return scales, notes


def _coal_unit(carrier: str) -> str | None:
    coal = standard_coal(carrier)
    return coal.unit if coal else None


def _consumption_sql(
    selection: Selection,
    scales: list[tuple[str, str, str, float]],
    grain: str,
    by: list[str],
    resolution: str,
    start: datetime,
    end: datetime,
    drops: list[tuple[str, datetime]] | None = None,
) -> tuple[str, list[Any]]:
    """The consumption SQL; ``drops`` (the register days, found beforehand by ``register_days``) are
    written in as parameters, or found by the SQL itself when None (a query to nest)."""
    values = ", ".join("(?, ?, ?, ?::DOUBLE, ?)" for _ in scales)
    scale_params: list[Any] = []
    for carrier, unit, kind, factor in scales:
        scale_params += [
            carrier,
            unit,
            kind,
            factor,
            CARRIER_UNITS.get(carrier) or _coal_unit(carrier) or unit,
        ]
    where_sql = f"AND {selection.where_sql}" if selection.where_sql else ""
    dims = [DIMENSIONS[d] for d in by]
    hour = ["hour(timezone('Asia/Shanghai', u.bucket)) AS hour"] if resolution == "1h" else []
    group_cols = ["period", *dims, *(["hour"] if hour else []), "carrier", "unit"]
    names = [f"{_NAMES[d]} AS {d}_name" for d in by if d in _NAMES]
    sql = f"""
    WITH scale(carrier, unit, value_kind, factor, target_unit) AS (VALUES {values}),
    pts AS (
        SELECT p.point_id, p.value_kind, s.carrier, s.factor, s.target_unit, d.park_id, d.enterprise_id,
               coalesce(d.building_id, e.building_id) AS building_id,
               substr(pk.region_code, 1, 4) || '00' AS prefecture_code,
               substr(pk.region_code, 1, 2) || '0000' AS province_code
        FROM points p JOIN devices d USING (device_id)
        JOIN scale s ON s.carrier = p.energy_carrier AND s.unit = p.unit AND s.value_kind = p.value_kind
        LEFT JOIN enterprises e ON e.enterprise_id = d.enterprise_id
        LEFT JOIN parks pk ON pk.park_id = d.park_id
        WHERE p.energy_carrier IS NOT NULL {where_sql}
    ),
    {_usage_ctes(resolution, _literal(start), _literal(end), drops)}
    agg AS (
        SELECT {_GRAIN_SQL[grain]} AS period, {", ".join([*dims, *hour, ""])}
               pts.carrier, pts.target_unit AS unit, coalesce(sum(u.amount * pts.factor), 0.0) AS amount,
               count(DISTINCT u.point_id) AS points
        FROM usage u JOIN pts USING (point_id)
        GROUP BY ALL
    )
    SELECT a.*{"".join(", " + n for n in names)} FROM agg a ORDER BY {", ".join(group_cols)}"""
    drop_params: list[Any] = []
    if drops:
        drop_params = [[p for p, _ in drops], [b for _, b in drops], *dict.fromkeys(p for p, _ in drops)]
    return sql, [*scale_params, *selection.params, *drop_params]


def _literal(t: datetime) -> str:
    """A TIMESTAMPTZ constant for a datetime (microseconds since the epoch: no text from outside)."""
    return f"make_timestamptz({int(t.timestamp() * 1_000_000)})"


def register_days(
    store: Store,
    selection: Selection,
    scales: list[tuple[str, str, str, float]],
    start: datetime,
    end: datetime,
) -> list[tuple[str, datetime]]:
    """(point_id, day bucket) of the selected cumulative registers whose reading drops on that day
    (within it, or from the day before): the only days whose 15-minute rollups a rollover needs.
    Found apart from the consumption query, so that it reads those points and days only."""
    if not any(kind == "cumulative" for _, _, kind, _ in scales):
        return []
    where_sql = f"AND {selection.where_sql}" if selection.where_sql else ""
    rows = store.query_rows(
        f"""SELECT point_id, bucket FROM (
                SELECT r.point_id, r.bucket, r.min, r.first,
                       lag(r.last) OVER (PARTITION BY r.point_id ORDER BY r.bucket) AS prev_last
                FROM readings_1d r
                WHERE r.bucket >= {_literal(start)} - INTERVAL 1 DAY AND r.bucket < {_literal(end)}
                  AND r.point_id IN (SELECT p.point_id FROM points p JOIN devices d USING (device_id)
                                     WHERE p.energy_carrier IS NOT NULL AND p.value_kind = 'cumulative'
                                     {where_sql})
            ) WHERE min < first OR first < prev_last ORDER BY point_id, bucket""",
        list(selection.params),
    )
    return [(r["point_id"], r["bucket"]) for r in rows]


def _register_steps(drops: list[tuple[str, datetime]] | None, lo: str, hi: str) -> str:
    """``register_days`` and ``steps`` (the 15-minute rollups around each register day): found in SQL
    when ``drops`` is None, else from the given days (parameters), reading only their points and days."""
    if drops is None:
        return f"""
    register_days AS (
        SELECT point_id, bucket FROM (
            SELECT r.point_id, r.bucket, r.min, r.first,
                   lag(r.last) OVER (PARTITION BY r.point_id ORDER BY r.bucket) AS prev_last
            FROM readings_1d r JOIN pts USING (point_id)
            WHERE pts.value_kind = 'cumulative' AND r.bucket >= {lo} - INTERVAL 1 DAY AND r.bucket < {hi}
        ) WHERE min < first OR first < prev_last
    ),
{_steps_cte(lo, hi, "r.point_id IN (SELECT point_id FROM register_days)")}"""
    if not drops:
        return """
    steps AS (
        SELECT NULL::VARCHAR AS point_id, NULL::DOUBLE AS first, NULL::DOUBLE AS prev,
               NULL::TIMESTAMPTZ AS prev_bucket
        WHERE FALSE
    ),"""
    first = _literal(min(b for _, b in drops) - timedelta(days=1))
    last = _literal(max(b for _, b in drops) + timedelta(days=1))
    points = ", ".join("?" for _ in dict.fromkeys(p for p, _ in drops))
    steps = _steps_cte(lo, hi, f"r.bucket >= {first} AND r.bucket < {last} AND r.point_id IN ({points})")
    return f"""
    register_days AS (SELECT unnest(?::VARCHAR[]) AS point_id, unnest(?::TIMESTAMPTZ[]) AS bucket),{steps}"""


def _steps_cte(lo: str, hi: str, narrow: str) -> str:
    """``steps``: each 15-minute row of the register days (and the day each side) with the last value
    of the row before it, ``narrow`` limiting the points and buckets read."""
    return f"""
    steps AS (
        SELECT r.point_id, r.first,
               lag(r.last) OVER (PARTITION BY r.point_id ORDER BY r.bucket) AS prev,
               lag(r.bucket) OVER (PARTITION BY r.point_id ORDER BY r.bucket) AS prev_bucket
        FROM readings_15m r
        WHERE r.bucket >= {lo} - INTERVAL 2 DAY AND r.bucket < {hi} + INTERVAL 1 DAY AND {narrow}
          AND EXISTS (SELECT 1 FROM register_days c WHERE c.point_id = r.point_id
                      AND r.bucket >= c.bucket - INTERVAL 1 DAY AND r.bucket < c.bucket + INTERVAL 1 DAY)
    ),"""


def _usage_ctes(resolution: str, lo: str, hi: str, drops: list[tuple[str, datetime]] | None = None) -> str:
    """``usage(point_id, bucket, amount)``: consumption in the point's own unit per rollup bucket,
    rollover corrections included (each at the bucket of the reading before the drop)."""
    d = REGISTER_DROPS
    power = "power(10, ceil(log10(prev)))"
    day_table = "readings_1h" if resolution == "1h" else "readings_1d"
    bucket_of = (
        "time_bucket(INTERVAL 1 HOUR, prev_bucket)"
        if resolution == "1h"
        else ("time_bucket(INTERVAL 1 DAY, prev_bucket, TIMESTAMPTZ '2000-01-01 00:00:00+08')")
    )
    return f"""{_register_steps(drops, lo, hi)}
    rollovers AS (
        SELECT point_id, {bucket_of} AS bucket, {power} - prev AS amount
        FROM steps
        WHERE first < prev AND prev > 0 AND prev >= {d.rollover_near} * {power}
          AND first <= {d.rollover_small} * {power} AND prev_bucket >= {lo} AND prev_bucket < {hi}
    ),
    usage AS (
        SELECT r.point_id, r.bucket,
               CASE pts.value_kind WHEN 'cumulative' THEN r.delta ELSE r.sum END AS amount
        FROM {day_table} r JOIN pts USING (point_id)
        WHERE pts.value_kind IN ('cumulative', 'interval') AND r.bucket >= {lo} AND r.bucket < {hi}
        UNION ALL
        SELECT r.point_id, r.bucket, r.sum / r.n AS amount
        FROM readings_1h r JOIN pts USING (point_id)
        WHERE pts.value_kind = 'instant' AND r.n > 0 AND r.bucket >= {lo} AND r.bucket < {hi}
        UNION ALL
        SELECT point_id, bucket, amount FROM rollovers
    ),"""


# -- standard coal and carbon -------------------------------------------------------------------------


@dataclass(frozen=True)
class Accounting:
    """How consumption becomes tce and tCO2: the electricity mode and factor chosen."""

    mode: str = "equivalent"  # MODES
    factor: GridFactor | None = None
    year: int | None = None  # the year whose 等价值 applies (mode 'equal')

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise InvalidInput(f"mode: expected one of {', '.join(MODES)}; got {self.mode!r}")


def kgce_per_unit(carrier: str, unit: str, acc: Accounting) -> tuple[float | None, dict[str, Any] | None]:
    """kgce per ``unit`` of ``carrier`` and the coefficient used (None, None when there is none)."""
    coal = standard_coal(carrier)
    if coal is None:
        return None, None
    scale, _ = conversion(unit, coal.unit)
    value, used = (
        coal.kgce_per_unit,
        {
            "carrier": carrier,
            "name_zh": coal.name_zh,
            "kgce_per_unit": coal.kgce_per_unit,
            "unit": coal.unit,
            "mode": "当量值" if not coal.medium else "等价值 (耗能工质)",
            "source": coal.source.cite(),
            "note": coal.source.note,
        },
    )
    if carrier == "electricity" and acc.mode == "equal":
        eq = equal_value(acc.year or 2022)
        value = eq.kgce_per_kwh
        used.update(
            kgce_per_unit=value, mode=f"等价值 {eq.year}", source=eq.source.cite(), note=eq.source.section
        )
    return value * scale, used


def tco2_per_unit(
    carrier: str, unit: str, acc: Accounting
) -> tuple[float, str | None, dict[str, Any] | None]:
    """tCO2 per ``unit`` of ``carrier``, its scope (1, 2 or None) and the factor used."""
    if carrier == "electricity" and acc.factor is not None:
        f = acc.factor
        scale, _ = conversion(unit, "kWh")
        return f.kgco2_per_kwh / 1000 * scale, "scope2", _factor_row(f)
    if carrier in ("heat", "steam"):
        h = PURCHASED_HEAT
        gj = conversion(unit, "GJ")[0] if carrier == "heat" else conversion(unit, "t")[0] * h.steam_gj_per_t
        used = {
            "carrier": carrier,
            "tco2_per_gj": h.tco2_per_gj,
            "source": h.source.cite(),
            **(
                {"steam_gj_per_t": h.steam_gj_per_t, "steam_source": h.steam_source.cite()}
                if carrier == "steam"
                else {}
            ),
        }
        return h.tco2_per_gj * gj, "scope2", used
    fu = fuel(carrier)
    if fu is not None:
        scale, _ = conversion(unit, fu.ncv_unit)
        used = {
            "carrier": carrier,
            "name_zh": fu.name_zh,
            "ncv_gj": fu.ncv_gj,
            "ncv_unit": fu.ncv_unit,
            "carbon_tc_per_gj": fu.carbon_tc_per_gj,
            "oxidation_pct": fu.oxidation_pct,
            "tco2_per_unit": round(fu.tco2_per_unit, 6),
            "method": "GB/T 32150-2015: E = FC × NCV × CC × OF × 44/12",
            "source": fu.source.cite(),
        }
        return fu.tco2_per_unit * scale, "scope1", used
    return 0.0, None, None


def _factor_row(f: GridFactor) -> dict[str, Any]:
    return {
        "key": f.key,
        "year": f.year,
        "caliber": f.caliber,
        "scope": f.scope,
        "area": f.area,
        "kgco2_per_kwh": f.kgco2_per_kwh,
        "source": f.source.cite(),
    }


def account(rows: list[dict[str, Any]], acc: Accounting) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Each consumption row with ``kgce``/``tce``, ``tco2`` and ``scope``; and the coefficients and
    factors used (by carrier)."""
    out: list[dict[str, Any]] = []
    used: dict[str, Any] = {"coefficients": {}, "factors": {}, "uncounted": []}
    for row in rows:
        coal, coal_used = kgce_per_unit(row["carrier"], row["unit"], acc)
        co2, scope, co2_used = tco2_per_unit(row["carrier"], row["unit"], acc)
        amount = row["amount"] or 0.0
        tce = amount * coal / 1000 if coal is not None else None
        out.append({**row, "tce": tce, "tco2": amount * co2, "scope": scope})
        if coal_used:
            used["coefficients"][row["carrier"]] = coal_used
        elif row["carrier"] not in used["uncounted"]:
            used["uncounted"].append(row["carrier"])
        if co2_used:
            used["factors"][row["carrier"]] = co2_used
    return out, used


def totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Totals over accounted rows: by carrier (amount, unit, tce, tco2) and overall tce / tCO2 by scope."""
    carriers: dict[str, dict[str, Any]] = {}
    for r in rows:
        c = carriers.setdefault(r["carrier"], {"amount": 0.0, "unit": r["unit"], "tce": None, "tco2": 0.0})
        c["amount"] += r["amount"] or 0.0
        if r["tce"] is not None:  # a carrier without a coefficient keeps tce None (and is named in notes)
            c["tce"] = (c["tce"] or 0.0) + r["tce"]
        c["tco2"] += r["tco2"] or 0.0
    scope1 = sum(r["tco2"] for r in rows if r["scope"] == "scope1")
    scope2 = sum(r["tco2"] for r in rows if r["scope"] == "scope2")
    return {
        "by_carrier": carriers,
        "tce": sum(c["tce"] or 0.0 for c in carriers.values()),
        "tco2": scope1 + scope2,
        "tco2_scope1": scope1,
        "tco2_scope2": scope2,
    }


def change(current: float | None, previous: float | None) -> float | None:
    """Relative change (0.1 = +10 %); None when there is nothing to compare with."""
    if current is None or not previous:
        return None
    return (current - previous) / previous


def shift_year(t: datetime, years: int = -1) -> datetime:
    """The same local calendar moment ``years`` away (29 Feb → 28 Feb)."""
    local = t.astimezone(PARK_TZ)
    try:
        moved = local.replace(year=local.year + years)
    except ValueError:
        moved = local.replace(year=local.year + years, day=28)
    return moved.astimezone(t.tzinfo)


def previous_window(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The window before ``[start, end)``: the previous calendar month(s) when the window is whole
    months (Asia/Shanghai), else the same length just before."""
    ls, le = start.astimezone(PARK_TZ), end.astimezone(PARK_TZ)
    whole = ls.day == 1 and le.day == 1 and ls.time() == le.time() == datetime.min.time()
    if whole:
        months = (le.year - ls.year) * 12 + le.month - ls.month
        y, m = divmod(ls.year * 12 + ls.month - 1 - months, 12)
        return ls.replace(year=y, month=m + 1).astimezone(start.tzinfo), start
    return start - (end - start), start


def prorate_days(start: datetime, end: datetime) -> tuple[float, int]:
    """Days in the window and days in the year it starts in (for prorating yearly output)."""
    year = start.astimezone(PARK_TZ).year
    days_in_year = 366 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 365
    return (end - start) / timedelta(days=1), days_in_year
