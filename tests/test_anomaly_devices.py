"""Equipment health on stored readings: the demo's machines with injected faults and the real SKAB pump
raise equipment_anomaly alerts with fault hints, once; scope; the REST routes."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from parkbrain import Park
from parkbrain.analytics.anomaly_devices import EQUIPMENT_ANOMALY
from parkbrain.api.app import create_app
from parkbrain.cli import cli
from parkbrain.errors import Forbidden, InvalidInput, NotFound
from tests.conftest import SHARED_DATA, copy_db

PARK = "nanning-hitech"
SKAB_PUMP = "nanning-hitech-e002-pump-skab"
WINDOW = {"start": "2026-11-13", "end": "2026-11-21"}


@pytest.fixture(scope="module")
def db(small_demo_file, tmp_path_factory):
    return copy_db(small_demo_file, tmp_path_factory.mktemp("health"))


def _faulty(park: Park) -> set[str]:
    rows = park.store.query_rows(
        "SELECT DISTINCT device_id FROM fault_labels WHERE device_id LIKE ?", [f"{PARK}-%"]
    )
    return {r["device_id"] for r in rows}


@pytest.mark.skipif(not (SHARED_DATA / "skab").is_dir(), reason="SKAB not in ../shared/data")
def test_injected_faults_and_the_skab_pump_raise_alerts_with_fault_hints_once(db):
    with Park.open(db) as park:
        first = park.compute_equipment_alerts(PARK, **WINDOW)
        alerted = {a["device_id"] for a in first["alerts"]}
        faulty = _faulty(park)
        assert SKAB_PUMP in faulty and SKAB_PUMP in alerted
        assert len(faulty & alerted) >= len(faulty) - 1  # every fault of the park but at most one
        assert first["opened"] == len(first["alerts"]) > 0
        pump = [a for a in first["alerts"] if a["device_id"] == SKAB_PUMP]
        assert all(a["rule"] == "equipment_anomaly" and "主要相关传感器" in a["message"] for a in pump)
        # the SKAB rotor-imbalance run (other/5, replayed on 17 Nov): the accelerometers lead the hint
        imbalance = [a for a in pump if a["ts"].day == 17 and a["value"] > 100]
        assert imbalance and imbalance[0]["point_id"].endswith("vibration_rms_2")
        again = park.compute_equipment_alerts(PARK, **WINDOW)
        assert (again["opened"], again["updated"]) == (0, 0) and again["unchanged"] == len(first["alerts"])
        stored = park.store.query_rows("SELECT count(*) AS n FROM alerts WHERE rule = 'equipment_anomaly'")
        assert stored[0]["n"] == len(first["alerts"])


def test_demo_faults_found_and_few_healthy_machines_alerted(small_demo_file, tmp_path):
    """All parks of the 7-day demo: the injected faults (``fault_labels``) against the machines alerted."""
    with Park.open(copy_db(small_demo_file, tmp_path)) as park:
        result = park.compute_equipment_alerts(**WINDOW)
        faulty = {
            r["device_id"] for r in park.store.query_rows("SELECT DISTINCT device_id FROM fault_labels")
        }
        alerted = {a["device_id"] for a in result["alerts"]}
        healthy = set(result["devices"]) - faulty
        assert (len(faulty), len(healthy)) == (34, 56)
        assert result["labels"] == {
            "labelled_faulty": 34,
            "labelled_faulty_alerted": len(faulty & alerted),
            "not_labelled": 56,
            "not_labelled_alerted": len(healthy & alerted),
        }
        # measured: 32 of 34 faults found, 4 of 56 healthy machines alerted (27 and 12 with the 60-row mean
        # and no running state; 32 and 9 with the median alone: the rest were machines that stopped)
        assert len(faulty & alerted) >= 32 and len(healthy & alerted) <= 4


def test_a_stopped_machine_is_not_watched_and_raises_nothing(db):
    with Park.open(db, read_only=True) as park:
        device = "china-malaysia-qinzhou-e013-m1"  # healthy; stops on the evenings of 16 and 18 Nov
        health = park.device_health(device, **WINDOW)
        assert health["watched_rows"] < health["rows"]
        # its stops scored 249 when every row was watched; now nothing reaches the alert threshold
        assert all(e["max_score"] < EQUIPMENT_ANOMALY.min_score for e in health["episodes"])
        current = park.store.query_rows(
            "SELECT count(*) AS n FROM readings WHERE point_id = ? AND value < 1 AND ts >= ? AND ts < ?",
            [f"{device}.current", WINDOW["start"], WINDOW["end"]],
        )
        assert current[0]["n"] > 0  # it did stop in the window


def test_device_health_names_the_sensors_of_an_injected_fault(db):
    with Park.open(db, read_only=True) as park:
        device = sorted(d for d in _faulty(park) if d != SKAB_PUMP)[0]
        health = park.device_health(device, **WINDOW)
        assert health["episodes"] and health["train_rows"] < health["rows"]
        top = health["episodes"][-1]["top_sensors"]
        assert {t["quantity"] for t in top} <= {"vibration_rms", "bearing_temperature", "current"}
        assert abs(sum(t["contribution"] for t in top) - 1.0) < 0.05 or len(top) == 3


def test_scope_and_refusals(db):
    with Park.open(db) as park:
        other = park.as_principal(_principal(park, "enterprise", enterprise_id="asean-etdz-e001"))
        with pytest.raises(NotFound):
            other.device_health(SKAB_PUMP, **WINDOW)
        with pytest.raises(Forbidden):
            other.compute_equipment_alerts(PARK, **WINDOW)
        admin = park.as_principal(_principal(park, "park_admin", park_id="asean-etdz"))
        with pytest.raises(Forbidden):
            admin.compute_equipment_alerts(PARK, **WINDOW)
        with pytest.raises(InvalidInput, match="sensors"):
            park.detect_rows([{"a": 1.0}] * 20, train_rows=10)


def _principal(park: Park, role: str, **kw):
    from parkbrain.space.principal import Principal

    return Principal(kind="token", id="t-test", name="test", role=role, **kw)


def test_rest_routes(db):
    with Park.open(db) as park:
        token = park.create_token("province_admin", expires="1d").secret
        client = TestClient(create_app(park), headers={"Authorization": f"Bearer {token}"})
        rows = [{"a": float(i % 5), "b": float(i % 5) * 2.0} for i in range(100)]
        rows += [{"a": 4.0, "b": -8.0}] * 30  # b stops following a (for more than half the 45-row median)
        scored = client.post("/api/detect", json={"train_rows": 60, "rows": rows})
        assert scored.status_code == 200, scored.text
        body = scored.json()
        assert len(body) == 130 and body[-1]["anomaly"] == 1 and body[-1]["top_sensors"]
        assert client.post("/api/detect", json={"train_rows": 60, "rows": rows[:5]}).status_code == 422
        health = client.get(f"/api/devices/{SKAB_PUMP}/health", params=WINDOW)
        assert health.status_code == 200 and health.json()["episodes"]
        assert client.get("/api/devices/nope/health").status_code == 404


def test_equipment_cli(db):
    result = CliRunner().invoke(
        cli,
        ["equipment", "health", SKAB_PUMP, "--db", str(db), "--since", "2026-11-13", "--until", "2026-11-21"],
    )
    assert result.exit_code == 0, result.output
    assert "vibration_rms" in result.output


def test_equipment_alerts_cli_compares_with_the_labelled_faults(small_demo_file, tmp_path):
    db = copy_db(small_demo_file, tmp_path)
    args = [
        "equipment",
        "alerts",
        "--db",
        str(db),
        "--park",
        PARK,
        "--since",
        "2026-11-13",
        "--until",
        "2026-11-21",
    ]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "labelled faults (fault_labels):" in result.output and SKAB_PUMP in result.output
