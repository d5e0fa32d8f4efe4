"""Build the demo province: a realistic Guangxi of industrial parks, deterministic for a seed and end time.

    park = Park(memory=True)
    report = build_demo(park, seed=42)

``build_demo_file`` builds into a temporary file and moves it into place only when complete, so an
existing database is never left half-written.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from parkbrain.core import Park
from parkbrain.demo import realdata
from parkbrain.demo.alerts import derive_alerts
from parkbrain.demo.calendar import Grid, make_grid, rng_for
from parkbrain.demo.entities import (
    AIR_POINTS,
    CARRIER_NAMES,
    CARRIERS,
    DEMO,
    MACHINE_KINDS,
    EnterprisePlan,
    Province,
    build_province,
    meter_vendor,
)
from parkbrain.demo.places import load_regions
from parkbrain.demo.series import (
    LoadProfile,
    air_quality,
    ar1,
    cumulative_register,
    daily_temperature_c,
    factory_load_kw,
    hourly_mean,
    machine,
)
from parkbrain.demo.space import ADMIN, seed_space
from parkbrain.errors import InvalidInput
from parkbrain.model.timeutil import CST

Progress = Callable[[str, float], None]
HEAVY_WORDS = ("铝", "钢", "冶", "石化", "化工", "建材", "水泥", "糖", "电力", "有色")


@dataclass
class DemoReport:
    """What a demo build made."""

    seed: int
    start: datetime
    end: datetime
    seconds: float = 0.0
    tables: dict[str, int] = field(default_factory=dict)
    real_sources: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    path: str | None = None
    size_bytes: int | None = None
    admin_user: str | None = None
    admin_password: str | None = None


class _Readings:
    """Collects readings and writes them in large batches (never row by row)."""

    def __init__(self, park: Park, province: Province, batch_rows: int = 1_500_000) -> None:
        self.park = park
        self.province = province
        self.written = {"devices": 0, "points": 0}
        self.batch_rows = batch_rows
        self.parts: list[pa.Table] = []
        self.rows = 0

    def add(self, point_id: str, ts: np.ndarray, values: np.ndarray) -> None:
        keep = ~np.isnan(values)
        ts, values = ts[keep], values[keep]
        if not len(values):
            return
        table = pa.table(
            {
                "point_id": pa.array([point_id] * len(values), pa.string())
                .dictionary_encode()
                .cast(pa.string()),
                "ts": pa.array(ts.astype("datetime64[us]"), pa.timestamp("us")).cast(
                    pa.timestamp("us", tz="UTC")
                ),
                "value": pa.array(values, pa.float64()),
            }
        )
        self.parts.append(table)
        self.rows += len(values)
        if sum(p.num_rows for p in self.parts) >= self.batch_rows:
            self.flush()

    def flush(self) -> None:
        """Write the devices and points made so far, then the readings collected."""
        for table in ("devices", "points"):
            rows = getattr(self.province, table)[self.written[table] :]
            if rows:
                self.park.store.write(table, rows)
                self.written[table] += len(rows)
        if self.parts:
            self.park.store.write_readings(pa.concat_tables(self.parts), rollups=False)
            self.parts = []


def build_demo(
    park: Park,
    seed: int = 42,
    end: datetime | None = None,
    days: int = 90,
    progress: Progress | None = None,
    shared_data: Path | None = None,
) -> DemoReport:
    """Fill an empty ``park`` with the demo province; ``end`` defaults to now (floored to 15 min)."""
    started = time.perf_counter()
    say = progress or (lambda label, done: None)
    if park.store.count("parks") or park.store.count("readings"):
        raise InvalidInput(
            f"{park.path or 'the in-memory park'} already holds data; the demo needs an empty database"
        )
    end = _floor_15min(end or datetime.now(timezone.utc))
    first_day = end.astimezone(CST).date() - timedelta(days=days)
    report = DemoReport(seed, datetime(first_day.year, first_day.month, first_day.day, tzinfo=CST), end)
    shared = shared_data or realdata.find_shared_data()
    if shared is None:
        report.notes.append(
            "shared datasets not found: real steel, pump and air-station data replaced by synthetic"
        )

    say("regions", 0.02)
    regions, shapes = load_regions()
    park.store.write("regions", regions)
    say("parks, buildings, enterprises", 0.05)
    province = build_province(shapes, seed)
    park.store.write("parks", province.parks)
    park.store.write("buildings", province.buildings)
    park.store.write("enterprises", [p.row for p in province.enterprises])

    grid15 = make_grid(first_day, end, 900)
    grid1h = make_grid(first_day, end, 3600)
    temps = daily_temperature_c(grid15, rng_for(seed, "weather"))
    sink = _Readings(park, province)
    labels: list[dict[str, Any]] = []
    steel = _pick(province, lambda p: p.industry.code.startswith("31"))
    _meters(province, grid15, grid1h, temps, seed, sink, say, steel, shared, report)
    say("air-quality stations", 0.55)
    _air_stations(province, grid1h, seed, sink, shared, report)
    say("equipment sensors", 0.62)
    _machines(province, grid15, seed, sink, labels, temps)
    _skab_pump(province, sink, labels, shared, report, end)
    sink.flush()
    if labels:
        park.store.write("fault_labels", labels, mode="append")
    say("rollups (15 min, hour, day)", 0.75)
    park.store.rebuild_rollups()
    say("alerts", 0.92)
    derive_alerts(park.store, end)
    park.store.write("sources", _sources(seed, report))
    park.import_demo_policies(shared)  # demo documents, and the real policy when the shared data is there
    park.store.checkpoint()
    report.seconds = time.perf_counter() - started
    report.tables = park.info()["tables"]
    say("done", 1.0)
    return report


def build_demo_file(
    path: str | Path,
    seed: int = 42,
    end: datetime | None = None,
    days: int = 90,
    force: bool = False,
    progress: Progress | None = None,
) -> DemoReport:
    """Build the demo into ``path`` atomically: a partial build never replaces an existing database."""
    path = Path(path)
    if path.exists() and not force and not _is_demo_db(path):
        raise InvalidInput(f"{path} holds data that is not a ParkBrain demo; pass --force to replace it")
    tmp = path.with_name(path.name + ".tmp-build")
    for stale in (tmp, Path(str(tmp) + ".wal")):
        stale.unlink(missing_ok=True)
    try:
        with Park.open(tmp) as park:
            report = build_demo(park, seed=seed, end=end, days=days, progress=progress)
        Path(str(path) + ".wal").unlink(missing_ok=True)
        Path(str(path) + ".audit-head").unlink(missing_ok=True)  # the old database's audit head
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
        Path(str(tmp) + ".wal").unlink(missing_ok=True)
        Path(str(tmp) + ".audit-head").unlink(missing_ok=True)
    with Park.open(path) as park:
        report.admin_user, report.admin_password = ADMIN, seed_space(park)
    report.path = str(path)
    report.size_bytes = path.stat().st_size
    return report


def _is_demo_db(path: Path) -> bool:
    try:
        with Park.open(path, read_only=True) as park:
            if "sources" not in park.store.table_names():
                return park.store.count("parks") == 0
            return bool(park.store.query_rows("SELECT 1 FROM sources WHERE source_id = 'demo'"))
    except Exception:  # noqa: BLE001 - any failure to read it means: not a demo we made
        return False


def _floor_15min(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=CST)
    moment = moment.astimezone(timezone.utc).replace(second=0, microsecond=0)
    return moment - timedelta(minutes=moment.minute % 15)


def _pick(province: Province, wanted: Callable[[EnterprisePlan], bool]) -> EnterprisePlan | None:
    return next((p for p in province.enterprises if wanted(p)), None)


def _device(
    province: Province,
    plan: EnterprisePlan | None,
    park_id: str,
    suffix: str,
    kind: str,
    name: str,
    rng: np.random.Generator,
    source: str = DEMO,
) -> str:
    owner = plan.row["enterprise_id"] if plan else park_id
    device_id = f"{owner}-{suffix}"
    province.devices.append(
        {
            "device_id": device_id,
            "park_id": park_id,
            "enterprise_id": plan.row["enterprise_id"] if plan else None,
            "building_id": plan.row.get("building_id") if plan else None,
            "kind": kind,
            "name": name,
            "vendor": meter_vendor(rng),
            "model": f"DTSD{int(rng.integers(100, 999))}",
            "data_source": source,
        }
    )
    return device_id


def _point(
    province: Province,
    device_id: str,
    quantity: str,
    unit: str,
    brick: str,
    value_kind: str,
    interval_s: int,
    name: str,
    carrier: str | None = None,
    source: str = DEMO,
) -> str:
    point_id = f"{device_id}.{quantity}"
    province.points.append(
        {
            "point_id": point_id,
            "device_id": device_id,
            "quantity": quantity,
            "unit": unit,
            "brick_class": brick,
            "value_kind": value_kind,
            "interval_s": interval_s,
            "energy_carrier": carrier,
            "name": name,
            "data_source": source,
        }
    )
    return point_id


def _meters(
    province: Province,
    grid15: Grid,
    grid1h: Grid,
    temps: np.ndarray,
    seed: int,
    sink: _Readings,
    say: Progress,
    steel: EnterprisePlan | None,
    shared: Path | None,
    report: DemoReport,
) -> None:
    """Electricity (15-min register, plus power for key users) and gas/steam/water (hourly registers)."""
    ts15, ts1h = grid15.ts, grid1h.ts
    total = len(province.enterprises)
    for i, plan in enumerate(province.enterprises):
        rng = rng_for(seed, "meter", plan.row["enterprise_id"])
        park_id = plan.row["park_id"]
        cooling = 0.25 if plan.industry.code.startswith(("39", "27", "65")) else 0.12
        load = factory_load_kw(grid15, LoadProfile(plan.mean_kw, plan.industry.shifts, cooling), temps, rng)
        plan.machines.append({"load": load})
        source, times, increments = DEMO, ts15, load * 0.25
        if plan is steel and shared is not None:
            real = realdata.load_steel(
                shared / "steel-industry-energy" / "Steel_industry_data.csv", report.start, report.end
            )
            times, increments, shift = real
            source = realdata.STEEL.source_id
            report.real_sources.append(f"{source}: meter of {plan.row['name']} (shifted {shift.days} days)")
        device = _device(
            province, plan, park_id, "em1", "Building_Electrical_Meter", "总进线电能表", rng, source
        )
        pid = _point(
            province,
            device,
            "electric_energy",
            "kWh",
            "Electric_Energy_Sensor",
            "cumulative",
            900,
            "正向有功总电能",
            "electricity",
            source,
        )
        register, _ = cumulative_register(
            increments, float(rng.uniform(1e4, 5e6)), rng, reset_probability=0.0 if source != DEMO else 0.03
        )
        sink.add(pid, times, register)
        if plan.row["key_energy_user"] and source == DEMO:
            pid = _point(
                province, device, "active_power", "kW", "Active_Power_Sensor", "instant", 900, "有功功率"
            )
            sink.add(pid, ts15, np.round(load * np.exp(rng.normal(0, 0.03, len(load))), 2))
        production = hourly_mean(load / max(load.mean(), 1e-9), 4)[: len(ts1h)]
        for j, carrier in enumerate(plan.carriers):
            kind, quantity, unit, brick, per_10k = CARRIERS[carrier]
            yearly = plan.row["output_value_10k_cny"] * per_10k * float(np.exp(rng.normal(0, 0.25)))
            base = 0.6 if carrier == "steam" else 0.3
            hourly = (
                yearly
                / 8760
                * (base + (1 - base) * production)
                * np.exp(rng.normal(0, 0.05, len(production)))
            )
            device = _device(
                province, plan, park_id, f"{carrier[0]}m{j + 1}", kind, f"{CARRIER_NAMES[carrier]}表", rng
            )
            pid = _point(
                province,
                device,
                quantity,
                unit,
                brick,
                "cumulative",
                3600,
                f"累计{CARRIER_NAMES[carrier]}量",
                carrier,
            )
            register, _ = cumulative_register(
                hourly, float(rng.uniform(1e3, 1e6)), rng, 0.02, decimals=3 if unit == "t" else 2
            )
            sink.add(pid, ts1h, register)
        if i % 20 == 0:
            say(f"meters ({i}/{total} enterprises)", 0.08 + 0.45 * i / total)


def _air_stations(
    province: Province, grid: Grid, seed: int, sink: _Readings, shared: Path | None, report: DemoReport
) -> None:
    regional = ar1(grid.n, phi=0.985, sigma=0.35, rng=rng_for(seed, "regional-air"))
    real_park = next((p for p in province.parks if p["region_code"] == "450200"), province.parks[0])
    for park in province.parks:
        rng = rng_for(seed, "air", park["park_id"])
        heavy = any(w in park["leading_industries"] for w in HEAVY_WORDS)
        hours = air_quality(grid, regional, 0.7 if heavy else 0.25, rng)
        values = {q: getattr(hours, q) for q, *_ in AIR_POINTS}
        times = {q: grid.ts for q in values}
        source = DEMO
        if park is real_park and shared is not None:
            frame, years = realdata.load_beijing(
                shared / "beijing-air-quality" / "PRSA_Data_Aotizhongxin_20130301-20170228.csv",
                report.start,
                report.end,
            )
            values = {q: frame[q].to_numpy() for q in values}
            times = {q: frame["ts"].to_numpy() for q in values}
            source = realdata.BEIJING.source_id
            report.real_sources.append(f"{source}: air station of {park['name']} (shifted {years} years)")
        else:  # a station misses an hour now and then
            for q in values:
                values[q] = np.where(rng.random(grid.n) < 0.01, np.nan, values[q])
        device = _device(
            province,
            None,
            park["park_id"],
            "aqs1",
            "Air_Quality_Sensor",
            "园区空气质量自动监测站",
            rng,
            source,
        )
        for quantity, unit, brick, label in AIR_POINTS:
            pid = _point(
                province, device, quantity, unit, brick, "instant", 3600, f"{label}小时浓度", None, source
            )
            sink.add(pid, times[quantity], values[quantity].astype(float))


def _machines(
    province: Province,
    grid: Grid,
    seed: int,
    sink: _Readings,
    labels: list[dict[str, Any]],
    temps: np.ndarray,
) -> None:
    """Rotating equipment in the busiest plants of each park; about a quarter develop a fault."""
    by_park: dict[str, list[EnterprisePlan]] = {}
    for plan in province.enterprises:
        by_park.setdefault(plan.row["park_id"], []).append(plan)
    for park_id, plans in by_park.items():
        ranked = sorted(plans, key=lambda p: (p.industry.shifts, p.mean_kw), reverse=True)[:3]
        for plan in ranked:
            rng = rng_for(seed, "machines", plan.row["enterprise_id"])
            load = plan.machines[0]["load"]
            running = load / np.quantile(load, 0.9)
            for j in range(int(rng.integers(1, 3))):
                kind, name, rated = MACHINE_KINDS[int(rng.integers(len(MACHINE_KINDS)))]
                fault = None
                start = None
                if rng.random() < 0.3:
                    fault = "bearing" if rng.random() < 0.6 else "imbalance"
                    start = max(int(grid.n - rng.integers(4 * 24 * 5, 4 * 24 * 25)), grid.n // 3)
                signals = machine(grid, running, rated, rng, fault, start)
                device = _device(province, plan, park_id, f"m{j + 1}", kind, f"{j + 1}#{name}", rng)
                for quantity, unit, brick, label, values in (
                    ("vibration_rms", "mm/s", "Sensor", "振动速度有效值", signals.vibration_rms),
                    ("bearing_temperature", "degC", "Temperature_Sensor", "轴承温度", signals.temperature),
                    ("current", "A", "Current_Sensor", "电流", signals.current),
                ):
                    pid = _point(province, device, quantity, unit, brick, "instant", 900, label)
                    sink.add(pid, grid.ts, values)
                if fault:
                    ts = grid.ts
                    labels.append(
                        {
                            "device_id": device,
                            "start_ts": _aware(ts[start]),
                            "end_ts": _aware(ts[-1]),
                            "kind": f"injected:{fault}",
                            "data_source": DEMO,
                        }
                    )


def _skab_pump(
    province: Province,
    sink: _Readings,
    labels: list[dict[str, Any]],
    shared: Path | None,
    report: DemoReport,
    end: datetime,
) -> None:
    if shared is None or not (shared / "skab").is_dir():
        return
    plan = _pick(province, lambda p: p.industry.shifts >= 3) or province.enterprises[0]
    rng = rng_for(report.seed, "skab")
    source = realdata.SKAB.source_id
    device = _device(
        province, plan, plan.row["park_id"], "pump-skab", "Pump", "试验循环水泵（SKAB实测）", rng, source
    )
    runs = realdata.load_skab(shared / "skab", end.astimezone(CST) - timedelta(days=1))
    for column, (quantity, unit, brick, label) in realdata.SKAB_SENSORS.items():
        pid = _point(province, device, quantity, unit, brick, "instant", 1, label, None, source)
        ts = np.concatenate([r.ts for r in runs])
        sink.add(pid, ts, np.concatenate([r.values[column].to_numpy(dtype=float) for r in runs]))
    for run in runs:
        flags = np.concatenate([[0], run.anomaly, [0]])
        edges = np.flatnonzero(np.diff(flags))
        for lo, hi in zip(edges[::2], edges[1::2]):
            labels.append(
                {
                    "device_id": device,
                    "start_ts": _aware(run.ts[lo]),
                    "end_ts": _aware(run.ts[hi - 1]),
                    "kind": f"skab:{run.name}",
                    "data_source": source,
                }
            )
    report.real_sources.append(f"{source}: {len(runs)} runs of pump {device}")


def _aware(value: np.datetime64) -> datetime:
    return value.astype("datetime64[us]").astype(datetime).replace(tzinfo=timezone.utc)


def _sources(seed: int, report: DemoReport) -> list[dict[str, Any]]:
    rows = [
        {
            "source_id": DEMO,
            "title": "ParkBrain demo generator (invented enterprises and readings)",
            "description": f"seed {seed}, readings {report.start.isoformat()} … {report.end.isoformat()}",
            "url": None,
            "license": "Apache-2.0",
            "time_shift": None,
        },
        {
            "source_id": "catalogue-2018",
            "title": "中国开发区审核公告目录（2018年版）",
            "description": "parks: names, kind, level, approved area, leading industries",
            "url": "https://www.ndrc.gov.cn/xxgk/zcfb/gg/201803/t20180302_961203.html",
            "license": "public notice",
            "time_shift": None,
        },
        {
            "source_id": "guangxi-boundaries",
            "title": "cn-atlas Guangxi province and prefectures",
            "description": "regions",
            "url": "https://github.com/BarbarossaWang/cn-atlas",
            "license": "ISC",
            "time_shift": None,
        },
    ]
    for real in (realdata.STEEL, realdata.SKAB, realdata.BEIJING):
        used = [s for s in report.real_sources if s.startswith(real.source_id)]
        if used:
            rows.append(
                {
                    "source_id": real.source_id,
                    "title": real.title,
                    "description": real.description,
                    "url": real.url,
                    "license": real.license,
                    "time_shift": "; ".join(used),
                }
            )
    return rows
