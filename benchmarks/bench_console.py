"""Console latency on the demo province (90 days): p50/p95 of the API calls behind each console page
(province, park, enterprise, alerts, data) and of each page's calls together, against the 200 ms p95
target, beside a reference measured in the same run: the same park's month-to-date electricity
computed from raw ``readings`` — what the park page's numbers would cost without the rollups. The
console memoises consumption and AQI while the day rollups are unchanged (``analytics.console_cache``),
so the console routes are measured three ways: as the demo serves them (warm), while a meter streams
(a reading pushed before each call: the current day recomputed), and uncached (the memo forgotten
before each call: after a restart, an import or a rebuild).

Each caller sees its own page: the province admin the province map, the park admin its park, the
enterprise its enterprise. Set PARKBRAIN_BENCH_DB to reuse a built demo (it gets three more API
tokens); BENCH_N sets the calls per route (default 30)."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from parkbrain import Park
from parkbrain.analytics import console_cache
from parkbrain.analytics.console_parts import month_start
from parkbrain.api import create_app
from parkbrain.demo import build_demo_file

TARGET_P95_MS = 200.0


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))]


def call(client: TestClient, url: str, headers: dict[str, str]) -> float:
    started = time.perf_counter()
    response = client.get(url, headers=headers)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, (url, response.status_code, response.text[:200])
    return elapsed


def pages(park: Park) -> tuple[dict[str, list[tuple[str, str]]], dict[str, str]]:
    """The console's pages, each as the (who, url) calls its scripts make (``web/static/*.js``), and
    the park and enterprise the bench looks at."""
    q = park.store.query_rows
    ent = q(
        """SELECT e.enterprise_id, e.park_id, p.point_id FROM enterprises e
           JOIN devices d USING (enterprise_id) JOIN points p USING (device_id)
           WHERE e.key_energy_user AND p.quantity = 'active_power' ORDER BY 1 LIMIT 1"""
    )[0]
    park_id = ent["park_id"]
    point = ent["point_id"]
    common = ["/api/auth/me", "/api/console/config", "/api/air/standards"]
    return {
        "province": [
            *(("province", u) for u in common),
            ("province", "/api/console/province?layer=energy"),
            ("province", "/api/console/province?layer=aqi"),
            ("province", "/api/regions?level=prefecture&geometry=true"),
            ("province", "/api/parks"),
            ("province", "/api/alerts?status=open&limit=8"),
        ],
        "park": [
            *(("park", u) for u in common),
            ("park", f"/api/console/parks/{park_id}"),
            ("park", f"/api/alerts?status=open&limit=50&park_id={park_id}"),
        ],
        "enterprise": [
            *(("enterprise", u) for u in common[:2]),
            ("enterprise", f"/api/console/enterprises/{ent['enterprise_id']}"),
            ("enterprise", f"/api/parks/{park_id}"),
            ("enterprise", f"/api/points/{point}/readings?interval=auto"),
            ("enterprise", f"/api/points/{point}/forecast?horizon_days=1&interval=1h"),
        ],
        "alerts": [
            ("park", "/api/parks"),
            ("park", f"/api/alerts?park_id={park_id}&status=open"),
            ("park", f"/api/alerts?park_id={park_id}"),
        ],
        "data": [
            ("park", "/api/imports?limit=50"),
            ("park", "/api/quality"),
            ("park", "/api/parks"),
        ],
    }, {"park_id": park_id, "enterprise_id": ent["enterprise_id"]}


def streaming_meter(park: Park, enterprise_id: str) -> dict[str, Any]:
    """An electricity register of the enterprise, with its latest reading (the bench pushes after it)."""
    return park.store.query_rows(
        """SELECT p.point_id, p.device_id, l.ts, l.value FROM points p JOIN devices d USING (device_id)
           JOIN latest_readings l USING (point_id)
           WHERE d.enterprise_id = ? AND p.energy_carrier = 'electricity' AND p.value_kind = 'cumulative'
           ORDER BY p.point_id LIMIT 1""",
        [enterprise_id],
    )[0]


def raw_reference(park: Park, park_id: str) -> tuple[str, list[Any]]:
    """The park's month-to-date consumption per carrier from raw ``readings`` (steps of cumulative
    registers, a drop counting the new reading; sums of interval meters): what the park page's
    energy numbers would cost without the rollups."""
    latest = park.store.query_rows("SELECT max(ts) AS ts FROM latest_readings")[0]["ts"]
    start = month_start(latest)
    sql = """WITH pts AS (
                SELECT p.point_id, p.value_kind, p.energy_carrier FROM points p JOIN devices d USING (device_id)
                WHERE d.park_id = ? AND p.energy_carrier IS NOT NULL),
             steps AS (
                SELECT r.point_id, r.value, lag(r.value) OVER (PARTITION BY r.point_id ORDER BY r.ts) AS prev
                FROM readings r JOIN pts USING (point_id) WHERE r.ts >= ? AND r.ts < ?)
             SELECT pts.energy_carrier, sum(CASE WHEN pts.value_kind <> 'cumulative' THEN s.value
                                                 WHEN s.value >= s.prev THEN s.value - s.prev
                                                 ELSE s.value END) AS amount
             FROM steps s JOIN pts USING (point_id) WHERE s.prev IS NOT NULL OR pts.value_kind <> 'cumulative'
             GROUP BY 1"""
    return sql, [park_id, start, latest + timedelta(seconds=1)]


def main() -> None:
    n = int(os.environ.get("BENCH_N", "30"))
    with tempfile.TemporaryDirectory() as tmp:
        db = os.environ.get("PARKBRAIN_BENCH_DB") or str(Path(tmp) / "demo.duckdb")
        if not Path(db).exists():
            started = time.perf_counter()
            build_demo_file(db, seed=42)
            print(f"built the 90-day demo in {time.perf_counter() - started:.0f} s")
        park = Park.open(db)
        client = TestClient(create_app(park))
        routes, ids = pages(park)
        tokens = {
            "province": park.create_token("province_admin", expires="1h", rate_per_min=10**6).secret,
            "park": park.create_token(
                "park_admin", park_id=ids["park_id"], expires="1h", rate_per_min=10**6
            ).secret,
            "enterprise": park.create_token(
                "enterprise", enterprise_id=ids["enterprise_id"], expires="1h", rate_per_min=10**6
            ).secret,
        }
        headers = {who: {"Authorization": f"Bearer {t}"} for who, t in tokens.items()}
        print(f"console API, {n} calls per route; target p95 < {TARGET_P95_MS:.0f} ms per route")
        print(f"{'page / route':78s} {'p50 ms':>8s} {'p95 ms':>8s}")
        worst = (0.0, "")
        for page, calls in routes.items():
            for who, url in calls:  # warm-up: first-call planning and caches
                call(client, url, headers[who])
            per_route: dict[str, list[float]] = {url: [] for _, url in calls}
            totals = []
            for _ in range(n):
                total = 0.0
                for who, url in calls:
                    ms = call(client, url, headers[who])
                    per_route[url].append(ms)
                    total += ms
                totals.append(total)
            p50, p95 = percentiles(totals)
            print(f"{page + ' page (its calls in sequence)':78s} {p50:8.1f} {p95:8.1f}")
            for who, url in calls:
                p50, p95 = percentiles(per_route[url])
                worst = max(worst, (p95, url))
                flag = "" if p95 < TARGET_P95_MS else "  over target"
                print(f"  {(who + ' ' + url)[:76]:76s} {p50:8.1f} {p95:8.1f}{flag}")
        console = [(who, url) for calls in routes.values() for who, url in calls if "/api/console/" in url]
        console = [c for c in dict.fromkeys(console) if not c[1].endswith("/config")]
        meter = streaming_meter(park, ids["enterprise_id"])
        meter_headers = {
            "Authorization": "Bearer "
            + park.create_token("device", device_id=meter["device_id"], expires="1h").secret
        }
        print("\nwhile a meter streams (a reading pushed before each call: the current day is recomputed)")
        for who, url in console:
            samples = []
            for _ in range(max(5, n // 3)):
                meter["ts"] += timedelta(seconds=1)
                meter["value"] += 0.5
                pushed = client.post(
                    f"/api/telemetry/{meter['device_id']}",
                    json={"ts": meter["ts"].isoformat(), "values": {meter["point_id"]: meter["value"]}},
                    headers=meter_headers,
                )
                assert pushed.status_code == 200, pushed.text[:200]
                samples.append(call(client, url, headers[who]))
            p50, p95 = percentiles(samples)
            print(f"  {(who + ' ' + url)[:76]:76s} {p50:8.1f} {p95:8.1f}")
        print("\nuncached (the memo forgotten before each call: after a restart, an import or a rebuild)")
        for who, url in console:
            samples = []
            for _ in range(max(5, n // 3)):
                console_cache.clear()
                samples.append(call(client, url, headers[who]))
            p50, p95 = percentiles(samples)
            print(f"  {(who + ' ' + url)[:76]:76s} {p50:8.1f} {p95:8.1f}")
        sql, params = raw_reference(park, ids["park_id"])
        samples = []
        for _ in range(max(5, n // 3)):
            started = time.perf_counter()
            park.store.query_rows(sql, params)
            samples.append((time.perf_counter() - started) * 1000)
        p50, p95 = percentiles(samples)
        print(
            f"{'(reference: the park month-to-date use from raw readings, no rollups)':78s} {p50:8.1f} {p95:8.1f}"
        )
        verdict = "meets" if worst[0] < TARGET_P95_MS else "misses"
        print(f"worst route p95 {worst[0]:.1f} ms ({worst[1]}): {verdict} the target")
        park.close()


if __name__ == "__main__":
    main()
