"""Forecasts: the steel plant's day-ahead backtest (real data read in place), day types, the point forecast
through Park, the CLI and the REST API."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from parkbrain import Park
from parkbrain.analytics.forecast import (
    SATURDAY,
    SUNDAY_OR_HOLIDAY,
    WORKDAY,
    compute_backtest,
    compute_forecast,
    day_types,
    horizon_margins,
    nan_quantiles,
)
from parkbrain.analytics.forecast_bench import read_steel
from parkbrain.api.app import create_app
from parkbrain.cli import cli
from parkbrain.errors import InvalidInput, NotFound
from tests.conftest import SHARED_DATA, copy_db

STEEL = SHARED_DATA / "steel-industry-energy"
ENERGY_POINT = "nanning-hitech-e003-em1.electric_energy"


@pytest.mark.skipif(not STEEL.is_dir(), reason="steel data not in ../shared/data")
def test_steel_day_ahead_beats_seasonal_naive_by_the_target():
    series = read_steel(STEEL)
    assert len(series) == 35_040 and series.index[0] == pd.Timestamp("2018-01-01 00:00")
    short = series[series.index < "2018-06-01"]  # 95 origins from day 56: a short backtest
    result = compute_backtest(short, timedelta(minutes=15), first_day=56)
    assert result.days == 95
    # measured 0.706 over the whole year; the seasonal-naive forecast scores 1.0 by definition
    assert result.mase <= 0.80
    assert result.mae < result.mae_seasonal_naive
    assert result.mase_insample < result.mase_insample_seasonal_naive
    # conformal calibration on earlier origins only: 91.1 % here and 89.9 % over the whole year for a
    # nominal 90 %, where the raw quantiles of 15 past days hold about 77 %
    assert 0.87 <= result.interval_coverage <= 0.93
    assert result.interval_coverage_quantiles < 0.8 < result.interval_coverage


def test_conformal_interval_reaches_its_nominal_coverage_where_raw_quantiles_fall_short():
    idx = pd.date_range("2026-01-05", periods=140 * 24, freq="1h")  # twenty weeks from a Monday
    rng = np.random.default_rng(7)
    series = pd.Series(50 + 10 * np.sin(idx.hour / 24 * 2 * np.pi) + rng.standard_t(3, len(idx)), index=idx)
    result = compute_backtest(series, timedelta(hours=1), first_day=56, params=_none())
    assert result.interval_coverage_quantiles < 0.87  # 15 past values cannot reach a 90 % quantile range
    assert 0.87 <= result.interval_coverage <= 0.93
    raw = compute_backtest(series, timedelta(hours=1), first_day=56, params=_none(calibration_days=0))
    assert raw.interval_coverage == raw.interval_coverage_quantiles == result.interval_coverage_quantiles
    assert raw.mae == result.mae  # calibration moves the bounds only


def test_margins_per_subject_follow_each_subject_s_own_errors():
    rng = np.random.default_rng(4)
    days = [date(2026, 1, 5) + timedelta(days=i) for i in range(90)]
    values = np.column_stack([100 + rng.normal(0, 1, 90), 100 + rng.normal(0, 20, 90)])
    types = day_types(days, "none")
    own = horizon_margins(values, types, 3, _none(), per_column=True)
    shared = horizon_margins(values, types, 3, _none())
    assert own.shape == shared.shape == (3, 2)
    assert (shared[:, 0] == shared[:, 1]).all()
    assert own[0, 1] / max(own[0, 0], 0.1) > 5 and own[0, 0] < shared[0, 0] < own[0, 1]


def test_nan_quantiles_match_numpy():
    rng = np.random.default_rng(2)
    history = rng.normal(size=(15, 24))
    history[rng.random(history.shape) < 0.3] = np.nan
    history[:, 5] = np.nan
    ours = nan_quantiles(history, (0.5, 0.05, 0.95))
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        theirs = np.nanquantile(history, (0.5, 0.05, 0.95), axis=0)
    assert np.allclose(ours, theirs, equal_nan=True) and np.isnan(ours[:, 5]).all()


def test_day_types_follow_the_chinese_calendar():
    days = [date(2026, 10, 1), date(2026, 10, 10), date(2026, 10, 12), date(2026, 10, 17), date(2026, 10, 18)]
    # National Day (holiday), a make-up workday (Saturday 10 Oct 2026), Monday, Saturday, Sunday
    cn = day_types(days, "cn").tolist()
    assert (
        cn[0] == SUNDAY_OR_HOLIDAY and cn[2] == WORKDAY and cn[3] == SATURDAY and cn[4] == SUNDAY_OR_HOLIDAY
    )
    assert day_types(days, "none").tolist()[0] == WORKDAY
    with pytest.raises(InvalidInput, match="holidays"):
        day_types(days, "us")


def test_forecast_is_the_median_of_same_type_days_with_bounds():
    idx = pd.date_range("2026-03-02", periods=28 * 24, freq="1h")  # four weeks from a Monday
    rng = np.random.default_rng(1)
    workday = idx.day_of_week < 5
    values = np.where(workday, 100.0, 10.0) + rng.normal(0, 1, len(idx))
    frame = compute_forecast(pd.Series(values, index=idx), timedelta(hours=1), horizon_days=7, params=_none())
    assert len(frame) == 7 * 24 and frame["ts"].iloc[0] == pd.Timestamp("2026-03-30")
    monday, saturday = frame.iloc[:24], frame.iloc[5 * 24 : 6 * 24]
    assert monday["forecast"].astype(float).between(98, 102).all()
    assert saturday["forecast"].astype(float).between(8, 12).all()
    assert (frame["lower"].astype(float) <= frame["forecast"].astype(float)).all()
    assert (frame["forecast"].astype(float) <= frame["upper"].astype(float)).all()


def _none(**kw):
    from parkbrain.analytics.forecast import ForecastParams

    return ForecastParams(holidays="none", **kw)


def test_point_forecast_through_park_cli_and_api(small_demo_file, tmp_path):
    db = copy_db(small_demo_file, tmp_path)
    with Park.open(db) as park:
        result = park.forecast_point(ENERGY_POINT, "1h", horizon_days=2)
        assert result["value"] == "consumption" and result["unit"] == "kWh"
        rows = result["rows"]
        assert len(rows) == 48 and rows[0]["ts"].isoformat() == "2026-11-20T00:00:00+08:00"
        assert all(r["forecast"] is not None and r["forecast"] >= 0 for r in rows)
        with pytest.raises(NotFound):
            park.forecast_point("no-such-point")
        token = park.create_token("province_admin", expires="1d").secret
        client = TestClient(create_app(park), headers={"Authorization": f"Bearer {token}"})
        answer = client.get(
            f"/api/points/{ENERGY_POINT}/forecast", params={"interval": "1d", "horizon_days": 3}
        )
        assert answer.status_code == 200, answer.text
        assert len(answer.json()["rows"]) == 3
        assert (
            client.get(f"/api/points/{ENERGY_POINT}/forecast", params={"horizon_days": 40}).status_code == 422
        )
        other = park.create_token("enterprise", enterprise_id="asean-etdz-e001", expires="1d").secret
        hidden = client.get(
            f"/api/points/{ENERGY_POINT}/forecast", headers={"Authorization": f"Bearer {other}"}
        )
        assert hidden.status_code == 404
    out = CliRunner().invoke(cli, ["forecast", ENERGY_POINT, "--db", str(db), "--interval", "1h"])
    assert out.exit_code == 0, out.output
    lines = list(csv.reader(io.StringIO(out.output)))
    assert lines[0] == ["point_id", "ts", "forecast", "lower", "upper"] and len(lines) == 25


def test_energy_forecast_beside_actual_and_deviation_alerts_once(small_demo_file, tmp_path):
    db = copy_db(small_demo_file, tmp_path)
    with Park.open(db) as park:
        parks = park.energy_forecast(by="park", today="2026-11-20")
        assert len(parks) == len(park.parks()) and all(p["unit"] == "kWh" for p in parks)
        one = next(p for p in parks if p["park_id"] == "asean-etdz")
        day = next(d for d in one["days"] if d["day"] == "2026-11-18")
        assert day["actual"] > 0 and day["forecast"] > 0
        assert abs(one["forecast_to_date"] / one["actual_to_date"] - 1) < 0.1  # a steady park: close
        assert one["outlook_total"] > one["actual_to_date"]
        first = park.compute_forecast_alerts(today="2026-11-20")
        assert first["opened"] == len(first["alerts"]) > 0
        for alert in first["alerts"]:
            assert alert["rule"] == "energy_forecast_deviation" and abs(alert["value"]) > 0.3
            assert alert["enterprise_id"].startswith(alert["park_id"])
        again = park.compute_forecast_alerts(today="2026-11-20")
        assert again["opened"] == 0 and again["unchanged"] == len(first["alerts"])
        token = park.create_token("enterprise", enterprise_id="asean-etdz-e001", expires="1d").secret
        client = TestClient(create_app(park), headers={"Authorization": f"Bearer {token}"})
        own = client.get("/api/forecast/energy", params={"by": "enterprise", "today": "2026-11-20"})
        assert own.status_code == 200, own.text
        assert {r["enterprise_id"] for r in own.json()} == {"asean-etdz-e001"}
        assert (
            client.get("/api/forecast/energy", params={"enterprise_id": "asean-etdz-e002"}).status_code == 404
        )
        with pytest.raises(InvalidInput, match="today"):
            park.energy_forecast(today="20 Nov")


def test_a_point_forecast_is_kept_until_the_points_readings_change(small_demo_file, tmp_path):
    """The enterprise page asks for the same forecast on every visit: the same history gives the same
    result from memory; a new reading of the point computes it again, one of another point does not."""
    db = copy_db(small_demo_file, tmp_path)
    with Park.open(db) as park:
        first = park.forecast_point(ENERGY_POINT, "1h")
        assert park.forecast_point(ENERGY_POINT, "1h") is first
        other = park.store.query_rows(
            "SELECT point_id, ts, value FROM latest_readings WHERE point_id <> ? AND point_id LIKE '%electric_energy' "
            "LIMIT 1",
            [ENERGY_POINT],
        )[0]
        park.write_readings(
            [{**other, "ts": other["ts"] + timedelta(minutes=15), "value": other["value"] + 1}]
        )
        assert park.forecast_point(ENERGY_POINT, "1h") is first
        latest = park.store.query_rows(
            "SELECT ts, value FROM latest_readings WHERE point_id = ?", [ENERGY_POINT]
        )[0]
        park.write_readings(
            [
                {
                    "point_id": ENERGY_POINT,
                    "ts": latest["ts"] + timedelta(minutes=15),
                    "value": latest["value"] + 5,
                }
            ]
        )
        again = park.forecast_point(ENERGY_POINT, "1h")
        assert again is not first and again["rows"]
