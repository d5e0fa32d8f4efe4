"""The semantic views of the park assistant agree with the energy reports and keep to the caller's scope."""

from __future__ import annotations

from datetime import date

import pytest

from parkbrain import Park
from parkbrain.ai.semantic import VIEWS
from parkbrain.ai.views import ViewScope, create_semantic_views

CONTRACT_COLUMNS = {
    "sem_enterprises": [
        "enterprise_id",
        "enterprise_name",
        "park_id",
        "park_name",
        "city_code",
        "city_name",
        "industry_code",
        "industry_name",
        "employees",
        "output_value_10k_cny",
        "key_energy_user",
        "building_id",
    ],
    "sem_parks": ["park_id", "park_name", "city_code", "city_name", "level", "kind", "approved_area_ha"],
    "sem_energy_daily": [
        "day",
        "point_id",
        "device_id",
        "enterprise_id",
        "building_id",
        "park_id",
        "city_code",
        "carrier",
        "unit",
        "amount",
        "tce",
        "tco2",
    ],
    "sem_alerts": [
        "alert_id",
        "ts",
        "day",
        "park_id",
        "enterprise_id",
        "device_id",
        "rule",
        "severity",
        "status",
    ],
    "sem_aqi_daily": ["day", "device_id", "park_id", "city_code", "aqi", "primary_pollutant", "level"],
    "sem_buildings": ["building_id", "building_name", "park_id", "floors", "area_m2"],
    "sem_devices": ["device_id", "device_name", "kind", "park_id", "enterprise_id", "building_id"],
}


@pytest.fixture(scope="module")
def small(small_demo_file):
    with Park.open(small_demo_file, read_only=True) as p:
        yield p


def test_views_have_the_contract_columns(small) -> None:
    con = small.store.cursor()
    assert create_semantic_views(con, small.store) == list(VIEWS)
    for view, columns in CONTRACT_COLUMNS.items():
        got = [r[0] for r in con.execute(f"DESCRIBE {view}").fetchall()]
        assert got == columns, view
        assert con.execute(f"SELECT count(*) FROM {view}").fetchone()[0] > 0, view
    types = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE sem_energy_daily)").fetchall())
    assert types["day"] == "DATE" and types["amount"] == "DOUBLE"
    aqi = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE sem_aqi_daily)").fetchall())
    assert aqi["aqi"] == "INTEGER"


def test_energy_agrees_with_the_energy_summary(small) -> None:
    """The same window, the same meters: amounts by carrier, tce and tCO2 as ``Park.energy_summary``."""
    start, end = date(2026, 11, 14), date(2026, 11, 19)
    con = small.store.cursor()
    create_semantic_views(con, small.store, start=start, end=end, views=["sem_energy_daily"])
    summary = small.energy_summary("2026-11-14T00:00+08:00", "2026-11-19T00:00+08:00", grain="total", by=())
    by_carrier = {
        c: (a, t, co2)
        for c, a, t, co2 in con.execute(
            "SELECT carrier, sum(amount), sum(tce), sum(tco2) FROM sem_energy_daily GROUP BY carrier"
        ).fetchall()
    }
    assert set(by_carrier) == set(summary["totals"]["by_carrier"])
    for carrier, expected in summary["totals"]["by_carrier"].items():
        amount, tce, tco2 = by_carrier[carrier]
        assert amount == pytest.approx(expected["amount"], rel=1e-9), carrier
        if expected["tce"] is not None:
            assert tce == pytest.approx(expected["tce"], rel=1e-9), carrier
        assert tco2 == pytest.approx(expected["tco2"], rel=1e-9, abs=1e-9), carrier
    total_tce = con.execute("SELECT sum(tce) FROM sem_energy_daily").fetchone()[0]
    assert total_tce == pytest.approx(summary["totals"]["tce"], rel=1e-9)
    days = con.execute("SELECT min(day), max(day) FROM sem_energy_daily").fetchone()
    assert days == (start, date(2026, 11, 18))


def test_energy_of_one_enterprise_agrees(small) -> None:
    eid = small.store.query_rows(
        "SELECT d.enterprise_id FROM devices d JOIN points p USING (device_id) "
        "WHERE p.energy_carrier = 'electricity' AND d.enterprise_id IS NOT NULL ORDER BY 1 LIMIT 1"
    )[0]["enterprise_id"]
    con = small.store.cursor()
    create_semantic_views(con, small.store, start=date(2026, 11, 15), end=date(2026, 11, 17))
    got = con.execute(
        "SELECT sum(amount) FROM sem_energy_daily WHERE enterprise_id = ? AND carrier = 'electricity'", [eid]
    ).fetchone()[0]
    summary = small.energy_summary(
        "2026-11-15T00:00+08:00", "2026-11-17T00:00+08:00", grain="total", by=(), enterprise_id=eid
    )
    assert got == pytest.approx(summary["totals"]["by_carrier"]["electricity"]["amount"], rel=1e-9)


def test_views_keep_to_the_scope(small) -> None:
    eid = "nanning-hitech-e001"
    scope = ViewScope(
        enterprises=("e.enterprise_id = ?", [eid]),
        alerts=("a.enterprise_id = ?", [eid]),
        buildings=("b.park_id = ?", ["nanning-hitech"]),
        devices=("d.enterprise_id = ?", [eid]),
        points=("d.enterprise_id = ?", [eid]),
    )
    con = small.store.cursor()
    create_semantic_views(con, small.store, scope)
    for view in ("sem_enterprises", "sem_energy_daily", "sem_devices"):
        ids = {r[0] for r in con.execute(f"SELECT DISTINCT enterprise_id FROM {view}").fetchall()}
        assert ids <= {eid}, view
    assert con.execute("SELECT count(*) FROM sem_aqi_daily").fetchone()[0] == 0  # stations are the park's
    assert con.execute("SELECT count(*) FROM sem_parks").fetchone()[0] == 19  # the public catalogue


def test_views_on_an_empty_park() -> None:
    with Park(memory=True) as p:
        con = p.store.cursor()
        create_semantic_views(con, p.store)
        for view in VIEWS:
            assert con.execute(f"SELECT count(*) FROM {view}").fetchone()[0] == 0
        assert [r[0] for r in con.execute("DESCRIBE sem_energy_daily").fetchall()] == CONTRACT_COLUMNS[
            "sem_energy_daily"
        ]
