"""AQI-level alert rules, declared as data, and their evaluation over a station's AQI rows.

A rule opens one alert per **episode**: consecutive hours (``1h``) or days (``1d``) of one station
whose AQI level is at least ``min_level``. The alert's ``ts`` is the episode's first bucket, its
``value`` the highest AQI of the episode, its ``point_id`` the station's point of the primary
pollutant at the peak; it is ``closed`` once a later bucket of the station is rated below the level
(else ``open``). Alert ids hash the rule, the station and the start (``alert_engine.alert_id``), so
evaluating the same window again rewrites the same rows and adds nothing; an alert someone
acknowledged stays acknowledged until the episode ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from parkbrain.analytics.alert_engine import ALERT_COLUMNS, alert_id
from parkbrain.analytics.aqi_compute import (
    AIR_QUANTITIES,
    STANDARD_UNITS,
    compute_air_quality,
    station_points,
)
from parkbrain.analytics.aqi_standards import LEVELS
from parkbrain.model.tables import SEVERITIES
from parkbrain.store.base import Store

_LEVEL_SOURCE = (
    "HJ 633-2026 表1 / HJ 633-2012 表2 空气质量指数级别 (四级 中度污染 151–200, 五级 重度污染 201–300)"
)


@dataclass(frozen=True, kw_only=True)
class AqiLevelRule:
    """Open an alert while a station's AQI level (1…6) is at least ``min_level`` at ``interval``."""

    rule: str
    interval: str  # 1h (real-time AQI) or 1d (daily AQI)
    min_level: int
    severity: str
    message_zh: str  # fields: station, level_name, category, aqi (peak), start, primary
    source: str

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"rule {self.rule}: severity must be one of {', '.join(SEVERITIES)}")
        if self.interval not in ("1h", "1d") or not 1 <= self.min_level <= len(LEVELS):
            raise ValueError(f"rule {self.rule}: interval 1h or 1d, min_level 1…{len(LEVELS)}")


_PERIOD = {"1h": "小时", "1d": "日"}


def _rule(rule: str, interval: str, min_level: int, severity: str) -> AqiLevelRule:
    lvl = LEVELS[min_level - 1]
    return AqiLevelRule(
        rule=rule,
        interval=interval,
        min_level=min_level,
        severity=severity,
        message_zh=(
            f"{{station}} {_PERIOD[interval]} AQI {{aqi}}（{{level_name}} {{category}}），自 {{start}} 起达到"
            f"{lvl.name_zh}（{lvl.category_zh}）及以上，首要污染物 {{primary}}"
        ),
        source=_LEVEL_SOURCE + "; thresholds for alerts: ParkBrain default, tune per park",
    )


AQI_ALERT_RULES: tuple[AqiLevelRule, ...] = (
    _rule("aqi_hourly_moderate", "1h", 4, "warning"),
    _rule("aqi_hourly_heavy", "1h", 5, "critical"),
    _rule("aqi_daily_moderate", "1d", 4, "warning"),
)


def _episodes(
    device: np.ndarray, ts_us: np.ndarray, hit: np.ndarray, step_us: int
) -> tuple[np.ndarray, np.ndarray]:
    """(first row, last row) of each run of ``hit`` rows of one device in consecutive buckets (rows
    sorted by device, time)."""
    n = len(hit)
    prev_hit = np.zeros(n, bool)
    prev_hit[1:] = hit[:-1] & hit[1:] & (device[1:] == device[:-1]) & (ts_us[1:] - ts_us[:-1] == step_us)
    starts = np.flatnonzero(hit & ~prev_hit)
    next_hit = np.zeros(n, bool)
    next_hit[:-1] = prev_hit[1:]
    ends = np.flatnonzero(hit & ~next_hit)
    return starts, ends


def aqi_alert_rows(
    rows: list[dict[str, Any]], rule: AqiLevelRule, points: dict[tuple[str, str], str]
) -> list[dict[str, Any]]:
    """Alert rows of ``rule`` over AQI rows of one interval (sorted by station and time, as
    ``compute_air_quality`` returns them). ``points`` maps (device_id, quantity) to its point_id."""
    if not rows:
        return []
    device = np.array([r["device_id"] for r in rows], dtype=object)
    ts = [datetime.fromisoformat(r["time"]) for r in rows]
    ts_us = np.array([int(t.timestamp() * 1_000_000) for t in ts], np.int64)
    level = np.array([r["level"] or 0 for r in rows], np.int64)
    rated = level > 0
    step = 3_600_000_000 if rule.interval == "1h" else 86_400_000_000
    starts, ends = _episodes(device, ts_us, level >= rule.min_level, step)
    out = []
    for s, e in zip(starts, ends):  # one per episode: few
        peak = s + int(np.argmax([rows[i]["aqi"] for i in range(s, e + 1)]))
        later = np.flatnonzero((device == device[s]) & (ts_us > ts_us[e]) & rated)
        out.append(_alert(rule, rows[s], rows[peak], points, closed=len(later) > 0))
    return out


def _alert(
    rule: AqiLevelRule,
    first: dict[str, Any],
    peak: dict[str, Any],
    points: dict[tuple[str, str], str],
    closed: bool,
) -> dict[str, Any]:
    primary = peak["primary_pollutants"] or []
    quantity = primary[0].replace("o3_8h", "o3") if primary else "pm2_5"
    point_id = points.get((first["device_id"], quantity))
    start = datetime.fromisoformat(first["time"])
    text = rule.message_zh.format(
        station=first["station"],
        aqi=peak["aqi"],
        level_name=peak["level_name"],
        category=peak["category"],
        start=start.strftime("%Y-%m-%d %H:%M" if rule.interval == "1h" else "%Y-%m-%d"),
        primary=peak["primary_pollutant"] or "—",
    )
    return {
        "alert_id": alert_id(rule.rule, first["device_id"], int(start.timestamp() * 1_000_000)),
        "ts": start,
        "park_id": first["park_id"],
        "enterprise_id": None,
        "device_id": first["device_id"],
        "point_id": point_id,
        "rule": rule.rule,
        "severity": rule.severity,
        "message": text,
        "status": "closed" if closed else "open",
        "value": float(peak["aqi"]),
    }


#: An alert's status only moves forward: a re-run never reopens what a person acknowledged or closed.
_STATUS_RANK = {"open": 0, "acknowledged": 1, "closed": 2}


def write_aqi_alerts(store: Store, alerts: list[dict[str, Any]]) -> dict[str, int]:
    """Upsert ``alerts``; a stored status never moves back (acknowledged or closed by a person stays so).
    Returns counts: ``opened`` (new ids), ``updated``, ``unchanged``."""
    if not alerts:
        return {"opened": 0, "updated": 0, "unchanged": 0}
    stored = {
        r["alert_id"]: r
        for r in store.query_rows(
            f"SELECT {', '.join(ALERT_COLUMNS)} FROM alerts WHERE list_contains(?::VARCHAR[], alert_id)",
            [[a["alert_id"] for a in alerts]],
        )
    }
    counts = {"opened": 0, "updated": 0, "unchanged": 0}
    changed = []
    for a in alerts:
        old = stored.get(a["alert_id"])
        if old is not None and _STATUS_RANK[old["status"]] > _STATUS_RANK[a["status"]]:
            a = {**a, "status": old["status"]}  # acknowledged or closed by a person stays so
        if old is None:
            counts["opened"] += 1
        elif all(_same(old[c], a[c]) for c in ALERT_COLUMNS):
            counts["unchanged"] += 1
            continue
        else:
            counts["updated"] += 1
        changed.append(a)
    if changed:
        store.write("alerts", changed, mode="upsert")
    return counts


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, datetime) and isinstance(b, datetime):
        return a == b
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and abs(float(a) - float(b)) < 1e-9
    return a == b


def compute_aqi_alerts(
    store: Store,
    scope: tuple[str, list[Any]],
    park_id: str | None,
    start: datetime,
    end: datetime,
    standard: str = "auto",
    rules: tuple[AqiLevelRule, ...] = AQI_ALERT_RULES,
) -> dict[str, Any]:
    """Evaluate ``rules`` over the hourly and daily AQI of the stations in scope and write the alerts.
    Returns the alert rows and the counts (opened, updated, unchanged)."""
    pts = station_points(store, scope, park_id, AIR_QUANTITIES, STANDARD_UNITS)
    points = {(d, q): p for p, q, d in zip(pts.point_id, pts.quantity, pts.device_id)}
    alerts: list[dict[str, Any]] = []
    for interval in sorted({r.interval for r in rules}):
        rows = compute_air_quality(store, scope, park_id, start, end, interval, standard)["rows"]
        for rule in (r for r in rules if r.interval == interval):
            alerts += aqi_alert_rows(rows, rule, points)
    counts = write_aqi_alerts(store, alerts)
    return {"alerts": alerts, **counts}
