"""Energy & carbon reports: .xlsx with charts and CSV, the monthly schedule, the CLI and the REST API."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from parkbrain import Park
from parkbrain.analytics.energy_schedule import MONTHLY, ReportScheduler
from parkbrain.api import create_app
from parkbrain.cli import cli
from parkbrain.errors import Forbidden, NotFound
from parkbrain.space.principal import Principal
from tests.test_energy import CST, readings, seed

JANUARY = {"start": "2026-01-01", "end": "2026-02-01"}
JANUARY_ARGS = ("--start", "2026-01-01", "--end", "2026-02-01")


def fill(park: Park) -> Park:
    """December and January: e1's register and gas, e2's power meter, all granted to nobody."""
    first = datetime(2025, 12, 1, tzinfo=CST)
    hours = 62 * 24 + 1  # up to 1 February 00:00, so that the last January hour has its increase
    park.store.write_readings(
        readings("m1-kwh", first, timedelta(hours=1), [1000.0 + 10 * i for i in range(hours)])
    )
    park.store.write_readings(readings("g1-m3", first, timedelta(hours=1), [2.0] * hours))
    park.store.write_readings(readings("m2-kw", first, timedelta(hours=1), [50.0] * hours))
    park.store.write(
        "enterprises",
        [
            {
                "enterprise_id": "e1",
                "park_id": "nn",
                "name": "甲公司",
                "key_energy_user": True,
                "output_value_10k_cny": 36_500.0,
            }
        ],
    )
    return park


@pytest.fixture
def park():
    with Park(memory=True) as p:
        yield fill(seed(p))


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "park.duckdb"
    with Park.open(path) as p:
        fill(seed(p))
    return path


# -- the report -----------------------------------------------------------------------------------------


def test_the_report_names_its_coefficients_factors_and_intensity(park):
    report = park.energy_report(enterprise_id="e1", **JANUARY)
    by_carrier = {c["carrier"]: c for c in report["consumption"]}
    assert by_carrier["electricity"]["amount"] == pytest.approx(31 * 24 * 10)
    assert by_carrier["natural_gas"]["amount"] == pytest.approx(31 * 24 * 2)
    tce = 7440 * 0.1229 / 1000 + 1488 * 1.2143 / 1000
    assert report["tce"] == pytest.approx(tce)
    assert report["tco2_scope2"] == pytest.approx(7440 * 0.4044 / 1000)
    assert report["tco2_scope1"] == pytest.approx(1488 * 2.16219 / 1000, rel=1e-4)
    assert report["intensity"]["tce_per_10k_cny"] == pytest.approx(tce / 3_100)
    assert report["intensity"]["tco2_per_tce"] == pytest.approx(report["tco2"] / tce)
    assert set(report["coefficients"]) == {"electricity", "natural_gas"}
    assert report["factors"]["natural_gas"]["method"].startswith("GB/T 32150-2015")
    assert report["electricity_factor"]["kgco2_per_kwh"] == 0.4044
    assert report["comparison"]["previous"]["change_tce"] == pytest.approx(0, abs=1e-9)  # December alike
    assert report["period"] == "2026-01" and len({d["date"] for d in report["daily"]}) == 31
    assert any("折算" in n for n in report["notes"])  # the prorated output is said


def test_a_park_report_for_the_province_holds_the_enterprises_and_the_threshold(park):
    report = park.energy_report(park_id="nn", **JANUARY)
    assert [e["enterprise_id"] for e in report["by_enterprise"]] == ["e2", "e1"]  # by tce, largest first
    assert report["intensity"]["zero_carbon_threshold"] is None  # far below 200,000 tce a year
    assert report["intensity"]["yearly_tce_estimate"] == pytest.approx(report["tce"] * 365 / 31)
    (nn,) = [r for r in park.carbon_parks(**JANUARY) if r["park_id"] == "nn"]
    assert nn["tco2"] == pytest.approx(report["tco2"]) and nn["tco2_per_tce"] > 0


def test_xlsx_has_a_bar_chart_by_carrier_and_a_daily_line_chart(park):
    content, name, media_type = park.energy_report_file("xlsx", enterprise_id="e1", **JANUARY)
    assert name == "energy-enterprise-e1-2026-01.xlsx" and media_type.endswith("spreadsheetml.sheet")
    wb = load_workbook(io.BytesIO(content))
    assert wb.sheetnames == ["汇总", "日数据", "说明"]
    summary, daily = wb["汇总"], wb["日数据"]
    assert [type(c).__name__ for c in summary._charts] == ["BarChart"]
    assert [type(c).__name__ for c in daily._charts] == ["LineChart"]
    assert summary["A4"].value == "能源品种 carrier" and daily.max_row == 32
    assert any("GB/T 2589-2020" in str(c.value) for row in wb["说明"].iter_rows() for c in row)


def test_csv_has_chinese_headers_and_the_totals(park):
    content, name, _ = park.energy_report_file("csv", park_id="nn", **JANUARY)
    text = content.decode("utf-8-sig")
    assert name.endswith(".csv") and "折标煤 tce" in text and "单位能耗碳排放 tCO2/tce" in text
    assert "province:广西:2022:average" in text


def test_an_enterprise_reads_its_own_scheduled_report_and_nobody_elses(db, tmp_path):
    now = datetime(2026, 2, 1, 8, 30, tzinfo=CST)  # due: day 1, 08:00, for January
    with Park.open(db) as park:
        assert park.run_scheduled_reports(datetime(2026, 2, 1, 7, 59, tzinfo=CST)) == []  # not yet
        stopped = ReportScheduler(lambda t, stop: park.run_scheduled_reports(t, stop=stop), clock=lambda: now)
        stopped.stop()
        assert stopped.tick() == []  # a server shutting down writes nothing more
        scheduler = ReportScheduler(
            lambda t, stop: park.run_scheduled_reports(t, stop=stop), clock=lambda: now
        )
        made = scheduler.tick()
        assert {(r["kind"], r["subject_id"], r["format"]) for r in made} == {
            (kind, subject, fmt)
            for kind, subject in (("park", "nn"), ("park", "qz"), ("enterprise", "e1"))
            for fmt in ("xlsx", "csv")
        }
        assert all(r["period"] == "2026-01" for r in made)
        assert scheduler.tick() == []  # written once
        audited = park.store.query_rows(
            "SELECT count(*) AS n FROM audit_log WHERE action = 'export' AND target = 'energy_report'"
        )
        assert audited == [{"n": 6}]
        assert (db.parent / "reports" / "energy-enterprise-e1-2026-01.xlsx").is_file()
        e1 = park.as_principal(Principal("token", "t1", "t1", "enterprise", park_id="nn", enterprise_id="e1"))
        e2 = park.as_principal(Principal("token", "t2", "t2", "enterprise", park_id="nn", enterprise_id="e2"))
        mine = e1.energy_reports()
        assert {r["subject_id"] for r in mine} == {"e1"} and len(mine) == 2
        content, name, _ = e1.energy_report_download(mine[0]["report_id"])
        assert content == (db.parent / "reports" / name).read_bytes()
        assert e2.energy_reports() == []
        with pytest.raises(NotFound):
            e2.energy_report_download(mine[0]["report_id"])
        with pytest.raises(Forbidden):
            e1.run_scheduled_reports(now)
        # the park's scheduled report holds what the park may see: nothing was granted to it
        rows = {r["subject_id"]: r for r in made if r["format"] == "csv"}
        park_csv = (db.parent / "reports" / rows["nn"]["file_name"]).read_text(encoding="utf-8-sig")
        e1_csv = (db.parent / "reports" / rows["e1"]["file_name"]).read_text(encoding="utf-8-sig")
        assert "\n电力," in e1_csv and "\n电力," not in park_csv


def test_the_schedule_is_due_on_day_one_for_the_previous_month():
    start, end = MONTHLY.due_period(datetime(2026, 3, 1, 8, 0, tzinfo=CST))
    assert (start.astimezone(CST).date().isoformat(), end.astimezone(CST).date().isoformat()) == (
        "2026-02-01",
        "2026-03-01",
    )
    start, _ = MONTHLY.due_period(datetime(2026, 3, 2, 9, 0, tzinfo=CST))  # caught up the next day
    assert start.astimezone(CST).month == 2
    assert MONTHLY.due_period(datetime(2026, 3, 20, tzinfo=CST)) is None  # long past: not caught up
    assert (
        MONTHLY.due_period(datetime(2026, 1, 1, 7, 0, tzinfo=CST)) is None
    )  # not yet, and December's is old


# -- CLI -------------------------------------------------------------------------------------------------


def test_cli_energy_report_json_xlsx_and_the_factor(db, tmp_path):
    run = CliRunner().invoke
    result = run(
        cli,
        [
            "energy",
            "report",
            "--enterprise",
            "e1",
            "--start",
            "2026-01-01",
            "--end",
            "2026-02-01",
            "--db",
            str(db),
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert {"consumption", "tce", "tco2", "intensity", "coefficients", "factors"} <= set(report)
    national = json.loads(
        run(
            cli,
            [
                "energy",
                "report",
                "--enterprise",
                "e1",
                "--start",
                "2026-01-01",
                "--end",
                "2026-02-01",
                "--factor",
                "national:全国:2022",
                "--db",
                str(db),
            ],
        ).output
    )
    assert national["factors"]["electricity"]["kgco2_per_kwh"] == 0.5366
    out = tmp_path / "r.xlsx"
    result = run(
        cli,
        ["energy", "report", "--park", "nn", "--format", "xlsx", "--out", str(out), "--db", str(db)]
        + ["--start", "2026-01-01", "--end", "2026-02-01"],
    )
    assert result.exit_code == 0, result.output
    assert load_workbook(out)["汇总"]._charts
    bad = run(cli, ["energy", "report", "--enterprise", "e1", "--factor", "province:火星", "--db", str(db)])
    assert bad.exit_code == 1 and bad.output.startswith("Error: factor") and "Traceback" not in bad.output
    both = run(cli, ["energy", "report", "--enterprise", "e1", "--park", "nn", "--db", str(db)])
    assert both.exit_code != 0


def test_cli_summary_factors_alerts_and_schedule(db, tmp_path):
    run = CliRunner().invoke
    summary = run(
        cli,
        [
            "energy",
            "summary",
            "--start",
            "2026-01-01",
            "--end",
            "2026-02-01",
            "--by",
            "province",
            "--db",
            str(db),
        ],
    )
    assert summary.exit_code == 0 and "广西壮族自治区" in summary.output
    factors = run(cli, ["energy", "factors", "--table", "grid_factors", "--format", "json", "--db", str(db)])
    assert any(r["kgco2_per_kwh"] == 0.4044 for r in json.loads(factors.output)["grid_factors"])
    alerts = run(cli, ["energy", "alerts", "--start", "2026-01-20", "--end", "2026-02-01", "--db", str(db)])
    assert alerts.exit_code == 0 and "energy_above_baseline" in alerts.output
    made = run(
        cli, ["energy", "schedule", "--at", "2026-02-01T09:00:00+08:00", "--format", "json", "--db", str(db)]
    )
    assert made.exit_code == 0 and len(json.loads(made.output)) == 6
    listed = json.loads(run(cli, ["energy", "reports", "--format", "json", "--db", str(db)]).output)
    out = tmp_path / "copy.csv"
    result = run(cli, ["energy", "download", listed[0]["report_id"], "--out", str(out), "--db", str(db)])
    assert result.exit_code == 0 and out.stat().st_size == listed[0]["size_bytes"]


# -- REST ------------------------------------------------------------------------------------------------


def test_rest_report_formats_and_scope(park):
    app = create_app(park)
    province = TestClient(
        app, headers={"Authorization": f"Bearer {park.create_token('province_admin', expires='1d').secret}"}
    )
    e2 = TestClient(
        app,
        headers={
            "Authorization": f"Bearer {park.create_token('enterprise', enterprise_id='e2', expires='1d').secret}"
        },
    )
    q = {"enterprise_id": "e1", **JANUARY}
    report = province.get("/api/energy/report", params=q).json()
    assert round(report["tce"], 4) == round(park.energy_report(enterprise_id="e1", **JANUARY)["tce"], 4)
    xlsx = province.get("/api/energy/report", params={**q, "format": "xlsx"})
    assert xlsx.status_code == 200 and load_workbook(io.BytesIO(xlsx.content))["日数据"]._charts
    assert "attachment" in xlsx.headers["content-disposition"]
    csv = province.get("/api/energy/report", params={**q, "format": "csv"})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert e2.get("/api/energy/report", params=q).status_code == 404
    assert e2.get("/api/energy/report", params={"park_id": "nn", **JANUARY}).status_code == 403
    own = e2.get("/api/energy/summary", params={**JANUARY, "grain": "total", "by": ["enterprise"]}).json()
    assert {r["enterprise_id"] for r in own["rows"]} == {"e2"}
    assert e2.get("/api/carbon/parks", params=JANUARY).status_code == 403
    parks = province.get("/api/carbon/parks", params=JANUARY).json()
    assert {p["park_id"] for p in parks} == {"nn", "qz"}
    factors = province.get("/api/energy/factors").json()
    assert factors["default_factor"] == "province:广西"
    bad = province.get("/api/energy/summary", params={"start": "yesterday", "end": "2026-02-01"})
    assert bad.status_code == 422 and bad.json()["error"]["type"] == "InvalidInput"
    assert province.get("/api/reports").json() == []
    assert province.get("/api/reports/download", params={"report_id": "R-nothing"}).status_code == 404


def test_cli_energy_goes_through_the_server_that_holds_the_database(db, tmp_path):
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    parkbrain = [sys.executable, "-m", "parkbrain.cli"]
    server = subprocess.Popen(
        [*parkbrain, "serve", "--db", str(db), "--port", str(port)],
        stdout=subprocess.DEVNULL,
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
            pytest.fail(
                "server did not start: " + (server.stderr.read() if server.poll() is not None else "timeout")
            )

        def run(*args: str) -> subprocess.CompletedProcess:
            return subprocess.run(
                [*parkbrain, "energy", *args, "--db", str(db)], capture_output=True, text=True, timeout=120
            )

        out = tmp_path / "e1.xlsx"
        made = run("report", "--enterprise", "e1", "--format", "xlsx", "--out", str(out), *JANUARY_ARGS)
        assert made.returncode == 0, made.stderr
        assert load_workbook(out)["汇总"]._charts
        scheduled = run("schedule", "--at", "2026-02-01T08:00:00+08:00", "--format", "json")
        assert scheduled.returncode == 0, scheduled.stderr
        assert len(json.loads(scheduled.stdout)) == 6
        assert (db.parent / "reports" / "energy-park-nn-2026-01.xlsx").is_file()
        refused = run("report", "--park", "nowhere", *JANUARY_ARGS)
        assert refused.returncode == 1 and refused.stderr.startswith("Error: no park")
    finally:
        server.terminate()
        server.wait(timeout=60)
