"""Alert rules evaluated on arrival: ``AlertEngine.on_readings`` after each stored batch of readings,
``AlertEngine.check_stale`` on a clock. The rules themselves are data, in ``alert_rules``.

How a batch is evaluated — vectorised with numpy; Python loops only over alerts that open or close:

1. Readings become arrays (point index, time in µs, value); an unknown point refreshes the point
   metadata once.
2. Each point's previous reading comes from the engine's last-value cache, seeded on first sight from
   the readings stored *before* the point's first reading in the batch (the batch itself is already
   stored when the engine sees it). Readings not newer than the cached last one — a batch delivered
   twice, or late data — are not evaluated: rule state only moves forward in time.
3. Sorted by (point, time), each rule is a set/reset latch per point: a reading past the limit sets,
   one back past the clear level resets, others keep the state. The state before the batch is
   whether an open (or acknowledged) alert exists for (rule, point), cached from the alerts table.
4. Alerts opened and closed are upserted in one write. An alert's id is a hash of its rule, point
   and start time, so evaluating the same readings again rewrites the same rows: no duplicates.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from parkbrain.analytics.alert_rules import (
    DEFAULT_INTERVAL_S,
    RULES,
    RateRule,
    Rule,
    StaleRule,
    ThresholdRule,
)
from parkbrain.model.units import UnitError, conversion
from parkbrain.store.base import Store

#: How far before a batch the previous reading of a point is looked for when the engine first sees it.
SEED_LOOKBACK = timedelta(days=7)
ALERT_COLUMNS = (
    "alert_id",
    "ts",
    "park_id",
    "enterprise_id",
    "device_id",
    "point_id",
    "rule",
    "severity",
    "message",
    "status",
    "value",
)
_NO_TS = np.iinfo(np.int64).min
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_US_PER_MIN = 60_000_000
_DISPLAY_UNITS = {"ug/m3": "µg/m³", "mg/m3": "mg/m³", "degC": "℃", "m3": "m³", "m3/h": "m³/h"}
_POINTS_SQL = """
    SELECT p.point_id, p.quantity, p.unit, p.value_kind, p.name AS point_name,
           d.device_id, d.park_id, d.enterprise_id, d.name AS device_name
    FROM points p LEFT JOIN devices d USING (device_id) ORDER BY p.point_id"""


def alert_id(rule: str, point_id: str, ts_us: int) -> str:
    """The id of the alert ``rule`` opens on ``point_id`` at ``ts_us`` (µs since the epoch): stable."""
    return "A-" + hashlib.sha1(f"{rule}\x1f{point_id}\x1f{ts_us}".encode()).hexdigest()[:20]


def _utc(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=int(us))


# -- point metadata and last values ----------------------------------------------------------------


class _Points:
    """Every point's metadata and last evaluated reading, in arrays indexed by a stable position."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.index: dict[str, int] = {}
        self.meta: list[dict[str, Any]] = []
        self.value_set = pa.array([], pa.string())
        self.last_ts = np.empty(0, np.int64)
        self.last_value = np.empty(0, np.float64)
        self.seeded = np.empty(0, bool)

    def load(self, store: Store) -> None:
        """Read the metadata of every point; positions of known points stay, new ones are appended."""
        for row in store.query_rows(_POINTS_SQL):
            i = self.index.get(row["point_id"])
            if i is None:
                self.index[row["point_id"]] = len(self.ids)
                self.ids.append(row["point_id"])
                self.meta.append(row)
            else:
                self.meta[i] = row
        grow = len(self.ids) - len(self.last_ts)
        self.last_ts = np.concatenate([self.last_ts, np.full(grow, _NO_TS, np.int64)])
        self.last_value = np.concatenate([self.last_value, np.full(grow, np.nan)])
        self.seeded = np.concatenate([self.seeded, np.zeros(grow, bool)])
        self.value_set = pa.array(self.ids, pa.string())

    def lookup(self, point_ids: pa.ChunkedArray | pa.Array) -> np.ndarray:
        """Positions of ``point_ids``; -1 where unknown."""
        found = pc.index_in(point_ids, value_set=self.value_set)
        return pc.fill_null(found, -1).to_numpy().astype(np.int64)

    def column(self, name: str) -> np.ndarray:
        return np.array([m[name] for m in self.meta], dtype=object)


@dataclass(frozen=True)
class _Bound:
    """Where a threshold or rate rule applies, and its levels converted to each point's unit."""

    applies: np.ndarray
    scale: np.ndarray
    offset: np.ndarray


def _bound(
    rule: ThresholdRule | RateRule, quantity: np.ndarray, unit: np.ndarray, kind: np.ndarray
) -> _Bound:
    applies = (quantity == rule.quantity) & (kind != "cumulative")
    scale, offset = np.ones(len(quantity)), np.zeros(len(quantity))
    for point_unit in set(unit[applies]):
        same = applies & (unit == point_unit)
        try:
            scale[same], offset[same] = conversion(rule.unit, point_unit)
        except UnitError:
            applies &= ~same
    if isinstance(rule, RateRule):
        offset[:] = 0.0  # a rate is a difference: scaled, never shifted
    return _Bound(applies, scale, offset)


# -- the batch as sorted arrays --------------------------------------------------------------------


@dataclass(frozen=True)
class _Batch:
    """Readings to evaluate, sorted by (point, time), with each one's previous reading."""

    point: np.ndarray
    ts: np.ndarray
    value: np.ndarray
    starts: np.ndarray
    prev_ts: np.ndarray
    prev_value: np.ndarray

    @property
    def rate_per_min(self) -> np.ndarray:
        known = self.prev_ts != _NO_TS
        minutes = np.where(known, self.ts - np.where(known, self.prev_ts, self.ts), 0) / _US_PER_MIN
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(known & (minutes > 0), (self.value - self.prev_value) / minutes, np.nan)


def _readings_arrays(rows: pa.Table | Sequence[dict[str, Any]]) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """(point_id, ts µs UTC, value) of readings given as an Arrow table or a list of dicts."""
    if isinstance(rows, pa.Table):
        point_ids, ts, values = rows.column("point_id"), rows.column("ts"), rows.column("value")
    else:
        point_ids = pa.array([r["point_id"] for r in rows], pa.string())
        ts = pa.array([r["ts"] for r in rows], pa.timestamp("us", tz="UTC"))
        values = pa.array([r["value"] for r in rows], pa.float64())
    ts_us = pc.cast(pc.cast(ts, pa.timestamp("us", tz="UTC")), pa.int64()).to_numpy()
    value = pc.cast(values, pa.float64()).to_numpy()
    return pc.cast(point_ids, pa.string()), np.asarray(ts_us, np.int64), np.asarray(value, np.float64)


def _group_starts(point: np.ndarray) -> np.ndarray:
    starts = np.ones(len(point), bool)
    starts[1:] = point[1:] != point[:-1]
    return starts


def _latch(
    set_: np.ndarray, reset: np.ndarray, starts: np.ndarray, initial: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """State after and before each reading of a set/reset latch per group (``initial`` per group)."""
    pos = np.arange(len(set_))
    last_event = np.maximum.accumulate(np.where(set_ | reset, pos, -1))
    group_start = np.maximum.accumulate(np.where(starts, pos, 0))
    initial_row = initial[np.cumsum(starts) - 1]
    state = np.where(last_event >= group_start, set_[np.maximum(last_event, 0)], initial_row)
    before = np.empty_like(state)
    before[1:] = state[:-1]
    before[starts] = initial_row[starts]
    return state, before


# -- the engine ------------------------------------------------------------------------------------


class AlertEngine:
    """Evaluates alert rules on readings as they are stored; writes alerts through ``store.write``.

    One engine per writer process: its caches (point metadata, open alerts, last values) assume that
    no one else opens or closes rule alerts meanwhile; ``reload()`` re-reads them.
    """

    def __init__(self, store: Store, rules: Iterable[Rule] = RULES) -> None:
        self.store = store
        self.rules = tuple(rules)
        self._lock = threading.Lock()
        self._points = _Points()
        self._bounds: dict[str, _Bound] = {}
        self._open: dict[str, dict[str, list[dict[str, Any]]]] = {}
        self.reload()

    @property
    def _checked(self) -> tuple[ThresholdRule | RateRule, ...]:
        return tuple(r for r in self.rules if not isinstance(r, StaleRule))

    @property
    def _stale(self) -> tuple[StaleRule, ...]:
        return tuple(r for r in self.rules if isinstance(r, StaleRule))

    def reload(self) -> None:
        """Re-read point metadata and the open alerts of the engine's rules from the store."""
        self._load_points()
        self._open = {r.rule: {} for r in self.rules}
        rows = self.store.query_rows(
            f"SELECT {', '.join(ALERT_COLUMNS)} FROM alerts WHERE status <> 'closed' "
            "AND point_id IS NOT NULL AND list_contains(?::VARCHAR[], rule) ORDER BY ts",
            [list(self._open)],
        )
        for row in rows:
            self._open[row["rule"]].setdefault(row["point_id"], []).append(row)

    def _load_points(self) -> None:
        self._points.load(self.store)
        quantity, unit, kind = (self._points.column(c) for c in ("quantity", "unit", "value_kind"))
        self._bounds = {r.rule: _bound(r, quantity, unit, kind) for r in self._checked}

    # -- on arrival --------------------------------------------------------------------------------

    def on_readings(self, rows: pa.Table | Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Evaluate a batch of readings already stored; returns the alert rows opened or closed."""
        if len(rows) == 0:
            return []
        with self._lock:
            batch = self._batch(*_readings_arrays(rows))
            if batch is None:
                return []
            changed: dict[str, dict[str, Any]] = {}
            for rule in self._checked:
                self._evaluate(rule, batch, changed)
            self._close_stale(np.unique(batch.point), changed)
            self._write(changed)
            self._remember_last(batch)
            return list(changed.values())

    def _batch(self, point_ids: pa.Array, ts: np.ndarray, value: np.ndarray) -> _Batch | None:
        point = self._points.lookup(point_ids)
        if (point < 0).any():
            self._load_points()
            point = self._points.lookup(point_ids)
        order = np.lexsort((ts, point))
        point, ts, value = point[order], ts[order], value[order]
        keep = point >= 0
        keep[1:] &= (point[1:] != point[:-1]) | (ts[1:] != ts[:-1])  # a repeated (point, ts): the first
        point, ts, value = point[keep], ts[keep], value[keep]
        self._seed(point, ts)
        fresh = ts > self._points.last_ts[point]
        if not fresh.any():
            return None
        point, ts, value = point[fresh], ts[fresh], value[fresh]
        starts = _group_starts(point)
        prev_ts, prev_value = np.empty_like(ts), np.empty_like(value)
        prev_ts[1:], prev_value[1:] = ts[:-1], value[:-1]
        prev_ts[starts] = self._points.last_ts[point[starts]]
        prev_value[starts] = self._points.last_value[point[starts]]
        return _Batch(point, ts, value, starts, prev_ts, prev_value)

    def _seed(self, point: np.ndarray, ts: np.ndarray) -> None:
        """Fill the last-value cache of points seen for the first time from the readings before the batch."""
        starts = _group_starts(point)
        first_point, first_ts = point[starts], ts[starts]
        new = ~self._points.seeded[first_point]
        if not new.any():
            return
        first_point, first_ts = first_point[new], first_ts[new]
        rows = self.store.query_rows(
            """SELECT r.point_id, epoch_us(max(r.ts)) AS ts_us, arg_max(r.value, r.ts) AS value
            FROM readings r JOIN (SELECT unnest(?::VARCHAR[]) AS point_id, unnest(?::BIGINT[]) AS first_us) b
              ON r.point_id = b.point_id AND epoch_us(r.ts) < b.first_us
            WHERE r.ts >= ?::TIMESTAMPTZ AND r.ts < ?::TIMESTAMPTZ
            GROUP BY r.point_id""",
            [
                [self._points.ids[i] for i in first_point],
                first_ts.tolist(),
                _utc(first_ts.min()) - SEED_LOOKBACK,
                _utc(first_ts.max()),
            ],
        )
        for row in rows:
            i = self._points.index[row["point_id"]]
            self._points.last_ts[i], self._points.last_value[i] = row["ts_us"], row["value"]
        self._points.seeded[first_point] = True

    def _remember_last(self, batch: _Batch) -> None:
        ends = np.ones(len(batch.point), bool)
        ends[:-1] = batch.starts[1:]
        self._points.last_ts[batch.point[ends]] = batch.ts[ends]
        self._points.last_value[batch.point[ends]] = batch.value[ends]

    def _evaluate(
        self, rule: ThresholdRule | RateRule, batch: _Batch, changed: dict[str, dict[str, Any]]
    ) -> None:
        bound = self._bounds[rule.rule]
        rows = np.flatnonzero(bound.applies[batch.point])
        if len(rows) == 0:
            return
        point = batch.point[rows]
        starts = _group_starts(point)
        if isinstance(rule, ThresholdRule):
            set_, reset, extra = self._threshold_events(rule, bound, point, batch.value[rows])
        else:
            set_, reset, extra = self._rate_events(rule, bound, point, batch.rate_per_min[rows])
        state, before = _latch(set_, reset, starts, self._initial(rule.rule, point[starts]))
        for j in np.flatnonzero(state != before):
            i, row = int(point[j]), int(rows[j])
            if state[j]:
                self._open_alert(rule, i, int(batch.ts[row]), float(batch.value[row]), extra(j), changed)
            else:
                self._close(rule.rule, self._points.ids[i], changed)

    def _threshold_events(self, rule: ThresholdRule, bound: _Bound, point: np.ndarray, value: np.ndarray):  # noqa: ANN202
        scale, offset = bound.scale[point], bound.offset[point]
        limit = rule.limit * scale + offset
        clear = limit if rule.clear is None else rule.clear * scale + offset
        if rule.above is not None:
            set_, reset = value > limit, value < clear if rule.clear is not None else value <= limit
        else:
            set_, reset = value < limit, value > clear if rule.clear is not None else value >= limit
        return set_, reset, lambda j: {"limit": float(limit[j]), "clear": float(clear[j])}

    def _rate_events(self, rule: RateRule, bound: _Bound, point: np.ndarray, rate: np.ndarray):  # noqa: ANN202
        scale = bound.scale[point]
        rise = np.inf if rule.max_rise_per_min is None else rule.max_rise_per_min * scale
        fall = np.inf if rule.max_fall_per_min is None else rule.max_fall_per_min * scale
        rise, fall = np.broadcast_to(rise, rate.shape), np.broadcast_to(fall, rate.shape)
        with np.errstate(invalid="ignore"):
            set_ = (rate > rise) | (rate < -fall)
        reset = np.isfinite(rate) & ~set_
        return (
            set_,
            reset,
            lambda j: {"rate": float(rate[j]), "limit": float(rise[j] if rate[j] > 0 else fall[j])},
        )

    def _initial(self, rule: str, points: np.ndarray) -> np.ndarray:
        """Whether an alert of ``rule`` is open before the batch, for each of ``points``."""
        is_open = np.zeros(len(self._points.ids), bool)
        is_open[[self._points.index[p] for p in self._open[rule] if p in self._points.index]] = True
        return is_open[points]

    # -- alert rows ----------------------------------------------------------------------------------

    def _open_alert(
        self,
        rule: Rule,
        i: int,
        ts_us: int,
        value: float,
        fields: dict[str, Any],
        changed: dict[str, dict[str, Any]],
    ) -> None:
        meta, point_id = self._points.meta[i], self._points.ids[i]
        unit = meta.get("unit") or ""
        text = rule.message_zh.format(
            device=meta.get("device_name") or meta.get("device_id") or point_id,
            point=meta.get("point_name") or point_id,
            value=value,
            unit=_DISPLAY_UNITS.get(unit, unit),
            **fields,
        )
        row = {
            "alert_id": alert_id(rule.rule, point_id, ts_us),
            "ts": _utc(ts_us),
            "park_id": meta.get("park_id"),
            "enterprise_id": meta.get("enterprise_id"),
            "device_id": meta.get("device_id"),
            "point_id": point_id,
            "rule": rule.rule,
            "severity": rule.severity,
            "message": text,
            "status": "open",
            "value": value,
        }
        self._open[rule.rule][point_id] = [row]
        changed[row["alert_id"]] = row

    def _close(self, rule: str, point_id: str, changed: dict[str, dict[str, Any]]) -> None:
        for row in self._open[rule].pop(point_id, []):
            changed[row["alert_id"]] = {**row, "status": "closed"}

    def _write(self, changed: dict[str, dict[str, Any]]) -> None:
        if not changed:
            return
        try:
            self.store.write(
                "alerts", [{c: r[c] for c in ALERT_COLUMNS} for r in changed.values()], mode="upsert"
            )
        except BaseException:
            self.reload()  # the caches ran ahead of the store: start again from what it holds
            raise

    # -- silent points -------------------------------------------------------------------------------

    def _close_stale(self, points: np.ndarray, changed: dict[str, dict[str, Any]]) -> None:
        """Close the stale alerts of points that sent newer readings."""
        if not any(self._open[r.rule] for r in self._stale):
            return
        fresh = {self._points.ids[i] for i in points}
        for rule in self._stale:
            for point_id in [p for p in self._open[rule.rule] if p in fresh]:
                self._close(rule.rule, point_id, changed)

    def check_stale(self, now: datetime) -> list[dict[str, Any]]:
        """Open stale alerts for points silent longer than their rule allows at ``now``; close those of
        points heard from since. A stale alert starts (``ts``) when the point fell silent — its latest
        reading plus the allowed intervals — and its ``value`` is the minutes of silence at ``now``.
        Points that never sent a reading are not reported. Returns the alert rows opened or closed."""
        rules = self._stale
        if not rules:
            return []
        with self._lock:
            silent = self._silent_points(rules, now)
            if any(r["point_id"] not in self._points.index for r in silent):
                self._load_points()
            changed: dict[str, dict[str, Any]] = {}
            by_name = {r.rule: r for r in rules}
            found = {(r["rule"], r["point_id"]) for r in silent}
            for rule in rules:
                for point_id in [p for p in self._open[rule.rule] if (rule.rule, p) not in found]:
                    self._close(rule.rule, point_id, changed)
            for r in silent:
                if r["point_id"] in self._open[r["rule"]] or r["point_id"] not in self._points.index:
                    continue
                fields = {"minutes": r["minutes"], "interval_s": r["interval_s"], "intervals": r["intervals"]}
                rule = by_name[r["rule"]]
                self._open_alert(
                    rule, self._points.index[r["point_id"]], r["since_us"], r["minutes"], fields, changed
                )
            self._write(changed)
            return list(changed.values())

    def _silent_points(self, rules: tuple[StaleRule, ...], now: datetime) -> list[dict[str, Any]]:
        """Points whose latest reading is older than their stale rule allows (one SQL query)."""
        return self.store.query_rows(
            """WITH rules AS (
                SELECT unnest(?::VARCHAR[]) AS rule, unnest(?::VARCHAR[]) AS quantity,
                       unnest(?::INTEGER[]) AS intervals, unnest(?::INTEGER[]) AS priority
            ), watched AS (
                SELECT l.point_id, l.ts, r.rule, r.intervals, coalesce(p.interval_s, ?) AS interval_s
                FROM latest_readings l JOIN points p USING (point_id)
                JOIN rules r ON r.quantity IS NULL OR r.quantity = p.quantity
                QUALIFY row_number() OVER (PARTITION BY l.point_id ORDER BY r.quantity IS NULL, r.priority) = 1
            )
            SELECT point_id, rule, intervals, interval_s,
                   epoch_us(ts + to_seconds(intervals * interval_s)) AS since_us,
                   (epoch_us(?::TIMESTAMPTZ) - epoch_us(ts)) / 6e7 AS minutes
            FROM watched
            WHERE ts + to_seconds(intervals * interval_s) < ?::TIMESTAMPTZ
            ORDER BY point_id""",
            [
                [r.rule for r in rules],
                [r.quantity for r in rules],
                [r.intervals for r in rules],
                list(range(len(rules))),
                DEFAULT_INTERVAL_S,
                now,
                now,
            ],
        )
