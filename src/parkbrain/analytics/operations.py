"""The alert lifecycle and maintenance plans: who acknowledged or closed what, and when; overdue
maintenance raised as alerts.

Every function takes the store, the acting ``Actor`` and ``visible`` — the caller's scope as an SQL
predicate over the table's alias (``a`` alerts, ``m`` maintenance plans, ``d`` devices) — so an object
outside the scope is ``NotFound``, as if it did not exist. Each transition updates its row and appends
its event in one transaction (``workflow``); the caller audits after the commit.

Overdue maintenance (``MAINTENANCE_OVERDUE``): a plan past its ``next_due_at`` raises one alert whose id
is derived from the plan and the due time (``overdue_alert_id``), so checking again adds nothing, and an
alert closed by hand stays closed. Recording the maintenance moves the due date on by the plan's
interval and closes the plan's open overdue alerts.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from parkbrain.analytics.workflow import (
    ALERT_LIFECYCLE,
    Actor,
    check_text,
    insert_row,
    one,
    stamp_columns,
    update_row,
)
from parkbrain.errors import InvalidInput
from parkbrain.model.tables import SEVERITIES
from parkbrain.model.timeutil import now_utc
from parkbrain.store.base import Predicate, Store, equal, page, where

MAX_NOTE = 2000
MAX_INTERVAL_DAYS = 3660


@dataclass(frozen=True)
class OverdueRule:
    """Raise an alert for a maintenance plan ``grace_days`` after its due time.

    ``message_zh`` is a DuckDB ``format`` template with the positional fields {0} device name (else its
    id), {1} the plan's description, {2} the due date (Asia/Shanghai) and {3} the days overdue.
    """

    rule: str
    severity: str
    grace_days: int
    message_zh: str
    source: str

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"rule {self.rule}: severity must be one of {', '.join(SEVERITIES)}")


MAINTENANCE_OVERDUE = OverdueRule(
    rule="maintenance_overdue",
    severity="warning",
    grace_days=0,
    message_zh="{0} 维护计划「{1}」应于 {2} 完成，已逾期 {3:.1f} 天",
    source=(
        "the park's own maintenance plan (the interval per asset, e.g. from the maker's manual); "
        "engineering practice: overdue from the due time, no grace period"
    ),
)

ALERT_SELECT = "SELECT a.* FROM alerts a"
PLAN_SELECT = (
    "SELECT m.*, d.name AS device_name, d.kind AS device_kind FROM maintenance_plans m "
    "LEFT JOIN devices d USING (device_id)"
)


SYSTEM_ACTOR = Actor("system", None)


def overdue_alert_id(plan_id: str, due: datetime, rule: OverdueRule = MAINTENANCE_OVERDUE) -> str:
    """The id of the overdue alert of ``plan_id`` due at ``due``: the same on every check."""
    due_us = int(due.timestamp() * 1_000_000)
    return "A-" + hashlib.sha256(f"{rule.rule}\x1f{plan_id}\x1f{due_us}".encode()).hexdigest()[:20]


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(6)}"


# -- alerts ------------------------------------------------------------------------------------------


def alert(store: Store, alert_id: str, visible: Predicate) -> dict[str, Any]:
    return one(
        store, ALERT_SELECT, [visible, ("a.alert_id = ?", [alert_id])], f"no alert with alert_id {alert_id!r}"
    )


def compute_alert_transition(
    store: Store,
    alert_id: str,
    action: str,
    actor: Actor,
    visible: Predicate,
    note: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Acknowledge or close an alert the caller sees, with its event; returns the alert after."""
    note = check_text("note", note, MAX_NOTE, required=False)
    with store.transaction() as con:
        row = alert(store, alert_id, visible)
        step_alert(con, row, action, actor, note, now or now_utc())
    return alert(store, alert_id, visible)


def step_alert(
    con: Any, row: dict[str, Any], action: str, actor: Actor, note: str | None, now: datetime
) -> None:
    """Move one alert (a row read in this transaction) by ``action`` and append its event."""
    t = ALERT_LIFECYCLE.step(action, row["status"], row["alert_id"])
    columns = stamp_columns(t, actor, now)
    if note:
        columns["note"] = note
    update_row(con, "alerts", "alert_id", row["alert_id"], columns)
    alert_event(con, row["alert_id"], action, row["status"], t.target, actor, now, note)


def alert_event(
    con: Any,
    alert_id: str,
    action: str,
    from_status: str | None,
    to_status: str,
    actor: Actor,
    now: datetime,
    note: str | None = None,
) -> None:
    insert_row(
        con,
        "alert_events",
        {
            "alert_id": alert_id,
            "ts": now,
            "actor": actor.name,
            "role": actor.role,
            "action": action,
            "from_status": from_status,
            "to_status": to_status,
            "note": note,
        },
    )


def compute_alert_history(store: Store, alert_id: str, visible: Predicate) -> dict[str, Any]:
    """The alert and its events, oldest first. An alert raised before events were kept (or by a rule
    on arrival) starts with a ``raise`` event at its ``ts`` by ``rule:<rule>``; one its rule closed
    (the condition cleared) ends with a ``clear`` event by the rule, whose time is not recorded."""
    row = alert(store, alert_id, visible)
    events = store.query_rows(
        "SELECT event_id, ts, actor, role, action, from_status, to_status, note FROM alert_events "
        "WHERE alert_id = ? ORDER BY event_id",
        [alert_id],
    )
    by_rule = {"event_id": None, "actor": f"rule:{row['rule']}", "role": None, "note": None}
    if not any(e["action"] == "raise" for e in events):
        events.insert(
            0, {**by_rule, "ts": row["ts"], "action": "raise", "from_status": None, "to_status": "open"}
        )
    if row["status"] == "closed" and not any(e["to_status"] == "closed" for e in events):
        last = events[-1]["to_status"]
        events.append({**by_rule, "ts": None, "action": "clear", "from_status": last, "to_status": "closed"})
    return {"alert": row, "events": events}


def device(store: Store, device_id: str, visible: Predicate) -> dict[str, Any]:
    """A device (asset) the caller sees (``visible`` over the alias ``d``)."""
    return one(
        store,
        "SELECT d.* FROM devices d",
        [visible, ("d.device_id = ?", [device_id])],
        f"no device with device_id {device_id!r}",
    )


# -- maintenance plans -----------------------------------------------------------------------------


def plan(store: Store, plan_id: str, visible: Predicate) -> dict[str, Any]:
    return one(
        store,
        PLAN_SELECT,
        [visible, ("m.plan_id = ?", [plan_id])],
        f"no maintenance plan with plan_id {plan_id!r}",
    )


def compute_plans(
    store: Store,
    visible: Predicate,
    park_id: str | None = None,
    device_id: str | None = None,
    overdue_at: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """Plans the caller sees, soonest due first (``overdue_at``: only those due before it)."""
    filters = [visible, *equal(("m.park_id", park_id), ("m.device_id", device_id))]
    if overdue_at is not None:
        filters.append(("m.next_due_at < ?", [overdue_at]))
    return page(store, PLAN_SELECT, filters, "m.next_due_at, m.plan_id", limit, offset)


def add_plan(
    store: Store,
    device: dict[str, Any],
    description: str,
    interval_days: int,
    actor: Actor,
    last_done: datetime | None = None,
    next_due: datetime | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A plan to service ``device`` (a row of ``devices``) every ``interval_days``. The first due time
    is ``next_due``, else ``last_done`` + the interval, else now + the interval."""
    now = now or now_utc()
    description = check_text("description", description, 500)
    if not isinstance(interval_days, int) or not 1 <= interval_days <= MAX_INTERVAL_DAYS:
        raise InvalidInput(
            f"interval_days: expected a whole number of days from 1 to {MAX_INTERVAL_DAYS}; got {interval_days!r}"
        )
    interval = timedelta(days=interval_days)
    row = {
        "plan_id": new_id("MP"),
        "park_id": device["park_id"],
        "enterprise_id": device.get("enterprise_id"),
        "device_id": device["device_id"],
        "description": description,
        "interval_days": interval_days,
        "last_done_at": last_done,
        "next_due_at": next_due or ((last_done or now) + interval),
        "created_by": actor.name,
        "created_at": now,
    }
    with store.transaction() as con:
        insert_row(con, "maintenance_plans", row)
    return row


def compute_record_maintenance(
    store: Store,
    plan_id: str,
    actor: Actor,
    visible: Predicate,
    done_at: datetime | None = None,
    note: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Record the plan's work done at ``done_at`` (default now): the next due time moves to
    ``done_at`` + the interval, and the plan's open overdue alerts close. Returns the plan after, with
    ``closed_alerts``."""
    now = now or now_utc()
    done_at = done_at or now
    note = check_text("note", note, MAX_NOTE, required=False)
    if done_at > now + timedelta(minutes=5):
        raise InvalidInput(f"done_at: {done_at.isoformat()} is in the future")
    with store.transaction() as con:
        row = plan(store, plan_id, visible)
        next_due = done_at + timedelta(days=row["interval_days"])
        update_row(
            con, "maintenance_plans", "plan_id", plan_id, {"last_done_at": done_at, "next_due_at": next_due}
        )
        insert_row(
            con,
            "maintenance_records",
            {"plan_id": plan_id, "done_at": done_at, "done_by": actor.name, "note": note},
        )
        overdue = store.query_rows(
            "SELECT * FROM alerts WHERE plan_id = ? AND rule = ? AND status <> 'closed' ORDER BY ts",
            [plan_id, MAINTENANCE_OVERDUE.rule],
        )
        for alert_row in overdue:
            step_alert(con, alert_row, "close", actor, "维护已完成 / maintenance done", now)
    return {**plan(store, plan_id, visible), "closed_alerts": [a["alert_id"] for a in overdue]}


def maintenance_records(store: Store, plan_id: str) -> list[dict[str, Any]]:
    return store.query_rows(
        "SELECT record_id, done_at, done_by, note FROM maintenance_records WHERE plan_id = ? ORDER BY record_id",
        [plan_id],
    )


_OVERDUE_INSERT = """
INSERT INTO alerts (alert_id, ts, park_id, enterprise_id, device_id, point_id, rule, severity, message,
                    status, value, plan_id)
SELECT alert_id, next_due_at, park_id, enterprise_id, device_id, NULL, ?, ?,
       format(?, device_name, description, strftime(timezone('Asia/Shanghai', next_due_at), '%Y-%m-%d'), days),
       'open', round(days, 3), plan_id
FROM (
    SELECT m.*, coalesce(d.name, m.device_id) AS device_name,
           'A-' || left(sha256(concat_ws(chr(31), ?, m.plan_id, epoch_us(m.next_due_at)::VARCHAR)), 20) AS alert_id,
           (epoch_us(?::TIMESTAMPTZ) - epoch_us(m.next_due_at)) / 86400e6 AS days
    FROM maintenance_plans m LEFT JOIN devices d USING (device_id)
    {where}
) due
WHERE due.days > ? AND due.alert_id NOT IN (SELECT alert_id FROM alerts)
RETURNING alert_id
"""


def compute_overdue_maintenance(
    store: Store, now: datetime, visible: Predicate, rule: OverdueRule = MAINTENANCE_OVERDUE
) -> list[dict[str, Any]]:
    """Raise an alert (with its ``raise`` event) for each visible plan overdue at ``now`` that has none
    for its current due time; returns the alerts raised (none when checked again)."""
    clause, params = where(visible)
    with store.transaction() as con:
        raised = con.execute(
            _OVERDUE_INSERT.format(where=clause),
            [rule.rule, rule.severity, rule.message_zh, rule.rule, now, *params, float(rule.grace_days)],
        ).fetchall()
        ids = [r[0] for r in raised]
        con.execute(
            "INSERT INTO alert_events (alert_id, ts, actor, role, action, from_status, to_status, note) "
            "SELECT unnest(?::VARCHAR[]), ?, ?, NULL, 'raise', NULL, 'open', ?",
            [ids, now, SYSTEM_ACTOR.name, rule.rule],
        )
    if not ids:
        return []
    return store.query_rows(
        f"{ALERT_SELECT} WHERE list_contains(?::VARCHAR[], a.alert_id) ORDER BY a.ts, a.alert_id", [ids]
    )
