"""Attacks on the API, over every route of the OpenAPI schema (enumerated, so new routes are covered).

For each route and method: no credentials, expired, revoked, malformed and wrong-secret tokens are
refused with 401; another enterprise's token (same park, other park), an integrator, a device and
another park's admin get 401/403/404 or an answer that holds none of the victim's identifiers, and
their writes change nothing of the victim's. Then schemathesis fuzzes every route from the schema
as the province and as an enterprise, with no server error.
"""

from __future__ import annotations

from typing import Any

import pytest

from parkbrain import Park
from tests.conftest import copy_db
from tests.world import World, make_world

LOCAL_TOKEN = "local-token-for-tests"
#: Routes anyone may call (they hold no tenant data).
PUBLIC = {("/healthz", "get"), ("/api/auth/login", "post")}
#: Routes whose answer is about the caller itself.
ABOUT_CALLER = {("/api/auth/me", "get"), ("/api/auth/logout", "post")}


@pytest.fixture(scope="module")
def world(small_demo_file, tmp_path_factory):
    path = copy_db(small_demo_file, tmp_path_factory.mktemp("attack"))
    with Park.open(path) as park:
        yield make_world(park, local_token=LOCAL_TOKEN)


def _fill(world: World, name: str) -> str:
    values = {
        "park_id": world.park_id,
        "enterprise_id": world.a,
        "point_id": world.a_machine_point,
        "device_id": world.a_device,
        "grant_id": _a_grant(world),
        "token_id": world.tokens["a"].split("_")[1],
        "dataset": "readings",
        "op": "token_list",
        "quantity": "vibration_rms",
        **_governance(world),
    }
    if name not in values:
        pytest.fail(f"test_attack: add a value for the parameter {name!r} of a new route to _fill()")
    return values[name]


def _governance(world: World) -> dict[str, str]:
    """The victim's alert, maintenance plan, work order and a notice addressed to it alone (made once,
    by the system); their ids count as the victim's secrets."""
    made = getattr(world, "governance", None)
    if made is None:
        from datetime import datetime, timezone

        park = world.park
        alert = {"alert_id": "A-attack-victim", "ts": datetime(2026, 11, 19, tzinfo=timezone.utc)}
        alert |= {"park_id": world.park_id, "enterprise_id": world.a, "device_id": world.a_device}
        park.store.write(
            "alerts", [{**alert, "rule": "vibration_high", "severity": "critical", "status": "open"}]
        )
        plan = park.add_maintenance_plan(world.a_device, "victim plan", 30, last_done="2026-01-01")
        order = park.create_work_order("victim order", device_id=world.a_device)
        notice = park.publish_notice(
            "victim notice", "to A only", park_id=world.park_id, enterprise_ids=[world.a]
        )
        made = {
            "alert_id": alert["alert_id"],
            "plan_id": plan["plan_id"],
            "work_order_id": order["work_order_id"],
            "notice_id": notice["notice_id"],
        }
        world.governance = made
        world.secrets_of_a.extend(made.values())
    return made


def _a_grant(world: World) -> str:
    rows = world.park.store.query_rows(
        "SELECT grant_id FROM grants WHERE enterprise_id = ? ORDER BY 1", [world.a]
    )
    return rows[0]["grant_id"]


def _bodies(world: World) -> dict[str, Any]:
    """What an attacker sends to each write route: attempts on the victim's data."""
    return {
        "/api/grants": {
            "grantee": f"enterprise:{world.b}",
            "kind": "points",
            "items": [world.a_machine_point],
            "purpose": "steal",
            "expires": "1d",
            "enterprise_id": world.a,
        },
        "/api/tokens": {"role": "enterprise", "enterprise_id": world.a, "expires": "1d"},
        "/api/telemetry/{device_id}": {"ts": 1_700_000_000_000, "values": {world.a_machine_point: 999.0}},
        "/api/local/sql": {"query": "SELECT * FROM enterprises"},
        "/api/local/call/{op}": {},
        "/api/alerts/{alert_id}/acknowledge": {"note": "not yours"},
        "/api/alerts/{alert_id}/close": {"note": "not yours"},
        "/api/maintenance-plans": {"device_id": world.a_device, "description": "steal", "interval_days": 1},
        "/api/maintenance-plans/{plan_id}/done": {"note": "not yours"},
        "/api/maintenance-plans/check": {},
        "/api/work-orders": {"from_alert": "A-attack-victim", "title": "steal", "device_id": world.a_device},
        "/api/work-orders/{work_order_id}": {"action": "close", "note": "not yours", "close_alert": True},
        "/api/notices": {
            "title": "spoof",
            "body": "x",
            "park_id": world.park_id,
            "enterprise_ids": [world.a],
        },
        "/api/notices/{notice_id}/read": {"enterprise_id": world.a},
        "/api/auth/login": {"username": "admin", "password": "wrong-password"},
        "/api/auth/logout": {},
        "/api/detect": {"train_rows": 10, "rows": [{"a": float(i), "b": float(i % 3)} for i in range(12)]},
        "/api/policies/ask": {"question": "强基行动包括哪些内容"},
        "/api/ask": {"question": "各企业的用电量", "now": "2026-11-20T12:00:00+08:00"},
        "/api/aqi": {
            "standard": "2026",
            "rows": [{"pm2_5": 80, "pm10": 90, "so2": 5, "no2": 20, "co": 0.5, "o3": 60}],
        },
        # a multipart upload: readings for the victim's meter, at a time it has none
        "/api/imports": {
            "__files__": {
                "file": (
                    "r.csv",
                    f"point_id,ts,value\n{world.a_machine_point},2031-01-01 00:00,999\n".encode(),
                )
            }
        },
    }


def _operations(world: World) -> list[tuple[str, str, dict[str, Any]]]:
    schema = world.app.openapi()
    ops = []
    for path, methods in schema["paths"].items():
        for method, op in methods.items():
            ops.append((path, method, op))
    # log out last, so that a console session stays alive for every other route
    return sorted(ops, key=lambda o: o[:2] == ("/api/auth/logout", "post"))


def _request(world: World, client, path: str, method: str, op: dict[str, Any]):
    url = path
    params = {}
    for param in op.get("parameters", []):
        if param["in"] == "path":
            url = url.replace("{" + param["name"] + "}", _fill(world, param["name"]))
        elif param["in"] == "query" and param["name"] in (
            "park_id",
            "enterprise_id",
            "point_id",
            "device_id",
        ):
            params[param["name"]] = _fill(world, param["name"])
    body = _bodies(world).get(path) if method in ("post", "put", "patch") else None
    if method in ("post", "put", "patch") and body is None:
        pytest.fail(
            f"test_attack: add an attack body for the new write route {method.upper()} {path} to _bodies()"
        )
    if isinstance(body, dict) and "__files__" in body:
        return client.request(method.upper(), url, params=params, files=body["__files__"])
    return client.request(method.upper(), url, params=params, json=body)


def _victim_state(world: World) -> dict[str, Any]:
    q = world.park.store.query_rows
    return {
        "grants": q(
            "SELECT grant_id, grantee, items, revoked_at FROM grants WHERE enterprise_id = ? ORDER BY 1",
            [world.a],
        ),
        "tokens": q(
            "SELECT token_id, revoked_at FROM api_tokens WHERE enterprise_id = ? ORDER BY 1", [world.a]
        ),
        "readings": q(
            "SELECT count(*) AS n, max(ts) AS last FROM readings WHERE list_contains(?::VARCHAR[], point_id)",
            [world.a_points],
        ),
        "users": q("SELECT count(*) AS n FROM users"),
        "alerts": q(
            "SELECT alert_id, status, acknowledged_by, closed_by, work_order_id FROM alerts "
            "WHERE enterprise_id = ? ORDER BY 1",
            [world.a],
        ),
        "operations": q(
            "SELECT (SELECT list(next_due_at ORDER BY plan_id) FROM maintenance_plans WHERE enterprise_id = ?) AS plans, "
            "(SELECT list(status || coalesce(assignee, '') ORDER BY work_order_id) FROM work_orders "
            " WHERE enterprise_id = ?) AS orders, "
            "(SELECT list(coalesce(read_by, '') ORDER BY notice_id) FROM notice_recipients WHERE enterprise_id = ?) AS reads, "
            "(SELECT count(*) FROM notices) AS notices",
            [world.a, world.a, world.a],
        ),
    }


def test_every_route_is_covered(world):
    ops = _operations(world)
    assert len(ops) >= 25
    # the schema lists the local routes too (the app was made with a local token)
    assert any(path.startswith("/api/local/") for path, _, _ in ops)


@pytest.mark.parametrize("who", [None, "expired", "revoked", "malformed", "wrong_secret"])
def test_no_valid_credentials_is_401_on_every_route(world, who):
    world.fresh_limits()
    client = world.client(who)
    failures = []
    for path, method, op in _operations(world):
        if (path, method) in PUBLIC:
            continue
        response = _request(world, client, path, method, op)
        if response.status_code != 401:
            failures.append(f"{method.upper()} {path}: {response.status_code} {response.text[:120]}")
        elif any(secret in response.text for secret in world.secrets_of_a):
            failures.append(f"{method.upper()} {path}: the 401 leaks the victim's data")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("who", ["b", "b_console", "c", "integrator", "device", "other_park"])
def test_others_get_nothing_of_the_victim_by_any_route(world, who):
    """Same-park enterprise B (by token, and logged in on the console with its CSRF token, so its
    writes get through the CSRF check), other-park enterprise C, an integrator without grants, A's own
    meter's device token (telemetry only) and another park's admin: no route gives A's data."""
    world.fresh_limits()
    client = world.session_client(world.b) if who == "b_console" else world.client(who)
    _governance(world)
    before = _victim_state(world)
    failures = []
    answered = 0
    for path, method, op in _operations(world):
        if (path, method) in PUBLIC:
            continue
        response = _request(world, client, path, method, op)
        answered += response.status_code < 400
        if who == "device" and (
            (path, method) == ("/api/telemetry/{device_id}", "post") or (path, method) in ABOUT_CALLER
        ):
            continue  # A's meter pushing its own readings and naming itself is its job (checked below)
        if response.status_code >= 500:
            failures.append(f"{method.upper()} {path}: server error {response.status_code}")
        elif response.status_code < 400:
            leaked = [s for s in world.secrets_of_a if s in response.text]
            if leaked:
                failures.append(f"{method.upper()} {path}: {response.status_code} leaks {leaked[:3]}")
            if who == "device" and (path, method) not in ABOUT_CALLER:
                failures.append(f"{method.upper()} {path}: a device token read {response.status_code}")
    assert not failures, "\n".join(failures)
    # the caller stayed authenticated throughout: its own and public reads were answered
    assert answered >= (2 if who == "device" else 8), answered
    after = _victim_state(world)
    if who != "device":
        assert after == before
    else:
        assert after["grants"] == before["grants"] and after["tokens"] == before["tokens"]


def test_enterprise_lists_hold_only_its_own_rows(world):
    client = world.client("b")
    rows = client.get("/api/enterprises", params={"limit": 1000}).json()
    assert [r["enterprise_id"] for r in rows] == [world.b]
    points = client.get("/api/points", params={"limit": 1000}).json()
    assert {p["point_id"] for p in points} == set(world.b_points)
    devices = client.get("/api/devices", params={"limit": 1000}).json()
    assert {d["enterprise_id"] for d in devices} == {world.b}
    for path in ("/api/alerts", "/api/buildings", "/api/grants"):
        assert not any(s in client.get(path).text for s in world.secrets_of_a), path
    exported = client.get("/api/export/enterprises").text
    assert exported.splitlines()[0].startswith("enterprise_id")
    assert len(exported.strip().splitlines()) == 2 and world.b in exported


def test_victim_sees_its_own_data(world):
    client = world.client("a")
    assert client.get(f"/api/points/{world.a_machine_point}/readings").status_code == 200
    assert client.get(f"/api/enterprises/{world.a}").json()["enterprise_id"] == world.a
    points = client.get("/api/points", params={"limit": 1000}).json()
    assert {p["point_id"] for p in points} == set(world.a_points)


def test_park_admin_sees_its_park_and_only_granted_enterprise_data(world):
    client = world.client("park")
    enterprises = client.get("/api/enterprises", params={"limit": 1000}).json()
    assert {e["park_id"] for e in enterprises} == {world.park_id}
    assert world.a in {e["enterprise_id"] for e in enterprises}
    # A (a key energy user) granted its energy metrics to the park, not its machines
    assert client.get(f"/api/points/{world.a_energy_point}/readings").status_code == 200
    assert client.get(f"/api/points/{world.a_machine_point}/readings").status_code == 404
    detail = client.get(f"/api/parks/{world.park_id}").json()
    assert detail["devices"] > 0
    other = world.client("other_park").get(f"/api/parks/{world.park_id}").json()
    assert other["devices"] is None and other["open_alerts"] is None


def test_device_token_pushes_only_for_its_device(world):
    client = world.client("device")
    before = world.park.store.count("readings")
    ok = client.post(
        f"/api/telemetry/{world.a_device}",
        json=[{"ts": "2026-11-20T00:00:30+08:00", "values": {world.a_machine_point: 1.5}}],
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["stored"] == 1
    assert world.park.store.count("readings") == before + 1
    other_device = world.park.store.query_rows(
        "SELECT device_id FROM devices WHERE enterprise_id = ? LIMIT 1", [world.b]
    )[0]["device_id"]
    refused = client.post(
        f"/api/telemetry/{other_device}", json={"ts": 1_763_568_030_000, "values": {"x": 1}}
    )
    assert refused.status_code == 404
    assert client.get("/api/points").status_code == 403


def test_injection_in_parameters_is_inert(world):
    client = world.client("b")
    for value in ("x' OR '1'='1", "' UNION SELECT * FROM users --", world.a + "' OR 1=1 --"):
        for path in ("/api/enterprises", "/api/points", "/api/devices"):
            response = client.get(path, params={"park_id": value, "enterprise_id": value})
            assert response.status_code in (200, 404), response.text
            assert response.status_code == 404 or response.json() == []
        assert client.get(f"/api/points/{value}/readings").status_code == 404
    assert world.park.store.count("users") >= 1  # nothing dropped


# -- schemathesis -------------------------------------------------------------------------------

import schemathesis  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402


@pytest.fixture(scope="module")
def fuzz_world(small_demo_file, tmp_path_factory):
    path = copy_db(small_demo_file, tmp_path_factory.mktemp("fuzz"))
    with Park.open(path) as park:
        world = make_world(park)
        # fuzzing sends hundreds of requests a minute: lift the rate limit for these two tokens
        world.tokens["province"] = park.create_token("province_admin", rate_per_min=10**6).secret
        world.tokens["b"] = park.create_token("enterprise", enterprise_id=world.b, rate_per_min=10**6).secret
        yield world


def test_fuzz_every_route_as_province_and_enterprise_no_server_error(fuzz_world):
    """schemathesis generates requests (valid and invalid) for every operation of the schema."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_world.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25
    calls = {"n": 0, "by_status": {}}

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        def fuzz(case):
            for who in ("province", "b"):
                headers = {"Authorization": f"Bearer {fuzz_world.tokens[who]}"}
                response = case.call(headers=headers)
                case.validate_response(response, checks=[not_a_server_error], headers=headers)
                calls["n"] += 1
                calls["by_status"][response.status_code] = calls["by_status"].get(response.status_code, 0) + 1
                if who == "b" and response.status_code < 400:
                    assert not any(s in response.text for s in fuzz_world.secrets_of_a), case.path

        fuzz()
    print("fuzz calls", calls)
    assert calls["n"] > 400
    assert any(200 <= status < 300 for status in calls["by_status"])
