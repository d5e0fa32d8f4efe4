"""Shared fixtures: an empty in-memory park, and one full demo province per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from parkbrain import Park

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
ARTIFACTS = REPO / "artifacts"

#: The park assistant's metric ids, as the issue's contract names them (tests check the layer against them).
CONTRACT_METRICS = (
    "enterprise_count",
    "employees",
    "output_value",
    "electricity_kwh",
    "water_m3",
    "gas_m3",
    "steam_t",
    "energy_tce",
    "carbon_tco2",
    "energy_intensity",
    "aqi",
    "aqi_exceed_days",
    "alert_count",
)


def top5_query() -> dict:
    """The structured query of 「上个月南宁高新区用电量最高的5家企业是哪些？」 asked on 2026-11-20 (a fresh dict)."""
    return {
        "metric": "electricity_kwh",
        "dimensions": ["enterprise"],
        "filters": [{"dimension": "park", "op": "=", "value": "nanning-hitech"}],
        "time": {"start": "2026-10-01", "end": "2026-11-01", "grain": None, "label": "上个月"},
        "order": "desc",
        "limit": 5,
    }


@pytest.fixture
def park():
    with Park(memory=True) as p:
        yield p


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> Path:
    """The default demo (90 days ending now, seed 42), built once per test session into a file."""
    from parkbrain.demo import build_demo_file

    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    os.environ.setdefault("PARKBRAIN_SHARED_DATA", str(SHARED_DATA))
    report = build_demo_file(path, seed=42)
    (ARTIFACTS).mkdir(exist_ok=True)
    (ARTIFACTS / "demo-build.txt").write_text(
        f"seconds {report.seconds:.1f}\nsize_bytes {report.size_bytes}\n"
        + "".join(f"{k} {v}\n" for k, v in report.tables.items())
        + "".join(f"real {s}\n" for s in report.real_sources),
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="session")
def demo(demo_db):
    with Park.open(demo_db, read_only=True) as p:
        yield p


@pytest.fixture(scope="session")
def small_demo_file(tmp_path_factory) -> Path:
    """A 7-day demo province (fixed end, seed 7), built once per worker; copy it before changing it."""
    from datetime import datetime, timedelta, timezone

    from parkbrain.demo import build_demo_file

    os.environ.setdefault("PARKBRAIN_SHARED_DATA", str(SHARED_DATA))
    path = tmp_path_factory.mktemp("small-demo") / "small.duckdb"
    build_demo_file(path, seed=7, end=datetime(2026, 11, 20, tzinfo=timezone(timedelta(hours=8))), days=7)
    return path


def copy_db(src: Path, dest_dir: Path) -> Path:
    """A copy of a park database with its audit head file."""
    import shutil

    dest = dest_dir / src.name
    shutil.copyfile(src, dest)
    head = Path(str(src) + ".audit-head")
    if head.exists():
        shutil.copyfile(head, Path(str(dest) + ".audit-head"))
    return dest
