"""REST routes for operations: thin, over the caller's ``Park`` (no SQL, no business rules).

The alert lifecycle, maintenance plans, work orders and notices; who may do what is decided by the
``Park`` methods (``facets.operations``), and what a caller cannot see is 404.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from parkbrain.api.auth import ParkDep
from parkbrain.api.responses import paged

router = APIRouter(tags=["governance"])

Id = Annotated[str, Query(min_length=1, max_length=128)]
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]
Time = Annotated[str, Field(max_length=40, description="ISO 8601; naive = Asia/Shanghai")]


class NoteRequest(BaseModel):
    note: str | None = Field(default=None, max_length=2000)


class PlanRequest(BaseModel):
    device_id: str = Field(min_length=1, max_length=128, description="the asset (a device)")
    description: str = Field(min_length=1, max_length=500, description="what is done, e.g. 季度巡检")
    interval_days: int = Field(ge=1, le=3660)
    last_done: Time | None = None
    next_due: Time | None = Field(default=None, description="default: last_done (else now) + interval")


class MaintenanceDoneRequest(BaseModel):
    done_at: Time | None = Field(default=None, description="default now")
    note: str | None = Field(default=None, max_length=2000)


class WorkOrderRequest(BaseModel):
    title: str | None = Field(default=None, max_length=200, description="default: the alert's message")
    park_id: str | None = Field(default=None, max_length=128)
    device_id: str | None = Field(default=None, max_length=128)
    from_alert: str | None = Field(default=None, max_length=128, description="alert_id it is made from")
    description: str | None = Field(default=None, max_length=4000)
    priority: Literal["low", "normal", "high", "urgent"] = "normal"
    assignee: str | None = Field(default=None, max_length=100)
    due: Time | None = None


class WorkOrderUpdate(BaseModel):
    action: Literal["assign", "start", "progress", "close"]
    assignee: str | None = Field(default=None, max_length=100, description="assign: who does the work")
    note: str | None = Field(default=None, max_length=2000, description="progress note; close: resolution")
    close_alert: bool = Field(default=False, description="close: also close the alert it was made from")


class NoticeRequest(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=20_000)
    park_id: str | None = Field(default=None, max_length=128, description="province only: which park")
    enterprise_ids: list[Annotated[str, Field(min_length=1, max_length=128)]] | None = Field(
        default=None, max_length=5000, description="chosen enterprises; omitted: all of the park"
    )


class ReadRequest(BaseModel):
    enterprise_id: str | None = Field(
        default=None, max_length=128, description="province only: the enterprise that read it"
    )


# -- alerts ---------------------------------------------------------------------------------------


@router.post("/api/alerts/{alert_id}/acknowledge")
def acknowledge_alert(p: ParkDep, alert_id: str, body: NoteRequest) -> dict[str, Any]:
    """Acknowledge an open alert (who and when are recorded); 422 when it is not open."""
    return p.acknowledge_alert(alert_id, note=body.note)


@router.post("/api/alerts/{alert_id}/close")
def close_alert(p: ParkDep, alert_id: str, body: NoteRequest) -> dict[str, Any]:
    """Close an open or acknowledged alert; 422 when it is closed already."""
    return p.close_alert(alert_id, note=body.note)


@router.get("/api/alerts/{alert_id}/events")
def alert_events(p: ParkDep, alert_id: str) -> dict[str, Any]:
    """The alert and its history: raised, acknowledged, linked to a work order, closed — who and when."""
    return p.alert_history(alert_id)


# -- maintenance ----------------------------------------------------------------------------------


@router.get("/api/maintenance-plans")
def maintenance_plans(
    p: ParkDep,
    response: Response,
    park_id: Id | None = None,
    device_id: Id | None = None,
    overdue: bool = False,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[dict[str, Any]]:
    """Maintenance plans the caller sees, soonest due first (``overdue``: only those past due)."""
    page = p.maintenance_plans(
        park_id=park_id, device_id=device_id, overdue=overdue, limit=limit, offset=offset
    )
    return paged(response, page)


@router.post("/api/maintenance-plans", status_code=201)
def add_maintenance_plan(p: ParkDep, body: PlanRequest) -> dict[str, Any]:
    """Plan maintenance of a device of the caller's park every ``interval_days``."""
    return p.add_maintenance_plan(
        body.device_id, body.description, body.interval_days, body.last_done, body.next_due
    )


@router.post("/api/maintenance-plans/{plan_id}/done")
def maintenance_done(p: ParkDep, plan_id: str, body: MaintenanceDoneRequest) -> dict[str, Any]:
    """Record the plan's maintenance: the next due time moves on, its overdue alerts close."""
    return p.record_maintenance(plan_id, done_at=body.done_at, note=body.note)


@router.post("/api/maintenance-plans/check")
def check_maintenance(p: ParkDep) -> list[dict[str, Any]]:
    """Raise ``maintenance_overdue`` alerts for the caller's overdue plans now (the server also checks
    periodically); returns the alerts raised."""
    return p.check_maintenance()


# -- work orders ----------------------------------------------------------------------------------


@router.get("/api/work-orders")
def work_orders(
    p: ParkDep,
    response: Response,
    park_id: Id | None = None,
    status: Annotated[str | None, Query(pattern="^(open|assigned|in_progress|closed)$")] = None,
    assignee: Annotated[str | None, Query(max_length=100)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[dict[str, Any]]:
    """Work orders the caller sees, newest first; the total is in ``X-Total-Count``."""
    page = p.work_orders(park_id=park_id, status=status, assignee=assignee, limit=limit, offset=offset)
    return paged(response, page)


@router.post("/api/work-orders", status_code=201)
def create_work_order(p: ParkDep, body: WorkOrderRequest) -> dict[str, Any]:
    """A work order by hand (park, device) or from an alert (``from_alert``; both are linked)."""
    return p.create_work_order(
        body.title,
        park_id=body.park_id,
        device_id=body.device_id,
        from_alert=body.from_alert,
        description=body.description,
        priority=body.priority,
        assignee=body.assignee,
        due=body.due,
    )


@router.get("/api/work-orders/{work_order_id}")
def work_order(p: ParkDep, work_order_id: str) -> dict[str, Any]:
    """A work order and its events."""
    return p.work_order(work_order_id)


@router.patch("/api/work-orders/{work_order_id}")
def update_work_order(p: ParkDep, work_order_id: str, body: WorkOrderUpdate) -> dict[str, Any]:
    """Assign, start, progress or close a work order (422 for a move its status does not allow)."""
    return p.update_work_order(
        work_order_id, body.action, assignee=body.assignee, note=body.note, close_alert=body.close_alert
    )


# -- notices --------------------------------------------------------------------------------------


@router.get("/api/notices")
def notices(
    p: ParkDep,
    response: Response,
    park_id: Id | None = None,
    unread: bool = False,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[dict[str, Any]]:
    """Notices the caller sees: its park's, or (an enterprise) those addressed to it, with read counts."""
    return paged(response, p.notices(park_id=park_id, unread=unread, limit=limit, offset=offset))


@router.post("/api/notices", status_code=201)
def publish_notice(p: ParkDep, body: NoticeRequest) -> dict[str, Any]:
    """Publish a notice to all the park's enterprises, or to ``enterprise_ids``."""
    return p.publish_notice(body.title, body.body, park_id=body.park_id, enterprise_ids=body.enterprise_ids)


@router.post("/api/notices/{notice_id}/read")
def read_notice(p: ParkDep, notice_id: str, body: ReadRequest) -> dict[str, Any]:
    """Record the caller's enterprise's read receipt (the first read counts)."""
    return p.read_notice(notice_id, enterprise_id=body.enterprise_id)


@router.get("/api/notices/{notice_id}/receipts")
def notice_receipts(p: ParkDep, notice_id: str) -> dict[str, Any]:
    """Park side: who of the addressed enterprises read the notice, and who did not."""
    return p.notice_receipts(notice_id)
