"""Console latency on the demo province (90 days): the API calls behind each console page (province,
park, enterprise, alerts, data) and each page's calls together, cold and warm side by side, against
the 200 ms p95 target.

- **cold**: the first call after the database is opened (DuckDB's buffers empty, the console's memo
  and quality snapshots empty: a restart, or an import that changed the month's rollups), measured
  ``BENCH_COLD`` times per page, each time on a freshly opened database. The very first sample of
  the process also pays for loading modules (the unit registry …): it is in the cold figures.
- **cold after the warm-up**: the same, but after ``Park.console_warm_up`` — what ``parkbrain serve``
  runs in a background thread at start and after changes (province and park pages; the enterprise
  page is not warmed).
- **warm**: ``BENCH_N`` calls per route once the page has been seen.

The data page's quality report is served from the last computation (``/api/console/quality``): cold,
the page gets ``computing`` at once and the report when it is ready — the time that takes is printed.
Also measured: the console routes while a meter streams (a reading pushed before each call: the
current day recomputed), and a reference from the same run — the park's month-to-date electricity
from raw ``readings``, what the park page would cost without the rollups.

Each caller sees its own page: the province admin the province map, the park admin its park, the
enterprise its enterprise. Set PARKBRAIN_BENCH_DB to reuse a built demo (it gets three more API
tokens); BENCH_N sets the warm calls per route (default 30), BENCH_COLD the cold samples (default 5)."""

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
from parkbrain.analytics import console_cache, console_quality
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
            ("park", "/api/console/quality"),
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


Headers = dict[str, dict[str, str]]
Routes = dict[str, list[tuple[str, str]]]


def row(label: str, cold: list[float], warmed: list[float], warm: list[float]) -> str:
    """One line: cold p95, cold-after-warm-up p95, warm p50 and p95, and whether each meets the target."""
    cells = []
    for samples in (cold, warmed):
        cells.append(f"{percentiles(samples)[1]:9.1f}" if samples else f"{'—':>9s}")
    p50, p95 = percentiles(warm)
    worst = max(percentiles(x)[1] for x in (cold, warmed, warm) if x)
    flag = "" if worst < TARGET_P95_MS else "  over"
    return f"{label[:70]:70s} {cells[0]} {cells[1]} {p50:8.1f} {p95:8.1f}{flag}"


def tokens(park: Park, ids: dict[str, str]) -> Headers:
    secrets = {
        "province": park.create_token("province_admin", expires="1h", rate_per_min=10**6).secret,
        "park": park.create_token(
            "park_admin", park_id=ids["park_id"], expires="1h", rate_per_min=10**6
        ).secret,
        "enterprise": park.create_token(
            "enterprise", enterprise_id=ids["enterprise_id"], expires="1h", rate_per_min=10**6
        ).secret,
    }
    return {who: {"Authorization": f"Bearer {t}"} for who, t in secrets.items()}


def cold_samples(
    db: str, routes: Routes, headers: Headers, samples: int, warm_up: bool
) -> dict[str, list[float]]:
    """Per page and per route: the first calls of the page on a freshly opened database (memo and
    quality snapshots empty), ``samples`` times; with ``warm_up``, after ``console_warm_up``."""
    out: dict[str, list[float]] = {}
    for _ in range(samples):
        for page, calls in routes.items():
            console_cache.clear()
            console_quality.forget()
            with Park.open(db) as park:
                if warm_up:
                    park.console_warm_up()
                client = TestClient(create_app(park))
                total = 0.0
                for who, url in calls:
                    ms = call(client, url, headers[who])
                    out.setdefault(f"{page} {who} {url}", []).append(ms)
                    total += ms
                out.setdefault(page, []).append(total)
                console_quality.wait_idle()  # a report started by the data page ends before the close
    return out


def warm_samples(client: TestClient, routes: Routes, headers: Headers, n: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for page, calls in routes.items():
        for who, url in calls:  # seen once
            call(client, url, headers[who])
        for _ in range(n):
            total = 0.0
            for who, url in calls:
                ms = call(client, url, headers[who])
                out.setdefault(f"{page} {who} {url}", []).append(ms)
                total += ms
            out.setdefault(page, []).append(total)
    return out


def quality_ready_s(client: TestClient, headers: dict[str, str]) -> float:
    """Seconds from the data page's first call to a ready report (empty snapshots)."""
    console_quality.forget()
    started = time.perf_counter()
    while client.get("/api/console/quality?wait_s=5", headers=headers).json()["status"] != "ready":
        pass
    return time.perf_counter() - started


def main() -> None:
    n = int(os.environ.get("BENCH_N", "30"))
    cold_n = int(os.environ.get("BENCH_COLD", "5"))
    with tempfile.TemporaryDirectory() as tmp:
        db = os.environ.get("PARKBRAIN_BENCH_DB") or str(Path(tmp) / "demo.duckdb")
        if not Path(db).exists():
            started = time.perf_counter()
            build_demo_file(db, seed=42)
            print(f"built the 90-day demo in {time.perf_counter() - started:.0f} s")
        with Park.open(db) as park:
            routes, ids = pages(park)
            headers = tokens(park, ids)
        cold = cold_samples(db, routes, headers, cold_n, warm_up=False)
        warmed = cold_samples(db, routes, headers, max(1, cold_n // 2 + 1), warm_up=True)
        park = Park.open(db)
        client = TestClient(create_app(park))
        warm = warm_samples(client, routes, headers, n)
        print(f"console API p95 target: < {TARGET_P95_MS:.0f} ms per route and per page (ms below)")
        print(
            f"cold: first calls on a freshly opened database, {cold_n} samples per page; cold after warm-up:"
        )
        print(
            f"the same after the server's warm-up, {max(1, cold_n // 2 + 1)} samples; warm: {n} calls per route"
        )
        print(f"{'page / route':70s} {'cold p95':>9s} {'+warm-up':>9s} {'warm p50':>8s} {'warm p95':>8s}")
        worst = (0.0, "")
        for page, calls in routes.items():
            print(row(page + " page (its calls in sequence)", cold[page], warmed[page], warm[page]))
            for who, url in calls:
                key = f"{page} {who} {url}"
                worst = max(
                    [worst]
                    + [
                        (percentiles(x[key])[1], f"{url} ({k})")
                        for k, x in (("cold", cold), ("warmed", warmed), ("warm", warm))
                    ]
                )
                print(row("  " + who + " " + url, cold[key], warmed[key], warm[key]))
        print(
            f"data page: the quality report (park) is ready {quality_ready_s(client, headers['park']):.1f} s "
            "after the first visit (the page shows 'computing' until then)"
        )
        console = [(who, url) for calls in routes.values() for who, url in calls if "/api/console/" in url]
        console = [c for c in dict.fromkeys(console) if not c[1].endswith(("/config", "/quality"))]
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
        print(f"worst route p95 {worst[0]:.1f} ms ({worst[1]}): {verdict} the {TARGET_P95_MS:.0f} ms target")
        park.close()


if __name__ == "__main__":
    main()
