"""Who is calling: API tokens, web sessions, the CLI's local token; login and logout.

Every route requires credentials unless it is in ``PUBLIC_PATHS`` (default deny: a new route is
protected without anyone remembering to). The ``Park`` a route gets is already limited to the
caller (``park.as_principal``), so routes cannot read outside the caller's scope.
"""

from __future__ import annotations

import hmac
import html
import secrets
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field

from parkbrain.api.security import ANONYMOUS_RATE, DEFAULT_RATE, LOGIN_FAILURES_PER_MIN, ROLE_RATES
from parkbrain.core import Park
from parkbrain.errors import Forbidden, InvalidInput, Unauthorized
from parkbrain.space import SYSTEM, Principal
from parkbrain.space.accounts import SESSION_HOURS
from parkbrain.web.pages import PAGE_PATHS, STATIC_PATH

SESSION_COOKIE = "pb_session"
LOGIN_CSRF_COOKIE = "pb_login_csrf"
#: Paths that do their own checks or need none; everything else requires credentials. The console's
#: pages check the session cookie themselves (and redirect to /login); its static assets are public.
PUBLIC_PATHS = frozenset({"/healthz", "/login", "/logout", "/", "/api/auth/login", STATIC_PATH, *PAGE_PATHS})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOCAL_PREFIX = "/api/local/"


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def authenticate(request: Request) -> None:
    """The app-wide dependency: sets ``request.state.principal`` or refuses the request."""
    route = request.scope.get("route")
    path = getattr(route, "path", request.url.path)
    app = request.app
    limiter = app.state.rate_limiter
    if path in PUBLIC_PATHS:
        return
    local_token = app.state.local_token
    presented_local = request.headers.get("x-parkbrain-local-token")
    if path.startswith(LOCAL_PREFIX):
        if local_token and presented_local and hmac.compare_digest(presented_local, local_token):
            request.state.principal = SYSTEM
            return
        if presented_local:
            raise Forbidden("this route is for the parkbrain CLI on the same machine")
    park: Park = app.state.park
    header = request.headers.get("authorization")
    cookie = request.cookies.get(SESSION_COOKIE)
    try:
        if header:
            scheme, _, credentials = header.partition(" ")
            if scheme.lower() != "bearer" or not credentials.strip():
                raise Unauthorized("use Authorization: Bearer <token>")
            principal, audit = park.accounts.authenticate_token(credentials.strip())
            if audit:
                park.audit.record(
                    principal, "token.use", principal.id, detail={"method": request.method, "path": path}
                )
        elif cookie:
            principal, csrf = park.accounts.authenticate_session(cookie)
            request.state.csrf_token = csrf
            if request.method not in SAFE_METHODS:
                check_csrf(request, csrf)
        else:
            raise Unauthorized(
                "authentication required: log in at /login, or send Authorization: Bearer <token>"
            )
    except Unauthorized:
        limiter.hit(f"anon:{client_address(request)}", ANONYMOUS_RATE)
        raise
    limiter.hit(
        f"{principal.kind}:{principal.id}",
        principal.rate_per_min or ROLE_RATES.get(principal.role, DEFAULT_RATE),
    )
    if path.startswith(LOCAL_PREFIX):
        raise Forbidden("this route is for the parkbrain CLI on the same machine")
    request.state.principal = principal


def check_csrf(request: Request, expected: str) -> None:
    """Cookie-authenticated writes must echo the session's CSRF token and come from this origin."""
    origin = request.headers.get("origin")
    if origin and origin.rstrip("/") != f"{request.url.scheme}://{request.headers.get('host', '')}":
        raise Forbidden(f"cross-origin request from {origin} refused")
    presented = request.headers.get("x-csrf-token", "")
    if not presented or not hmac.compare_digest(presented, expected):
        raise Forbidden("missing or wrong X-CSRF-Token header (get it from GET /api/auth/me)")


def get_principal(request: Request) -> Principal:
    principal = getattr(request.state, "principal", None)
    if principal is None:  # a public route asked for a principal
        raise Unauthorized("authentication required")
    return principal


def get_park(request: Request) -> Park:
    """The ``Park`` as seen by the caller: every read is limited to the caller's scope."""
    return request.app.state.park.as_principal(get_principal(request))


ParkDep = Annotated[Park, Depends(get_park)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


def _login(request: Request, response: Response, username: str, password: str) -> tuple[Principal, str]:
    """Check the password (rate-limited per address and per username) and start a session."""
    app = request.app
    park: Park = app.state.park
    limiter = app.state.rate_limiter
    address = client_address(request)
    keys = [f"login:{address}", f"login-user:{username.lower()}"]
    for key in keys:
        limiter.peek(key, LOGIN_FAILURES_PER_MIN)
    principal = park.accounts.check_password(username, password)
    if principal is None:
        for key in keys:
            limiter.hit(key, LOGIN_FAILURES_PER_MIN)
        park.audit.record(
            None, "login.failure", username, actor=f"user:{username}", detail={"address": address}
        )
        raise Unauthorized("wrong username or password")
    cookie, csrf = park.accounts.create_session(principal)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=SESSION_HOURS * 3600,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    park.audit.record(principal, "login.success", principal.name, detail={"address": address})
    return principal, csrf


def me(principal: Principal, request: Request) -> dict[str, Any]:
    out = {
        "kind": principal.kind,
        "name": principal.name,
        "role": principal.role,
        "park_id": principal.park_id,
        "enterprise_id": principal.enterprise_id,
        "org": principal.org,
        "device_id": principal.device_id,
    }
    csrf = getattr(request.state, "csrf_token", None)  # set when the caller came with a session
    if csrf:
        out["csrf_token"] = csrf
    return out


router = APIRouter()


@router.post("/api/auth/login", tags=["auth"])
def api_login(body: LoginRequest, request: Request, response: Response) -> dict[str, Any]:
    """Log in with a username and password: sets the session cookie and returns the CSRF token
    that cookie-authenticated writes must send as ``X-CSRF-Token``."""
    origin = request.headers.get("origin")
    if origin and origin.rstrip("/") != f"{request.url.scheme}://{request.headers.get('host', '')}":
        raise Forbidden(f"cross-origin login from {origin} refused")
    principal, csrf = _login(request, response, body.username, body.password)
    return {"user": principal.name, "role": principal.role, "csrf_token": csrf}


@router.post("/api/auth/logout", tags=["auth"])
def api_logout(principal: PrincipalDep, request: Request, response: Response) -> dict[str, Any]:
    """End the web session (API tokens are revoked with DELETE /api/tokens/{token_id})."""
    cookie = request.cookies.get(SESSION_COOKIE)
    park: Park = request.app.state.park
    if cookie and principal.kind == "user":
        park.accounts.end_session(cookie)
        park.audit.record(principal, "logout", principal.name)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return {"ok": True}


@router.get("/api/auth/me", tags=["auth"])
def api_me(principal: PrincipalDep, request: Request) -> dict[str, Any]:
    """Who the caller is: role, park, enterprise; for web sessions also the CSRF token."""
    return me(principal, request)


_LOGIN_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>登录 · ParkBrain 园区大脑</title>
<style>
body{{font-family:system-ui,"Noto Sans CJK SC","Microsoft YaHei",sans-serif;background:#f3f5f8;margin:0}}
main{{max-width:360px;margin:12vh auto;background:#fff;padding:32px;border-radius:8px;box-shadow:0 2px 12px #0002}}
h1{{font-size:20px;margin:0 0 4px}} p.en{{color:#667;margin:0 0 20px;font-size:13px}}
label{{display:block;margin:12px 0 4px;font-size:14px}}
input{{width:100%;box-sizing:border-box;padding:8px;font-size:15px;border:1px solid #bbc;border-radius:4px}}
button{{margin-top:20px;width:100%;padding:10px;font-size:15px;background:#1f5fbf;color:#fff;border:0;border-radius:4px}}
.err{{color:#b00020;font-size:14px;margin-top:12px}}
</style></head><body><main>
<h1>ParkBrain 园区大脑</h1><p class="en">登录 · Sign in</p>
<form method="post" action="/login">
<input type="hidden" name="csrf_token" value="{csrf}"><input type="hidden" name="next" value="{next}">
<label for="u">用户名 Username</label><input id="u" name="username" autocomplete="username" required>
<label for="p">密码 Password</label><input id="p" name="password" type="password" autocomplete="current-password" required>
<button type="submit">登录 Sign in</button>{error}
</form></main></body></html>"""


def _safe_next(value: str | None) -> str:
    """Only same-site relative paths: no open redirects."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


def login_page(next_path: str = "/", error: str = "", status: int = 200) -> HTMLResponse:
    csrf = secrets.token_urlsafe(24)
    page = _LOGIN_PAGE.format(
        csrf=csrf,
        next=html.escape(_safe_next(next_path)),
        error=f'<p class="err">{html.escape(error)}</p>' if error else "",
    )
    response = HTMLResponse(page, status_code=status)
    response.set_cookie(LOGIN_CSRF_COOKIE, csrf, httponly=True, samesite="strict", path="/login")
    return response


@router.get("/login", include_in_schema=False)
def get_login(next: str = "/") -> HTMLResponse:  # noqa: A002 - the query parameter is called next
    return login_page(next)


@router.post("/login", include_in_schema=False)
async def post_login(request: Request) -> Response:
    """The login form: double-submit CSRF (cookie set by GET /login equals the hidden field)."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
        raise InvalidInput("the login form must be posted as application/x-www-form-urlencoded")
    form = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    next_path = _safe_next(form.get("next"))
    if not expected or not hmac.compare_digest(form.get("csrf_token", ""), expected):
        return login_page(next_path, "表单已过期，请重试 (the form expired; try again)", 403)
    response = RedirectResponse(next_path, status_code=303)
    try:
        _login(request, response, form.get("username", ""), form.get("password", ""))
    except Unauthorized:
        return login_page(next_path, "用户名或密码错误 (wrong username or password)", 401)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.get("/", include_in_schema=False)
def home(request: Request) -> Response:
    """The signed-in landing page is the console (一张图); without a session, the login page."""
    park: Park = request.app.state.park
    try:
        park.accounts.authenticate_session(request.cookies.get(SESSION_COOKIE, ""))
    except Unauthorized:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse("/console", status_code=303)


@router.post("/logout", include_in_schema=False)
async def post_logout(request: Request) -> Response:
    """The sign-out form (its hidden field carries the session's CSRF token)."""
    park: Park = request.app.state.park
    cookie = request.cookies.get(SESSION_COOKIE, "")
    form = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
    try:
        principal, csrf = park.accounts.authenticate_session(cookie)
    except Unauthorized:
        return RedirectResponse("/login", status_code=303)
    if not hmac.compare_digest(form.get("csrf_token", ""), csrf):
        raise Forbidden("missing or wrong CSRF token in the sign-out form")
    park.accounts.end_session(cookie)
    park.audit.record(principal, "logout", principal.name)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
