"""The demo's parks, buildings, enterprises, devices and points (rows for the canonical tables).

Every row generated here carries ``data_source = 'demo'``: the enterprises and their figures are
invented (plausible, not real); the parks are real development zones from the 2018 catalogue.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from shapely.geometry.base import BaseGeometry

from parkbrain.demo.calendar import rng_for
from parkbrain.demo.catalogue import (
    COMPANY_SUFFIXES,
    INDUSTRIES,
    NAME_PREFIXES,
    PARKS,
    IndustrySpec,
    ParkSpec,
)
from parkbrain.demo.places import area_m2, building_footprints, inside_point, park_boundary, to_geojson
from parkbrain.model.uscc import USCC_CHARSET, make_uscc

DEMO = "demo"
# Metered quantity per carrier: (device kind, quantity, unit, point Brick class, yearly use per 万元 output).
# The intensities are demo assumptions of the right order for Chinese manufacturing, not reference data.
CARRIERS: dict[str, tuple[str, str, str, str, float]] = {
    "natural_gas": ("Building_Gas_Meter", "natural_gas_volume", "m3", "Natural_Gas_Usage_Sensor", 25.0),
    "steam": ("Thermal_Power_Meter", "steam_mass", "t", "Steam_Usage_Sensor", 0.12),
    "water": ("Building_Water_Meter", "water_volume", "m3", "Water_Usage_Sensor", 2.5),
}
CARRIER_NAMES = {
    "electricity": "电",
    "natural_gas": "天然气",
    "steam": "蒸汽",
    "water": "水",
    "diesel": "柴油",
}
MACHINE_KINDS = (
    ("Pump", "循环水泵", 45.0),
    ("Motor", "主电机", 110.0),
    ("Fan", "引风机", 75.0),
    ("Compressor", "空压机", 90.0),
)
AIR_POINTS = (
    ("pm2_5", "ug/m3", "PM2.5_Level_Sensor", "PM2.5"),
    ("pm10", "ug/m3", "PM10_Level_Sensor", "PM10"),
    ("so2", "ug/m3", "Air_Quality_Sensor", "SO2"),
    ("no2", "ug/m3", "NO2_Level_Sensor", "NO2"),
    ("co", "mg/m3", "CO_Level_Sensor", "CO"),
    ("o3", "ug/m3", "Ozone_Level_Sensor", "O3"),
)
VENDORS = ("威胜", "林洋", "华立", "正泰", "科陆", "海兴")


@dataclass
class EnterprisePlan:
    """An enterprise's row plus what the readings generator needs to know about it."""

    row: dict[str, Any]
    industry: IndustrySpec
    mean_kw: float
    carriers: tuple[str, ...]
    machines: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Province:
    parks: list[dict[str, Any]]
    buildings: list[dict[str, Any]]
    enterprises: list[EnterprisePlan]
    devices: list[dict[str, Any]] = field(default_factory=list)
    points: list[dict[str, Any]] = field(default_factory=list)


def enterprise_counts(total: int, specs: tuple[ParkSpec, ...], rng: np.random.Generator) -> list[int]:
    """Split ``total`` enterprises over parks, more for larger parks (at least 12 each)."""
    weights = np.sqrt([max(p.approved_area_ha, 100.0) for p in specs]) * rng.uniform(0.85, 1.15, len(specs))
    raw = weights / weights.sum() * total
    counts = np.maximum(np.floor(raw).astype(int), 12)
    while counts.sum() < total:
        counts[int(np.argmax(raw - counts))] += 1
    return counts.tolist()


def build_province(shapes: dict[str, BaseGeometry], seed: int, enterprises_total: int = 432) -> Province:
    """Parks, buildings and enterprises for the whole demo province."""
    counts = enterprise_counts(enterprises_total, PARKS, rng_for(seed, "counts"))
    province = Province([], [], [])
    used_names: set[str] = set()
    for spec, count in zip(PARKS, counts):
        rng = rng_for(seed, "park", spec.park_id)
        region = shapes[spec.region_code]
        lon, lat = inside_point(region, spec.lon, spec.lat)
        boundary = park_boundary(lon, lat, spec.approved_area_ha, region, rng)
        province.parks.append(_park_row(spec, lon, lat, boundary))
        plans = [_enterprise(spec, i + 1, rng, used_names) for i in range(count)]
        buildings = _buildings(spec, plans, boundary, rng)
        province.buildings.extend(buildings)
        _mark_key_energy_users(plans)
        province.enterprises.extend(plans)
    return province


def _park_row(spec: ParkSpec, lon: float, lat: float, boundary: BaseGeometry) -> dict[str, Any]:
    return {
        "park_id": spec.park_id,
        "name": spec.name,
        "name_en": spec.name_en,
        "short_names": json.dumps(list(spec.short_names), ensure_ascii=False),
        "region_code": spec.region_code,
        "level": spec.level,
        "kind": spec.kind,
        "approved_area_ha": spec.approved_area_ha,
        "approval_year": spec.approval_year,
        "leading_industries": json.dumps(list(spec.leading_industries), ensure_ascii=False),
        "lon": round(lon, 5),
        "lat": round(lat, 5),
        "boundary": to_geojson(boundary),
        "data_source": "catalogue-2018",
    }


def _enterprise(spec: ParkSpec, index: int, rng: np.random.Generator, used: set[str]) -> EnterprisePlan:
    codes = [code for code, _ in spec.industry_mix]
    weights = np.array([w for _, w in spec.industry_mix], dtype=float)
    industry = INDUSTRIES[codes[int(rng.choice(len(codes), p=weights / weights.sum()))]]
    name = _company_name(spec, industry, rng, used)
    lo, hi = industry.output_10k_cny
    output = float(math.exp(rng.uniform(math.log(lo), math.log(hi))))
    e_lo, e_hi = industry.employees
    employees = int(math.exp(rng.uniform(math.log(e_lo), math.log(e_hi))))
    annual_kwh = output * industry.elec_kwh_per_10k_cny * float(np.exp(rng.normal(0, 0.2)))
    org = (
        ("MA" + "".join(rng.choice(list(USCC_CHARSET), 6)))
        if rng.random() < 0.7
        else ("".join(rng.choice(list("0123456789"), 8)))
    )
    row = {
        "enterprise_id": f"{spec.park_id}-e{index:03d}",
        "park_id": spec.park_id,
        "name": name,
        "uscc": make_uscc(spec.region_code, org),
        "industry_code": industry.code,
        "industry_name": industry.name,
        "employees": employees,
        "output_value_10k_cny": round(output, 1),
        "key_energy_user": False,
        "data_source": DEMO,
    }
    carriers = tuple(c for c in industry.carriers if c in CARRIERS)
    return EnterprisePlan(row, industry, annual_kwh / 8760.0, carriers)


def _company_name(spec: ParkSpec, industry: IndustrySpec, rng: np.random.Generator, used: set[str]) -> str:
    from parkbrain.demo.catalogue import PREFECTURES

    city = PREFECTURES[spec.region_code][0].removesuffix("市")
    for _ in range(100):
        place = "广西" if rng.random() < 0.3 else city
        prefix = NAME_PREFIXES[int(rng.integers(len(NAME_PREFIXES)))]
        word = industry.name_words[int(rng.integers(len(industry.name_words)))]
        suffix = COMPANY_SUFFIXES[int(rng.choice(3, p=[0.8, 0.12, 0.08]))]
        name = f"{place}{prefix}{word}{suffix}"
        if name not in used:
            used.add(name)
            return name
    raise RuntimeError("ran out of demo company names")  # pragma: no cover


def _buildings(
    spec: ParkSpec, plans: list[EnterprisePlan], boundary: BaseGeometry, rng: np.random.Generator
) -> list[dict[str, Any]]:
    """One building per enterprise (small firms share a standard factory block) plus park facilities."""
    rows: list[dict[str, Any]] = []
    sizes, uses, names, floors = [], [], [], []
    facilities = (
        ("综合服务中心", "office", (60, 40), 8),
        ("110kV变电站", "utility", (50, 40), 1),
        ("公共仓储中心", "warehouse", (120, 60), 1),
    )
    for name, use, size, floor in facilities:
        names.append(name), uses.append(use), sizes.append(size), floors.append(floor)
    shared_block = None
    for plan in plans:
        if plan.row["output_value_10k_cny"] < 8000 and rng.random() < 0.5:
            if shared_block is None:
                shared_block = len(names)
                names.append(f"标准厂房{shared_block - 2}号"), uses.append("factory")
                sizes.append((90, 50)), floors.append(4)
            plan.row["building_id"] = shared_block
            continue
        plan.row["building_id"] = len(names)
        scale = math.sqrt(plan.row["output_value_10k_cny"] / 20000.0)
        w = float(np.clip(60 * scale * rng.uniform(0.8, 1.3), 30, 260))
        names.append(f"{plan.row['name'].removesuffix('有限公司').removesuffix('股份')}厂房")
        (
            uses.append("factory"),
            sizes.append((w, w * rng.uniform(0.4, 0.8))),
            floors.append(int(rng.integers(1, 4))),
        )
    footprints = building_footprints(boundary, sizes, rng)
    for i, (name, use, footprint, floor) in enumerate(zip(names, uses, footprints, floors)):
        rows.append(
            {
                "building_id": f"{spec.park_id}-b{i + 1:03d}",
                "park_id": spec.park_id,
                "name": name,
                "floors": floor,
                "area_m2": round(area_m2(footprint) * floor, 0),
                "footprint": to_geojson(footprint, 6),
                "use": use,
                "data_source": DEMO,
            }
        )
    for plan in plans:
        building = rows[plan.row["building_id"]]
        plan.row["building_id"] = building["building_id"]
        centre = footprints[[r["building_id"] for r in rows].index(building["building_id"])].centroid
        plan.row["lon"], plan.row["lat"] = round(centre.x, 6), round(centre.y, 6)
    return rows


def _mark_key_energy_users(plans: list[EnterprisePlan]) -> None:
    """重点用能单位: the park's largest energy users — those above 10,000 tce a year (the national
    threshold), at least 2–3 per park and at most 6 (the demo keeps it to "a few")."""
    ranked = sorted(plans, key=lambda p: p.mean_kw, reverse=True)
    kgce_per_kwh = 0.1229  # GB/T 2589-2020 equivalent value of electricity, for sizing only
    above = sum(1 for p in ranked if p.mean_kw * 8760 * kgce_per_kwh / 1000 >= 10_000)
    n_key = min(max(2 + len(plans) // 30, above), 6)
    for i, plan in enumerate(ranked):
        plan.row["key_energy_user"] = i < n_key


def meter_vendor(rng: np.random.Generator) -> str:
    return VENDORS[int(rng.integers(len(VENDORS)))]
