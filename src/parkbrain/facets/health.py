"""Park methods for equipment health and forecasting (mixed into ``core.Park``).

Reads go through the caller's scope (``self.scope.points``); writing alerts needs the ``quality``
permission and, for park roles, their own park. Computations are in ``analytics.anomaly*`` and
``analytics.forecast*``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

#: Device kinds whose instant points are checked by ``compute_equipment_alerts`` (rotating equipment).
EQUIPMENT_KINDS = ("Pump", "Motor", "Fan", "Compressor")
HEALTH_DAYS = 30
MAX_SENSORS = 64
FORECAST_HISTORY_DAYS = {"15m": 120, "1h": 120, "1d": 400}
SLOTS = {"15m": timedelta(minutes=15), "1h": timedelta(hours=1), "1d": timedelta(days=1)}


def _window(start: Any, end: Any, days: int) -> tuple[datetime, datetime]:
    from parkbrain.facets.air import _window as air_window

    return air_window(start, end, days)


class HealthFacet:
    """Equipment anomaly detection with fault hints, and load forecasts, of ``Park``."""

    def detect_rows(self, rows: Sequence[Mapping[str, Any]], train_rows: int = 400) -> list[dict[str, Any]]:
        """Score rows of sensor values (``{sensor: number}``, time order; the first ``train_rows`` are
        taken as normal): per row ``row``, ``score``, ``anomaly`` (0/1), ``top_sensors``."""
        import pandas as pd

        from parkbrain.analytics.anomaly import compute_anomaly_scores
        from parkbrain.errors import InvalidInput

        self.require("read")
        if not rows:
            raise InvalidInput("rows: expected at least one row of sensor values")
        names = [
            str(k) for k in rows[0] if str(k) not in ("ts", "time", "datetime", "anomaly", "changepoint")
        ]
        if not 2 <= len(names) <= MAX_SENSORS:
            raise InvalidInput(
                f"rows[0]: {len(names)} sensors; expected 2 to {MAX_SENSORS} sensor values a row"
            )
        data = {}
        for name in names:
            try:
                data[name] = [float(r[name]) for r in rows]
            except (KeyError, TypeError, ValueError):
                bad = next(i for i, r in enumerate(rows) if not _is_number(r.get(name)))
                raise InvalidInput(
                    f"rows[{bad}].{name}: expected a number; got {rows[bad].get(name)!r}"
                ) from None
        scored = compute_anomaly_scores(pd.DataFrame(data), train_rows=train_rows, source="rows")
        return scored.to_dict(orient="records")

    def device_health(
        self, device_id: str, start: datetime | str | None = None, end: datetime | str | None = None
    ) -> dict[str, Any]:
        """Anomaly episodes of a device's instant points in the window (default: the last 30 days), each with
        the sensors that contributed most; nothing is written."""
        from parkbrain.analytics.anomaly_devices import compute_device_health

        self.require("read")
        start_t, end_t = _window(start, end, HEALTH_DAYS)
        result = compute_device_health(self.store, self.scope.points("p", "d"), device_id, start_t, end_t)
        result.pop("alerts")
        return {"start": start_t.isoformat(), "end": end_t.isoformat(), **result}

    def compute_equipment_alerts(
        self,
        park_id: str | None = None,
        device_id: str | None = None,
        start: datetime | str | None = None,
        end: datetime | str | None = None,
    ) -> dict[str, Any]:
        """Check the rotating equipment (pumps, motors, fans, compressors) of one park (park roles: their
        own) or one device, and write an ``equipment_anomaly`` alert per anomaly episode with its fault
        hint; re-running adds nothing. Returns the alerts, counts (opened, updated, unchanged) and
        ``labels``: the machines alerted against those with a fault in ``fault_labels`` in the window."""
        from parkbrain.analytics.anomaly_devices import (
            compute_device_health,
            compute_label_check,
            write_equipment_alerts,
        )

        self.require("quality")
        park_id = self._own_park(park_id, "evaluates alerts of")
        start_t, end_t = _window(start, end, HEALTH_DAYS)
        devices = self._equipment(park_id, device_id)
        alerts, checked = [], []
        for dev in devices:
            result = compute_device_health(self.store, self.scope.points("p", "d"), dev, start_t, end_t)
            alerts += result["alerts"]
            checked.append(dev)
        counts = write_equipment_alerts(self.store, alerts)
        self.audit.record(
            self.principal, "alerts.equipment", park_id or device_id or "all", park_id=park_id, detail=counts
        )
        labels = compute_label_check(self.store, checked, alerts, start_t, end_t)
        return {"devices": checked, "alerts": alerts, "labels": labels, **counts}

    def _equipment(self, park_id: str | None, device_id: str | None) -> list[str]:
        from parkbrain.store.base import where

        filters = [
            self.scope.points("p", "d"),
            ("list_contains(?::VARCHAR[], d.kind)", [list(EQUIPMENT_KINDS)]),
            ("p.value_kind = 'instant'", []),
        ]
        if park_id is not None:
            filters.append(("d.park_id = ?", [park_id]))
        if device_id is not None:
            filters.append(("d.device_id = ?", [device_id]))
        where_sql, params = where(*filters)
        rows = self.store.query_rows(
            "SELECT d.device_id FROM points p JOIN devices d USING (device_id) "
            f"{where_sql} GROUP BY d.device_id HAVING count(*) >= 2 ORDER BY d.device_id",
            params,
        )
        if device_id is not None and not rows:
            from parkbrain.errors import NotFound

            raise NotFound(f"no equipment device {device_id!r} ({', '.join(EQUIPMENT_KINDS)}) in your scope")
        return [r["device_id"] for r in rows]

    def forecast_point(
        self, point_id: str, interval: str = "15m", horizon_days: int = 1, holidays: str = "cn"
    ) -> dict[str, Any]:
        """Forecast a point's next ``horizon_days`` whole days at ``interval`` (15m, 1h, 1d) with an interval,
        from its rollups: energy points forecast their consumption, others their mean value."""
        from dataclasses import replace

        from parkbrain.analytics.console_cache import memoised
        from parkbrain.analytics.forecast import DEFAULT_PARAMS, compute_forecast, series_from_readings
        from parkbrain.errors import InvalidInput
        from parkbrain.store.base import sql_string

        if interval not in SLOTS:
            raise InvalidInput(f"interval {interval!r}: expected one of {', '.join(SLOTS)}")
        end = self.readings(point_id, interval=interval).end  # the caller may read the point (scope)
        start = end - timedelta(days=FORECAST_HISTORY_DAYS[interval])

        def compute() -> dict[str, Any]:
            readings = self.readings(point_id, start, end, interval)
            series = series_from_readings(readings.table, readings.point["value_kind"])
            params = replace(DEFAULT_PARAMS, holidays=holidays)
            frame = compute_forecast(series, SLOTS[interval], horizon_days, params)
            return {
                "point_id": point_id,
                "interval": interval,
                "horizon_days": horizon_days,
                "value": "consumption" if readings.point["value_kind"] != "instant" else "mean",
                "unit": readings.point["unit"],
                "interval_coverage_nominal": params.interval,
                "rows": frame.to_dict(orient="records"),
            }

        # The same history gives the same forecast: kept while the point's day rollups are unchanged
        # (the enterprise page asks again on every visit).
        key = ("forecast", point_id, interval, horizon_days, holidays)
        return memoised(self.store, key, start, end, compute, points=f"point_id = {sql_string(point_id)}")

    def energy_forecast(
        self,
        park_id: str | None = None,
        enterprise_id: str | None = None,
        carrier: str = "electricity",
        by: str | None = None,
        today: str | None = None,
        holidays: str = "cn",
    ) -> list[dict[str, Any]]:
        """This month's daily consumption forecast beside the actual (each past day forecast day-ahead),
        with month totals, for the selected points together or ``by`` enterprise or park (scoped)."""
        from parkbrain.analytics.forecast_energy import compute_month_forecasts

        selection = self._energy_selection(park_id, enterprise_id, None)
        return compute_month_forecasts(self.store, selection, carrier, _today(today), by, holidays)

    def compute_forecast_alerts(
        self, park_id: str | None = None, carrier: str = "electricity", today: str | None = None
    ) -> dict[str, Any]:
        """Write an ``energy_forecast_deviation`` alert for each enterprise whose consumption this month runs
        more than 30 % off its forecast (one alert per enterprise, carrier and month; re-running updates it)."""
        from parkbrain.analytics.anomaly_devices import write_equipment_alerts
        from parkbrain.analytics.forecast_energy import FORECAST_DEVIATION, deviation_alert

        self.require("quality")
        park_id = self._own_park(park_id, "evaluates alerts of")
        results = self.energy_forecast(park_id, None, carrier, "enterprise", today)
        alerts = [a for a in (deviation_alert(r) for r in results) if a is not None]
        counts = write_equipment_alerts(self.store, alerts)
        self.audit.record(self.principal, "alerts.forecast", park_id or "all", park_id=park_id, detail=counts)
        return {"rule": FORECAST_DEVIATION.rule, "checked": len(results), "alerts": alerts, **counts}


def _today(text: str | None) -> date:
    from parkbrain.errors import InvalidInput
    from parkbrain.model.timeutil import CST

    if text is None:
        return datetime.now(CST).date()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"today: expected an ISO date like 2026-11-20; got {text!r}") from None


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


#: Operations the CLI runs through ``localops`` (on the file, or through the server that holds it).
HEALTH_OPS = {
    "device_health": lambda park, **kw: park.device_health(**kw),
    "equipment_alerts": lambda park, **kw: park.compute_equipment_alerts(**kw),
    "forecast_point": lambda park, **kw: park.forecast_point(**kw),
    "energy_forecast": lambda park, **kw: park.energy_forecast(**kw),
    "forecast_alerts": lambda park, **kw: park.compute_forecast_alerts(**kw),
}
#: Those of them that write.
HEALTH_WRITES = frozenset({"equipment_alerts", "forecast_alerts"})
