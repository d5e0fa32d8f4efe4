"""The one exception tree of ParkBrain.

Raised in the core, translated at the edges: the CLI prints the message and exits non-zero,
the API answers with an HTTP status and a JSON body ``{"error": {"type", "message"}}``.

    ParkError
    ├── ConfigError            bad settings or a missing optional extra
    ├── StoreError             the database cannot be opened, migrated or written
    │   ├── DatabaseLocked     another process holds the database file
    │   └── SchemaError        the file was written by a newer ParkBrain
    ├── QueryError             a query is invalid or not allowed (e.g. not read-only)
    ├── NotFound               a park, enterprise, point … does not exist (or is not yours to see)
    ├── InvalidInput           bad user data: names the file/field/line and what was expected
    │   └── BadFile            an imported file is unreadable or wrong at a line/feature and field
    ├── Unauthorized           no valid credentials (missing, malformed, expired or revoked)
    ├── Forbidden              valid credentials, but the role may not do this
    ├── TooManyRequests        over the rate limit; ``retry_after`` seconds to wait
    └── UpstreamError          an outside service (an LLM endpoint) failed, timed out or refused us
"""

from __future__ import annotations


class ParkError(Exception):
    """Base of every error ParkBrain raises on purpose."""

    http_status: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(ParkError):
    """Bad settings, or an optional extra that is not installed."""

    http_status = 500


class StoreError(ParkError):
    """The database cannot be opened, migrated or written."""

    http_status = 500


class DatabaseLocked(StoreError):
    """Another process holds the database file for writing."""

    http_status = 503


class SchemaError(StoreError):
    """The database was written by a newer version of ParkBrain."""


class QueryError(ParkError):
    """A query is malformed or not allowed."""

    http_status = 400


class NotFound(ParkError):
    """The thing asked for does not exist."""

    http_status = 404


class InvalidInput(ParkError):
    """User-supplied data is invalid; the message names where and what was expected."""

    http_status = 422


class BadFile(InvalidInput):
    """An imported file is wrong: the message names the file, the line or feature, the field and
    what was expected; the attributes carry the same for programs."""

    def __init__(
        self,
        file: str,
        problem: str,
        *,
        line: int | None = None,
        feature: int | None = None,
        field: str | None = None,
        expected: str | None = None,
    ) -> None:
        where = [file]
        if line is not None:
            where.append(f"line {line}")
        if feature is not None:
            where.append(f"feature {feature}")
        if field is not None:
            where.append(f"field {field!r}")
        text = ", ".join(where) + f": {problem}"
        if expected:
            text += f"; expected {expected}"
        super().__init__(text)
        self.file, self.line, self.feature, self.field = file, line, feature, field
        self.problem, self.expected = problem, expected


class Unauthorized(ParkError):
    """No valid credentials: missing, malformed, expired or revoked."""

    http_status = 401


class Forbidden(ParkError):
    """Valid credentials, but the caller's role may not do this."""

    http_status = 403


class TooManyRequests(ParkError):
    """The caller is over its rate limit."""

    http_status = 429

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UpstreamError(ParkError):
    """An outside service ParkBrain calls (an OpenAI-compatible LLM endpoint) failed, timed out or
    refused the request; the message names the endpoint and what went wrong, never a credential."""

    http_status = 502


def missing_extra(module: str, extra: str) -> ConfigError:
    """The error for an optional dependency that is not installed."""
    return ConfigError(
        f"this feature needs the Python package '{module}': install it with pip install 'parkbrain[{extra}]'"
    )
