"""Geometry checks: coordinates inside their park boundary, prefecture and province.

Rows are grouped by the area they must fall in and tested with ``shapely.contains_xy`` on whole
coordinate arrays (one call per area), against the area grown by the rule's tolerance.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from parkbrain.analytics.quality_context import CheckSpec, Context, key_of, keyed_spec
from parkbrain.analytics.quality_rules import GEO_RULES, GeoRule
from parkbrain.model.geo import from_geojson, meters_to_degrees, repair

_M_PER_DEGREE = 111_320.0
PROVINCE = "province"


@dataclass
class Areas:
    """The areas coordinates are tested against: park boundaries, prefectures, the province."""

    parks: dict[str, BaseGeometry] = field(default_factory=dict)
    regions: dict[str, BaseGeometry] = field(default_factory=dict)
    park_region: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, ctx: Context) -> Areas:
        areas = cls()
        boundary = "boundary" if ctx.has("parks", "boundary") else "NULL AS boundary"
        for row in ctx.rows(f"SELECT park_id, region_code, {boundary} FROM parks"):
            areas.park_region[row["park_id"]] = row["region_code"]
            _put(areas.parks, row["park_id"], row["boundary"])
        if ctx.has("regions", "geometry", "level"):
            areas._load_regions(ctx)
        return areas

    def _load_regions(self, ctx: Context) -> None:
        provinces = []
        for row in ctx.rows("SELECT region_code, level, geometry FROM regions WHERE geometry IS NOT NULL"):
            _put(self.regions, row["region_code"], row["geometry"])
            if row["level"] == PROVINCE and row["region_code"] in self.regions:
                provinces.append(self.regions[row["region_code"]])
        if provinces:
            self.regions[PROVINCE] = shapely.union_all(provinces)

    def target(self, rule: GeoRule, park_id: str, region_code: str | None) -> BaseGeometry | None:
        """The area a row of ``park_id`` must fall in under ``rule``."""
        if rule.target == "park":
            return self.parks.get(park_id)
        if rule.target == "prefecture":
            return self.regions.get(region_code or self.park_region.get(park_id, ""))
        return self.regions.get(PROVINCE)


def _put(into: dict[str, BaseGeometry], key: str, geojson: str | None) -> None:
    if not geojson:
        return
    try:
        into[key] = repair(from_geojson(geojson))
    except (ValueError, TypeError, AttributeError, shapely.errors.GEOSException):
        return  # unreadable geometry: the row is left out of geometry checks


def geo_checks(ctx: Context) -> list[CheckSpec]:
    """One check per ``GEO_RULES`` rule and table holding lon/lat."""
    if not ctx.has("parks", "park_id", "region_code"):
        return []
    areas = Areas.load(ctx)
    return [
        _geo_check(ctx, rule, table, areas)
        for rule in GEO_RULES
        for table in rule.tables
        if ctx.has(table, "lon", "lat", "park_id")
    ]


def _geo_check(ctx: Context, rule: GeoRule, table: str, areas: Areas) -> CheckSpec:
    key = key_of(table)
    region = "region_code" if table == "parks" else "NULL AS region_code"
    rows = ctx.rows(
        f"SELECT {key} AS _id, park_id, {region}, lon, lat FROM s_{table} WHERE lon IS NOT NULL AND lat IS NOT NULL"
    )
    groups: dict[int, list[dict[str, Any]]] = defaultdict(list)
    shapes: dict[int, BaseGeometry] = {}
    for row in rows:
        area = areas.target(rule, row["park_id"], row["region_code"])
        if area is not None:
            shapes[id(area)] = area
            groups[id(area)].append(row)
    bad: dict[str, dict[str, Any]] = {}
    for ref, members in groups.items():
        bad.update(_outside(shapes[ref], members, rule.tolerance_m))
    checked = [row["_id"] for members in groups.values() for row in members]
    base = CheckSpec(rule.check, table, "validity", rule.description, None, "", key, reference=rule.source)
    return keyed_spec(ctx, base, checked, bad)


def _outside(area: BaseGeometry, rows: list[dict[str, Any]], tolerance_m: float) -> dict[str, dict[str, Any]]:
    """Rows whose lon/lat lie outside ``area`` grown by ``tolerance_m``, with their distance to it."""
    x = np.array([r["lon"] for r in rows], dtype="float64")
    y = np.array([r["lat"] for r in rows], dtype="float64")
    inside = shapely.contains_xy(_grown(area, tolerance_m), x, y)
    out = np.flatnonzero(~inside)
    distance = _distance_m(area, x[out], y[out]) if len(out) else []
    return {
        rows[i]["_id"]: {"lon": float(x[i]), "lat": float(y[i]), "distance_m": round(float(d))}
        for i, d in zip(out, distance)
    }


def _distance_m(area: BaseGeometry, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Approximate metres from each point to ``area`` (local equirectangular scale at the point)."""
    ends = shapely.get_coordinates(shapely.shortest_line(area, shapely.points(x, y))).reshape(-1, 2, 2)
    dlon, dlat = ends[:, 1, 0] - ends[:, 0, 0], ends[:, 1, 1] - ends[:, 0, 1]
    return np.hypot(dlon * np.cos(np.radians(y)), dlat) * _M_PER_DEGREE


def _grown(area: BaseGeometry, tolerance_m: float) -> BaseGeometry:
    lat = area.centroid.y if not area.is_empty else 0.0
    dlon, dlat = meters_to_degrees(tolerance_m, tolerance_m, max(min(lat, 85.0), -85.0))
    grown = area.buffer(max(dlon, dlat)) if tolerance_m > 0 else area
    shapely.prepare(grown)
    return grown
