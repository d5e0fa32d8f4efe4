"""Air quality and noise over the store: hourly and daily AQI of the demo's stations, the edition
switch, the O3 8-hour maximum, exceedances, noise, AQI alerts (idempotent), scoping, REST and CLI."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from click.testing import CliRunner

from parkbrain import Park
from parkbrain.analytics.aqi import compute_aqi
from parkbrain.cli import cli
from parkbrain.errors import Forbidden, InvalidInput, NotFound
from parkbrain.model.timeutil import PARK_TZ
from tests.conftest import copy_db
from tests.world import make_world

CST = timezone(timedelta(hours=8))
WINDOW = ("2026-11-14", "2026-11-20")  # the small demo ends 2026-11-20 00:00 +08:00
CONC = ("so2", "no2", "co", "o3", "pm10", "pm2_5")


@pytest.fixture(scope="module")
def world(small_demo_file, tmp_path_factory):
    path = copy_db(small_demo_file, tmp_path_factory.mktemp("air"))
    with Park.open(path) as park:
        yield make_world(park)


def _view(world, who):
    return world.park.as_principal(world.park.accounts.authenticate_token(world.tokens[who])[0])


# -- the demo province ---------------------------------------------------------------------------------


def test_hourly_aqi_of_a_park_station(world):
    result = world.park.air_quality(world.park_id, *WINDOW, interval="1h")
    rows = result["rows"]
    assert len(result["stations"]) == 1 and result["stations"][0]["park_id"] == world.park_id
    assert len(rows) == 6 * 24  # every hour of the six days, in order
    assert [r["time"] for r in rows] == sorted(r["time"] for r in rows)
    assert {r["standard"] for r in rows} == {"HJ 633-2026"}
    complete = [r for r in rows if all(r[c] is not None for c in CONC)]
    assert len(complete) >= 0.9 * len(rows)
    recomputed = compute_aqi({c: [r[c] for r in complete] for c in CONC}, "hourly", "2026")
    assert [r["aqi"] for r in complete] == recomputed.aqi.astype(int).tolist()
    for r in rows:
        if any(r[c] is None for c in CONC):
            assert r["aqi"] is None  # a missed hour: no AQI rather than a partial one
        else:
            assert 1 <= r["level"] <= 6 and r["aqi"] == max(r[f"iaqi_{c}"] for c in CONC)


def test_hourly_values_are_the_stored_hourly_means(world):
    row = world.park.air_quality(world.park_id, *WINDOW)["rows"][10]
    device = row["device_id"]
    start = datetime.fromisoformat(row["time"])
    stored = world.park.store.query_rows(
        "SELECT avg(value) AS v FROM readings WHERE point_id = ? AND ts >= ? AND ts < ?",
        [f"{device}.pm2_5", start, start + timedelta(hours=1)],
    )[0]["v"]
    assert row["pm2_5"] == pytest.approx(stored)


def test_daily_aqi_and_the_o3_daily_max_8h_mean(world):
    rows = world.park.air_quality(world.park_id, *WINDOW, interval="1d")["rows"]
    assert [r["time"][:10] for r in rows] == [f"2026-11-{d}" for d in range(14, 20)]
    day = rows[2]
    device = day["device_id"]
    start = datetime.fromisoformat(day["time"])
    hourly = world.park.store.query_rows(
        "SELECT ts, value FROM readings WHERE point_id = ? AND ts >= ? AND ts < ? ORDER BY ts",
        [f"{device}.o3", start, start + timedelta(days=1)],
    )
    values = {int((r["ts"] - start).total_seconds() // 3600): r["value"] for r in hourly}
    windows = []
    for end in range(7, 24):  # 8-h windows ending 08:00 … 24:00
        inside = [values[h] for h in range(end - 7, end + 1) if h in values]
        if len(inside) >= 6:
            windows.append(np.mean(inside))
    assert day["o3_8h"] == pytest.approx(max(windows), abs=0.05)
    assert day["o3"] == max(values.values())  # daily max 1-h, shown (2026 rates the 8-h only)
    assert day["iaqi_o3"] is None and day["iaqi_o3_8h"] is not None
    pm = world.park.store.query_rows(
        "SELECT avg(value) AS v FROM readings WHERE point_id = ? AND ts >= ? AND ts < ?",
        [f"{device}.pm2_5", start, start + timedelta(days=1)],
    )[0]["v"]
    assert day["pm2_5"] == pytest.approx(pm, abs=0.05)


def test_scope_park_roles_see_their_stations_enterprises_none(world):
    own = _view(world, "park").air_quality(world.park_id, *WINDOW)
    assert {s["park_id"] for s in own["stations"]} == {world.park_id}
    assert _view(world, "park").air_quality(None, *WINDOW)["stations"] == own["stations"]
    assert _view(world, "other_park").air_quality(world.park_id, *WINDOW)["rows"] == []
    assert _view(world, "b").air_quality(world.park_id, *WINDOW)["rows"] == []
    with pytest.raises(NotFound):
        world.park.air_quality("no-such-park", *WINDOW)
    with pytest.raises(Forbidden):
        _view(world, "device").air_quality(world.park_id, *WINDOW)


def test_aqi_alerts_are_written_once(world):
    park = world.park
    before = park.store.count("alerts")
    first = park.compute_aqi_alerts(None, "2026-11-13", "2026-11-20")
    assert first["opened"] == len(first["alerts"]) > 0
    assert park.store.count("alerts") == before + first["opened"]
    again = park.compute_aqi_alerts(None, "2026-11-13", "2026-11-20")
    assert (again["opened"], again["updated"], again["unchanged"]) == (0, 0, first["opened"])
    assert park.store.count("alerts") == before + first["opened"]
    rows = park.store.query_rows("SELECT * FROM alerts WHERE rule LIKE 'aqi_%' ORDER BY alert_id")
    assert {r["alert_id"] for r in rows} == {a["alert_id"] for a in first["alerts"]}
    for r in rows:
        assert r["enterprise_id"] is None and r["device_id"] and r["point_id"].startswith(r["device_id"])
        assert r["value"] >= 151 and "AQI" in r["message"]
        assert r["severity"] == ("critical" if r["rule"] == "aqi_hourly_heavy" else "warning")
    with pytest.raises(Forbidden):
        _view(world, "b").compute_aqi_alerts()
    with pytest.raises(Forbidden):
        _view(world, "park").compute_aqi_alerts(world.other_park_id, "2026-11-13", "2026-11-20")
    # closed by a person while its episode is still open: a re-run leaves it closed
    still_open = next(a for a in first["alerts"] if a["status"] == "open")
    park.close_alert(still_open["alert_id"], note="已处理")
    park.compute_aqi_alerts(None, "2026-11-13", "2026-11-20")
    row = park.store.query_rows(
        "SELECT status, closed_by FROM alerts WHERE alert_id = ?", [still_open["alert_id"]]
    )
    assert row == [{"status": "closed", "closed_by": "system"}]


# -- a station of our own: the edition switch, special rules, exceedances, noise -----------------------


def _station(park: Park, quantities: dict[str, str]) -> None:
    store = park.store
    store.write("regions", [{"region_code": "450100", "name": "南宁市", "level": "prefecture"}])
    store.write("parks", [{"park_id": "p1", "name": "某工业园区", "region_code": "450100"}])
    store.write(
        "devices", [{"device_id": "st", "park_id": "p1", "kind": "Air_Quality_Sensor", "name": "空气站"}]
    )
    store.write(
        "points",
        [
            {"point_id": f"st.{q}", "device_id": "st", "quantity": q, "unit": u, "value_kind": "instant"}
            for q, u in quantities.items()
        ],
    )


def _hourly(park: Park, values: dict[str, float], start: datetime, hours: int) -> None:
    rows = [
        {"point_id": f"st.{q}", "ts": start + timedelta(hours=h), "value": v}
        for q, v in values.items()
        for h in range(hours)
    ]
    park.store.write_readings(rows)


UNITS = {q: "mg/m3" if q == "co" else "ug/m3" for q in CONC}


def test_edition_switch_so2_rule_and_exceedances_from_the_store(park):
    _station(park, UNITS)
    start = datetime(2026, 2, 28, tzinfo=CST)
    _hourly(park, {"so2": 900, "no2": 10, "co": 0.5, "o3": 20, "pm10": 50, "pm2_5": 75}, start, 48)
    rows = park.air_quality("p1", start, start + timedelta(days=2))["rows"]
    assert len(rows) == 48
    by_hour = {(r["time"][:10], int(r["time"][11:13])): r for r in rows}
    # 2026-02-28 (HJ 633-2012): SO2 1-h 900 > 800 is not rated; its 24-h mean is, once 20 hours exist
    assert by_hour[("2026-02-28", 10)]["aqi"] is None
    late = by_hour[("2026-02-28", 23)]
    assert late["standard"] == "HJ 633-2012" and late["iaqi_so2"] == 213 and late["iaqi_pm2_5"] == 100
    # 2026-03-01 (HJ 633-2026): SO2 1-h above 800 counts as 200; PM2.5 75 rates 114
    first = by_hour[("2026-03-01", 0)]
    assert (first["standard"], first["iaqi_so2"], first["iaqi_pm2_5"], first["aqi"]) == (
        "HJ 633-2026",
        200,
        114,
        200,
    )
    assert {(e["pollutant"], e["limit"]) for e in late["exceedances"]} == {("so2", 500.0)}
    daily = park.air_quality("p1", start, start + timedelta(days=2), interval="1d")["rows"]
    assert [(r["standard"], r["iaqi_pm2_5"]) for r in daily] == [("HJ 633-2012", 100), ("HJ 633-2026", 114)]
    assert [sorted(e["pollutant"] for e in r["exceedances"]) for r in daily] == [
        ["so2"],  # SO2 24-h 900 > 150; PM2.5 75 is within the 2012 limit (75)
        ["pm2_5", "so2"],  # 2026 transition: PM2.5 limit 60
    ]
    assert park.air_quality("p1", start, start + timedelta(days=2), standard="2012")["rows"][24]["aqi"] == 213


def test_daily_needs_20_hours_and_units_are_converted(park):
    _station(park, {**UNITS, "co": "ug/m3"})  # CO stored in µg/m³: converted to mg/m³
    start = datetime(2026, 6, 1, tzinfo=CST)
    _hourly(park, {"so2": 10, "no2": 10, "co": 1500, "o3": 100, "pm10": 40, "pm2_5": 20}, start, 24 + 19)
    daily = park.air_quality("p1", start, start + timedelta(days=2), interval="1d")["rows"]
    assert daily[0]["co"] == 1.5 and daily[0]["iaqi_co"] == 38 and daily[0]["aqi"] is not None
    assert daily[1]["pm2_5"] is None and daily[1]["aqi"] is None  # 19 hours: not a valid day


def test_noise_day_and_night_against_class_3(park):
    store = park.store
    store.write("regions", [{"region_code": "450100", "name": "南宁市", "level": "prefecture"}])
    store.write("parks", [{"park_id": "p1", "name": "某工业园区", "region_code": "450100"}])
    store.write(
        "devices", [{"device_id": "nz", "park_id": "p1", "kind": "Sound_Level_Sensor", "name": "厂界噪声"}]
    )
    store.write(
        "points",
        [
            {
                "point_id": "nz.laeq",
                "device_id": "nz",
                "quantity": "noise_laeq",
                "unit": "dB",
                "value_kind": "instant",
            }
        ],
    )
    start = datetime(2026, 6, 1, tzinfo=CST)  # local midnight
    rows = []
    for h in range(24):
        local_hour = h
        level = 66.0 if 6 <= local_hour < 22 else (50.0 if local_hour != 23 else 60.0)
        rows.append({"point_id": "nz.laeq", "ts": start + timedelta(hours=h), "value": level})
    store.write_readings(rows)
    result = park.noise("p1", start, start + timedelta(days=1))
    got = {(r["day"], r["period"]): r for r in result["rows"]}
    assert got[("2026-06-01", "day")]["laeq_db"] == 66.0 and got[("2026-06-01", "day")]["exceeds"]
    assert got[("2026-06-01", "day")]["n"] == 16
    night = got[("2026-06-01", "night")]  # 22:00 and 23:00 of June 1 (50 and 60 dB)
    assert night["n"] == 2 and night["laeq_db"] == pytest.approx(57.4, abs=0.05) and night["exceeds"]
    early = got[("2026-05-31", "night")]  # 00:00–06:00 of June 1 belongs to the night of May 31
    assert early["n"] == 6 and early["laeq_db"] == 50.0 and not early["exceeds"]
    assert park.noise("p1", start, start + timedelta(days=1), zone_class="4b")["limit"]["night_db"] == 60
    with pytest.raises(InvalidInput):
        park.noise("p1", start, start + timedelta(days=1), zone_class="9")


def test_bad_windows_and_intervals(park):
    _station(park, UNITS)
    with pytest.raises(InvalidInput, match="interval"):
        park.air_quality("p1", "2026-06-01", "2026-06-02", interval="15m")
    with pytest.raises(InvalidInput, match="end"):
        park.air_quality("p1", "2026-06-02", "2026-06-01")
    with pytest.raises(InvalidInput, match="start"):
        park.air_quality("p1", "yesterday", "2026-06-01")
    with pytest.raises(InvalidInput, match="standard"):
        park.air_quality("p1", "2026-06-01", "2026-06-02", standard="1996")


# -- REST and CLI ----------------------------------------------------------------------------------------


def test_rest_air_routes(world):
    client = world.client("park")
    r = client.get(
        "/api/air/aqi",
        params={"park_id": world.park_id, "start": WINDOW[0], "end": WINDOW[1], "interval": "1d"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["rows"]) == 6 and body["rows"][0]["standard"] == "HJ 633-2026"
    assert {"aqi", "level", "level_name", "primary_pollutant", "iaqi_o3_8h", "exceedances"} <= set(
        body["rows"][0]
    )
    posted = client.post(
        "/api/aqi",
        json={
            "rows": [
                {
                    "time": "2026-03-01T00:00",
                    "pm2_5": 75,
                    "pm10": 50,
                    "so2": 5,
                    "no2": 10,
                    "co": 0.5,
                    "o3": 20,
                }
            ]
        },
    )
    assert posted.status_code == 200, posted.text
    assert posted.json()[0]["aqi"] == 114 and posted.json()[0]["primary_pollutants"] == ["pm2_5"]
    no_time = client.post("/api/aqi", json={"rows": [{"pm2_5": 75}]})
    assert no_time.status_code == 422 and "time" in no_time.json()["error"]["message"]
    standards = client.get("/api/air/standards").json()
    assert [e["code"] for e in standards["aqi"]] == ["HJ 633-2012", "HJ 633-2026"]
    assert all(e["source"] for e in standards["gb3095"]) and standards["noise"]["limits"][3]["day_db"] == 65
    assert client.get("/api/air/noise", params={"park_id": world.park_id}).status_code == 200
    assert client.get("/api/air/aqi", params={"start": "not a time"}).status_code in (400, 422)
    daily = {"so2": 10, "no2": 10, "co": 0.5, "o3_8h": 850, "o3": 500, "pm10": 10, "pm2_5": 10}
    both = client.post("/api/aqi", json={"report": "daily", "standard": "2012", "rows": [daily]}).json()
    assert (both[0]["aqi"], both[0]["primary_pollutants"]) == (225, ["o3", "o3_8h"])
    posted_2026 = client.post("/api/aqi", json={"report": "daily", "standard": "2026", "rows": [daily]})
    assert posted_2026.json()[0]["aqi"] == 300 and posted_2026.json()[0]["iaqi_o3"] is None
    empty = client.post("/api/aqi", json={"standard": "2012", "rows": [{}]})
    assert empty.status_code == 200 and empty.json()[0]["aqi"] is None
    for start in ("0001-01-01", "9999-12-31T23:00:00-12:00"):
        out_of_range = client.get("/api/air/aqi", params={"start": start})
        assert out_of_range.status_code == 422, out_of_range.text
    assert world.client("device").get("/api/air/standards").status_code == 403
    assert world.client().get("/api/air/aqi").status_code == 401


def test_cli_air_aqi_on_the_database(small_demo_file, tmp_path):
    db = str(copy_db(small_demo_file, tmp_path))
    park_id = "asean-etdz"
    args = ["air", "aqi", "--db", db, "--park", park_id, "--since", WINDOW[0], "--until", WINDOW[1]]
    result = CliRunner().invoke(cli, [*args, "--interval", "1d", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["interval"] == "1d" and len(data["rows"]) == 6
    table = CliRunner().invoke(cli, args)
    assert table.exit_code == 0 and "园区空气质量自动监测站" in table.output
    alerts = CliRunner().invoke(
        cli, ["air", "alerts", "--db", db, "--since", "2026-11-13", "--until", WINDOW[1]]
    )
    assert alerts.exit_code == 0, alerts.output
    again = CliRunner().invoke(
        cli, ["air", "alerts", "--db", db, "--since", "2026-11-13", "--until", WINDOW[1]]
    )
    assert "opened 0" in again.output
    bad = CliRunner().invoke(cli, ["air", "aqi", "--db", db, "--since", "soon"])
    assert bad.exit_code != 0 and "soon" in bad.output
    std = CliRunner().invoke(cli, ["air", "standards", "--db", db])
    assert std.exit_code == 0 and "HJ 633-2026" in std.output and "GB 3096-2008" in std.output


def test_local_times_of_rows_are_shanghai(world):
    row = world.park.air_quality(world.park_id, *WINDOW)["rows"][0]
    assert datetime.fromisoformat(row["time"]).utcoffset() == PARK_TZ.utcoffset(datetime(2026, 11, 14))
