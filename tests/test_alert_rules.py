"""Alert rules on arrival: thresholds with hysteresis, rates of change, silent points, idempotent
replays, restarts, cumulative registers, and the time one 50,000-reading batch takes."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import numpy as np
import pyarrow as pa
import pytest

from parkbrain import Park
from parkbrain.analytics.alert_engine import AlertEngine, alert_id
from parkbrain.analytics.alert_rules import RULES, RateRule, StaleRule, ThresholdRule

T0 = datetime(2026, 3, 2, 0, 0, tzinfo=timezone.utc)
POINTS = [
    # point_id, device_id, quantity, unit, value_kind, interval_s
    ("pump-vib", "pump", "vibration_rms", "mm/s", "instant", 60),
    ("pump-temp", "pump", "bearing_temperature", "degC", "instant", 60),
    ("feeder-kw", "feeder", "active_power", "kW", "instant", 60),
    (
        "feeder-kwh",
        "feeder",
        "vibration_rms",
        "mm/s",
        "cumulative",
        60,
    ),  # a register: never threshold-checked
    ("aq-pm25", "aq", "pm2_5", "ug/m3", "instant", None),
    ("aq-co", "aq", "co", "ug/m3", "instant", 3600),  # CO in µg/m³: the 10 mg/m³ limit becomes 10,000
]


def seed(park: Park) -> Park:
    """One park, an enterprise's pump and feeder, and a park-owned air-quality station."""
    store = park.store
    store.write("regions", [{"region_code": "450100", "name": "南宁市", "level": "prefecture"}])
    store.write("parks", [{"park_id": "nn-etdz", "name": "南宁经济技术开发区", "region_code": "450100"}])
    store.write("enterprises", [{"enterprise_id": "e1", "park_id": "nn-etdz", "name": "某制造有限公司"}])
    store.write(
        "devices",
        [
            {
                "device_id": "pump",
                "park_id": "nn-etdz",
                "enterprise_id": "e1",
                "kind": "Pump",
                "name": "1号循环泵",
            },
            {
                "device_id": "feeder",
                "park_id": "nn-etdz",
                "enterprise_id": "e1",
                "kind": "Building_Electrical_Meter",
            },
            {"device_id": "aq", "park_id": "nn-etdz", "kind": "Air_Quality_Sensor", "name": "园区空气站"},
        ],
    )
    keys = ("point_id", "device_id", "quantity", "unit", "value_kind", "interval_s")
    store.write("points", [dict(zip(keys, p)) for p in POINTS])
    return park


@pytest.fixture
def park():
    with Park(memory=True) as p:
        yield seed(p)


def readings(point_id: str, values: list[float], start: datetime = T0, step_s: int = 60) -> list[dict]:
    return [
        {"point_id": point_id, "ts": start + timedelta(seconds=i * step_s), "value": v}
        for i, v in enumerate(values)
    ]


def arrive(park: Park, engine: AlertEngine, rows: list[dict]) -> list[dict]:
    """What the telemetry writer does: store the batch, then run the rules on it."""
    park.store.write_readings(rows)
    return engine.on_readings(rows)


def alerts(park: Park, rule: str | None = None) -> list[dict]:
    sql = "SELECT * FROM alerts" + (" WHERE rule = ?" if rule else "") + " ORDER BY ts, rule"
    return park.store.query_rows(sql, [rule] if rule else None)


def test_threshold_opens_once_and_closes_below_the_clear_level(park):
    engine = AlertEngine(park.store)
    # 7.1 raises vibration_high, 6.0 clears it; 4.5 raises vibration_zone_c, 4.0 clears it
    opened = arrive(park, engine, readings("pump-vib", [3.0, 7.5, 8.0, 7.2]))
    assert sorted((a["rule"], a["status"]) for a in opened) == [
        ("vibration_high", "open"),
        ("vibration_zone_c", "open"),
    ]
    high = alerts(park, "vibration_high")
    assert len(high) == 1 and high[0]["ts"] == T0 + timedelta(minutes=1) and high[0]["value"] == 7.5
    assert (
        high[0]["park_id"] == "nn-etdz"
        and high[0]["enterprise_id"] == "e1"
        and high[0]["device_id"] == "pump"
    )
    assert "1号循环泵振动速度 7.5 mm/s" in high[0]["message"] and "7.1 mm/s" in high[0]["message"]

    # between clear (6.0) and limit (7.1): neither opens nor closes; still above 4.5
    assert arrive(park, engine, readings("pump-vib", [6.5, 6.1, 7.0], T0 + timedelta(minutes=4))) == []
    assert [a["status"] for a in alerts(park, "vibration_high")] == ["open"]

    closed = arrive(park, engine, readings("pump-vib", [5.9], T0 + timedelta(minutes=7)))
    assert [(a["rule"], a["status"]) for a in closed] == [("vibration_high", "closed")]
    assert [a["status"] for a in alerts(park, "vibration_zone_c")] == ["open"]

    # above again: a second alert, with its own id
    again = arrive(park, engine, readings("pump-vib", [7.3, 3.0], T0 + timedelta(minutes=8)))
    assert sorted((a["rule"], a["status"]) for a in again) == [
        ("vibration_high", "closed"),  # opened at 7.3 and closed at 3.0 in the same batch: one row
        ("vibration_zone_c", "closed"),
    ]
    assert [a["status"] for a in alerts(park, "vibration_high")] == ["closed", "closed"]


def test_hysteresis_band_neither_opens_nor_closes(park):
    engine = AlertEngine(park.store)
    assert arrive(park, engine, readings("pump-temp", [82.0, 84.9, 80.5])) == []  # below 85: nothing
    assert alerts(park) == []


def test_units_converted_to_the_point(park):
    engine = AlertEngine(park.store)
    got = arrive(park, engine, readings("aq-co", [9_000.0, 10_500.0], step_s=3600))
    assert [(a["rule"], a["value"]) for a in got] == [("co_1h_exceedance", 10_500.0)]
    assert "10000 µg/m³" in got[0]["message"]


def test_rate_of_change(park):
    engine = AlertEngine(park.store)
    arrive(park, engine, readings("feeder-kw", [800.0, 900.0]))
    # the previous reading comes from the cache: 900 → 2500 in one minute is +1600 kW/min
    jump = arrive(park, engine, readings("feeder-kw", [2500.0, 2600.0], T0 + timedelta(minutes=2)))
    assert [(a["rule"], a["status"], a["value"]) for a in jump] == [("active_power_step", "closed", 2500.0)]
    # a trip: 2600 → 100 in a minute is -2500 kW/min; opens and stays open on the last reading
    trip = arrive(park, engine, readings("feeder-kw", [100.0], T0 + timedelta(minutes=4)))
    assert [(a["status"], a["value"]) for a in trip] == [("open", 100.0)]
    assert "-2500 kW/分钟" in trip[0]["message"]
    # a slow change over a long gap is no step: 100 → 1100 in 10 minutes is 100 kW/min
    calm = arrive(park, engine, readings("feeder-kw", [1100.0], T0 + timedelta(minutes=14)))
    assert [a["status"] for a in calm] == ["closed"]


def test_rate_seeded_from_the_readings_before_the_batch(park):
    park.store.write_readings(readings("feeder-kw", [500.0]))
    engine = AlertEngine(park.store)  # built after the batch below is stored, as after a restart
    rows = readings("feeder-kw", [2000.0], T0 + timedelta(minutes=1))
    assert [a["rule"] for a in arrive(park, engine, rows)] == ["active_power_step"]


def test_late_readings_are_not_evaluated(park):
    engine = AlertEngine(park.store)
    arrive(park, engine, readings("feeder-kw", [100.0, 100.0], T0 + timedelta(minutes=10)))
    late = readings("feeder-kw", [5000.0], T0)  # older than the last one evaluated
    assert arrive(park, engine, late) == []


def test_stale_opens_and_closes(park):
    engine = AlertEngine(park.store)
    arrive(park, engine, readings("pump-vib", [2.0]) + readings("aq-pm25", [20.0]))
    # pump-vib samples every 60 s (3 intervals = 3 min); aq-pm25 has no interval: 900 s (45 min)
    assert engine.check_stale(T0 + timedelta(minutes=2)) == []
    opened = engine.check_stale(T0 + timedelta(minutes=10))
    assert [(a["point_id"], a["rule"], a["status"]) for a in opened] == [("pump-vib", "point_stale", "open")]
    assert opened[0]["ts"] == T0 + timedelta(minutes=3)
    assert "已 10 分钟无数据" in opened[0]["message"]
    assert engine.check_stale(T0 + timedelta(minutes=11)) == []  # still open: not again
    assert {a["point_id"] for a in engine.check_stale(T0 + timedelta(hours=1))} == {"aq-pm25"}

    back = arrive(park, engine, readings("pump-vib", [2.1], T0 + timedelta(hours=1)))
    assert [(a["point_id"], a["status"]) for a in back] == [("pump-vib", "closed")]
    # a scan closes the stale alert of a point whose readings came another way (a file import)
    park.store.write_readings(readings("aq-pm25", [21.0], T0 + timedelta(hours=1)))
    assert [(a["point_id"], a["status"]) for a in engine.check_stale(T0 + timedelta(hours=1))] == [
        ("aq-pm25", "closed")
    ]


def test_replaying_a_batch_adds_no_alert(park):
    engine = AlertEngine(park.store)
    rows = readings("pump-vib", [3.0, 7.5, 5.0]) + readings("feeder-kw", [0.0, 3000.0])
    first = arrive(park, engine, rows)
    before = alerts(park)
    assert len(first) == 3 and len(before) == 3
    assert arrive(park, engine, rows) == []  # same engine: already evaluated
    AlertEngine(park.store).on_readings(rows)  # after a restart: evaluated again, same ids
    assert alerts(park) == before


def test_a_new_engine_continues_open_alerts(park):
    arrive(park, AlertEngine(park.store), readings("pump-vib", [8.0]))
    engine = AlertEngine(park.store)
    assert arrive(park, engine, readings("pump-vib", [9.0, 7.0], T0 + timedelta(minutes=1))) == []
    closed = arrive(park, engine, readings("pump-vib", [1.0], T0 + timedelta(minutes=3)))
    t0_us = int(T0.timestamp() * 1e6)
    ids = {alert_id("vibration_high", "pump-vib", t0_us), alert_id("vibration_zone_c", "pump-vib", t0_us)}
    assert {a["alert_id"] for a in closed} == ids and {a["status"] for a in closed} == {"closed"}


def test_acknowledged_alerts_count_as_open(park):
    engine = AlertEngine(park.store)
    arrive(park, engine, readings("pump-temp", [90.0]))
    with park.store.transaction() as con:
        con.execute("UPDATE alerts SET status = 'acknowledged'")
    engine = AlertEngine(park.store)
    assert arrive(park, engine, readings("pump-temp", [91.0], T0 + timedelta(minutes=1))) == []
    assert [
        a["status"] for a in arrive(park, engine, readings("pump-temp", [70.0], T0 + timedelta(minutes=2)))
    ] == ["closed"]


def test_cumulative_points_are_not_threshold_checked(park):
    engine = AlertEngine(park.store)
    assert arrive(park, engine, readings("feeder-kwh", [100.0, 200.0, 9000.0])) == []
    stale = engine.check_stale(T0 + timedelta(hours=1))
    assert "feeder-kwh" in {a["point_id"] for a in stale}  # but watched for silence


def test_unknown_points_are_picked_up(park):
    engine = AlertEngine(park.store)
    park.store.write(
        "points",
        [
            {
                "point_id": "pump2-vib",
                "device_id": "pump",
                "quantity": "vibration_rms",
                "unit": "mm/s",
                "value_kind": "instant",
            }
        ],
    )
    assert {a["rule"] for a in arrive(park, engine, readings("pump2-vib", [9.0]))} == {
        "vibration_high",
        "vibration_zone_c",
    }


def test_arrow_batches(park):
    engine = AlertEngine(park.store)
    rows = pa.Table.from_pylist(readings("aq-pm25", [30.0, 70.0, 50.0, 40.0]))
    park.store.write_readings(rows)
    got = engine.on_readings(rows)
    assert [(a["rule"], a["status"]) for a in got] == [("pm2_5_exceedance", "closed")]  # 60 up, 54 down


def test_rules_are_valid_data():
    names = [r.rule for r in RULES]
    assert len(names) == len(set(names))
    fields = {"device": "泵", "point": "p", "value": 1.0, "unit": "u", "limit": 1.0, "clear": 1.0}
    for rule in RULES:
        assert rule.source
        extra = {"rate": 1.0} if isinstance(rule, RateRule) else {}
        if isinstance(rule, StaleRule):
            extra = {"minutes": 1.0, "interval_s": 900, "intervals": 3}
        assert rule.message_zh.format(**fields, **extra)
    with pytest.raises(ValueError):
        ThresholdRule(
            rule="x", quantity="q", unit="u", severity="warning", message_zh="", source="", above=1, clear=2
        )
    with pytest.raises(ValueError):
        ThresholdRule(rule="x", quantity="q", unit="u", severity="fatal", message_zh="", source="", above=1)


def test_timing_of_a_50k_batch(park):
    """50,000 readings of 5,000 points (10 each, 1 % of points past a limit once): the time is printed,
    not asserted."""
    n_points, per_point = 5_000, 10
    kinds = [
        ("vibration_rms", "mm/s", 2.0),
        ("bearing_temperature", "degC", 60.0),
        ("active_power", "kW", 500.0),
    ]
    kinds.append(("pm2_5", "ug/m3", 30.0))
    keys = ("point_id", "device_id", "quantity", "unit", "value_kind", "interval_s")
    points = [(f"b{i}", "pump", *kinds[i % 4][:2], "instant", 60) for i in range(n_points)]
    park.store.write("points", [dict(zip(keys, p)) for p in points])
    normal = np.repeat([kinds[i % 4][2] for i in range(n_points)], per_point)
    rng = np.random.default_rng(7)

    def batch(k: int) -> pa.Table:
        minutes = np.tile(np.arange(per_point), n_points) + k * per_point
        values = normal * rng.uniform(0.9, 1.1, len(normal))
        values[rng.choice(len(values), n_points // 100, replace=False)] *= 4  # excursions
        return pa.table(
            {
                "point_id": np.repeat([p[0] for p in points], per_point),
                "ts": pa.array(
                    minutes * 60_000_000 + int(T0.timestamp() * 1e6), pa.timestamp("us", tz="UTC")
                ),
                "value": values,
            }
        )

    for label, as_list in (("arrow table", False), ("list of dicts", True)):
        engine = AlertEngine(park.store)
        times, written = [], 0
        for k in range(3):
            table = batch(k + (3 if as_list else 0))
            park.store.write_readings(table)
            rows = table.to_pylist() if as_list else table
            t = time.perf_counter()
            written += len(engine.on_readings(rows))
            times.append((time.perf_counter() - t) * 1000)
        print(
            f"\n50k readings ({label}): {times[0]:.1f} ms first batch (seeding included), "
            f"{times[1]:.1f} / {times[2]:.1f} ms next batches; {written} alert rows written"
        )
