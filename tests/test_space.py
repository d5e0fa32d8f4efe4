"""The trusted data space: accounts, sharing grants, the audit chain, hardening and the CLI."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest

from parkbrain import Park
from parkbrain.api.security import redact
from parkbrain.errors import Forbidden, InvalidInput, Unauthorized
from parkbrain.space import entry_hash, parse_expiry
from tests.conftest import copy_db
from tests.world import make_world


@pytest.fixture
def world(small_demo_file, tmp_path):
    """A fresh copy per test: these tests grant, revoke and tamper."""
    with Park.open(copy_db(small_demo_file, tmp_path)) as park:
        yield make_world(park)


def _actions(park: Park, action: str) -> list[dict]:
    return park.audit.entries(("TRUE", []), action, limit=10_000)


# -- accounts --------------------------------------------------------------------------------------


def test_passwords_are_argon2id_and_tokens_are_stored_hashed(world):
    park = world.park
    user, password = park.create_user("zhang.san", "park_admin", park_id=world.park_id)
    assert password and len(password) >= 16
    stored = park.store.query_rows("SELECT password_hash FROM users WHERE username = 'zhang.san'")[0]
    assert stored["password_hash"].startswith("$argon2id$")
    assert password not in stored["password_hash"]
    token = park.create_token("enterprise", enterprise_id=world.a, expires="2h")
    row = park.store.query_rows("SELECT * FROM api_tokens WHERE token_id = ?", [token.token_id])[0]
    assert token.secret not in json.dumps(row, default=str)
    assert re.fullmatch(r"[0-9a-f]{64}", row["secret_sha256"])
    assert (
        timedelta(hours=1, minutes=59) < row["expires_at"] - datetime.now(timezone.utc) <= timedelta(hours=2)
    )
    assert park.accounts.check_password("zhang.san", password).role == "park_admin"
    assert park.accounts.check_password("zhang.san", "wrong-" + password) is None
    assert park.accounts.check_password("nobody", password) is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"role": "enterprise"}, "needs --enterprise"),
        ({"role": "park_admin"}, "needs --park"),
        ({"role": "integrator"}, "needs --org"),
        ({"role": "device"}, "needs --park or --device"),
        ({"role": "root"}, "role must be one of"),
        ({"role": "enterprise", "enterprise_id": "no-such"}, "no enterprise"),
        ({"role": "park_admin", "park_id": "no-such"}, "no park"),
        ({"role": "province_admin", "park_id": "x"}, "not bound"),
    ],
)
def test_bad_bindings_are_refused_with_the_reason(world, kwargs, message):
    with pytest.raises((InvalidInput, Exception)) as info:
        world.park.create_token(**kwargs)
    assert message in str(info.value)


@pytest.mark.parametrize("text", ["30d", "12h", "90m", "2w", "1y", "2030-01-01"])
def test_expiry_forms(text):
    assert parse_expiry(text) > datetime.now(timezone.utc)


@pytest.mark.parametrize("text", ["0d", "-1d", "soon", "2001-01-01", "9y"])
def test_bad_expiry_is_refused(text):
    with pytest.raises(InvalidInput, match="expires"):
        parse_expiry(text)


def test_park_admin_manages_only_its_own_park(world):
    admin = world.park.as_principal(world.park.accounts.authenticate_token(world.tokens["park"])[0])
    made = admin.create_token("enterprise", enterprise_id=world.b, expires="1d")
    assert made.park_id == world.park_id
    with pytest.raises(Forbidden):
        admin.create_token("enterprise", enterprise_id=world.c, expires="1d")
    with pytest.raises(Forbidden):
        admin.create_token("province_admin", expires="1d")
    assert {t["park_id"] for t in admin.tokens()} == {world.park_id}


def test_revoked_and_disabled_credentials_stop_working(world):
    park = world.park
    client = world.client("b")
    assert client.get("/api/auth/me").status_code == 200
    park.revoke_token(world.tokens["b"])  # the whole token may be pasted
    assert client.get("/api/auth/me").status_code == 401
    park.create_user("li.si", "enterprise", password="correct horse battery", enterprise_id=world.b)
    login = world.client().post(
        "/api/auth/login", json={"username": "li.si", "password": "correct horse battery"}
    )
    assert login.status_code == 200
    session = world.client()
    session.cookies.set("pb_session", login.cookies["pb_session"])
    assert session.get("/api/auth/me").json()["name"] == "li.si"
    park.disable_user("li.si")
    assert session.get("/api/auth/me").status_code == 401


# -- grants ----------------------------------------------------------------------------------------


def test_a_grant_opens_exactly_what_it_names_and_every_read_is_audited(world):
    park = world.park
    b = world.client("b")
    assert b.get(f"/api/points/{world.a_machine_point}/readings").status_code == 404
    a_view = park.as_principal(park.accounts.authenticate_token(world.tokens["a"])[0])
    grant = a_view.create_grant(
        f"enterprise:{world.b}", "points", [world.a_machine_point], "设备健康联合分析", "30d"
    )
    assert grant["status"] == "active"
    readings = b.get(f"/api/points/{world.a_machine_point}/readings")
    assert readings.status_code == 200 and readings.json()["readings"]
    visible = {p["point_id"] for p in b.get("/api/points", params={"limit": 1000}).json()}
    assert visible == set(world.b_points) | {world.a_machine_point}
    for other in set(world.a_points) - {world.a_machine_point}:
        assert b.get(f"/api/points/{other}/readings").status_code == 404
    # B sees the device of the granted point, not A's other devices, nor A's business record
    assert b.get(f"/api/enterprises/{world.a}").status_code == 404
    devices = b.get("/api/devices", params={"enterprise_id": world.a}).json()
    assert [d["device_id"] for d in devices] == [world.a_device]
    reads = [e for e in _actions(park, "grant.read") if e["target"] == grant["grant_id"]]
    assert len(reads) >= 2  # the readings and the points list
    assert all(e["actor"].startswith("token:") and e["enterprise_id"] == world.a for e in reads)
    assert any(world.a_machine_point in e["detail"]["point_ids"] for e in reads)
    # B cannot revoke it; C cannot even see it; A revokes and B loses access at once
    assert b.delete(f"/api/grants/{grant['grant_id']}").status_code == 403
    assert world.client("c").delete(f"/api/grants/{grant['grant_id']}").status_code == 404
    assert world.client("a").delete(f"/api/grants/{grant['grant_id']}").json()["status"] == "revoked"
    assert b.get(f"/api/points/{world.a_machine_point}/readings").status_code == 404
    assert [e["target"] for e in _actions(park, "grant.revoke")] == [grant["grant_id"]]


def test_a_metrics_grant_covers_points_added_later_and_expires(world):
    park = world.park
    a_view = park.as_principal(park.accounts.authenticate_token(world.tokens["a"])[0])
    quantity = park.point(world.a_machine_point)["quantity"]
    expires = datetime.now(timezone.utc) + timedelta(seconds=2)
    a_view.create_grant("integrator:某某科技", "metrics", [quantity], "预测性维护服务", expires)
    integrator = world.client("integrator")
    seen = {p["point_id"] for p in integrator.get("/api/points", params={"limit": 1000}).json()}
    expected = {
        r["point_id"]
        for r in park.store.query_rows(
            "SELECT p.point_id FROM points p JOIN devices d USING (device_id) WHERE d.enterprise_id = ? AND p.quantity = ?",
            [world.a, quantity],
        )
    }
    assert seen == expected
    park.store.write(
        "points",
        [
            {
                "point_id": "new.point",
                "device_id": world.a_device,
                "quantity": quantity,
                "unit": "mm/s",
                "value_kind": "instant",
            }
        ],
    )
    assert integrator.get("/api/points/new.point").status_code == 200
    assert integrator.get("/api/enterprises").json() == []  # the points, not A's business record
    time.sleep(2.2)
    assert integrator.get("/api/points/new.point").status_code == 404
    assert integrator.get("/api/points").json() == []


def test_only_the_owner_grants_and_only_its_own_data(world):
    park = world.park
    b_view = park.as_principal(park.accounts.authenticate_token(world.tokens["b"])[0])
    with pytest.raises(Forbidden):
        b_view.create_grant(
            f"enterprise:{world.b}", "points", [world.a_machine_point], "x", "1d", enterprise_id=world.a
        )
    with pytest.raises(InvalidInput, match="not point ids of enterprise"):
        b_view.create_grant(f"enterprise:{world.c}", "points", [world.a_machine_point], "x", "1d")
    with pytest.raises(InvalidInput, match="own park"):
        b_view.create_grant(f"park:{world.other_park_id}", "metrics", ["electric_energy"], "x", "1d")
    park_view = park.as_principal(park.accounts.authenticate_token(world.tokens["park"])[0])
    with pytest.raises(Forbidden):
        park_view.create_grant(
            f"park:{world.park_id}", "metrics", ["vibration_rms"], "x", "1d", enterprise_id=world.a
        )
    response = world.client("b").post(
        "/api/grants",
        json={"grantee": "bogus", "kind": "points", "items": ["x"], "purpose": "x", "expires": "1d"},
    )
    assert response.status_code == 422 and "grantee" in response.json()["error"]["message"]


# -- audit -----------------------------------------------------------------------------------------


def test_the_audit_log_records_logins_token_use_exports_and_grant_changes(world):
    park = world.park
    park.create_user("wang.wu", "enterprise", password="a long enough password", enterprise_id=world.b)
    anon = world.client()
    assert (
        anon.post("/api/auth/login", json={"username": "wang.wu", "password": "nope-nope-nope"}).status_code
        == 401
    )
    assert (
        anon.post(
            "/api/auth/login", json={"username": "wang.wu", "password": "a long enough password"}
        ).status_code
        == 200
    )
    client = world.client("b")
    client.get("/api/enterprises")
    client.get("/api/export/points")
    kinds = {e["action"] for e in park.audit.entries(("TRUE", []), limit=10_000)}
    assert {
        "login.failure",
        "login.success",
        "token.use",
        "export",
        "token.create",
        "token.revoke",
        "user.create",
        "grant.create",
    } <= kinds
    export = _actions(park, "export")[0]
    assert export["target"] == "points" and export["enterprise_id"] == world.b
    # no secret ever reaches the log
    text = json.dumps(park.audit.entries(("TRUE", []), limit=10_000), default=str)
    assert not any(secret in text for secret in world.tokens.values() if len(secret) > 20)
    assert "a long enough password" not in text


def test_audit_verify_detects_edits_deletions_and_truncation(world):
    park = world.park
    audit = park.audit
    for i in range(5):
        audit.record(None, "test.entry", f"t{i}")
    assert audit.verify().ok
    entries = park.store.query_rows("SELECT * FROM audit_log ORDER BY seq")
    n = len(entries)
    assert all(entry_hash(e) == e["hash"] for e in entries)
    assert all(entries[i]["prev_hash"] == entries[i - 1]["hash"] for i in range(1, n))

    def tamper(sql, params):
        with park.store.transaction() as con:
            con.execute(sql, params)

    # edit the contents of an entry
    tamper("UPDATE audit_log SET target = 'someone-else' WHERE seq = ?", [n - 2])
    report = audit.verify()
    assert not report.ok and any(f"entry {n - 2}: contents do not match" in p for p in report.problems)
    tamper("UPDATE audit_log SET target = ? WHERE seq = ?", [entries[n - 3]["target"], n - 2])
    assert audit.verify().ok
    # edit and re-hash one entry: the next entry's prev_hash no longer matches
    forged = dict(entries[n - 3], target="forged")
    tamper("UPDATE audit_log SET target = 'forged', hash = ? WHERE seq = ?", [entry_hash(forged), n - 2])
    assert any(f"entry {n - 1}: prev_hash" in p for p in audit.verify().problems)
    tamper(
        "UPDATE audit_log SET target = ?, hash = ? WHERE seq = ?",
        [entries[n - 3]["target"], entries[n - 3]["hash"], n - 2],
    )
    assert audit.verify().ok
    # delete one in the middle
    tamper("DELETE FROM audit_log WHERE seq = ?", [3])
    assert any("entries 3–3 are missing" in p for p in audit.verify().problems)


def test_audit_verify_detects_deleting_the_newest_entries(world):
    park = world.park
    park.audit.record(None, "test.entry", "last")
    with park.store.transaction() as con:
        con.execute("DELETE FROM audit_log WHERE seq = (SELECT max(seq) FROM audit_log)")
    report = park.audit.verify()
    assert not report.ok and "newest entries are missing" in report.problems[0]


def test_cli_audit_verify_exit_codes(small_demo_file, tmp_path):
    db = copy_db(small_demo_file, tmp_path)
    ok = _cli("audit", "verify", "--db", str(db))
    assert ok.returncode == 0 and "intact" in ok.stdout
    with Park.open(db) as park, park.store.transaction() as con:
        con.execute("UPDATE audit_log SET detail = '{}' WHERE seq = 2")
    bad = _cli("audit", "verify", "--db", str(db))
    assert bad.returncode == 1 and "entry 2" in bad.stderr and "TAMPERED" in bad.stderr


# -- hardening -------------------------------------------------------------------------------------


def test_rate_limit_per_token(world):
    token = world.park.create_token("enterprise", enterprise_id=world.b, expires="1d", rate_per_min=5).secret
    client = world.client(**{"Authorization": f"Bearer {token}"})
    statuses = [client.get("/api/auth/me").status_code for _ in range(7)]
    assert statuses[:5] == [200] * 5 and statuses[5] == 429
    limited = client.get("/api/auth/me")
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    # another token is not affected
    assert world.client("b").get("/api/auth/me").status_code == 200


def test_login_brute_force_is_slowed(world):
    from parkbrain.api.security import RateLimiter

    world.park.create_user("zhao.liu", "enterprise", password="the right password", enterprise_id=world.b)
    client = world.client()
    world.app.state.rate_limiter = RateLimiter(clock=lambda: 1000.0)  # no refill, however slow the hashing
    statuses = [
        client.post("/api/auth/login", json={"username": "zhao.liu", "password": f"guess-{i}"}).status_code
        for i in range(12)
    ]
    assert statuses[:10] == [401] * 10 and statuses[10:] == [429, 429]
    # even the right password waits now
    assert (
        client.post(
            "/api/auth/login", json={"username": "zhao.liu", "password": "the right password"}
        ).status_code
        == 429
    )


def test_request_bodies_over_the_limit_are_413(world):
    client = world.client("device")
    big = json.dumps([{"ts": 1, "values": {"x": 1.0}}] * 100_000)  # ~2.8 MB
    response = client.post(
        f"/api/telemetry/{world.a_device}", content=big, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413

    def chunks():
        for _ in range(30):
            yield b" " * 100_000

    streamed = client.post(
        f"/api/telemetry/{world.a_device}", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert streamed.status_code == 413


def test_security_headers_on_every_answer(world):
    for client, path in (
        (world.client(), "/api/points"),
        (world.client("b"), "/api/points"),
        (world.client(), "/healthz"),
    ):
        headers = client.get(path).headers
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["referrer-policy"] == "no-referrer"
    assert world.client("b").get("/api/points").headers["cache-control"] == "no-store"


def test_web_login_sessions_and_csrf(world):
    park = world.park
    park.create_user("qian.qi", "enterprise", password="session password 1", enterprise_id=world.a)
    browser = world.client()
    page = browser.get("/login")
    assert page.status_code == 200 and "园区大脑" in page.text
    csrf_field = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    # without the form's CSRF value: refused
    bad = browser.post(
        "/login",
        data={"username": "qian.qi", "password": "session password 1", "csrf_token": "x"},
        follow_redirects=False,
    )
    assert bad.status_code == 403
    page = browser.get("/login")
    csrf_field = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    good = browser.post(
        "/login",
        data={
            "username": "qian.qi",
            "password": "session password 1",
            "csrf_token": csrf_field,
            "next": "//evil.example",
        },
        follow_redirects=False,
    )
    assert good.status_code == 303 and good.headers["location"] == "/"
    cookie = good.cookies["pb_session"]
    assert (
        "httponly" in good.headers["set-cookie"].lower()
        and "samesite=lax" in good.headers["set-cookie"].lower()
    )
    session = world.client()
    assert session.get("/", follow_redirects=False).headers["location"] == "/login"
    session.cookies.set("pb_session", cookie)
    home = session.get("/")
    assert home.status_code == 200 and "qian.qi" in home.text and world.a in home.text
    me = session.get("/api/auth/me").json()
    assert me["name"] == "qian.qi" and me["csrf_token"]
    body = {
        "grantee": f"enterprise:{world.b}",
        "kind": "points",
        "items": [world.a_machine_point],
        "purpose": "联合排产",
        "expires": "7d",
    }
    assert session.post("/api/grants", json=body).status_code == 403  # no CSRF header
    assert session.post("/api/grants", json=body, headers={"X-CSRF-Token": "wrong"}).status_code == 403
    cross = session.post(
        "/api/grants", json=body, headers={"X-CSRF-Token": me["csrf_token"], "Origin": "http://evil.example"}
    )
    assert cross.status_code == 403
    made = session.post("/api/grants", json=body, headers={"X-CSRF-Token": me["csrf_token"]})
    assert made.status_code == 201, made.text
    assert session.post("/api/auth/logout", headers={"X-CSRF-Token": me["csrf_token"]}).status_code == 200
    assert session.get("/api/auth/me").status_code == 401
    # the sign-out form of the landing page checks its CSRF field
    again = world.client()
    token_field = re.search(r'name="csrf_token" value="([^"]+)"', again.get("/login").text).group(1)
    login = again.post(
        "/login",
        data={"username": "qian.qi", "password": "session password 1", "csrf_token": token_field},
        follow_redirects=False,
    )
    again.cookies.set("pb_session", login.cookies["pb_session"])
    form_csrf = re.search(r'name="csrf_token" value="([^"]+)"', again.get("/").text).group(1)
    assert again.post("/logout", data={"csrf_token": "wrong"}).status_code == 403
    out = again.post("/logout", data={"csrf_token": form_csrf}, follow_redirects=False)
    assert out.status_code == 303 and again.get("/api/auth/me").status_code == 401
    actions = [e["action"] for e in park.audit.entries(("TRUE", []), limit=10_000)]
    assert "logout" in actions and "login.success" in actions


def test_unauthenticated_errors_say_how_to_authenticate(world):
    response = world.client().get("/api/enterprises")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "Bearer" in response.json()["error"]["message"]


def test_redaction_removes_tokens_passwords_and_sessions():
    token = "pbt_0123456789ab_" + "A" * 43
    line = f"GET /api/x?token={token}&password=hunter2 Authorization: Bearer {token} pb_session=abc"
    cleaned = redact(line)
    assert token not in cleaned and "hunter2" not in cleaned and "abc" not in cleaned.split("pb_session=")[1]


def test_free_sql_is_only_for_the_local_system(world):
    view = world.park.as_principal(world.park.accounts.authenticate_token(world.tokens["province"])[0])
    with pytest.raises(Forbidden):
        view.sql("SELECT 1")
    with pytest.raises(Forbidden):
        view.info()


def test_credentials_tables_cannot_be_queried(world):
    for table in ("users", "api_tokens", "sessions"):
        with pytest.raises(Exception, match="credentials"):
            world.park.sql(f"SELECT * FROM {table}")


def test_unauthorized_type_for_bad_tokens(world):
    with pytest.raises(Unauthorized, match="expired"):
        world.park.accounts.authenticate_token(world.tokens["expired"])
    with pytest.raises(Unauthorized, match="revoked"):
        world.park.accounts.authenticate_token(world.tokens["revoked"])


# -- CLI -------------------------------------------------------------------------------------------


def _cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "parkbrain.cli", *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=120,
    )


def test_cli_users_tokens_and_grants(small_demo_file, tmp_path):
    db = str(copy_db(small_demo_file, tmp_path))
    with Park.open(db, read_only=True) as park:
        enterprise = park.enterprises(limit=1)[0][0]
    made = _cli(
        "user",
        "create",
        "ops1",
        "--role",
        "enterprise",
        "--enterprise",
        enterprise["enterprise_id"],
        "--db",
        db,
    )
    assert made.returncode == 0, made.stderr
    password = re.search(r"Password \(shown once\): (\S+)", made.stdout).group(1)
    assert len(password) >= 16
    chosen = _cli(
        "user",
        "create",
        "ops2",
        "--role",
        "integrator",
        "--org",
        "某某科技",
        "--password-stdin",
        "--db",
        db,
        stdin="a chosen password\n",
    )
    assert chosen.returncode == 0 and "Password" not in chosen.stdout
    users = json.loads(_cli("user", "list", "--format", "json", "--db", db).stdout)
    assert {"admin", "ops1", "ops2"} <= {u["username"] for u in users}
    assert all("password_hash" not in u for u in users)
    token = json.loads(
        _cli(
            "token",
            "create",
            "--role",
            "park_admin",
            "--park",
            enterprise["park_id"],
            "--expires",
            "7d",
            "--format",
            "json",
            "--db",
            db,
        ).stdout
    )
    assert token["token"].startswith(f"pbt_{token['token_id']}_")
    listed = _cli("token", "list", "--db", db).stdout
    assert token["token_id"] in listed and token["token"] not in listed
    assert _cli("token", "revoke", token["token_id"], "--db", db).returncode == 0
    statuses = {
        t["token_id"]: t["status"]
        for t in json.loads(_cli("token", "list", "--format", "json", "--db", db).stdout)
    }
    assert statuses[token["token_id"]] == "revoked"
    bad = _cli("token", "create", "--role", "enterprise", "--db", db)
    assert bad.returncode == 1 and bad.stderr.startswith("Error: role enterprise needs --enterprise")
    grants = json.loads(_cli("grant", "list", "--format", "json", "--db", db).stdout)
    assert grants and all(g["grantee"].startswith("park:") for g in grants)
    audit = json.loads(_cli("audit", "list", "--action", "token", "--format", "json", "--db", db).stdout)
    assert [a["action"] for a in audit][:2] == ["token.revoke", "token.create"]
