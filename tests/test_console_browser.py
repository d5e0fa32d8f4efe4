"""The web console in a real headless Chromium (Debian's ``chromium``, driven by Playwright).

A copy of the 7-day demo is served by uvicorn on a free port; the browser logs in through /login,
loads every view, clicks province → park → enterprise, switches to English and back, acknowledges an
alert, and checks that the map and the charts have drawn. Screenshots go to artifacts/screenshots/.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from parkbrain import Park
from tests.conftest import ARTIFACTS, copy_db

pytestmark = pytest.mark.xdist_group("browser")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
USER, PASSWORD = "console.admin", "a console test password"
ENTERPRISE_USER, ENTERPRISE = "console.enterprise", "asean-etdz-e001"
SHOTS = ARTIFACTS / "screenshots"
TIMEOUT_MS = 60_000

# Canvas pixels that are not transparent: a chart that drew something.
_PAINTED = """(selector) => {
  const canvas = document.querySelector(selector + ' canvas');
  if (!canvas) return 0;
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let n = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n += 1;
  return n;
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def console_url(small_demo_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo served by uvicorn in a thread, with a province admin who can log in."""
    import uvicorn

    from parkbrain.api import create_app

    db = copy_db(small_demo_file, tmp_path_factory.mktemp("console"))
    park = Park.open(db)
    park.create_user(USER, "province_admin", password=PASSWORD)
    park.create_user(ENTERPRISE_USER, "enterprise", password=PASSWORD, enterprise_id=ENTERPRISE)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(park), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(30)
    park.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed: apt-get install -y --no-install-recommends chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def signed_in(browser, console_url):
    """A browser context with a session, made by logging in through the /login form."""
    context = browser.new_context(viewport={"width": 1600, "height": 900}, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(console_url + "/console")
    assert "/login?next=%2Fconsole" in page.url  # no session: the login page, which comes back here
    page.fill("#u", USER)
    page.fill("#p", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(console_url + "/console")
    page.close()
    yield context
    context.close()


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(1200)  # let chart animations (1 s) finish before the picture
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    assert path.stat().st_size > 20_000  # a blank page compresses to a few kB


def _open(context, url: str, loaded: str, errors: list[str] | None = None):
    page = context.new_page()
    if errors is not None:
        page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    page.wait_for_selector(f"body[data-loaded='{loaded}']")
    return page


def test_pages_need_a_session(browser, console_url):
    context = browser.new_context()
    page = context.new_page()
    for path in ("/console/alerts", "/console/parks/asean-etdz"):
        page.goto(console_url + path)
        assert "/login?next=" in page.url and "园区大脑" in page.content()
    # the vendored libraries are served from the package, no CDN
    assert page.request.get(console_url + "/static/vendor/echarts/echarts.min.js").ok
    assert page.request.get(console_url + "/static/../pages.py").status == 404
    context.close()


def test_province_map_draws_prefectures_parks_and_kpis(signed_in, console_url):
    errors: list[str] = []
    page = _open(signed_in, console_url + "/console", "energy", errors)
    assert page.locator("path.prefecture").count() >= 14
    parks = page.locator("path.park-marker").count()
    assert parks == 19
    assert page.locator(".pref-label").count() >= 14
    kpis = page.locator("#kpis").inner_text()
    assert "综合能耗" in kpis and "吨标准煤" in kpis and "未处理告警" in kpis
    assert page.locator("#ranking li").count() == parks
    assert "吨标准煤" in page.locator("#legend").inner_text()
    _shot(page, "01-province-energy")
    page.click("#layer-switch button[data-layer=aqi]")
    page.wait_for_selector("body[data-loaded='aqi']")
    assert "AQI" in page.locator("#legend").inner_text()
    _shot(page, "02-province-aqi")
    page.click("#layer-switch button[data-layer=carbon]")
    page.wait_for_selector("body[data-loaded='carbon']")
    assert "吨CO₂" in page.locator("#legend").inner_text()
    assert errors == []
    page.close()


def test_click_from_province_to_park_to_enterprise(signed_in, console_url):
    errors: list[str] = []
    page = _open(signed_in, console_url + "/console", "energy", errors)
    first = page.locator("#ranking li").first
    park_id = first.get_attribute("data-park")
    first.click()
    page.wait_for_url(f"{console_url}/console/parks/{park_id}")
    page.wait_for_selector("body[data-loaded='park']")
    assert page.locator("path.park-boundary").count() == 1
    assert page.locator("path.building").count() >= 1
    assert page.locator("path.enterprise-marker").count() >= 1
    assert page.evaluate(_PAINTED, "#load-chart") > 1000
    assert page.evaluate(_PAINTED, "#aqi-chart") > 1000
    assert page.locator("#enterprises tbody tr").count() >= 1
    _shot(page, "03-park")
    page.locator("#enterprises a.ent-link").first.click()
    page.wait_for_url(f"{console_url}/console/enterprises/**")
    page.wait_for_selector("body[data-loaded='enterprise']")
    page.wait_for_selector("#trend-chart canvas")
    page.wait_for_timeout(800)
    for chart in ("#carrier-chart", "#monthly-chart", "#trend-chart"):
        assert page.evaluate(_PAINTED, chart) > 1000, chart
    trend = page.evaluate(
        "() => echarts.getInstanceByDom(document.querySelector('#trend-chart')).getOption().series"
        ".map(s => [s.name, s.data.length])"
    )
    assert trend[0][1] > 24 and trend[-1] == ["预测", 24]  # 7 days of hourly means, then tomorrow's forecast
    assert page.locator("#meters tbody tr").count() >= 1
    _shot(page, "04-enterprise")
    assert errors == []
    page.close()


def test_language_switch_is_honoured_and_remembered(signed_in, console_url):
    page = _open(signed_in, console_url + "/console", "energy")
    assert page.locator("nav.nav").inner_text().split() == ["一张图", "告警", "数据", "问答", "大屏"]
    page.click("#lang-switch")
    page.wait_for_selector("body[data-loaded='energy']")
    assert page.locator("html").get_attribute("lang") == "en"
    assert (
        "Energy use" in page.locator("#kpis").inner_text() and "tce" in page.locator("#legend").inner_text()
    )
    _shot(page, "05-province-en")
    page.locator("#ranking li").first.click()
    page.wait_for_selector("body[data-loaded='park']")
    assert "Park load curve" in page.content()
    series = page.evaluate(
        "() => echarts.getInstanceByDom(document.querySelector('#load-chart')).getOption().series.map(s => s.name)"
    )
    assert series == ["Today", "Yesterday", "Same day last week"]
    assert "Electricity (kWh)" in page.locator("#enterprises thead").inner_text()
    _shot(page, "05b-park-en")
    # the cookie carries the choice to the next page
    page.goto(console_url + "/console/alerts")
    page.wait_for_selector("body[data-loaded='alerts']")
    assert "Alerts" in page.locator("h1").inner_text() and "Severity" in page.content()
    _shot(page, "06-alerts-en")
    page.click("#lang-switch")
    page.wait_for_selector("body[data-loaded='alerts']")
    assert page.locator("h1").inner_text() == "告警中心"
    page.close()


def test_acknowledge_and_close_an_alert(signed_in, console_url):
    page = _open(signed_in, console_url + "/console/alerts", "alerts")
    alert_id = page.locator("#alerts tbody tr").first.get_attribute("data-alert")
    row = f"#alerts tr[data-alert='{alert_id}']"
    page.click(f"{row} button.ack")
    page.wait_for_selector(row, state="detached")  # acknowledged: no longer among the open ones
    page.select_option("select[name=status]", "acknowledged")
    page.wait_for_selector(row)
    assert "已确认" in page.locator(row).inner_text()
    _shot(page, "07-alerts")
    page.click(f"{row} button.close")
    page.wait_for_selector(row, state="detached")
    page.select_option("select[name=status]", "closed")
    page.wait_for_selector(row)
    assert "已关闭" in page.locator(row).inner_text()
    page.close()


def test_data_view_imports_a_file_and_the_big_screen(signed_in, console_url, tmp_path):
    page = _open(signed_in, console_url + "/console/data", "data")
    assert page.locator("#table tbody tr").count() == 50
    assert "完整性" in page.locator("#quality").inner_text()
    csv = tmp_path / "读数.csv"
    csv.write_text(
        "point_id,ts,value\nasean-etdz-e001-em1.active_power,2026-11-20 08:00,512.5\n", encoding="utf-8"
    )
    page.set_input_files("#import-form input[type=file]", str(csv))
    page.click("#import-form button[type=submit]")
    page.wait_for_selector("#import-result:has-text('已导入')")
    page.wait_for_selector("#imports td:has-text('读数.csv')")
    _shot(page, "08-data")
    page.close()
    screen = _open(signed_in, console_url + "/console/screen", "energy")
    assert "screen" in screen.locator("body").get_attribute("class")
    assert screen.locator("path.prefecture").count() >= 14
    background = screen.evaluate("getComputedStyle(document.body).backgroundImage")
    assert "gradient" in background
    screen.wait_for_selector("#screen-alerts li")
    _shot(screen, "09-screen")
    screen.close()


def test_an_enterprise_user_sees_only_its_own(browser, console_url):
    context = browser.new_context(viewport={"width": 1600, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(console_url + "/login?next=/console")
    page.fill("#u", ENTERPRISE_USER)
    page.fill("#p", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("body[data-loaded='energy']")
    assert page.locator("path.park-marker").count() == 1  # its own park only
    assert page.locator("#ranking li").count() == 1
    assert ENTERPRISE in page.locator("#user").inner_text()
    page.goto(f"{console_url}/console/enterprises/{ENTERPRISE}")
    page.wait_for_selector("body[data-loaded='enterprise']")
    _shot(page, "10-enterprise-user")
    page.goto(f"{console_url}/console/enterprises/asean-etdz-e002")  # a neighbour: not found for this user
    page.wait_for_selector("#ent-meta .error")
    assert "404" in page.locator("#ent-meta").inner_text()
    context.close()
