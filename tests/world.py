"""A province to attack: two enterprises of one park (the victim A and the attacker B), a third
enterprise in another park, and tokens of every kind, over a copy of the small demo."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from fastapi.testclient import TestClient

from parkbrain import Park
from parkbrain.api import create_app
from parkbrain.api.security import RateLimiter


@dataclass
class World:
    park: Park
    app: Any
    park_id: str  # P: the park of A and B
    other_park_id: str  # Q
    a: str  # victim enterprise
    b: str  # attacker enterprise, same park
    c: str  # enterprise of the other park
    a_points: list[str]
    a_energy_point: str  # granted by A to its park (key energy user)
    a_machine_point: str  # not granted to anyone
    a_device: str
    b_points: list[str]
    tokens: dict[str, str] = field(default_factory=dict)
    secrets_of_a: list[str] = field(default_factory=list)

    def fresh_limits(self) -> None:
        """Forget the rate limits (each enumeration sends ~30 requests from one address)."""
        self.app.state.rate_limiter = RateLimiter()

    def session_client(self, enterprise_id: str) -> TestClient:
        """A browser logged in on the console as a user of ``enterprise_id`` (cookie + CSRF header)."""
        username = f"web-{enterprise_id}"
        password = "console password 123"
        if not self.park.store.query_rows("SELECT 1 FROM users WHERE username = ?", [username]):
            self.park.create_user(username, "enterprise", password=password, enterprise_id=enterprise_id)
        browser = TestClient(self.app)
        login = browser.post("/api/auth/login", json={"username": username, "password": password})
        assert login.status_code == 200, login.text
        browser.headers["X-CSRF-Token"] = login.json()["csrf_token"]
        return browser

    def client(self, who: str | None = None, **headers: str) -> TestClient:
        if who is not None:
            headers["Authorization"] = f"Bearer {self.tokens[who]}"
        return TestClient(self.app, headers=headers)


def make_world(park: Park, local_token: str | None = None) -> World:
    q = park.store.query_rows
    # A: a key energy user with machine points, in a park with other enterprises
    a_row = q(
        """SELECT e.enterprise_id, e.park_id FROM enterprises e
           WHERE e.key_energy_user
             AND EXISTS (SELECT 1 FROM devices d JOIN points p USING (device_id)
                         WHERE d.enterprise_id = e.enterprise_id AND p.energy_carrier IS NULL)
             AND EXISTS (SELECT 1 FROM grants g WHERE g.enterprise_id = e.enterprise_id)
           ORDER BY e.enterprise_id LIMIT 1"""
    )[0]
    a, park_id = a_row["enterprise_id"], a_row["park_id"]
    b = q(
        """SELECT e.enterprise_id FROM enterprises e WHERE e.park_id = ? AND e.enterprise_id <> ?
           AND EXISTS (SELECT 1 FROM devices d WHERE d.enterprise_id = e.enterprise_id)
           ORDER BY e.enterprise_id LIMIT 1""",
        [park_id, a],
    )[0]["enterprise_id"]
    c_row = q(
        "SELECT enterprise_id, park_id FROM enterprises WHERE park_id <> ? ORDER BY 1 LIMIT 1", [park_id]
    )[0]
    points = q(
        "SELECT p.point_id, p.energy_carrier, p.device_id FROM points p JOIN devices d USING (device_id) "
        "WHERE d.enterprise_id = ? ORDER BY p.point_id",
        [a],
    )
    energy = next(p for p in points if p["energy_carrier"])
    machine = next(p for p in points if not p["energy_carrier"])
    b_points = [
        r["point_id"]
        for r in q(
            "SELECT p.point_id FROM points p JOIN devices d USING (device_id) WHERE d.enterprise_id = ?", [b]
        )
    ]
    app = create_app(park, local_token=local_token)
    world = World(
        park=park,
        app=app,
        park_id=park_id,
        other_park_id=c_row["park_id"],
        a=a,
        b=b,
        c=c_row["enterprise_id"],
        a_points=[p["point_id"] for p in points],
        a_energy_point=energy["point_id"],
        a_machine_point=machine["point_id"],
        a_device=machine["device_id"],
        b_points=b_points,
    )
    t = world.tokens
    t["province"] = park.create_token("province_admin", expires="1d").secret
    t["a"] = park.create_token("enterprise", enterprise_id=a, expires="1d").secret
    t["b"] = park.create_token("enterprise", enterprise_id=b, expires="1d").secret
    t["c"] = park.create_token("enterprise", enterprise_id=c_row["enterprise_id"], expires="1d").secret
    t["park"] = park.create_token("park_admin", park_id=park_id, expires="1d").secret
    t["other_park"] = park.create_token("park_admin", park_id=c_row["park_id"], expires="1d").secret
    t["integrator"] = park.create_token("integrator", org="某某科技", expires="1d").secret
    t["device"] = park.create_token("device", device_id=world.a_device, expires="1d").secret
    expired = datetime.now(timezone.utc) - timedelta(seconds=1)
    t["expired"] = park.accounts.create_token("enterprise", enterprise_id=a, expires=expired).secret
    revoked = park.create_token("enterprise", enterprise_id=a, expires="1d")
    park.revoke_token(revoked.token_id)
    t["revoked"] = revoked.secret
    good = t["a"]
    t["wrong_secret"] = good[: good.rindex("_") + 1] + "x" * 43
    t["malformed"] = "not-a-token"
    enterprise = q("SELECT name, uscc, building_id FROM enterprises WHERE enterprise_id = ?", [a])[0]
    devices = [r["device_id"] for r in q("SELECT device_id FROM devices WHERE enterprise_id = ?", [a])]
    grants = [r["grant_id"] for r in q("SELECT grant_id FROM grants WHERE enterprise_id = ?", [a])]
    world.secrets_of_a = [a, enterprise["name"], enterprise["uscc"], *devices, *world.a_points, *grants]
    if enterprise["building_id"]:
        world.secrets_of_a.append(enterprise["building_id"])
    return world
