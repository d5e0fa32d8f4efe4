"""The web console's overviews — province, park, enterprise — from the rollups and ``latest_readings``.

Nothing here re-derives a number another module owns: consumption, tce (GB/T 2589-2020) and tCO2
(the default grid factor) come from ``analytics.energy`` over ``readings_1d`` / ``readings_1h``; AQI
(HJ 633) from ``analytics.aqi_compute``; the load curve from ``readings_15m`` (``console_parts``).
The period is this month so far (Asia/Shanghai), through the day of the latest reading the caller
may see. The caller's scope arrives as SQL predicates (``ConsoleScope``) and an energy ``Selection``.
Consumption and AQI are memoised while the day rollups they read are unchanged (``console_cache``).

Aggregates over several parks (the province KPIs, a prefecture's value) add the parks' energy and
carbon, and take the worst (highest) AQI: a park's AQI is that of its worst station's latest hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from parkbrain.analytics.console_cache import consumption_rows
from parkbrain.analytics.console_parts import (
    ConsoleScope,
    Period,
    Predicate,
    air_days,
    air_now,
    alert_rows,
    clause,
    compute_load_curve,
    latest_aqi_by_park,
    latest_reading,
    month_start,
    parks_predicate,
    this_month,
    worst_severity,
)
from parkbrain.analytics.energy import (
    Accounting,
    Selection,
    account,
    prorate_days,
    totals,
)
from parkbrain.errors import InvalidInput
from parkbrain.model.timeutil import PARK_TZ
from parkbrain.store.base import Store

#: Months of history on the enterprise page.
MONTHS = 12
#: Alerts listed on the park and enterprise pages.
ALERTS_SHOWN = 50


@dataclass(frozen=True)
class Layer:
    """A province map layer: the park field it shows, its unit and how parks combine into a region."""

    name: str
    field: str
    unit: str
    combine: str  # sum | max
    label_zh: str
    label_en: str


LAYERS: dict[str, Layer] = {
    "energy": Layer("energy", "energy_tce", "tce", "sum", "综合能耗 (GB/T 2589-2020)", "Energy use"),
    "carbon": Layer("carbon", "carbon_tco2", "tCO2", "sum", "二氧化碳排放", "CO2 emissions"),
    "aqi": Layer("aqi", "aqi", "AQI", "max", "空气质量指数 (HJ 633, 最差站点)", "Air quality index (worst)"),
}


def check_layer(layer: str) -> Layer:
    if layer not in LAYERS:
        raise InvalidInput(f"layer: expected one of {', '.join(LAYERS)}; got {layer!r}")
    return LAYERS[layer]


# -- province ----------------------------------------------------------------------------------------


def compute_province_overview(
    store: Store, scope: ConsoleScope, selection: Selection, layer: str, acc: Accounting
) -> dict[str, Any]:
    """KPIs, the choropleth value per prefecture, the parks (points on the map) and their ranking."""
    lay = check_layer(layer)
    period = this_month(latest_reading(store, scope))
    parks = _parks(store, scope)
    energy = _energy_by(store, selection, period, "park", acc)
    enterprises = _counts(store, "enterprises e", scope.enterprises, "e.park_id", scope)
    alerts = _open_alerts(store, scope)
    aqi = latest_aqi_by_park(store, scope, period.as_of)
    rows = []
    for p in parks:
        e = energy.get(p["park_id"])
        a = alerts.get(p["park_id"], {})
        rows.append(
            {
                **p,
                "enterprises": enterprises.get(p["park_id"], 0),
                "energy_tce": e["tce"] if e else None,
                "carbon_tco2": e["tco2"] if e else None,
                "open_alerts": a.get("n", 0),
                "worst_severity": worst_severity(a.get("severities") or []),
                "aqi": aqi[p["park_id"]]["aqi"] if p["park_id"] in aqi else None,
            }
        )
    return {
        "layer": lay.name,
        "unit": lay.unit,
        "label": {"zh": lay.label_zh, "en": lay.label_en},
        "period": period.as_dict(),
        "kpis": _kpis(rows),
        "prefectures": _prefectures(store, rows, lay),
        "parks": rows,
        "ranking": _ranking(rows, lay),
    }


def _parks(store: Store, scope: ConsoleScope) -> list[dict[str, Any]]:
    where_sql, params = parks_predicate(scope, "p.park_id")
    return store.query_rows(
        f"""SELECT p.park_id, p.name, p.lon, p.lat, p.region_code,
                   substr(p.region_code, 1, 4) || '00' AS prefecture_code
            FROM parks p WHERE {where_sql} ORDER BY p.region_code, p.park_id""",
        params,
    )


def _counts(store: Store, table: str, pred: Predicate, key: str, scope: ConsoleScope) -> dict[str, int]:
    where_sql, params = clause(pred, parks_predicate(scope, key))
    rows = store.query_rows(
        f"SELECT {key} AS k, count(*) AS n FROM {table} WHERE {where_sql} GROUP BY 1", params
    )
    return {r["k"]: r["n"] for r in rows}


def _open_alerts(store: Store, scope: ConsoleScope, key: str = "park_id") -> dict[str, dict[str, Any]]:
    """Per park (or enterprise): open alerts (not closed) the caller may read, and their severities."""
    where_sql, params = clause(
        scope.alerts, parks_predicate(scope, "a.park_id"), ("a.status <> 'closed'", [])
    )
    rows = store.query_rows(
        f"""SELECT a.{key} AS k, count(*) AS n, list(DISTINCT a.severity) AS severities
            FROM alerts a WHERE {where_sql} AND a.{key} IS NOT NULL GROUP BY 1""",
        params,
    )
    return {r["k"]: r for r in rows}


def _energy_by(
    store: Store, selection: Selection, period: Period, dim: str, acc: Accounting
) -> dict[str, dict[str, Any]]:
    """Per park or enterprise: tce, tCO2 and electricity kWh of the period (``analytics.energy``)."""
    usage = consumption_rows(store, selection, period.start, period.end, period.as_of, "total", (dim,))
    rows, _ = account(usage.rows, acc)
    out: dict[str, dict[str, Any]] = {}
    for key in {r[f"{dim}_id"] for r in rows}:
        mine = [r for r in rows if r[f"{dim}_id"] == key]
        t = totals(mine)
        kwh = sum(r["amount"] or 0.0 for r in mine if r["carrier"] == "electricity" and r["unit"] == "kWh")
        out[key] = {"tce": t["tce"], "tco2": t["tco2"], "kwh": kwh}
    return out


def _kpis(rows: list[dict[str, Any]]) -> dict[str, Any]:
    aqis = [r["aqi"] for r in rows if r["aqi"] is not None]
    return {
        "parks": len(rows),
        "enterprises": sum(r["enterprises"] for r in rows),
        "energy_tce": sum(r["energy_tce"] or 0.0 for r in rows),
        "carbon_tco2": sum(r["carbon_tco2"] or 0.0 for r in rows),
        "open_alerts": sum(r["open_alerts"] for r in rows),
        "aqi": max(aqis) if aqis else None,
    }


def _prefectures(store: Store, rows: list[dict[str, Any]], lay: Layer) -> list[dict[str, Any]]:
    regions = store.query_rows(
        "SELECT region_code, name FROM regions WHERE level = 'prefecture' ORDER BY region_code"
    )
    out = []
    for region in regions:
        values = [
            r[lay.field]
            for r in rows
            if r["prefecture_code"] == region["region_code"] and r[lay.field] is not None
        ]
        value = (sum(values) if lay.combine == "sum" else max(values)) if values else None
        out.append({"region_code": region["region_code"], "name": region["name"], "value": value})
    return out


def _ranking(rows: list[dict[str, Any]], lay: Layer) -> list[dict[str, Any]]:
    ranked = [r for r in rows if r[lay.field] is not None]
    ranked.sort(key=lambda r: (-r[lay.field], r["park_id"]))
    return [{"park_id": r["park_id"], "name": r["name"], "value": r[lay.field]} for r in ranked]


# -- park --------------------------------------------------------------------------------------------


def compute_park_overview(
    store: Store,
    scope: ConsoleScope,
    selection: Selection,
    park: dict[str, Any],
    acc: Accounting,
) -> dict[str, Any]:
    """One park's page: buildings, enterprises (this month's energy and carbon, open alerts), the
    load curve, air quality (now and the last days) and its open alerts."""
    park_id = park["park_id"]
    in_park = ("d.park_id = ?", [park_id])
    period = this_month(latest_reading(store, scope, in_park))
    return {
        "park": park,
        "period": period.as_dict(),
        "buildings": _buildings(store, scope, park_id),
        "enterprises": _park_enterprises(store, scope, selection, park_id, period, acc),
        "load_curve": compute_load_curve(store, scope, park_id),
        "air": {
            "now": air_now(latest_aqi_by_park(store, scope, period.as_of, park_id).get(park_id)),
            "days": air_days(store, scope, park_id, period.as_of),
        },
        "alerts": alert_rows(
            store, scope, ("a.park_id = ? AND a.status <> 'closed'", [park_id]), ALERTS_SHOWN
        ),
    }


def _buildings(store: Store, scope: ConsoleScope, park_id: str) -> list[dict[str, Any]]:
    where_sql, params = clause(scope.buildings, ("b.park_id = ?", [park_id]))
    rows = store.query_rows(
        f"""SELECT b.building_id, b.name, b.floors, b.area_m2, b.footprint
            FROM buildings b WHERE {where_sql} ORDER BY b.building_id""",
        params,
    )
    return [{**r, "footprint": _json(r["footprint"])} for r in rows]


def _park_enterprises(
    store: Store,
    scope: ConsoleScope,
    selection: Selection,
    park_id: str,
    period: Period,
    acc: Accounting,
) -> list[dict[str, Any]]:
    where_sql, params = clause(scope.enterprises, ("e.park_id = ?", [park_id]))
    rows = store.query_rows(
        f"""SELECT e.enterprise_id, e.name, e.industry_name, e.lon, e.lat, e.building_id
            FROM enterprises e WHERE {where_sql} ORDER BY e.enterprise_id""",
        params,
    )
    energy = _energy_by(store, selection, period, "enterprise", acc)
    alerts = _open_alerts(store, scope, "enterprise_id")
    out = []
    for r in rows:
        e = energy.get(r["enterprise_id"])
        out.append(
            {
                **r,
                "energy_kwh": e["kwh"] if e else None,
                "energy_tce": e["tce"] if e else None,
                "carbon_tco2": e["tco2"] if e else None,
                "open_alerts": alerts[r["enterprise_id"]]["n"] if r["enterprise_id"] in alerts else 0,
            }
        )
    return out


def _json(text: Any) -> Any:
    import json

    return json.loads(text) if isinstance(text, str) else text


# -- enterprise --------------------------------------------------------------------------------------


def compute_enterprise_overview(
    store: Store,
    scope: ConsoleScope,
    selection: Selection,
    enterprise: dict[str, Any],
    acc: Accounting,
) -> dict[str, Any]:
    """One enterprise's page: its meters and their latest values, this month's consumption by
    carrier, 12 months of tce and tCO2, carbon with the factor used, 单位产值能耗 and its alerts."""
    eid = enterprise["enterprise_id"]
    period = this_month(latest_reading(store, scope, ("d.enterprise_id = ?", [eid])))
    first = month_start(period.as_of, MONTHS - 1)
    usage = consumption_rows(store, selection, first, period.end, period.as_of, "month")  # all 12 months
    rows, used = account(usage.rows, acc)
    this = period.start.astimezone(PARK_TZ).date()
    total = totals([r for r in rows if r["period"] == this])
    current = total["by_carrier"]
    return {
        "enterprise": enterprise,
        "period": period.as_dict(),
        "meters": _meters(store, scope, eid),
        "consumption": [
            {"carrier": c, "value": v["amount"], "unit": v["unit"], "tce": v["tce"], "tco2": v["tco2"]}
            for c, v in sorted(current.items())
        ],
        "monthly": _monthly(rows, period),
        "carbon": _carbon(total, acc) if current else None,
        "intensity_tce_per_10k_cny": _intensity(enterprise, total["tce"], period) if current else None,
        "coefficients": used["coefficients"],
        "notes": usage.notes,
        "alerts": alert_rows(store, scope, ("a.enterprise_id = ?", [eid]), ALERTS_SHOWN),
    }


def _meters(store: Store, scope: ConsoleScope, enterprise_id: str) -> list[dict[str, Any]]:
    """The enterprise's devices the caller may read, each with its points and their latest values."""
    where_sql, params = clause(scope.points, ("d.enterprise_id = ?", [enterprise_id]))
    rows = store.query_rows(
        f"""SELECT d.device_id, d.name, d.kind, p.point_id, p.quantity, p.unit, p.value_kind,
                   p.energy_carrier, l.ts AS latest_ts, l.value AS latest_value
            FROM points p JOIN devices d USING (device_id) LEFT JOIN latest_readings l USING (point_id)
            WHERE {where_sql} ORDER BY d.device_id, p.point_id""",
        params,
    )
    devices: dict[str, dict[str, Any]] = {}
    for r in rows:
        device = devices.setdefault(
            r["device_id"], {"device_id": r["device_id"], "name": r["name"], "kind": r["kind"], "points": []}
        )
        device["points"].append(
            {
                k: r[k]
                for k in ("point_id", "quantity", "unit", "value_kind", "energy_carrier", "latest_value")
            }
            | {"latest_ts": r["latest_ts"]}
        )
    return list(devices.values())


def _monthly(rows: list[dict[str, Any]], period: Period) -> list[dict[str, Any]]:
    """tce and tCO2 of each of the last ``MONTHS`` months (null for a month with no consumption),
    from the accounted monthly consumption rows."""
    out = []
    for i in range(MONTHS - 1, -1, -1):
        month = month_start(period.as_of, i).astimezone(PARK_TZ).date()
        mine = [r for r in rows if r["period"] == month]
        t = totals(mine) if mine else None
        out.append(
            {
                "month": f"{month.year}-{month.month:02d}",
                "energy_tce": t["tce"] if t else None,
                "carbon_tco2": t["tco2"] if t else None,
            }
        )
    return out


def _carbon(total: dict[str, Any], acc: Accounting) -> dict[str, Any]:
    f = acc.factor
    factor = None
    if f is not None:
        factor = {
            "key": f.key,
            "name": f"{f.area} {f.year} ({f.caliber})",
            "value": f.kgco2_per_kwh,
            "unit": "kgCO2/kWh",
            "source": f.source.cite(),
        }
    return {
        "tco2": total["tco2"],
        "tco2_scope1": total["tco2_scope1"],
        "tco2_scope2": total["tco2_scope2"],
        "factor": factor,
    }


def _intensity(enterprise: dict[str, Any], tce: float, period: Period) -> float | None:
    """单位产值能耗: tce over the yearly output value prorated to the period's days."""
    output = enterprise.get("output_value_10k_cny")
    if not output:
        return None
    days, days_in_year = prorate_days(period.start, period.end)
    return tce / (output * days / days_in_year)
