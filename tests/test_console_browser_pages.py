"""The console's pages without a browser: sessions, languages, static files, the tile origin in the CSP.

The browser test (``test_console_browser.py``) needs Debian chromium; these run everywhere.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from parkbrain import Park
from parkbrain.api import create_app
from parkbrain.web.i18n import LANGUAGES, STRINGS, normalise, strings
from parkbrain.web.pages import PAGE_PATHS, STATIC, tile_origin

PASSWORD = "a pages test password"
PAGES = ["/console", "/console/screen", "/console/parks/p1", "/console/enterprises/e1", "/console/alerts"]


@pytest.fixture
def app():
    with Park(memory=True) as park:
        park.create_user("page.viewer", "province_admin", password=PASSWORD)
        yield create_app(park)


def _signed_in(app) -> TestClient:
    client = TestClient(app)
    assert client.post("/api/auth/login", json={"username": "page.viewer", "password": PASSWORD}).is_success
    return client


def test_pages_redirect_to_login_without_a_session(app):
    client = TestClient(app)
    for path in [*PAGES, "/console/data"]:
        response = client.get(path + "?lang=en", follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=%2Fconsole")
    # a forged cookie is no session either
    client.cookies.set("pb_session", "forged")
    assert client.get("/console", follow_redirects=False).status_code == 303


def test_signed_in_root_leads_to_the_console_in_chinese(app):
    client = _signed_in(app)
    root = client.get("/", follow_redirects=False)
    assert root.status_code == 303 and root.headers["location"] == "/console"
    for path in PAGES:
        page = client.get(path)
        assert page.status_code == 200, path
        assert 'lang="zh-CN"' in page.text and "一张图" in page.text
        assert ("page.viewer" in page.text) == (path != "/console/screen")  # the 大屏 has no top bar
        assert "<script>" not in page.text  # no inline scripts: the CSP allows script-src 'self' only
        assert "cdn" not in page.text.lower() and "https://" not in page.text
        assert page.headers["cache-control"] == "no-store"
    # the sign-out form carries the session's CSRF token
    assert re.search(r'name="csrf_token" value="[^"]+"', client.get("/console").text)


def test_language_from_query_then_cookie(app):
    client = _signed_in(app)
    english = client.get("/console/alerts?lang=en")
    assert 'lang="en"' in english.text and "Alerts" in english.text and "告警中心" not in english.text
    assert "lang=en" in english.headers["set-cookie"]
    assert 'lang="en"' in client.get("/console/data").text  # remembered
    chinese = client.get("/console/data?lang=zh")
    assert 'lang="zh-CN"' in chinese.text and "数据空间" in chinese.text
    assert 'lang="zh-CN"' in client.get("/console?lang=xx").text
    # the switch links to the same page in the other language, keeping the query
    assert 'href="/console/parks/p1?layer=aqi&amp;lang=en"' in client.get("/console/parks/p1?layer=aqi").text


def test_every_label_has_both_languages():
    assert LANGUAGES == ("zh", "en")
    for key, pair in STRINGS.items():
        assert len(pair) == 2 and all(pair), key
    assert strings("en")["nav_map"] == "Map" and strings("zh")["nav_map"] == "一张图"
    assert normalise("zh-CN") == "zh" and normalise("EN") == "en" and normalise("fr") is None


def test_static_files_are_public_and_confined(app):
    client = TestClient(app)
    js = client.get("/static/vendor/leaflet/leaflet.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert client.get("/static/console.css").status_code == 200
    for bad in ("/static/../pages.py", "/static/%2e%2e/pages.py", "/static/vendor", "/static/nope.js"):
        assert client.get(bad).status_code == 404, bad
    for name in ("leaflet/leaflet.js", "leaflet/leaflet.css", "echarts/echarts.min.js"):
        assert (STATIC / "vendor" / name).stat().st_size > 10_000
    assert {"/console", "/console/screen"} <= PAGE_PATHS


def test_tile_url_widens_only_img_src(app, monkeypatch):
    client = _signed_in(app)
    assert "tianditu" not in client.get("/console").headers["content-security-policy"]
    monkeypatch.setenv("PARKBRAIN_TILE_URL", "https://t{s}.tianditu.gov.cn/vec_w/wmts?x={x}&y={y}&z={z}&tk=K")
    policy = client.get("/console").headers["content-security-policy"]
    assert "img-src 'self' https://*.tianditu.gov.cn data:" in policy and "script-src 'self';" in policy
    assert tile_origin("http://10.0.0.5:8080/tiles/{z}/{x}/{y}.png") == "http://10.0.0.5:8080"
    assert tile_origin("javascript:alert(1)") is None and tile_origin(None) is None
