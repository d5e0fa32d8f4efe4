"""AQI (HJ 633-2012 and HJ 633-2026), GB 3095 exceedances, GB 3096 noise: golden rows published by
CNEMC, every breakpoint of both editions, the special rules, the edition switch, the CLI on the real
file."""

from __future__ import annotations

import csv
import json
import math
from datetime import date
from fractions import Fraction

import numpy as np
import pytest
from click.testing import CliRunner

from parkbrain.analytics import aqi_standards as std
from parkbrain.analytics.aqi import (
    AQI_KEYS,
    compute_aqi,
    energy_mean_db,
    exceedances,
    iaqi,
    noise_exceeds,
    round_concentration,
)
from parkbrain.analytics.aqi_files import compute_aqi_file
from parkbrain.cli import cli
from parkbrain.errors import InvalidInput
from tests.conftest import SHARED_DATA

CNEMC = SHARED_DATA / "cnemc-aqi-sample" / "2022-01-01T00_sample.csv"

# -- the published tables (HJ 633-2026 表3; HJ 633-2012 表1 differs only in PM10/PM2.5 at IAQI 100),
#    as in ../shared/reference/standards.md §1.3; None = "b"/"c" (special rule) ----------------------
PUBLISHED_2026 = {
    ("so2", "24h"): (0, 50, 150, 475, 800, 1600, 2100, 2620),
    ("so2", "1h"): (0, 150, 500, 650, 800, None, None, None),
    ("no2", "24h"): (0, 40, 80, 180, 280, 565, 750, 940),
    ("no2", "1h"): (0, 100, 200, 700, 1200, 2340, 3090, 3840),
    ("co", "24h"): (0, 2, 4, 14, 24, 36, 48, 60),
    ("co", "1h"): (0, 5, 10, 35, 60, 90, 120, 150),
    ("o3", "8h"): (0, 100, 160, 215, 265, 800, None, None),
    ("o3", "1h"): (0, 160, 200, 300, 400, 800, 1000, 1200),
    ("pm10", "24h"): (0, 50, 120, 250, 350, 420, 500, 600),
    ("pm2_5", "24h"): (0, 35, 60, 115, 150, 250, 350, 500),
}
PUBLISHED_2012 = {
    **PUBLISHED_2026,
    ("pm10", "24h"): (0, 50, 150, 250, 350, 420, 500, 600),
    ("pm2_5", "24h"): (0, 35, 75, 115, 150, 250, 350, 500),
}
PUBLISHED = {"2012": PUBLISHED_2012, "2026": PUBLISHED_2026}


def _cnemc_rows() -> list[dict[str, str]]:
    with CNEMC.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# -- golden rows ------------------------------------------------------------------------------------


def test_the_12_published_cnemc_aqi_values_are_reproduced_exactly():
    published = _cnemc_rows()
    computed = compute_aqi_file(CNEMC, standard="auto")  # 2022-01-01: HJ 633-2012 by date
    assert len(computed) == len(published) == 14
    with_aqi = [(p, c) for p, c in zip(published, computed) if p["aqi"]]
    assert len(with_aqi) == 12
    for p, c in with_aqi:
        assert c["station_code"] == p["stationcode"]
        assert c["standard"] == "HJ 633-2012"
        assert c["aqi"] == int(p["aqi"]), p["stationcode"]
        assert (c["primary_pollutant"] or "") == p["primarypollutant"], p["stationcode"]
    # the two stations without a published AQI (PM missing) get none either, not a partial one
    for p, c in zip(published, computed):
        if not p["aqi"]:
            assert c["aqi"] is None and c["level"] is None and c["primary_pollutants"] == []


def test_golden_rows_levels_and_ties():
    by_code = {r["station_code"]: r for r in compute_aqi_file(CNEMC)}
    assert by_code["1011A"]["primary_pollutants"] == ["pm10", "pm2_5"]  # tie: both are primary
    assert by_code["1010A"]["primary_pollutants"] == []  # AQI 48 ≤ 50: no primary pollutant
    assert (by_code["1140A"]["level"], by_code["1140A"]["level_name"], by_code["1140A"]["category"]) == (
        5,
        "五级",
        "重度污染",
    )
    assert by_code["1140A"]["exceeding_pollutants"] == ["pm10", "pm2_5"]  # IAQI 144 and 258 > 100
    assert by_code["1074A"]["color"] == "#FF0000"


# -- the reference tables against the published values --------------------------------------------


@pytest.mark.parametrize("edition", ["2012", "2026"])
def test_reference_tables_are_the_published_ones(edition):
    e = std.EDITIONS[edition]
    tables = {(t.pollutant, t.averaging): t.concentrations for t in e.tables}
    assert tables == PUBLISHED[edition]
    assert e.source.startswith(f"HJ 633-{edition}")


def _expected(c: Fraction, column: tuple[float | None, ...]) -> int:
    """IAQI by the formula of HJ 633, in exact arithmetic, rounded up."""
    bps = [(i, Fraction(b)) for i, b in zip(std.IAQI_STEPS, column) if b is not None]
    for (ilo, lo), (ihi, hi) in zip(bps, bps[1:]):
        if lo <= c <= hi:
            return math.ceil(Fraction(ihi - ilo) / (hi - lo) * (c - lo) + ilo)
    raise AssertionError(c)


@pytest.mark.parametrize("edition", ["2012", "2026"])
@pytest.mark.parametrize("key", list(PUBLISHED_2026))
def test_every_breakpoint_and_between(edition, key):
    pollutant, averaging = key
    column = PUBLISHED[edition][key]
    e = std.EDITIONS[edition]
    defined = [(i, b) for i, b in zip(std.IAQI_STEPS, column) if b is not None]
    at = iaqi([b for _, b in defined], pollutant, averaging, e)
    assert at.tolist() == [float(i) for i, _ in defined]
    step = Fraction(1, 10) if pollutant == "co" else Fraction(1)
    between = []
    for (_, lo), (_, hi) in zip(defined, defined[1:]):
        between += [Fraction(lo) + step, (Fraction(lo) + Fraction(hi)) / 2, Fraction(hi) - step]
    between = [round_concentration(float(c), pollutant)[0] for c in between]  # GB/T 8170 first
    got = iaqi(between, pollutant, averaging, e)
    assert got.tolist() == [float(_expected(Fraction(c).limit_denominator(10), column)) for c in between]


def test_concentrations_are_rounded_half_to_even_before_the_iaqi():
    assert round_concentration([34.5, 35.5, 36.5, 0.4999], "pm2_5").tolist() == [34, 36, 36, 0]
    assert round_concentration([0.25, 0.35, 0.15, 1.04], "co").tolist() == [0.2, 0.4, 0.2, 1.0]
    e = std.HJ_633_2012
    assert iaqi([34.5], "pm2_5", "24h", e)[0] == 49  # 34 → 48.57 → 49 (rounded up)
    assert iaqi([35.5], "pm2_5", "24h", e)[0] == 52  # 36 → 51.25 → 52
    assert iaqi([0.25], "co", "1h", e)[0] == 2  # 0.2 mg/m³ → 2


def test_iaqi_is_rounded_up_without_float_noise():
    # 0.3 mg/m³ CO (24 h): 50/2 × 0.3 = 7.5 → 8; 56 µg/m³ PM10 (2012): 50 + 50/100 × 6 = 53 exactly
    assert iaqi([0.3], "co", "24h", std.HJ_633_2012)[0] == 8
    assert iaqi([56], "pm10", "24h", std.HJ_633_2012)[0] == 53
    assert iaqi([0.7], "co", "1h", std.HJ_633_2026)[0] == 7  # 10 × 0.7 = 7.000000000000001 in floats


# -- special rules ------------------------------------------------------------------------------------


def test_so2_1h_above_800():
    assert iaqi([800], "so2", "1h", std.HJ_633_2026)[0] == 200
    assert iaqi([801, 2000], "so2", "1h", std.HJ_633_2026).tolist() == [200, 200]  # 2026: counted as 200
    # 2012: not rated from the 1-h value; the 24-h IAQI is reported (100 µg/m³ → 75)
    assert iaqi([801], "so2", "1h", std.HJ_633_2012, fallback=[100])[0] == 75
    assert np.isnan(iaqi([801], "so2", "1h", std.HJ_633_2012)[0])
    hourly = dict(so2=[900], no2=[10], co=[0.5], o3=[10], pm10=[10], pm2_5=[10], so2_24h=[100])
    assert compute_aqi(hourly, "hourly", "2026").aqi[0] == 200
    assert compute_aqi(hourly, "hourly", "2012").aqi[0] == 75
    assert compute_aqi(hourly, "hourly", "2012").primary(0) == ["so2"]


def test_o3_8h_above_800():
    assert iaqi([801], "o3", "8h", std.HJ_633_2026)[0] == 300  # 2026: counted as 300
    assert iaqi([801], "o3", "8h", std.HJ_633_2012, fallback=[500])[0] == 225  # 2012: the 1-h IAQI
    daily = dict(so2=[10], no2=[10], co=[0.5], o3_8h=[850], o3=[500], pm10=[10], pm2_5=[10])
    r12, r26 = compute_aqi(daily, "daily", "2012"), compute_aqi(daily, "daily", "2026")
    assert (r12.aqi[0], r26.aqi[0]) == (225, 300)
    assert r12.primary(0) == ["o3", "o3_8h"] and r26.primary(0) == ["o3_8h"]
    assert "iaqi_o3" not in {f"iaqi_{k}" for k in r26.iaqi}  # 2026 daily: no O3 1-h IAQI


def test_pm_1h_values_are_rated_on_the_24h_table_in_the_hourly_report():
    hourly = dict(so2=[5], no2=[10], co=[0.5], o3=[20], pm10=[50], pm2_5=[75])
    assert compute_aqi(hourly, "hourly", "2012").iaqi["pm2_5"][0] == 100
    assert compute_aqi(hourly, "hourly", "2026").iaqi["pm2_5"][0] == 114  # 100 + 50 × 15/55 → 113.6 → 114


def test_beyond_the_table_rates_500_and_missing_values_give_no_aqi():
    assert iaqi([700, 5000], "pm2_5", "24h", std.HJ_633_2026).tolist() == [500, 500]
    r = compute_aqi(dict(so2=[5], no2=[10], co=[0.5], o3=[20], pm10=[50], pm2_5=[np.nan]), "hourly", "2026")
    assert np.isnan(r.aqi[0]) and r.level[0] == 0 and r.row(0)["aqi"] is None


def test_primary_pollutant_only_above_50_and_exceeding_above_100():
    at_50 = compute_aqi(dict(so2=[5], no2=[10], co=[0.5], o3=[20], pm10=[50], pm2_5=[35]), "hourly", "2026")
    assert at_50.aqi[0] == 50 and at_50.primary(0) == [] and at_50.row(0)["primary_pollutant"] is None
    over = compute_aqi(dict(so2=[5], no2=[250], co=[0.5], o3=[20], pm10=[50], pm2_5=[61]), "hourly", "2026")
    assert over.aqi[0] == 105 and over.primary(0) == ["no2"]  # NO2 1-h 250 → 105; PM2.5 61 → 102
    assert over.exceeding(0) == ["no2", "pm2_5"]
    assert set(over.row(0)) == set(AQI_KEYS)


def test_levels():
    aqis = [0, 50, 51, 100, 101, 150, 151, 200, 201, 300, 301, 500]
    from parkbrain.analytics.aqi import level_index

    assert level_index(aqis).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6]
    assert [lv.category_zh for lv in std.LEVELS] == [
        "优",
        "良",
        "轻度污染",
        "中度污染",
        "重度污染",
        "严重污染",
    ]
    assert [lv.color for lv in std.LEVELS] == [
        "#00E400",
        "#FFFF00",
        "#FF7E00",
        "#FF0000",
        "#99004C",
        "#7E0023",
    ]


# -- the edition by date --------------------------------------------------------------------------------


def test_the_2026_edition_applies_from_2026_03_01():
    assert std.aqi_edition("auto", date(2026, 2, 28)).code == "HJ 633-2012"
    assert std.aqi_edition("auto", date(2026, 3, 1)).code == "HJ 633-2026"
    conc = dict(so2=[5, 5], no2=[10, 10], co=[0.5, 0.5], o3=[20, 20], pm10=[50, 50], pm2_5=[75, 75])
    r = compute_aqi(conc, "hourly", "auto", [date(2026, 2, 28), date(2026, 3, 1)])
    assert r.aqi.tolist() == [100, 114]
    assert r.edition.tolist() == ["HJ 633-2012", "HJ 633-2026"]
    assert compute_aqi(conc, "hourly", "2012", None).aqi.tolist() == [100, 100]  # forced
    with pytest.raises(InvalidInput, match="date of every row"):
        compute_aqi(conc, "hourly", "auto", None)
    with pytest.raises(InvalidInput, match="standard"):
        compute_aqi(conc, "hourly", "2020", None)


def test_the_local_date_chooses_the_edition(park):
    rows = [
        {"time": "2026-02-28T15:00:00Z", "pm2_5": 75, "pm10": 50, "so2": 5, "no2": 10, "co": 0.5, "o3": 20},
        {"time": "2026-02-28T16:00:00Z", "pm2_5": 75, "pm10": 50, "so2": 5, "no2": 10, "co": 0.5, "o3": 20},
    ]
    out = park.aqi_rows(rows)  # 23:00 and 00:00 in Beijing
    assert [r["standard"] for r in out] == ["HJ 633-2012", "HJ 633-2026"]
    assert [r["aqi"] for r in out] == [100, 114]


# -- GB 3095 -----------------------------------------------------------------------------------------


def test_gb3095_periods_and_pm25_24h_exceedance():
    days = [date(2026, 2, 28), date(2026, 3, 1), date(2030, 12, 31), date(2031, 1, 1)]
    assert [std.gb3095_edition("auto", d).period for d in days] == [
        "2012",
        "transition",
        "transition",
        "final",
    ]
    found = exceedances({"pm2_5": [70, 70, 55, 55]}, days, "daily")
    assert [[(e["limit"], e["standard"]) for e in row] for row in found] == [
        [],  # 2012: 75
        [(60.0, "GB 3095-2026 transition")],
        [],  # 55 ≤ 60
        [(50.0, "GB 3095-2026 final")],
    ]
    class1 = exceedances({"pm2_5": [40]}, [date(2026, 6, 1)], "daily", zone_class=1)
    assert class1[0][0]["limit"] == 35.0


def test_gb3095_hourly_limits_and_the_final_so2_no2_limits():
    days = [date(2025, 6, 1), date(2031, 6, 1)]
    hourly = exceedances({"so2": [200, 200], "no2": [201, 150]}, days, "hourly")
    assert [[(e["pollutant"], e["limit"]) for e in row] for row in hourly] == [
        [("no2", 200.0)],
        [("so2", 150.0)],  # SO2 1-h 200 > the final 150; NO2 1-h 150 ≤ 200
    ]
    daily = exceedances({"no2": [60, 60], "o3_8h": [161, 150], "pm10": [130, 130]}, days, "daily")
    assert [[(e["pollutant"], e["averaging"], e["limit"]) for e in row] for row in daily] == [
        [("o3_8h", "8h", 160.0)],
        [("no2", "24h", 50.0), ("pm10", "24h", 100.0)],
    ]
    assert exceedances({"pm10": [130]}, [date(2031, 6, 1)], "daily", standard="2012") == [[]]


def test_gb3095_tables_hold_the_published_limits():
    t, f = std.GB3095_EDITIONS[1], std.GB3095_EDITIONS[2]
    assert (t.limit("pm2_5", "24h").class2, f.limit("pm2_5", "24h").class2) == (60, 50)
    assert (t.limit("pm10", "year").class2, f.limit("pm10", "year").class2) == (60, 50)
    assert f.limit("so2", "1h").class2 == 150 and std.GB3095_EDITIONS[0].limit("so2", "1h").class2 == 500
    assert std.GB3095_EDITIONS[0].limit("o3", "8h").class1 == 100


# -- GB 3096 noise -------------------------------------------------------------------------------------


def test_noise_class_3_day_and_night():
    limit = std.noise_limit("3")
    assert (limit.day_db, limit.night_db) == (65, 55)
    assert std.noise_limit("4b").night_db == 60
    assert noise_exceeds([65.0, 65.04, 65.06, 55.1], [65, 65, 65, 55]).tolist() == [False, False, True, True]
    assert energy_mean_db([60, 60]) == pytest.approx(60)
    assert energy_mean_db([50, 60]) == pytest.approx(57.4, abs=0.05)  # energy, not arithmetic, mean
    with pytest.raises(InvalidInput, match="GB 3096"):
        std.noise_limit("5")


# -- the CLI on the real file -------------------------------------------------------------------------


def test_cli_aqi_on_the_cnemc_file_json():
    result = CliRunner().invoke(cli, ["aqi", str(CNEMC), "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert len(rows) == 14
    expected = {"time", "station_code", "station", "area", *AQI_KEYS}
    assert set(rows[0]) == expected
    assert rows[0]["time"] == "2022-01-01T00:00:00+08:00" and rows[0]["aqi"] == 59
    assert [r["aqi"] for r in rows if r["aqi"] is not None] == [
        int(p["aqi"]) for p in _cnemc_rows() if p["aqi"]
    ]


def test_cli_aqi_table_and_forced_standard():
    result = CliRunner().invoke(cli, ["aqi", str(CNEMC), "--standard", "2026"])
    assert result.exit_code == 0, result.output
    assert "万寿西宫" in result.output and "HJ" not in result.output.splitlines()[0]
    line = next(x for x in result.output.splitlines() if "1015A" in x)
    assert " 117 " in line  # PM2.5 78 on the 2026 table


def test_cli_aqi_readings_layout(tmp_path):
    path = tmp_path / "r.csv"
    lines = ["point_id,ts,value"]
    for q, v in (("so2", 5), ("no2", 10), ("co", 0.5), ("o3", 20), ("pm10", 50), ("pm2_5", 75)):
        lines += [f"st1.{q},2026-02-28 23:00,{v}", f"st1.{q},2026-03-01 00:00,{v}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["aqi", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [(r["station"], r["aqi"], r["standard"]) for r in rows] == [
        ("st1", 100, "HJ 633-2012"),
        ("st1", 114, "HJ 633-2026"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("quantity,ts,value\npm2_5,2026-03-01 00:00,80\npm10,2026-03-01 00:00,abc\n", "line 3, column value"),
        ("quantity,ts,value\nbenzene,2026-03-01 00:00,3\n", "line 2, column quantity"),
        ("quantity,ts,value\npm2_5,yesterday,3\n", "line 2, column ts"),
        ("quantity,ts,value\npm2_5,2026-03-01 00:00,-3\n", "line 2, column value"),
        ("a,b\n1,2\n", "line 1"),
    ],
)
def test_cli_aqi_bad_input_names_file_line_and_column(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["aqi", str(path)])
    assert result.exit_code == 1
    assert "bad.csv" in result.output and message in result.output
    assert "Traceback" not in result.output
