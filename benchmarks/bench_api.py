"""API latency on the demo province: p50/p95 of each skeleton route, beside /healthz (the framework's
own floor) measured in the same run. Set PARKBRAIN_BENCH_DB to reuse a built demo."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from parkbrain import Park
from parkbrain.api import create_app
from parkbrain.demo import build_demo_file


def timed(client: TestClient, url: str, n: int = 40) -> tuple[float, float]:
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.text[:200])
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = os.environ.get("PARKBRAIN_BENCH_DB") or str(Path(tmp) / "demo.duckdb")
        if not Path(db).exists():
            build_demo_file(db, seed=42)
        park = Park.open(db, read_only=True)
        client = TestClient(create_app(park))
        point = park.store.query_rows(
            "SELECT point_id FROM points WHERE quantity = 'electric_energy' LIMIT 1"
        )[0]
        park_id = park.store.query_rows("SELECT park_id FROM parks LIMIT 1")[0]["park_id"]
        routes = [
            "/healthz",
            "/api/regions",
            "/api/regions?geometry=true",
            "/api/parks",
            f"/api/parks/{park_id}",
            f"/api/enterprises?park_id={park_id}",
            f"/api/points/{point['point_id']}/readings?interval=15m",
            f"/api/points/{point['point_id']}/readings?interval=1h&start=2000-01-01",
            f"/api/points/{point['point_id']}/readings?interval=1d&start=2000-01-01",
        ]
        print(f"{'route':75s} {'p50 ms':>8s} {'p95 ms':>8s}")
        for url in routes:
            p50, p95 = timed(client, url)
            label = "(reference: framework floor)" if url == "/healthz" else ""
            print(f"{url[:75]:75s} {p50:8.1f} {p95:8.1f} {label}")
        park.close()


if __name__ == "__main__":
    main()
