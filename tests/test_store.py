"""The DuckDB store: migrations and upgrades, readings, rollups, read-only SQL, writes and locking."""

from __future__ import annotations

import math
import random
import re
import shutil
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

import parkbrain.store
from parkbrain import DatabaseLocked, InvalidInput, Park, QueryError, SchemaError
from parkbrain.model.tables import CANONICAL_TABLES
from parkbrain.store.base import FoldBusy
from parkbrain.store.duckdb import DuckDBStore

UTC = timezone.utc
SHANGHAI = ZoneInfo("Asia/Shanghai")
MIGRATIONS_DIR = Path(parkbrain.store.__file__).resolve().parent / "migrations"
#: 2026-03-02 00:00 in Asia/Shanghai.
T0 = datetime(2026, 3, 1, 16, 0, tzinfo=UTC)
Q = timedelta(minutes=15)

#: DuckDB types that hold each abstract type of the model.
COMPATIBLE = {
    "text": {"VARCHAR"},
    "json": {"VARCHAR", "JSON"},
    "int": {"INTEGER", "BIGINT", "SMALLINT"},
    "double": {"DOUBLE"},
    "bool": {"BOOLEAN"},
    "timestamp": {"TIMESTAMP WITH TIME ZONE"},
}


def _last_migration_number() -> int:
    numbers = [
        int(m.group(1)) for p in MIGRATIONS_DIR.iterdir() if (m := re.match(r"^(\d{4})_\w+\.sql$", p.name))
    ]
    return max(numbers)


@pytest.fixture(params=["memory", "file"])
def any_park(request, tmp_path):
    park = Park(memory=True) if request.param == "memory" else Park.open(tmp_path / "park.duckdb")
    with park:
        yield park


@pytest.fixture
def park():
    with Park(memory=True) as p:
        _add_meter(p)
        yield p


def _add_meter(p: Park) -> None:
    p.store.write("devices", [{"device_id": "d1", "park_id": "p1", "kind": "Building_Electrical_Meter"}])
    p.store.write(
        "points",
        [
            {
                "point_id": "kwh",
                "device_id": "d1",
                "quantity": "electric_energy",
                "unit": "kWh",
                "value_kind": "cumulative",
                "interval_s": 900,
            },
            {
                "point_id": "pm",
                "device_id": "d1",
                "quantity": "pm2_5",
                "unit": "ug/m3",
                "value_kind": "instant",
                "interval_s": 900,
            },
        ],
    )


def _rows(point: str, start: datetime, values: list[float]) -> list[dict]:
    return [{"point_id": point, "ts": start + i * Q, "value": v} for i, v in enumerate(values)]


# -- migrations -----------------------------------------------------------------------------------


def test_migrations_create_every_canonical_column(any_park):
    for spec in CANONICAL_TABLES:
        columns = any_park.store.columns(spec.name)
        missing = [c.name for c in spec.columns if c.name not in columns]
        assert not missing, f"{spec.name}: missing {missing}"
        for column in spec.columns:
            assert columns[column.name] in COMPATIBLE[column.type], (
                spec.name,
                column.name,
                columns[column.name],
            )


def test_not_null_columns_match_the_model(any_park):
    nullable = {
        (r["table_name"], r["column_name"]): r["is_nullable"] == "YES"
        for r in any_park.store.query_rows(
            "SELECT table_name, column_name, is_nullable FROM information_schema.columns WHERE table_schema = 'main'"
        )
    }
    for spec in CANONICAL_TABLES:
        for column in spec.columns:
            assert nullable[(spec.name, column.name)] == column.nullable, (spec.name, column.name)


def test_schema_version_is_the_last_migration(any_park):
    last = _last_migration_number()
    assert last >= 3  # 0001 canonical, 0002 rollups, 0003 provenance
    assert any_park.store.schema_version() == last
    assert any_park.info()["schema_version"] == last
    versions = [
        r["version"] for r in any_park.store.query_rows("SELECT version FROM schema_migrations ORDER BY 1")
    ]
    assert versions == list(range(1, last + 1))
    assert any_park.store.migrate() == []  # nothing left to apply


def _version_1_file(path: Path) -> None:
    """A database as ParkBrain wrote it at schema version 1, with rows in the 0001 columns."""
    store = DuckDBStore(path, migrate=False)
    assert store.schema_version() == 0
    assert store.migrate(upto=1) == [1]
    assert store.schema_version() == 1
    assert "readings_15m" not in store.table_names()
    assert "data_source" not in store.columns("parks")
    store.write("regions", [{"region_code": "450000", "name": "广西壮族自治区", "level": "province"}])
    store.write(
        "parks", [{"park_id": "nn-etdz", "name": "南宁经济技术开发区", "region_code": "450100", "lon": 108.2}]
    )
    store.write(
        "enterprises", [{"enterprise_id": "e1", "park_id": "nn-etdz", "name": "甲公司", "employees": 120}]
    )
    store.write("devices", [{"device_id": "d1", "park_id": "nn-etdz", "kind": "Building_Electrical_Meter"}])
    store.write(
        "points",
        [
            {
                "point_id": "kwh",
                "device_id": "d1",
                "quantity": "electric_energy",
                "unit": "kWh",
                "value_kind": "cumulative",
            }
        ],
    )
    store.write_readings(_rows("kwh", T0, [10.0, 12.0, 15.0, 19.0]), rollups=False)
    store.close()


def test_a_version_1_database_is_upgraded_and_keeps_its_rows(tmp_path):
    path = tmp_path / "old.duckdb"
    _version_1_file(path)
    with Park.open(path) as p:
        assert p.store.schema_version() == _last_migration_number()
        assert p.store.query_rows("SELECT region_code, name, level, area_km2 FROM regions") == [
            {"region_code": "450000", "name": "广西壮族自治区", "level": "province", "area_km2": None}
        ]
        assert p.store.query_rows("SELECT park_id, lon, data_source, approval_year FROM parks") == [
            {"park_id": "nn-etdz", "lon": 108.2, "data_source": None, "approval_year": None}
        ]
        assert p.store.query_rows("SELECT name, employees FROM enterprises") == [
            {"name": "甲公司", "employees": 120}
        ]
        assert [r["value"] for r in p.store.query_rows("SELECT value FROM readings ORDER BY ts")] == [
            10,
            12,
            15,
            19,
        ]
        for spec in CANONICAL_TABLES:
            assert set(spec.column_names) <= set(p.store.columns(spec.name)), spec.name
        # the upgraded file takes new rows in the new columns
        p.store.write(
            "parks",
            [
                {
                    "park_id": "nn-etdz",
                    "name": "南宁经济技术开发区",
                    "region_code": "450100",
                    "data_source": "demo",
                }
            ],
        )
        assert p.store.query_rows("SELECT data_source FROM parks")[0]["data_source"] == "demo"
    with Park.open(path) as again:
        assert again.store.migrate() == []
        assert again.store.count("readings") == 4


def test_upgrade_makes_earlier_readings_visible_in_the_rollups(tmp_path):
    """Regression: migration 0002 created the rollup tables empty, so readings stored at version 1 were
    invisible to Park.readings() and the API until rebuild_rollups() was run by hand."""
    path = tmp_path / "old.duckdb"
    _version_1_file(path)
    with Park.open(path) as p:
        deltas = [r["delta"] for r in p.readings("kwh", interval="15m").table.to_pylist()]
        assert deltas == [2.0, 3.0, 4.0, None]
        assert p.store.query_rows("SELECT value FROM latest_readings") == [{"value": 19.0}]


def _future_file(path: Path) -> None:
    """A database written by a later ParkBrain (schema version 99)."""
    Park.open(path).close()
    con = duckdb.connect(str(path))
    con.execute("INSERT INTO schema_migrations (version, name) VALUES (99, 'from_the_future')")
    con.close()


@pytest.mark.parametrize("read_only", [False, True])
def test_a_newer_schema_is_refused(tmp_path, read_only):
    path = tmp_path / "new.duckdb"
    _future_file(path)
    with pytest.raises(SchemaError, match=rf"schema version 99.*\({_last_migration_number()}\)"):
        Park.open(path, read_only=read_only)


def test_a_refused_open_releases_the_file(tmp_path):
    """Regression: a store whose open failed (SchemaError) kept its connection, so the file stayed held
    and the next open in this process failed with StoreError ('different configuration')."""
    path = tmp_path / "new.duckdb"
    _future_file(path)
    with pytest.raises(SchemaError) as first:
        Park.open(path)
    with pytest.raises(SchemaError):
        Park.open(path, read_only=True)
    assert first.value.message


# -- readings -------------------------------------------------------------------------------------


def test_writing_the_same_batch_twice_inserts_nothing_the_second_time(park):
    batch = _rows("kwh", T0, [float(i) for i in range(10)])
    first = park.write_readings(batch)
    assert (first.inserted, first.duplicates) == (10, 0)
    again = park.write_readings(batch)
    assert (again.inserted, again.duplicates) == (0, 10)
    assert park.store.count("readings") == 10
    # half old, half new
    overlap = _rows("kwh", T0 + 5 * Q, [float(i) for i in range(5, 15)])
    result = park.write_readings(pd.DataFrame(overlap))
    assert (result.inserted, result.duplicates) == (5, 5)
    assert park.store.count("readings") == 15
    # an already stored (point_id, ts) keeps its first value
    assert park.store.query_rows("SELECT value FROM readings WHERE ts = ?", [T0 + 5 * Q]) == [{"value": 5.0}]


def test_duplicates_within_a_batch_are_collapsed(park):
    batch = [
        {"point_id": "pm", "ts": T0, "value": 30.0},
        {"point_id": "pm", "ts": T0 + Q, "value": 31.0},
        {"point_id": "pm", "ts": T0, "value": 99.0},
        {"point_id": "kwh", "ts": T0, "value": 5.0},
    ]
    result = park.write_readings(batch)
    assert (result.inserted, result.duplicates) == (3, 1)
    stored = park.store.query_rows("SELECT point_id, ts, value FROM readings ORDER BY point_id, ts")
    assert [(r["point_id"], r["value"]) for r in stored] == [("kwh", 5.0), ("pm", 30.0), ("pm", 31.0)]


def test_unknown_point_is_named_and_nothing_is_written(park):
    park.write_readings(_rows("kwh", T0, [1.0, 2.0]))
    before = park.store.count("readings")
    batch = _rows("kwh", T0 + 2 * Q, [3.0, 4.0]) + _rows("ghost-meter", T0, [1.0])
    with pytest.raises(InvalidInput, match="ghost-meter"):
        park.write_readings(batch)
    assert park.store.count("readings") == before == 2
    assert park.store.query_rows("SELECT value FROM latest_readings WHERE point_id = 'kwh'") == [
        {"value": 2.0}
    ]


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ({"point_id": "kwh", "ts": T0, "value": float("nan")}, "value"),
        ({"point_id": "kwh", "ts": T0, "value": None}, "value"),
        ({"point_id": "kwh", "ts": None, "value": 1.0}, "ts"),
        ({"point_id": None, "ts": T0, "value": 1.0}, "point_id"),
    ],
)
def test_bad_values_are_refused(park, row, field):
    good = {"point_id": "kwh", "ts": T0 + Q, "value": 2.0}
    with pytest.raises(InvalidInput, match=f"empty or non-numeric {field}"):
        park.write_readings([good, row])
    assert park.store.count("readings") == 0


def test_text_that_is_no_number_or_time_is_refused(park):
    frame = pd.DataFrame({"point_id": ["kwh", "kwh"], "ts": [T0, T0 + Q], "value": ["2.5", "lots"]})
    with pytest.raises(InvalidInput, match="'lots'"):
        park.write_readings(frame)
    with pytest.raises(InvalidInput, match="ts"):
        park.write_readings([{"point_id": "kwh", "ts": "the day after", "value": 1.0}])
    assert park.store.count("readings") == 0


def test_a_list_mixing_numbers_and_text_is_invalid_input(park):
    """Regression: pa.Table.from_pylist ran outside the try, so this raised a raw pyarrow.ArrowInvalid."""
    rows = [{"point_id": "kwh", "ts": T0, "value": 2.0}, {"point_id": "kwh", "ts": T0 + Q, "value": "lots"}]
    with pytest.raises(InvalidInput, match="lots"):
        park.write_readings(rows)


@pytest.mark.parametrize("missing", ["point_id", "ts", "value"])
def test_missing_columns_are_refused(park, missing):
    row = {k: v for k, v in {"point_id": "kwh", "ts": T0, "value": 1.0}.items() if k != missing}
    with pytest.raises(InvalidInput, match=f"missing column.*{missing}"):
        park.write_readings([row])
    assert park.store.count("readings") == 0


def test_an_empty_batch_writes_nothing(park):
    empty = pa.table(
        {
            "point_id": pa.array([], pa.string()),
            "ts": pa.array([], pa.timestamp("us", tz="UTC")),
            "value": pa.array([], pa.float64()),
        }
    )
    result = park.write_readings(empty)
    assert (result.inserted, result.duplicates) == (0, 0)


# -- rollups --------------------------------------------------------------------------------------

DAYS = 3
N = DAYS * 96
RESET_AT = 150  # the meter is swapped: this reading is 0


@pytest.fixture
def meter_series():
    """A cumulative 15-min register over 3 days (with a reset) and an instant pm2_5 series.

    Values are multiples of 1/4 so that every sum is exact whatever order DuckDB adds in.
    """
    rng = random.Random(7)
    # increments[i]: energy used between reading i and reading i+1
    increments = [rng.randint(1, 16) / 4 for _ in range(N - 1)]
    increments[RESET_AT - 1] = 0.0  # the swap interval: the new meter starts at 0
    register = [1000.0]
    for i in range(1, N):
        register.append(0.0 if i == RESET_AT else register[-1] + increments[i - 1])
    pm = [rng.randint(20, 200) / 4 for _ in range(N)]
    return register, increments, pm


def _dump(p: Park) -> dict[str, list[tuple]]:
    return {
        table: sorted(tuple(r.values()) for r in p.store.query_rows(f"SELECT * FROM {table}"))
        for table in ("readings_15m", "readings_1h", "readings_1d", "latest_readings")
    }


def test_incremental_rollups_equal_a_full_rebuild(park, meter_series):
    register, increments, pm = meter_series
    kwh = _rows("kwh", T0, register)
    pms = _rows("pm", T0, pm)
    assert register[RESET_AT] == 0.0 and register[RESET_AT - 1] > 0
    # out of order: the end first, then the start, then late chunks in the middle (one across the reset,
    # one starting at a midnight, so the day before must be refreshed too)
    chunks = [
        kwh[200:] + pms[200:],
        kwh[:96] + pms[:96],
        kwh[170:200] + pms[170:200],
        kwh[96:170] + pms[96:170],
        kwh[90:110],  # overlaps what is stored: nothing new
    ]
    for chunk in chunks:
        park.write_readings(chunk)
    assert park.store.count("readings") == 2 * N

    incremental = _dump(park)
    assert [len(incremental[t]) for t in incremental] == [2 * N, 2 * 24 * DAYS, 2 * DAYS, 2]
    park.store.rebuild_rollups()
    assert _dump(park) == incremental

    # the daily delta is the energy used in each Asia/Shanghai day (the reading at midnight onwards)
    daily = park.store.query_rows(
        "SELECT bucket, delta, n, first, last FROM readings_1d WHERE point_id = 'kwh' ORDER BY bucket"
    )
    expected = [sum(increments[d * 96 : (d + 1) * 96]) for d in range(DAYS)]
    assert [r["delta"] for r in daily] == expected
    assert [r["n"] for r in daily] == [96] * DAYS
    assert [r["first"] for r in daily] == [register[d * 96] for d in range(DAYS)]
    assert [r["last"] for r in daily] == [register[d * 96 + 95] for d in range(DAYS)]
    for d, row in enumerate(daily):
        assert row["bucket"] == T0 + timedelta(days=d)
        assert (row["bucket"].astimezone(UTC).hour, row["bucket"].astimezone(UTC).minute) == (16, 0)
        assert row["bucket"].astimezone(SHANGHAI).time().isoformat() == "00:00:00"

    # 15-min deltas: each interval's use, the reset counting the new reading since zero; the last is unknown
    quarter = park.store.query_rows("SELECT delta FROM readings_15m WHERE point_id = 'kwh' ORDER BY bucket")
    assert [r["delta"] for r in quarter] == [*increments, None]
    hourly = park.store.query_rows("SELECT delta FROM readings_1h WHERE point_id = 'kwh' ORDER BY bucket")
    assert [r["delta"] for r in hourly] == [sum(increments[h * 4 : h * 4 + 4]) for h in range(24 * DAYS)]

    latest = park.store.query_rows("SELECT point_id, ts, value FROM latest_readings ORDER BY point_id")
    assert latest == [
        {"point_id": "kwh", "ts": T0 + (N - 1) * Q, "value": register[-1]},
        {"point_id": "pm", "ts": T0 + (N - 1) * Q, "value": pm[-1]},
    ]


def test_a_meter_reset_counts_the_new_reading_as_used_since_zero(park):
    park.write_readings(_rows("kwh", T0, [100.0, 104.0, 3.0, 5.0]))
    deltas = park.store.query_rows("SELECT delta FROM readings_15m WHERE point_id = 'kwh' ORDER BY bucket")
    assert [r["delta"] for r in deltas] == [4.0, 3.0, 2.0, None]


def test_instant_points_have_mean_min_max_and_no_delta(park, meter_series):
    _, _, pm = meter_series
    park.write_readings(_rows("pm", T0, pm))
    hourly = park.readings("pm", T0, T0 + timedelta(days=DAYS), "1h").table.to_pylist()
    assert len(hourly) == 24 * DAYS
    for h, row in enumerate(hourly):
        values = pm[h * 4 : h * 4 + 4]
        assert row["ts"] == T0 + timedelta(hours=h)
        assert row["value"] == sum(values) / len(values)
        assert (row["min"], row["max"], row["n"], row["last"]) == (min(values), max(values), 4, values[-1])
        assert row["delta"] is None
    daily = park.readings("pm", T0, T0 + timedelta(days=DAYS), "1d").table.to_pylist()
    for d, row in enumerate(daily):
        values = pm[d * 96 : (d + 1) * 96]
        assert row["value"] == pytest.approx(sum(values) / 96, rel=1e-12)
        assert (row["min"], row["max"], row["n"], row["delta"]) == (min(values), max(values), 96, None)


def test_readings_window_is_start_inclusive_end_exclusive(park, meter_series):
    register, increments, _ = meter_series
    park.write_readings(_rows("kwh", T0, register))
    window = park.readings("kwh", T0 + 4 * Q, T0 + 8 * Q, "15m")
    assert window.interval == "15m"
    assert [r["ts"] for r in window.table.to_pylist()] == [T0 + i * Q for i in range(4, 8)]
    assert window.table.column("delta").to_pylist() == increments[4:8]
    # auto: 15m up to two days, 1h up to 31 days, 1d beyond
    assert park.readings("kwh", T0, T0 + timedelta(days=2)).interval == "15m"
    assert park.readings("kwh", T0, T0 + timedelta(days=3)).interval == "1h"
    assert park.readings("kwh", T0, T0 + timedelta(days=40)).interval == "1d"
    default = park.readings("kwh")
    assert default.end == T0 + (N - 1) * Q + timedelta(seconds=1)
    assert default.end - default.start == timedelta(days=7)
    with pytest.raises(InvalidInput, match="must be before"):
        park.readings("kwh", T0 + Q, T0)
    with pytest.raises(QueryError, match="interval"):
        park.readings("kwh", T0, T0 + Q, "5m")


def test_incremental_rollups_match_rebuild_after_a_long_gap(park):
    """Regression: the refresh looked back only 7 days for the reading before a new one, so after a longer
    gap the earlier reading's delta stayed NULL while rebuild_rollups() filled it."""
    park.write_readings(_rows("kwh", T0, [10.0]))
    park.write_readings(_rows("kwh", T0 + timedelta(days=10), [30.0]))
    incremental = _dump(park)
    park.store.rebuild_rollups()
    assert _dump(park) == incremental


# -- read-only SQL --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "DROP TABLE readings",
        "DELETE FROM readings",
        "UPDATE parks SET name = 'x'",
        "COPY readings TO '/tmp/parkbrain-out.csv'",
        "ATTACH ':memory:' AS other",
        "PRAGMA database_list",
        "SET threads = 1",
        "INSTALL httpfs",
        "LOAD httpfs",
        "CREATE TABLE t (a INTEGER)",
        "SELECT 1; SELECT 2",
        "SELECT 1; DROP TABLE readings",
        "SELECT * FROM read_csv('/etc/hostname')",
        "SELECT * FROM read_parquet('/tmp/x.parquet')",
        "SELECT * FROM glob('/*')",
        "SELECT * FROM parks p, LATERAL (SELECT * FROM glob('/*')) g",
        "SELECT (SELECT count(*) FROM read_csv_auto('/etc/hostname'))",
        "SELECT getenv('HOME')",
        "SELECT current_setting('threads')",
        "SELECT read_text('/etc/hostname')",
        "SELECT * FROM query('DROP TABLE readings')",
        "",
        "   ",
    ],
)
def test_query_readonly_refuses(park, sql):
    with pytest.raises(QueryError):
        park.sql(sql)
    assert "readings" in park.store.table_names()


def test_query_readonly_accepts_selects(park):
    park.write_readings(_rows("kwh", T0, [1.0, 2.0, 4.0]))
    assert park.sql("WITH r AS (SELECT value FROM readings) SELECT sum(value) AS s FROM r").to_pylist() == [
        {"s": 7.0}
    ]
    assert park.sql("SELECT range AS i FROM range(5)").column("i").to_pylist() == [0, 1, 2, 3, 4]
    assert park.sql("SELECT * FROM range(100)", limit=3).num_rows == 3
    assert park.sql("SELECT count(*) AS n FROM readings;").to_pylist() == [{"n": 3}]


def test_query_readonly_refuses_files_named_in_from(park, tmp_path):
    """Regression: a string in FROM is a DuckDB replacement scan that reads the file; json_serialize_sql
    shows it as a BASE_TABLE, so the guard let it through."""
    secret = tmp_path / "secret.csv"
    secret.write_text("password\nhunter2\n", encoding="utf-8")
    for sql in (
        f"SELECT * FROM '{secret}'",
        f'SELECT * FROM "{secret}"',
        f"FROM '{secret}'",
        f"SELECT * FROM (SELECT * FROM '{secret}') AS s",
    ):
        with pytest.raises(QueryError, match="not a park table"):
            park.sql(sql)


def test_query_readonly_refuses_dotted_file_names_in_from(park, tmp_path, monkeypatch):
    (tmp_path / "secret.csv").write_text("password\nhunter2\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(QueryError):
        park.sql("SELECT * FROM secret.csv")


def test_query_readonly_limit_with_a_trailing_comment(park):
    """Regression: the LIMIT wrapper was one line, so a trailing -- comment swallowed its ')'."""
    assert park.sql("SELECT 42 AS answer -- the answer", limit=10).to_pylist() == [{"answer": 42}]


def test_query_readonly_limit_with_a_semicolon_before_a_comment(park):
    assert park.sql("SELECT 1 AS one; -- note").to_pylist() == [{"one": 1}]  # accepted without a limit
    assert park.sql("SELECT 1 AS one; -- note", limit=10).to_pylist() == [{"one": 1}]


def test_query_readonly_settings_are_refused_everywhere(park):
    with pytest.raises(QueryError):
        park.sql("SELECT current_setting('threads')")
    with pytest.raises(QueryError):
        park.sql("SELECT setting FROM pg_catalog.pg_settings WHERE name = 'threads'")


# -- writes ---------------------------------------------------------------------------------------


def test_write_refuses_an_unknown_column(park):
    with pytest.raises(InvalidInput, match="colour"):
        park.store.write(
            "enterprises", [{"enterprise_id": "e1", "park_id": "p1", "name": "甲", "colour": "red"}]
        )
    assert park.store.count("enterprises") == 0
    with pytest.raises(InvalidInput, match="no_such_table"):
        park.store.write("no_such_table", [{"a": 1}])


def test_upsert_replaces_a_row_by_key(park):
    row = {
        "enterprise_id": "e1",
        "park_id": "p1",
        "name": "甲公司",
        "employees": 10,
        "uscc": "91440300708461136T",
    }
    park.store.write("enterprises", [row, {**row, "enterprise_id": "e2", "name": "乙公司"}])
    park.store.write("enterprises", [{**row, "name": "甲有限公司", "employees": 25}], mode="upsert")
    rows = park.store.query_rows("SELECT enterprise_id, name, employees FROM enterprises ORDER BY 1")
    assert rows == [
        {"enterprise_id": "e1", "name": "甲有限公司", "employees": 25},
        {"enterprise_id": "e2", "name": "乙公司", "employees": 10},
    ]
    park.store.write("enterprises", [{**row, "enterprise_id": "e3"}], mode="replace")
    assert [r["enterprise_id"] for r in park.store.query_rows("SELECT enterprise_id FROM enterprises")] == [
        "e3"
    ]
    with pytest.raises(ValueError):
        park.store.write("enterprises", [row], mode="merge")


def test_write_reports_a_missing_required_value_as_invalid_input(park):
    """Regression: unregistering the Arrow view on the aborted transaction raised a
    duckdb.TransactionException that replaced the InvalidInput."""
    with pytest.raises(InvalidInput, match="NOT NULL.*name"):
        park.store.write("enterprises", [{"enterprise_id": "e1", "park_id": "p1"}])
    park.store.write("enterprises", [{"enterprise_id": "e1", "park_id": "p1", "name": "甲"}])
    with pytest.raises(InvalidInput, match="enterprises"):  # key clash in append mode
        park.store.write(
            "enterprises", [{"enterprise_id": "e1", "park_id": "p1", "name": "乙"}], mode="append"
        )
    with pytest.raises(InvalidInput, match="value_kind"):  # CHECK constraint
        park.store.write(
            "points",
            [{"point_id": "x", "device_id": "d1", "quantity": "q", "unit": "u", "value_kind": "sometimes"}],
        )
    with pytest.raises(InvalidInput, match="enterprises"):  # conversion
        park.store.write(
            "enterprises", [{"enterprise_id": "e2", "park_id": "p1", "name": "丙", "employees": "many"}]
        )
    # every failed write was rolled back and the store still writes
    assert park.store.query_rows("SELECT enterprise_id, name FROM enterprises") == [
        {"enterprise_id": "e1", "name": "甲"}
    ]
    assert park.store.count("points") == 2
    park.store.write("enterprises", [{"enterprise_id": "e2", "park_id": "p1", "name": "丙"}])
    assert park.store.count("enterprises") == 2


def test_write_keeps_keys_missing_from_the_first_row(park):
    """Regression (silent data loss): pa.Table.from_pylist takes the columns from the first dict only."""
    park.store.write(
        "regions",
        [
            {"region_code": "450000", "name": "广西壮族自治区", "level": "province"},
            {"region_code": "450100", "name": "南宁市", "level": "prefecture", "parent_code": "450000"},
        ],
    )
    rows = park.store.query_rows("SELECT region_code, parent_code FROM regions ORDER BY 1")
    assert rows == [
        {"region_code": "450000", "parent_code": None},
        {"region_code": "450100", "parent_code": "450000"},
    ]


def test_a_key_left_out_of_one_row_takes_the_column_default(park):
    alert = {"ts": T0, "park_id": "p1", "rule": "overload", "severity": "warning"}
    park.store.write("alerts", [{**alert, "alert_id": "a1"}])
    assert park.store.query_rows("SELECT status FROM alerts") == [{"status": "open"}]  # alone: the default
    park.store.write("alerts", [{**alert, "alert_id": "a2", "status": "closed"}, {**alert, "alert_id": "a3"}])
    rows = park.store.query_rows("SELECT alert_id, status FROM alerts ORDER BY 1")
    assert [r["status"] for r in rows] == ["open", "closed", "open"]


# -- locking --------------------------------------------------------------------------------------

_HOLDER = (
    "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); print('ready', flush=True); time.sleep(60)"
)


def test_a_database_held_by_another_process_is_locked(tmp_path):
    path = tmp_path / "held.duckdb"
    Park.open(path).close()
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(DatabaseLocked, match="in use by another process"):
            Park.open(path)
        with pytest.raises(DatabaseLocked):
            Park.open(path, read_only=True)
    finally:
        holder.kill()
        holder.wait(timeout=10)
        holder.stdout.close()
    with Park.open(path, read_only=True) as p:  # released with the process
        assert p.store.schema_version() == _last_migration_number()


def test_read_only_open_of_a_missing_file_is_not_found(tmp_path):
    from parkbrain import NotFound

    with pytest.raises(NotFound):
        Park.open(tmp_path / "absent.duckdb", read_only=True)
    assert not (tmp_path / "absent.duckdb").exists()


def test_a_copy_of_a_database_opens_alone(tmp_path):
    """Sanity for the lock test: two files are independent."""
    first = tmp_path / "a.duckdb"
    with Park.open(first) as p:
        _add_meter(p)
        p.write_readings(_rows("kwh", T0, [1.0, 3.0]))
    shutil.copy(first, tmp_path / "b.duckdb")
    with Park.open(first) as a, Park.open(tmp_path / "b.duckdb", read_only=True) as b:
        assert a.store.count("readings") == b.store.count("readings") == 2
        assert math.isclose(b.sql("SELECT sum(delta) AS d FROM readings_15m").to_pylist()[0]["d"], 2.0)


def test_a_stream_of_in_order_batches_merges_to_what_a_rebuild_computes(park, meter_series):
    """In-order batches take the merge path (15-minute rows updated in place, deltas bridged from the
    stored latest reading); batches of 7 readings at 5-minute steps split buckets and cross the reset."""
    register, _, pm = meter_series
    step = timedelta(minutes=5)
    kwh = [{"point_id": "kwh", "ts": T0 + i * step, "value": v} for i, v in enumerate(register)]
    pms = [{"point_id": "pm", "ts": T0 + i * step, "value": v} for i, v in enumerate(pm)]
    for lo in range(0, len(kwh), 7):
        park.write_readings(kwh[lo : lo + 7] + pms[lo : lo + 7])
    streamed = _dump(park)
    park.store.rebuild_rollups()
    assert _dump(park) == streamed
    assert streamed["readings_15m"] and any(
        r[2] == 3 for r in streamed["readings_15m"]
    )  # 3 readings a bucket


def _stream_batches(register: list[float], pm: list[float]) -> list[list[dict]]:
    step = timedelta(minutes=5)
    kwh = [{"point_id": "kwh", "ts": T0 + i * step, "value": v} for i, v in enumerate(register)]
    pms = [{"point_id": "pm", "ts": T0 + i * step, "value": v} for i, v in enumerate(pm)]
    return [kwh[lo : lo + 7] + pms[lo : lo + 7] for lo in range(0, len(kwh), 7)]


def test_staged_hours_and_days_fold_to_what_a_rebuild_computes(park, meter_series):
    """A live stream's writer stages hours and days (``stage_coarse``): 15-minute rows and latest
    values are current after every batch, hours and days once folded; a late batch, or a write that
    does not stage, folds the stage first so that merges apply in time order."""
    register, _, pm = meter_series
    batches = _stream_batches(register, pm)
    late = len(batches) // 2
    for i, batch in enumerate(batches):
        if i == late:
            continue  # arrives three batches later
        park.store.write_readings(batch, stage_coarse=True)
        if i == late + 3:
            park.store.write_readings(batches[late], stage_coarse=True)
        if i == 5:
            before = _dump(park)
            assert park.store.count("rollups_staged") > 0
            assert park.store.fold_rollups() > 0
            after = _dump(park)
            assert park.store.count("rollups_staged") == park.store.count("rollups_staged_bridges") == 0
            assert after["readings_15m"] == before["readings_15m"]
            assert after["latest_readings"] == before["latest_readings"]
            assert sum(r[2] for r in after["readings_1h"]) == sum(r[2] for r in after["readings_15m"])
        if i == 20:  # an ordinary write (HTTP push, import) folds what the stream staged
            park.write_readings([{"point_id": "pm", "ts": T0 - timedelta(days=1), "value": 1.0}])
            assert park.store.count("rollups_staged") == 0
    park.store.fold_rollups()
    streamed = _dump(park)
    park.store.rebuild_rollups()
    assert _dump(park) == streamed


def test_a_concurrent_fold_and_live_batches_add_up_to_a_rebuild(park, meter_series):
    """The live writer folds on a connection of its own while batches keep committing: a batch whose
    transaction is open during a fold only appends to the stage (the fold neither sees nor deletes
    it); a late batch, which must fold first, is refused with FoldBusy — nothing written — while a
    fold holds the lock, and goes through once it is free."""
    register, _, pm = meter_series
    batches = _stream_batches(register, pm)
    store = park.store
    for batch in batches[:10]:
        store.write_readings(batch, stage_coarse=True)
    staged = store.count("rollups_staged")
    store._fold_lock.acquire()  # as the folder thread holds it
    with store.transaction(fold_optional=True):
        store.write_readings(batches[11], stage_coarse=True)  # in order: stages, needs no fold
        store._fold_lock.release()
        folder = threading.Thread(target=store.fold_rollups, kwargs={"concurrent": True})
        folder.start()
        folder.join()  # folded and committed while this batch's transaction is still open
    assert 0 < store.count("rollups_staged") < staged  # the fold took the first ten; this batch stays
    readings = store.count("readings")
    with store._fold_lock:
        with pytest.raises(FoldBusy), store.transaction(fold_optional=True):
            store.write_readings(batches[10], stage_coarse=True)  # late: needs the stage folded
        assert store.count("readings") == readings
    with store.transaction(fold_optional=True):
        store.write_readings(batches[10], stage_coarse=True)
    for batch in batches[12:]:
        store.write_readings(batch, stage_coarse=True)
    store.fold_rollups(concurrent=True)
    streamed = _dump(park)
    store.rebuild_rollups()
    assert _dump(park) == streamed


def test_a_stage_left_by_a_crash_is_folded_when_the_file_opens(tmp_path, meter_series):
    register, _, pm = meter_series
    path = tmp_path / "park.duckdb"
    with Park.open(path) as p:
        _add_meter(p)
        for batch in _stream_batches(register, pm)[:30]:
            p.store.write_readings(batch, stage_coarse=True)
        assert p.store.count("rollups_staged") > 0  # closed without folding, as a kill -9 would leave it
    with Park.open(path) as p:
        assert p.store.count("rollups_staged") == 0
        opened = _dump(p)
        p.store.rebuild_rollups()
        assert _dump(p) == opened


def test_the_checkpoint_threshold_is_set_checked_and_reset(park):
    def current() -> str:
        return park.store.query_rows("SELECT current_setting('checkpoint_threshold') AS v")[0]["v"]

    default = current()
    park.store.set_checkpoint_threshold("64MB")
    assert current() != default and current().startswith("6")  # DuckDB shows it in its own units
    with pytest.raises(InvalidInput, match="64MB"):
        park.store.set_checkpoint_threshold("64MB'; DROP TABLE readings; --")
    park.store.set_checkpoint_threshold(None)
    assert current() == default
