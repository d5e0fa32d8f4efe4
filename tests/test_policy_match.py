"""惠企政策匹配: hand-made enterprises against the demo subsidy notices (qualifies / nearly with the gap /
not), energy intensity from the meters (or stated as unavailable), scope, CLI and REST."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from parkbrain import Park
from parkbrain.ai.policy_match import check_condition, evaluate
from parkbrain.api import create_app
from parkbrain.cli import cli
from parkbrain.errors import Forbidden, InvalidInput, NotFound
from parkbrain.space import Principal
from tests.conftest import copy_db

DEMO_DIR = Path(__file__).resolve().parents[1] / "src" / "parkbrain" / "data" / "policies"
DIGITAL = "demo-nnhitech-digital-2026"
RETROFIT = "demo-gx-energy-retrofit-2026"
GREEN = "demo-gx-green-factory-2026"
USCC = "91450100MA5K000000"  # 18 characters (the register form is checked at import, not here)


def _enterprise(eid: str, park_id: str, code: str, employees: int, output: float, key: bool = False) -> dict:
    return {
        "enterprise_id": eid,
        "park_id": park_id,
        "name": f"测试企业{eid}",
        "uscc": USCC,
        "industry_code": code,
        "industry_name": "测试行业",
        "employees": employees,
        "output_value_10k_cny": output,
        "key_energy_user": key,
    }


@pytest.fixture
def matched():
    """Three hand-made enterprises in two parks, and the demo documents."""
    with Park(memory=True) as park:
        park.store.write(
            "regions",
            [
                {"region_code": "450000", "name": "广西壮族自治区", "level": "province"},
                {"region_code": "450100", "name": "南宁市", "level": "prefecture", "parent_code": "450000"},
                {"region_code": "450400", "name": "梧州市", "level": "prefecture", "parent_code": "450000"},
            ],
        )
        park.store.write(
            "parks",
            [
                {"park_id": "nanning-hitech", "name": "南宁高新技术产业开发区", "region_code": "450100"},
                {"park_id": "wuzhou-ip", "name": "梧州工业园区", "region_code": "450400"},
            ],
        )
        park.store.write(
            "enterprises",
            [
                _enterprise("e-yes", "nanning-hitech", "3982", 200, 12000, key=True),
                _enterprise("e-near", "nanning-hitech", "3982", 38, 1500),
                _enterprise("e-far", "wuzhou-ip", "6513", 30, 1200),
            ],
        )
        park.import_policies(DEMO_DIR)
        yield park


def _by_doc(result: dict, group: str) -> dict[str, dict]:
    return {p["doc_id"]: p for p in result[group]}


def test_an_enterprise_that_meets_every_condition_qualifies(matched):
    result = matched.match_policies("e-yes")
    qualifies = _by_doc(result, "qualifies")
    assert set(qualifies) == {DIGITAL, RETROFIT}
    digital = qualifies[DIGITAL]
    assert digital["missing"] == [] and digital["demo"] is True
    reasons = {c["condition_id"]: c for c in digital["met"]}
    assert reasons["employees"]["actual"] == 200 and reasons["employees"]["status"] == "met"
    assert reasons["industry"]["actual"] == "3982" and reasons["park"]["actual"] == "nanning-hitech"
    assert "从业人员 200 人：符合" in reasons["employees"]["reason_zh"]
    # no meters: the green factory's intensity cannot be checked; said so, never guessed
    green = _by_doc(result, "nearly")[GREEN]
    unknown = green["missing"][0]
    assert (
        unknown["condition_id"] == "intensity"
        and unknown["status"] == "unknown"
        and unknown["actual"] is None
    )
    assert "无法核对" in unknown["reason_zh"] and "cannot be checked" in unknown["reason_en"]
    assert result["enterprise"]["energy_intensity_tce_per_10k_cny"] is None and result["notes"]


def test_nearly_names_what_is_missing_and_by_how_much(matched):
    result = matched.match_policies("e-near")
    near = _by_doc(result, "nearly")[DIGITAL]
    gaps = {c["condition_id"]: c for c in near["missing"]}
    assert set(gaps) == {"employees", "output"}
    assert gaps["employees"]["gap"] == 12 and gaps["employees"]["actual"] == 38
    assert gaps["output"]["gap"] == 500
    assert (
        "还差 12 人" in gaps["employees"]["reason_zh"]
        and "short by 12 people" in gaps["employees"]["reason_en"]
    )
    assert "还差 500 万元" in gaps["output"]["reason_zh"]
    assert len(near["met"]) == 3
    retrofit = _by_doc(result, "not")[RETROFIT]
    assert retrofit["unmet"] == 3 and retrofit["of"] == 4 and len(retrofit["reasons_zh"]) == 3


def test_a_condition_the_enterprise_cannot_change_makes_it_not(matched):
    """e-far lacks only employees and output for the digital subsidy, but it is in another park."""
    result = matched.match_policies("e-far")
    assert result["qualifies"] == [] and DIGITAL not in _by_doc(result, "nearly")
    digital = _by_doc(result, "not")[DIGITAL]
    assert any("所在园区 wuzhou-ip：不符合" in r for r in digital["reasons_zh"])
    assert result["enterprise"]["city_code"] == "450400"


@pytest.mark.parametrize("now", ["0001-01-01", "9999-12-31T00:00", "yesterday"])
def test_a_bad_now_is_invalid_input(matched, now):
    with pytest.raises(InvalidInput, match="now"):
        matched.match_policies("e-yes", now)


def test_conditions_are_checked_as_data():
    check_condition("employees", ">=", 50)
    with pytest.raises(InvalidInput, match="operators"):
        check_condition("employees", "in", [1])
    with pytest.raises(InvalidInput, match="list of strings"):
        check_condition("park_id", "in", "nanning-hitech")
    cond = {"condition_id": "i", "field": "energy_intensity_tce_per_10k_cny", "op": "<=", "value": 0.05}
    cond |= {"label_zh": "单位产值能耗不高于0.05", "label_en": "at most 0.05"}
    over = evaluate(cond, {"energy_intensity_tce_per_10k_cny": 0.08})
    assert (
        over["status"] == "unmet"
        and over["gap"] == pytest.approx(0.03)
        and "需降低 0.03" in over["reason_zh"]
    )
    assert evaluate(cond, {"energy_intensity_tce_per_10k_cny": 0.05})["status"] == "met"


def test_scope_enterprise_matches_only_itself(matched):
    own = matched.as_principal(
        Principal("token", "t", "t", "enterprise", park_id="nanning-hitech", enterprise_id="e-near")
    )
    assert own.match_policies("e-near")["enterprise"]["enterprise_id"] == "e-near"
    with pytest.raises(Forbidden):
        own.match_policies("e-yes")
    other_park = matched.as_principal(Principal("token", "p", "p", "park_admin", park_id="wuzhou-ip"))
    with pytest.raises(NotFound):
        other_park.match_policies("e-yes")
    integrator = matched.as_principal(Principal("token", "i", "i", "integrator", org="x"))
    with pytest.raises(NotFound):
        integrator.match_policies("e-far")
    device = matched.as_principal(Principal("token", "d", "d", "device", park_id="wuzhou-ip"))
    with pytest.raises(Forbidden):
        device.policies()


# -- over the demo: energy intensity from the meters, CLI and REST -------------------------------------


@pytest.fixture(scope="module")
def demo_copy(small_demo_file, tmp_path_factory):
    return copy_db(small_demo_file, tmp_path_factory.mktemp("policy-match"))


def _key_energy_user(park: Park) -> dict:
    return park.store.query_rows(
        "SELECT e.enterprise_id, e.park_id, e.output_value_10k_cny FROM enterprises e WHERE e.key_energy_user "
        "AND EXISTS (SELECT 1 FROM grants g WHERE g.enterprise_id = e.enterprise_id) ORDER BY 1 LIMIT 1"
    )[0]


def test_demo_build_holds_the_corpus_and_intensity_comes_from_the_meters(demo_copy):
    with Park.open(demo_copy) as park:
        docs = {d["doc_id"]: d for d in park.policies()}
        assert "gxxxzx-2024-51" in docs and not docs["gxxxzx-2024-51"]["demo"]
        assert sum(d["demo"] for d in docs.values()) == 5
        e = _key_energy_user(park)
        result = park.match_policies(e["enterprise_id"], now="2026-11-20T00:00+08:00")
        facts = result["enterprise"]
        assert facts["energy_days"] == 7  # the small demo's days of meter data, annualised
        summary = park.energy_summary(
            start="2025-11-20T00:00+08:00",
            end="2026-11-20T00:00+08:00",
            enterprise_id=e["enterprise_id"],
            grain="total",
        )
        annual = summary["totals"]["tce"] * 365 / 7
        assert facts["energy_tce_12m"] == pytest.approx(annual, abs=0.06)
        assert facts["energy_intensity_tce_per_10k_cny"] == pytest.approx(
            annual / e["output_value_10k_cny"], abs=1e-4
        )
        # its park reads the energy it was granted (重点用能单位能耗在线监测): the same figure
        admin = park.as_principal(Principal("token", "pa", "pa", "park_admin", park_id=e["park_id"]))
        seen = admin.match_policies(e["enterprise_id"], now="2026-11-20T00:00+08:00")["enterprise"]
        assert seen["energy_intensity_tce_per_10k_cny"] == facts["energy_intensity_tce_per_10k_cny"]


def test_cli_match_prints_the_three_groups(demo_copy):
    with Park.open(demo_copy, read_only=True) as park:
        eid = _key_energy_user(park)["enterprise_id"]
    runner = CliRunner()
    text = runner.invoke(
        cli, ["policy", "match", eid, "--db", str(demo_copy), "--now", "2026-11-20T00:00+08:00"]
    )
    assert text.exit_code == 0, text.output
    assert "符合 qualifies" in text.output and "接近符合 nearly" in text.output and "演示 demo" in text.output
    data = json.loads(
        runner.invoke(cli, ["policy", "match", eid, "--db", str(demo_copy), "--format", "json"]).output
    )
    assert set(data) >= {"enterprise", "qualifies", "nearly", "not"}
    missing = runner.invoke(cli, ["policy", "match", "no-such", "--db", str(demo_copy)])
    assert missing.exit_code == 1 and "no-such" in missing.output


def test_rest_routes(demo_copy):
    with Park.open(demo_copy) as park:
        e = _key_energy_user(park)
        other = park.store.query_rows(
            "SELECT enterprise_id FROM enterprises WHERE enterprise_id <> ? ORDER BY 1 LIMIT 1",
            [e["enterprise_id"]],
        )[0]["enterprise_id"]
        own = park.create_token("enterprise", enterprise_id=e["enterprise_id"], expires="1d").secret
        client = TestClient(create_app(park))
        client.headers["Authorization"] = f"Bearer {own}"
        docs = client.get("/api/policies").json()
        assert any(d["doc_id"] == "gxxxzx-2024-51" for d in docs)
        hits = client.get("/api/policies/search", params={"q": "强基行动", "k": 2}).json()
        assert len(hits) == 2 and hits[0]["section"].startswith("二、对策建议/（一）强基行动")
        answer = client.post("/api/policies/ask", json={"question": "四大突破口是什么"}).json()
        assert answer["status"] == "answered" and answer["sources"][0]["kind"] == "policy"
        assert client.post("/api/policies/ask", json={"question": ""}).status_code == 422
        matches = client.get(f"/api/enterprises/{e['enterprise_id']}/policy-matches")
        assert (
            matches.status_code == 200 and matches.json()["enterprise"]["enterprise_id"] == e["enterprise_id"]
        )
        refused = client.get(f"/api/enterprises/{other}/policy-matches")
        assert refused.status_code == 403 and refused.json()["error"]["type"] == "Forbidden"


def test_park_ask_routes_policy_questions_to_the_corpus(demo_copy):
    with Park.open(demo_copy, read_only=True) as park:
        answer = park.ask("强基行动包括哪些内容", now="2026-11-20T12:00+08:00")
        english = park.ask("What are the four breakthroughs?", now="2026-11-20T12:00+08:00")
    assert answer["status"] == "answered" and answer["sources"][0]["kind"] == "policy"
    assert answer["sources"][0]["section"].startswith("二、对策建议/（一）强基行动")
    assert english["sources"][0]["doc_id"] == "gxxxzx-2024-51"
