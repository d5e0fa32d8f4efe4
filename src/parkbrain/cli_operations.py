"""``parkbrain`` commands for operations (registered on the group in ``parkbrain.cli``): the alert
lifecycle, maintenance plans, work orders and notices.

Each command runs one operation of ``facets.operations.OPERATIONS_OPS`` through ``_admin``: on the
database file, or through the server that holds it. The command line acts as the local ``system``.
"""

from __future__ import annotations

import json
from typing import Any

import click

from parkbrain.cli import DB_OPTION, FORMAT_OPTION, _admin, _json_default, _print_rows, cli, user_errors

ALERT_COLUMNS = ["alert_id", "ts", "park_id", "enterprise_id", "rule", "severity", "status", "message"]
ORDER_COLUMNS = [
    "work_order_id",
    "park_id",
    "device_id",
    "alert_id",
    "priority",
    "status",
    "assignee",
    "title",
]
PLAN_COLUMNS = [
    "plan_id",
    "park_id",
    "device_id",
    "description",
    "interval_days",
    "last_done_at",
    "next_due_at",
]
NOTICE_COLUMNS = ["notice_id", "park_id", "published_at", "audience", "recipients", "read", "title"]
EVENT_COLUMNS = ["ts", "actor", "action", "from_status", "to_status", "note"]


def _given(**kw: Any) -> dict[str, Any]:
    return {k: v for k, v in kw.items() if v is not None}


def _print_one(row: dict[str, Any], fmt: str, line: str) -> None:
    if fmt == "json":
        click.echo(json.dumps(row, ensure_ascii=False, indent=2, default=_json_default))
    else:
        click.echo(line)


def _limit_option(default: int = 50) -> Any:
    return click.option("--limit", default=default, show_default=True, type=click.IntRange(1, 10_000))


# -- alerts ---------------------------------------------------------------------------------------


@cli.group()
def alert() -> None:
    """Alerts (告警): list them, acknowledge, close, and read their history."""


@alert.command("list")
@click.option("--park", "park_id", default=None, help="One park's alerts.")
@click.option("--status", type=click.Choice(["open", "acknowledged", "closed"]), default=None)
@_limit_option()
@DB_OPTION
@FORMAT_OPTION
@user_errors
def alert_list(park_id: str | None, status: str | None, limit: int, db: str, fmt: str) -> None:
    """Alerts, newest first."""
    rows = _admin(db, "alert_list", **_given(park_id=park_id, status=status, limit=limit))
    _print_rows(rows, ALERT_COLUMNS, fmt)


@alert.command("ack")
@click.argument("alert_id")
@click.option("--note", default=None, help="Why, or what is being done (kept with the event).")
@DB_OPTION
@FORMAT_OPTION
@user_errors
def alert_ack(alert_id: str, note: str | None, db: str, fmt: str) -> None:
    """Acknowledge an open alert (确认)."""
    row = _admin(db, "alert_ack", **_given(alert_id=alert_id, note=note))
    _print_one(row, fmt, f"Acknowledged {alert_id} ({row['acknowledged_by']}, {row['acknowledged_at']}).")


@alert.command("close")
@click.argument("alert_id")
@click.option("--note", default=None, help="How it was resolved.")
@DB_OPTION
@FORMAT_OPTION
@user_errors
def alert_close(alert_id: str, note: str | None, db: str, fmt: str) -> None:
    """Close an open or acknowledged alert (关闭)."""
    row = _admin(db, "alert_close", **_given(alert_id=alert_id, note=note))
    _print_one(row, fmt, f"Closed {alert_id} ({row['closed_by']}, {row['closed_at']}).")


@alert.command("history")
@click.argument("alert_id")
@DB_OPTION
@FORMAT_OPTION
@user_errors
def alert_history(alert_id: str, db: str, fmt: str) -> None:
    """An alert's events: raised, acknowledged, linked to a work order, closed — who and when."""
    history = _admin(db, "alert_history", alert_id=alert_id)
    if fmt == "json":
        click.echo(json.dumps(history, ensure_ascii=False, indent=2, default=_json_default))
        return
    a = history["alert"]
    click.echo(f"{a['alert_id']}  {a['status']}  {a['rule']}  {a['message'] or ''}")
    _print_rows(history["events"], EVENT_COLUMNS, fmt)


# -- work orders ----------------------------------------------------------------------------------


@cli.group()
def workorder() -> None:
    """Work orders (工单): by hand or from an alert; assigned, progressed, closed."""


@workorder.command("create")
@click.option("--title", default=None, help="What is to be done [the alert's message].")
@click.option("--park", "park_id", default=None, help="The park (needed without --device or --from-alert).")
@click.option("--device", "device_id", default=None, help="The asset concerned.")
@click.option(
    "--from-alert", "from_alert", default=None, help="The alert it is made from (linked both ways)."
)
@click.option("--description", default=None, help="Details.")
@click.option(
    "--priority", type=click.Choice(["low", "normal", "high", "urgent"]), default="normal", show_default=True
)
@click.option("--assignee", default=None, help="Assign at once to this person or team.")
@click.option("--due", default=None, help="Due time (ISO 8601; naive = Asia/Shanghai).")
@DB_OPTION
@FORMAT_OPTION
@user_errors
def workorder_create(db: str, fmt: str, **options: Any) -> None:
    """Create a work order."""
    row = _admin(db, "workorder_create", **_given(**options))
    _print_one(row, fmt, f"Created work order {row['work_order_id']} ({row['status']}): {row['title']}")


@workorder.command("list")
@click.option("--park", "park_id", default=None, help="One park's work orders.")
@click.option("--status", type=click.Choice(["open", "assigned", "in_progress", "closed"]), default=None)
@click.option("--assignee", default=None, help="Only this assignee's.")
@_limit_option()
@DB_OPTION
@FORMAT_OPTION
@user_errors
def workorder_list(db: str, fmt: str, **options: Any) -> None:
    """Work orders, newest first."""
    _print_rows(_admin(db, "workorder_list", **_given(**options)), ORDER_COLUMNS, fmt)


@workorder.command("update")
@click.argument("work_order_id")
@click.option(
    "--action",
    required=True,
    type=click.Choice(["assign", "start", "progress", "close"]),
    help="assign (needs --assignee), start, progress (needs --note) or close.",
)
@click.option("--assignee", default=None, help="assign: who does the work.")
@click.option("--note", default=None, help="progress: the work done; close: the resolution.")
@click.option("--close-alert", "close_alert", is_flag=True, help="close: also close the alert it came from.")
@DB_OPTION
@FORMAT_OPTION
@user_errors
def workorder_update(
    work_order_id: str,
    action: str,
    assignee: str | None,
    note: str | None,
    close_alert: bool,
    db: str,
    fmt: str,
) -> None:
    """Move a work order on: assign, start, progress, close."""
    args = _given(work_order_id=work_order_id, action=action, assignee=assignee, note=note)
    row = _admin(db, "workorder_update", close_alert=close_alert, **args)
    _print_one(row, fmt, f"Work order {work_order_id}: {row['status']} (assignee {row['assignee'] or '—'}).")


# -- maintenance ----------------------------------------------------------------------------------


@cli.group()
def maintenance() -> None:
    """Maintenance plans (维护计划) of the park's assets; overdue ones raise alerts."""


@maintenance.command("add")
@click.option("--device", "device_id", required=True, help="The asset (a device id).")
@click.option("--description", required=True, help="What is done, e.g. 季度巡检.")
@click.option(
    "--every", "interval_days", required=True, type=click.IntRange(1, 3660), help="Interval in days."
)
@click.option("--last-done", "last_done", default=None, help="When it was last done (ISO 8601).")
@click.option(
    "--next-due", "next_due", default=None, help="First due time [last done, else now, + interval]."
)
@DB_OPTION
@FORMAT_OPTION
@user_errors
def maintenance_add(db: str, fmt: str, **options: Any) -> None:
    """Plan maintenance of a device every N days."""
    row = _admin(db, "maintenance_add", **_given(**options))
    _print_one(row, fmt, f"Plan {row['plan_id']} for {row['device_id']}: next due {row['next_due_at']}.")


@maintenance.command("list")
@click.option("--park", "park_id", default=None, help="One park's plans.")
@click.option("--device", "device_id", default=None, help="One device's plans.")
@click.option("--overdue", is_flag=True, help="Only plans past their due time.")
@_limit_option()
@DB_OPTION
@FORMAT_OPTION
@user_errors
def maintenance_list(overdue: bool, db: str, fmt: str, **options: Any) -> None:
    """Maintenance plans, soonest due first."""
    rows = _admin(db, "maintenance_list", overdue=overdue, **_given(**options))
    _print_rows(rows, PLAN_COLUMNS, fmt)


@maintenance.command("done")
@click.argument("plan_id")
@click.option("--at", "done_at", default=None, help="When it was done [now] (ISO 8601).")
@click.option("--note", default=None, help="What was done.")
@DB_OPTION
@FORMAT_OPTION
@user_errors
def maintenance_done(plan_id: str, done_at: str | None, note: str | None, db: str, fmt: str) -> None:
    """Record a plan's maintenance done: the next due time moves on, its overdue alerts close."""
    row = _admin(db, "maintenance_done", **_given(plan_id=plan_id, done_at=done_at, note=note))
    closed = f"; closed {', '.join(row['closed_alerts'])}" if row["closed_alerts"] else ""
    _print_one(row, fmt, f"Plan {plan_id} done; next due {row['next_due_at']}{closed}.")


@maintenance.command("check")
@click.option("--now", default=None, help="Check as of this time [now] (ISO 8601).")
@DB_OPTION
@FORMAT_OPTION
@user_errors
def maintenance_check(now: str | None, db: str, fmt: str) -> None:
    """Raise a maintenance_overdue alert for each overdue plan (once per plan and due time)."""
    rows = _admin(db, "maintenance_check", **_given(now=now))
    if fmt == "table":
        click.echo(f"{len(rows)} alert{'s' if len(rows) != 1 else ''} raised.", err=True)
    _print_rows(rows, ALERT_COLUMNS, fmt)


# -- notices --------------------------------------------------------------------------------------


@cli.group()
def notice() -> None:
    """Notices (通知公告) to the park's enterprises, with read receipts."""


@notice.command("publish")
@click.option("--park", "park_id", required=True, help="The park whose enterprises get it.")
@click.option("--title", required=True, help="The title.")
@click.option("--body", default=None, help="The text (or --body-file).")
@click.option(
    "--body-file",
    "body_file",
    type=click.File("r", encoding="utf-8"),
    default=None,
    help="Read the text from a file (- for stdin).",
)
@click.option(
    "--to", "enterprise_ids", multiple=True, help="A chosen enterprise (repeatable) [all of the park]."
)
@DB_OPTION
@FORMAT_OPTION
@user_errors
def notice_publish(
    park_id: str,
    title: str,
    body: str | None,
    body_file: Any,
    enterprise_ids: tuple[str, ...],
    db: str,
    fmt: str,
) -> None:
    """Publish a notice to all the park's enterprises or to chosen ones."""
    if (body is None) == (body_file is None):
        raise click.UsageError("give the text with --body or --body-file (one of them)")
    text = body if body is not None else body_file.read()
    args: dict[str, Any] = {"title": title, "body": text, "park_id": park_id}
    if enterprise_ids:
        args["enterprise_ids"] = list(enterprise_ids)
    row = _admin(db, "notice_publish", **args)
    _print_one(row, fmt, f"Published notice {row['notice_id']} to {row['recipients']} enterprise(s).")


@notice.command("list")
@click.option("--park", "park_id", default=None, help="One park's notices.")
@click.option("--unread", is_flag=True, help="Only notices some recipient has not read.")
@_limit_option()
@DB_OPTION
@FORMAT_OPTION
@user_errors
def notice_list(unread: bool, db: str, fmt: str, **options: Any) -> None:
    """Notices, newest first, with how many of their recipients read them."""
    _print_rows(_admin(db, "notice_list", unread=unread, **_given(**options)), NOTICE_COLUMNS, fmt)


@notice.command("read")
@click.argument("notice_id")
@click.option("--enterprise", "enterprise_id", required=True, help="The enterprise that read it.")
@DB_OPTION
@FORMAT_OPTION
@user_errors
def notice_read(notice_id: str, enterprise_id: str, db: str, fmt: str) -> None:
    """Record an enterprise's read receipt (e.g. confirmed by phone); the first read counts."""
    row = _admin(db, "notice_read", notice_id=notice_id, enterprise_id=enterprise_id)
    _print_one(row, fmt, f"{enterprise_id} read {notice_id} ({row['read_by']}, {row['read_at']}).")


@notice.command("receipts")
@click.argument("notice_id")
@DB_OPTION
@FORMAT_OPTION
@user_errors
def notice_receipts(notice_id: str, db: str, fmt: str) -> None:
    """Who of the addressed enterprises read a notice, and who did not."""
    result = _admin(db, "notice_receipts", notice_id=notice_id)
    if fmt == "json":
        click.echo(json.dumps(result, ensure_ascii=False, indent=2, default=_json_default))
        return
    click.echo(f"{notice_id}: {result['read']} of {result['recipients']} read, {result['unread']} unread")
    _print_rows(result["receipts"], ["enterprise_id", "enterprise_name", "status", "read_by", "read_at"], fmt)
