"""Building blocks of the console overviews: the caller's predicates, the period, the park load
curve (``readings_15m``) and the air-quality summary (``aqi_compute``).

Every query here writes its time bounds into the SQL as constants (from datetimes, never text), so
that DuckDB skips the row groups of the rollups outside them; none reads raw ``readings``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from parkbrain.analytics.aqi_compute import AIR_QUANTITIES, compute_air_quality
from parkbrain.model.tables import SEVERITIES
from parkbrain.model.timeutil import PARK_TZ, now_utc
from parkbrain.model.units import UnitError, conversion
from parkbrain.store.base import Store

Predicate = tuple[str, list[Any]]
#: The point quantity the park load curve adds up, and the unit it is shown in.
LOAD_QUANTITY = "active_power"
LOAD_UNIT = "kW"
#: How far back the "now" of air quality looks for a station's latest hourly AQI.
AIR_NOW_HOURS = 6
#: Days of daily AQI on the park page.
AIR_DAYS = 7
#: The points whose readings AQI reads (a predicate over ``point_id``; the quantities are constants).
AIR_POINTS = "point_id IN (SELECT point_id FROM points WHERE quantity IN ({}))".format(
    ", ".join(f"'{q}'" for q in AIR_QUANTITIES)
)


@dataclass(frozen=True)
class ConsoleScope:
    """The caller's row predicates (``Scope``'s SQL over the given aliases) and the parks it may see
    (None: all of them)."""

    enterprises: Predicate  # over e
    alerts: Predicate  # over a
    buildings: Predicate  # over b
    points: Predicate  # over p (points) and d (devices)
    parks: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Period:
    """This month so far: ``[start, end)`` in whole Asia/Shanghai days, through the day of ``as_of``
    (the latest reading the caller may see)."""

    start: datetime
    end: datetime
    as_of: datetime

    def as_dict(self) -> dict[str, str]:
        return {"start": iso(self.start), "end": iso(self.end), "as_of": iso(self.as_of)}


def iso(t: datetime | None) -> str | None:
    """ISO 8601 in UTC."""
    return t.astimezone(timezone.utc).isoformat() if t is not None else None


def literal(t: datetime) -> str:
    """A TIMESTAMPTZ constant for a datetime (microseconds since the epoch: no text from outside)."""
    return f"make_timestamptz({int(t.timestamp() * 1_000_000)})"


def clause(*predicates: Predicate) -> Predicate:
    """Predicates ANDed (``TRUE`` when none)."""
    parts = [sql for sql, _ in predicates if sql != "TRUE"]
    return (" AND ".join(f"({p})" for p in parts) or "TRUE"), [v for _, vs in predicates for v in vs]


def parks_predicate(scope: ConsoleScope, column: str) -> Predicate:
    if scope.parks is None:
        return "TRUE", []
    return f"list_contains(?::VARCHAR[], {column})", [list(scope.parks)]


# -- the period --------------------------------------------------------------------------------------


def latest_reading(store: Store, scope: ConsoleScope, extra: Predicate = ("TRUE", [])) -> datetime | None:
    """The time of the latest reading of a point the caller may read (``latest_readings``)."""
    where_sql, params = clause(scope.points, extra)
    row = store.query_rows(
        f"""SELECT max(l.ts) AS ts FROM latest_readings l JOIN points p USING (point_id)
            JOIN devices d USING (device_id) WHERE {where_sql}""",
        params,
    )
    return row[0]["ts"] if row else None


def local_midnight(t: datetime, days: int = 0) -> datetime:
    """Asia/Shanghai midnight of the day of ``t``, ``days`` days on, in UTC."""
    day = t.astimezone(PARK_TZ).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, tzinfo=PARK_TZ).astimezone(timezone.utc)


def month_start(t: datetime, months_back: int = 0) -> datetime:
    """Asia/Shanghai midnight of the first day of the month of ``t`` (``months_back`` months earlier)."""
    local = t.astimezone(PARK_TZ)
    y, m = divmod(local.year * 12 + local.month - 1 - months_back, 12)
    return datetime(y, m + 1, 1, tzinfo=PARK_TZ).astimezone(timezone.utc)


def this_month(as_of: datetime | None) -> Period:
    as_of = as_of or now_utc()
    return Period(month_start(as_of), local_midnight(as_of, 1), as_of)


# -- alerts ------------------------------------------------------------------------------------------


def worst_severity(severities: list[str | None]) -> str | None:
    """The most severe of ``severities`` (``model.tables.SEVERITIES`` is ordered info → critical)."""
    ranked = [SEVERITIES.index(s) for s in severities if s in SEVERITIES]
    return SEVERITIES[max(ranked)] if ranked else None


def alert_rows(store: Store, scope: ConsoleScope, filt: Predicate, limit: int = 50) -> list[dict[str, Any]]:
    """Alerts the caller may read that match ``filt`` (over ``a``), newest first."""
    where_sql, params = clause(scope.alerts, filt)
    return store.query_rows(
        f"SELECT a.* FROM alerts a WHERE {where_sql} ORDER BY a.ts DESC, a.alert_id LIMIT ?",
        [*params, limit],
    )


# -- the park load curve -----------------------------------------------------------------------------


def compute_load_curve(store: Store, scope: ConsoleScope, park_id: str) -> dict[str, Any]:
    """15-minute park total active power (kW): the sum over the park's ``active_power`` points the
    caller may read of each point's ``readings_15m`` mean, for today (the Asia/Shanghai day of their
    latest reading), yesterday and the same day last week."""
    pts = _load_points(store, scope, park_id)
    out: dict[str, Any] = {
        "unit": LOAD_UNIT,
        "points": len(pts),
        "today": [],
        "yesterday": [],
        "last_week": [],
    }
    if not pts:
        return out
    latest = store.query_rows(
        "SELECT max(ts) AS ts FROM latest_readings WHERE list_contains(?::VARCHAR[], point_id)",
        [[p for p, _ in pts]],
    )[0]["ts"]
    if latest is None:
        return out
    today = local_midnight(latest)
    days = {"today": today, "yesterday": today - timedelta(days=1), "last_week": today - timedelta(days=7)}
    ranges = " OR ".join(
        f"(r.bucket >= {literal(d)} AND r.bucket < {literal(d + timedelta(days=1))})" for d in days.values()
    )
    rows = store.query_rows(
        f"""WITH pts(point_id, factor) AS (SELECT unnest(?::VARCHAR[]), unnest(?::DOUBLE[]))
            SELECT r.bucket AS ts, sum(r.sum / r.n * pts.factor) AS value
            FROM readings_15m r JOIN pts USING (point_id)
            WHERE r.n > 0 AND r.bucket >= {literal(days["last_week"])} AND r.bucket < {literal(today + timedelta(days=1))}
              AND ({ranges})
            GROUP BY r.bucket ORDER BY r.bucket""",
        [[p for p, _ in pts], [f for _, f in pts]],
    )
    for name, start in days.items():
        end = start + timedelta(days=1)
        out[name] = [{"ts": iso(r["ts"]), "value": r["value"]} for r in rows if start <= r["ts"] < end]
    out["date"] = today.astimezone(PARK_TZ).date().isoformat()
    return out


def _load_points(store: Store, scope: ConsoleScope, park_id: str) -> list[tuple[str, float]]:
    """(point_id, factor to kW) of the park's active-power points the caller may read."""
    where_sql, params = clause(scope.points, ("d.park_id = ? AND p.quantity = ?", [park_id, LOAD_QUANTITY]))
    rows = store.query_rows(
        f"SELECT p.point_id, p.unit FROM points p JOIN devices d USING (device_id) WHERE {where_sql}", params
    )
    factors: dict[str, float | None] = {}
    out = []
    for r in rows:
        if r["unit"] not in factors:
            factors[r["unit"]] = _to_kw(r["unit"])
        if factors[r["unit"]] is not None:
            out.append((r["point_id"], factors[r["unit"]]))
    return out


def _to_kw(unit: str) -> float | None:
    try:
        factor, offset = conversion(unit, LOAD_UNIT)
    except UnitError:
        return None
    return None if offset else factor


# -- air quality -------------------------------------------------------------------------------------


def latest_aqi_by_park(
    store: Store, scope: ConsoleScope, as_of: datetime, park_id: str | None = None
) -> dict[str, dict[str, Any]]:
    """Per park, its worst station's latest hourly AQI row (HJ 633) in the hours before ``as_of``."""
    end = as_of.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    result = _air_quality(store, scope, park_id, end - timedelta(hours=AIR_NOW_HOURS), end, "1h")
    latest: dict[str, dict[str, Any]] = {}
    for row in result["rows"]:  # ordered by station and time: the last rated row of each station wins
        if row.get("aqi") is not None:
            latest[row["device_id"]] = row
    worst: dict[str, dict[str, Any]] = {}
    for row in latest.values():
        if row["park_id"] not in worst or row["aqi"] > worst[row["park_id"]]["aqi"]:
            worst[row["park_id"]] = row
    return worst


def _air_quality(
    store: Store, scope: ConsoleScope, park_id: str | None, start: datetime, end: datetime, interval: str
) -> dict[str, Any]:
    """``aqi_compute.compute_air_quality`` (HJ 633), kept while the rollups of its window are unchanged
    (the SO2 24-hour mean of the hourly report reads the day before too)."""
    from parkbrain.analytics.console_cache import memoised

    key = ("air", scope.points, park_id, interval)
    return memoised(
        store,
        key,
        start - timedelta(days=1),
        end,
        lambda: compute_air_quality(store, scope.points, park_id, start, end, interval),
        AIR_POINTS,
    )


def air_now(row: dict[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "aqi": row["aqi"],
        "level": row["level"],
        "category": row["category"],
        "category_en": row.get("category_en"),
        "primary_pollutant": row["primary_pollutant"],
        "time": iso(datetime.fromisoformat(row["time"])),
        "station": row.get("station"),
    }


def air_days(store: Store, scope: ConsoleScope, park_id: str, as_of: datetime) -> list[dict[str, Any]]:
    """The last ``AIR_DAYS`` days of daily AQI of the park (its worst station each day)."""
    end = local_midnight(as_of, 1)
    result = _air_quality(store, scope, park_id, end - timedelta(days=AIR_DAYS), end, "1d")
    days: dict[date, dict[str, Any]] = {}
    for row in result["rows"]:
        if row.get("aqi") is None:
            continue
        day = datetime.fromisoformat(row["time"]).date()
        if day not in days or row["aqi"] > days[day]["aqi"]:
            days[day] = {
                "date": day.isoformat(),
                "aqi": row["aqi"],
                "level": row["level"],
                "category": row["category"],
            }
    return [days[d] for d in sorted(days)]
