"""The console's page routes (HTML; not in the OpenAPI schema). Pages read data only through the REST API.

Each page is a Jinja2 template with a small script; the script fetches ``/api/...`` with the session
cookie. A page without a session redirects to ``/login?next=...``. Static assets (the console's
scripts and the vendored Leaflet and ECharts) are served from the package under ``/static/``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from parkbrain.errors import NotFound, Unauthorized
from parkbrain.web.i18n import DEFAULT_LANGUAGE, LANG_COOKIE, normalise, strings

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
TEMPLATES = Environment(
    loader=FileSystemLoader(str(HERE / "templates")),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
#: The page routes; ``api.auth`` lets them through, and each checks the session cookie itself.
PAGE_PATHS = frozenset(
    {
        "/console",
        "/console/screen",
        "/console/parks/{park_id}",
        "/console/enterprises/{enterprise_id}",
        "/console/alerts",
        "/console/data",
        "/console/ask",
    }
)
STATIC_PATH = "/static/{path:path}"
_STATIC_CACHE = "public, max-age=300"

router = APIRouter(include_in_schema=False)


def _language(request: Request) -> tuple[str, bool]:
    """The page language (``?lang=``, then the ``lang`` cookie, then Chinese) and whether to remember it."""
    asked = normalise(request.query_params.get("lang"))
    if asked:
        return asked, asked != request.cookies.get(LANG_COOKIE)
    return normalise(request.cookies.get(LANG_COOKIE)) or DEFAULT_LANGUAGE, False


def _session(request: Request) -> tuple[Any, str] | None:
    from parkbrain.api.auth import SESSION_COOKIE  # api.auth imports this module for PAGE_PATHS

    park = request.app.state.park
    try:
        return park.accounts.authenticate_session(request.cookies.get(SESSION_COOKIE, ""))
    except Unauthorized:
        return None


def tile_origin(url: str | None) -> str | None:
    """The origin a configured tile URL loads images from, as a CSP source (``{s}`` subdomains: ``*.``)."""
    if not url:
        return None
    parts = urlsplit(url)
    host = parts.netloc
    if parts.scheme not in ("http", "https") or not host:
        return None
    if "{" in host:
        host = "*." + host.split(".", 1)[1] if "." in host else ""
    return f"{parts.scheme}://{host}" if host and "{" not in host else None


def _content_security_policy() -> str | None:
    """The default policy with the tile server's origin added to ``img-src`` when tiles are configured."""
    from parkbrain.api.security import _CSP  # the app-wide policy; pages widen only img-src
    from parkbrain.facets.console import TILE_URL_ENV

    origin = tile_origin(os.environ.get(TILE_URL_ENV))
    return _CSP.replace("img-src 'self'", f"img-src 'self' {origin}", 1) if origin else None


def _other_language_url(request: Request, lang: str) -> str:
    params = dict(request.query_params)
    params["lang"] = "en" if lang == "zh" else "zh"
    return request.url.path + "?" + "&".join(f"{quote(k)}={quote(v)}" for k, v in params.items())


def render(request: Request, template: str, page: str, **context: Any) -> Response:
    """A page for the signed-in caller, or a redirect to the login page."""
    session = _session(request)
    if session is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    principal, csrf = session
    lang, remember = _language(request)
    labels = strings(lang)
    body = TEMPLATES.get_template(template).render(
        t=labels,
        lang=lang,
        page=page,
        user={
            "name": principal.name,
            "role": principal.role,
            "scope": principal.enterprise_id or principal.park_id or "",
        },
        role_label=labels.get(f"role_{principal.role}", principal.role),
        csrf=csrf,
        switch_url=_other_language_url(request, lang),
        boot=json.dumps({"lang": lang, "t": labels, **context}, ensure_ascii=False).replace("</", "<\\/"),
        **context,
    )
    response = HTMLResponse(body)
    response.headers["Cache-Control"] = "no-store"
    policy = _content_security_policy()
    if policy:
        response.headers["Content-Security-Policy"] = policy
    if remember:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", path="/")
    return response


@router.get("/console")
def province_page(request: Request) -> Response:
    """一张图: the province map with prefectures, parks, KPIs and the park ranking."""
    return render(request, "province.html", "province", screen=False)


@router.get("/console/screen")
def screen_page(request: Request) -> Response:
    """大屏: the province view full-screen and dark, for control-room displays."""
    return render(request, "screen.html", "province", screen=True)


@router.get("/console/parks/{park_id}")
def park_page(request: Request, park_id: str) -> Response:
    """One park: boundary and buildings, enterprises, load curve, air quality, open alerts."""
    return render(request, "park.html", "park", park_id=park_id)


@router.get("/console/enterprises/{enterprise_id}")
def enterprise_page(request: Request, enterprise_id: str) -> Response:
    """One enterprise: meters and points, consumption by carrier, trends, carbon, alerts."""
    return render(request, "enterprise.html", "enterprise", enterprise_id=enterprise_id)


@router.get("/console/alerts")
def alerts_page(request: Request) -> Response:
    """Alerts: filter, acknowledge, close."""
    return render(request, "alerts.html", "alerts")


@router.get("/console/data")
def data_page(request: Request) -> Response:
    """Data: browse tables, import files, the data-quality report."""
    return render(request, "data.html", "data")


@router.get("/console/ask")
def ask_page(request: Request) -> Response:
    """问答: the park assistant (``POST /api/ask``) with the answer's rows, chart, SQL, query and sources."""
    lang, _ = _language(request)
    return render(request, "ask.html", "ask", columns=ask_column_labels(lang))


def ask_column_labels(lang: str) -> dict[str, str]:
    """Headers for the assistant's result columns: metrics (name and unit) and dimension names from the
    semantic layer; the time grains, comparison and policy-hit columns from the console's labels."""
    from parkbrain.ai.semantic import load_layer

    layer = load_layer()
    labels = {d.label: (d.zh if lang == "zh" else d.en) for d in layer.dimensions.values()}
    for m in layer.metrics.values():
        unit = m.unit_text(lang)
        labels[m.id] = f"{m.name(lang)} ({unit})" if unit else m.name(lang)
    table = strings(lang)
    for key, label in table.items():
        if key.startswith("askcol_"):
            labels[key.removeprefix("askcol_")] = label
    return labels


@router.get(STATIC_PATH)
def static_file(path: str) -> FileResponse:
    """A file of ``web/static`` (no listing; nothing outside that folder)."""
    target = (STATIC / path).resolve()
    if not target.is_relative_to(STATIC) or not target.is_file():
        raise NotFound(f"static file {path!r} not found")
    return FileResponse(target, headers={"Cache-Control": _STATIC_CACHE})
