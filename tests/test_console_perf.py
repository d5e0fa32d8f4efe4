"""What keeps the console fast on a cold start: consumption that reads the 15-minute rollups only
around register drops (same rows as the one-query form), the warm-up of the province and park pages
(their users then read memoised results), and the data page's quality report served from the last
computation while the next one runs in the background."""

from __future__ import annotations

import math
import threading
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from parkbrain import Park
from parkbrain.analytics import console_cache, console_quality
from parkbrain.analytics.console_parts import local_midnight, month_start
from parkbrain.analytics.console_warm import ConsoleWarmer, console_version
from parkbrain.analytics.energy import (
    Selection,
    _scales,
    compute_consumption,
    consumption_query,
    register_days,
)
from parkbrain.api import create_app
from parkbrain.errors import Forbidden, NotFound
from parkbrain.space import Principal
from tests.conftest import copy_db


@pytest.fixture(scope="module")
def park(small_demo_file, tmp_path_factory):
    with Park.open(copy_db(small_demo_file, tmp_path_factory.mktemp("console-perf"))) as p:
        yield p


def _register(park: Park) -> dict:
    return park.store.query_rows(
        """SELECT p.point_id, d.park_id, d.enterprise_id, l.ts, l.value FROM points p
           JOIN devices d USING (device_id) JOIN latest_readings l USING (point_id)
           WHERE p.energy_carrier = 'electricity' AND p.value_kind = 'cumulative' AND l.value > 0
           ORDER BY p.point_id LIMIT 1"""
    )[0]


def _roll_over(park: Park, meter: dict) -> None:
    """Hourly readings after the meter's latest: up to 99.5 % of the next power of ten, then 3 (a
    rollover), across a midnight."""
    k = math.ceil(math.log10(meter["value"] + 2))
    if 0.995 * 10**k < meter["value"] + 1:
        k += 1
    values = [meter["value"] + 1, 0.995 * 10**k, 3.0, 8.0, 20.0]
    start = local_midnight(meter["ts"], 1) - timedelta(hours=2)
    start = max(start, meter["ts"] + timedelta(hours=1))
    park.store.write_readings(
        [
            {"point_id": meter["point_id"], "ts": start + timedelta(hours=i), "value": v}
            for i, v in enumerate(values)
        ]
    )


# -- consumption: register days found first ------------------------------------------------------------


def test_consumption_finds_register_days_first_and_returns_the_one_query_rows(park):
    meter = _register(park)
    _roll_over(park, meter)
    latest = park.store.query_rows("SELECT max(ts) AS ts FROM latest_readings")[0]["ts"]
    start, end = month_start(latest, 1), local_midnight(latest, 1)
    everything = Selection()
    drops = register_days(park.store, everything, _scales(park.store, everything)[0], start, end)
    assert meter["point_id"] in {p for p, _ in drops}  # the rollover is found
    selections = [
        everything,
        Selection("d.park_id = ?", (meter["park_id"],)),
        Selection("d.enterprise_id = ?", (meter["enterprise_id"],)),
        Selection("p.energy_carrier = ?", ("steam",)),
    ]
    for selection in selections:
        for grain, by in (("total", ("park",)), ("day", ("point",)), ("month", ("enterprise",))):
            nested = consumption_query(park.store, selection, start, end, grain, by)
            assert nested is not None
            sql, params, _ = nested
            one_query = park.store.query_rows(sql, params)
            assert compute_consumption(park.store, selection, start, end, grain, by).rows == one_query
    mine = compute_consumption(
        park.store, Selection("p.point_id = ?", (meter["point_id"],)), start, end, "total"
    ).rows
    assert mine[0]["amount"] >= 10 ** math.ceil(math.log10(meter["value"] + 2)) * 0.995 - meter["value"]


def test_a_selection_without_registers_reads_no_register_days(park):
    assert (
        register_days(park.store, Selection(), [("electricity", "kW", "instant", 1.0)], *_month(park)) == []
    )


def _month(park: Park) -> tuple:
    latest = park.store.query_rows("SELECT max(ts) AS ts FROM latest_readings")[0]["ts"]
    return month_start(latest), local_midnight(latest, 1)


# -- the warm-up ----------------------------------------------------------------------------------------


def test_after_the_warm_up_the_province_and_park_pages_are_memoised_for_their_users(park):
    console_cache.clear()
    audited = park.store.query_rows("SELECT count(*) AS n FROM audit_log")[0]["n"]
    assert park.console_warm_up() == 2 + len(park.store.query_rows("SELECT park_id FROM parks"))
    assert park.store.query_rows("SELECT count(*) AS n FROM audit_log")[0]["n"] == audited  # read for nobody
    kept = console_cache.entries(park.store)
    assert kept > 0
    park_id = park.store.query_rows("SELECT park_id FROM parks ORDER BY park_id LIMIT 1")[0]["park_id"]
    admin = park.as_principal(Principal("user", "u-park", "park.user", "park_admin", park_id=park_id))
    province = park.as_principal(Principal("user", "u-prov", "province.user", "province_admin"))
    page = admin.console_park(park_id)
    energy = province.console_province("energy")
    aqi = province.console_province("aqi")
    assert console_cache.entries(park.store) == kept  # nothing computed again: the same selections
    console_cache.clear()
    assert admin.console_park(park_id)["enterprises"] == page["enterprises"]
    assert province.console_province("energy")["parks"] == energy["parks"]
    assert province.console_province("aqi")["prefectures"] == aqi["prefectures"]


def test_the_warmer_runs_at_start_and_again_when_the_month_changes(park):
    rounds: list[int] = []
    changed = threading.Event()

    def warm(stopping) -> None:
        rounds.append(park.console_warm_up(stopping))
        if len(rounds) == 2:
            changed.set()

    warmer = ConsoleWarmer(warm, lambda: console_version(park.store), interval_s=0.05).start()
    try:
        assert warmer.warmed.wait(120)
        assert len(rounds) == 1
        meter = _register(park)
        latest = park.store.query_rows("SELECT max(ts) AS ts FROM latest_readings")[0]["ts"]
        park.store.write_readings(
            [{"point_id": meter["point_id"], "ts": latest + timedelta(minutes=1), "value": 1e9}]
        )
        assert changed.wait(120)  # the new reading changed this month's day rollups
    finally:
        warmer.stop()
    assert warmer.rounds >= 2
    assert park.console_warm_up(lambda: True) == 2  # stopping: the province only, no park pages


def test_the_server_starts_the_warmer_unless_told_not_to(park, monkeypatch):
    with TestClient(create_app(park)) as client:
        warmer = client.app.state.console_warmer
        assert warmer is not None and warmer.warmed.wait(120)
    monkeypatch.setenv("PARKBRAIN_CONSOLE_WARM", "0")
    with TestClient(create_app(park)) as client:
        assert client.app.state.console_warmer is None


# -- the quality report of the data page ------------------------------------------------------------------


def test_the_data_page_gets_the_last_report_and_its_time(park):
    console_quality.forget()
    park_id = park.store.query_rows("SELECT park_id FROM parks ORDER BY park_id LIMIT 1")[0]["park_id"]
    admin = park.as_principal(Principal("user", "u-q", "quality.user", "park_admin", park_id=park_id))
    first = admin.console_quality(wait_s=120)
    assert first["status"] == "ready" and first["generated_at"] and not first["refreshing"]
    fresh = admin.quality().as_dict()
    assert first["report"]["park_id"] == park_id
    assert first["report"]["tables"] == fresh["tables"]
    assert first["report"]["score"] == fresh["score"]
    again = admin.console_quality()
    assert again["generated_at"] == first["generated_at"] and again["report"] is first["report"]
    other = park.store.query_rows("SELECT park_id FROM parks WHERE park_id <> ? LIMIT 1", [park_id])[0]
    with pytest.raises(Forbidden):
        admin.console_quality(other["park_id"])
    with pytest.raises(NotFound):
        park.console_quality("no-such-park")
    enterprise = park.as_principal(Principal("user", "u-e", "e.user", "enterprise", enterprise_id="x"))
    with pytest.raises(Forbidden):
        enterprise.console_quality()


def test_a_report_is_computed_once_in_the_background_and_again_when_the_data_changed():
    started = threading.Event()
    release = threading.Event()
    calls: list[int] = []

    def compute() -> dict:
        calls.append(1)
        started.set()
        release.wait(60)
        return {"generated_at": None, "n": len(calls)}

    with Park(memory=True) as park:
        store = park.store
        first = console_quality.quality_snapshot(store, "p", compute)
        assert first["status"] == "computing" and first["report"] is None
        assert started.wait(60)
        assert console_quality.quality_snapshot(store, "p", compute)["status"] == "computing"
        release.set()
        ready = console_quality.quality_snapshot(store, "p", compute, wait_s=60)
        assert ready["status"] == "ready" and ready["generated_at"], ready
        assert ready["report"]["n"] == 1 and len(calls) == 1
        # unchanged data: served as it is
        assert console_quality.quality_snapshot(store, "p", compute, min_interval_s=0)["report"]["n"] == 1
        store.write("regions", [{"region_code": "450000", "name": "广西壮族自治区", "level": "province"}])
        # changed, but younger than the minimum interval: still the last one, no new computation
        assert console_quality.quality_snapshot(store, "p", compute)["refreshing"] is False
        release.clear()  # the next computation waits until the stale answer was checked
        stale = console_quality.quality_snapshot(store, "p", compute, min_interval_s=0)
        assert stale["status"] == "ready" and stale["report"]["n"] == 1 and stale["refreshing"]
        release.set()
        assert console_quality.wait_idle(60)
        assert console_quality.quality_snapshot(store, "p", compute, min_interval_s=0)["report"]["n"] == 2


def test_a_failed_report_says_why(park):
    console_quality.forget()

    def compute() -> dict:
        raise NotFound("park 'gone' does not exist")

    answer = console_quality.quality_snapshot(park.store, "gone", compute, wait_s=60)
    assert answer["status"] == "error" and "gone" in answer["error"] and answer["report"] is None


def test_the_quality_route_answers_at_once_and_waits_when_asked(park):
    console_quality.forget()
    token = park.create_token("province_admin", expires="1h").secret
    client = TestClient(create_app(park), headers={"Authorization": f"Bearer {token}"})
    first = client.get("/api/console/quality")
    assert first.status_code == 200 and first.json()["status"] in ("computing", "ready")
    ready = client.get("/api/console/quality?wait_s=60").json()
    assert ready["status"] == "ready" and ready["report"]["park_id"] is None
    assert client.get("/api/console/quality?wait_s=61").status_code == 422
    assert client.get("/api/console/quality?park_id=no-such-park").status_code == 404


def test_closing_the_park_waits_for_a_report_computing_in_the_background(small_demo_file, tmp_path):
    console_quality.forget()
    park = Park.open(copy_db(small_demo_file, tmp_path))
    assert park.console_quality()["status"] == "computing"
    park.close()  # closing a DuckDB connection under a running query would abort the process
    assert console_quality.wait_idle(0.0)
