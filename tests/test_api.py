"""The REST API over a small hand-built park."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient

from parkbrain import Park, __version__
from parkbrain.api import create_app
from parkbrain.model.uscc import make_uscc
from parkbrain.store.duckdb import migrations

UTC = timezone.utc
#: 2026-03-02 00:00 Asia/Shanghai: the first reading.
T0 = datetime(2026, 3, 1, 16, 0, tzinfo=UTC)
Q = timedelta(minutes=15)
N = 2 * 96  # two days of 15-min readings
TOKEN = "local-secret-token"
SCHEMA_VERSION = migrations()[-1][0]

PROVINCE = {
    "type": "Polygon",
    "coordinates": [[[104.4, 20.9], [112.1, 20.9], [112.1, 26.4], [104.4, 26.4], [104.4, 20.9]]],
}
NANNING = {
    "type": "Polygon",
    "coordinates": [[[107.3, 22.2], [109.0, 22.2], [109.0, 23.6], [107.3, 23.6], [107.3, 22.2]]],
}
NN_ETDZ = {
    "type": "Polygon",
    "coordinates": [[[108.2, 22.7], [108.3, 22.7], [108.3, 22.8], [108.2, 22.8], [108.2, 22.7]]],
}

# energy used in each 15-min interval (quarters of a kWh, so every sum is exact) and the register
INCREMENTS = [1 + (i % 8) * 0.25 for i in range(N - 1)]
REGISTER = [500.0]
for _inc in INCREMENTS:
    REGISTER.append(REGISTER[-1] + _inc)
PM = [20 + (i % 12) * 0.5 for i in range(N)]


def _build(p: Park) -> None:
    w = p.store.write
    w(
        "regions",
        [
            {
                "region_code": "450000",
                "name": "广西壮族自治区",
                "name_en": "Guangxi",
                "level": "province",
                "geometry": json.dumps(PROVINCE),
                "area_km2": 237_600.0,
            },
            {
                "region_code": "450100",
                "name": "南宁市",
                "name_en": "Nanning",
                "level": "prefecture",
                "parent_code": "450000",
                "geometry": json.dumps(NANNING),
                "area_km2": 22_100.0,
            },
        ],
    )
    w(
        "parks",
        [
            {
                "park_id": "nn-etdz",
                "name": "南宁经济技术开发区",
                "region_code": "450100",
                "level": "national",
                "kind": "经济技术开发区",
                "approved_area_ha": 1080.0,
                "approval_year": 2001,
                "short_names": json.dumps(["南宁经开区"], ensure_ascii=False),
                "leading_industries": json.dumps(["食品", "机械"], ensure_ascii=False),
                "lon": 108.25,
                "lat": 22.75,
                "boundary": json.dumps(NN_ETDZ),
                "data_source": "test",
            },
            {
                "park_id": "gx-bay",
                "name": "广西北部湾经济区",
                "region_code": "450000",
                "level": "provincial",
                "kind": "工业园区",
                "lon": 108.6,
                "lat": 21.7,
                "data_source": "test",
            },
        ],
    )
    w(
        "enterprises",
        [
            {
                "enterprise_id": "e1",
                "park_id": "nn-etdz",
                "name": "甲食品有限公司",
                "uscc": make_uscc("450100", "MA5K0001"),
                "employees": 120,
            },
            {
                "enterprise_id": "e2",
                "park_id": "nn-etdz",
                "name": "乙机械有限公司",
                "uscc": make_uscc("450100", "MA5K0002"),
                "employees": 45,
            },
            {
                "enterprise_id": "e3",
                "park_id": "gx-bay",
                "name": "丙物流有限公司",
                "uscc": make_uscc("450000", "MA5K0003"),
            },
        ],
    )
    w(
        "devices",
        [
            {
                "device_id": "m1",
                "park_id": "nn-etdz",
                "enterprise_id": "e1",
                "kind": "Building_Electrical_Meter",
            }
        ],
    )
    w(
        "points",
        [
            {
                "point_id": "m1.kwh",
                "device_id": "m1",
                "quantity": "electric_energy",
                "unit": "kWh",
                "value_kind": "cumulative",
                "interval_s": 900,
            },
            {
                "point_id": "m1.pm25",
                "device_id": "m1",
                "quantity": "pm2_5",
                "unit": "ug/m3",
                "value_kind": "instant",
                "interval_s": 900,
            },
        ],
    )
    w(
        "alerts",
        [
            {
                "alert_id": "a1",
                "ts": T0,
                "park_id": "nn-etdz",
                "rule": "overload",
                "severity": "warning",
                "status": "open",
            },
            {
                "alert_id": "a2",
                "ts": T0,
                "park_id": "nn-etdz",
                "rule": "overload",
                "severity": "info",
                "status": "closed",
            },
        ],
    )
    result = p.write_readings(
        [{"point_id": "m1.kwh", "ts": T0 + i * Q, "value": v} for i, v in enumerate(REGISTER)]
        + [{"point_id": "m1.pm25", "ts": T0 + i * Q, "value": v} for i, v in enumerate(PM)]
    )
    assert result.inserted == 2 * N


@pytest.fixture(scope="module")
def park():
    with Park(memory=True) as p:
        _build(p)
        yield p


@pytest.fixture(scope="module")
def admin_token(park):
    return park.create_token("province_admin", expires="1d", name="tests").secret


@pytest.fixture(scope="module")
def client(park, admin_token):
    return TestClient(create_app(park), headers={"Authorization": f"Bearer {admin_token}"})


@pytest.fixture(scope="module")
def local_client(park):
    return TestClient(create_app(park, local_token=TOKEN))


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _error(response, status: int, kind: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"]["type"] == kind
    return body["error"]["message"]


# -- system and map -------------------------------------------------------------------------------


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": __version__, "schema_version": SCHEMA_VERSION}


def test_regions(client):
    response = client.get("/api/regions")
    assert response.status_code == 200
    regions = response.json()
    assert [r["region_code"] for r in regions] == ["450000", "450100"]
    assert regions[1] == {
        "region_code": "450100",
        "name": "南宁市",
        "name_en": "Nanning",
        "level": "prefecture",
        "parent_code": "450000",
        "area_km2": 22_100.0,
    }
    assert all("geometry" not in r for r in regions)


def test_regions_with_geometry(client):
    regions = client.get("/api/regions", params={"geometry": "true"}).json()
    assert {r["region_code"]: r["geometry"] for r in regions} == {"450000": PROVINCE, "450100": NANNING}


@pytest.mark.parametrize(
    ("level", "codes"), [("province", ["450000"]), ("prefecture", ["450100"]), ("county", [])]
)
def test_regions_level_filter(client, level, codes):
    response = client.get("/api/regions", params={"level": level})
    assert response.status_code == 200
    assert [r["region_code"] for r in response.json()] == codes


def test_regions_bad_level(client):
    response = client.get("/api/regions", params={"level": "country"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "level"]


def test_parks(client):
    parks = client.get("/api/parks").json()
    assert [(p["park_id"], p["enterprises"]) for p in parks] == [("gx-bay", 1), ("nn-etdz", 2)]
    nn = parks[1]
    assert nn["short_names"] == ["南宁经开区"]
    assert nn["leading_industries"] == ["食品", "机械"]
    assert nn["approval_year"] == 2001
    assert "boundary" not in nn
    with_boundary = client.get("/api/parks", params={"boundary": "true"}).json()
    assert with_boundary[1]["boundary"] == NN_ETDZ
    assert with_boundary[0]["boundary"] is None


@pytest.mark.parametrize(("code", "ids"), [("450100", ["nn-etdz"]), ("450000", ["gx-bay"]), ("450300", [])])
def test_parks_region_filter(client, code, ids):
    response = client.get("/api/parks", params={"region_code": code})
    assert response.status_code == 200
    assert [p["park_id"] for p in response.json()] == ids


def test_parks_bad_region_code(client):
    assert client.get("/api/parks", params={"region_code": "nanning"}).status_code == 422


def test_park_detail(client):
    response = client.get("/api/parks/nn-etdz")
    assert response.status_code == 200
    park = response.json()
    assert park["name"] == "南宁经济技术开发区"
    assert park["region_name"] == "南宁市"
    assert (park["enterprises"], park["buildings"], park["devices"], park["open_alerts"]) == (2, 0, 1, 1)
    assert park["boundary"] == NN_ETDZ
    assert park["approved_area_ha"] == 1080.0


def test_unknown_park_is_404(client):
    message = _error(client.get("/api/parks/atlantis"), 404, "NotFound")
    assert "atlantis" in message


# -- enterprises ----------------------------------------------------------------------------------


def test_enterprises_of_a_park(client):
    response = client.get("/api/enterprises", params={"park_id": "nn-etdz"})
    assert response.status_code == 200
    assert response.headers["X-Total-Count"] == "2"
    rows = response.json()
    assert [(r["enterprise_id"], r["name"], r["employees"]) for r in rows] == [
        ("e1", "甲食品有限公司", 120),
        ("e2", "乙机械有限公司", 45),
    ]
    assert rows[0]["uscc"] == make_uscc("450100", "MA5K0001")


def test_enterprises_paging(client):
    everything = client.get("/api/enterprises")
    assert everything.headers["X-Total-Count"] == "3"
    assert [r["enterprise_id"] for r in everything.json()] == ["e3", "e1", "e2"]  # by park, then id
    page = client.get("/api/enterprises", params={"park_id": "nn-etdz", "limit": 1, "offset": 1})
    assert page.headers["X-Total-Count"] == "2"
    assert [r["enterprise_id"] for r in page.json()] == ["e2"]
    past = client.get("/api/enterprises", params={"limit": 10, "offset": 5})
    assert past.json() == [] and past.headers["X-Total-Count"] == "3"
    assert client.get("/api/enterprises", params={"limit": 0}).status_code == 422
    assert client.get("/api/enterprises", params={"offset": -1}).status_code == 422


def test_enterprises_of_an_unknown_park_is_404(client):
    message = _error(client.get("/api/enterprises", params={"park_id": "atlantis"}), 404, "NotFound")
    assert "atlantis" in message


# -- readings -------------------------------------------------------------------------------------


def _readings(client, point: str = "m1.kwh", **params):
    response = client.get(f"/api/points/{point}/readings", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_readings_15m(client):
    # naive times are Asia/Shanghai: 00:00–01:00 on 2 March is 16:00–17:00 UTC on 1 March
    page = _readings(client, start="2026-03-02T00:00", end="2026-03-02T01:00", interval="15m")
    assert (page["point_id"], page["unit"], page["quantity"], page["value_kind"], page["interval"]) == (
        "m1.kwh",
        "kWh",
        "electric_energy",
        "cumulative",
        "15m",
    )
    assert _ts(page["start"]) == T0 and _ts(page["end"]) == T0 + timedelta(hours=1)
    rows = page["readings"]
    assert [_ts(r["ts"]) for r in rows] == [T0 + i * Q for i in range(4)]
    assert [r["value"] for r in rows] == REGISTER[:4]
    assert [r["delta"] for r in rows] == INCREMENTS[:4]
    assert [r["n"] for r in rows] == [1, 1, 1, 1]


def test_readings_1h_deltas_are_consumption(client):
    page = _readings(client, start="2026-03-02", end="2026-03-03", interval="1h")
    rows = page["readings"]
    assert len(rows) == 24
    assert _ts(rows[0]["ts"]) == T0 and _ts(rows[-1]["ts"]) == T0 + timedelta(hours=23)
    assert [r["delta"] for r in rows] == [sum(INCREMENTS[h * 4 : h * 4 + 4]) for h in range(24)]
    assert (
        rows[5]["min"] == REGISTER[20] and rows[5]["max"] == REGISTER[23] and rows[5]["last"] == REGISTER[23]
    )


def test_readings_1d_deltas_are_daily_consumption(client):
    rows = _readings(client, start="2026-03-02", end="2026-03-04", interval="1d")["readings"]
    assert [_ts(r["ts"]) for r in rows] == [T0, T0 + timedelta(days=1)]
    # day 1: from the midnight reading to the next midnight; day 2 ends with the last reading
    assert [r["delta"] for r in rows] == [REGISTER[96] - REGISTER[0], REGISTER[N - 1] - REGISTER[96]]
    assert [r["delta"] for r in rows] == [sum(INCREMENTS[:96]), sum(INCREMENTS[96:])]
    assert [r["n"] for r in rows] == [96, 96]


def test_readings_of_an_instant_point(client):
    rows = _readings(
        client, "m1.pm25", start="2026-03-02T00:00+08:00", end="2026-03-02T03:00+08:00", interval="1h"
    )["readings"]
    for h, row in enumerate(rows):
        values = PM[h * 4 : h * 4 + 4]
        assert row["value"] == sum(values) / 4
        assert (row["min"], row["max"], row["delta"]) == (min(values), max(values), None)
    assert len(rows) == 3


def test_readings_times_with_offsets_and_z(client):
    z = _readings(client, start="2026-03-01T16:00:00Z", end="2026-03-01T17:00:00Z", interval="15m")
    naive = _readings(client, start="2026-03-02T00:00:00", end="2026-03-02T01:00:00", interval="15m")
    assert z["readings"] == naive["readings"]
    assert len(z["readings"]) == 4


def test_readings_auto_interval(client):
    default = _readings(client)  # end: just after the latest reading, start: 7 days before
    assert default["interval"] == "1h"
    assert _ts(default["end"]) == T0 + (N - 1) * Q + timedelta(seconds=1)
    assert _ts(default["end"]) - _ts(default["start"]) == timedelta(days=7)
    assert len(default["readings"]) == 48
    assert _readings(client, start="2026-03-02", end="2026-03-04", interval="auto")["interval"] == "15m"
    assert len(_readings(client, start="2026-03-02", end="2026-03-04")["readings"]) == N
    assert _readings(client, start="2026-03-01", end="2026-03-05")["interval"] == "1h"
    assert _readings(client, start="2026-02-01", end="2026-04-01")["interval"] == "1d"


@pytest.mark.parametrize("param", ["start", "end"])
@pytest.mark.parametrize("text", ["yesterday", "0001-01-01"])  # the year 1 once overflowed into a 500
def test_readings_bad_time_is_422_naming_the_field(client, param, text):
    response = client.get("/api/points/m1.kwh/readings", params={param: text})
    message = _error(response, 422, "InvalidInput")
    assert message.startswith(f"{param}: {text!r}")


def test_readings_start_after_end_is_422(client):
    response = client.get("/api/points/m1.kwh/readings", params={"start": "2026-03-03", "end": "2026-03-02"})
    assert "must be before" in _error(response, 422, "InvalidInput")


def test_readings_of_an_unknown_point_is_404(client):
    message = _error(client.get("/api/points/nope/readings"), 404, "NotFound")
    assert "nope" in message


@pytest.mark.parametrize("interval", ["5m", "1w", ""])
def test_readings_bad_interval_is_422(client, interval):
    response = client.get("/api/points/m1.kwh/readings", params={"interval": interval})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "interval"]


# -- OpenAPI and local routes ---------------------------------------------------------------------

PUBLIC_ROUTES = {
    "/healthz": "get",
    "/api/regions": "get",
    "/api/parks": "get",
    "/api/parks/{park_id}": "get",
    "/api/enterprises": "get",
    "/api/points/{point_id}/readings": "get",
    "/api/enterprises/{enterprise_id}": "get",
    "/api/buildings": "get",
    "/api/devices": "get",
    "/api/points": "get",
    "/api/points/{point_id}": "get",
    "/api/alerts": "get",
    "/api/telemetry/{device_id}": "post",
    "/api/export/{dataset}": "get",
    "/api/grants": "get",
    "/api/grants/{grant_id}": "delete",
    "/api/tokens": "get",
    "/api/tokens/{token_id}": "delete",
    "/api/audit": "get",
    "/api/audit/verify": "get",
    "/api/imports": "post",
    "/api/quality": "get",
    "/api/auth/login": "post",
    "/api/auth/logout": "post",
    "/api/auth/me": "get",
    # governance (routes_operations)
    "/api/alerts/{alert_id}/acknowledge": "post",
    "/api/alerts/{alert_id}/close": "post",
    "/api/alerts/{alert_id}/events": "get",
    "/api/maintenance-plans": "post",
    "/api/maintenance-plans/{plan_id}/done": "post",
    "/api/maintenance-plans/check": "post",
    "/api/work-orders": "post",
    "/api/work-orders/{work_order_id}": "patch",
    "/api/notices": "post",
    "/api/notices/{notice_id}/read": "post",
    "/api/notices/{notice_id}/receipts": "get",
    # air quality and noise (routes_air)
    "/api/air/aqi": "get",
    "/api/air/noise": "get",
    "/api/air/standards": "get",
    "/api/aqi": "post",
    # energy and carbon (routes_energy)
    "/api/energy/summary": "get",
    "/api/energy/report": "get",
    "/api/energy/factors": "get",
    "/api/carbon/parks": "get",
    "/api/reports": "get",
    "/api/reports/download": "get",
    # equipment health and forecasting (routes_health)
    "/api/detect": "post",
    "/api/devices/{device_id}/health": "get",
    "/api/points/{point_id}/forecast": "get",
    "/api/forecast/energy": "get",
    # the web console's JSON (routes_console)
    "/api/console/province": "get",
    "/api/console/parks/{park_id}": "get",
    "/api/console/enterprises/{enterprise_id}": "get",
    "/api/console/config": "get",
    "/api/console/quality": "get",
    # policy Q&A and matching (routes_policy)
    "/api/policies": "get",
    "/api/policies/search": "get",
    "/api/policies/ask": "post",
    "/api/enterprises/{enterprise_id}/policy-matches": "get",
    # the park assistant (routes_assistant)
    "/api/ask": "post",
}
LOCAL_ROUTES = {"/api/local/sql": "post", "/api/local/info": "get", "/api/local/call/{op}": "post"}


def test_openapi_lists_every_route(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert set(paths) == set(PUBLIC_ROUTES)
    for path, method in PUBLIC_ROUTES.items():
        assert method in paths[path], path


def test_local_routes_exist_only_with_a_token(client, local_client):
    assert client.get("/api/local/info", headers={"X-ParkBrain-Local-Token": TOKEN}).status_code == 404
    assert client.post("/api/local/sql", json={"query": "SELECT 1"}).status_code == 404
    # a user's token does not open the local routes either
    assert client.get("/api/local/info").status_code == 404
    paths = local_client.get("/openapi.json").json()["paths"]
    assert set(paths) == set(PUBLIC_ROUTES) | set(LOCAL_ROUTES)
    for path, method in LOCAL_ROUTES.items():
        assert method in paths[path], path


@pytest.mark.parametrize(
    ("headers", "status", "kind"),
    [
        ({}, 401, "Unauthorized"),
        ({"X-ParkBrain-Local-Token": ""}, 401, "Unauthorized"),
        ({"X-ParkBrain-Local-Token": "wrong"}, 403, "Forbidden"),
    ],
)
def test_local_routes_need_the_token(local_client, headers, status, kind):
    _error(local_client.get("/api/local/info", headers=headers), status, kind)
    _error(local_client.post("/api/local/sql", json={"query": "SELECT 1"}, headers=headers), status, kind)


def test_local_routes_refuse_user_tokens(local_client, admin_token):
    headers = {"Authorization": f"Bearer {admin_token}"}
    _error(local_client.get("/api/local/info", headers=headers), 403, "Forbidden")


def test_local_info(local_client):
    response = local_client.get("/api/local/info", headers={"X-ParkBrain-Local-Token": TOKEN})
    assert response.status_code == 200
    info = response.json()
    assert info["schema_version"] == SCHEMA_VERSION
    assert info["path"] == ":memory:"
    assert info["tables"]["enterprises"] == 3
    assert info["tables"]["readings"] == 2 * N
    assert _ts(info["readings_first_ts"]) == T0


def test_local_sql(local_client):
    headers = {"X-ParkBrain-Local-Token": TOKEN}
    response = local_client.post(
        "/api/local/sql",
        json={"query": "SELECT park_id, count(*) AS n FROM enterprises GROUP BY 1 ORDER BY 1"},
        headers=headers,
    )
    assert response.status_code == 200
    assert response.json() == {
        "columns": ["park_id", "n"],
        "rows": [{"park_id": "gx-bay", "n": 1}, {"park_id": "nn-etdz", "n": 2}],
    }
    limited = local_client.post(
        "/api/local/sql", json={"query": "SELECT * FROM range(50)", "limit": 5}, headers=headers
    )
    assert len(limited.json()["rows"]) == 5


def test_local_sql_refuses_drop(local_client, park):
    response = local_client.post(
        "/api/local/sql", json={"query": "DROP TABLE enterprises"}, headers={"X-ParkBrain-Local-Token": TOKEN}
    )
    assert "read-only" in _error(response, 400, "QueryError")
    assert park.store.count("enterprises") == 3
