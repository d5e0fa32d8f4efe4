"""The trusted data space (可信数据空间): who may see what, sharing grants, and the audit log."""

from parkbrain.space.accounts import Accounts, NewToken, parse_expiry, parse_token_id
from parkbrain.space.audit import AuditLog, VerifyReport, entry_hash
from parkbrain.space.grants import GRANT_KINDS, Grants
from parkbrain.space.principal import PERMISSIONS, ROLES, SYSTEM, Principal
from parkbrain.space.scope import Scope
from parkbrain.store.base import where

__all__ = [
    "GRANT_KINDS",
    "PERMISSIONS",
    "ROLES",
    "SYSTEM",
    "Accounts",
    "AuditLog",
    "Grants",
    "NewToken",
    "Principal",
    "Scope",
    "VerifyReport",
    "entry_hash",
    "parse_expiry",
    "parse_token_id",
    "where",
]
