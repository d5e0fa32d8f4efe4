"""The Parquet lake (export by park and Asia/Shanghai month) and retention per resolution."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from parkbrain import Park
from parkbrain.errors import InvalidInput, NotFound
from parkbrain.model.timeutil import PARK_TZ
from parkbrain.store import lake
from parkbrain.store.lake import READINGS_SCHEMA, export_lake, lake_partitions, month_start
from parkbrain.store.retention import (
    DEFAULT_RETENTION,
    RetentionPolicy,
    apply_retention,
    retention_cutoff,
    retention_policies,
)
from tests.test_import import seed

UTC = timezone.utc
#: Local midnight of 1 November 2026 (Asia/Shanghai) in UTC.
NOV = datetime(2026, 10, 31, 16, tzinfo=UTC)
EDGE = datetime(2026, 10, 31, 17, tzinfo=UTC)  # 01:00 on 1 November in Shanghai


def readings() -> list[dict]:
    """Three points of two parks every 7 hours across October and November, plus the month edge."""
    rows = []
    for point, base in (("m1-kwh", 1000.0), ("m1-kw", 5.0), ("q1-m3", 70.0)):
        for step in range(200):
            ts = datetime(2026, 10, 1, tzinfo=UTC) + timedelta(hours=7 * step, microseconds=step)
            rows.append({"point_id": point, "ts": ts, "value": base + step * 0.125})
    rows.append({"point_id": "m1-kw", "ts": EDGE, "value": 1.5})
    rows.append({"point_id": "m1-kw", "ts": NOV - timedelta(microseconds=1), "value": 2.5})
    return rows


@pytest.fixture
def park():
    with Park(memory=True) as p:
        seed(p).store.write_readings(readings())
        yield p


def read_lake(out: Path) -> list[tuple]:
    """Every row of the lake as DuckDB reads it, with park and month from the folder names."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return con.execute(
        "SELECT park_id, month, point_id, ts, value, device_id, quantity FROM read_parquet("
        "?, hive_partitioning = true) ORDER BY point_id, ts",
        [f"{out}/readings/**/*.parquet"],
    ).fetchall()


def expected(park: Park, park_id: str | None = None) -> list[tuple]:
    """The same rows from the database, the month computed in Python in park time."""
    rows = park.store.query_rows(
        "SELECT d.park_id, r.point_id, r.ts, r.value, p.device_id, p.quantity FROM readings r "
        "JOIN points p USING (point_id) JOIN devices d USING (device_id) ORDER BY r.point_id, r.ts"
    )
    return [
        (r["park_id"], r["ts"].astimezone(PARK_TZ).strftime("%Y-%m"), r["point_id"], r["ts"], r["value"])
        + (r["device_id"], r["quantity"])
        for r in rows
        if park_id in (None, r["park_id"])
    ]


# -- export ----------------------------------------------------------------------------------


def test_export_writes_every_reading_exactly(park, tmp_path):
    result = export_lake(park.store, tmp_path)
    assert read_lake(tmp_path) == expected(park)
    assert result.rows == park.store.count("readings") == 602
    assert [(p.park_id, p.month) for p in result.partitions] == [
        ("nn-etdz", "2026-10"),
        ("nn-etdz", "2026-11"),
        ("qz-port", "2026-10"),
        ("qz-port", "2026-11"),
    ]
    assert all(p.path.is_dir() and p.path.is_relative_to(tmp_path) for p in result.partitions)
    assert sorted(lake_partitions(tmp_path)) == sorted(result.partitions)
    assert result.as_dict()["rows"] == 602


def test_month_is_asia_shanghai(park, tmp_path):
    export_lake(park.store, tmp_path)
    months = {(row[3], row[1]) for row in read_lake(tmp_path) if row[2] == "m1-kw"}
    assert (EDGE, "2026-11") in months
    assert (NOV - timedelta(microseconds=1), "2026-10") in months
    assert month_start(EDGE) == NOV
    assert month_start(datetime(2026, 11, 1, 0, 30)) == NOV  # naive: park time


def test_files_are_sorted_and_typed(park, tmp_path):
    result = export_lake(park.store, tmp_path)
    for part in result.partitions:
        table = pq.read_table(part.path / "data_0.parquet")
        assert [(f.name, f.type) for f in table.schema] == [(f.name, f.type) for f in READINGS_SCHEMA]
        keys = list(zip(table["point_id"].to_pylist(), table["ts"].to_pylist()))
        assert keys == sorted(keys)


def test_pyarrow_dataset_reads_the_hive_layout(park, tmp_path):
    export_lake(park.store, tmp_path)
    table = ds.dataset(tmp_path / "readings", format="parquet", partitioning="hive").to_table()
    assert table.num_rows == 602
    assert str(table.schema.field("ts").type) == "timestamp[us, tz=UTC]"
    assert str(table.schema.field("month").type) == "string"
    got = sorted(
        zip(
            table["park_id"].to_pylist(),
            table["month"].to_pylist(),
            table["point_id"].to_pylist(),
            table["ts"].to_pylist(),
            table["value"].to_pylist(),
        )
    )
    assert got == sorted(row[:5] for row in expected(park))


def test_export_again_replaces_partitions(park, tmp_path):
    export_lake(park.store, tmp_path)
    export_lake(park.store, tmp_path)
    assert read_lake(tmp_path) == expected(park)
    park.store.write_readings([{"point_id": "q1-m3", "ts": EDGE, "value": 99.0}])
    export_lake(park.store, tmp_path)
    assert read_lake(tmp_path) == expected(park)
    assert len(read_lake(tmp_path)) == 603
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folder left


def test_park_filter_writes_only_that_park(park, tmp_path):
    result = export_lake(park.store, tmp_path, park_id="qz-port")
    assert {p.park_id for p in result.partitions} == {"qz-port"}
    assert [p.name for p in (tmp_path / "readings").iterdir()] == ["park_id=qz-port"]
    assert read_lake(tmp_path) == expected(park, "qz-port")
    with pytest.raises(NotFound):
        export_lake(park.store, tmp_path, park_id="nowhere")


def test_window_widens_to_whole_months(park, tmp_path):
    export_lake(park.store, tmp_path)
    october = (tmp_path / "readings/park_id=nn-etdz/month=2026-10/data_0.parquet").stat().st_mtime_ns
    result = export_lake(park.store, tmp_path, start=datetime(2026, 11, 5, tzinfo=UTC))
    assert {p.month for p in result.partitions} == {"2026-11"}
    assert read_lake(tmp_path) == expected(park)  # all of November, October untouched
    assert (tmp_path / "readings/park_id=nn-etdz/month=2026-10/data_0.parquet").stat().st_mtime_ns == october
    result = export_lake(park.store, tmp_path / "oct", end=EDGE)
    assert {p.month for p in result.partitions} == {"2026-10", "2026-11"}
    with pytest.raises(InvalidInput):
        export_lake(park.store, tmp_path, start=EDGE, end=NOV)


def test_dimension_tables_and_manifest(park, tmp_path):
    export_lake(park.store, tmp_path, park_id="nn-etdz")
    export_lake(park.store, tmp_path, park_id="qz-port")
    assert pq.read_table(tmp_path / "points.parquet").num_rows == park.store.count("points")
    assert pq.read_table(tmp_path / "devices.parquet")["device_id"].to_pylist() == [
        "m1",
        "q1",
        "skab",
        "steel",
    ]
    manifest = json.loads((tmp_path / "_manifest.json").read_text(encoding="utf-8"))
    assert manifest["export"]["park_id"] == "qz-port"
    assert manifest["export"]["months"] == ["2026-10", "2026-11"]
    assert manifest["rows"] == 602  # the whole lake, both exports
    assert {(p["park_id"], p["month"]) for p in manifest["partitions"]} == {
        (park_id, month) for park_id in ("nn-etdz", "qz-port") for month in ("2026-10", "2026-11")
    }
    assert manifest["schema"]["readings"]["ts"] == "timestamp[us, tz=UTC]"
    assert "park_id" in manifest["schema"]["devices"]


def test_a_failed_export_leaves_the_lake_as_it_was(park, tmp_path, monkeypatch):
    export_lake(park.store, tmp_path)
    park.store.write_readings([{"point_id": "q1-m3", "ts": EDGE, "value": 99.0}])
    copy = lake._copy_partition
    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise OSError("disk full")
        return copy(*args, **kwargs)

    monkeypatch.setattr(lake, "_copy_partition", failing)
    with pytest.raises(OSError):
        export_lake(park.store, tmp_path)
    assert len(read_lake(tmp_path)) == 602
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_odd_park_ids_round_trip(tmp_path):
    with Park(memory=True) as p:
        seed(p)
        p.store.write("parks", [{"park_id": "a/b c'd=e 园区", "name": "odd", "region_code": "450100"}])
        p.store.write("devices", [{"device_id": "x", "park_id": "a/b c'd=e 园区", "kind": "Pump"}])
        p.store.write(
            "points",
            [{"point_id": "x1", "device_id": "x", "quantity": "q", "unit": "u", "value_kind": "instant"}],
        )
        p.store.write_readings([{"point_id": "x1", "ts": EDGE, "value": 1.0}])
        out = tmp_path / "o'dd"
        export_lake(p.store, out)
        assert read_lake(out)[0][:2] == ("a/b c'd=e 园区", "2026-11")
        table = ds.dataset(out / "readings", format="parquet", partitioning="hive").to_table()
        assert table["park_id"].to_pylist() == ["a/b c'd=e 园区"]
        assert lake_partitions(out)[0].park_id == "a/b c'd=e 园区"


def test_lake_keeps_months_retention_removed(park, tmp_path):
    export_lake(park.store, tmp_path)
    now = datetime(2026, 11, 20, tzinfo=UTC)
    apply_retention(park.store, now, retention_policies({"raw": 10}))
    assert park.store.query_rows("SELECT min(ts) AS t FROM readings")[0]["t"] >= NOV
    export_lake(park.store, tmp_path)
    assert len(read_lake(tmp_path)) == 602


def test_export_from_a_read_only_file(tmp_path):
    db = tmp_path / "park.duckdb"
    with Park.open(db) as p:
        seed(p).store.write_readings(readings())
    with Park.open(db, read_only=True) as p:
        said = []
        result = export_lake(p.store, tmp_path / "lake", progress=said.append)
        assert result.rows == 602 and len(said) == 4


# -- retention -------------------------------------------------------------------------------

NOW = datetime(2026, 11, 20, 3, tzinfo=UTC)
TABLES = ("readings", "readings_15m", "readings_1h", "readings_1d")


@pytest.fixture
def history():
    """One reading a day for 400 days for two points, with their rollups."""
    with Park(memory=True) as p:
        seed(p)
        start = NOW - timedelta(days=400)
        p.store.write_readings(
            [
                {"point_id": point, "ts": start + timedelta(days=day, hours=5), "value": float(day)}
                for point in ("m1-kw", "q1-m3")
                for day in range(400)
            ]
        )
        yield p


def counts(store, cutoffs: dict[str, datetime | None]) -> dict[str, tuple[int, int]]:
    """Rows before and from the cutoff, per table."""
    found = {}
    for table, cutoff in cutoffs.items():
        column = "ts" if table == "readings" else "bucket"
        row = store.query_rows(
            f"SELECT count(*) FILTER (WHERE {column} < ?) AS old, count(*) FILTER (WHERE {column} >= ?) AS kept "
            f"FROM {table}",
            [cutoff or datetime(1970, 1, 1, tzinfo=UTC)] * 2,
        )[0]
        found[table] = (row["old"], row["kept"])
    return found


def test_retention_deletes_old_rows_per_table(history):
    policies = retention_policies({"raw": 30, "15m": 90, "1h": 200})
    cutoffs = {p.table: retention_cutoff(p, NOW) for p in policies}
    assert cutoffs["readings"] == datetime(2026, 9, 30, 16, tzinfo=UTC)  # 1 Oct, Shanghai
    assert cutoffs["readings_1d"] is None
    before = counts(history.store, cutoffs)
    assert all(old and kept for table, (old, kept) in before.items() if table != "readings_1d")
    results = apply_retention(history.store, NOW, policies)
    assert [(r.table, r.cutoff, r.rows_deleted) for r in results] == [
        (table, cutoffs[table], before[table][0] if cutoffs[table] else 0) for table in TABLES
    ]
    after = counts(history.store, cutoffs)
    assert after["readings_1d"] == before["readings_1d"]  # kept forever
    for table in TABLES[:3]:
        assert after[table] == (0, before[table][1])


def test_retention_dry_run_deletes_nothing(history):
    policies = retention_policies({"raw": 30})
    total = {t: history.store.count(t) for t in TABLES}
    dry = apply_retention(history.store, NOW, policies, dry_run=True)
    assert {t: history.store.count(t) for t in TABLES} == total
    assert dry[0].rows_deleted > 0
    assert apply_retention(history.store, NOW, policies) == dry


def test_default_retention_keeps_recent_data(history):
    assert [p.resolution for p in DEFAULT_RETENTION] == ["raw", "15m", "1h", "1d"]
    results = apply_retention(history.store, NOW)
    assert results[0].cutoff == datetime(2025, 9, 30, 16, tzinfo=UTC)  # 400 days back, start of its month
    assert all(r.rows_deleted == 0 for r in results)


@pytest.mark.parametrize(
    "overrides",
    [{"raw": 0}, {"raw": -5}, {"15m": 1.5}, {"1h": True}, {"hourly": 10}],
)
def test_invalid_policies_raise(overrides):
    with pytest.raises(InvalidInput):
        retention_policies(overrides)


def test_unknown_table_raises(history):
    with pytest.raises(InvalidInput):
        apply_retention(history.store, NOW, [RetentionPolicy("points", 10, "point_id")])
    with pytest.raises(InvalidInput):
        apply_retention(history.store, NOW, [RetentionPolicy("readings", 0, "ts")])


# -- Apache Spark reads the same lake ------------------------------------------------------------


@pytest.mark.xdist_group("spark")
def test_spark_reads_the_lake_as_one_table(park, tmp_path):
    """Spark (local mode, the `spark` extra, Java 17) reads the Hive layout: the same rows as the
    database, with park and month as partition columns (type inference off: ids stay text)."""
    pyspark = pytest.importorskip("pyspark.sql", reason="pip install 'parkbrain[spark]'")
    export_lake(park.store, tmp_path)
    spark = (
        pyspark.SparkSession.builder.master("local[1]")
        .appName("parkbrain-lake-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .getOrCreate()
    )
    try:
        frame = spark.read.parquet(str(tmp_path / "readings"))
        assert dict(frame.dtypes) == {
            "point_id": "string",
            "ts": "timestamp",
            "value": "double",
            "device_id": "string",
            "quantity": "string",
            "park_id": "string",
            "month": "string",
        }
        frame.createOrReplaceTempView("readings")
        rows = spark.sql(
            "SELECT park_id, month, point_id, unix_micros(ts) AS us, value, device_id, quantity FROM readings"
        ).collect()
        per_park = spark.sql("SELECT park_id, count(*) AS n FROM readings GROUP BY park_id").collect()
    finally:
        spark.stop()
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    want = [
        (r[0], r[1], r[2], (r[3] - epoch) // timedelta(microseconds=1), r[4], r[5], r[6])
        for r in expected(park)
    ]
    assert sorted(tuple(r) for r in rows) == sorted(want)
    assert {r["park_id"]: r["n"] for r in per_park} == {"nn-etdz": 402, "qz-port": 200}
