"""Notices over a copy of the small demo: to all of a park's enterprises or chosen ones, seen only by
those addressed, read receipts (who, when, first read kept), receipts on the park side, CLI and REST."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from parkbrain import Park
from parkbrain.cli import cli
from parkbrain.errors import Forbidden, InvalidInput, NotFound
from tests.conftest import copy_db
from tests.test_operations import as_
from tests.world import make_world


@pytest.fixture(scope="module")
def world(small_demo_file, tmp_path_factory):
    path = copy_db(small_demo_file, tmp_path_factory.mktemp("notices"))
    with Park.open(path) as park:
        yield make_world(park)


def _park_enterprises(world) -> list[str]:
    rows, _ = world.park.enterprises(park_id=world.park_id, limit=10_000)
    return sorted(r["enterprise_id"] for r in rows)


def test_a_notice_to_all_reaches_every_enterprise_of_the_park_and_no_other(world):
    park = as_(world, "park")
    made = park.publish_notice("关于园区停电检修的通知", "12 月 1 日 8:00-12:00 停电检修，请提前安排生产。")
    assert made["audience"] == "all" and made["park_id"] == world.park_id
    assert made["recipients"] == len(_park_enterprises(world)) and made["read"] == 0
    assert made["author"] == park.principal.actor
    notice_id = made["notice_id"]
    for who in ("a", "b"):
        seen = as_(world, who).notices(limit=1000)[0]
        row = next(n for n in seen if n["notice_id"] == notice_id)
        assert (row["recipients"], row["read"], row["read_at"]) == (1, 0, None)  # only its own receipt
    assert notice_id not in {n["notice_id"] for n in as_(world, "c").notices(limit=1000)[0]}
    assert notice_id not in {n["notice_id"] for n in as_(world, "other_park").notices(limit=1000)[0]}
    assert as_(world, "integrator").notices()[0] == []
    with pytest.raises(NotFound):
        as_(world, "c").read_notice(notice_id)
    assert world.park.audit_entries(action="notice.publish")[0]["target"] == notice_id


def test_a_notice_to_chosen_enterprises_is_seen_by_them_only(world):
    park = as_(world, "park")
    made = park.publish_notice("能耗在线监测接入", "请于月底前完成接入。", enterprise_ids=[world.a])
    notice_id = made["notice_id"]
    assert (made["audience"], made["recipients"]) == ("chosen", 1)
    assert notice_id in {n["notice_id"] for n in as_(world, "a").notices(limit=1000)[0]}
    assert notice_id not in {n["notice_id"] for n in as_(world, "b").notices(limit=1000)[0]}
    with pytest.raises(NotFound, match=notice_id):
        as_(world, "b").read_notice(notice_id)
    with pytest.raises(InvalidInput, match=f"'{world.c}' is not an enterprise of park {world.park_id}"):
        park.publish_notice("x", "y", enterprise_ids=[world.a, world.c])
    with pytest.raises(InvalidInput, match="enterprise_ids: give at least one"):
        park.publish_notice("x", "y", enterprise_ids=[])
    with pytest.raises(InvalidInput, match="title: expected non-empty text"):
        park.publish_notice("  ", "y")


def test_read_receipts_record_who_and_when_and_the_park_sees_who_did_not_read(world):
    park = as_(world, "park")
    notice_id = park.publish_notice("安全生产月", "请组织自查。")["notice_id"]
    a = as_(world, "a")
    receipt = a.read_notice(notice_id)
    assert receipt["enterprise_id"] == world.a and receipt["read_by"] == a.principal.actor
    assert a.read_notice(notice_id) == receipt  # reading again keeps the first receipt
    read_entry = next(e for e in park.audit_entries(action="notice.read") if e["target"] == notice_id)
    assert (read_entry["enterprise_id"], read_entry["actor"]) == (
        world.a,
        a.principal.actor,
    )  # the park sees it
    row = next(n for n in a.notices()[0] if n["notice_id"] == notice_id)
    assert row["read"] == 1 and row["read_at"] == receipt["read_at"]
    assert notice_id not in {n["notice_id"] for n in a.notices(unread=True, limit=1000)[0]}
    receipts = park.notice_receipts(notice_id)
    everyone = _park_enterprises(world)
    assert (receipts["recipients"], receipts["read"], receipts["unread"]) == (
        len(everyone),
        1,
        len(everyone) - 1,
    )
    assert receipts["receipts"][0] == {
        "enterprise_id": world.a,
        "enterprise_name": receipts["receipts"][0]["enterprise_name"],
        "read_by": a.principal.actor,
        "read_at": receipt["read_at"],
        "status": "read",
    }
    assert {r["enterprise_id"] for r in receipts["receipts"] if r["status"] == "unread"} == set(everyone) - {
        world.a
    }
    with pytest.raises(Forbidden):
        a.notice_receipts(notice_id)  # an enterprise does not see who else read it
    with pytest.raises(NotFound):
        as_(world, "other_park").notice_receipts(notice_id)
    with pytest.raises(Forbidden):
        as_(world, "b").read_notice(notice_id, enterprise_id=world.a)  # B cannot sign for A
    with pytest.raises(Forbidden):
        park.read_notice(notice_id)  # the park publishes, enterprises read


def test_only_publishers_publish_and_a_park_only_to_its_own(world):
    with pytest.raises(Forbidden):
        as_(world, "a").publish_notice("x", "y")
    with pytest.raises(Forbidden):
        as_(world, "park").publish_notice("x", "y", park_id=world.other_park_id)
    with pytest.raises(InvalidInput, match="park_id: name the park"):
        world.park.publish_notice("x", "y")
    made = as_(world, "province").publish_notice("全省通知", "z", park_id=world.other_park_id)
    assert made["park_id"] == world.other_park_id
    assert made["notice_id"] in {n["notice_id"] for n in as_(world, "c").notices(limit=1000)[0]}


def test_cli_notice_publish_list_read_receipts(small_demo_file, tmp_path):
    db = str(copy_db(small_demo_file, tmp_path))
    with Park.open(db) as park:
        e1, e2 = (r["enterprise_id"] for r in park.enterprises(limit=2)[0])
        park_id = park.enterprise(e1)["park_id"]
    runner = CliRunner()

    def run(*args: str, input: str | None = None):
        result = runner.invoke(cli, [*args, "--db", db, "--format", "json"], input=input)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    made = run(
        "notice",
        "publish",
        "--park",
        park_id,
        "--title",
        "停电通知",
        "--body-file",
        "-",
        "--to",
        e1,
        input="明天停电\n",
    )
    assert (made["audience"], made["recipients"], made["body"]) == ("chosen", 1, "明天停电")
    assert run("notice", "read", made["notice_id"], "--enterprise", e1)["read_by"] == "system"
    receipts = run("notice", "receipts", made["notice_id"])
    assert (receipts["read"], receipts["unread"]) == (1, 0)
    assert made["notice_id"] in {n["notice_id"] for n in run("notice", "list", "--park", park_id)}
    missing = runner.invoke(cli, ["notice", "publish", "--park", park_id, "--title", "x", "--db", db])
    assert missing.exit_code != 0 and "--body" in missing.output
    wrong = runner.invoke(cli, ["notice", "read", made["notice_id"], "--enterprise", e2, "--db", db])
    assert wrong.exit_code == 1 and f"addressed to enterprise {e2}" in wrong.output
    table = runner.invoke(cli, ["notice", "receipts", made["notice_id"], "--db", db])
    assert table.exit_code == 0 and "1 of 1 read" in table.output


def test_rest_notices(world):
    park = world.client("park")
    made = park.post(
        "/api/notices", json={"title": "环保检查", "body": "下周检查", "enterprise_ids": [world.a]}
    )
    assert made.status_code == 201, made.text
    notice_id = made.json()["notice_id"]
    assert world.client("a").post("/api/notices", json={"title": "x", "body": "y"}).status_code == 403
    assert world.client("b").post(f"/api/notices/{notice_id}/read", json={}).status_code == 404
    assert notice_id not in world.client("b").get("/api/notices").text
    read = world.client("a").post(f"/api/notices/{notice_id}/read", json={})
    assert read.status_code == 200 and read.json()["read_by"].startswith("token:")
    assert world.client("a").get(f"/api/notices/{notice_id}/receipts").status_code == 403
    assert world.client("other_park").get(f"/api/notices/{notice_id}/receipts").status_code == 404
    receipts = park.get(f"/api/notices/{notice_id}/receipts").json()
    assert (receipts["recipients"], receipts["read"]) == (1, 1)
    listed = park.get("/api/notices", params={"park_id": world.park_id})
    assert notice_id in {n["notice_id"] for n in listed.json()} and int(listed.headers["X-Total-Count"]) >= 1
    assert park.post("/api/notices", json={"title": "", "body": "y"}).status_code == 422
