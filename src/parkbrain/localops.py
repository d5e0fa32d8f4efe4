"""Administrative operations the CLI runs — on the database file, or through the server holding it.

One table of operations, so that ``parkbrain token create`` does the same thing either way. Each
takes JSON-able keyword arguments and returns JSON-able data. No SQL or rules here: ``Park`` has them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from parkbrain.core import Park
from parkbrain.errors import InvalidInput
from parkbrain.facets.air import AIR_OPS, AIR_WRITES
from parkbrain.facets.assistant import ASSISTANT_OPS
from parkbrain.facets.energy import ENERGY_OPS, ENERGY_WRITES
from parkbrain.facets.health import HEALTH_OPS, HEALTH_WRITES
from parkbrain.facets.operations import OPERATIONS_OPS, OPERATIONS_WRITES
from parkbrain.facets.policy import POLICY_OPS, POLICY_WRITES


def _user_create(park: Park, **kw: Any) -> dict[str, Any]:
    user, password = park.create_user(**kw)
    return {"user": user, "password": password}


def _brick(result: Any, fmt: str) -> dict[str, Any]:
    return {
        "model": result.serialize(fmt),
        "valid": result.valid,
        "report": result.report,
        "counts": result.counts,
        "warnings": result.warnings,
    }


OPS: dict[str, Callable[..., Any]] = {
    "user_create": _user_create,
    "user_list": lambda park: park.users(),
    "user_disable": lambda park, username: park.disable_user(username),
    "token_create": lambda park, **kw: park.create_token(**kw).as_dict(),
    "token_list": lambda park: park.tokens(),
    "token_revoke": lambda park, token_id: park.revoke_token(token_id),
    "audit_verify": lambda park: park.verify_audit(),
    "audit_list": lambda park, **kw: park.audit_entries(**kw),
    "grant_list": lambda park, **kw: park.grants(**kw),
    "import": lambda park, path, **kw: park.ingest(path, **kw).as_dict(),
    "import_list": lambda park, **kw: park.imports(**kw),
    "quality": lambda park, **kw: park.quality(**kw).as_dict(),
    "quality_text": lambda park, **kw: park.quality(**kw).to_text(),
    "brick_export": lambda park, fmt="turtle", **kw: _brick(park.export_brick(**kw), fmt),
    "lake_export": lambda park, **kw: park.export_lake(**kw),
    "retention": lambda park, **kw: park.apply_retention(**kw),
    **OPERATIONS_OPS,
    **AIR_OPS,
    **ENERGY_OPS,
    **HEALTH_OPS,
    **POLICY_OPS,
    **ASSISTANT_OPS,
}

#: Operations that write (the CLI opens the file read-write for these).
WRITES = frozenset(
    {
        "user_create",
        "user_disable",
        "token_create",
        "token_revoke",
        "import",
        "brick_export",
        "lake_export",
        "retention",
        *OPERATIONS_WRITES,
        *AIR_WRITES,
        *ENERGY_WRITES,
        *HEALTH_WRITES,
        *POLICY_WRITES,
    }
)


def run_op(park: Park, op: str, args: dict[str, Any]) -> Any:
    if op not in OPS:
        raise InvalidInput(f"unknown operation {op!r}; expected one of {', '.join(sorted(OPS))}")
    try:
        return OPS[op](park, **args)
    except TypeError as exc:
        raise InvalidInput(f"{op}: {exc}") from None
