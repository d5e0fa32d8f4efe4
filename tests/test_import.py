"""File imports: tabular sources on real and hand-made files, harmonisation, bad input, atomicity,
idempotency and lineage. GIS and IFC sources have their own test modules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from parkbrain import Park
from parkbrain.cli import cli
from parkbrain.errors import BadFile, Forbidden
from parkbrain.model.timeutil import parse_time
from parkbrain.space.principal import Principal
from tests.conftest import SHARED_DATA

STEEL = SHARED_DATA / "steel-industry-energy" / "Steel_industry_data.csv"
SKAB = SHARED_DATA / "skab" / "valve1" / "0.csv"
BOUNDARY = json.dumps(
    {
        "type": "Polygon",
        "coordinates": [
            [[108.30, 22.75], [108.45, 22.75], [108.45, 22.88], [108.30, 22.88], [108.30, 22.75]]
        ],
    }
)
TABLES = ("enterprises", "buildings", "devices", "points", "readings", "imports")


def seed(park: Park) -> Park:
    """A province with one park, a meter with an energy register, and a SKAB test rig."""
    park.store.write("regions", [{"region_code": "450100", "name": "南宁市", "level": "prefecture"}])
    park.store.write(
        "parks",
        [
            {
                "park_id": "nn-etdz",
                "name": "南宁经济技术开发区",
                "region_code": "450100",
                "boundary": BOUNDARY,
            },
            {"park_id": "qz-port", "name": "钦州港经济技术开发区", "region_code": "450100"},
        ],
    )
    park.store.write(
        "devices",
        [
            {"device_id": "m1", "park_id": "nn-etdz", "kind": "Building_Electrical_Meter"},
            {"device_id": "steel", "park_id": "nn-etdz", "kind": "Building_Electrical_Meter"},
            {"device_id": "skab", "park_id": "nn-etdz", "kind": "Pump"},
            {"device_id": "q1", "park_id": "qz-port", "kind": "Water_Meter"},
        ],
    )
    points = [
        ("m1-kwh", "m1", "electric_energy", "kWh", "cumulative"),
        ("m1-kw", "m1", "active_power", "kW", "instant"),
        ("steel-kwh", "steel", "electric_energy", "kWh", "interval"),
        ("skab-a1", "skab", "vibration_rms_1", "g0", "instant"),
        ("skab-temp", "skab", "motor_temperature", "degC", "instant"),
        ("q1-m3", "q1", "water_volume", "m3", "cumulative"),
    ]
    park.store.write(
        "points",
        [dict(zip(("point_id", "device_id", "quantity", "unit", "value_kind"), p)) for p in points],
    )
    return park


@pytest.fixture
def park():
    with Park(memory=True) as p:
        yield seed(p)


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def counts(park: Park) -> dict[str, int]:
    return {t: park.store.count(t) for t in TABLES}


# -- real files ------------------------------------------------------------------------------------


def test_the_steel_plant_csv_imports_wide_and_round_trips(park, tmp_path):
    mapping = write(
        tmp_path,
        "steel.toml",
        'timezone = "Asia/Seoul"\n[columns]\ndate = "ts"\n[points]\nUsage_kWh = "steel-kwh"\n',
    )
    result = park.ingest(STEEL, mapping=mapping)
    assert result.rows_written == {"readings": 35_040}
    assert result.encoding == "UTF-8 (BOM)"
    assert any("Load_Type" in n for n in result.notes)  # unmapped columns are named, not silently dropped
    row = park.store.query_rows(
        "SELECT count(*) AS n, sum(value) AS kwh FROM readings WHERE point_id = 'steel-kwh'"
    )[0]
    assert row["n"] == 35_040 and row["kwh"] == pytest.approx(959_637, abs=1)  # the README's yearly total
    # round trip: the first data line, 01/01/2018 00:15 (day first) in Korea = 2017-12-31 15:15 UTC
    first = STEEL.read_text(encoding="utf-8-sig").splitlines()[1].split(",")
    stored = park.store.query_rows(
        "SELECT value FROM readings WHERE point_id = 'steel-kwh' AND ts = TIMESTAMPTZ '2017-12-31 15:15:00+00'"
    )
    assert first[0] == "01/01/2018 00:15" and stored == [{"value": float(first[1])}]
    start, end = parse_time("2018-06-01"), parse_time("2018-06-08")
    text, n = park.export_csv("readings", point_id="steel-kwh", interval="1d", start=start, end=end)
    assert n == 7 and text.startswith("ts,")


def test_a_skab_semicolon_csv_imports_with_its_units(park, tmp_path):
    mapping = write(
        tmp_path,
        "skab.toml",
        '[points]\nAccelerometer1RMS = "skab-a1"\nTemperature = "skab-temp"\n[units]\nAccelerometer1RMS = "g0"\n',
    )
    result = park.ingest(SKAB, mapping=mapping)
    lines = SKAB.read_text().splitlines()
    assert result.rows_written == {"readings": 2 * (len(lines) - 1)}
    header, first = lines[0].split(";"), lines[1].split(";")
    got = park.store.query_rows("SELECT point_id, value FROM readings ORDER BY ts, point_id LIMIT 2")
    assert {r["point_id"]: r["value"] for r in got} == {
        "skab-a1": float(first[header.index("Accelerometer1RMS")]),
        "skab-temp": float(first[header.index("Temperature")]),
    }


# -- registries with Chinese headers, encodings, units ---------------------------------------------

ENTERPRISES = (
    "企业名称,统一社会信用代码,行业代码,从业人员,产值（亿元）,经度,纬度,重点用能单位\n"
    "广西南南铝加工有限公司,91450100MA5KXXXX0X,3252,1200,12.5,108.36,22.80,是\n"
    '南宁富桂精密工业有限公司,91450100MA5L000001,3971,"3,400",30,108.40,22.81,否\n'
)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_enterprise_registry_with_chinese_headers_in_every_encoding(park, tmp_path, encoding):
    path = write(tmp_path, "企业名录.csv", ENTERPRISES, encoding)
    result = park.ingest(path, park_id="nn-etdz")
    assert result.rows_written == {"enterprises": 2}
    rows = park.store.query_rows(
        "SELECT name, uscc, industry_code, employees, output_value_10k_cny, key_energy_user, lon, import_id "
        "FROM enterprises ORDER BY employees"
    )
    assert rows[0]["name"] == "广西南南铝加工有限公司" and rows[0]["employees"] == 1200
    assert rows[0]["output_value_10k_cny"] == pytest.approx(125_000)  # 12.5 亿元 = 125,000 万元
    assert rows[1]["employees"] == 3400 and rows[1]["key_energy_user"] is False
    assert rows[0]["import_id"] == result.import_id


def test_park_is_found_from_coordinates_when_the_file_does_not_name_it(park, tmp_path):
    result = park.ingest(write(tmp_path, "e.csv", ENTERPRISES))
    assert result.rows_written == {"enterprises": 2}
    assert {r["park_id"] for r in park.store.query_rows("SELECT park_id FROM enterprises")} == {"nn-etdz"}


def test_gcj02_coordinates_are_converted_and_the_crs_recorded(park, tmp_path):
    park.ingest(write(tmp_path, "e.csv", ENTERPRISES), park_id="nn-etdz", crs="GCJ02")
    row = park.store.query_rows("SELECT lon, lat, source_crs FROM enterprises ORDER BY employees LIMIT 1")[0]
    assert row["source_crs"] == "GCJ02"
    # GCJ-02 is offset from WGS84 by a few hundred metres in Nanning
    assert 0.002 < 108.36 - row["lon"] < 0.01 and 0.0005 < abs(22.80 - row["lat"]) < 0.01


def test_devices_points_and_long_readings_with_units_through_excel_and_jsonl(park, tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["设备编号", "设备名称", "设备类型", "生产厂家", "型号"])
    sheet.append(["m2", "2号厂房总表", "Building_Electrical_Meter", "威胜", "DTSD341"])
    book.save(tmp_path / "设备台账.xlsx")
    assert park.ingest(tmp_path / "设备台账.xlsx", park_id="nn-etdz").rows_written == {"devices": 1}
    points = write(
        tmp_path,
        "points.csv",
        "测点编号,设备编号,物理量,单位,值类型\nm2-kwh,m2,electric_energy,kWh,cumulative\n",
    )
    assert park.ingest(points).rows_written == {"points": 1}
    assert park.point("m2-kwh")["brick_class"] == "Electric_Energy_Sensor"  # from the quantity
    lines = [
        {"point_id": "m2-kwh", "ts": "2026-11-01T00:00:00+08:00", "value": 1.5, "unit": "万千瓦时"},
        {"point_id": "m2-kwh", "ts": "2026-11-01 01:00", "value": 15010, "unit": "度"},
        {"point_id": "m2-kwh", "ts": 1793469600000, "value": 15.02, "unit": "兆瓦时"},
    ]
    path = write(tmp_path, "r.jsonl", "\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n")
    assert park.ingest(path).rows_written == {"readings": 3}
    got = park.store.query_rows("SELECT ts, value FROM readings WHERE point_id = 'm2-kwh' ORDER BY ts")
    assert [r["value"] for r in got] == [15_000, 15_010, 15_020]
    assert got[0]["ts"].isoformat() == "2026-10-31T16:00:00+00:00"  # naive and offset times agree
    assert got[1]["ts"].isoformat() == "2026-10-31T17:00:00+00:00"  # naive = Asia/Shanghai


# -- bad input: a clear error, and the database exactly as it was ------------------------------------

GOOD_HEAD = "point_id,ts,value\nm1-kwh,2026-11-01 00:00,1\n"
BAD_FILES = {
    "wrong column count": ("r.csv", GOOD_HEAD + "m1-kwh,2026-11-01 00:15,2,7\n", "line 3", "columns"),
    "bad number": ("r.csv", GOOD_HEAD + "m1-kwh,2026-11-01 00:15,十二\n", "line 3", "'value'"),
    "bad date": ("r.csv", GOOD_HEAD + "m1-kwh,2026-13-45 00:15,2\n", "line 3", "'ts'"),
    "unknown point": ("r.csv", GOOD_HEAD + "m9-kwh,2026-11-01 00:15,2\n", "line 3", "unknown point 'm9-kwh'"),
    "unit not convertible": (
        "r.csv",
        "point_id,ts,value,unit\nm1-kwh,2026-11-01,1,kWh\nm1-kwh,2026-11-02,1,m3\n",
        "line 3",
        "cannot be converted",
    ),
    "broken json": (
        "r.jsonl",
        '{"point_id": "m1-kwh", "ts": "2026-11-01", "value": 1}\n{"point_id": "m1-kwh", "ts": \n',
        "line 2",
        "broken JSON",
    ),
    "empty file": ("r.csv", "", "r.csv", "empty"),
    "header only": ("r.csv", "point_id,ts,value\n", "line 2", "no rows"),
    "binary file": ("r.csv", "\x00\x01\x02PK\x00\x00garbage", "r.csv", "binary"),
    "lat/lon swapped": (
        "e.csv",
        "企业名称,统一社会信用代码,经度,纬度\n甲公司,,108.36,22.80\n乙公司,,22.81,108.40\n",
        "line 3",
        "swapped",
    ),
    "no park": ("d.csv", "设备编号,设备类型\nx1,Pump\n", "line 2", "park_id"),
    "unknown park": ("d.csv", "设备编号,设备类型,park_id\nx1,Pump,nowhere\n", "line 2", "unknown park"),
    "point of unknown device": (
        "p.csv",
        "测点编号,设备编号,物理量,单位,值类型\np9,d9,power,kW,instant\n",
        "line 2",
        "unknown device",
    ),
    "unknown unit": (
        "p.csv",
        "测点编号,设备编号,物理量,单位,值类型\np9,m1,power,千瓦特时,instant\n",
        "line 2",
        "unknown unit",
    ),
}


@pytest.mark.parametrize("case", BAD_FILES, ids=list(BAD_FILES))
def test_a_bad_file_is_refused_with_its_line_and_field_and_changes_nothing(park, tmp_path, case):
    name, text, where, what = BAD_FILES[case]
    park.ingest(write(tmp_path, "ok.csv", GOOD_HEAD))
    before = counts(park)
    audit_before = park.store.count("audit_log")
    path = tmp_path / name
    path.write_bytes(text.encode("latin-1") if case == "binary file" else text.encode())
    with pytest.raises(BadFile) as err:
        park.ingest(path)
    assert name in str(err.value) and where in str(err.value) and what in str(err.value), str(err.value)
    if "line" in where:
        assert "expected" in str(err.value)
    assert counts(park) == before and park.store.count("audit_log") == audit_before


def test_a_failure_while_writing_rolls_back_every_table(park, tmp_path, monkeypatch):
    path = write(tmp_path, "r.csv", GOOD_HEAD + "m1-kwh,2026-11-01 00:15,2\n")
    before = counts(park)

    def boom(*_a, **_k):
        raise RuntimeError("disk full")

    original = park.store.write
    monkeypatch.setattr(
        park.store, "write", lambda table, *a, **k: boom() if table == "imports" else original(table, *a, **k)
    )
    with pytest.raises(RuntimeError):
        park.ingest(path)
    assert counts(park) == before  # the readings written before the lineage row were rolled back


# -- idempotency, conflicts, lineage --------------------------------------------------------------


def test_importing_the_same_file_twice_adds_nothing(park, tmp_path):
    path = write(tmp_path, "r.csv", GOOD_HEAD + "m1-kwh,2026-11-01 00:15,2\n")
    first = park.ingest(path)
    after_first = counts(park)
    second = park.ingest(path)
    assert second.unchanged and second.import_id == first.import_id and counts(park) == after_first
    # the same rows in another file: a new import that writes nothing new
    copy = write(tmp_path, "copy.csv", GOOD_HEAD + "m1-kwh,2026-11-01 00:15,2\n\n")
    third = park.ingest(copy)
    assert not third.unchanged and third.rows_written == {"readings": 0} and third.duplicates == 2


def test_conflicting_duplicates_are_reported_not_dropped(park, tmp_path):
    park.ingest(write(tmp_path, "a.csv", GOOD_HEAD))
    text = (
        "point_id,ts,value\nm1-kwh,2026-11-01 00:00,5\nm1-kwh,2026-11-01 00:15,2\nm1-kwh,2026-11-01 00:15,3\n"
    )
    result = park.ingest(write(tmp_path, "b.csv", text))
    assert result.conflicts == 2
    wheres = sorted(c["where"] for c in result.conflict_samples)
    assert wheres == ["file", "stored"]
    assert park.store.query_rows("SELECT value FROM readings ORDER BY ts") == [{"value": 1}, {"value": 2}]
    row = park.imports()[0]
    assert row["conflicts"] == 2 and row["import_id"] == result.import_id


def test_lineage_names_file_hash_time_and_user_and_is_audited(park, tmp_path):
    import hashlib

    path = write(tmp_path, "r.csv", GOOD_HEAD)
    admin = Principal("user", "u1", "zhang", "park_admin", park_id="nn-etdz")
    result = park.as_principal(admin).ingest(path)
    row = park.imports()[0]
    assert row["file_name"] == "r.csv" and row["file_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (
        row["actor"] == "user:zhang"
        and row["park_id"] == "nn-etdz"
        and row["finished_at"] >= row["started_at"]
    )
    assert park.store.query_rows("SELECT DISTINCT import_id FROM readings") == [
        {"import_id": result.import_id}
    ]
    entry = park.audit_entries(action="import")[0]
    assert entry["target"] == "r.csv" and entry["detail"]["import_id"] == result.import_id


def test_a_park_admin_imports_only_into_its_own_park(park, tmp_path):
    other = Principal("user", "u2", "li", "park_admin", park_id="qz-port")
    before = counts(park)
    with pytest.raises(Forbidden):
        park.as_principal(other).ingest(write(tmp_path, "r.csv", GOOD_HEAD))
    with pytest.raises(Forbidden):
        park.as_principal(Principal("user", "u3", "wang", "enterprise", enterprise_id="e1")).ingest(
            write(tmp_path, "r2.csv", GOOD_HEAD)
        )
    assert counts(park) == before


# -- detection and mapping --------------------------------------------------------------------------


def test_the_table_is_detected_from_the_headers(park, tmp_path):
    assert park.ingest(
        write(tmp_path, "b.csv", "建筑名称,层数,建筑面积(平方米)\n1号厂房,3,12000\n"), park_id="nn-etdz"
    ).rows_read == {"buildings": 1}
    result = park.ingest(
        write(tmp_path, "w.tsv", "时间\tm1-kwh\tm1-kw\n2026-11-01 00:00\t10\t3.5\n2026-11-01 00:15\t11\t\n")
    )
    assert result.rows_written == {"readings": 3}  # wide: one column per point, empty cells skipped
    with pytest.raises(BadFile, match="cannot tell which table"):
        park.ingest(write(tmp_path, "x.csv", "foo,bar\n1,2\n"))


def test_a_mapping_typo_is_an_error(park, tmp_path):
    mapping = write(tmp_path, "m.toml", '[points]\n"Usage_kwh" = "steel-kwh"\n[columns]\ndate = "ts"\n')
    with pytest.raises(BadFile, match="names a column 'Usage_kwh' the file does not have"):
        park.ingest(STEEL, mapping=mapping)


# -- the command line -----------------------------------------------------------------------------


def test_cli_import_and_imports(tmp_path):
    db = tmp_path / "p.duckdb"
    with Park.open(db) as p:
        seed(p)
    path = write(tmp_path, "r.csv", GOOD_HEAD + "m1-kwh,2026-11-01 00:15,2\n")
    runner = CliRunner()
    ok = runner.invoke(cli, ["import", str(path), "--db", str(db)])
    assert ok.exit_code == 0, ok.output
    assert "Imported r.csv as import 1" in ok.output and "2 readings" in ok.output
    again = runner.invoke(cli, ["import", str(path), "--db", str(db), "--format", "json"])
    assert json.loads(again.output)["unchanged"] is True
    bad = runner.invoke(
        cli, ["import", str(write(tmp_path, "bad.csv", GOOD_HEAD + "m1-kwh,x,2\n")), "--db", str(db)]
    )
    assert (
        bad.exit_code == 1 and "bad.csv, line 3, field 'ts'" in bad.output and "Traceback" not in bad.output
    )
    listing = runner.invoke(cli, ["imports", "--db", str(db), "--format", "json"])
    rows = json.loads(listing.output)
    assert [r["file_name"] for r in rows] == ["r.csv"] and rows[0]["rows_written"] == 2


# -- the API ---------------------------------------------------------------------------------------


def test_api_upload_imports_and_lists_lineage(park, tmp_path):
    from fastapi.testclient import TestClient

    from parkbrain.api.app import create_app

    park.store.write("enterprises", [{"enterprise_id": "e1", "park_id": "nn-etdz", "name": "甲公司"}])
    admin = park.create_token("park_admin", park_id="nn-etdz", expires="1d").secret
    operator_elsewhere = park.create_token("park_admin", park_id="qz-port", expires="1d").secret
    enterprise = park.create_token("enterprise", enterprise_id="e1", park_id="nn-etdz", expires="1d").secret
    client = TestClient(create_app(park))

    def upload(token: str, name: str, body: bytes, **form: str):
        return client.post(
            "/api/imports",
            headers={"Authorization": f"Bearer {token}"},
            files={"file": (name, body, "text/csv")},
            data=form,
        )

    body = (GOOD_HEAD + "m1-kwh,2026-11-01 00:15,2\n").encode()
    created = upload(admin, "../../etc/电表.csv", body)
    assert created.status_code == 201, created.text
    assert created.json()["rows_written"] == {"readings": 2} and created.json()["file_name"] == "电表.csv"
    assert upload(admin, "电表.csv", body).json()["unchanged"] is True
    bad = upload(admin, "bad.csv", b"point_id,ts,value\nm1-kwh,2026-11-01,abc\n")
    assert bad.status_code == 422 and "bad.csv, line 2, field 'value'" in bad.json()["error"]["message"]
    assert upload(operator_elsewhere, "x.csv", body.replace(b"00:15", b"00:30")).status_code == 403
    assert upload(enterprise, "x.csv", body).status_code == 403
    mapping = b'[columns]\nwhen = "ts"\nv = "value"\np = "point_id"\n'
    mapped = client.post(
        "/api/imports",
        headers={"Authorization": f"Bearer {admin}"},
        files={"file": ("m.csv", b"p,when,v\nm1-kwh,2026-11-02,9\n"), "mapping": ("m.toml", mapping)},
        data={"as": "readings"},
    )
    assert mapped.status_code == 201, mapped.text
    listed = client.get("/api/imports", headers={"Authorization": f"Bearer {admin}"}).json()
    assert [r["file_name"] for r in listed] == ["m.csv", "电表.csv"]
    assert client.get("/api/imports", headers={"Authorization": f"Bearer {enterprise}"}).status_code == 403


# -- the bulk path ---------------------------------------------------------------------------------

LONG = "point_id,ts,value\n" + "".join(
    f"{p},2026-11-01 {h:02d}:{m:02d}:00,{i * 1.5 + (7 if p == 'm1-kw' else 0)}\n"
    for p in ("m1-kwh", "m1-kw")
    for i, (h, m) in enumerate((h, m) for h in range(6) for m in (0, 15, 30, 45))
)


def _state(park: Park) -> dict[str, list]:
    q = park.store.query_rows
    return {
        "readings": q("SELECT point_id, ts, value FROM readings ORDER BY ALL"),
        "15m": q("SELECT * FROM readings_15m ORDER BY ALL"),
        "1d": q("SELECT * FROM readings_1d ORDER BY ALL"),
        "latest": q("SELECT * FROM latest_readings ORDER BY ALL"),
    }


def test_the_bulk_path_stores_exactly_what_the_row_path_stores(tmp_path):
    path = write(tmp_path, "long.csv", LONG)
    with Park(memory=True) as bulk, Park(memory=True) as rows:
        seed(bulk), seed(rows)
        progress: list[str] = []
        bulk.ingest(path, progress=progress.append)
        assert any(p.startswith("stored") for p in progress)  # it did take the bulk path
        from parkbrain.sources.base import ImportOptions
        from parkbrain.sources.pipeline import ingest

        ingest(rows.store, path, ImportOptions(), "system", bulk=False)
        assert _state(bulk) == _state(rows) and len(_state(bulk)["readings"]) == 48


def test_the_bulk_path_falls_back_to_row_checks_for_anything_it_would_have_to_decide(park, tmp_path):
    park.ingest(write(tmp_path, "a.csv", GOOD_HEAD))  # m1-kwh at 00:00 = 1
    progress: list[str] = []
    result = park.ingest(write(tmp_path, "b.csv", LONG), progress=progress.append)
    assert any(p.startswith("checking row by row (the file has readings already stored)") for p in progress)
    assert result.conflicts == 1 and result.duplicates == 1 and result.rows_written == {"readings": 47}


def test_rollups_left_pending_by_a_crash_are_refreshed_at_the_next_open(tmp_path):
    from parkbrain.store.base import CsvReadings

    db = tmp_path / "p.duckdb"
    with Park.open(db) as p:
        seed(p)
        csv = write(tmp_path, "long.csv", LONG)
        spec = CsvReadings(str(csv), ",", 1, 3, 0, 1, 2, "%Y-%m-%d %H:%M:%S", "Asia/Shanghai")
        with p.store.transaction():
            p.store.load_readings_csv(spec, 1)  # committed, then "the process dies" before the refresh
        assert p.store.count("readings") == 48 and p.store.count("readings_15m") == 0
    with Park.open(db) as p:
        assert p.store.count("rollups_pending") == 0 and p.store.count("readings_15m") == 48


# -- every source through Park.ingest: bad files change nothing, good ones import once -------------

IFC = SHARED_DATA / "ifc-samples"
GUANGXI = SHARED_DATA / "guangxi-boundaries" / "guangxi_province_prefectures.geojson"


def _cut(path: Path, tmp_path: Path, fraction: float = 0.5) -> Path:
    data = path.read_bytes()
    out = tmp_path / f"cut-{path.name}"
    out.write_bytes(data[: int(len(data) * fraction)])
    return out


def _swapped_geojson(tmp_path: Path) -> Path:
    ring = [[22.75, 108.30], [22.75, 108.45], [22.88, 108.45], [22.88, 108.30], [22.75, 108.30]]
    feature = {
        "type": "Feature",
        "properties": {"park_id": "nn-new", "园区名称": "新园区", "region_code": "450100"},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }
    path = tmp_path / "parks.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}), encoding="utf-8")
    return path


BAD_OTHER = {
    "truncated IFC": (
        lambda t: _cut(IFC / "air-terminal-element.ifc", t),
        {"park_id": "nn-etdz"},
        "cut-air-terminal-element.ifc",
    ),
    "broken GeoJSON": (lambda t: _cut(GUANGXI, t, 0.3), {}, "line"),
    "swapped GeoJSON": (_swapped_geojson, {"table": "parks"}, "feature 1"),
}


@pytest.mark.parametrize("case", BAD_OTHER, ids=list(BAD_OTHER))
def test_bad_gis_and_bim_files_change_nothing(park, tmp_path, case):
    make, options, where = BAD_OTHER[case]
    before = counts(park) | {"regions": park.store.count("regions"), "parks": park.store.count("parks")}
    with pytest.raises(BadFile) as err:
        park.ingest(make(tmp_path), **options)
    assert where in str(err.value), str(err.value)
    assert (
        counts(park) | {"regions": park.store.count("regions"), "parks": park.store.count("parks")} == before
    )


@pytest.mark.parametrize("sample", ["air-terminal-element.ifc", "geographic-referencing.ifc"])
def test_both_ifc_samples_import_once_with_lineage(park, sample):
    first = park.ingest(IFC / sample, park_id="nn-etdz")
    assert first.rows_written.get("buildings", 0) >= 1
    rows = park.store.query_rows("SELECT ifc_guid, import_id, data_source FROM buildings")
    assert rows and all(r["ifc_guid"] and r["import_id"] == first.import_id for r in rows)
    assert rows[0]["data_source"] == f"file:{sample}"
    assert park.ingest(IFC / sample, park_id="nn-etdz").unchanged


def test_cli_brick_export_writes_a_valid_model(tmp_path):
    db = tmp_path / "p.duckdb"
    with Park.open(db) as p:
        seed(p)
    out = tmp_path / "park.ttl"
    result = CliRunner().invoke(
        cli, ["brick", "export", "--db", str(db), "--park", "nn-etdz", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "valid against the Brick 1.5 shapes" in result.output
    text = out.read_text(encoding="utf-8")
    assert 'ref:hasTimeseriesId "m1-kwh"' in text and "q1-m3" not in text  # one park only
    with Park.open(db, read_only=True) as p:
        assert p.store.query_rows("SELECT action, target FROM audit_log")[-1] == {
            "action": "export",
            "target": "brick",
        }


@pytest.mark.parametrize("budget", [800_000_000, 1], ids=["bitmaps", "hashes"])
@pytest.mark.parametrize(
    "times",
    [("00:00:00", "00:15:00"), ("00:00:07", "00:00:09"), ("00:00:00.250", "00:00:00.500")],
    ids=["minutes", "seconds", "sub-second"],
)
def test_the_bulk_duplicate_check_is_exact(tmp_path, monkeypatch, budget, times):
    import parkbrain.store.duckdb as duck
    from parkbrain.store.base import BulkRefused, CsvReadings

    monkeypatch.setattr(duck, "BITMAP_BUDGET_BITS", budget)
    a, b = times
    rows = [("m1-kw", a), ("m1-kw", b), ("m1-kwh", a), ("m1-kwh", "23:59:00" + a[8:])]
    clean = write(
        tmp_path, "clean.csv", "point_id,ts,value\n" + "".join(f"{p},2026-11-01 {t},1\n" for p, t in rows)
    )
    dup = write(tmp_path, "dup.csv", clean.read_text() + f"m1-kw,2026-11-01 {b},1\n")
    for path, refused in ((clean, False), (dup, True)):
        with Park(memory=True) as p:
            seed(p)
            layout = "%Y-%m-%d %H:%M:%S" + (".%f" if "." in a else "")
            spec = CsvReadings(str(path), ",", 1, 3, 0, 1, 2, layout, "Asia/Shanghai")
            if refused:
                with pytest.raises(BulkRefused, match="duplicate"), p.store.transaction():
                    p.store.load_readings_csv(spec, 1)
                assert p.store.count("readings") == 0
            else:
                with p.store.transaction():
                    assert p.store.load_readings_csv(spec, 1).inserted == 4


def test_a_later_time_with_an_offset_sends_the_file_the_careful_way(park, tmp_path):
    """The bulk loader parses the head's layout strictly; an offset further down is honoured."""
    rows = "".join(f"m1-kw,2026-11-01 {h:02d}:{m:02d}:00,1\n" for h in range(20) for m in (0, 15, 30))
    path = write(tmp_path, "r.csv", "point_id,ts,value\n" + rows + "m1-kw,2026-11-02 00:00:00Z,2\n")
    progress: list[str] = []
    park.ingest(path, progress=progress.append)
    assert any(p.startswith("checking row by row") for p in progress)
    last = park.store.query_rows("SELECT ts FROM readings WHERE value = 2")[0]["ts"]
    assert last.isoformat() == "2026-11-02T00:00:00+00:00"  # Z is UTC, not Asia/Shanghai
