"""The alert lifecycle and maintenance plans, over a copy of the small demo: who and when, invalid
moves, scope (another enterprise, another park), overdue maintenance raised once, the server's
periodic check, the migration of an existing database, the CLI (on the file and through a running
server) and the REST routes."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from parkbrain import Park
from parkbrain.analytics.operations import MAINTENANCE_OVERDUE, overdue_alert_id
from parkbrain.analytics.operations_watch import MaintenanceWatch
from parkbrain.analytics.workflow import ALERT_LIFECYCLE, WORK_ORDER_LIFECYCLE, Lifecycle, Transition
from parkbrain.cli import cli
from parkbrain.errors import Forbidden, InvalidInput, NotFound
from parkbrain.store.duckdb import DuckDBStore, migrations
from tests.conftest import copy_db
from tests.world import World, make_world

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def world(small_demo_file, tmp_path_factory):
    path = copy_db(small_demo_file, tmp_path_factory.mktemp("operations"))
    with Park.open(path) as park:
        yield make_world(park)


def as_(world: World, who: str) -> Park:
    """The park as seen by the holder of ``world.tokens[who]``."""
    principal, _ = world.park.accounts.authenticate_token(world.tokens[who])
    return world.park.as_principal(principal)


_counter = iter(range(1_000_000))


def new_alert(world: World, enterprise_id: str | None = None, park_id: str | None = None) -> str:
    """An open alert of enterprise A (or the one given) as the alert engine writes it."""
    enterprise_id = world.a if enterprise_id is None and park_id is None else enterprise_id
    alert_id = f"A-test-{next(_counter)}"
    world.park.store.write(
        "alerts",
        [
            {
                "alert_id": alert_id,
                "ts": NOW,
                "park_id": park_id or world.park_id,
                "enterprise_id": enterprise_id,
                "device_id": world.a_device if enterprise_id == world.a else None,
                "point_id": world.a_machine_point if enterprise_id == world.a else None,
                "rule": "vibration_high",
                "severity": "critical",
                "message": "1#泵振动速度 9.0 mm/s",
                "status": "open",
                "value": 9.0,
            }
        ],
    )
    return alert_id


def of_plan(alerts: list[dict], plan: dict) -> list[dict]:
    """The alerts of one plan (other tests' plans share the park)."""
    return [a for a in alerts if a["plan_id"] == plan["plan_id"]]


# -- lifecycles as data ---------------------------------------------------------------------------


def test_lifecycles_are_declared_once_with_known_statuses():
    assert ALERT_LIFECYCLE.statuses == ("open", "acknowledged", "closed")
    assert {t.action: t.target for t in ALERT_LIFECYCLE.transitions} == {
        "acknowledge": "acknowledged",
        "close": "closed",
    }
    assert WORK_ORDER_LIFECYCLE.statuses == ("open", "assigned", "in_progress", "closed")
    assert WORK_ORDER_LIFECYCLE.as_dict()["transitions"][0] == {
        "action": "assign",
        "from": ["open", "assigned"],
        "to": "assigned",
        "label_zh": "派单",
    }
    with pytest.raises(ValueError, match="unknown status 'done'"):
        Lifecycle("x", ("open",), "open", (Transition("finish", ("open",), "done", "完成"),))


def test_a_move_the_lifecycle_does_not_allow_names_the_object_and_its_status():
    with pytest.raises(InvalidInput) as exc:
        ALERT_LIFECYCLE.step("close", "closed", "A-42")
    assert exc.value.message == "alert A-42 is closed: close needs it open or acknowledged"
    with pytest.raises(InvalidInput, match="action: expected one of acknowledge, close"):
        ALERT_LIFECYCLE.step("reopen", "closed", "A-42")


# -- alerts ---------------------------------------------------------------------------------------


def test_acknowledge_then_close_records_who_and_when_with_events(world):
    alert_id = new_alert(world)
    park = as_(world, "park")
    before = datetime.now(timezone.utc)
    acked = park.acknowledge_alert(alert_id, note="已通知设备科")
    assert acked["status"] == "acknowledged"
    assert acked["acknowledged_by"] == park.principal.actor and acked["acknowledged_by"].startswith("token:")
    assert acked["acknowledged_at"] >= before and acked["note"] == "已通知设备科"
    closed = as_(world, "a").close_alert(alert_id, note="已更换轴承")
    assert closed["status"] == "closed" and closed["closed_by"] == as_(world, "a").principal.actor
    assert closed["closed_at"] >= acked["acknowledged_at"]
    assert closed["acknowledged_by"] == acked["acknowledged_by"]  # the earlier stamp stays
    history = park.alert_history(alert_id)
    assert [(e["action"], e["from_status"], e["to_status"]) for e in history["events"]] == [
        ("raise", None, "open"),
        ("acknowledge", "open", "acknowledged"),
        ("close", "acknowledged", "closed"),
    ]
    assert history["events"][0]["actor"] == "rule:vibration_high" and history["events"][0]["ts"] == NOW
    assert history["events"][2]["role"] == "enterprise" and history["events"][2]["note"] == "已更换轴承"
    audited = world.park.audit_entries(action="alert")
    assert {(e["action"], e["target"]) for e in audited} >= {
        ("alert.acknowledge", alert_id),
        ("alert.close", alert_id),
    }


def test_closing_a_closed_alert_is_invalid_input_and_changes_nothing(world):
    alert_id = new_alert(world)
    park = as_(world, "park")
    park.close_alert(alert_id)
    events = len(park.alert_history(alert_id)["events"])
    with pytest.raises(InvalidInput) as exc:
        park.close_alert(alert_id)
    assert alert_id in exc.value.message and "is closed" in exc.value.message
    with pytest.raises(InvalidInput, match="is closed: acknowledge needs it open"):
        park.acknowledge_alert(alert_id)
    assert len(park.alert_history(alert_id)["events"]) == events


def test_others_cannot_act_on_an_alert_they_do_not_see(world):
    alert_id = new_alert(world)
    for who in ("b", "c", "other_park"):
        with pytest.raises(NotFound, match=alert_id):
            as_(world, who).acknowledge_alert(alert_id)
        with pytest.raises(NotFound):
            as_(world, who).alert_history(alert_id)
    with pytest.raises(Forbidden):
        as_(world, "integrator").acknowledge_alert(alert_id)
    with pytest.raises(Forbidden):
        as_(world, "device").close_alert(alert_id)
    assert world.park.alert_history(alert_id)["alert"]["status"] == "open"
    # the enterprise itself may acknowledge its own alert, and the province any
    assert as_(world, "a").acknowledge_alert(alert_id)["status"] == "acknowledged"
    assert as_(world, "province").close_alert(alert_id)["status"] == "closed"


def test_a_note_too_long_is_refused_naming_the_field(world):
    with pytest.raises(InvalidInput, match="note: at most 2000"):
        as_(world, "park").acknowledge_alert(new_alert(world), note="x" * 2001)


# -- maintenance ----------------------------------------------------------------------------------


def test_overdue_maintenance_raises_one_alert_per_plan_and_due_time(world):
    park = as_(world, "park")
    plan = park.add_maintenance_plan(world.a_device, "季度巡检：轴承润滑", 90, last_done="2026-08-01")
    due = plan["next_due_at"]
    assert due == datetime(2026, 7, 31, 16, tzinfo=timezone.utc) + timedelta(days=90)
    assert of_plan(park.check_maintenance(due - timedelta(minutes=1)), plan) == []
    raised = of_plan(park.check_maintenance(NOW), plan)
    assert [a["alert_id"] for a in raised] == [overdue_alert_id(plan["plan_id"], due)]
    alert = raised[0]
    assert alert["rule"] == MAINTENANCE_OVERDUE.rule == "maintenance_overdue"
    assert (alert["park_id"], alert["enterprise_id"], alert["device_id"]) == (
        world.park_id,
        world.a,
        world.a_device,
    )
    assert alert["plan_id"] == plan["plan_id"] and alert["ts"] == due and alert["status"] == "open"
    assert "季度巡检：轴承润滑" in alert["message"] and "2026-10-30" in alert["message"]
    assert alert["value"] == pytest.approx((NOW - due).total_seconds() / 86400, abs=1e-3)
    # checking again (later, or as the province) adds nothing; a closed one is not raised again
    assert of_plan(park.check_maintenance(NOW + timedelta(days=1)), plan) == []
    assert of_plan(world.park.check_maintenance(NOW), plan) == []
    park.acknowledge_alert(alert["alert_id"])
    assert world.park.alert_history(alert["alert_id"])["events"][0]["actor"] == "system"
    # doing the work moves the due date on and closes the alert
    done = park.record_maintenance(plan["plan_id"], done_at="2026-11-20 09:00", note="已润滑")
    assert done["closed_alerts"] == [alert["alert_id"]]
    assert done["next_due_at"] == datetime(2026, 11, 20, 1, tzinfo=timezone.utc) + timedelta(days=90)
    assert world.park.alert_history(alert["alert_id"])["alert"]["closed_by"] == park.principal.actor
    assert of_plan(park.check_maintenance(NOW), plan) == []
    later = of_plan(park.check_maintenance(done["next_due_at"] + timedelta(hours=1)), plan)
    assert [a["alert_id"] for a in later] == [overdue_alert_id(plan["plan_id"], done["next_due_at"])]


def test_maintenance_plans_are_scoped(world):
    park = as_(world, "park")
    plan = park.add_maintenance_plan(world.a_device, "年度检定", 365)
    assert plan["created_by"] == park.principal.actor
    with pytest.raises(NotFound):
        as_(world, "other_park").add_maintenance_plan(world.a_device, "x", 30)
    with pytest.raises(Forbidden):
        as_(world, "a").add_maintenance_plan(world.a_device, "x", 30)
    with pytest.raises(NotFound):
        as_(world, "other_park").record_maintenance(plan["plan_id"])
    mine, _ = as_(world, "a").maintenance_plans(limit=1000)
    assert plan["plan_id"] in {p["plan_id"] for p in mine}  # the enterprise sees its devices' plans
    assert not any(p["plan_id"] == plan["plan_id"] for p in as_(world, "b").maintenance_plans()[0])
    theirs = as_(world, "other_park").maintenance_plans(limit=1000)[0]
    assert plan["plan_id"] not in {p["plan_id"] for p in theirs}
    assert all(p["park_id"] == world.other_park_id for p in theirs)
    with pytest.raises(InvalidInput, match="interval_days"):
        park.add_maintenance_plan(world.a_device, "x", 0)


def test_the_watch_checks_on_its_clock_and_once_per_due_time(world):
    park = as_(world, "park")
    plan = park.add_maintenance_plan(world.a_device, "滤网更换", 7, last_done="2026-10-01")
    watch = MaintenanceWatch(world.park.check_maintenance, interval_s=3600, clock=lambda: NOW)
    raised = watch.run_once()
    assert overdue_alert_id(plan["plan_id"], plan["next_due_at"]) in {a["alert_id"] for a in raised}
    assert watch.run_once() == [] and watch.runs == 2
    # started: the first check runs before start returns, the next ones on the thread
    ticks = []
    ticked = threading.Event()

    def check(now):
        ticks.append(now)
        if len(ticks) == 3:
            ticked.set()
        return []

    threaded = MaintenanceWatch(check, interval_s=0.01, clock=lambda: NOW).start()
    assert ticks[:1] == [NOW]
    assert ticked.wait(60)
    threaded.stop()
    assert threaded.runs >= 3 and not threaded._thread.is_alive()


def test_a_failing_check_does_not_stop_the_watch():
    def broken(now):
        raise RuntimeError("disk full")

    watch = MaintenanceWatch(broken, interval_s=1, clock=lambda: NOW)
    assert watch.run_once() == [] and watch.runs == 1


# -- migration ------------------------------------------------------------------------------------


def test_an_existing_database_upgrades_and_its_alerts_get_a_lifecycle(tmp_path):
    path = tmp_path / "v6.duckdb"
    store = DuckDBStore(path, migrate=False)
    assert store.migrate(upto=6) == [1, 2, 3, 4, 5, 6]
    store.write("parks", [{"park_id": "p1", "name": "甲园区", "region_code": "450100"}])
    store.write(
        "alerts",
        [
            {"alert_id": "old-1", "ts": NOW, "park_id": "p1", "rule": "point_stale", "severity": "warning"},
            {
                "alert_id": "old-2",
                "ts": NOW,
                "park_id": "p1",
                "rule": "x",
                "severity": "info",
                "status": "closed",
            },
        ],
    )
    store.close()
    with Park.open(path) as park:
        assert park.store.schema_version() == migrations()[-1][0] >= 7
        names = set(park.store.table_names())
        assert {"alert_events", "maintenance_plans", "work_orders", "work_order_events", "notices"} <= names
        rows = park.store.query_rows(
            "SELECT alert_id, status, acknowledged_by, closed_at FROM alerts ORDER BY 1"
        )
        assert rows == [
            {"alert_id": "old-1", "status": "open", "acknowledged_by": None, "closed_at": None},
            {"alert_id": "old-2", "status": "closed", "acknowledged_by": None, "closed_at": None},
        ]
        assert park.acknowledge_alert("old-1")["acknowledged_by"] == "system"
        with pytest.raises(InvalidInput, match="alert old-2 is closed"):
            park.close_alert("old-2")
        # closed by its rule before events were kept: raised and cleared by the rule
        events = park.alert_history("old-2")["events"]
        assert [(e["actor"], e["action"], e["to_status"]) for e in events] == [
            ("rule:x", "raise", "open"),
            ("rule:x", "clear", "closed"),
        ]


def test_the_small_demo_opens_with_the_governance_tables(small_demo_file):
    with Park.open(small_demo_file, read_only=True) as park:
        assert park.store.schema_version() >= 7
        assert "acknowledged_by" in park.store.columns("alerts")
        assert park.alerts(status="acknowledged")[1] > 0  # the demo's own acknowledged alerts still read


# -- CLI ------------------------------------------------------------------------------------------


def test_cli_acknowledges_closes_and_shows_history_on_the_file(small_demo_file, tmp_path):
    db = str(copy_db(small_demo_file, tmp_path))
    with Park.open(db) as park:
        alert_id = park.alerts(status="open", limit=1)[0][0]["alert_id"]
    runner = CliRunner()
    ok = runner.invoke(cli, ["alert", "ack", alert_id, "--note", "收到", "--db", db])
    assert ok.exit_code == 0, ok.output
    assert f"Acknowledged {alert_id} (system" in ok.output
    again = runner.invoke(cli, ["alert", "ack", alert_id, "--db", db])
    assert again.exit_code == 1
    assert again.output.strip() == f"Error: alert {alert_id} is acknowledged: acknowledge needs it open"
    closed = runner.invoke(cli, ["alert", "close", alert_id, "--db", db, "--format", "json"])
    assert json.loads(closed.output)["status"] == "closed"
    history = json.loads(
        runner.invoke(cli, ["alert", "history", alert_id, "--db", db, "--format", "json"]).output
    )
    assert [e["action"] for e in history["events"]] == ["raise", "acknowledge", "close"]
    listed = json.loads(
        runner.invoke(cli, ["alert", "list", "--status", "closed", "--db", db, "--format", "json"]).output
    )
    assert alert_id in {a["alert_id"] for a in listed}
    missing = runner.invoke(cli, ["alert", "close", "no-such-alert", "--db", db])
    assert missing.exit_code == 1 and "no alert with alert_id 'no-such-alert'" in missing.output


def test_cli_maintenance_on_the_file(small_demo_file, tmp_path):
    db = str(copy_db(small_demo_file, tmp_path))
    with Park.open(db) as park:
        device = park.devices(limit=1)[0][0]["device_id"]
    runner = CliRunner()

    def run(*args: str) -> list | dict:
        result = runner.invoke(cli, [*args, "--db", db, "--format", "json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    plan = run(
        "maintenance",
        "add",
        "--device",
        device,
        "--description",
        "季度巡检",
        "--every",
        "90",
        "--last-done",
        "2026-08-01",
    )
    assert [p["plan_id"] for p in run("maintenance", "list", "--overdue")] == [plan["plan_id"]]
    raised = run("maintenance", "check", "--now", "2026-11-20")
    assert [a["rule"] for a in raised] == ["maintenance_overdue"]
    assert run("maintenance", "check", "--now", "2026-11-21") == []
    done = run("maintenance", "done", plan["plan_id"], "--note", "已完成")
    assert done["closed_alerts"] == [raised[0]["alert_id"]]
    assert run("maintenance", "list", "--overdue") == []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_cli_goes_through_a_running_server_which_checks_maintenance_itself(small_demo_file, tmp_path):
    db = str(copy_db(small_demo_file, tmp_path))
    with Park.open(db) as park:
        device = park.devices(limit=1)[0][0]["device_id"]
        alert_id = park.alerts(status="open", limit=1)[0][0]["alert_id"]
        plan = park.add_maintenance_plan(device, "已逾期的巡检", 30, last_done="2026-01-01")
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "parkbrain.cli", "serve", "--db", db, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(150):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("server did not start")

        def run(*args: str):
            return subprocess.run(
                [sys.executable, "-m", "parkbrain.cli", *args, "--db", db, "--format", "json"],
                capture_output=True,
                text=True,
                timeout=120,
            )

        acked = run("alert", "ack", alert_id, "--note", "via server")
        assert acked.returncode == 0, acked.stderr
        assert json.loads(acked.stdout)["acknowledged_by"] == "system"
        refused = run("alert", "ack", alert_id)
        assert refused.returncode == 1 and "is acknowledged" in refused.stderr
        # the server's own check raised the overdue alert at start; checking again adds nothing
        expected = overdue_alert_id(plan["plan_id"], plan["next_due_at"])
        listed = json.loads(run("alert", "list", "--status", "open", "--limit", "10000").stdout)
        assert expected in {a["alert_id"] for a in listed}
        assert json.loads(run("maintenance", "check").stdout) == []
        made = run("workorder", "create", "--from-alert", expected, "--assignee", "李工")
        assert made.returncode == 0, made.stderr
        assert json.loads(made.stdout)["status"] == "assigned"
    finally:
        server.terminate()
        server.wait(timeout=30)


# -- REST -----------------------------------------------------------------------------------------


def test_rest_alert_lifecycle_and_scope(world):
    alert_id = new_alert(world)
    b = world.client("b")
    assert b.post(f"/api/alerts/{alert_id}/acknowledge", json={}).status_code == 404
    assert world.client("other_park").post(f"/api/alerts/{alert_id}/close", json={}).status_code == 404
    assert world.client("other_park").get(f"/api/alerts/{alert_id}/events").status_code == 404
    park = world.client("park")
    acked = park.post(f"/api/alerts/{alert_id}/acknowledge", json={"note": "处理中"})
    assert acked.status_code == 200, acked.text
    assert acked.json()["status"] == "acknowledged" and acked.json()["acknowledged_by"].startswith("token:")
    again = park.post(f"/api/alerts/{alert_id}/acknowledge", json={})
    assert again.status_code == 422
    assert again.json()["error"] == {
        "type": "InvalidInput",
        "message": f"alert {alert_id} is acknowledged: acknowledge needs it open",
    }
    assert park.post(f"/api/alerts/{alert_id}/close", json={"note": "x" * 2001}).status_code == 422
    assert park.post(f"/api/alerts/{alert_id}/close", json={}).json()["status"] == "closed"
    events = park.get(f"/api/alerts/{alert_id}/events").json()["events"]
    assert [e["action"] for e in events] == ["raise", "acknowledge", "close"]


def test_rest_console_writes_need_the_csrf_header(world):
    alert_id = new_alert(world)
    browser = world.session_client(world.a)
    token = browser.headers.pop("X-CSRF-Token")
    refused = browser.post(f"/api/alerts/{alert_id}/acknowledge", json={})
    assert refused.status_code == 403 and "CSRF" in refused.json()["error"]["message"]
    browser.headers["X-CSRF-Token"] = token
    acked = browser.post(f"/api/alerts/{alert_id}/acknowledge", json={})
    assert acked.status_code == 200 and acked.json()["acknowledged_by"] == f"user:web-{world.a}"


def test_rest_maintenance_plans(world):
    park = world.client("park")
    made = park.post(
        "/api/maintenance-plans",
        json={
            "device_id": world.a_device,
            "description": "月度点检",
            "interval_days": 30,
            "last_done": "2026-09-01",
        },
    )
    assert made.status_code == 201, made.text
    plan_id = made.json()["plan_id"]
    assert (
        world.client("b")
        .post(
            "/api/maintenance-plans",
            json={"device_id": world.a_device, "description": "x", "interval_days": 1},
        )
        .status_code
        == 403
    )
    assert (
        park.post(
            "/api/maintenance-plans",
            json={"device_id": world.a_device, "description": "x", "interval_days": 0},
        ).status_code
        == 422
    )
    overdue = park.get("/api/maintenance-plans", params={"overdue": True, "limit": 1000})
    assert plan_id in {p["plan_id"] for p in overdue.json()} and int(overdue.headers["X-Total-Count"]) >= 1
    raised = park.post("/api/maintenance-plans/check", json={}).json()
    assert any(a["plan_id"] == plan_id for a in raised)
    assert park.post("/api/maintenance-plans/check", json={}).json() == []
    done = park.post(f"/api/maintenance-plans/{plan_id}/done", json={"note": "ok"})
    assert done.status_code == 200 and len(done.json()["closed_alerts"]) == 1
    assert (
        world.client("other_park").post(f"/api/maintenance-plans/{plan_id}/done", json={}).status_code == 404
    )
