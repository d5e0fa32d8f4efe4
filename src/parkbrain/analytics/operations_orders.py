"""Work orders: created by hand or from an alert, assigned, progressed, closed — each step with who and
when, and its event, in one transaction (``workflow.WORK_ORDER_LIFECYCLE``).

A work order made from an alert links both ways (``work_orders.alert_id``, ``alerts.work_order_id``,
and a ``link`` event in the alert's history); closing the work order with ``close_alert`` closes the
alert too, in the same transaction. ``visible`` is the caller's scope over the alias ``w``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from parkbrain.analytics.operations import MAX_NOTE, alert_event, new_id, step_alert
from parkbrain.analytics.workflow import (
    PRIORITIES,
    WORK_ORDER_LIFECYCLE,
    Actor,
    check_choice,
    check_text,
    insert_row,
    one,
    stamp_columns,
    update_row,
)
from parkbrain.errors import InvalidInput
from parkbrain.model.timeutil import now_utc
from parkbrain.store.base import Predicate, Store, equal, page

ORDER_SELECT = "SELECT w.* FROM work_orders w"
MAX_ASSIGNEE = 100


def work_order(store: Store, work_order_id: str, visible: Predicate) -> dict[str, Any]:
    return one(
        store,
        ORDER_SELECT,
        [visible, ("w.work_order_id = ?", [work_order_id])],
        f"no work order with work_order_id {work_order_id!r}",
    )


def compute_work_orders(
    store: Store,
    visible: Predicate,
    park_id: str | None = None,
    status: str | None = None,
    assignee: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """Work orders the caller sees, newest first."""
    if status is not None:
        check_choice("status", status, WORK_ORDER_LIFECYCLE.statuses)
    filters = [visible, *equal(("w.park_id", park_id), ("w.status", status), ("w.assignee", assignee))]
    return page(store, ORDER_SELECT, filters, "w.created_at DESC, w.work_order_id", limit, offset)


def compute_work_order_history(store: Store, work_order_id: str, visible: Predicate) -> dict[str, Any]:
    row = work_order(store, work_order_id, visible)
    events = store.query_rows(
        "SELECT event_id, ts, actor, role, action, from_status, to_status, assignee, note "
        "FROM work_order_events WHERE work_order_id = ? ORDER BY event_id",
        [work_order_id],
    )
    return {"work_order": row, "events": events}


def create_work_order(
    store: Store,
    actor: Actor,
    *,
    park_id: str,
    title: str | None,
    description: str | None = None,
    priority: str = "normal",
    device: dict[str, Any] | None = None,
    alert: dict[str, Any] | None = None,
    assignee: str | None = None,
    due: datetime | None = None,
    now: datetime | None = None,
) -> str:
    """A new work order (``device``, ``alert``: rows the caller sees, already checked to be in
    ``park_id``); from an alert, the title defaults to its message and both are linked. With an
    ``assignee`` it is assigned at once. Returns its id."""
    now = now or now_utc()
    check_choice("priority", priority, PRIORITIES)
    if alert is not None:
        _check_unlinked(store, alert)
        title = title or (alert.get("message") or alert["rule"])[:200]
        device = device or ({"device_id": alert["device_id"], "enterprise_id": alert["enterprise_id"]})
    row = {
        "work_order_id": new_id("WO"),
        "park_id": park_id,
        "enterprise_id": (device or {}).get("enterprise_id"),
        "device_id": (device or {}).get("device_id"),
        "alert_id": alert["alert_id"] if alert else None,
        "title": check_text("title", title, 200),
        "description": check_text("description", description, 4000, required=False),
        "priority": priority,
        "status": WORK_ORDER_LIFECYCLE.initial,
        "created_by": actor.name,
        "created_at": now,
        "due_at": due,
        "updated_at": now,
    }
    with store.transaction() as con:
        insert_row(con, "work_orders", row)
        _event(con, row["work_order_id"], "create", None, row["status"], actor, now)
        if alert is not None:
            update_row(con, "alerts", "alert_id", alert["alert_id"], {"work_order_id": row["work_order_id"]})
            note = f"工单 / work order {row['work_order_id']}"
            alert_event(con, alert["alert_id"], "link", alert["status"], alert["status"], actor, now, note)
        if assignee:
            _step(con, {**row}, "assign", actor, now, assignee=assignee)
    return row["work_order_id"]


def _check_unlinked(store: Store, alert: dict[str, Any]) -> None:
    linked = store.query_rows(
        "SELECT work_order_id FROM work_orders WHERE alert_id = ? AND status <> 'closed'", [alert["alert_id"]]
    )
    if linked:
        raise InvalidInput(
            f"alert {alert['alert_id']} already has work order {linked[0]['work_order_id']} (not closed)"
        )


def compute_work_order_update(
    store: Store,
    work_order_id: str,
    action: str,
    actor: Actor,
    visible: Predicate,
    *,
    assignee: str | None = None,
    note: str | None = None,
    close_alert: bool = False,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Assign, start, progress or close a work order; ``close_alert`` with ``close`` also closes its
    alert (when it is not closed already). Returns the work order after."""
    now = now or now_utc()
    with store.transaction() as con:
        row = work_order(store, work_order_id, visible)
        _step(con, row, action, actor, now, assignee=assignee, note=note)
        if close_alert and action == "close" and row["alert_id"]:
            alerts = store.query_rows(
                "SELECT * FROM alerts a WHERE a.alert_id = ? AND a.status <> 'closed'", [row["alert_id"]]
            )
            for alert in alerts:
                step_alert(
                    con,
                    alert,
                    "close",
                    actor,
                    f"随工单 {work_order_id} 关闭 / closed with its work order",
                    now,
                )
    return work_order(store, work_order_id, visible)


def _step(
    con: Any,
    row: dict[str, Any],
    action: str,
    actor: Actor,
    now: datetime,
    assignee: str | None = None,
    note: str | None = None,
) -> None:
    t = WORK_ORDER_LIFECYCLE.step(action, row["status"], row["work_order_id"])
    note = check_text("note", note, MAX_NOTE, required=False)
    assignee = check_text("assignee", assignee, MAX_ASSIGNEE, required=action == "assign")
    if assignee and action != "assign":
        raise InvalidInput(f"assignee: only the assign action sets it, not {action}")
    if action == "progress" and not note:
        raise InvalidInput("note: progress records a note of the work done; give one")
    columns = {**stamp_columns(t, actor, now), "updated_at": now}
    if assignee:
        columns["assignee"] = assignee
    if action == "close" and note:
        columns["resolution"] = note
    update_row(con, "work_orders", "work_order_id", row["work_order_id"], columns)
    _event(con, row["work_order_id"], action, row["status"], t.target, actor, now, assignee, note)


def _event(
    con: Any,
    work_order_id: str,
    action: str,
    from_status: str | None,
    to_status: str,
    actor: Actor,
    now: datetime,
    assignee: str | None = None,
    note: str | None = None,
) -> None:
    insert_row(
        con,
        "work_order_events",
        {
            "work_order_id": work_order_id,
            "ts": now,
            "actor": actor.name,
            "role": actor.role,
            "action": action,
            "from_status": from_status,
            "to_status": to_status,
            "assignee": assignee,
            "note": note,
        },
    )
