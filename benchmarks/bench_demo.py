"""Demo build time and size, beside the reference: DuckDB loading the same number of readings.

Prints the build time of `build_demo` (90 days, seed 42) and, measured in the same run, the time
DuckDB alone needs to insert the same number of (point_id, ts, value) rows from Arrow — the floor
any loader on this machine is compared with.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from parkbrain.demo import build_demo_file


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "demo.duckdb"
        report = build_demo_file(path, seed=42)
        rows = report.tables["readings"]
        print(f"demo build: {report.seconds:.1f} s, {rows:,} readings, {report.size_bytes / 1e6:.0f} MB")
        for table, count in report.tables.items():
            print(f"  {table:18s} {count:>12,}")
        points = report.tables["points"]
        per_point = rows // points
        ts = np.datetime64("2026-08-26T00:00", "us") + np.arange(per_point) * np.timedelta64(15, "m")
        con = duckdb.connect(str(Path(tmp) / "ref.duckdb"))
        con.execute("CREATE TABLE readings (point_id VARCHAR, ts TIMESTAMPTZ, value DOUBLE)")
        started = time.perf_counter()
        for lo in range(0, points, 100):
            n = min(100, points - lo)
            table = pa.table(
                {
                    "point_id": np.repeat([f"p{i}" for i in range(lo, lo + n)], per_point),
                    "ts": pa.array(np.tile(ts, n)).cast(pa.timestamp("us", tz="UTC")),
                    "value": np.random.default_rng(lo).random(n * per_point),
                }
            )
            con.register("t", table)
            con.execute("INSERT INTO readings SELECT * FROM t")
            con.unregister("t")
        con.execute("CHECKPOINT")
        reference = time.perf_counter() - started
        print(
            f"reference: DuckDB bare insert of {points * per_point:,} readings: {reference:.1f} s "
            f"(demo build is {report.seconds / reference:.1f}x, including generation and rollups)"
        )


if __name__ == "__main__":
    main()
