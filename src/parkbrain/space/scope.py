"""The one scoping layer: which rows of tenant data a principal may read.

Every read of tenant data in ``Park`` takes its WHERE clause from a ``Scope``; routes never filter
by themselves. The rules:

- the province (``province_admin``, and the local ``system``) sees everything;
- a park role sees its park's enterprises, buildings, devices and alerts, the readings of the park's
  own devices (air stations, substations …), and enterprise data only under a grant to ``park:<id>``;
- an enterprise user sees its enterprise, its devices, points, readings and alerts, its own and its
  park's shared buildings, and what other enterprises grant to ``enterprise:<id>``;
- an integrator sees only what is granted to ``integrator:<org>``;
- a device reads nothing.

Parks and regions are the public catalogue: every role but ``device`` sees them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from parkbrain.errors import Forbidden
from parkbrain.space.principal import PARK_ROLES, SYSTEM, Principal
from parkbrain.store.base import Predicate

_NOTHING: Predicate = ("FALSE", [])
_EVERYTHING: Predicate = ("TRUE", [])

ACTIVE_GRANTS_SQL = """
SELECT g.grant_id, g.enterprise_id, p.point_id
FROM grants g
JOIN devices d ON d.enterprise_id = g.enterprise_id
JOIN points p ON p.device_id = d.device_id
WHERE g.grantee = ? AND g.revoked_at IS NULL AND g.expires_at > ?
  AND list_contains(from_json(g.items, '["VARCHAR"]'),
                    CASE WHEN g.kind = 'points' THEN p.point_id ELSE p.quantity END)
ORDER BY g.created_at, g.grant_id
"""


@dataclass(frozen=True)
class Scope:
    """What ``principal`` may read, with the grants that reach it (resolved once)."""

    principal: Principal
    granted: dict[str, str] = field(default_factory=dict)  # point_id -> grant_id

    @classmethod
    def resolve(cls, store: Any, principal: Principal, now: datetime | None = None) -> Scope:
        """The scope of ``principal`` now: active, unexpired grants to its party included."""
        now = now or datetime.now(timezone.utc)
        granted: dict[str, str] = {}
        if principal.party and principal.role != "province_admin":
            for row in store.query_rows(ACTIVE_GRANTS_SQL, [principal.party, now]):
                if principal.role == "enterprise" and row["enterprise_id"] == principal.enterprise_id:
                    continue
                granted.setdefault(row["point_id"], row["grant_id"])
        return cls(principal, granted)

    @classmethod
    def system(cls) -> Scope:
        return cls(SYSTEM)

    # -- who ------------------------------------------------------------------------------------

    @property
    def everything(self) -> bool:
        return self.principal.role == "province_admin"

    def sees_park(self, park_id: str) -> bool:
        """May see the operational details (devices, alerts, counts) of ``park_id``."""
        p = self.principal
        return self.everything or (p.role in PARK_ROLES and p.park_id == park_id)

    # -- predicates (SQL text over the given alias, and its parameters) ----------------------

    def enterprises(self, a: str = "e") -> Predicate:
        """Enterprise rows: a grant opens points, not the grantor's business record."""
        return self._park_or_own_enterprise(a)

    def alerts(self, a: str = "a") -> Predicate:
        """Alerts: a park's for its park roles, an enterprise's own for it."""
        return self._park_or_own_enterprise(a)

    def _park_or_own_enterprise(self, a: str) -> Predicate:
        p = self.principal
        if self.everything:
            return _EVERYTHING
        if p.role in PARK_ROLES:
            return f"{a}.park_id = ?", [p.park_id]
        if p.role == "enterprise":
            return f"{a}.enterprise_id = ?", [p.enterprise_id]
        return _NOTHING

    def buildings(self, a: str = "b") -> Predicate:
        """Park roles: the park's buildings; an enterprise: its own and the shared ones (not the
        premises of other enterprises)."""
        p = self.principal
        if self.everything:
            return _EVERYTHING
        if p.role in PARK_ROLES:
            return f"{a}.park_id = ?", [p.park_id]
        if p.role == "enterprise":
            others = (
                "SELECT building_id FROM enterprises WHERE building_id IS NOT NULL AND enterprise_id <> ?"
            )
            return f"({a}.park_id = ? AND {a}.building_id NOT IN ({others}))", [p.park_id, p.enterprise_id]
        return _NOTHING

    def devices(self, a: str = "d") -> Predicate:
        """Devices: park roles see their park's asset register; others own or granted devices."""
        p = self.principal
        if self.everything:
            return _EVERYTHING
        if p.role in PARK_ROLES:
            return f"{a}.park_id = ?", [p.park_id]
        granted_devices = (
            f"{a}.device_id IN (SELECT device_id FROM points WHERE list_contains(?::VARCHAR[], point_id))"
        )
        if p.role == "enterprise":
            return f"({a}.enterprise_id = ? OR {granted_devices})", [p.enterprise_id, self._granted_list()]
        if p.role == "integrator":
            return granted_devices, [self._granted_list()]
        return _NOTHING

    def points(self, p_alias: str = "p", d_alias: str = "d") -> Predicate:
        """Points and their readings (``p`` joined with its device ``d``)."""
        p = self.principal
        if self.everything:
            return _EVERYTHING
        granted = f"list_contains(?::VARCHAR[], {p_alias}.point_id)"
        if p.role in PARK_ROLES:
            return (
                f"(({d_alias}.park_id = ? AND {d_alias}.enterprise_id IS NULL) OR {granted})",
                [p.park_id, self._granted_list()],
            )
        if p.role == "enterprise":
            return f"({d_alias}.enterprise_id = ? OR {granted})", [p.enterprise_id, self._granted_list()]
        if p.role == "integrator":
            return granted, [self._granted_list()]
        return _NOTHING

    def audit(self, a: str = "l") -> Predicate:
        """Audit entries: the province sees all; a park admin its park's; others none."""
        p = self.principal
        if self.everything:
            return _EVERYTHING
        if p.role == "park_admin":
            return f"{a}.park_id = ?", [p.park_id]
        return _NOTHING

    # -- grants ---------------------------------------------------------------------------------

    def grant_for(self, point: dict[str, Any]) -> str | None:
        """The grant under which this principal reads ``point`` (None when it reads it by right)."""
        if self.everything:
            return None
        p = self.principal
        own = (p.role == "enterprise" and point.get("enterprise_id") == p.enterprise_id) or (
            p.role in PARK_ROLES and point.get("park_id") == p.park_id and point.get("enterprise_id") is None
        )
        return None if own else self.granted.get(point["point_id"])

    def _granted_list(self) -> list[str]:
        return sorted(self.granted)


# -- who may import what ------------------------------------------------------------------------------


def check_import(store: Any, tables: dict[str, pa.Table], principal: Principal, display: str) -> None:
    """A park role imports only into its own park; the province and the local system anywhere."""
    if principal.role == "province_admin" or principal.kind == "system":
        return
    if principal.role not in PARK_ROLES:
        raise Forbidden(f"role {principal.role} may not import files")
    own = principal.park_id
    for table in ("regions", "parks"):
        if table in tables and tables[table].num_rows:
            raise Forbidden(f"{display}: only the province may import {table}")
    for rows in tables.values():
        if "park_id" in rows.column_names:
            others = {p for p in rows.column("park_id").to_pylist() if p != own}
            if others:
                raise Forbidden(
                    f"{display}: rows for park {sorted(others)[0]!r}; a {principal.role} imports only into {own}"
                )
    _check_devices_in_park(store, tables, own, display)


def _check_devices_in_park(store: Any, tables: dict[str, pa.Table], own: str | None, display: str) -> None:
    devices: set[str] = set()
    if "points" in tables:
        devices |= set(tables["points"].column("device_id").to_pylist())
    if "readings" in tables:
        point_ids = pc.unique(tables["readings"].column("point_id")).to_pylist()
        rows = store.query_rows(
            "SELECT DISTINCT device_id FROM points WHERE list_contains(?, point_id)", [point_ids]
        )
        devices |= {r["device_id"] for r in rows}
    new = {r["device_id"] for r in tables["devices"].to_pylist()} if "devices" in tables else set()
    if not devices - new:
        return
    rows = store.query_rows(
        "SELECT device_id FROM devices WHERE list_contains(?, device_id) AND park_id IS DISTINCT FROM ?",
        [sorted(devices - new), own],
    )
    if rows:
        raise Forbidden(f"{display}: device {rows[0]['device_id']!r} is not in park {own}")
