"""API latency on the demo province: p50/p95 of each route as the province admin and as an
enterprise (scoped reads), beside /healthz (the framework's floor, no authentication) and
/api/auth/me (the floor with token authentication) measured in the same run.
Set PARKBRAIN_BENCH_DB to reuse a built demo (it gets two more API tokens)."""

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


def timed(client: TestClient, url: str, headers: dict[str, str], n: int = 40) -> tuple[float, float]:
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        response = client.get(url, headers=headers)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.text[:200])
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = os.environ.get("PARKBRAIN_BENCH_DB") or str(Path(tmp) / "demo.duckdb")
        if not Path(db).exists():
            build_demo_file(db, seed=42)
        park = Park.open(db)
        client = TestClient(create_app(park))
        point = park.store.query_rows(
            "SELECT p.point_id, d.enterprise_id, d.park_id FROM points p JOIN devices d USING (device_id) "
            "WHERE p.quantity = 'electric_energy' AND d.enterprise_id IS NOT NULL ORDER BY 1 LIMIT 1"
        )[0]
        park_id = point["park_id"]
        tokens = {
            "province": park.create_token("province_admin", expires="1h", rate_per_min=10**6).secret,
            "enterprise": park.create_token(
                "enterprise", enterprise_id=point["enterprise_id"], expires="1h", rate_per_min=10**6
            ).secret,
        }
        routes = [
            "/healthz",
            "/api/auth/me",
            "/api/regions",
            "/api/regions?geometry=true",
            "/api/parks",
            f"/api/parks/{park_id}",
            f"/api/enterprises?park_id={park_id}",
            f"/api/points?park_id={park_id}",
            f"/api/points/{point['point_id']}/readings?interval=15m",
            f"/api/points/{point['point_id']}/readings?interval=1h&start=2000-01-01",
            f"/api/points/{point['point_id']}/readings?interval=1d&start=2000-01-01",
        ]
        labels = {"/healthz": "(reference: framework floor)", "/api/auth/me": "(reference: auth floor)"}
        for who, token in tokens.items():
            headers = {"Authorization": f"Bearer {token}"}
            print(f"\nas {who}\n{'route':75s} {'p50 ms':>8s} {'p95 ms':>8s}")
            for url in routes:
                p50, p95 = timed(client, url, headers)
                print(f"{url[:75]:75s} {p50:8.1f} {p95:8.1f} {labels.get(url, '')}")
        park.close()


if __name__ == "__main__":
    main()
