"""People, API tokens and web sessions.

- Passwords are hashed with argon2id (``argon2-cffi`` defaults: m=64 MiB, t=3, p=4).
- API tokens look like ``pbt_<token_id>_<secret>``: the ``token_id`` is public (lists, audit log),
  the 256-bit secret is shown once and stored only as its SHA-256 digest. Tokens always expire.
- Web sessions are random cookies stored as SHA-256 digests, each with its own CSRF token.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from parkbrain.errors import InvalidInput, NotFound, Unauthorized
from parkbrain.model.timeutil import PARK_TZ
from parkbrain.space.principal import Principal, check_binding

TOKEN_PREFIX = "pbt"
DEFAULT_TOKEN_DAYS = 30
MAX_TOKEN_DAYS = 5 * 366
SESSION_HOURS = 12
MIN_PASSWORD = 10
_USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")
_DURATION = re.compile(r"^(\d+)\s*([mhdwy])$")
_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}


@dataclass(frozen=True)
class NewToken:
    """A token just created: ``secret`` is the whole token, shown once and never stored."""

    token_id: str
    secret: str
    role: str
    park_id: str | None
    enterprise_id: str | None
    device_id: str | None
    org: str | None
    expires_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "token_id": self.token_id,
            "token": self.secret,
            "role": self.role,
            "park_id": self.park_id,
            "enterprise_id": self.enterprise_id,
            "device_id": self.device_id,
            "org": self.org,
            "expires_at": self.expires_at.isoformat(),
        }


def parse_expiry(text: str | None, now: datetime | None = None) -> datetime:
    """``30d``, ``12h``, ``90m``, ``2w``, ``1y`` or an ISO date/time → an aware UTC datetime."""
    now = now or datetime.now(timezone.utc)
    if text is None:
        return now + timedelta(days=DEFAULT_TOKEN_DAYS)
    match = _DURATION.match(text.strip().lower())
    if match:
        seconds = int(match.group(1)) * _UNITS[match.group(2)]
        if seconds <= 0:
            raise InvalidInput(f"expires: {text!r} must be longer than zero")
        at = now + timedelta(seconds=seconds)
    else:
        try:
            at = datetime.fromisoformat(text.strip())
        except ValueError:
            raise InvalidInput(
                f"expires: expected a duration like 30d, 12h, 90m, 2w or 1y, or an ISO date; got {text!r}"
            ) from None
        if at.tzinfo is None:
            at = at.replace(tzinfo=PARK_TZ)
        at = at.astimezone(timezone.utc)
    if at <= now:
        raise InvalidInput(f"expires: {text!r} is in the past")
    if at > now + timedelta(days=MAX_TOKEN_DAYS):
        raise InvalidInput(f"expires: at most {MAX_TOKEN_DAYS // 366} years ahead; got {text!r}")
    return at


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _hasher() -> Any:
    from argon2 import PasswordHasher

    return PasswordHasher()


class Accounts:
    """Users, tokens and sessions in a store."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self._dummy_hash: str | None = None

    # -- bindings ---------------------------------------------------------------------------

    def check_binding(
        self,
        role: str,
        park_id: str | None,
        enterprise_id: str | None,
        org: str | None = None,
        device_id: str | None = None,
    ) -> tuple[str | None, str | None]:
        """Validate a role's binding against the database; returns (park_id, enterprise_id)."""
        check_binding(role, park_id, enterprise_id, org, device_id)
        if enterprise_id:
            rows = self.store.query_rows(
                "SELECT park_id FROM enterprises WHERE enterprise_id = ?", [enterprise_id]
            )
            if not rows:
                raise NotFound(f"no enterprise with enterprise_id {enterprise_id!r}")
            if park_id and rows[0]["park_id"] != park_id:
                raise InvalidInput(
                    f"enterprise {enterprise_id} is in park {rows[0]['park_id']}, not {park_id}"
                )
            park_id = rows[0]["park_id"]
        if device_id:
            rows = self.store.query_rows(
                "SELECT park_id, enterprise_id FROM devices WHERE device_id = ?", [device_id]
            )
            if not rows:
                raise NotFound(f"no device with device_id {device_id!r}")
            if park_id and rows[0]["park_id"] != park_id:
                raise InvalidInput(f"device {device_id} is in park {rows[0]['park_id']}, not {park_id}")
            park_id = rows[0]["park_id"]
        if park_id and not self.store.query_rows("SELECT 1 FROM parks WHERE park_id = ?", [park_id]):
            raise NotFound(f"no park with park_id {park_id!r}")
        return park_id, enterprise_id

    # -- users ------------------------------------------------------------------------------

    def create_user(
        self,
        username: str,
        role: str,
        password: str | None = None,
        park_id: str | None = None,
        enterprise_id: str | None = None,
        org: str | None = None,
        display_name: str | None = None,
    ) -> tuple[dict[str, Any], str | None]:
        """Create a user; returns (user, generated password or None when one was given)."""
        if not _USERNAME.match(username or ""):
            raise InvalidInput(
                f"username: 2–64 letters, digits or . _ @ -; got {username!r} (put Chinese names in --name)"
            )
        park_id, enterprise_id = self.check_binding(role, park_id, enterprise_id, org)
        generated = None
        if password is None:
            password = generated = secrets.token_urlsafe(12)
        if len(password) < MIN_PASSWORD:
            raise InvalidInput(f"password: at least {MIN_PASSWORD} characters")
        if self.store.query_rows("SELECT 1 FROM users WHERE username = ?", [username]):
            raise InvalidInput(f"username {username!r} is taken")
        user = {
            "user_id": "u-" + uuid.uuid4().hex[:12],
            "username": username,
            "password_hash": _hasher().hash(password),
            "role": role,
            "park_id": park_id,
            "enterprise_id": enterprise_id,
            "org": org,
            "display_name": display_name,
        }
        self.store.write("users", [user], mode="append")
        user.pop("password_hash")
        return user, generated

    def users(self) -> list[dict[str, Any]]:
        return self.store.query_rows(
            "SELECT user_id, username, role, park_id, enterprise_id, org, display_name, created_at, disabled_at "
            "FROM users ORDER BY created_at, username"
        )

    def user(self, username: str) -> dict[str, Any]:
        rows = self.store.query_rows("SELECT * FROM users WHERE username = ?", [username])
        if not rows:
            raise NotFound(f"no user named {username!r}")
        return rows[0]

    def disable_user(self, username: str) -> dict[str, Any]:
        user = self.user(username)
        with self.store.transaction() as con:
            con.execute(
                "UPDATE users SET disabled_at = current_timestamp WHERE user_id = ?", [user["user_id"]]
            )
            con.execute(
                "UPDATE sessions SET revoked_at = current_timestamp WHERE user_id = ? AND revoked_at IS NULL",
                [user["user_id"]],
            )
            con.execute(
                "UPDATE api_tokens SET revoked_at = current_timestamp WHERE user_id = ? AND revoked_at IS NULL",
                [user["user_id"]],
            )
        return user

    def check_password(self, username: str, password: str) -> Principal | None:
        """The user's principal when the password matches and the user is enabled, else None."""
        from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

        rows = self.store.query_rows("SELECT * FROM users WHERE username = ?", [username or ""])
        hasher = _hasher()
        if not rows:
            # Same work as a real check, so response time does not tell which usernames exist.
            if self._dummy_hash is None:
                self._dummy_hash = hasher.hash(secrets.token_urlsafe(12))
            with contextlib.suppress(VerificationError):
                hasher.verify(self._dummy_hash, password or "")
            return None
        user = rows[0]
        try:
            hasher.verify(user["password_hash"], password or "")
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if user["disabled_at"] is not None:
            return None
        return _user_principal(user)

    # -- tokens -----------------------------------------------------------------------------

    def create_token(
        self,
        role: str,
        park_id: str | None = None,
        enterprise_id: str | None = None,
        device_id: str | None = None,
        org: str | None = None,
        expires: str | datetime | None = None,
        name: str | None = None,
        user_id: str | None = None,
        rate_per_min: int | None = None,
    ) -> NewToken:
        park_id, enterprise_id = self.check_binding(role, park_id, enterprise_id, org, device_id)
        expires_at = expires if isinstance(expires, datetime) else parse_expiry(expires)
        if rate_per_min is not None and rate_per_min < 1:
            raise InvalidInput("rate: at least 1 request per minute")
        token_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        self.store.write(
            "api_tokens",
            [
                {
                    "token_id": token_id,
                    "secret_sha256": _sha256(secret),
                    "name": name,
                    "role": role,
                    "park_id": park_id,
                    "enterprise_id": enterprise_id,
                    "device_id": device_id,
                    "org": org,
                    "user_id": user_id,
                    "rate_per_min": rate_per_min,
                    "expires_at": expires_at,
                }
            ],
            mode="append",
        )
        whole = f"{TOKEN_PREFIX}_{token_id}_{secret}"
        return NewToken(token_id, whole, role, park_id, enterprise_id, device_id, org, expires_at)

    def tokens(self, predicate: tuple[str, list[Any]] = ("TRUE", [])) -> list[dict[str, Any]]:
        sql, params = predicate
        return self.store.query_rows(
            "SELECT token_id, name, role, park_id, enterprise_id, device_id, org, user_id, rate_per_min, "
            "created_at, expires_at, revoked_at, last_used_at, "
            "CASE WHEN revoked_at IS NOT NULL THEN 'revoked' WHEN expires_at <= current_timestamp "
            f"THEN 'expired' ELSE 'active' END AS status FROM api_tokens t WHERE {sql} "
            "ORDER BY created_at, token_id",
            params,
        )

    def token(self, token_id: str) -> dict[str, Any]:
        rows = self.store.query_rows("SELECT * FROM api_tokens WHERE token_id = ?", [token_id])
        if not rows:
            raise NotFound(f"no token with token_id {token_id!r}")
        row = rows[0]
        row.pop("secret_sha256")
        return row

    def revoke_token(self, token_id: str) -> dict[str, Any]:
        token_id = parse_token_id(token_id)
        row = self.token(token_id)
        with self.store.transaction() as con:
            con.execute(
                "UPDATE api_tokens SET revoked_at = current_timestamp WHERE token_id = ? AND revoked_at IS NULL",
                [token_id],
            )
        return row

    def authenticate_token(self, presented: str, now: datetime | None = None) -> tuple[Principal, bool]:
        """The principal of a presented token, and whether this use should be audited (first use in
        a 10-minute window). Raises ``Unauthorized`` for anything but a valid, live token."""
        now = now or datetime.now(timezone.utc)
        parts = (presented or "").split("_", 2)
        if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not parts[1] or not parts[2]:
            raise Unauthorized("malformed API token")
        rows = self.store.query_rows("SELECT * FROM api_tokens WHERE token_id = ?", [parts[1]])
        if not rows or not hmac.compare_digest(rows[0]["secret_sha256"], _sha256(parts[2])):
            raise Unauthorized("invalid API token")
        row = rows[0]
        if row["revoked_at"] is not None:
            raise Unauthorized("this API token was revoked")
        if row["expires_at"] <= now:
            raise Unauthorized("this API token has expired")
        last = row["last_used_at"]
        audit = last is None or now - last >= timedelta(minutes=10)
        if audit:
            with self.store.transaction() as con:
                con.execute(
                    "UPDATE api_tokens SET last_used_at = ? WHERE token_id = ?", [now, row["token_id"]]
                )
        return (
            _principal(
                "token",
                row["token_id"],
                row["token_id"],
                row,
                device_id=row["device_id"],
                rate_per_min=row["rate_per_min"],
            ),
            audit,
        )

    # -- sessions ---------------------------------------------------------------------------

    def create_session(self, principal: Principal) -> tuple[str, str]:
        """A new web session for a user: returns (cookie value, CSRF token)."""
        cookie = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(24)
        self.store.write(
            "sessions",
            [
                {
                    "session_sha256": _sha256(cookie),
                    "user_id": principal.id,
                    "csrf_token": csrf,
                    "expires_at": datetime.now(timezone.utc) + timedelta(hours=SESSION_HOURS),
                }
            ],
            mode="append",
        )
        return cookie, csrf

    def authenticate_session(self, cookie: str) -> tuple[Principal, str]:
        """The principal and CSRF token of a live session cookie; ``Unauthorized`` otherwise."""
        rows = self.store.query_rows(
            "SELECT s.csrf_token, u.* FROM sessions s JOIN users u USING (user_id) "
            "WHERE s.session_sha256 = ? AND s.revoked_at IS NULL AND s.expires_at > current_timestamp "
            "AND u.disabled_at IS NULL",
            [_sha256(cookie or "")],
        )
        if not rows:
            raise Unauthorized("the session has expired or was ended; log in again")
        return _user_principal(rows[0]), rows[0]["csrf_token"]

    def end_session(self, cookie: str) -> None:
        with self.store.transaction() as con:
            con.execute(
                "UPDATE sessions SET revoked_at = current_timestamp WHERE session_sha256 = ?",
                [_sha256(cookie)],
            )


def parse_token_id(text: str) -> str:
    """A token id, from the id itself or from a whole token (so a leaked token can be pasted)."""
    text = (text or "").strip()
    if text.startswith(TOKEN_PREFIX + "_"):
        parts = text.split("_", 2)
        if len(parts) >= 2:
            return parts[1]
    return text


def _principal(kind: str, ident: str, name: str, row: dict[str, Any], **extra: Any) -> Principal:
    """A principal from a users or api_tokens row (the role and its binding)."""
    return Principal(
        kind=kind,
        id=ident,
        name=name,
        role=row["role"],
        park_id=row["park_id"],
        enterprise_id=row["enterprise_id"],
        org=row["org"],
        **extra,
    )


def _user_principal(user: dict[str, Any]) -> Principal:
    return _principal("user", user["user_id"], user["username"], user)
