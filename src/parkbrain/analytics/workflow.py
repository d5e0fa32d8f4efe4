"""Lifecycles of the park's governance objects, declared once as data, and the one way to step them.

==============  ===========================================================================
alert           open → acknowledged → closed (``close`` also straight from open)
work order      open → assigned → in_progress → closed (``close`` from any status but closed;
                ``assign`` again while assigned re-assigns; ``progress`` notes work in progress)
==============  ===========================================================================

A transition names the statuses it starts from, the status it leads to, and the ``stamp`` columns it
fills (``<stamp>_by``, ``<stamp>_at``: who and when). ``Lifecycle.step`` refuses any other move with
an ``InvalidInput`` that names the object, its status and what the action needs. Every step is
written with its event row (``alert_events``, ``work_order_events``) in one transaction by the modules
that use these tables (``operations``, ``operations_orders``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from parkbrain.errors import InvalidInput, NotFound
from parkbrain.store.base import Predicate, where


@dataclass(frozen=True)
class Actor:
    """Who acts: the audit log's name for the principal (``user:<name>``, ``token:<name>``, ``system``)
    and its role."""

    name: str
    role: str | None = None


@dataclass(frozen=True)
class Transition:
    action: str
    sources: tuple[str, ...]
    target: str
    label_zh: str
    stamp: str | None = None  # fills <stamp>_by and <stamp>_at


@dataclass(frozen=True)
class Lifecycle:
    entity: str
    statuses: tuple[str, ...]
    initial: str
    transitions: tuple[Transition, ...]

    def __post_init__(self) -> None:
        for t in self.transitions:
            unknown = [s for s in (*t.sources, t.target) if s not in self.statuses]
            if unknown:
                raise ValueError(f"{self.entity} {t.action}: unknown status {unknown[0]!r}")

    @property
    def actions(self) -> tuple[str, ...]:
        return tuple(t.action for t in self.transitions)

    def transition(self, action: str) -> Transition:
        for t in self.transitions:
            if t.action == action:
                return t
        raise InvalidInput(
            f"action: expected one of {', '.join(self.actions)} for a {self.entity}; got {action!r}"
        )

    def step(self, action: str, status: str, ident: str) -> Transition:
        """The transition ``action`` from ``status``; ``InvalidInput`` naming ``ident`` when not allowed."""
        t = self.transition(action)
        if status not in t.sources:
            raise InvalidInput(
                f"{self.entity} {ident} is {status}: {action} needs it {' or '.join(t.sources)}"
            )
        return t

    def as_dict(self) -> dict[str, Any]:
        """The lifecycle for the API and the docs."""
        return {
            "entity": self.entity,
            "statuses": list(self.statuses),
            "initial": self.initial,
            "transitions": [
                {"action": t.action, "from": list(t.sources), "to": t.target, "label_zh": t.label_zh}
                for t in self.transitions
            ],
        }


ALERT_LIFECYCLE = Lifecycle(
    entity="alert",
    statuses=("open", "acknowledged", "closed"),
    initial="open",
    transitions=(
        Transition("acknowledge", ("open",), "acknowledged", "确认", stamp="acknowledged"),
        Transition("close", ("open", "acknowledged"), "closed", "关闭", stamp="closed"),
    ),
)

WORK_ORDER_LIFECYCLE = Lifecycle(
    entity="work order",
    statuses=("open", "assigned", "in_progress", "closed"),
    initial="open",
    transitions=(
        Transition("assign", ("open", "assigned"), "assigned", "派单"),
        Transition("start", ("assigned",), "in_progress", "开始处理"),
        Transition("progress", ("in_progress",), "in_progress", "记录进展"),
        Transition("close", ("open", "assigned", "in_progress"), "closed", "关闭", stamp="closed"),
    ),
)

#: Work-order priorities, lowest first, with their Chinese labels.
PRIORITIES: dict[str, str] = {"low": "低", "normal": "普通", "high": "高", "urgent": "紧急"}


def check_choice(field: str, value: str, choices: Any) -> str:
    if value not in choices:
        raise InvalidInput(f"{field}: expected one of {', '.join(choices)}; got {value!r}")
    return value


def check_text(field: str, value: str | None, max_len: int, required: bool = True) -> str | None:
    """Stripped text of at most ``max_len`` characters (``InvalidInput`` naming ``field`` otherwise)."""
    text = value.strip() if isinstance(value, str) else value
    if not text:
        if required:
            raise InvalidInput(f"{field}: expected non-empty text")
        return None
    if len(text) > max_len:
        raise InvalidInput(f"{field}: at most {max_len} characters; got {len(text)}")
    return text


def stamp_columns(t: Transition, actor: Actor, now: datetime) -> dict[str, Any]:
    """The columns a transition sets: the status, and who and when for stamped ones."""
    columns: dict[str, Any] = {"status": t.target}
    if t.stamp:
        columns[f"{t.stamp}_by"] = actor.name
        columns[f"{t.stamp}_at"] = now
    return columns


def update_row(con: Any, table: str, key: str, ident: str, columns: dict[str, Any]) -> None:
    """``UPDATE table SET columns WHERE key = ident`` on the writer's connection."""
    assignments = ", ".join(f"{c} = ?" for c in columns)
    con.execute(f"UPDATE {table} SET {assignments} WHERE {key} = ?", [*columns.values(), ident])


def insert_row(con: Any, table: str, row: dict[str, Any]) -> None:
    con.execute(
        f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})", list(row.values())
    )


def one(store: Any, select: str, predicates: list[Predicate], missing: str) -> dict[str, Any]:
    """The one row of ``select`` under ``predicates``; ``NotFound(missing)`` when there is none."""
    clause, params = where(*predicates)
    rows = store.query_rows(f"{select} {clause} LIMIT 1", params)
    if not rows:
        raise NotFound(missing)
    return rows[0]
