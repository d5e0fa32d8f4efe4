"""Sharing grants: an enterprise opens chosen data to a party, for a purpose, until an expiry.

A grant names its ``grantee`` as ``park:<park_id>`` (the enterprise's own park),
``enterprise:<enterprise_id>`` or ``integrator:<org>``; its ``kind`` is ``points`` (the listed
point ids of the enterprise) or ``metrics`` (every point of the enterprise measuring one of the
listed quantities, including points added later). Only the enterprise itself (or the province) can
grant or revoke; reading under a grant is recorded in the audit log by ``Park``.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timezone
from typing import Any

from parkbrain.errors import Forbidden, InvalidInput, NotFound
from parkbrain.space.accounts import parse_expiry
from parkbrain.space.principal import Principal

GRANT_KINDS = ("points", "metrics")
_GRANTEE = re.compile(r"^(park|enterprise|integrator):(\S.{0,99})$")


def check_grantee(text: str) -> tuple[str, str]:
    match = _GRANTEE.match(text or "")
    if not match:
        raise InvalidInput(
            f"grantee: expected park:<park_id>, enterprise:<enterprise_id> or integrator:<org>; got {text!r}"
        )
    return match.group(1), match.group(2)


class Grants:
    def __init__(self, store: Any) -> None:
        self.store = store

    def create(
        self,
        principal: Principal,
        grantee: str,
        kind: str,
        items: list[str],
        purpose: str,
        expires: str | datetime,
        enterprise_id: str | None = None,
    ) -> dict[str, Any]:
        """Create a grant from the principal's enterprise (the province may name ``enterprise_id``)."""
        if principal.role == "enterprise":
            if enterprise_id not in (None, principal.enterprise_id):
                raise Forbidden("an enterprise user can only grant its own enterprise's data")
            enterprise_id = principal.enterprise_id
        elif principal.role != "province_admin":
            raise Forbidden("only an enterprise (or the province, on its behalf) can grant its data")
        if not enterprise_id:
            raise InvalidInput("enterprise_id: the enterprise whose data is granted is required")
        owner = self.store.query_rows(
            "SELECT park_id FROM enterprises WHERE enterprise_id = ?", [enterprise_id]
        )
        if not owner:
            raise NotFound(f"no enterprise with enterprise_id {enterprise_id!r}")
        party, ident = check_grantee(grantee)
        if party == "park" and ident != owner[0]["park_id"]:
            raise InvalidInput(f"grantee: an enterprise grants to its own park (park:{owner[0]['park_id']})")
        if party == "enterprise":
            if ident == enterprise_id:
                raise InvalidInput("grantee: an enterprise already sees its own data")
            if not self.store.query_rows("SELECT 1 FROM enterprises WHERE enterprise_id = ?", [ident]):
                raise NotFound(f"grantee: no enterprise with enterprise_id {ident!r}")
        if kind not in GRANT_KINDS:
            raise InvalidInput(f"kind: expected one of {', '.join(GRANT_KINDS)}; got {kind!r}")
        items = sorted({str(i).strip() for i in items or [] if str(i).strip()})
        if not items:
            raise InvalidInput("items: name at least one point id or metric (quantity)")
        if not (purpose or "").strip():
            raise InvalidInput("purpose: say what the data will be used for")
        self._check_items(enterprise_id, kind, items)
        expires_at = expires if isinstance(expires, datetime) else parse_expiry(expires)
        row = {
            "grant_id": "g-" + uuid.uuid4().hex[:12],
            "enterprise_id": enterprise_id,
            "grantee": f"{party}:{ident}",
            "kind": kind,
            "items": json.dumps(items, ensure_ascii=False),
            "purpose": purpose.strip(),
            "created_by": principal.actor,
            "expires_at": expires_at,
        }
        self.store.write("grants", [row], mode="append")
        return self.get(row["grant_id"])

    def _check_items(self, enterprise_id: str, kind: str, items: list[str]) -> None:
        column = "point_id" if kind == "points" else "quantity"
        rows = self.store.query_rows(
            f"SELECT DISTINCT p.{column} AS item FROM points p JOIN devices d USING (device_id) "
            "WHERE d.enterprise_id = ? AND list_contains(?::VARCHAR[], p." + column + ")",
            [enterprise_id, items],
        )
        found = {r["item"] for r in rows}
        missing = [i for i in items if i not in found]
        if missing:
            what = "point ids" if kind == "points" else "quantities"
            raise InvalidInput(f"items: {', '.join(missing)} are not {what} of enterprise {enterprise_id}")

    def get(self, grant_id: str) -> dict[str, Any]:
        rows = self.store.query_rows(f"{_SELECT} WHERE g.grant_id = ?", [grant_id])
        if not rows:
            raise NotFound(f"no grant with grant_id {grant_id!r}")
        return _decode(rows[0])

    def visible(self, principal: Principal, active_only: bool = False) -> list[dict[str, Any]]:
        """Grants the principal made (its enterprise's) or receives; the province sees all."""
        clauses, params = [], []
        if principal.role != "province_admin":
            clauses.append("(g.enterprise_id = ? OR g.grantee = ?)")
            params += [principal.enterprise_id if principal.role == "enterprise" else None, principal.party]
        if active_only:
            clauses.append("g.revoked_at IS NULL AND g.expires_at > ?")
            params.append(datetime.now(timezone.utc))
        where = "WHERE " + " AND ".join(clauses) if clauses else ""
        return [_decode(r) for r in self.store.query_rows(f"{_SELECT} {where} ORDER BY g.created_at", params)]

    def revoke(self, principal: Principal, grant_id: str) -> dict[str, Any]:
        grant = self.get(grant_id)
        if principal.role != "province_admin" and not (
            principal.role == "enterprise" and principal.enterprise_id == grant["enterprise_id"]
        ):
            # Not the grantor: the grant may as well not exist (a grantee cannot revoke, nor learn ids).
            if principal.party == grant["grantee"]:
                raise Forbidden("only the enterprise that made a grant can revoke it")
            raise NotFound(f"no grant with grant_id {grant_id!r}")
        if grant["revoked_at"] is None:
            with self.store.transaction() as con:
                con.execute(
                    "UPDATE grants SET revoked_at = current_timestamp, revoked_by = ? WHERE grant_id = ?",
                    [principal.actor, grant_id],
                )
        return self.get(grant_id)


_SELECT = (
    "SELECT g.*, CASE WHEN g.revoked_at IS NOT NULL THEN 'revoked' WHEN g.expires_at <= current_timestamp "
    "THEN 'expired' ELSE 'active' END AS status FROM grants g"
)


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    row["items"] = json.loads(row["items"])
    return row
