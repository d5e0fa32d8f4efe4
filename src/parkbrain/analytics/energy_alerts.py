"""Energy use far above its own baseline: an alert rule declared as data, evaluated over the day rollups.

A meter point's day is compared with the same weekday of the previous ``weeks`` weeks (its own
baseline: the mean of those days that have data, at least ``min_weeks`` of them). A day above
``factor`` × baseline (and above ``min_baseline`` in the carrier's unit, so that idle meters do not
alert on noise) opens an alert in ``alerts``. The id is ``alert_engine.alert_id(rule, point, day)``,
so evaluating the same days again adds nothing, and an alert someone acknowledged keeps its status.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from parkbrain.analytics.alert_engine import ALERT_COLUMNS, alert_id
from parkbrain.analytics.energy import Selection, consumption_query
from parkbrain.store.base import Store


@dataclass(frozen=True)
class BaselineRule:
    rule: str
    factor: float
    weeks: int
    min_weeks: int
    min_baseline: float
    severity: str
    source: str


ENERGY_ABOVE_BASELINE = BaselineRule(
    rule="energy_above_baseline",
    factor=1.5,
    weeks=4,
    min_weeks=3,
    min_baseline=1.0,
    severity="warning",
    source="同类型日基线法（前N周同一星期几的均值）: ISO 50006:2014 energy baseline practice; k and N are "
    "park settings, not a standard's numbers",
)
ENERGY_RULES = (ENERGY_ABOVE_BASELINE,)


def compute_energy_alerts(
    store: Store,
    selection: Selection,
    start: datetime,
    end: datetime,
    rule: BaselineRule = ENERGY_ABOVE_BASELINE,
) -> list[dict[str, Any]]:
    """The alerts ``rule`` raises for days starting in ``[start, end)`` (rows of ``alerts``)."""
    history = start - timedelta(weeks=rule.weeks)
    query = consumption_query(store, selection, history, end, "day", ("point",))
    if query is None:
        return []
    days_sql, params, _ = query
    found = store.query_rows(
        f"""WITH d AS (SELECT point_id, period AS day, carrier, unit, amount FROM ({days_sql})),
        b AS (
            SELECT c.point_id, c.day, c.carrier, c.unit, c.amount, avg(h.amount) AS baseline, count(*) AS weeks
            FROM d c JOIN d h ON h.point_id = c.point_id AND h.day < c.day AND h.day >= c.day - ?::INTEGER
                AND (c.day - h.day) % 7 = 0
            WHERE c.day >= CAST(timezone('Asia/Shanghai', ?::TIMESTAMPTZ) AS DATE)
            GROUP BY ALL
        )
        SELECT b.*, dv.device_id, dv.park_id, dv.enterprise_id,
               epoch_us(timezone('Asia/Shanghai', CAST(b.day AS TIMESTAMP))) AS ts_us
        FROM b JOIN points p USING (point_id) JOIN devices dv USING (device_id)
        WHERE b.weeks >= ? AND b.baseline >= ? AND b.amount > ? * b.baseline
        ORDER BY b.point_id, b.day""",
        [*params, 7 * rule.weeks, start, rule.min_weeks, rule.min_baseline, rule.factor],
    )
    return [_alert_row(rule, r) for r in found]


def _alert_row(rule: BaselineRule, r: dict[str, Any]) -> dict[str, Any]:
    ratio = r["amount"] / r["baseline"]
    message = (
        f"{r['day']} 用能 {r['amount']:,.1f} {r['unit']}，为前{r['weeks']}周同日均值 {r['baseline']:,.1f} 的 "
        f"{ratio:.1f} 倍（阈值 {rule.factor}）/ day's {r['carrier']} use is {ratio:.1f}× its same-weekday baseline"
    )
    row = {
        "alert_id": alert_id(rule.rule, r["point_id"], int(r["ts_us"])),
        "ts": datetime.fromtimestamp(r["ts_us"] / 1e6, tz=timezone.utc),
        "park_id": r["park_id"],
        "enterprise_id": r["enterprise_id"],
        "device_id": r["device_id"],
        "point_id": r["point_id"],
        "rule": rule.rule,
        "severity": rule.severity,
        "message": message,
        "status": "open",
        "value": r["amount"],
    }
    return {k: row[k] for k in ALERT_COLUMNS}


def store_energy_alerts(store: Any, rows: list[dict[str, Any]]) -> int:
    """Append the alerts not stored yet (an acknowledged or closed one keeps its status); returns how many."""
    if not rows:
        return 0
    ids = [r["alert_id"] for r in rows]
    have = {
        r["alert_id"]
        for r in store.query_rows("SELECT alert_id FROM alerts WHERE list_contains(?, alert_id)", [ids])
    }
    new = [r for r in rows if r["alert_id"] not in have]
    if new:
        store.write("alerts", new, mode="append")
    return len(new)
