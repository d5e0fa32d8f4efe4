"""Notices (通知公告) from a park to all its enterprises or chosen ones, with read receipts.

A notice to ``all`` is addressed to the enterprises of the park when it is published (one
``notice_recipients`` row each); an enterprise added later does not receive older notices. The first
read of each addressed enterprise is its receipt (who and when); reading again changes nothing.
``visible`` is the caller's scope over the alias ``x``: a notice joined with one recipient row
(``x.park_id``, ``x.enterprise_id``), so a park sees its park's notices and an enterprise only those
addressed to it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from parkbrain.analytics.operations import new_id
from parkbrain.analytics.workflow import Actor, check_text, insert_row
from parkbrain.errors import InvalidInput, NotFound
from parkbrain.model.timeutil import now_utc
from parkbrain.store.base import Predicate, Store, where

MAX_RECIPIENTS = 5000
_ADDRESSED = """(SELECT n.*, r.enterprise_id, r.read_by, r.read_at
    FROM notices n JOIN notice_recipients r USING (notice_id)) x"""
_SUMMARY = (
    "SELECT x.notice_id, x.park_id, x.title, x.body, x.author, x.published_at, x.audience, "
    "count(*) AS recipients, count(x.read_at) AS read, max(x.read_at) AS read_at"
)


def publish_notice(
    store: Store,
    actor: Actor,
    park_id: str,
    title: str,
    body: str,
    enterprise_ids: list[str] | None = None,
    now: datetime | None = None,
) -> str:
    """Publish a notice of ``park_id`` to all its enterprises (``enterprise_ids`` None) or to the
    chosen ones, which must be enterprises of the park. Returns its id."""
    now = now or now_utc()
    notice = {
        "notice_id": new_id("N"),
        "park_id": park_id,
        "title": check_text("title", title, 200),
        "body": check_text("body", body, 20_000),
        "author": actor.name,
        "published_at": now,
        "audience": "all" if enterprise_ids is None else "chosen",
    }
    recipients = _recipients(store, park_id, enterprise_ids)
    with store.transaction() as con:
        insert_row(con, "notices", notice)
        con.execute(
            "INSERT INTO notice_recipients (notice_id, enterprise_id) SELECT ?, unnest(?::VARCHAR[])",
            [notice["notice_id"], recipients],
        )
    return notice["notice_id"]


def _recipients(store: Store, park_id: str, chosen: list[str] | None) -> list[str]:
    if chosen is not None:
        chosen = sorted({e.strip() for e in chosen if e and e.strip()})
        if not chosen:
            raise InvalidInput("enterprise_ids: give at least one enterprise, or none for all of the park")
        if len(chosen) > MAX_RECIPIENTS:
            raise InvalidInput(f"enterprise_ids: at most {MAX_RECIPIENTS}; got {len(chosen)}")
    rows = store.query_rows(
        "SELECT enterprise_id FROM enterprises WHERE park_id = ? "
        "AND (?::VARCHAR[] IS NULL OR list_contains(?::VARCHAR[], enterprise_id)) ORDER BY 1",
        [park_id, chosen, chosen],
    )
    found = [r["enterprise_id"] for r in rows]
    if chosen is not None and len(found) < len(chosen):
        missing = sorted(set(chosen) - set(found))
        raise InvalidInput(f"enterprise_ids: {missing[0]!r} is not an enterprise of park {park_id}")
    if not found:
        raise InvalidInput(f"park_id: park {park_id!r} has no enterprises to address")
    return found


def compute_notices(
    store: Store,
    visible: Predicate,
    park_id: str | None = None,
    unread_only: bool = False,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """Notices the caller sees, newest first, with ``recipients`` and ``read`` counts over the rows it
    sees (for an enterprise: 1, and 1 once it read it, with its own ``read_at``)."""
    filters = [visible]
    if park_id is not None:
        filters.append(("x.park_id = ?", [park_id]))
    clause, params = where(*filters)
    having = "HAVING count(x.read_at) < count(*)" if unread_only else ""
    base = f"{_SUMMARY} FROM {_ADDRESSED} {clause} GROUP BY ALL {having}"
    total = store.query_rows(f"SELECT count(*) AS n FROM ({base})", params)[0]["n"]
    rows = store.query_rows(
        f"{base} ORDER BY x.published_at DESC, x.notice_id LIMIT ? OFFSET ?", [*params, limit, offset]
    )
    return rows, total


def notice(store: Store, notice_id: str, visible: Predicate) -> dict[str, Any]:
    """One notice the caller sees, with the counts of ``compute_notices``."""
    clause, params = where(visible, ("x.notice_id = ?", [notice_id]))
    rows = store.query_rows(f"{_SUMMARY} FROM {_ADDRESSED} {clause} GROUP BY ALL", params)
    if not rows:
        raise NotFound(f"no notice with notice_id {notice_id!r}")
    return rows[0]


def compute_read_notice(
    store: Store, notice_id: str, enterprise_id: str, actor: Actor, now: datetime | None = None
) -> dict[str, Any]:
    """Record that ``enterprise_id`` read the notice (the first read is kept); returns its receipt."""
    now = now or now_utc()
    with store.transaction() as con:
        rows = store.query_rows(
            "SELECT read_at FROM notice_recipients WHERE notice_id = ? AND enterprise_id = ?",
            [notice_id, enterprise_id],
        )
        if not rows:
            raise NotFound(f"no notice with notice_id {notice_id!r} addressed to enterprise {enterprise_id}")
        if rows[0]["read_at"] is None:
            con.execute(
                "UPDATE notice_recipients SET read_by = ?, read_at = ? WHERE notice_id = ? AND enterprise_id = ?",
                [actor.name, now, notice_id, enterprise_id],
            )
    return store.query_rows(
        "SELECT notice_id, enterprise_id, read_by, read_at FROM notice_recipients "
        "WHERE notice_id = ? AND enterprise_id = ?",
        [notice_id, enterprise_id],
    )[0]


def compute_receipts(store: Store, notice_id: str, visible: Predicate) -> dict[str, Any]:
    """Who of the addressed enterprises read the notice, and who did not (park side)."""
    head = notice(store, notice_id, visible)
    receipts = store.query_rows(
        "SELECT r.enterprise_id, e.name AS enterprise_name, r.read_by, r.read_at, "
        "CASE WHEN r.read_at IS NULL THEN 'unread' ELSE 'read' END AS status "
        "FROM notice_recipients r LEFT JOIN enterprises e USING (enterprise_id) "
        "WHERE r.notice_id = ? ORDER BY r.read_at IS NULL, r.read_at, r.enterprise_id",
        [notice_id],
    )
    read = sum(1 for r in receipts if r["read_at"] is not None)
    return {
        "notice": {k: v for k, v in head.items() if k not in ("read", "read_at", "recipients")},
        "recipients": len(receipts),
        "read": read,
        "unread": len(receipts) - read,
        "receipts": receipts,
    }
