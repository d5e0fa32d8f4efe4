"""The audit log: append-only and hash-chained.

Each entry stores ``prev_hash`` (the hash of the entry before it; 64 zeros for the first) and
``hash = sha256(canonical JSON of seq, ts, actor, role, action, target, park_id, enterprise_id,
detail, prev_hash)``. Editing an entry breaks its hash; deleting one breaks the next entry's
``prev_hash`` and leaves a gap in ``seq``. Deleting the newest entries leaves a valid chain, so the
head (seq and hash of the newest entry) is also written to a file beside the database
(``<db>.audit-head``) that ``verify`` compares with; keep copies of it elsewhere for stronger
guarantees.

Actions recorded: ``login.success``, ``login.failure``, ``logout``, ``token.create``, ``token.revoke``,
``token.use`` (a token's first use in each 10-minute window, with the route), ``user.create``,
``user.disable``, ``grant.create``, ``grant.revoke``, ``grant.read`` (every read under a grant, with
the point ids), ``export`` (dataset, filters, rows) and ``import`` (source, rows).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from parkbrain.space.principal import Principal

GENESIS = "0" * 64
_FIELDS = (
    "seq",
    "ts",
    "actor",
    "role",
    "action",
    "target",
    "park_id",
    "enterprise_id",
    "detail",
    "prev_hash",
)


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    entries: int
    head_seq: int | None
    problems: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "entries": self.entries, "head_seq": self.head_seq, "problems": self.problems}


def entry_hash(entry: dict[str, Any]) -> str:
    """The hash of an entry: SHA-256 of its fields as canonical JSON (sorted keys, UTF-8)."""
    payload = {k: entry.get(k) for k in _FIELDS}
    ts = payload["ts"]
    if isinstance(ts, datetime):
        payload["ts"] = _ts_text(ts)
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _ts_text(ts: datetime) -> str:
    return ts.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class AuditLog:
    """Appends to and verifies the ``audit_log`` table of a store."""

    def __init__(self, store: Any) -> None:
        self.store = store

    @property
    def head_path(self) -> Path | None:
        return Path(self.store.path + ".audit-head") if self.store.path else None

    def record(
        self,
        principal: Principal | None,
        action: str,
        target: str | None = None,
        *,
        park_id: str | None = None,
        enterprise_id: str | None = None,
        detail: dict[str, Any] | None = None,
        actor: str | None = None,
    ) -> dict[str, Any]:
        """Append one entry (in its own transaction) and move the head file on."""
        with self.store.write_lock:
            return self._append(principal, action, target, park_id, enterprise_id, detail, actor)

    def _append(
        self,
        principal: Principal | None,
        action: str,
        target: str | None,
        park_id: str | None,
        enterprise_id: str | None,
        detail: dict[str, Any] | None,
        actor: str | None,
    ) -> dict[str, Any]:
        ts = datetime.now(timezone.utc)
        with self.store.transaction() as con:
            last = con.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchall()
            seq, prev = (last[0][0] + 1, last[0][1]) if last else (1, GENESIS)
            entry = {
                "seq": seq,
                "ts": _ts_text(ts),
                "actor": actor or (principal.actor if principal else "anonymous"),
                "role": principal.role if principal else None,
                "action": action,
                "target": target,
                "park_id": park_id if park_id is not None else (principal.park_id if principal else None),
                "enterprise_id": enterprise_id
                if enterprise_id is not None
                else (principal.enterprise_id if principal else None),
                "detail": json.dumps(detail or {}, sort_keys=True, ensure_ascii=False, default=str),
                "prev_hash": prev,
            }
            entry["hash"] = entry_hash(entry)
            con.execute(
                f"INSERT INTO audit_log ({', '.join(entry)}) VALUES ({', '.join('?' for _ in entry)})",
                [ts if k == "ts" else v for k, v in entry.items()],
            )
        self._write_head(seq, entry["hash"])  # after the commit: the head never runs ahead of the log
        return entry

    def _write_head(self, seq: int, digest: str) -> None:
        path = self.head_path
        if path is None:
            return
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", dir=str(path.parent))
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(json.dumps({"seq": seq, "hash": digest}) + "\n")
        os.replace(tmp, path)

    def read_head(self) -> dict[str, Any] | None:
        path = self.head_path
        if path is None or not path.exists():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return {"seq": int(data["seq"]), "hash": str(data["hash"])}
        except (OSError, ValueError, KeyError, TypeError):
            return {"seq": -1, "hash": "unreadable"}

    def verify(self) -> VerifyReport:
        """Walk the chain; report every edited, deleted or reordered entry."""
        rows = self.store.query_rows(f"SELECT {', '.join(_FIELDS)}, hash FROM audit_log ORDER BY seq")
        problems: list[str] = []
        prev, expected_seq = GENESIS, 1
        for row in rows:
            seq = row["seq"]
            if seq != expected_seq:
                problems.append(f"entries {expected_seq}–{seq - 1} are missing (deleted)")
            if row["prev_hash"] != prev:
                problems.append(
                    f"entry {seq}: prev_hash does not match the entry before it (deleted or edited)"
                )
            if entry_hash(row) != row["hash"]:
                problems.append(f"entry {seq}: contents do not match its hash (edited)")
            prev, expected_seq = row["hash"], seq + 1
        head_seq = rows[-1]["seq"] if rows else None
        head = self.read_head()
        if head is not None:
            if head["seq"] == -1:
                problems.append(f"the head file {self.head_path} is unreadable")
            elif head_seq is None or head["seq"] > head_seq:
                problems.append(
                    f"the newest entries are missing: the head file says {head['seq']}, the log ends at "
                    f"{head_seq or 0} (deleted)"
                )
            elif head["seq"] == head_seq and head["hash"] != rows[-1]["hash"]:
                problems.append(f"entry {head_seq}: hash differs from the head file (edited or replaced)")
        elif rows and self.head_path is not None:
            problems.append(f"the head file {self.head_path} is missing")
        return VerifyReport(not problems, len(rows), head_seq, problems)

    def entries(
        self, predicate: tuple[str, list[Any]], action: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[dict[str, Any]]:
        sql, params = predicate
        clauses = [sql]
        if action:
            clauses.append("(l.action = ? OR l.action LIKE ?)")
            params = [*params, action, action + ".%"]
        rows = self.store.query_rows(
            f"SELECT * FROM audit_log l WHERE {' AND '.join(clauses)} ORDER BY seq DESC LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        for row in rows:
            row["detail"] = json.loads(row["detail"]) if row.get("detail") else {}
        return rows
