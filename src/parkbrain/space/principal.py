"""Who is asking: roles, principals and what each role may do.

Roles (the names the CLI and the API use):

==================  ======================================================================
``province_admin``  the provincial big-data bureau: sees and manages everything
``park_admin``      a park management committee (管委会): its park, its park's users and tokens
``park_operator``   park staff: reads its park like the admin, manages nobody
``enterprise``      a person of one enterprise: that enterprise's data, and grants it
``integrator``      a service provider (``org``): only what enterprises grant to it
``device``          a meter or gateway: pushes telemetry, reads nothing
==================  ======================================================================
"""

from __future__ import annotations

from dataclasses import dataclass

from parkbrain.errors import InvalidInput

ROLES = ("province_admin", "park_admin", "park_operator", "enterprise", "integrator", "device")
PARK_ROLES = frozenset({"park_admin", "park_operator"})

#: Permissions each role has beyond reading what its scope shows it.
#: ``alerts``: acknowledge and close the alerts the scope shows; ``operate``: maintenance plans and work
#: orders of the park; ``publish``: notices to the park's enterprises.
#: The province and a park admin may do the same things; their scopes differ (space.scope).
_ADMIN = frozenset(
    {
        "read",
        "manage_users",
        "audit",
        "telemetry",
        "export",
        "import",
        "quality",
        "alerts",
        "operate",
        "publish",
    }
)
PERMISSIONS: dict[str, frozenset[str]] = {
    "province_admin": _ADMIN,
    "park_admin": _ADMIN,
    "park_operator": frozenset({"read", "telemetry", "export", "import", "quality", "alerts", "operate"}),
    "enterprise": frozenset({"read", "grant", "export", "alerts"}),
    "integrator": frozenset({"read", "export"}),
    "device": frozenset({"telemetry"}),
}


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: a user (web session), an API token, or the local system (CLI)."""

    kind: str  # 'user', 'token' or 'system'
    id: str  # user_id, token_id or 'system'
    name: str  # username, token name or 'system'
    role: str
    park_id: str | None = None
    enterprise_id: str | None = None
    org: str | None = None
    device_id: str | None = None
    rate_per_min: int | None = None

    @property
    def actor(self) -> str:
        """How the audit log names this principal (never a secret)."""
        return f"{self.kind}:{self.name}" if self.kind != "system" else "system"

    @property
    def party(self) -> str | None:
        """The grantee name under which grants reach this principal."""
        if self.role == "enterprise":
            return f"enterprise:{self.enterprise_id}"
        if self.role in PARK_ROLES:
            return f"park:{self.park_id}"
        if self.role == "integrator":
            return f"integrator:{self.org}"
        return None

    def can(self, permission: str) -> bool:
        return permission in PERMISSIONS.get(self.role, frozenset())


SYSTEM = Principal(kind="system", id="system", name="system", role="province_admin")


def check_binding(
    role: str,
    park_id: str | None,
    enterprise_id: str | None,
    org: str | None = None,
    device_id: str | None = None,
) -> None:
    """Refuse role bindings that make no sense (an enterprise user without an enterprise …)."""
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}; got {role!r}")
    if role in PARK_ROLES and not park_id:
        raise InvalidInput(f"role {role} needs --park (the park it works for)")
    if role == "enterprise" and not enterprise_id:
        raise InvalidInput("role enterprise needs --enterprise (the enterprise it belongs to)")
    if role == "integrator" and not org:
        raise InvalidInput("role integrator needs --org (the service provider's name, used by grants)")
    if role == "device" and not (park_id or device_id):
        raise InvalidInput("role device needs --park or --device (what it may push telemetry for)")
    if role == "province_admin" and (park_id or enterprise_id):
        raise InvalidInput("role province_admin is not bound to a park or an enterprise")
    if enterprise_id and role not in ("enterprise", "device"):
        raise InvalidInput(f"--enterprise only applies to roles enterprise and device, not {role}")
    if device_id and role != "device":
        raise InvalidInput(f"--device only applies to role device, not {role}")
