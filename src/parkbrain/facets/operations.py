"""Park methods for operations (mixed into ``core.Park``): the alert lifecycle, maintenance plans,
work orders and notices.

Who may do what (permissions in ``space.principal``):

- **alerts** — park roles acknowledge and close their park's alerts, an enterprise its own
  enterprise's (it runs the equipment), the province any. An alert outside the caller's scope is
  ``NotFound`` (404), also for another park's admin.
- **maintenance plans, work orders** (``operate``) — park admins and operators for their park, the
  province for any; an enterprise reads the plans and work orders of its own devices.
- **notices** (``publish``) — a park admin publishes to its park's enterprises (all, or chosen
  ones), the province to any park's; an enterprise sees only notices addressed to it and records its
  read receipt by reading; the park side lists who read and who did not.

Every transition is recorded with who (``principal.actor``) and when, with its event row, and audited.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from parkbrain.errors import Forbidden, InvalidInput

if TYPE_CHECKING:
    from parkbrain.analytics.workflow import Actor
    from parkbrain.store.base import Predicate


class OperationsFacet:
    """operations methods of ``Park``."""

    # members of ``core.Park`` these methods use
    store: Any
    principal: Any
    scope: Any
    audit: Any
    require: Callable[[str], None]
    park: Callable[[str], dict[str, Any]]
    _own_park: Callable[[str | None, str], str | None]

    # -- helpers -------------------------------------------------------------------------------

    @property
    def _actor(self) -> Actor:
        from parkbrain.analytics.workflow import Actor

        return Actor(self.principal.actor, self.principal.role)

    def _tenant(self, alias: str) -> Predicate:
        """The alerts' rule for a table with ``park_id`` and ``enterprise_id`` (maintenance plans, work
        orders, addressed notices): park roles their park's rows, an enterprise its own, the province all."""
        return self.scope.alerts(alias)

    def _device(self, device_id: str) -> dict[str, Any]:
        from parkbrain.analytics.operations import device

        return device(self.store, device_id, self.scope.devices("d"))

    def _audit(self, action: str, target: str, row: dict[str, Any], **detail: Any) -> None:
        self.audit.record(
            self.principal,
            action,
            target,
            park_id=row.get("park_id"),
            enterprise_id=row.get("enterprise_id"),
            detail={k: v for k, v in detail.items() if v is not None},
        )

    # -- alerts --------------------------------------------------------------------------------

    def acknowledge_alert(self, alert_id: str, note: str | None = None) -> dict[str, Any]:
        """Acknowledge an open alert (who and when recorded); ``InvalidInput`` when it is not open."""
        return self._alert_step(alert_id, "acknowledge", note)

    def close_alert(self, alert_id: str, note: str | None = None) -> dict[str, Any]:
        """Close an open or acknowledged alert; closing a closed one is ``InvalidInput``."""
        return self._alert_step(alert_id, "close", note)

    def _alert_step(self, alert_id: str, action: str, note: str | None) -> dict[str, Any]:
        from parkbrain.analytics.operations import compute_alert_transition

        self.require("alerts")
        row = compute_alert_transition(
            self.store, alert_id, action, self._actor, self.scope.alerts("a"), note
        )
        self._audit(f"alert.{action}", alert_id, row, note=note)
        return row

    def alert_history(self, alert_id: str) -> dict[str, Any]:
        """``{"alert": …, "events": [...]}``: who raised, acknowledged, linked and closed it, and when."""
        from parkbrain.analytics.operations import compute_alert_history

        self.require("read")
        return compute_alert_history(self.store, alert_id, self.scope.alerts("a"))

    # -- maintenance ---------------------------------------------------------------------------

    def maintenance_plans(
        self,
        park_id: str | None = None,
        device_id: str | None = None,
        overdue: bool = False,
        now: datetime | str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[list[dict[str, Any]], int]:
        """A page of the maintenance plans the caller sees (``overdue``: due before ``now``), soonest first."""
        from parkbrain.analytics.operations import compute_plans

        self.require("read")
        at = _time(now, "now") or _now() if overdue else None
        return compute_plans(self.store, self._tenant("m"), park_id, device_id, at, limit, offset)

    def add_maintenance_plan(
        self,
        device_id: str,
        description: str,
        interval_days: int,
        last_done: datetime | str | None = None,
        next_due: datetime | str | None = None,
    ) -> dict[str, Any]:
        """Plan maintenance of a device of the caller's park every ``interval_days``."""
        from parkbrain.analytics.operations import add_plan

        self.require("operate")
        device = self._device(device_id)
        row = add_plan(
            self.store,
            device,
            description,
            interval_days,
            self._actor,
            _time(last_done, "last_done"),
            _time(next_due, "next_due"),
        )
        self._audit("maintenance.plan", row["plan_id"], row, device_id=device_id, interval_days=interval_days)
        return row

    def record_maintenance(
        self, plan_id: str, done_at: datetime | str | None = None, note: str | None = None
    ) -> dict[str, Any]:
        """Record a plan's maintenance done: its next due time moves on and its overdue alerts close."""
        from parkbrain.analytics.operations import compute_record_maintenance

        self.require("operate")
        row = compute_record_maintenance(
            self.store, plan_id, self._actor, self._tenant("m"), _time(done_at, "done_at"), note
        )
        self._audit("maintenance.done", plan_id, row, done_at=row["last_done_at"], note=note)
        return row

    def check_maintenance(self, now: datetime | str | None = None) -> list[dict[str, Any]]:
        """Raise a ``maintenance_overdue`` alert for each plan of the caller's parks overdue at ``now``
        (default: now). Checking again adds nothing; returns the alerts raised."""
        from parkbrain.analytics.operations import compute_overdue_maintenance

        self.require("operate")
        at = _time(now, "now") or _now()
        raised = compute_overdue_maintenance(self.store, at, self._tenant("m"))
        if raised:
            park_ids = sorted({a["park_id"] for a in raised})
            self.audit.record(
                self.principal,
                "maintenance.check",
                ",".join(park_ids)[:200],
                park_id=park_ids[0] if len(park_ids) == 1 else None,
                detail={"raised": [a["alert_id"] for a in raised], "now": at.isoformat()},
            )
        return raised

    # -- work orders ---------------------------------------------------------------------------

    def work_orders(
        self,
        park_id: str | None = None,
        status: str | None = None,
        assignee: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[list[dict[str, Any]], int]:
        """A page of the work orders the caller sees, newest first."""
        from parkbrain.analytics.operations_orders import compute_work_orders

        self.require("read")
        return compute_work_orders(self.store, self._tenant("w"), park_id, status, assignee, limit, offset)

    def work_order(self, work_order_id: str) -> dict[str, Any]:
        """``{"work_order": …, "events": [...]}``."""
        from parkbrain.analytics.operations_orders import compute_work_order_history

        self.require("read")
        return compute_work_order_history(self.store, work_order_id, self._tenant("w"))

    def create_work_order(
        self,
        title: str | None = None,
        *,
        park_id: str | None = None,
        device_id: str | None = None,
        from_alert: str | None = None,
        description: str | None = None,
        priority: str = "normal",
        assignee: str | None = None,
        due: datetime | str | None = None,
    ) -> dict[str, Any]:
        """A work order by hand (a park, optionally a device) or ``from_alert`` (its park, device and
        message; the alert links back). With ``assignee`` it is assigned at once."""
        from parkbrain.analytics.operations import alert as visible_alert
        from parkbrain.analytics.operations_orders import create_work_order, work_order

        self.require("operate")
        alert = visible_alert(self.store, from_alert, self.scope.alerts("a")) if from_alert else None
        device = self._device(device_id) if device_id else None
        park = _one_park(park_id, alert, device)
        park = self._own_park(park, "creates work orders in")
        if park is None:
            raise InvalidInput("park_id: a work order needs a park (or a device or an alert of one)")
        self.park(park)  # NotFound for an unknown park
        work_order_id = create_work_order(
            self.store,
            self._actor,
            park_id=park,
            title=title,
            description=description,
            priority=priority,
            device=device,
            alert=alert,
            assignee=assignee,
            due=_time(due, "due"),
        )
        row = work_order(self.store, work_order_id, self._tenant("w"))
        self._audit("workorder.create", work_order_id, row, alert_id=from_alert, assignee=assignee)
        return row

    def update_work_order(
        self,
        work_order_id: str,
        action: str,
        *,
        assignee: str | None = None,
        note: str | None = None,
        close_alert: bool = False,
    ) -> dict[str, Any]:
        """``action``: assign (needs ``assignee``), start, progress (needs ``note``) or close (``note``
        is the resolution; ``close_alert`` also closes the alert it was made from)."""
        from parkbrain.analytics.operations_orders import compute_work_order_update

        self.require("operate")
        row = compute_work_order_update(
            self.store,
            work_order_id,
            action,
            self._actor,
            self._tenant("w"),
            assignee=assignee,
            note=note,
            close_alert=close_alert,
        )
        self._audit(f"workorder.{action}", work_order_id, row, assignee=assignee, note=note)
        return row

    # -- notices -------------------------------------------------------------------------------

    def publish_notice(
        self,
        title: str,
        body: str,
        *,
        park_id: str | None = None,
        enterprise_ids: list[str] | None = None,
    ) -> dict[str, Any]:
        """Publish a notice of the caller's park (the province names the park) to all its enterprises
        or to ``enterprise_ids``; returns it with its recipient count."""
        from parkbrain.analytics.operations_notices import notice, publish_notice

        self.require("publish")
        park = self._own_park(park_id, "publishes notices of")
        if park is None:
            raise InvalidInput("park_id: name the park whose enterprises the notice is for")
        self.park(park)
        notice_id = publish_notice(self.store, self._actor, park, title, body, enterprise_ids)
        row = notice(self.store, notice_id, self._tenant("x"))
        self._audit("notice.publish", notice_id, row, audience=row["audience"], recipients=row["recipients"])
        return row

    def notices(
        self, park_id: str | None = None, unread: bool = False, limit: int = 100, offset: int = 0
    ) -> tuple[list[dict[str, Any]], int]:
        """Notices the caller sees, newest first: a park's own, or those addressed to an enterprise
        (with its ``read_at``). ``unread``: only those not read by every recipient seen."""
        from parkbrain.analytics.operations_notices import compute_notices

        self.require("read")
        return compute_notices(self.store, self._tenant("x"), park_id, unread, limit, offset)

    def read_notice(self, notice_id: str, enterprise_id: str | None = None) -> dict[str, Any]:
        """Mark a notice read by the caller's enterprise (its receipt: who and when; the first read
        counts). The province (and the local CLI) names the enterprise it records the read for."""
        from parkbrain.analytics.operations_notices import compute_read_notice, notice

        self.require("read")
        p = self.principal
        if p.role == "enterprise":
            if enterprise_id not in (None, p.enterprise_id):
                raise Forbidden(f"an enterprise records reads for itself ({p.enterprise_id}) only")
            enterprise_id = p.enterprise_id
        elif not self.scope.everything:
            raise Forbidden(f"role {p.role} does not receive notices; enterprises read them")
        if not enterprise_id:
            raise InvalidInput("enterprise_id: name the enterprise that read the notice")
        park_id = notice(self.store, notice_id, self._tenant("x"))["park_id"]
        receipt = compute_read_notice(self.store, notice_id, enterprise_id, self._actor)
        self._audit("notice.read", notice_id, {"park_id": park_id, "enterprise_id": enterprise_id})
        return receipt

    def notice_receipts(self, notice_id: str) -> dict[str, Any]:
        """Park side: the addressed enterprises, who read the notice (by whom, when) and who did not."""
        from parkbrain.analytics.operations_notices import compute_receipts

        self.require("publish")
        return compute_receipts(self.store, notice_id, self._tenant("x"))


def _one_park(park_id: str | None, alert: dict[str, Any] | None, device: dict[str, Any] | None) -> str | None:
    """The park a new work order belongs to; its alert, device and ``park_id`` must agree."""
    parks = {r["park_id"] for r in (alert, device) if r is not None}
    if park_id is not None:
        parks.add(park_id)
    if len(parks) > 1:
        raise InvalidInput(
            f"park_id: the alert, device and park name different parks ({', '.join(sorted(parks))})"
        )
    return parks.pop() if parks else None


def _time(value: datetime | str | None, field: str) -> datetime | None:
    """A time given as a datetime or ISO 8601 text (naive = Asia/Shanghai)."""
    from parkbrain.model.timeutil import parse_time

    if value is None or isinstance(value, datetime):
        return value
    try:
        return parse_time(value, field)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


def _now() -> datetime:
    from parkbrain.model.timeutil import now_utc

    return now_utc()


#: The operations the CLI runs on the file or through the server (``localops``): name → call.
OPERATIONS_OPS: dict[str, Callable[..., Any]] = {
    "alert_list": lambda park, **kw: park.alerts(**kw)[0],
    "alert_ack": lambda park, alert_id, note=None: park.acknowledge_alert(alert_id, note),
    "alert_close": lambda park, alert_id, note=None: park.close_alert(alert_id, note),
    "alert_history": lambda park, alert_id: park.alert_history(alert_id),
    "workorder_create": lambda park, **kw: park.create_work_order(**kw),
    "workorder_list": lambda park, **kw: park.work_orders(**kw)[0],
    "workorder_update": lambda park, work_order_id, action, **kw: park.update_work_order(
        work_order_id, action, **kw
    ),
    "maintenance_add": lambda park, **kw: park.add_maintenance_plan(**kw),
    "maintenance_list": lambda park, **kw: park.maintenance_plans(**kw)[0],
    "maintenance_done": lambda park, plan_id, **kw: park.record_maintenance(plan_id, **kw),
    "maintenance_check": lambda park, now=None: park.check_maintenance(now),
    "notice_publish": lambda park, title, body, **kw: park.publish_notice(title, body, **kw),
    "notice_list": lambda park, **kw: park.notices(**kw)[0],
    "notice_read": lambda park, notice_id, enterprise_id=None: park.read_notice(notice_id, enterprise_id),
    "notice_receipts": lambda park, notice_id: park.notice_receipts(notice_id),
}
OPERATIONS_WRITES = frozenset(
    {
        "alert_ack",
        "alert_close",
        "workorder_create",
        "workorder_update",
        "maintenance_add",
        "maintenance_done",
        "maintenance_check",
        "notice_publish",
        "notice_read",
    }
)
