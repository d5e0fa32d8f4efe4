"""The data-quality report: a clean park scores 100; each planted problem is found on the right row."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from parkbrain import NotFound, Park
from parkbrain.analytics.quality import QualityReport, compute_quality
from parkbrain.analytics.quality_checks import normalise_name
from parkbrain.model.uscc import make_uscc
from tests.conftest import copy_db

UTC = timezone.utc
NOW = datetime(2026, 3, 3, 0, 0, tzinfo=UTC)
START = NOW - timedelta(days=2)
Q = timedelta(minutes=15)
H = timedelta(hours=1)
PARK = "test-park"


def _box(lon0: float, lat0: float, lon1: float, lat1: float) -> str:
    ring = [[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


def _enterprise(eid: str, uscc: str, name: str | None = None, **extra) -> dict:
    row = {
        "enterprise_id": eid,
        "park_id": PARK,
        "name": name or f"广西{eid}科技有限公司",
        "uscc": uscc,
        "industry_code": "3982",
        "industry_name": "电子电路制造",
        "employees": 120,
        "output_value_10k_cny": 5000.0,
        "building_id": "b1",
        "lon": 108.25,
        "lat": 22.85,
    }
    return {**row, **extra}


def _device(did: str, **extra) -> dict:
    row = {"device_id": did, "park_id": PARK, "enterprise_id": "e1", "building_id": "b1"}
    return {
        **row,
        "kind": "Building_Electrical_Meter",
        "name": f"电表 {did}",
        "vendor": "威胜",
        "model": "DTSD",
        **extra,
    }


def _point(
    pid: str, quantity: str = "electric_energy", unit: str = "kWh", kind: str = "cumulative", step=Q
) -> dict:
    carrier = "electricity" if kind == "cumulative" else None
    return {
        "point_id": pid,
        "device_id": "d1",
        "quantity": quantity,
        "unit": unit,
        "value_kind": kind,
        "interval_s": int(step.total_seconds()),
        "brick_class": "Sensor",
        "name": pid,
        "energy_carrier": carrier,
    }


def _series(pid: str, values: list[float], step=Q, end: datetime = NOW) -> list[dict]:
    start = end - (len(values) - 1) * step
    return [{"point_id": pid, "ts": start + i * step, "value": float(v)} for i, v in enumerate(values)]


def _steps(step=Q) -> int:
    return int((NOW - START) / step) + 1


def _build_clean(p: Park) -> None:
    s = p.store
    s.write(
        "regions",
        [
            {
                "region_code": "450000",
                "name": "广西",
                "level": "province",
                "geometry": _box(104, 20.9, 112.1, 26.4),
            },
            {
                "region_code": "450100",
                "name": "南宁市",
                "level": "prefecture",
                "parent_code": "450000",
                "geometry": _box(107, 22, 109.5, 24),
            },
        ],
    )
    s.write(
        "parks",
        [
            {
                "park_id": PARK,
                "name": "测试园区",
                "region_code": "450100",
                "level": "provincial",
                "kind": "工业园区",
                "approved_area_ha": 1200.0,
                "lon": 108.25,
                "lat": 22.85,
                "boundary": _box(108.2, 22.8, 108.3, 22.9),
            }
        ],
    )
    s.write(
        "buildings",
        [
            {
                "building_id": b,
                "park_id": PARK,
                "name": f"厂房{b}",
                "floors": 3,
                "area_m2": 8000.0,
                "footprint": _box(108.24, 22.84, 108.241, 22.841),
                "use": "factory",
                "lon": 108.2405,
                "lat": 22.8405,
            }
            for b in ("b1", "b2")
        ],
    )
    s.write(
        "enterprises",
        [
            _enterprise("e1", make_uscc("450100", "MA5KXY01")),
            _enterprise("e2", make_uscc("450100", "MA5KXY02")),
        ],
    )
    s.write("devices", [_device("d1")])
    s.write("points", [_point("kwh"), _point("pm", "pm2_5", "ug/m3", "instant", H)])
    s.write_readings(_series("kwh", [1000 + 2.5 * i for i in range(_steps())]))
    s.write_readings(_series("pm", [30 + i % 7 for i in range(_steps(H))], H))


@pytest.fixture
def clean():
    with Park(memory=True) as p:
        _build_clean(p)
        yield p


def _register(before: float, after: float, k: int = 50) -> list[float]:
    n = _steps()
    return [before - (k - 1 - i) for i in range(k)] + [after + (i - k) for i in range(k, n)]


def _plant_problems(p: Park) -> None:
    s = p.store
    dup = make_uscc("450100", "MA5KDP01")
    good = make_uscc("450100", "MA5KBD01")
    bad_uscc = good[:-1] + ("0" if good[-1] != "0" else "1")
    s.write("enterprises", [_enterprise("e_bad_uscc", bad_uscc, import_id=7)])
    s.write(
        "enterprises",
        [
            _enterprise("e_dup_a", dup, "广西测试科技（南宁）有限公司"),
            _enterprise("e_dup_b", dup, "广西测试科技 (南宁) 有限责任公司"),
            _enterprise("e_outside", make_uscc("450100", "MA5KUT01"), lon=108.4, lat=22.85),
            _enterprise("e_swapped", make_uscc("450100", "MA5KWP01"), lon=22.85, lat=108.25),
            _enterprise("e_lost_building", make_uscc("450100", "MA5KLT01"), building_id="b-missing"),
        ],
    )
    s.write(
        "imports",
        [
            {
                "import_id": 7,
                "file_name": "enterprises.csv",
                "file_sha256": "0" * 64,
                "size_bytes": 10,
                "source": "csv",
                "target": "enterprises",
                "started_at": NOW,
                "finished_at": NOW,
                "actor": "test",
                "rows_read": 1,
                "rows_written": 1,
            }
        ],
    )
    s.write("devices", [_device("d_lost", building_id="b-missing")])
    s.write(
        "devices",
        [_device(d, kind="Pump", ifc_guid="2O2Fr$t4X7Zf8NOew3FLOH") for d in ("d_ifc_a", "d_ifc_b")],
    )
    s.write(
        "points",
        [
            _point("kwh_int", kind="interval"),
            _point("bad_unit", "active_power", "kWhh", "instant"),
            _point("roll"),
            _point("reset"),
            _point("decrease"),
            _point("gap15", "active_power", "kW", "instant"),
            _point("stale1", "pm2_5", "ug/m3", "instant", H),
            _point("silent1", "pm10", "ug/m3", "instant", H),
            _point("ghost", "pm10", "ug/m3", "instant", H),
        ],
    )
    n = _steps()
    s.write_readings(_series("kwh_int", [-5.0 if i == 20 else 1.0 for i in range(n)]))
    s.write_readings(_series("bad_unit", [3.0] * n))
    s.write_readings(_series("roll", _register(99998, 3)))
    s.write_readings(_series("reset", _register(5049, 0)))
    s.write_readings(_series("decrease", _register(5049, 4900)))
    gap = [r for r in _series("gap15", [10.0] * n) if not START + 10 * H < r["ts"] < START + 16 * H]
    s.write_readings(gap)
    s.write_readings(_series("stale1", [20.0] * 48, H, end=NOW - timedelta(days=3)))
    s.write_readings(_series("ghost", [20.0] * 48, H))
    s.cursor().execute("DELETE FROM points WHERE point_id = 'ghost'")


@pytest.fixture
def dirty(clean):
    _plant_problems(clean)
    return clean


def _check(report: QualityReport, table: str, check: str):
    found = [c for c in report.checks if c.table == table and c.check == check]
    assert len(found) == 1, (table, check, [(c.table, c.check) for c in report.checks])
    return found[0]


def _keys(report: QualityReport, table: str, check: str, key: str) -> set:
    result = _check(report, table, check)
    assert result.failed == len(result.samples), result
    return {row[key] for row in result.samples}


# -- a clean park --------------------------------------------------------------------------------


def test_clean_park_scores_100(clean):
    report = compute_quality(clean.store, now=NOW)
    failed = [(c.table, c.check, c.failed, c.samples[:2]) for c in report.checks if c.failed]
    assert failed == []
    assert report.score == 100.0
    assert all(report.table_score(t) in (100.0, None) for t in report.table_rows)
    assert {d: s for d, s in report.dimension_scores().items()} == dict.fromkeys(
        ("completeness", "validity", "duplicates", "timeliness", "consistency"), 100.0
    )
    assert [(s.data_source, s.score) for s in report.sources] == [(None, 100.0)]


def test_clean_park_runs_every_family(clean):
    report = compute_quality(clean.store, now=NOW)
    names = {(c.table, c.check) for c in report.checks}
    for expected in [
        ("enterprises", "filled_uscc"),
        ("enterprises", "uscc_check_digit"),
        ("enterprises", "industry_code_shape"),
        ("enterprises", "inside_park_boundary"),
        ("enterprises", "inside_prefecture"),
        ("parks", "inside_province"),
        ("points", "unit_convertible"),
        ("readings", "value_in_range"),
        ("enterprises", "uscc_shared"),
        ("enterprises", "name_shared"),
        ("readings", "gaps"),
        ("points", "stale"),
        ("points", "no_readings"),
        ("readings", "register_drop"),
        ("devices", "building_known"),
        ("readings", "point_known"),
    ]:
        assert expected in names
    unexamined = {(c.table, c.check) for c in report.checks if c.total == 0}
    assert unexamined == {  # nothing to look at: no zones, no approval year, no IFC ids
        ("zones", "filled_geometry"),
        ("zones", "filled_kind"),
        ("parks", "range_approval_year"),
        ("devices", "ifc_guid_shared"),
        ("buildings", "ifc_guid_shared"),
    }
    assert all(c.score is None for c in report.checks if c.total == 0)


# -- planted problems ------------------------------------------------------------------------------


def test_bad_uscc_check_digit(dirty):
    report = compute_quality(dirty.store, now=NOW)
    result = _check(report, "enterprises", "uscc_check_digit")
    assert [r["enterprise_id"] for r in result.samples] == ["e_bad_uscc"]
    good = make_uscc("450100", "MA5KBD01")
    assert result.samples[0]["expected"] == good[-1]


def test_shared_uscc_and_name_written_differently(dirty):
    report = compute_quality(dirty.store, now=NOW)
    assert _keys(report, "enterprises", "uscc_shared", "enterprise_id") == {"e_dup_a", "e_dup_b"}
    assert _keys(report, "enterprises", "name_shared", "enterprise_id") == {"e_dup_a", "e_dup_b"}
    assert normalise_name("广西测试科技 (南宁) 有限责任公司") == normalise_name(
        "广西测试科技（南宁）有限公司"
    )


def test_enterprise_outside_its_park_boundary(dirty):
    report = compute_quality(dirty.store, now=NOW)
    result = _check(report, "enterprises", "inside_park_boundary")
    rows = {r["enterprise_id"]: r for r in result.samples}
    assert set(rows) == {"e_outside", "e_swapped"}
    assert 9_000 < rows["e_outside"]["distance_m"] < 11_000  # 0.1° east of the boundary at 22.85°N
    assert _keys(report, "enterprises", "inside_prefecture", "enterprise_id") == {"e_swapped"}
    assert _keys(report, "enterprises", "inside_province", "enterprise_id") == {"e_swapped"}


def test_lon_lat_swapped(dirty):
    report = compute_quality(dirty.store, now=NOW)
    result = _check(report, "enterprises", "lonlat_in_china")
    assert [(r["enterprise_id"], r["hint"]) for r in result.samples] == [("e_swapped", "lon/lat swapped")]


def test_negative_energy_value(dirty):
    report = compute_quality(dirty.store, now=NOW)
    result = _check(report, "readings", "value_in_range")
    assert [(r["point_id"], r["value"], r["ts"]) for r in result.samples] == [
        ("kwh_int", -5.0, NOW - (_steps() - 21) * Q)
    ]


def test_unknown_unit(dirty):
    report = compute_quality(dirty.store, now=NOW)
    assert _keys(report, "points", "unit_known", "point_id") == {"bad_unit"}
    assert _check(report, "points", "unit_convertible").failed == 0


def test_register_drops_are_classified(dirty):
    report = compute_quality(dirty.store, now=NOW)
    result = _check(report, "readings", "register_drop")
    drops = {r["point_id"]: (r["previous"], r["value"], r["kind"]) for r in result.samples}
    assert drops == {
        "roll": (99998.0, 3.0, "rollover"),
        "reset": (5049.0, 0.0, "reset"),
        "decrease": (5049.0, 4900.0, "decrease"),
    }
    assert result.breakdown == {"decrease": 1, "reset": 1, "rollover": 1}


def test_six_hour_gap_in_a_15_min_point(dirty):
    report = compute_quality(dirty.store, now=NOW)
    result = _check(report, "readings", "gaps")
    assert [(r["point_id"], r["gap_start"], r["gap_end"], r["gap_hours"]) for r in result.samples] == [
        ("gap15", START + 10 * H, START + 16 * H, 6.0)
    ]


def test_stale_and_silent_points(dirty):
    report = compute_quality(dirty.store, now=NOW)
    assert _keys(report, "points", "stale", "point_id") == {"stale1"}
    assert _keys(report, "points", "no_readings", "point_id") == {"silent1"}


def test_unknown_references(dirty):
    report = compute_quality(dirty.store, now=NOW)
    assert _keys(report, "devices", "building_known", "device_id") == {"d_lost"}
    assert _keys(report, "enterprises", "building_known", "enterprise_id") == {"e_lost_building"}
    assert _keys(report, "devices", "ifc_guid_shared", "device_id") == {"d_ifc_a", "d_ifc_b"}
    result = _check(report, "readings", "point_known")
    assert [(r["point_id"], r["readings"]) for r in result.samples] == [("ghost", 48)]


def test_nothing_else_fails(dirty):
    report = compute_quality(dirty.store, now=NOW)
    expected = {
        ("enterprises", "uscc_check_digit"),
        ("enterprises", "uscc_shared"),
        ("enterprises", "name_shared"),
        ("enterprises", "inside_park_boundary"),
        ("enterprises", "inside_prefecture"),
        ("enterprises", "inside_province"),
        ("enterprises", "lonlat_in_china"),
        ("enterprises", "building_known"),
        ("devices", "building_known"),
        ("devices", "ifc_guid_shared"),
        ("readings", "value_in_range"),
        ("points", "unit_known"),
        ("readings", "register_drop"),
        ("readings", "gaps"),
        ("points", "stale"),
        ("points", "no_readings"),
        ("readings", "point_known"),
    }
    assert {(c.table, c.check) for c in report.checks if c.failed} == expected
    assert 0 < report.score < 100


def test_sources_and_file_names(dirty):
    report = compute_quality(dirty.store, now=NOW)
    imported = [s for s in report.sources if str(s.import_id) == "7"]
    assert [(s.file_name, s.rows) for s in imported] == [("enterprises.csv", 1)]
    assert imported[0].score < 100
    by_source = _check(report, "enterprises", "uscc_check_digit").by_source
    assert [v for (_, imp), v in by_source.items() if str(imp) == "7"] == [(1, 1)]


def test_sample_caps_the_rows_kept(dirty):
    report = compute_quality(dirty.store, now=NOW, sample=1)
    result = _check(report, "enterprises", "inside_park_boundary")
    assert (result.failed, len(result.samples)) == (2, 1)


def test_scope_by_park(dirty):
    dirty.store.write("parks", [{"park_id": "other", "name": "另一园区", "region_code": "450100"}])
    dirty.store.write("enterprises", [{**_enterprise("o1", "BAD"), "park_id": "other"}])
    report = compute_quality(dirty.store, park_id=PARK, now=NOW)
    assert "o1" not in _keys(report, "enterprises", "uscc_check_digit", "enterprise_id")
    assert not [c for c in report.checks if c.check == "point_known"]  # unknown points belong to no park
    other = compute_quality(dirty.store, park_id="other", now=NOW)
    assert _keys(other, "enterprises", "uscc_check_digit", "enterprise_id") == {"o1"}
    assert other.table_rows["readings"] == 0
    with pytest.raises(NotFound):
        compute_quality(dirty.store, park_id="nowhere")


def test_as_dict_and_text(dirty):
    report = compute_quality(dirty.store, now=NOW)
    data = json.loads(json.dumps(report.as_dict(), ensure_ascii=False))
    assert set(data) >= {"generated_at", "park_id", "score", "tables", "sources"}
    check = next(
        c for c in data["tables"]["readings"]["dimensions"]["timeliness"]["checks"] if c["check"] == "gaps"
    )
    assert set(check) >= {"check", "description", "failed", "total", "samples"}
    assert check["samples"][0]["gap_start"] == (START + 10 * H).isoformat()
    assert set(data["sources"][0]) == {"data_source", "import_id", "file_name", "rows", "score"}
    text = report.to_text()
    assert "完整性 completeness" in text and "gaps" in text and "gap15" in text


def test_store_written_before_lineage_columns(tmp_path):
    from parkbrain.store.duckdb import DuckDBStore

    store = DuckDBStore(tmp_path / "v3.duckdb", migrate=False)
    store.migrate(upto=3)  # no imports table, no import_id, no zones
    store.write("parks", [{"park_id": PARK, "name": "测试园区", "region_code": "450100"}])
    store.write("devices", [{"device_id": "d1", "park_id": PARK, "kind": "Pump"}])
    store.write("points", [{**_point("kwh"), "device_id": "d1"}])
    store.write_readings(_series("kwh", [1.0, 2.0, 1.5]))
    report = compute_quality(store, now=NOW)
    drops = _check(report, "readings", "register_drop")
    assert [(r["point_id"], r["import_id"], r["kind"]) for r in drops.samples] == [("kwh", None, "decrease")]
    assert "zones" not in report.table_rows
    json.dumps(report.as_dict())
    store.close()


# -- the small demo ------------------------------------------------------------------------------------


def test_small_demo_report(small_demo_file, tmp_path):
    path = copy_db(small_demo_file, tmp_path)
    with Park.open(path, read_only=True) as park:
        report = compute_quality(park.store, now=datetime(2026, 11, 20, tzinfo=UTC))
    data = json.loads(json.dumps(report.as_dict(), ensure_ascii=False))
    scores = [data["score"], *data["dimensions"].values()]
    for table in data["tables"].values():
        scores.append(table["score"])
        scores += [d["score"] for d in table["dimensions"].values()]
        scores += [c["score"] for d in table["dimensions"].values() for c in d["checks"]]
    scores += [s["score"] for s in data["sources"]]
    assert all(0 <= s <= 100 for s in scores if s is not None)
    assert data["tables"]["readings"]["rows"] > 0
    assert len(report.checks) > 40
    assert report.to_text().startswith("数据质量报告")


def test_quality_through_the_api_and_the_cli_is_scoped(dirty, tmp_path):
    from click.testing import CliRunner
    from fastapi.testclient import TestClient

    from parkbrain.api.app import create_app
    from parkbrain.cli import cli

    dirty.store.write("parks", [{"park_id": "other", "name": "别的园区", "region_code": "450100"}])
    tokens = {
        role: dirty.create_token(role, park_id=park, expires="1d").secret
        for role, park in (("province_admin", None), ("park_operator", PARK), ("park_admin", "other"))
    }
    client = TestClient(create_app(dirty))

    def get(role: str, **params):
        return client.get("/api/quality", params=params, headers={"Authorization": f"Bearer {tokens[role]}"})

    everything = get("province_admin").json()
    assert everything["park_id"] is None and 0 < everything["score"] < 100
    own = get("park_operator").json()
    assert own["park_id"] == PARK and own["tables"]["enterprises"]["rows"] > 0
    assert get("park_operator", park_id="other").status_code == 403
    elsewhere = get("park_admin").json()  # its own (empty) park: nothing of the dirty one
    assert elsewhere["park_id"] == "other" and "广西" not in json.dumps(elsewhere, ensure_ascii=False)
    assert get("province_admin", park_id="nowhere").status_code == 404

    db = tmp_path / "q.duckdb"
    with Park.open(db) as p:
        _build_clean(p)
    out = CliRunner().invoke(cli, ["quality", "--db", str(db), "--format", "json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["tables"]["enterprises"]["rows"] == 2
    text = CliRunner().invoke(cli, ["quality", "--db", str(db), "--park", PARK])
    assert text.exit_code == 0 and "完整性 completeness" in text.output
