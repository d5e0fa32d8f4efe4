"""Bulk import of long-form readings, beside DuckDB's own CSV reader on the same file.

Writes a CSV of ``--rows`` readings (default 10 million: 1,000 points × 10,000 quarter-hours,
``point_id,ts,value`` with naive Asia/Shanghai times), then in the same run and on the same disk:

- reference: ``CREATE TABLE t AS SELECT * FROM read_csv(file)`` into a fresh DuckDB file — DuckDB
  reading the file into a bare table with no checks, the limit on this machine;
- ParkBrain: ``Park.ingest(file)`` into a park that has the 1,000 points — hashed for idempotency,
  validated (types, known points, finite values, no duplicate, nothing already stored), written
  with lineage in one transaction; then the rollups (15 min, 1 h, 1 day) are refreshed, timed apart.

The target is at least half the reference's rows/s for the validated, committed import.
Run: ``make bench`` or ``.venv/bin/python benchmarks/bench_import.py [--rows N] [--repeat K]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import duckdb

from parkbrain import Park


def write_csv(path: Path, points: int, per_point: int) -> None:
    con = duckdb.connect()
    con.execute(
        f"""COPY (SELECT 'p' || lpad(p::VARCHAR, 5, '0') AS point_id,
                  strftime(TIMESTAMP '2026-01-01' + INTERVAL (t * 15) MINUTE, '%Y-%m-%d %H:%M:%S') AS ts,
                  round(random() * 100, 3) AS value
            FROM range({points}) a(p), range({per_point}) b(t) ORDER BY p, t) TO '{path}' (HEADER)"""
    )
    con.close()


def reference(csv: Path, folder: Path) -> float:
    db = folder / "bare.duckdb"
    con = duckdb.connect(str(db))
    started = time.perf_counter()
    con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{csv}')")
    elapsed = time.perf_counter() - started
    con.close()
    db.unlink()
    return elapsed


def parkbrain(csv: Path, folder: Path, points: int) -> tuple[float, float, int]:
    db = folder / "park.duckdb"
    with Park.open(db) as park:
        park.store.write("regions", [{"region_code": "450100", "name": "南宁市", "level": "prefecture"}])
        park.store.write("parks", [{"park_id": "bench", "name": "基准园区", "region_code": "450100"}])
        park.store.write("devices", [{"device_id": "meter", "park_id": "bench", "kind": "Meter"}])
        park.store.write(
            "points",
            [
                {
                    "point_id": f"p{i:05d}",
                    "device_id": "meter",
                    "quantity": "active_power",
                    "unit": "kW",
                    "value_kind": "instant",
                }
                for i in range(points)
            ],
        )
        marks: dict[str, float] = {}
        started = time.perf_counter()

        def progress(text: str) -> None:
            if text.startswith("stored"):
                marks["stored"] = time.perf_counter()

        result = park.ingest(csv, progress=progress)
        finished = time.perf_counter()
        stored = marks.get("stored", finished)
        rows = result.rows_written["readings"]
    for suffix in ("", ".wal", ".audit-head"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    return stored - started, finished - stored, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the best is reported")
    args = parser.parse_args()
    points = 1000
    per_point = max(1, args.rows // points)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        csv = folder / "readings.csv"
        write_csv(csv, points, per_point)
        rows = points * per_point
        size = csv.stat().st_size
        print(f"file: {rows:,} long-form readings, {size / 1e6:.0f} MB ({csv.name})")
        ref, ours, rollups = [], [], []
        for _ in range(args.repeat):  # interleaved, so that machine noise hits both alike
            ref.append(reference(csv, folder))
            import_s, rollup_s, written = parkbrain(csv, folder, points)
            assert written == rows, (written, rows)
            ours.append(import_s)
            rollups.append(rollup_s)
        best_ref, best = min(ref), min(ours)
        print(
            f"reference: DuckDB read_csv into a bare table: {best_ref:.2f} s = {rows / best_ref:,.0f} rows/s"
        )
        print(
            f"parkbrain import (validated, lineage, committed): {best:.2f} s = {rows / best:,.0f} rows/s "
            f"= {best_ref / best:.2f} of the reference (target >= 0.50)"
        )
        print(
            f"  then rollups 15m/1h/1d refreshed: {min(rollups):.2f} s (import + rollups {best + min(rollups):.2f} s)"
        )
        print(
            f"  runs: reference {', '.join(f'{x:.2f}' for x in ref)}; import {', '.join(f'{x:.2f}' for x in ours)}"
        )


if __name__ == "__main__":
    main()
