"""Park methods for air quality and noise (mixed into ``core.Park``).

Reads go through the caller's scope (``self.scope.points``): a park role sees its park's own
stations, an enterprise its own and granted points, the province everything. Computations are in
``analytics.aqi*``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from parkbrain.analytics.aqi_standards import DEFAULT_NOISE_CLASS, DEFAULT_ZONE_CLASS

#: Default look-back of ``air_quality`` per interval, and of ``noise``.
DEFAULT_DAYS = {"1h": 7, "1d": 31}
NOISE_DAYS = 7


def _window(start: datetime | str | None, end: datetime | str | None, days: int) -> tuple[datetime, datetime]:
    """(start, end) in UTC: ISO text parsed (naive = Asia/Shanghai); ``end`` defaults to the next full
    hour, ``start`` to ``days`` before ``end``."""
    from parkbrain.errors import InvalidInput
    from parkbrain.model.timeutil import now_utc, parse_time

    def parse(value: datetime | str | None, name: str) -> datetime | None:
        if value is None or isinstance(value, datetime):
            return value
        try:
            parsed = parse_time(value, name)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
        except OverflowError:
            raise InvalidInput(f"{name}: {value!r} is out of range") from None
        if not 1900 <= parsed.year <= 2200:
            raise InvalidInput(f"{name}: {value!r} is outside the years 1900–2200")
        return parsed

    end_t = parse(end, "end") or now_utc().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    start_t = parse(start, "start") or end_t - timedelta(days=days)
    if end_t - start_t > timedelta(days=800):
        raise InvalidInput("start, end: at most 800 days at a time")
    return start_t, end_t


class AirFacet:
    """Air quality (HJ 633 AQI, GB 3095) and noise (GB 3096) of ``Park``."""

    def air_quality(
        self,
        park_id: str | None = None,
        start: datetime | str | None = None,
        end: datetime | str | None = None,
        interval: str = "1h",
        standard: str = "auto",
        zone_class: int = DEFAULT_ZONE_CLASS,
    ) -> dict[str, Any]:
        """Hourly (``1h``) or daily (``1d``) AQI of the air stations this view may read (one park's
        with ``park_id``), with GB 3095 exceedances (class-2 zone by default). ``standard``: ``auto``
        (HJ 633-2026 from 2026-03-01), ``2012`` or ``2026``."""
        from parkbrain.analytics.aqi_compute import compute_air_quality

        self.require("read")
        if park_id is not None:
            self.park(park_id)  # NotFound for unknown parks
        start_t, end_t = _window(start, end, DEFAULT_DAYS.get(interval, 7))
        result = compute_air_quality(
            self.store, self.scope.points("p", "d"), park_id, start_t, end_t, interval, standard, zone_class
        )
        self._audit_grant_reads(result["points"], "air_quality")
        return {"park_id": park_id, "start": start_t.isoformat(), "end": end_t.isoformat(), **result}

    def aqi_rows(
        self,
        rows: Sequence[Mapping[str, Any]],
        report: str = "hourly",
        standard: str = "auto",
    ) -> list[dict[str, Any]]:
        """AQI of given concentrations: each row has ``time`` (ISO; needed for ``standard=auto``) and
        the pollutants of the report (µg/m³, CO mg/m³; see ``analytics.aqi.compute_aqi``)."""
        from parkbrain.analytics.aqi import INDICATORS, compute_aqi
        from parkbrain.errors import InvalidInput
        from parkbrain.model.timeutil import PARK_TZ, parse_time

        self.require("read")
        keys = (*INDICATORS, "so2_24h")
        conc = {k: [_number(r.get(k), i, k) for i, r in enumerate(rows)] for k in keys}
        dates = None
        if standard == "auto":
            try:
                times = [parse_time(str(r["time"]), f"rows[{i}].time") for i, r in enumerate(rows)]
            except (KeyError, ValueError, OverflowError) as exc:
                raise InvalidInput(f"rows: each row needs its time for standard auto ({exc})") from None
            dates = [t.astimezone(PARK_TZ).date() for t in times]
        result = compute_aqi(conc, report, standard, dates) if rows else None
        return [{"time": r.get("time"), **result.row(i)} for i, r in enumerate(rows)] if result else []

    def noise(
        self,
        park_id: str | None = None,
        start: datetime | str | None = None,
        end: datetime | str | None = None,
        zone_class: str = DEFAULT_NOISE_CLASS,
    ) -> dict[str, Any]:
        """Day (06–22) and night (22–06) LAeq of the noise points this view may read, against
        GB 3096-2008 (class 3, industrial areas, by default)."""
        from parkbrain.analytics.aqi_compute import compute_noise

        self.require("read")
        if park_id is not None:
            self.park(park_id)
        start_t, end_t = _window(start, end, NOISE_DAYS)
        result = compute_noise(self.store, self.scope.points("p", "d"), park_id, start_t, end_t, zone_class)
        self._audit_grant_reads(result["points"], "noise")
        return {"park_id": park_id, "start": start_t.isoformat(), "end": end_t.isoformat(), **result}

    def air_standards(self) -> dict[str, Any]:
        """The reference tables (HJ 633, GB 3095, GB 3096, levels, alert rules) with their sources."""
        from parkbrain.analytics import aqi_standards as s
        from parkbrain.analytics.aqi_alerts import AQI_ALERT_RULES

        self.require("read")
        return {
            "aqi": [_edition(e) for e in s.EDITIONS.values()],
            "levels": [{**asdict(lv), "color": lv.color} for lv in s.LEVELS],
            "pollutants": [asdict(p) for p in s.POLLUTANT_INFO.values()],
            "gb3095": [asdict(e) for e in s.GB3095_EDITIONS],
            "validity": [asdict(v) for v in s.VALIDITY.values()],
            "noise": {"source": s.NOISE_SOURCE, "limits": [asdict(n) for n in s.NOISE_LIMITS.values()]},
            "alert_rules": [asdict(r) for r in AQI_ALERT_RULES],
        }

    def compute_aqi_alerts(
        self,
        park_id: str | None = None,
        start: datetime | str | None = None,
        end: datetime | str | None = None,
        standard: str = "auto",
    ) -> dict[str, Any]:
        """Evaluate the AQI-level alert rules over the window (default: the last 7 days) for the
        stations of one park (park roles: their own) or all, and write the alerts; re-running adds
        nothing. Returns the alert rows and counts (opened, updated, unchanged)."""
        from parkbrain.analytics.aqi_alerts import compute_aqi_alerts

        self.require("quality")
        park_id = self._own_park(park_id, "evaluates alerts of")
        if park_id is not None:
            self.park(park_id)
        start_t, end_t = _window(start, end, DEFAULT_DAYS["1h"])
        result = compute_aqi_alerts(
            self.store, self.scope.points("p", "d"), park_id, start_t, end_t, standard
        )
        self.audit.record(
            self.principal,
            "alerts.aqi",
            park_id or "all",
            park_id=park_id,
            detail={k: result[k] for k in ("opened", "updated", "unchanged")},
        )
        return result


def _number(value: Any, i: int, key: str) -> float:
    from parkbrain.errors import InvalidInput

    if value is None or value == "":
        return float("nan")
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = -1.0
    if not number >= 0 or number == float("inf"):
        raise InvalidInput(f"rows[{i}].{key}: expected a concentration ≥ 0; got {value!r}")
    return number


def _edition(e: Any) -> dict[str, Any]:
    from parkbrain.analytics.aqi_standards import IAQI_STEPS

    return {**asdict(e), "iaqi_steps": list(IAQI_STEPS)}


#: The CLI's operations on the file or through the server (``localops``); JSON-able in and out.
AIR_OPS: dict[str, Callable[..., Any]] = {
    "air_quality": lambda park, **kw: park.air_quality(**kw),
    "air_noise": lambda park, **kw: park.noise(**kw),
    "air_standards": lambda park: park.air_standards(),
    "air_alerts": lambda park, **kw: park.compute_aqi_alerts(**kw),
}
#: Those of them that write.
AIR_WRITES = frozenset({"air_alerts"})
