"""Where things are in the demo: regions from the real boundaries, park outlines, building footprints."""

from __future__ import annotations

import json
import math
from importlib import resources
from typing import Any

import numpy as np
from shapely.geometry import Point, Polygon, box
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points

from parkbrain.model.geo import area_km2, from_geojson, meters_to_degrees, repair, to_geojson

BOUNDARIES_FILE = "guangxi_prefectures.geojson"


def load_regions() -> tuple[list[dict[str, Any]], dict[str, BaseGeometry]]:
    """Guangxi and its 14 prefectures as ``regions`` rows (geometry repaired) and shapes by code."""
    text = resources.files("parkbrain.data").joinpath(BOUNDARIES_FILE).read_text(encoding="utf-8")
    rows, shapes = [], {}
    for feature in json.loads(text)["features"]:
        props = feature["properties"]
        geom = repair(from_geojson(feature["geometry"]))
        code = props["区划码"]
        shapes[code] = geom
        rows.append(
            {
                "region_code": code,
                "name": props["地名"],
                "name_en": props["name"],
                "level": props["level"],
                "parent_code": None if props["level"] == "province" else "450000",
                "geometry": to_geojson(geom),
                "area_km2": round(area_km2(geom), 1),
            }
        )
    return rows, shapes


def inside_point(region: BaseGeometry, lon: float, lat: float) -> tuple[float, float]:
    """The given point if it lies inside ``region``, else the nearest point a little inside it."""
    point = Point(lon, lat)
    if region.contains(point):
        return lon, lat
    inner = region.buffer(-0.02)
    if inner.is_empty:
        inner = region
    nearest = nearest_points(inner, point)[0]
    return nearest.x, nearest.y


def park_boundary(
    lon: float, lat: float, area_ha: float, region: BaseGeometry, rng: np.random.Generator
) -> BaseGeometry:
    """An irregular polygon of about ``area_ha`` around (lon, lat), clipped to its prefecture."""
    k = int(rng.integers(7, 12))
    angles = np.sort(rng.uniform(0, 2 * math.pi, k))
    radii = rng.uniform(0.75, 1.25, k)
    unit = Polygon([(r * math.cos(a), r * math.sin(a)) for r, a in zip(radii, angles)]).convex_hull
    scale_m = math.sqrt(area_ha * 1e4 / unit.area)
    dx, dy = meters_to_degrees(scale_m, scale_m, lat)
    shape = Polygon([(lon + x * dx, lat + y * dy) for x, y in unit.exterior.coords])
    clipped = shape.intersection(region.buffer(-0.005))
    if clipped.is_empty or clipped.area < 0.3 * shape.area:
        return shape
    if clipped.geom_type != "Polygon":
        clipped = max(getattr(clipped, "geoms", [clipped]), key=lambda g: g.area)
    return clipped


def building_footprints(
    boundary: BaseGeometry, sizes_m: list[tuple[float, float]], rng: np.random.Generator
) -> list[BaseGeometry]:
    """Non-overlapping rectangles of the given (width, depth) in metres inside ``boundary``."""
    minx, miny, maxx, maxy = boundary.bounds
    lat = (miny + maxy) / 2
    placed: list[BaseGeometry] = []
    for width, depth in sizes_m:
        dx, dy = meters_to_degrees(width, depth, lat)
        footprint = None
        for _ in range(200):
            x = rng.uniform(minx, maxx - dx)
            y = rng.uniform(miny, maxy - dy)
            candidate = box(x, y, x + dx, y + dy)
            if boundary.contains(candidate) and not any(
                candidate.intersects(p.buffer(dx * 0.2)) for p in placed
            ):
                footprint = candidate
                break
        if footprint is None:  # crowded park: accept a small overlap rather than leave it out
            c = boundary.representative_point()
            off = rng.uniform(-0.3, 0.3, 2) * np.array([maxx - minx, maxy - miny]) * 0.3
            footprint = box(c.x + off[0], c.y + off[1], c.x + off[0] + dx, c.y + off[1] + dy)
        placed.append(footprint)
    return placed


def area_m2(geom: BaseGeometry) -> float:
    return area_km2(geom) * 1e6


__all__ = ["area_m2", "building_footprints", "inside_point", "load_regions", "park_boundary", "to_geojson"]
