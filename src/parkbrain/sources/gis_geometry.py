"""Geometries of GIS features: which CRS they are in, checks, conversion to WGS84 and repair.

Every check names the feature (counted from 1, in file order) and the field ``geometry``:
a missing, empty or wrongly typed geometry, coordinates that are not numbers, longitude/latitude
out of range or swapped (x must be the longitude, y the latitude, as GeoJSON requires), projected
coordinates that do not land on Earth, easting/northing swapped. Invalid polygons (self-intersecting
rings, as simplified boundaries often have) are repaired with ``model.geo.repair`` and a note says so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from parkbrain.errors import BadFile, missing_extra
from parkbrain.model import crs as crs_model
from parkbrain.model.geo import repair

#: China's extent (WGS84), to catch swapped coordinates; wider than the border on purpose
#: (the same box as the tabular sources use).
CHINA_LON, CHINA_LAT = (73.0, 136.0), (3.0, 54.0)
CHINA_AREA = (CHINA_LON[0], CHINA_LAT[0], CHINA_LON[1], CHINA_LAT[1])  # west, south, east, north
#: How far (degrees) outside its CRS's area of use a projected feature may lie before x/y are suspected swapped.
AREA_MARGIN_DEG = 2.0
LON_LAT_FIRST = "longitude first (x), then latitude (y), as GeoJSON requires"
EASTING_FIRST = "easting first (x), then northing (y)"
POLYGONAL = ("Polygon", "MultiPolygon")
POINT_OR_POLYGON = ("Point", "Polygon", "MultiPolygon")
_SAME_DATUM = {crs_model.WGS84, crs_model.CGCS2000}


@dataclass(frozen=True)
class Feature:
    """One feature of a GIS file: its number (from 1), properties and geometry as read."""

    number: int
    properties: dict[str, Any]
    geometry: BaseGeometry | None


# -- which CRS --------------------------------------------------------------------------------------


def resolve_crs(declared: str | None, given: str | None, display: str) -> tuple[str, list[str]]:
    """The CRS to read a file in, and notes: the file's own CRS, else ``given`` (--crs), else WGS84.

    A file labelled WGS84/CGCS2000 may be read as GCJ02 or BD09 (AMap and Baidu exports are labelled
    so); any other disagreement between the file and --crs is an error.
    """
    found = _canonical(declared, display, "the file's CRS", crs_model.identify_crs) if declared else None
    option = _canonical(given, display, "--crs", crs_model.parse_crs) if given else None
    if found is None:
        return option or crs_model.WGS84, []
    if option is None or option == found or {option, found} <= _SAME_DATUM:
        return found, []
    if found in _SAME_DATUM and option in (crs_model.GCJ02, crs_model.BD09):
        return option, [
            f"the file says its coordinates are {found}; they were read as {option}, as --crs says"
        ]
    raise BadFile(
        display,
        f"the file says its CRS is {found}, but --crs says {option}",
        field="crs",
        expected="--crs only for a file that does not say its CRS (or GCJ02/BD09 for one labelled WGS84)",
    )


def _canonical(text: str, display: str, what: str, parse: Callable[[str], str]) -> str:
    try:
        name = parse(text)
    except crs_model.CRSError as exc:
        if "pip install" in str(exc):
            raise missing_extra("pyproj", "geo") from None
        problem = str(exc).split("; expected")[0]
        raise BadFile(display, f"{what}: {problem}", field="crs", expected=crs_model.EXPECTED) from None
    if name not in crs_model.GEOGRAPHIC:
        _need_pyproj()
    return name


def _need_pyproj() -> None:
    try:
        import pyproj  # noqa: F401
    except ImportError:
        raise missing_extra("pyproj", "geo") from None


# -- checks and conversion --------------------------------------------------------------------------


def to_wgs84_geometries(
    features: Sequence[Feature], crs: str, display: str, allowed: tuple[str, ...]
) -> tuple[list[BaseGeometry], dict[int, str]]:
    """The features' geometries checked and in WGS84, and {feature number: why it was repaired}."""
    geoms = np.array([_present(f, display, allowed) for f in features], dtype=object)
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    _check_finite(coords, index, features, display)
    geographic = crs_model.is_geographic(crs)
    if geographic:
        _check_lon_lat(coords, index, features, display)
    converted = crs_model.transform_geometry(geoms, crs)
    if not geographic:
        _check_projected(converted, geoms, crs, features, display)
    return _repaired(list(converted), features, display)


def _present(feature: Feature, display: str, allowed: tuple[str, ...]) -> BaseGeometry:
    geom = feature.geometry
    expected = f"a {' or '.join(allowed)} geometry for every feature"
    if geom is None:
        raise BadFile(
            display,
            "the feature has no geometry",
            feature=feature.number,
            field="geometry",
            expected=expected,
        )
    if geom.geom_type not in allowed:
        raise BadFile(
            display,
            f"the geometry is a {geom.geom_type}",
            feature=feature.number,
            field="geometry",
            expected=expected,
        )
    if geom.is_empty:
        raise BadFile(
            display, "the geometry is empty", feature=feature.number, field="geometry", expected=expected
        )
    return geom


def _check_finite(coords: np.ndarray, index: np.ndarray, features: Sequence[Feature], display: str) -> None:
    bad = ~np.isfinite(coords).all(axis=1)
    if bad.any():
        feature = features[int(index[bad][0])]
        raise BadFile(
            display,
            "a coordinate is not a number (NaN or infinite)",
            feature=feature.number,
            field="geometry",
            expected="numeric coordinates",
        )


def _check_lon_lat(coords: np.ndarray, index: np.ndarray, features: Sequence[Feature], display: str) -> None:
    x, y = coords[:, 0], coords[:, 1]
    out = (np.abs(x) > 180) | (np.abs(y) > 90)
    if out.any():
        i = int(np.argmax(out))
        feature = features[int(index[i])]
        point = f"({x[i]:g}, {y[i]:g})"
        if abs(x[i]) <= 90 < abs(y[i]) <= 180:
            raise BadFile(
                display,
                f"the coordinates {point} look swapped",
                feature=feature.number,
                field="geometry",
                expected=LON_LAT_FIRST,
            )
        raise BadFile(
            display,
            f"{point} is not a longitude/latitude",
            feature=feature.number,
            field="geometry",
            expected="longitude −180…180 and latitude −90…90 (or --crs for projected coordinates)",
        )
    swapped = _swapped_into_china(x, y, index, len(features))
    if swapped is not None:
        raise BadFile(
            display,
            "the longitude and latitude look swapped: swapped, the feature lies in China",
            feature=features[swapped].number,
            field="geometry",
            expected=LON_LAT_FIRST,
        )


def _swapped_into_china(x: np.ndarray, y: np.ndarray, index: np.ndarray, n: int) -> int | None:
    """The first feature wholly outside China whose swapped coordinates lie wholly inside, if any."""
    inside = _in_china(x, y)
    swapped_inside = _in_china(y, x)
    some_inside = np.bincount(index[inside], minlength=n) > 0
    some_swapped_outside = np.bincount(index[~swapped_inside], minlength=n) > 0
    has_coords = np.bincount(index, minlength=n) > 0
    flagged = np.flatnonzero(has_coords & ~some_inside & ~some_swapped_outside)
    return int(flagged[0]) if flagged.size else None


def _in_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return (lon >= CHINA_LON[0]) & (lon <= CHINA_LON[1]) & (lat >= CHINA_LAT[0]) & (lat <= CHINA_LAT[1])


def _check_projected(
    converted: np.ndarray, source: np.ndarray, crs: str, features: Sequence[Feature], display: str
) -> None:
    """Projected coordinates must land on Earth, in (or near) the area their CRS is meant for; a
    feature that lands elsewhere but whose swapped coordinates land there has x and y swapped."""
    area = crs_model.area_of_use(crs)
    coords, index = shapely.get_coordinates(converted, return_index=True)
    fits = _fits(coords[:, 0], coords[:, 1], area)
    for i in np.unique(index[~fits]):
        if _fits_swapped(source[i], crs, area):
            raise BadFile(
                display,
                "the coordinates look swapped: swapped, the feature lies where the CRS is used; as given it does not",
                feature=features[i].number,
                field="geometry",
                expected=EASTING_FIRST,
            )
    on_earth = _fits(coords[:, 0], coords[:, 1], None)
    if not on_earth.all():
        raise BadFile(
            display,
            f"the coordinates do not convert from {crs} to a longitude/latitude",
            feature=features[int(index[~on_earth][0])].number,
            field="geometry",
            expected=f"coordinates in {crs} ({EASTING_FIRST}), or --crs naming the file's real CRS",
        )


def _fits(lon: np.ndarray, lat: np.ndarray, area: tuple[float, float, float, float] | None) -> np.ndarray:
    """Whether converted coordinates are a longitude/latitude, within ``AREA_MARGIN_DEG`` of ``area``."""
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90)
        if area is not None:
            west, south, east, north = area
            m = AREA_MARGIN_DEG
            ok &= (lon >= west - m) & (lon <= east + m) & (lat >= south - m) & (lat <= north + m)
    return ok


def _fits_swapped(geom: BaseGeometry, crs: str, area: tuple[float, float, float, float] | None) -> bool:
    coords = shapely.get_coordinates(geom)
    lon, lat = crs_model.to_wgs84(coords[:, 1], coords[:, 0], crs)
    return bool(_fits(lon, lat, area or CHINA_AREA).all())


def _repaired(
    geoms: list[BaseGeometry], features: Sequence[Feature], display: str
) -> tuple[list[BaseGeometry], dict[int, str]]:
    reasons: dict[int, str] = {}
    valid = shapely.is_valid(np.array(geoms, dtype=object))
    for i in np.flatnonzero(~valid):
        reasons[features[i].number] = shapely.is_valid_reason(geoms[i])
        geoms[i] = repair(geoms[i])
        if geoms[i].is_empty or geoms[i].geom_type not in POINT_OR_POLYGON:
            raise BadFile(
                display,
                f"the geometry is invalid ({reasons[features[i].number]}) and cannot be repaired",
                feature=features[i].number,
                field="geometry",
                expected="a valid polygon",
            )
    return geoms, reasons
