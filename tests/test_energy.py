"""Energy and carbon: consumption from the rollups, GB/T 2589-2020 standard coal, CO2, TOU, 同比/环比, scope."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from parkbrain import Park
from parkbrain.analytics import energy_factors as ef
from parkbrain.analytics.energy import Selection, compute_consumption
from parkbrain.analytics.energy_tou import TouSchedule
from parkbrain.errors import Forbidden, InvalidInput, NotFound
from parkbrain.space.principal import Principal
from tests.conftest import SHARED_DATA

STEEL = SHARED_DATA / "steel-industry-energy" / "Steel_industry_data.csv"
CST = timezone(timedelta(hours=8))
DAY = datetime(2026, 1, 5, tzinfo=CST)  # a Monday


def seed(park: Park) -> Park:
    """Guangxi → Nanning → one park; two enterprises with meters of each value kind."""
    park.store.write(
        "regions",
        [
            {"region_code": "450000", "name": "广西壮族自治区", "level": "province"},
            {"region_code": "450100", "name": "南宁市", "level": "prefecture", "parent_code": "450000"},
        ],
    )
    park.store.write(
        "parks",
        [
            {"park_id": "nn", "name": "南宁经济技术开发区", "region_code": "450100"},
            {"park_id": "qz", "name": "钦州港经济技术开发区", "region_code": "450100"},
        ],
    )
    park.store.write(
        "enterprises",
        [
            {"enterprise_id": "e1", "park_id": "nn", "name": "甲公司", "output_value_10k_cny": 36_500.0},
            {"enterprise_id": "e2", "park_id": "nn", "name": "乙公司", "output_value_10k_cny": 1_000.0},
            {
                "enterprise_id": "steel-co",
                "park_id": "nn",
                "name": "钢铁公司",
                "output_value_10k_cny": 50_000.0,
            },
        ],
    )
    park.store.write(
        "devices",
        [
            {"device_id": "m1", "park_id": "nn", "enterprise_id": "e1", "kind": "Building_Electrical_Meter"},
            {"device_id": "g1", "park_id": "nn", "enterprise_id": "e1", "kind": "Building_Gas_Meter"},
            {"device_id": "m2", "park_id": "nn", "enterprise_id": "e2", "kind": "Building_Electrical_Meter"},
            {
                "device_id": "steel",
                "park_id": "nn",
                "enterprise_id": "steel-co",
                "kind": "Building_Electrical_Meter",
            },
        ],
    )
    points = [
        ("m1-kwh", "m1", "electric_energy", "kWh", "cumulative", "electricity"),
        ("g1-m3", "g1", "natural_gas_volume", "m3", "interval", "natural_gas"),
        ("m2-kw", "m2", "active_power", "kW", "instant", "electricity"),
        ("steel-kwh", "steel", "electric_energy", "kWh", "interval", "electricity"),
    ]
    keys = ("point_id", "device_id", "quantity", "unit", "value_kind", "energy_carrier")
    park.store.write("points", [dict(zip(keys, p)) for p in points])
    return park


@pytest.fixture
def park():
    with Park(memory=True) as p:
        yield seed(p)


def readings(point_id: str, start: datetime, step: timedelta, values: list[float]) -> list[dict]:
    return [{"point_id": point_id, "ts": start + i * step, "value": v} for i, v in enumerate(values)]


def consumption(park: Park, point: str, start: datetime, end: datetime, resolution: str = "1d") -> float:
    sel = Selection("p.point_id = ?", (point,))
    rows = compute_consumption(park.store, sel, start, end, "total", resolution=resolution).rows
    return sum(r["amount"] for r in rows)


# -- reference data against standards.md §1.1–1.2 --------------------------------------------------------


def test_standard_coal_coefficients_are_the_published_ones():
    coal = {c.carrier: c.kgce_per_unit for c in ef.STANDARD_COAL}
    assert coal["electricity"] == 0.1229  # 当量值, 3,600 kJ/kWh
    assert coal["raw_coal"] == 0.7143 and coal["diesel"] == 1.4571 and coal["gasoline"] == 1.4714
    assert coal["natural_gas"] == 1.2143 and coal["steam"] == 0.1286 and coal["heat"] == 0.03412
    assert coal["water"] == 0.2571  # the 2008 Annex B primary text (see the source note)
    assert "0.0857" in ef.standard_coal("water").source.note
    # 1 kgce = 7,000 kcal: the electricity 当量值 is 860 kcal / 7,000 kcal
    assert round(860 / 7000, 4) == 0.1229
    assert all(c.source.document.startswith("GB/T 2589") for c in ef.STANDARD_COAL)


def test_natural_gas_burns_to_2_162_kgco2_per_m3():
    gas = ef.fuel("natural_gas")
    assert (gas.ncv_gj, gas.carbon_tc_per_gj, gas.oxidation_pct) == (389.31, 0.01530, 99)
    assert gas.tco2_per_unit / 1e4 * 1000 == pytest.approx(2.162, abs=5e-4)  # kgCO2 per m³
    assert ef.fuel("diesel").tco2_per_unit == pytest.approx(43.33 * 0.0202 * 0.98 * 44 / 12)


def test_grid_factors_by_year_caliber_and_scope():
    assert ef.grid_factor().key == "province:广西:2022:average" and ef.grid_factor().kgco2_per_kwh == 0.4044
    assert ef.grid_factor("national:全国:2022").kgco2_per_kwh == 0.5366
    assert ef.grid_factor("national:全国").kgco2_per_kwh == 0.5306  # latest year: 2023
    assert ef.grid_factor("national:全国:2021").kgco2_per_kwh == 0.5568
    assert ef.grid_factor("region:南方:2022").kgco2_per_kwh == 0.3869
    assert ef.grid_factor("region:南方:2023").kgco2_per_kwh == 0.4042
    assert ef.grid_factor("province:广西:2021").kgco2_per_kwh == 0.5154
    assert ef.grid_factor("national:全国:2023:fossil").kgco2_per_kwh == 0.8273
    assert ef.grid_factor("national:全国:2023:reporting").kgco2_per_kwh == 0.5703
    with pytest.raises(NotFound, match="province:广西:2022:average"):
        ef.grid_factor("province:广西:2019")
    with pytest.raises(InvalidInput, match="scope:area"):
        ef.grid_factor("广西")


def test_equal_value_is_per_year_and_thresholds_by_size():
    assert ef.equal_value(2022).kgce_per_kwh == 0.3007
    assert ef.equal_value(2030).year == max(r.year for r in ef.ELECTRICITY_EQUAL_VALUE)
    assert ef.zero_carbon_threshold(100_000) is None
    assert ef.zero_carbon_threshold(500_000).max_tco2_per_tce == 0.20
    assert ef.zero_carbon_threshold(2_000_000).max_tco2_per_tce == 0.30
    tables = ef.reference_tables()
    assert {"standard_coal", "fuels", "grid_factors", "electricity_equal_value"} <= set(tables)
    assert all(row["source"] for rows in tables.values() for row in rows)


# -- the golden steel plant --------------------------------------------------------------------------------


def test_steel_plant_2018_is_117_94_tce_and_its_tco2(park, tmp_path):
    mapping = tmp_path / "steel.toml"
    mapping.write_text('timezone = "Asia/Seoul"\n[columns]\ndate = "ts"\n[points]\nUsage_kWh = "steel-kwh"\n')
    park.ingest(STEEL, mapping=mapping)
    # The file's times end each 15-min interval in Korea: 2018 runs from 2017-12-31 23:15 Asia/Shanghai.
    window = {"start": "2017-12-31", "end": "2019-01-01"}
    report = park.energy_report(enterprise_id="steel-co", **window)
    (electricity,) = report["consumption"]
    assert electricity["amount"] == pytest.approx(959_636.71, abs=0.01)
    assert round(report["tce"], 2) == 117.94
    assert report["coefficients"]["electricity"]["kgce_per_unit"] == 0.1229
    assert report["tco2"] == pytest.approx(959_636.71 * 0.4044 / 1000, rel=1e-9)  # Guangxi 2022
    assert round(report["tco2"], 2) == 388.08
    assert report["factors"]["electricity"]["key"] == "province:广西:2022:average"
    national = park.energy_report(enterprise_id="steel-co", factor="national:全国:2022", **window)
    assert round(national["tco2"], 2) == round(959_636.71 * 0.5366 / 1000, 2) == 514.94
    equal = park.energy_report(enterprise_id="steel-co", mode="equal", **window)
    assert equal["tce"] == pytest.approx(959_636.71 * 0.3080 / 1000)  # 2018's 等价值
    assert equal["coefficients"]["electricity"]["mode"] == "等价值 2018"


# -- consumption from the rollups ------------------------------------------------------------------------


def test_a_cumulative_register_with_a_rollover_and_a_reset(park):
    values = [99_990, 99_995, 99_999.5, 2, 7, 5_000, 10, 20]  # rollover after 99 999.5, reset after 5 000
    park.store.write_readings(readings("m1-kwh", DAY, timedelta(hours=1), values))
    expected = 5 + 4.5 + (100_000 - 99_999.5 + 2) + 5 + 4_993 + 10 + 10
    end = DAY + timedelta(days=1)
    assert consumption(park, "m1-kwh", DAY, end) == pytest.approx(expected)
    assert consumption(park, "m1-kwh", DAY, end, resolution="1h") == pytest.approx(expected)
    # the rollover's range is not counted twice, nor outside the window
    assert consumption(park, "m1-kwh", end, end + timedelta(days=1)) == 0


def test_instant_power_integrates_the_mean_of_each_hour(park):
    values = [100.0 if i % 2 else 80.0 for i in range(96)]  # 15-min readings, mean 90 kW, one day
    park.store.write_readings(readings("m2-kw", DAY, timedelta(minutes=15), values))
    assert consumption(park, "m2-kw", DAY, DAY + timedelta(days=1)) == pytest.approx(90 * 24)
    # half a day of data is half a day of energy (not the mean × 24 h)
    assert consumption(park, "m2-kw", DAY, DAY + timedelta(hours=12), resolution="1h") == pytest.approx(
        90 * 12
    )


def test_time_of_use_split_follows_the_schedule(park):
    park.store.write_readings(readings("g1-m3", DAY, timedelta(hours=1), [1.0] * 24))
    park.store.write_readings(readings("m2-kw", DAY, timedelta(hours=1), [float(h) for h in range(24)]))
    report = park.energy_report(
        enterprise_id="e2",
        start=DAY,
        end=DAY + timedelta(days=1),
        tou="peak=8-11,18-23;flat=11-18,23-24;valley=0-8",
    )
    split = {r["period"]: r["kwh"] for r in report["tou"]["rows"]}
    assert split["valley"] == sum(range(8))
    assert split["peak"] == sum(range(8, 11)) + sum(range(18, 23))
    assert split["flat"] == sum(range(11, 18)) + 23
    assert report["tou"]["kwh"] == sum(range(24))
    default = park.energy_report(enterprise_id="e2", start=DAY, end=DAY + timedelta(days=1))
    assert "to configure" in default["tou"]["schedule"]["source"]
    with pytest.raises(InvalidInput, match="missing"):
        TouSchedule.parse("peak=8-20;valley=0-8")


def test_same_period_last_year_and_previous_period(park):
    def daily(first: datetime, days: int, value: float) -> list[dict]:
        return readings("g1-m3", first, timedelta(days=1), [value] * days)

    park.store.write_readings(daily(datetime(2025, 1, 1, 12, tzinfo=CST), 31, 10.0))
    park.store.write_readings(daily(datetime(2025, 12, 1, 12, tzinfo=CST), 31, 20.0))
    park.store.write_readings(daily(datetime(2026, 1, 1, 12, tzinfo=CST), 31, 31.0))
    summary = park.energy_summary(start="2026-01-01", end="2026-02-01", grain="month", by=["enterprise"])
    (row,) = summary["rows"]
    assert (row["enterprise_id"], row["carrier"], row["amount"]) == ("e1", "natural_gas", 961.0)
    assert row["mom_amount"] == pytest.approx(961 / 620 - 1) and row["yoy_amount"] == pytest.approx(
        961 / 310 - 1
    )
    assert row["tce"] == pytest.approx(961 * 1.2143 / 1000)
    assert row["tco2"] == pytest.approx(961 * 2.1622 / 1000, rel=1e-4)  # Scope 1, GB/T 32150
    report = park.energy_report(enterprise_id="e1", start="2026-01-01", end="2026-02-01")
    assert report["comparison"]["previous"]["change_tce"] == pytest.approx(961 / 620 - 1)
    assert report["comparison"]["last_year"]["change_tce"] == pytest.approx(961 / 310 - 1)
    assert report["tco2_scope1"] == pytest.approx(report["tco2"]) and report["tco2_scope2"] == 0
    # 单位产值能耗: 36,500 万元 a year is 3,100 万元 over January's 31 days
    assert report["intensity"]["output_value_10k_cny_prorated"] == pytest.approx(3_100)
    assert report["intensity"]["tce_per_10k_cny"] == pytest.approx(report["tce"] / 3_100)
    days = [r for r in park.energy_summary(start="2026-01-01", end="2026-01-03", grain="day")["rows"]]
    assert [d["period"].day for d in days] == [1, 2]


def test_what_cannot_be_counted_is_named_not_guessed(park):
    extra = [
        ("g1-bio", "biogas_volume", "m3", "biogas"),  # no GB/T 2589 coefficient
        ("g1-kvarh", "reactive_energy", "kvarh", "electricity"),  # not an energy of electricity
    ]
    keys = ("point_id", "device_id", "quantity", "unit", "value_kind", "energy_carrier")
    park.store.write("points", [dict(zip(keys, (p, "g1", q, u, "interval", c))) for p, q, u, c in extra])
    for point, _, _, _ in extra:
        park.store.write_readings(readings(point, DAY, timedelta(hours=1), [5.0, 5.0]))
    report = park.energy_report(enterprise_id="e1", start=DAY, end=DAY + timedelta(days=1))
    (biogas,) = report["consumption"]
    assert (biogas["carrier"], biogas["amount"], biogas["tce"], report["tce"]) == ("biogas", 10.0, None, 0)
    assert any(n.startswith("biogas:") for n in report["notes"])
    assert any("kvarh" in n and "left out" in n for n in report["notes"])


# -- scope ---------------------------------------------------------------------------------------------


def test_an_enterprise_reads_only_its_own_energy(park):
    park.store.write_readings(readings("m1-kwh", DAY, timedelta(hours=1), [1, 2, 3]))
    park.store.write_readings(readings("m2-kw", DAY, timedelta(hours=1), [5, 5, 5]))
    e2 = park.as_principal(Principal("token", "t2", "t2", "enterprise", park_id="nn", enterprise_id="e2"))
    window = {"start": DAY, "end": DAY + timedelta(days=1)}
    assert e2.energy_report(enterprise_id="e2", **window)["consumption"][0]["amount"] == 15
    with pytest.raises(NotFound):
        e2.energy_report(enterprise_id="e1", **window)
    with pytest.raises(Forbidden):
        e2.energy_report(park_id="nn", **window)
    summary = e2.energy_summary(grain="total", by=["enterprise"], **window)
    assert {r["enterprise_id"] for r in summary["rows"]} == {"e2"}
    other = park.as_principal(Principal("token", "t3", "t3", "park_admin", park_id="qz"))
    with pytest.raises(Forbidden):
        other.energy_report(park_id="nn", **window)
    own = park.as_principal(Principal("token", "t4", "t4", "park_admin", park_id="nn"))
    assert own.energy_report(park_id="nn", **window)["consumption"] == []  # nothing granted to the park
    e1 = park.as_principal(Principal("token", "t1", "t1", "enterprise", park_id="nn", enterprise_id="e1"))
    grant = e1.create_grant(
        "park:nn", "metrics", ["electric_energy"], "在线能耗监测 energy monitoring", "30d"
    )
    own = park.as_principal(Principal("token", "t4", "t4", "park_admin", park_id="nn"))
    report = own.energy_report(park_id="nn", **window)
    assert report["consumption"][0]["amount"] == 2 and [
        e["enterprise_id"] for e in report["by_enterprise"]
    ] == ["e1"]
    reads = park.store.query_rows("SELECT target FROM audit_log WHERE action = 'grant.read'")
    assert reads == [{"target": grant["grant_id"]}]  # the read under the grant is audited


def test_bad_input_is_named(park):
    with pytest.raises(InvalidInput, match="exactly one"):
        park.energy_report(enterprise_id="e1", park_id="nn")
    with pytest.raises(InvalidInput, match="mode"):
        park.energy_report(enterprise_id="e1", start="2026-01-01", end="2026-02-01", mode="both")
    with pytest.raises(InvalidInput, match="end"):
        park.energy_report(enterprise_id="e1", start="2026-02-01", end="2026-01-01")
    with pytest.raises(InvalidInput, match="grain"):
        park.energy_summary(start="2026-01-01", end="2026-02-01", grain="week")


# -- alerts ----------------------------------------------------------------------------------------------


def test_a_day_far_above_its_own_baseline_raises_one_alert(park):
    values = [10.0] * 28 + [10.0] * 6 + [40.0]  # day 35 (a Friday like days 7, 14, 21, 28 before it)
    park.store.write_readings(readings("g1-m3", DAY, timedelta(days=1), values))
    window = {"start": DAY + timedelta(days=28), "end": DAY + timedelta(days=35)}
    result = park.evaluate_energy_alerts(**window)
    assert result == {"rule": "energy_above_baseline", "found": 1, "written": 1}
    (alert,) = park.store.query_rows("SELECT * FROM alerts")
    assert alert["point_id"] == "g1-m3" and alert["enterprise_id"] == "e1" and alert["value"] == 40.0
    assert (
        alert["ts"] == DAY + timedelta(days=34) and alert["status"] == "open" and "4.0 倍" in alert["message"]
    )
    park.store.write("alerts", [{**alert, "status": "acknowledged"}])
    assert park.evaluate_energy_alerts(**window)["written"] == 0  # same id: nothing new, status kept
    assert park.store.query_rows("SELECT status FROM alerts") == [{"status": "acknowledged"}]


# -- the demo province ------------------------------------------------------------------------------------


def test_demo_consumption_adds_up_from_enterprises_to_the_province(small_demo_file):
    with Park.open(small_demo_file, read_only=True) as demo:
        window = {"start": "2026-11-14", "end": "2026-11-20", "grain": "total"}
        levels = {
            by: demo.energy_summary(by=[by], **window)["rows"]
            for by in ("enterprise", "park", "prefecture", "province")
        }
    (province_electricity,) = [r for r in levels["province"] if r["carrier"] == "electricity"]
    assert province_electricity["province_name"] == "广西壮族自治区"
    for by, rows in levels.items():
        total = sum(r["amount"] for r in rows if r["carrier"] == "electricity")
        assert total == pytest.approx(province_electricity["amount"]), by
    assert len({r["prefecture_code"] for r in levels["prefecture"]}) == 14
    assert all(r["tce"] > 0 for r in levels["park"] if r["carrier"] != "water")
