"""The console's JSON API (/api/console/*): shapes per the contract, numbers consistent with the Park
methods they summarise (energy summary, readings, air quality, alerts), and the caller's scope."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from parkbrain import Park
from parkbrain.analytics.console import LAYERS, check_layer
from parkbrain.analytics.console_parts import local_midnight, month_start, this_month, worst_severity
from parkbrain.errors import InvalidInput
from tests.conftest import copy_db
from tests.world import make_world

PROVINCE_KEYS = {"layer", "unit", "period", "kpis", "prefectures", "parks", "ranking"}
KPI_KEYS = {"parks", "enterprises", "energy_tce", "carbon_tco2", "open_alerts", "aqi"}
PARK_ROW_KEYS = {
    "park_id",
    "name",
    "lon",
    "lat",
    "region_code",
    "energy_tce",
    "carbon_tco2",
    "open_alerts",
    "worst_severity",
    "aqi",
}
ENTERPRISE_ROW_KEYS = {
    "enterprise_id",
    "name",
    "industry_name",
    "energy_kwh",
    "energy_tce",
    "carbon_tco2",
    "open_alerts",
    "lon",
    "lat",
}


@pytest.fixture(scope="module")
def world(small_demo_file, tmp_path_factory):
    path = copy_db(small_demo_file, tmp_path_factory.mktemp("console"))
    with Park.open(path) as park:
        yield make_world(park)


@pytest.fixture(scope="module")
def province(world):
    return world.client("province")


def _get(client, url: str, status: int = 200) -> dict:
    response = client.get(url)
    assert response.status_code == status, (url, response.text[:300])
    return response.json()


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return a == pytest.approx(b, rel=1e-9, abs=1e-9)


# -- province --------------------------------------------------------------------------------------


@pytest.mark.parametrize("layer", ["energy", "carbon", "aqi"])
def test_province_has_the_contract_keys_and_kpis_are_sums_over_parks(province, layer):
    body = _get(province, f"/api/console/province?layer={layer}")
    assert set(body) >= PROVINCE_KEYS and body["layer"] == layer
    assert body["unit"] == LAYERS[layer].unit
    assert set(body["period"]) >= {"start", "end"}
    assert set(body["kpis"]) >= KPI_KEYS
    parks = body["parks"]
    assert parks and all(set(p) >= PARK_ROW_KEYS for p in parks)
    kpis = body["kpis"]
    assert kpis["parks"] == len(parks) == 19
    assert kpis["energy_tce"] == pytest.approx(sum(p["energy_tce"] or 0 for p in parks))
    assert kpis["carbon_tco2"] == pytest.approx(sum(p["carbon_tco2"] or 0 for p in parks))
    assert kpis["open_alerts"] == sum(p["open_alerts"] for p in parks)
    assert kpis["aqi"] == max(p["aqi"] for p in parks if p["aqi"] is not None)
    assert kpis["energy_tce"] > 0 and kpis["carbon_tco2"] > 0
    field = LAYERS[layer].field
    values = [r["value"] for r in body["ranking"]]
    assert values == sorted(values, reverse=True)
    assert [r["value"] for r in body["ranking"]] == sorted(
        (p[field] for p in parks if p[field] is not None), reverse=True
    )
    assert {p["worst_severity"] for p in parks} <= {"critical", "warning", "info", None}


def test_prefecture_values_combine_their_parks(province, world):
    body = _get(province, "/api/console/province?layer=energy")
    codes = {r["region_code"]: r for r in world.park.regions(level="prefecture")}
    assert {p["region_code"] for p in body["prefectures"]} == set(codes)
    for pref in body["prefectures"]:
        mine = [
            p["energy_tce"]
            for p in body["parks"]
            if p["region_code"][:4] == pref["region_code"][:4] and p["energy_tce"] is not None
        ]
        assert _close(pref["value"], sum(mine) if mine else None), pref
    aqi = _get(province, "/api/console/province?layer=aqi")
    for pref in aqi["prefectures"]:
        mine = [p["aqi"] for p in aqi["parks"] if p["region_code"][:4] == pref["region_code"][:4]]
        mine = [v for v in mine if v is not None]
        assert pref["value"] == (max(mine) if mine else None)


def test_province_numbers_match_the_energy_summary_and_alerts(province, world):
    body = _get(province, "/api/console/province")
    period = body["period"]
    summary = world.park.energy_summary(period["start"], period["end"], grain="total", by=("park",))
    assert body["kpis"]["energy_tce"] == pytest.approx(summary["totals"]["tce"], rel=1e-9)
    assert body["kpis"]["carbon_tco2"] == pytest.approx(summary["totals"]["tco2"], rel=1e-9)
    by_park: dict[str, float] = {}
    for r in summary["rows"]:
        by_park[r["park_id"]] = by_park.get(r["park_id"], 0.0) + (r["tce"] or 0.0)
    for p in body["parks"]:
        assert p["energy_tce"] == pytest.approx(by_park.get(p["park_id"], 0.0), rel=1e-9)
        detail = world.park.park(p["park_id"])
        assert p["open_alerts"] == detail["open_alerts"]
        assert p["enterprises"] == detail["enterprises"]
    assert body["kpis"]["enterprises"] == world.park.enterprises(limit=1)[1]


def test_province_rejects_an_unknown_layer(province):
    assert province.get("/api/console/province?layer=noise").status_code == 422
    with pytest.raises(InvalidInput, match="layer"):
        check_layer("noise")


# -- park ------------------------------------------------------------------------------------------


def test_park_page_has_the_contract_keys(province, world):
    body = _get(province, f"/api/console/parks/{world.park_id}")
    assert {"park", "buildings", "enterprises", "load_curve", "air", "alerts"} <= set(body)
    assert body["park"]["park_id"] == world.park_id and "boundary" in body["park"]
    assert all({"building_id", "name", "floors", "area_m2", "footprint"} <= set(b) for b in body["buildings"])
    assert body["enterprises"] and all(set(e) >= ENTERPRISE_ROW_KEYS for e in body["enterprises"])
    curve = body["load_curve"]
    assert curve["unit"] == "kW" and {"today", "yesterday", "last_week"} <= set(curve)
    assert len(curve["yesterday"]) == 96  # a whole day of 15-minute buckets
    assert set(body["air"]) == {"now", "days"}
    assert body["air"]["now"] is None or {"aqi", "level", "category", "primary_pollutant", "time"} <= set(
        body["air"]["now"]
    )
    assert len(body["air"]["days"]) <= 7
    assert _get(province, "/api/console/parks/no-such-park", 404)["error"]["type"]


def test_park_buildings_and_alerts_are_the_parks(province, world):
    body = _get(province, f"/api/console/parks/{world.park_id}")
    buildings, _ = world.park.buildings(world.park_id, limit=10_000)
    assert [b["building_id"] for b in body["buildings"]] == [b["building_id"] for b in buildings]
    alerts, _ = world.park.alerts(world.park_id, limit=10_000)
    open_ = [a["alert_id"] for a in alerts if a["status"] != "closed"][:50]
    assert [a["alert_id"] for a in body["alerts"]] == open_


def test_park_enterprises_energy_matches_the_energy_summary(province, world):
    body = _get(province, f"/api/console/parks/{world.park_id}")
    period = body["period"]
    summary = world.park.energy_summary(
        period["start"], period["end"], grain="total", by=("enterprise",), park_id=world.park_id
    )
    tce: dict[str, float] = {}
    kwh: dict[str, float] = {}
    for r in summary["rows"]:
        tce[r["enterprise_id"]] = tce.get(r["enterprise_id"], 0.0) + (r["tce"] or 0.0)
        if r["carrier"] == "electricity":
            kwh[r["enterprise_id"]] = r["amount"]
    assert {e["enterprise_id"] for e in body["enterprises"]} >= set(tce) - {None}
    for e in body["enterprises"]:
        if e["enterprise_id"] in tce:
            assert e["energy_tce"] == pytest.approx(tce[e["enterprise_id"]], rel=1e-9)
            assert e["energy_kwh"] == pytest.approx(kwh.get(e["enterprise_id"], 0.0), rel=1e-9)


def test_load_curve_is_the_sum_of_the_points_15_minute_means(province, world):
    body = _get(province, f"/api/console/parks/{world.park_id}")
    yesterday = body["load_curve"]["yesterday"]
    points, _ = world.park.points(park_id=world.park_id, quantity="active_power", limit=10_000)
    assert points
    start = datetime.fromisoformat(yesterday[0]["ts"])
    expected: dict[datetime, float] = {}
    for p in points:
        table = world.park.readings(p["point_id"], start, start + timedelta(days=1), "15m").table
        for ts, value in zip(table.column("ts").to_pylist(), table.column("value").to_pylist()):
            expected[ts] = expected.get(ts, 0.0) + value
    got = {datetime.fromisoformat(r["ts"]): r["value"] for r in yesterday}
    assert set(got) == set(expected)
    for ts, value in expected.items():
        assert got[ts] == pytest.approx(value, rel=1e-9)
    today = body["load_curve"]["today"]
    assert today and datetime.fromisoformat(today[0]["ts"]) == start + timedelta(days=1)
    last_week = body["load_curve"]["last_week"]
    assert datetime.fromisoformat(last_week[0]["ts"]) == start - timedelta(days=6)


def test_park_air_matches_park_air_quality(province, world):
    body = _get(province, f"/api/console/parks/{world.park_id}")
    days = body["air"]["days"]
    assert days
    end = local_midnight(datetime.fromisoformat(body["period"]["as_of"]), 1)
    daily = world.park.air_quality(world.park_id, end - timedelta(days=7), end, interval="1d")
    for day in days:
        rows = [r for r in daily["rows"] if r["time"][:10] == day["date"] and r["aqi"] is not None]
        assert day["aqi"] == max(r["aqi"] for r in rows)
    now = body["air"]["now"]
    assert now is not None
    hourly = world.park.air_quality(world.park_id, end - timedelta(days=2), end, interval="1h")
    rated = [r for r in hourly["rows"] if r["aqi"] is not None]
    at = [r for r in rated if datetime.fromisoformat(r["time"]) == datetime.fromisoformat(now["time"])]
    assert now["aqi"] in {r["aqi"] for r in at}


# -- enterprise ------------------------------------------------------------------------------------


def test_enterprise_page_matches_the_energy_summary_and_points(world):
    client = world.client("a")
    body = _get(client, f"/api/console/enterprises/{world.a}")
    assert body["enterprise"]["enterprise_id"] == world.a
    assert {"meters", "consumption", "monthly", "carbon", "intensity_tce_per_10k_cny", "alerts"} <= set(body)
    period = body["period"]
    summary = world.park.energy_summary(period["start"], period["end"], grain="total", enterprise_id=world.a)
    by_carrier = summary["totals"]["by_carrier"]
    assert {c["carrier"] for c in body["consumption"]} == set(by_carrier)
    for c in body["consumption"]:
        assert c["value"] == pytest.approx(by_carrier[c["carrier"]]["amount"], rel=1e-9)
        assert c["unit"] == by_carrier[c["carrier"]]["unit"]
    assert body["carbon"]["tco2"] == pytest.approx(summary["totals"]["tco2"], rel=1e-9)
    assert {"name", "value", "source"} <= set(body["carbon"]["factor"])
    assert len(body["monthly"]) == 12
    local_as_of = datetime.fromisoformat(period["as_of"]).astimezone(timezone(timedelta(hours=8)))
    assert body["monthly"][-1]["month"] == local_as_of.strftime("%Y-%m")
    assert body["monthly"][-1]["energy_tce"] == pytest.approx(summary["totals"]["tce"], rel=1e-9)
    points, _ = world.park.points(enterprise_id=world.a, limit=10_000)
    listed = {p["point_id"]: p for m in body["meters"] for p in m["points"]}
    assert set(listed) == {p["point_id"] for p in points}
    for p in points:
        assert listed[p["point_id"]]["latest_value"] == p["latest_value"]
    ent = world.park.enterprise(world.a)
    assert body["intensity_tce_per_10k_cny"] > 0
    days = (datetime.fromisoformat(period["end"]) - datetime.fromisoformat(period["start"])).days
    prorated = ent["output_value_10k_cny"] * days / 365
    assert body["intensity_tce_per_10k_cny"] == pytest.approx(summary["totals"]["tce"] / prorated, rel=1e-9)


# -- scope -----------------------------------------------------------------------------------------


def test_an_enterprise_sees_its_own_enterprise_only(world):
    client = world.client("a")
    _get(client, f"/api/console/enterprises/{world.b}", 404)
    _get(client, f"/api/console/enterprises/{world.c}", 404)
    park = _get(client, f"/api/console/parks/{world.park_id}")
    assert [e["enterprise_id"] for e in park["enterprises"]] == [world.a]
    assert all(a["enterprise_id"] == world.a for a in park["alerts"])
    _get(client, f"/api/console/parks/{world.other_park_id}", 404)
    prov = _get(client, "/api/console/province")
    assert [p["park_id"] for p in prov["parks"]] == [world.park_id]
    assert prov["kpis"]["enterprises"] == 1
    b_page = world.client("b").get(f"/api/console/parks/{world.park_id}").text
    assert not any(secret in b_page for secret in world.secrets_of_a)


def test_a_park_admin_sees_its_park_only(world):
    client = world.client("park")
    _get(client, f"/api/console/parks/{world.other_park_id}", 404)
    _get(client, f"/api/console/enterprises/{world.c}", 404)
    body = _get(client, f"/api/console/parks/{world.park_id}")
    assert {e["enterprise_id"] for e in body["enterprises"]} == {
        e["enterprise_id"] for e in world.park.enterprises(world.park_id, limit=10_000)[0]
    }
    prov = _get(client, "/api/console/province")
    assert [p["park_id"] for p in prov["parks"]] == [world.park_id]


def test_a_device_token_reads_no_console(world):
    client = world.client("device")
    for url in ("/api/console/province", f"/api/console/parks/{world.park_id}", "/api/console/config"):
        assert client.get(url).status_code == 403, url
    assert world.client().get("/api/console/province").status_code == 401


# -- config and the building blocks ----------------------------------------------------------------


def test_config_reads_the_tile_url_from_the_environment(province, monkeypatch):
    monkeypatch.delenv("PARKBRAIN_TILE_URL", raising=False)
    body = _get(province, "/api/console/config")
    assert body == {"tile_url": None, "tile_attribution": None, "languages": ["zh", "en"]}
    monkeypatch.setenv("PARKBRAIN_TILE_URL", "https://t0.tianditu.gov.cn/vec_w/wmts?tk=KEY")
    monkeypatch.setenv("PARKBRAIN_TILE_ATTRIBUTION", "天地图")
    body = _get(province, "/api/console/config")
    assert body["tile_url"].startswith("https://t0.tianditu") and body["tile_attribution"] == "天地图"


def test_worst_severity_and_the_period():
    assert worst_severity(["info", "critical", "warning"]) == "critical"
    assert worst_severity(["info", None]) == "info" and worst_severity([]) is None
    at = datetime(2026, 11, 30, 17, 0, tzinfo=timezone.utc)  # 2026-12-01 01:00 in Asia/Shanghai
    period = this_month(at)
    assert period.start == datetime(2026, 11, 30, 16, 0, tzinfo=timezone.utc)
    assert period.end == datetime(2026, 12, 1, 16, 0, tzinfo=timezone.utc)
    assert month_start(at, 12) == datetime(2025, 11, 30, 16, 0, tzinfo=timezone.utc)


# -- the closed-day cache --------------------------------------------------------------------------


def test_consumption_with_closed_days_kept_equals_one_query_and_sees_late_data(small_demo_file, tmp_path):
    from parkbrain.analytics.console_cache import consumption_rows
    from parkbrain.analytics.energy import Selection, compute_consumption

    with Park.open(copy_db(small_demo_file, tmp_path)) as park:
        as_of = park.store.query_rows("SELECT max(ts) AS ts FROM latest_readings")[0]["ts"]
        as_of -= timedelta(hours=12)  # a day with readings after it too
        start, end = month_start(as_of), local_midnight(as_of, 1)
        everything = Selection()

        def both(grain: str, by: tuple[str, ...]) -> tuple[dict, dict]:
            split = consumption_rows(park.store, everything, start, end, as_of, grain, by).rows
            whole = compute_consumption(park.store, everything, start, end, grain, by).rows
            key = lambda r: (r["period"], *(r[f"{d}_id"] for d in by), r["carrier"])  # noqa: E731
            return {key(r): r["amount"] for r in split}, {key(r): r["amount"] for r in whole}

        for grain, by in (("total", ("park",)), ("month", ()), ("total", ("enterprise",))):
            split, whole = both(grain, by)
            assert split.keys() == whole.keys()
            for k, v in whole.items():
                assert split[k] == pytest.approx(v, rel=1e-9, abs=1e-6), k
        before, _ = both("total", ("park",))
        # late data in a closed day: the day rollup of one meter changes, and the total follows
        # late data in a closed day, then a new reading today: the day rollup of one meter changes,
        # and the total follows
        for lo, hi in ((start, local_midnight(as_of)), (local_midnight(as_of), end)):
            row = park.store.query_rows(
                """SELECT r.point_id, r.bucket, d.park_id FROM readings_1d r JOIN points p USING (point_id)
                   JOIN devices d USING (device_id)
                   WHERE p.energy_carrier = 'electricity' AND p.value_kind = 'cumulative'
                     AND r.bucket >= ? AND r.bucket < ? ORDER BY 1, 2 LIMIT 1""",
                [lo, hi],
            )[0]
            with park.store.transaction() as con:
                con.execute(
                    "UPDATE readings_1d SET delta = delta + 1000, n = n + 1 WHERE point_id = ? AND bucket = ?",
                    [row["point_id"], row["bucket"]],
                )
            after, whole = both("total", ("park",))
            key = (None, row["park_id"], "electricity")
            assert after[key] == pytest.approx(before[key] + 1000) == pytest.approx(whole[key])
            before = after
        # the register changes (a meter is no longer an energy meter): recomputed too
        with park.store.transaction() as con:
            con.execute("UPDATE points SET energy_carrier = NULL WHERE point_id = ?", [row["point_id"]])
        after, whole = both("total", ("park",))
        assert after == pytest.approx(whole) and after[key] < before[key]
