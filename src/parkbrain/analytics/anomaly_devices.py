"""Anomaly detection on a device's stored readings, and the ``equipment_anomaly`` alerts it raises.

A device's instant points (vibration, temperatures, current, flow …) are read from ``readings`` in one
set-based query (through the caller's scope), pivoted to rows x sensors at the points' own sampling
times, and scored by ``analytics.anomaly``: the model of normal behaviour is fitted on the first
``train_fraction`` of the window. Only a running machine is watched: below ``running_share`` of its usual
current (the 90th percentile of its training rows) it is stopped, and a stop is a state, not a fault (a
model of the running machine sees a stopped one as far off); the first ``settle_rows`` after each start
are not watched either (warming up). The model is fitted on the watched training rows, and the trailing
window of the scores skips the rows not watched. Devices without a current point are watched throughout.

Anomalous rows closer than ``merge_rows`` are merged into episodes; an episode of at least ``min_rows``
rows peaking at ``min_score`` or more opens one alert naming the sensors that contributed most (the
fault hint). The id is ``alert_engine.alert_id('equipment_anomaly', device_id, start µs)``, so re-running
adds nothing and an alert someone acknowledged keeps its status.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from parkbrain.analytics.alert_engine import alert_id
from parkbrain.analytics.anomaly import (
    DEFAULT_PARAMS,
    DetectorParams,
    Scores,
    fit_detector,
    score_segments,
    segment_starts,
)
from parkbrain.analytics.aqi_alerts import write_aqi_alerts
from parkbrain.errors import InvalidInput, NotFound
from parkbrain.store.base import Predicate, Store, where


@dataclass(frozen=True)
class EquipmentRule:
    """The equipment-anomaly alert rule, declared as data."""

    rule: str = "equipment_anomaly"
    severity: str = "warning"
    train_fraction: float = 1 / 3  # the window's first third is taken as normal behaviour
    min_train_rows: int = 50
    merge_rows: int = 60  # gaps shorter than this join two anomalous runs into one episode
    min_rows: int = 10  # shorter episodes raise no alert
    min_score: float = 3.0  # nor do episodes peaking below this
    running_quantity: str = "current"  # the point that tells whether the machine runs
    running_share: float = 0.2  # below this share of its 90th-percentile training value: stopped
    settle_rows: int = 30  # rows after a start not watched (the detector's slow-sensor change spans 30 rows)
    source: str = "ParkBrain model of normal behaviour (ridge residuals), SKAB-benchmarked; park setting"


EQUIPMENT_ANOMALY = EquipmentRule()
MAX_ROWS = 400_000


def device_frame(
    store: Store, scope: Predicate, device_id: str, start: datetime, end: datetime
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """(rows x sensor points, indexed by ts; the points' metadata) of one device in ``[start, end)``."""
    where_sql, params = where(scope, ("p.device_id = ?", [device_id]), ("p.value_kind = 'instant'", []))
    points = store.query_rows(
        "SELECT p.point_id, p.quantity, p.unit, d.name AS device_name, d.park_id, d.enterprise_id, d.kind AS device_kind "
        f"FROM points p JOIN devices d USING (device_id) {where_sql} ORDER BY p.point_id",
        params,
    )
    if not points:
        raise NotFound(f"no device with device_id {device_id!r} and instant points in your scope")
    ids = [p["point_id"] for p in points]
    table = store.query(
        "SELECT ts, point_id, value FROM readings WHERE list_contains(?::VARCHAR[], point_id) "
        "AND ts >= ? AND ts < ? ORDER BY ts LIMIT ?",
        [ids, start, end, MAX_ROWS * len(ids) + 1],
    ).to_pandas()
    if len(table) > MAX_ROWS * len(ids):
        raise InvalidInput(f"device {device_id}: more than {MAX_ROWS} rows in the window; narrow start/end")
    frame = table.pivot_table(index="ts", columns="point_id", values="value", aggfunc="mean")
    frame = frame.reindex(columns=ids).ffill().bfill().dropna(axis=1, how="all")
    return frame, [p for p in points if p["point_id"] in frame.columns]


def _episodes(flags: np.ndarray, merge: int, min_rows: int) -> list[tuple[int, int]]:
    idx = np.flatnonzero(flags)
    if not len(idx):
        return []
    breaks = np.flatnonzero(np.diff(idx) > merge)
    starts = np.r_[idx[0], idx[breaks + 1]]
    ends = np.r_[idx[breaks], idx[-1]]
    return [(int(a), int(b)) for a, b in zip(starts, ends) if b - a + 1 >= min_rows]


def watched_rows(
    frame: pd.DataFrame, points: list[dict[str, Any]], n_train: int, rule: EquipmentRule
) -> np.ndarray:
    """True where the machine runs and has settled since it started (everywhere when it has no
    ``rule.running_quantity`` point, or ran for fewer than ``rule.min_train_rows`` training rows)."""
    cols = [i for i, p in enumerate(points) if p["quantity"] == rule.running_quantity]
    everywhere = np.ones(len(frame), dtype=bool)
    if not cols:
        return everywhere
    values = frame.iloc[:, cols[0]].to_numpy(dtype=float)
    running = values >= rule.running_share * np.quantile(values[:n_train], 0.9)
    watch = running.copy()
    starts = np.flatnonzero(running & ~np.r_[False, running[:-1]])
    for a in starts[starts > 0]:
        watch[a : a + rule.settle_rows] = False
    return watch if watch[:n_train].sum() >= rule.min_train_rows else everywhere


def _hint(scores: Scores, lo: int, hi: int, points: list[dict[str, Any]], k: int) -> list[dict[str, Any]]:
    share = scores.contrib[lo : hi + 1].mean(0)
    order = np.argsort(-share)[:k]
    return [
        {
            "point_id": points[i]["point_id"],
            "quantity": points[i]["quantity"],
            "unit": points[i]["unit"],
            "contribution": round(float(share[i] / share.sum()), 4),
        }
        for i in order
    ]


def compute_device_health(
    store: Store,
    scope: Predicate,
    device_id: str,
    start: datetime,
    end: datetime,
    rule: EquipmentRule = EQUIPMENT_ANOMALY,
    params: DetectorParams = DEFAULT_PARAMS,
) -> dict[str, Any]:
    """Score a device's readings in the window; returns the episodes with their fault hints and the
    alert rows they open (not yet written)."""
    frame, points = device_frame(store, scope, device_id, start, end)
    if len(points) < 2:
        raise InvalidInput(
            f"device {device_id}: anomaly detection needs at least 2 instant points with readings"
        )
    n_train = max(rule.min_train_rows, int(len(frame) * rule.train_fraction))
    if len(frame) < n_train + 1:
        raise InvalidInput(
            f"device {device_id}: {len(frame)} rows in the window; expected more than {n_train}"
        )
    x = frame.to_numpy(dtype=float)
    watch = watched_rows(frame, points, n_train, rule)
    detector = fit_detector(x[:n_train][watch[:n_train]], [p["point_id"] for p in points], params)
    scores = score_segments(detector, x, segment_starts(frame.index), watch)
    ts = frame.index
    episodes, alerts = [], []
    for lo, hi in _episodes(scores.anomaly, rule.merge_rows, rule.min_rows):
        hint = _hint(scores, lo, hi, points, params.top_sensors)
        episode = {
            "start": ts[lo].to_pydatetime(),
            "end": ts[hi].to_pydatetime(),
            "rows": hi - lo + 1,
            "max_score": round(float(scores.score[lo : hi + 1].max()), 4),
            "top_sensors": hint,
        }
        episodes.append(episode)
        if episode["max_score"] >= rule.min_score:
            alerts.append(_alert_row(rule, device_id, points[0], episode))
    return {
        "device_id": device_id,
        "points": [p["point_id"] for p in points],
        "rows": len(frame),
        "train_rows": n_train,
        "watched_rows": int(watch.sum()),
        "anomalous_rows": int(scores.anomaly.sum()),
        "latest_score": round(float(scores.score[-1]), 4),
        "episodes": episodes,
        "alerts": alerts,
    }


def _alert_row(
    rule: EquipmentRule, device_id: str, point: dict[str, Any], episode: dict[str, Any]
) -> dict[str, Any]:
    start: datetime = episode["start"]
    quantities = ", ".join(h["quantity"] for h in episode["top_sensors"])
    names = "、".join(h["quantity"] for h in episode["top_sensors"])
    ts_us = int(pd.Timestamp(start).value // 1000)
    return {
        "alert_id": alert_id(rule.rule, device_id, ts_us),
        "ts": start,
        "park_id": point["park_id"],
        "enterprise_id": point["enterprise_id"],
        "device_id": device_id,
        "point_id": episode["top_sensors"][0]["point_id"],
        "rule": rule.rule,
        "severity": rule.severity,
        "message": f"{point['device_name'] or device_id} 运行异常，主要相关传感器：{names}，请检查 / Equipment anomaly, check sensors: {quantities} "
        f"(score {episode['max_score']}, {episode['rows']} readings)",
        "status": "open",
        "value": episode["max_score"],
    }


def compute_label_check(
    store: Store, devices: list[str], alerts: list[dict[str, Any]], start: datetime, end: datetime
) -> dict[str, int]:
    """The alerts against the faults labelled in ``fault_labels`` (the demo's injected faults, or faults
    recorded by maintenance) on the checked ``devices`` in ``[start, end)``, machine by machine."""
    rows = store.query_rows(
        "SELECT DISTINCT device_id FROM fault_labels WHERE list_contains(?::VARCHAR[], device_id) "
        "AND start_ts < ? AND end_ts >= ?",
        [devices, end, start],
    )
    faulty = {r["device_id"] for r in rows}
    alerted = {a["device_id"] for a in alerts}
    return {
        "labelled_faulty": len(faulty),
        "labelled_faulty_alerted": len(faulty & alerted),
        "not_labelled": len(set(devices) - faulty),
        "not_labelled_alerted": len(alerted - faulty),
    }


def write_equipment_alerts(store: Store, alerts: list[dict[str, Any]]) -> dict[str, int]:
    """Upsert the alerts; a status a person set never moves back. Counts: opened, updated, unchanged."""
    return write_aqi_alerts(store, alerts)
