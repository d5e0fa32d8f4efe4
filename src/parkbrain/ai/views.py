"""The semantic views of the park assistant: ``sem_*`` TEMP tables on the connection that answers.

They are what the compiled (and any LLM-written) SQL reads, never the base tables. Each is built under
the caller's scope (``ViewScope``: the predicates ``Park`` takes from ``self.scope``), so a query over
them cannot reach rows the caller may not read. TEMP objects live on one DuckDB connection (a cursor of
the store) and work on a read-only database.

- ``sem_energy_daily``: consumption per meter point and Asia/Shanghai day from the rollups, exactly as
  the energy reports count it (``analytics.energy.consumption_query``: cumulative ``delta`` with
  rollovers, interval ``sum``, instant power × 1 h), in the carrier's unit (kWh, m3, t …), with ``tce``
  (GB/T 2589-2020 当量值, ``analytics.energy_factors``) and ``tco2`` (Scope 1 fuels + Scope 2 at the
  default grid factor of the energy reports, ``energy_factors.DEFAULT_FACTOR``).
- ``sem_aqi_daily``: the daily AQI of each air station (HJ 633, edition by date) from
  ``analytics.aqi_compute.compute_air_quality``.
- the others are the canonical tables with names joined in (enterprises, parks, buildings, devices,
  alerts).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import pyarrow as pa

from parkbrain.ai.semantic import VIEWS
from parkbrain.model.timeutil import PARK_TZ
from parkbrain.store.base import Predicate, Store, sql_string

_ALL: Predicate = ("TRUE", [])


@dataclass(frozen=True)
class ViewScope:
    """The caller's read predicates, over the aliases ``e`` (enterprises), ``a`` (alerts), ``b``
    (buildings), ``d`` (devices) and ``p``/``d`` (points and their device). Default: everything."""

    enterprises: Predicate = _ALL
    alerts: Predicate = _ALL
    buildings: Predicate = _ALL
    devices: Predicate = _ALL
    points: Predicate = _ALL

    @property
    def everything(self) -> bool:
        return all(
            p[0] == "TRUE" for p in (self.enterprises, self.alerts, self.buildings, self.devices, self.points)
        )


def day_start(d: date) -> datetime:
    """Asia/Shanghai midnight that starts ``d``."""
    return datetime.combine(d, time(0), tzinfo=PARK_TZ)


def data_days(store: Store) -> tuple[date, date] | None:
    """The first and last Asia/Shanghai day of the daily rollups (None when there are none)."""
    row = store.query_rows(
        "SELECT CAST(min(timezone('Asia/Shanghai', bucket)) AS DATE) AS lo, "
        "CAST(max(timezone('Asia/Shanghai', bucket)) AS DATE) AS hi FROM readings_1d"
    )[0]
    return None if row["lo"] is None else (row["lo"], row["hi"])


def create_semantic_views(
    con: Any,
    store: Store,
    scope: ViewScope | None = None,
    start: date | None = None,
    end: date | None = None,
    views: Iterable[str] = VIEWS,
) -> list[str]:
    """Create the ``views`` (default all) as TEMP tables on ``con`` (a cursor of ``store``), under
    ``scope``; daily facts for the days ``[start, end)`` (default: every day with data). Returns the
    names created."""
    scope = scope or ViewScope()
    wanted = set(views)
    span = data_days(store)
    lo = start or (span[0] if span else date(2000, 1, 1))
    hi = end or (span[1] + timedelta(days=1) if span else lo + timedelta(days=1))
    hi = max(hi, lo + timedelta(days=1))
    builders = {
        "sem_parks": lambda: _create(con, "sem_parks", _PARKS_SQL, []),
        "sem_enterprises": lambda: _create(
            con, "sem_enterprises", *_scoped(_ENTERPRISES_SQL, scope.enterprises)
        ),
        "sem_buildings": lambda: _create(con, "sem_buildings", *_scoped(_BUILDINGS_SQL, scope.buildings)),
        "sem_devices": lambda: _create(con, "sem_devices", *_scoped(_DEVICES_SQL, scope.devices)),
        "sem_alerts": lambda: _create(con, "sem_alerts", *_scoped(_ALERTS_SQL, scope.alerts)),
        "sem_energy_daily": lambda: _energy(con, store, scope.points, lo, hi),
        "sem_aqi_daily": lambda: _aqi(con, store, scope.points, lo, hi),
    }
    for name in VIEWS:
        if name in wanted:
            builders[name]()
    return [n for n in VIEWS if n in wanted]


# -- dimension tables ------------------------------------------------------------------------------

_CITY = """substr(pk.region_code, 1, 4) || '00'"""
_PARKS_SQL = f"""
SELECT pk.park_id, pk.name AS park_name, {_CITY} AS city_code,
       (SELECT r.name FROM regions r WHERE r.region_code = {_CITY}) AS city_name,
       pk.level, pk.kind, pk.approved_area_ha
FROM parks pk"""

_ENTERPRISES_SQL = f"""
SELECT e.enterprise_id, e.name AS enterprise_name, e.park_id, pk.name AS park_name, {_CITY} AS city_code,
       (SELECT r.name FROM regions r WHERE r.region_code = {_CITY}) AS city_name,
       e.industry_code, e.industry_name, e.employees, e.output_value_10k_cny,
       coalesce(e.key_energy_user, false) AS key_energy_user, e.building_id
FROM enterprises e LEFT JOIN parks pk ON pk.park_id = e.park_id"""

_BUILDINGS_SQL = """
SELECT b.building_id, coalesce(b.name, b.building_id) AS building_name, b.park_id, b.floors, b.area_m2
FROM buildings b"""

_DEVICES_SQL = """
SELECT d.device_id, coalesce(d.name, d.device_id) AS device_name, d.kind, d.park_id, d.enterprise_id,
       d.building_id
FROM devices d"""

_ALERTS_SQL = """
SELECT a.alert_id, a.ts, CAST(timezone('Asia/Shanghai', a.ts) AS DATE) AS day, a.park_id, a.enterprise_id,
       a.device_id, a.rule, a.severity, a.status
FROM alerts a"""


def _scoped(sql: str, predicate: Predicate) -> tuple[str, list[Any]]:
    text, params = predicate
    return (sql if text == "TRUE" else f"{sql} WHERE ({text})"), list(params)


def _create(con: Any, name: str, sql: str, params: list[Any]) -> None:
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}", params)


# -- energy ----------------------------------------------------------------------------------------


def _energy(con: Any, store: Store, points: Predicate, lo: date, hi: date) -> None:
    key = ("sem_energy_daily", points[0], tuple(_hashable(points[1])))
    table = _memoised(store, key, lo, hi, lambda: _energy_table(store, points, lo, hi))
    _create_from(con, "sem_energy_daily", table)


def _energy_table(store: Store, points: Predicate, lo: date, hi: date) -> pa.Table:
    """sem_energy_daily of the days ``[lo, hi)`` as an Arrow table (computed on a cursor of its own)."""
    from parkbrain.analytics.energy import Selection, consumption_query

    text, params = points
    selection = Selection("" if text == "TRUE" else text, tuple(params))
    query = consumption_query(store, selection, day_start(lo), day_start(hi), "day", ["point"])
    work = store.cursor()
    if query is None:
        return _arrow(work.sql(_EMPTY_ENERGY))
    sql, qparams, _notes = query
    _create(work, "_sem_consumption", f"SELECT period, point_id, carrier, unit, amount FROM ({sql})", qparams)
    try:
        pairs = work.execute("SELECT DISTINCT carrier, unit FROM _sem_consumption ORDER BY ALL").fetchall()
        factors = _factor_values(pairs, lo.year)
        return _arrow(
            work.sql(
                f"""WITH f(carrier, unit, tce_per_unit, tco2_per_unit) AS ({factors})
            SELECT c.period AS day, c.point_id, p.device_id, d.enterprise_id,
                   coalesce(d.building_id, e.building_id) AS building_id, d.park_id,
                   substr(pk.region_code, 1, 4) || '00' AS city_code, c.carrier, c.unit,
                   c.amount, c.amount * f.tce_per_unit AS tce, c.amount * f.tco2_per_unit AS tco2
            FROM _sem_consumption c
            JOIN points p ON p.point_id = c.point_id
            JOIN devices d ON d.device_id = p.device_id
            LEFT JOIN enterprises e ON e.enterprise_id = d.enterprise_id
            LEFT JOIN parks pk ON pk.park_id = d.park_id
            LEFT JOIN f ON f.carrier = c.carrier AND f.unit = c.unit"""
            )
        )
    finally:
        work.execute("DROP TABLE IF EXISTS _sem_consumption")


def _memoised(store: Store, key: tuple[Any, ...], lo: date, hi: date, compute: Any) -> pa.Table:
    """``compute()`` kept per process while the day rollups of ``[lo, hi)`` are unchanged (the console's
    cache, ``analytics.console_cache``; ``key`` holds the caller's scope)."""
    from parkbrain.analytics.console_cache import memoised

    return memoised(store, key, day_start(lo), day_start(hi), compute)


def _arrow(result: Any) -> pa.Table:
    """A relation as an Arrow table (``to_arrow_table`` since DuckDB 1.4, ``arrow`` before)."""
    fetch = getattr(result, "to_arrow_table", None) or result.arrow
    return fetch()


def _hashable(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(_hashable(v) for v in value)
    return value


def _create_from(con: Any, name: str, table: pa.Table) -> None:
    """A TEMP table ``name`` on ``con`` holding the Arrow ``table``."""
    temp = f"_arrow_{name}"
    con.register(temp, table)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {temp}")
    finally:
        con.unregister(temp)


_EMPTY_ENERGY = """
SELECT NULL::DATE AS day, NULL::VARCHAR AS point_id, NULL::VARCHAR AS device_id, NULL::VARCHAR AS enterprise_id,
       NULL::VARCHAR AS building_id, NULL::VARCHAR AS park_id, NULL::VARCHAR AS city_code,
       NULL::VARCHAR AS carrier, NULL::VARCHAR AS unit, NULL::DOUBLE AS amount, NULL::DOUBLE AS tce,
       NULL::DOUBLE AS tco2
WHERE false"""


def _factor_values(pairs: list[tuple[str, str]], year: int) -> str:
    """A VALUES list of (carrier, unit, tce per unit, tCO2 per unit), accounted as the energy reports
    do by default (当量值, the default grid factor). Numbers are formatted floats, never text."""
    from parkbrain.analytics.energy import Accounting, kgce_per_unit, tco2_per_unit
    from parkbrain.analytics.energy_factors import grid_factor

    acc = Accounting(mode="equivalent", factor=grid_factor(None), year=year)
    rows = []
    for carrier, unit in pairs:
        kgce, _ = kgce_per_unit(carrier, unit, acc)
        tco2, _, _ = tco2_per_unit(carrier, unit, acc)
        tce = "NULL::DOUBLE" if kgce is None else repr(float(kgce) / 1000)
        rows.append(f"({sql_string(carrier)}, {sql_string(unit)}, {tce}, {float(tco2)!r})")
    if not rows:
        return "SELECT NULL::VARCHAR, NULL::VARCHAR, NULL::DOUBLE, NULL::DOUBLE WHERE false"
    return "VALUES " + ", ".join(rows)


# -- air quality -----------------------------------------------------------------------------------


def _aqi(con: Any, store: Store, points: Predicate, lo: date, hi: date) -> None:
    key = ("sem_aqi_daily", points[0], tuple(_hashable(points[1])))
    table = _memoised(store, key, lo, hi, lambda: _aqi_table(store, points, lo, hi))
    _create_from(con, "sem_aqi_daily", table)


def _aqi_table(store: Store, points: Predicate, lo: date, hi: date) -> pa.Table:
    """sem_aqi_daily of the days ``[lo, hi)``: the stations' daily AQI with their park and city."""
    from parkbrain.analytics.aqi_compute import compute_air_quality

    result = compute_air_quality(store, points, None, day_start(lo), day_start(hi), "1d")
    table = pa.table(
        {
            "day": pa.array([date.fromisoformat(r["time"][:10]) for r in result["rows"]], pa.date32()),
            "device_id": pa.array([r["device_id"] for r in result["rows"]], pa.string()),
            "aqi": pa.array([_int(r.get("aqi")) for r in result["rows"]], pa.int32()),
            "primary_pollutant": pa.array([_primary(r) for r in result["rows"]], pa.string()),
            "level": pa.array([_int(r.get("level")) for r in result["rows"]], pa.int32()),
        }
    )
    work = store.cursor()
    work.register("_sem_aqi_rows", table)
    try:
        return _arrow(
            work.sql(
                """SELECT r.day, r.device_id, d.park_id, substr(pk.region_code, 1, 4) || '00' AS city_code,
                      r.aqi, r.primary_pollutant, r.level
               FROM _sem_aqi_rows r JOIN devices d ON d.device_id = r.device_id
               LEFT JOIN parks pk ON pk.park_id = d.park_id
               WHERE r.aqi IS NOT NULL"""
            )
        )
    finally:
        work.unregister("_sem_aqi_rows")


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _primary(row: dict[str, Any]) -> str | None:
    value = row.get("primary_pollutant", row.get("primary_pollutants"))
    if isinstance(value, (list, tuple)):
        return ",".join(value) or None
    return value or None
