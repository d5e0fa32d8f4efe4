"""HTTP hardening: security headers, request size limits, rate limits, secrets kept out of logs.

The middlewares are plain ASGI (no per-request Python objects beyond what they need), so they add
microseconds, not milliseconds.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from parkbrain.errors import TooManyRequests

#: Largest request body accepted, in bytes, unless a path prefix says otherwise.
DEFAULT_MAX_BODY = 2 * 1024 * 1024
#: Larger limits for upload routes (file imports).
UPLOAD_PREFIXES: dict[str, int] = {"/api/imports": 256 * 1024 * 1024}
#: Requests per minute per token or session, by role, unless the token sets its own.
ROLE_RATES = {"device": 6000}
DEFAULT_RATE = 600
#: Requests per minute from one address without valid credentials, and failed logins.
ANONYMOUS_RATE = 120
LOGIN_FAILURES_PER_MIN = 10

_CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
    "connect-src 'self'; font-src 'self' data:; object-src 'none'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'"
)
# FastAPI's /docs page loads Swagger UI from a CDN and starts it with an inline script.
_DOCS_CSP = (
    "default-src 'self'; img-src 'self' data: https://fastapi.tiangolo.com; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; object-src 'none'; frame-ancestors 'none'"
)
_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"geolocation=(), camera=(), microphone=(), payment=()"),
]


class SecurityHeaders:
    """Adds security headers to every response; ``Cache-Control: no-store`` on API answers."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        docs = path in ("/docs", "/redoc", "/docs/oauth2-redirect")

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                extra = [*_HEADERS, (b"content-security-policy", (_DOCS_CSP if docs else _CSP).encode())]
                if path.startswith("/api/") or path == "/login":
                    extra.append((b"cache-control", b"no-store"))
                if scope.get("scheme") == "https":
                    extra.append((b"strict-transport-security", b"max-age=31536000"))
                headers += [(k, v) for k, v in extra if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """Refuses request bodies over the limit with 413, by Content-Length or while streaming."""

    def __init__(
        self, app: Any, max_body: int = DEFAULT_MAX_BODY, prefixes: dict[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.prefixes = UPLOAD_PREFIXES if prefixes is None else prefixes

    def limit_for(self, path: str) -> int:
        for prefix, limit in self.prefixes.items():
            if path.startswith(prefix):
                return limit
        return self.max_body

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        for key, value in scope.get("headers", []):
            if key == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _plain_error(send, 400, "Content-Length is not a number")
                    return
                if declared > limit:
                    await _plain_error(send, 413, f"the request body is over the limit of {limit:,} bytes")
                    return
        seen = 0
        started = rejected = False

        async def counting_receive() -> dict[str, Any]:
            nonlocal seen, rejected
            if rejected:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    # Answer 413 now and tell the app the client went away; whatever it sends later is dropped.
                    if not started:
                        await _plain_error(
                            send, 413, f"the request body is over the limit of {limit:,} bytes"
                        )
                    rejected = True
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message: dict[str, Any]) -> None:
            nonlocal started
            if rejected:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, counting_receive, tracking_send)


async def _plain_error(send: Any, status: int, message: str) -> None:
    import json

    body = json.dumps({"error": {"type": "RequestRejected", "message": message}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets per key (a token id, a session's user, an address): ``rate`` per minute with
    bursts of up to that many. In memory: one server process holds the database anyway."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()
        self._clock = clock  # seconds; tests freeze it so that buckets do not refill mid-test

    def hit(self, key: str, rate_per_min: int, cost: float = 1.0) -> None:
        """Take ``cost`` from ``key``'s bucket; ``TooManyRequests`` when it is empty."""
        now = self._clock()
        per_second = rate_per_min / 60.0
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(float(rate_per_min), now)
            bucket.tokens = min(float(rate_per_min), bucket.tokens + (now - bucket.updated) * per_second)
            bucket.updated = now
            if bucket.tokens < cost:
                wait = max(1, int((cost - bucket.tokens) / per_second + 0.999))
                raise TooManyRequests(
                    f"rate limit of {rate_per_min} requests per minute reached; retry in {wait} s", wait
                )
            bucket.tokens -= cost
            if len(self._buckets) > 100_000:  # forget idle keys (full buckets)
                full = [k for k, b in self._buckets.items() if now - b.updated > 120]
                for k in full:
                    del self._buckets[k]

    def peek(self, key: str, rate_per_min: int) -> None:
        """Raise ``TooManyRequests`` if ``key``'s bucket is empty, without taking from it."""
        self.hit(key, rate_per_min, cost=0.0)
        with self._lock:
            bucket = self._buckets[key]
            if bucket.tokens < 1.0:
                wait = max(1, int((1.0 - bucket.tokens) / (rate_per_min / 60.0) + 0.999))
                raise TooManyRequests(f"too many attempts; retry in {wait} s", wait)


_SECRET_PATTERNS = [
    (re.compile(r"pbt_[0-9a-f]{12}_[A-Za-z0-9_\-]{10,}"), "pbt_<redacted>"),
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._\-]+"), r"\1<redacted>"),
    (re.compile(r"(?i)(password|token|secret|pb_session)=([^&\s\"']+)"), r"\1=<redacted>"),
]


def redact(text: str) -> str:
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecrets(logging.Filter):
    """A logging filter that removes tokens, passwords and session ids from log records."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record is logged as it is
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def install_log_redaction() -> None:
    """Attach the redaction filter to the loggers uvicorn and ParkBrain write to."""
    for name in ("uvicorn", "uvicorn.access", "uvicorn.error", "parkbrain"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())
