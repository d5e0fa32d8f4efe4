"""The demo province: a realistic Guangxi, checked against its real sources."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, shape

from parkbrain import InvalidInput, Park
from parkbrain.demo import build_demo, build_demo_file
from parkbrain.demo.calendar import HOLIDAY, WEEKEND, WORKDAY, day_type
from parkbrain.demo.catalogue import INDUSTRIES, PARKS
from parkbrain.demo.realdata import SKAB_RUNS
from parkbrain.model.timeutil import CST
from parkbrain.model.uscc import is_valid_uscc
from tests.conftest import SHARED_DATA

pytestmark = pytest.mark.xdist_group("demo")


def rows(park: Park, sql: str, params=None) -> list[dict]:
    return park.store.query_rows(sql, params)


def test_regions_are_guangxi_and_its_14_prefectures_repaired(demo):
    regions = rows(demo, "SELECT * FROM regions ORDER BY region_code")
    assert [r["level"] for r in regions].count("prefecture") == 14
    province = [r for r in regions if r["level"] == "province"]
    assert [p["region_code"] for p in province] == ["450000"]
    for r in regions:
        geom = shape(json.loads(r["geometry"]))
        assert geom.is_valid, r["name"]
        assert r["level"] == "province" or r["parent_code"] == "450000"
    assert 230_000 < province[0]["area_km2"] < 245_000


def test_every_park_is_a_real_zone_inside_its_prefecture_and_guangxi(demo):
    parks = rows(demo, "SELECT * FROM parks")
    assert len(parks) >= 12
    shapes = {r["region_code"]: shape(json.loads(r["geometry"])) for r in rows(demo, "SELECT * FROM regions")}
    names = {p.name for p in PARKS}
    for p in parks:
        assert p["name"] in names
        point = Point(p["lon"], p["lat"])
        assert shapes["450000"].contains(point), p["name"]
        assert shapes[p["region_code"]].contains(point), p["name"]
        boundary = shape(json.loads(p["boundary"]))
        assert boundary.is_valid and boundary.distance(point) < 0.01, p["name"]
        assert shapes[p["region_code"]].buffer(0.01).contains(boundary), p["name"]
        assert p["level"] in ("national", "provincial")
        assert p["kind"]
    for name in (
        "南宁高新技术产业开发区",
        "南宁经济技术开发区",
        "广西—东盟经济技术开发区",
        "柳州高新技术产业开发区",
        "桂林高新技术产业开发区",
        "钦州港经济技术开发区",
    ):
        assert name in {p["name"] for p in parks}
    industries: dict[str, str] = {}
    for p in parks:
        industries[p["region_code"]] = industries.get(p["region_code"], "") + p["leading_industries"]
    assert "铝" in industries["451000"] and "汽车" in industries["450200"] and "糖" in industries["451400"]


def test_enterprises_are_plausible_and_marked_as_demo(demo):
    ents = rows(demo, "SELECT * FROM enterprises")
    assert len(ents) >= 400
    assert all(is_valid_uscc(e["uscc"]) for e in ents)
    assert len({e["uscc"] for e in ents}) == len(ents)
    assert len({e["name"] for e in ents}) == len(ents)
    assert all(
        e["industry_code"] in INDUSTRIES and e["industry_name"] == INDUSTRIES[e["industry_code"]].name
        for e in ents
    )
    assert all(e["employees"] > 0 and e["output_value_10k_cny"] > 0 for e in ents)
    assert all(e["data_source"] == "demo" and e["name"].endswith("公司") for e in ents)
    key_users = rows(demo, "SELECT park_id, count(*) AS n FROM enterprises WHERE key_energy_user GROUP BY 1")
    assert len(key_users) == len(PARKS) and all(2 <= k["n"] <= 6 for k in key_users)
    in_buildings = rows(demo, "SELECT count(*) AS n FROM enterprises e JOIN buildings b USING (building_id)")
    assert in_buildings[0]["n"] == len(ents)


def test_every_enterprise_has_a_15min_electricity_register(demo):
    missing = rows(
        demo,
        """
        SELECT e.enterprise_id FROM enterprises e WHERE NOT EXISTS (
            SELECT 1 FROM devices d JOIN points p USING (device_id)
            WHERE d.enterprise_id = e.enterprise_id AND p.energy_carrier = 'electricity'
              AND p.value_kind = 'cumulative' AND p.unit = 'kWh' AND p.interval_s = 900)""",
    )
    assert missing == []
    carriers = {r["energy_carrier"] for r in rows(demo, "SELECT DISTINCT energy_carrier FROM points")}
    assert {"electricity", "natural_gas", "steam", "water"} <= carriers


def test_each_park_has_an_hourly_air_station_and_equipment_with_faults(demo):
    stations = rows(
        demo,
        """SELECT d.park_id, list(p.quantity ORDER BY p.quantity) AS q FROM devices d
                             JOIN points p USING (device_id) WHERE d.kind = 'Air_Quality_Sensor' GROUP BY 1""",
    )
    assert len(stations) == len(PARKS)
    assert all(s["q"] == ["co", "no2", "o3", "pm10", "pm2_5", "so2"] for s in stations)
    machines = rows(
        demo,
        """SELECT count(DISTINCT device_id) AS n FROM points
                             WHERE quantity IN ('vibration_rms', 'bearing_temperature', 'current')""",
    )
    assert machines[0]["n"] >= 20
    faults = rows(demo, "SELECT kind, count(*) AS n FROM fault_labels GROUP BY 1")
    kinds = {f["kind"].split(":")[0] for f in faults}
    assert "injected" in kinds


def test_readings_cover_90_days_ending_today(demo):
    span = rows(demo, "SELECT min(ts) AS lo, max(ts) AS hi, count(*) AS n FROM readings")[0]
    today = datetime.now(CST).date()
    assert span["lo"].astimezone(CST).date() <= today - timedelta(days=90)
    assert span["hi"].astimezone(CST).date() == today
    assert span["n"] > 3_000_000


def test_loads_follow_the_working_calendar(demo):
    """One-shift factories use much less on weekends and public holidays than on workdays."""
    daily = rows(
        demo,
        """
        SELECT r.bucket, sum(r.delta) AS kwh FROM readings_1d r JOIN points p USING (point_id)
        JOIN devices d USING (device_id) JOIN enterprises e USING (enterprise_id)
        WHERE p.quantity = 'electric_energy' AND e.data_source = 'demo'
          AND e.industry_code IN ({})
        GROUP BY 1 ORDER BY 1""".format(",".join(f"'{c}'" for c, s in INDUSTRIES.items() if s.shifts == 1)),
    )
    by_type: dict[int, list[float]] = {WORKDAY: [], WEEKEND: [], HOLIDAY: []}
    for d in daily[1:-1]:  # first and last days are partial
        by_type[day_type(d["bucket"].astimezone(CST).date())].append(d["kwh"])
    assert np.mean(by_type[WEEKEND]) < 0.8 * np.mean(by_type[WORKDAY])
    if by_type[HOLIDAY]:
        assert np.mean(by_type[HOLIDAY]) < 0.7 * np.mean(by_type[WORKDAY])


def test_some_meters_reset_and_consumption_never_goes_negative(demo):
    resets = rows(demo, "SELECT count(*) AS n FROM alerts WHERE rule = 'meter_register_reset'")[0]["n"]
    assert resets >= 3
    negative = rows(demo, "SELECT count(*) AS n FROM readings_15m WHERE delta < 0")[0]["n"]
    assert negative == 0


@pytest.mark.skipif(not SHARED_DATA.exists(), reason="shared datasets not present")
def test_steel_enterprise_meter_is_the_real_steel_plant(demo):
    point = rows(
        demo,
        """SELECT p.point_id FROM points p JOIN devices d USING (device_id)
                          WHERE p.data_source = 'real:steel-industry-energy'""",
    )
    assert len(point) == 1
    raw = pd.read_csv(SHARED_DATA / "steel-industry-energy" / "Steel_industry_data.csv", encoding="utf-8-sig")
    values = rows(
        demo, "SELECT ts, value FROM readings WHERE point_id = ? ORDER BY ts", [point[0]["point_id"]]
    )
    increments = np.diff([v["value"] for v in values])
    usage = raw["Usage_kWh"].to_numpy()
    # The shifted series must appear verbatim inside the real year (same consecutive 15-min usages).
    window = np.round(increments[:200], 2)
    hits = [i for i in range(len(usage) - 200) if np.allclose(usage[i + 1 : i + 201], window, atol=0.006)]
    assert hits, "the meter's increments are not a slice of the real steel plant series"
    first_ts = values[0]["ts"]
    # Shifted by whole weeks: the source day of the first reading has the same weekday.
    source_day = date(2018, 1, 1) + timedelta(days=(hits[0] + 1) // 96)
    assert first_ts.astimezone(CST).weekday() == source_day.weekday()


@pytest.mark.skipif(not SHARED_DATA.exists(), reason="shared datasets not present")
def test_one_air_station_is_the_real_beijing_station(demo):
    point = rows(
        demo,
        "SELECT point_id FROM points WHERE data_source = 'real:beijing-air-quality' AND quantity = 'pm2_5'",
    )
    assert len(point) == 1
    raw = pd.read_csv(
        SHARED_DATA / "beijing-air-quality" / "PRSA_Data_Aotizhongxin_20130301-20170228.csv", low_memory=False
    )
    got = rows(
        demo, "SELECT ts, value FROM readings WHERE point_id = ? ORDER BY ts LIMIT 48", [point[0]["point_id"]]
    )
    shift_years = None
    for r in got:
        local = r["ts"].astimezone(CST)
        for years in range(8, 15):
            src = raw[
                (raw.year == local.year - years)
                & (raw.month == local.month)
                & (raw.day == local.day)
                & (raw.hour == local.hour)
            ]
            if len(src) and src["PM2.5"].iloc[0] == r["value"]:
                shift_years = shift_years or years
                assert years == shift_years
                break
        else:
            pytest.fail(f"reading at {local} is not the Beijing value of the same hour")


@pytest.mark.skipif(not SHARED_DATA.exists(), reason="shared datasets not present")
def test_one_pump_replays_skab_with_its_fault_labels(demo):
    points = rows(demo, "SELECT point_id FROM points WHERE data_source = 'real:skab'")
    assert len(points) == 8
    n = rows(demo, "SELECT count(*) AS n FROM readings WHERE point_id = ?", [points[0]["point_id"]])[0]["n"]
    expected = sum(len(pd.read_csv(SHARED_DATA / "skab" / f, sep=";")) for f in SKAB_RUNS)
    assert n == expected
    labels = rows(demo, "SELECT * FROM fault_labels WHERE data_source = 'real:skab'")
    assert len(labels) >= 6 and all(lab["end_ts"] > lab["start_ts"] for lab in labels)
    sources = {r["source_id"] for r in rows(demo, "SELECT source_id FROM sources")}
    assert {"demo", "real:skab", "real:steel-industry-energy", "real:beijing-air-quality"} <= sources


def test_alerts_are_consistent_with_the_data(demo):
    alerts = rows(demo, "SELECT * FROM alerts")
    assert alerts and {a["status"] for a in alerts} <= {"open", "acknowledged", "closed"}
    vib = [a for a in alerts if a["rule"] == "vibration_high"]
    assert vib and all(a["value"] > 7.1 and a["severity"] == "critical" for a in vib)
    faulty = {r["device_id"] for r in rows(demo, "SELECT device_id FROM fault_labels")}
    assert {a["device_id"] for a in vib} <= faulty


def test_same_seed_same_province_other_seed_differs(tmp_path):
    end = datetime(2026, 10, 12, 9, 0, tzinfo=timezone.utc)

    def fingerprint(seed: int) -> tuple:
        with Park(memory=True) as p:
            build_demo(p, seed=seed, end=end, days=7)
            ents = p.store.query_rows("SELECT name, uscc, output_value_10k_cny FROM enterprises ORDER BY 1")
            total = p.store.query_rows("SELECT count(*) AS n, sum(value::DECIMAL(38, 4)) AS s FROM readings")[
                0
            ]
            return (
                tuple((e["name"], e["uscc"], e["output_value_10k_cny"]) for e in ents),
                total["n"],
                total["s"],
            )

    first = fingerprint(7)
    assert first == fingerprint(7)
    assert first[0] != fingerprint(8)[0]


def test_demo_refuses_a_database_with_data_and_never_half_writes(tmp_path):
    with Park(memory=True) as p:
        p.store.write("regions", [{"region_code": "450000", "name": "广西", "level": "province"}])
        p.store.write("parks", [{"park_id": "x", "name": "x", "region_code": "450000"}])
        with pytest.raises(InvalidInput, match="already holds data"):
            build_demo(p, days=7)
    path = tmp_path / "mine.duckdb"
    with Park.open(path) as p:
        p.store.write("parks", [{"park_id": "mine", "name": "我的园区", "region_code": "450100"}])
    with pytest.raises(InvalidInput, match="not a ParkBrain demo"):
        build_demo_file(path, days=7)
    with Park.open(path, read_only=True) as p:
        assert p.store.query_rows("SELECT park_id FROM parks") == [{"park_id": "mine"}]
    assert not list(tmp_path.glob("*.tmp-build*"))
