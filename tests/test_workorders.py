"""Work orders over a copy of the small demo: by hand and from an alert (linked both ways), assigned,
progressed, closed with who and when, invalid moves refused, scope, CLI and REST."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner

from parkbrain import Park
from parkbrain.cli import cli
from parkbrain.errors import Forbidden, InvalidInput, NotFound
from tests.conftest import copy_db
from tests.test_operations import as_, new_alert
from tests.world import make_world


@pytest.fixture(scope="module")
def world(small_demo_file, tmp_path_factory):
    path = copy_db(small_demo_file, tmp_path_factory.mktemp("workorders"))
    with Park.open(path) as park:
        yield make_world(park)


def test_a_work_order_by_hand_goes_through_its_lifecycle_with_who_and_when(world):
    park = as_(world, "park")
    made = park.create_work_order(
        "更换 2# 空压机滤芯", device_id=world.a_device, priority="high", due="2026-12-01 18:00"
    )
    assert made["status"] == "open" and made["park_id"] == world.park_id
    assert (made["device_id"], made["enterprise_id"], made["alert_id"]) == (world.a_device, world.a, None)
    assert made["created_by"] == park.principal.actor
    assert made["due_at"] == datetime(2026, 12, 1, 10, tzinfo=timezone.utc)
    wo = made["work_order_id"]
    assert park.update_work_order(wo, "assign", assignee="设备科 王工")["status"] == "assigned"
    assert park.update_work_order(wo, "assign", assignee="设备科 李工")["assignee"] == "设备科 李工"
    assert park.update_work_order(wo, "start")["status"] == "in_progress"
    assert park.update_work_order(wo, "progress", note="已拆下旧滤芯")["status"] == "in_progress"
    closed = park.update_work_order(wo, "close", note="已更换，试运行正常")
    assert closed["status"] == "closed" and closed["closed_by"] == park.principal.actor
    assert closed["resolution"] == "已更换，试运行正常" and closed["closed_at"] >= made["created_at"]
    events = park.work_order(wo)["events"]
    assert [(e["action"], e["from_status"], e["to_status"]) for e in events] == [
        ("create", None, "open"),
        ("assign", "open", "assigned"),
        ("assign", "assigned", "assigned"),
        ("start", "assigned", "in_progress"),
        ("progress", "in_progress", "in_progress"),
        ("close", "in_progress", "closed"),
    ]
    assert events[1]["assignee"] == "设备科 王工" and all(e["actor"] == park.principal.actor for e in events)
    actions = [
        e["action"] for e in world.park.audit_entries(action="workorder", limit=1000) if e["target"] == wo
    ]
    assert sorted(actions) == sorted(f"workorder.{e['action']}" for e in events)


@pytest.mark.parametrize(
    ("steps", "action", "kwargs", "message"),
    [
        ([], "start", {}, "is open: start needs it assigned"),
        ([], "progress", {"note": "x"}, "is open: progress needs it in_progress"),
        ([("close", {})], "close", {}, "is closed: close needs it open or assigned or in_progress"),
        ([("close", {})], "assign", {"assignee": "x"}, "is closed: assign needs it open or assigned"),
        ([], "assign", {}, "assignee: expected non-empty text"),
        ([("assign", {"assignee": "x"}), ("start", {})], "progress", {}, "note: progress records a note"),
        ([], "finish", {}, "action: expected one of assign, start, progress, close"),
    ],
)
def test_moves_the_lifecycle_does_not_allow_are_refused(world, steps, action, kwargs, message):
    park = as_(world, "park")
    wo = park.create_work_order("巡检", park_id=world.park_id)["work_order_id"]
    for step, args in steps:
        park.update_work_order(wo, step, **args)
    before = park.work_order(wo)
    with pytest.raises(InvalidInput) as exc:
        park.update_work_order(wo, action, **kwargs)
    assert message in exc.value.message
    if "is " in message:
        assert wo in exc.value.message
    assert park.work_order(wo) == before  # nothing written, no event


def test_a_work_order_from_an_alert_links_both_ways_and_can_close_it(world):
    alert_id = new_alert(world)
    park = as_(world, "park")
    made = park.create_work_order(from_alert=alert_id, assignee="维修班")
    wo = made["work_order_id"]
    assert made["alert_id"] == alert_id and made["title"] == "1#泵振动速度 9.0 mm/s"
    assert (made["device_id"], made["enterprise_id"], made["status"]) == (world.a_device, world.a, "assigned")
    history = park.alert_history(alert_id)
    assert history["alert"]["work_order_id"] == wo and history["alert"]["status"] == "open"
    assert history["events"][-1]["action"] == "link" and wo in history["events"][-1]["note"]
    with pytest.raises(InvalidInput, match=f"alert {alert_id} already has work order {wo}"):
        park.create_work_order(from_alert=alert_id)
    park.update_work_order(wo, "start")
    park.update_work_order(wo, "close", note="已处理", close_alert=True)
    alert = park.alert_history(alert_id)
    assert alert["alert"]["status"] == "closed" and alert["alert"]["closed_by"] == park.principal.actor
    assert [e["action"] for e in alert["events"]] == ["raise", "link", "close"]
    # an alert closed already stays as it is when its work order closes
    other = new_alert(world)
    wo2 = park.create_work_order(from_alert=other)["work_order_id"]
    park.close_alert(other)
    assert park.update_work_order(wo2, "close", close_alert=True)["status"] == "closed"


def test_work_orders_are_scoped(world):
    alert_id = new_alert(world)
    with pytest.raises(NotFound):
        as_(world, "other_park").create_work_order(from_alert=alert_id)
    with pytest.raises(NotFound):
        as_(world, "other_park").create_work_order("x", device_id=world.a_device)
    with pytest.raises(Forbidden):
        as_(world, "other_park").create_work_order("x", park_id=world.park_id)
    with pytest.raises(Forbidden):
        as_(world, "b").create_work_order("x", park_id=world.park_id)
    with pytest.raises(InvalidInput, match="park_id: a work order needs a park"):
        world.park.create_work_order("x")
    wo = as_(world, "park").create_work_order("x", device_id=world.a_device)["work_order_id"]
    with pytest.raises(NotFound):
        as_(world, "other_park").update_work_order(wo, "close")
    assert wo in {w["work_order_id"] for w in as_(world, "a").work_orders(limit=1000)[0]}
    assert wo not in {w["work_order_id"] for w in as_(world, "b").work_orders(limit=1000)[0]}
    with pytest.raises(NotFound):
        as_(world, "b").work_order(wo)
    with pytest.raises(Forbidden):
        as_(world, "a").update_work_order(wo, "close")  # the enterprise reads its work orders only


def test_cli_workorder_create_list_update(small_demo_file, tmp_path):
    db = str(copy_db(small_demo_file, tmp_path))
    with Park.open(db) as park:
        alert_id = park.alerts(status="open", limit=1)[0][0]["alert_id"]
    runner = CliRunner()

    def run(*args: str):
        result = runner.invoke(cli, [*args, "--db", db, "--format", "json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    made = run("workorder", "create", "--from-alert", alert_id, "--priority", "urgent")
    wo = made["work_order_id"]
    assert made["alert_id"] == alert_id and made["created_by"] == "system"
    assert run("workorder", "update", wo, "--action", "assign", "--assignee", "张工")["status"] == "assigned"
    assert [w["work_order_id"] for w in run("workorder", "list", "--assignee", "张工")] == [wo]
    closed = run("workorder", "update", wo, "--action", "close", "--note", "ok", "--close-alert")
    assert closed["status"] == "closed"
    assert run("alert", "history", alert_id)["alert"]["status"] == "closed"
    bad = runner.invoke(cli, ["workorder", "update", wo, "--action", "start", "--db", db])
    assert (
        bad.exit_code == 1
        and bad.output.strip() == f"Error: work order {wo} is closed: start needs it assigned"
    )
    table = runner.invoke(cli, ["workorder", "list", "--status", "closed", "--db", db])
    assert table.exit_code == 0 and wo in table.output


def test_rest_work_orders(world):
    alert_id = new_alert(world)
    park = world.client("park")
    made = park.post(
        "/api/work-orders", json={"from_alert": alert_id, "priority": "urgent", "assignee": "A 班"}
    )
    assert made.status_code == 201, made.text
    wo = made.json()["work_order_id"]
    assert world.client("b").post("/api/work-orders", json={"from_alert": alert_id}).status_code == 403
    assert (
        world.client("other_park").patch(f"/api/work-orders/{wo}", json={"action": "close"}).status_code
        == 404
    )
    assert world.client("b").get(f"/api/work-orders/{wo}").status_code == 404
    assert park.patch(f"/api/work-orders/{wo}", json={"action": "progress", "note": "x"}).status_code == 422
    assert park.patch(f"/api/work-orders/{wo}", json={"action": "explode"}).status_code == 422
    assert park.patch(f"/api/work-orders/{wo}", json={"action": "start"}).json()["status"] == "in_progress"
    closed = park.patch(
        f"/api/work-orders/{wo}", json={"action": "close", "note": "好了", "close_alert": True}
    )
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    listed = park.get("/api/work-orders", params={"status": "closed", "limit": 1000})
    assert wo in {w["work_order_id"] for w in listed.json()} and int(listed.headers["X-Total-Count"]) >= 1
    detail = park.get(f"/api/work-orders/{wo}").json()
    assert [e["action"] for e in detail["events"]] == ["create", "assign", "start", "close"]
    assert park.get(f"/api/alerts/{alert_id}/events").json()["alert"]["status"] == "closed"
