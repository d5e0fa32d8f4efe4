"""Geometry helpers over shapely: GeoJSON in and out, repair, areas.

Coordinates are WGS84 longitude/latitude everywhere in the model.
"""

from __future__ import annotations

import json
import math
from typing import Any

import shapely
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

EARTH_RADIUS_M = 6_371_008.8


def from_geojson(geometry: dict[str, Any] | str) -> BaseGeometry:
    """A shapely geometry from a GeoJSON geometry (dict or text)."""
    if isinstance(geometry, str):
        geometry = json.loads(geometry)
    return shape(geometry)


def to_geojson(geom: BaseGeometry, precision: int = 5) -> str:
    """Compact GeoJSON text, coordinates rounded to ``precision`` decimals (5 ≈ 1 m)."""
    rounded = shapely.set_precision(geom, 10**-precision) if precision else geom
    return json.dumps(mapping(rounded), separators=(",", ":"))


def repair(geom: BaseGeometry) -> BaseGeometry:
    """A valid polygonal geometry: ``make_valid`` keeping only the (multi)polygon parts."""
    if geom.is_valid:
        return geom
    fixed = shapely.make_valid(geom)
    if fixed.geom_type == "GeometryCollection":
        polys = [g for g in fixed.geoms if g.geom_type in ("Polygon", "MultiPolygon")]
        fixed = shapely.union_all(polys)
    return fixed


def area_km2(geom: BaseGeometry) -> float:
    """Area of a lon/lat geometry in km², on a Lambert cylindrical equal-area projection."""
    lat0 = geom.centroid.y

    def project(coords: Any) -> Any:
        lon = coords[:, 0]
        lat = coords[:, 1]
        x = EARTH_RADIUS_M * math.radians(1) * lon * math.cos(math.radians(lat0))
        y = EARTH_RADIUS_M * _sin_lat(lat) / math.cos(math.radians(lat0))
        return _stack(x, y)

    return shapely.transform(geom, project).area / 1e6


def _sin_lat(lat: Any) -> Any:
    import numpy as np

    return np.sin(np.radians(lat))


def _stack(x: Any, y: Any) -> Any:
    import numpy as np

    return np.column_stack([x, y])


def meters_to_degrees(dx_m: float, dy_m: float, lat: float) -> tuple[float, float]:
    """Convert a small east/north offset in metres at latitude ``lat`` into degrees."""
    dlat = math.degrees(dy_m / EARTH_RADIUS_M)
    dlon = math.degrees(dx_m / (EARTH_RADIUS_M * math.cos(math.radians(lat))))
    return dlon, dlat
