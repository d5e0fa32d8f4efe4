"""Coordinate reference systems met in Chinese data, and conversion to WGS84.

Canonical names (what ``parse_crs`` returns and imports record as ``source_crs``):

- ``WGS84`` — GPS, GeoJSON (RFC 7946), EPSG:4326 and OGC:CRS84.
- ``CGCS2000`` — China Geodetic Coordinate System 2000, EPSG:4490: the national datum. Its frame
  (ITRF97 at epoch 2000.0) and WGS84's agree to a few centimetres, far below what park maps resolve,
  so CGCS2000 longitude/latitude are used as they are (the ellipsoids differ only in flattening, by
  0.1 mm at the pole). This is how 天地图 and the national standards treat them too.
- ``GCJ02`` — the "Mars" coordinates of AMap/高德, Tencent and Google China: WGS84 shifted by an
  obfuscation of a few hundred metres inside China (identity outside, as the published forward
  algorithm is). There is no closed-form inverse; ``gcj02_to_wgs84`` iterates the forward
  transform to millimetres.
- ``BD09`` — Baidu's coordinates: GCJ-02 shifted once more by Baidu's published formula.
- ``EPSG:<n>`` — any other EPSG code (UTM zones, the CGCS2000 Gauss-Krüger zones EPSG:4491–4554, …),
  converted with pyproj (the optional extra ``geo``), always in x = easting/longitude,
  y = northing/latitude order.

Arrays in, arrays out: every function takes array-likes of x (longitude) and y (latitude) and
returns float64 NumPy arrays. This module imports nothing from the rest of ParkBrain.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

Floats = NDArray[np.float64]

WGS84, CGCS2000, GCJ02, BD09 = "WGS84", "CGCS2000", "GCJ02", "BD09"
#: Canonical names of the longitude/latitude CRSs handled without pyproj.
GEOGRAPHIC = (WGS84, CGCS2000, GCJ02, BD09)
#: What ``parse_crs`` accepts, for messages.
EXPECTED = "WGS84, CGCS2000, GCJ02 (高德/腾讯), BD09 (百度) or EPSG:<code>"

_ALIASES = {
    WGS84: (
        "wgs84",
        "wgs 84",
        "epsg:4326",
        "4326",
        "crs84",
        "ogc:crs84",
        "urn:ogc:def:crs:ogc:1.3:crs84",
        "urn:ogc:def:crs:epsg::4326",
        "gps",
    ),
    CGCS2000: (
        "cgcs2000",
        "cgcs 2000",
        "epsg:4490",
        "4490",
        "urn:ogc:def:crs:epsg::4490",
        "国家2000",
        "2000国家大地坐标系",
    ),
    GCJ02: ("gcj02", "gcj 02", "amap", "gaode", "高德", "tencent", "腾讯", "火星", "火星坐标", "mars"),
    BD09: ("bd09", "bd 09", "bd09ll", "baidu", "百度"),
}
_BY_ALIAS = {alias: name for name, aliases in _ALIASES.items() for alias in aliases}
_EPSG = re.compile(r"^(?:epsg\s*:{1,2}\s*|urn:ogc:def:crs:epsg:[\d.]*:)?(\d{4,6})$")

# The GCJ-02 forward transform as published (Krasovsky 1940 ellipsoid) and the China box it applies in.
_GCJ_A = 6378245.0
_GCJ_EE = 0.00669342162296594323
_CHINA_LON = (72.004, 137.8347)
_CHINA_LAT = (0.8293, 55.8271)
_BD_X_PI = math.pi * 3000.0 / 180.0
_INVERSE_TOLERANCE_DEG = 1e-10  # about 0.01 mm
_INVERSE_MAX_STEPS = 30


class CRSError(ValueError):
    """A CRS that is unknown, or that cannot be converted here (pyproj missing)."""


# -- names ------------------------------------------------------------------------------------------


def parse_crs(text: str) -> str:
    """The canonical name of a CRS given by a person or a file (see the module docstring)."""
    key = _key(text)
    if key in _BY_ALIAS:
        return _BY_ALIAS[key]
    match = _EPSG.match(key)
    if not match:
        raise CRSError(f"unknown coordinate reference system {text!r}; expected {EXPECTED}")
    code = int(match.group(1))
    named = _BY_ALIAS.get(f"epsg:{code}")
    if named:
        return named
    _check_epsg(code, text)
    return f"EPSG:{code}"


def _key(text: str) -> str:
    key = str(text).strip().lower().replace("_", "-")
    key = re.sub(r"(?<=[a-z])-(?=\d)", "", key)  # wgs-84, gcj-02, bd-09
    return re.sub(r"\s+", " ", key)


def _check_epsg(code: int, text: str) -> None:
    """Refuse an EPSG code pyproj does not know (unchecked when pyproj is not installed)."""
    try:
        import pyproj
    except ImportError:
        return
    try:
        pyproj.CRS.from_epsg(code)
    except pyproj.exceptions.CRSError:
        raise CRSError(
            f"unknown coordinate reference system {text!r}: there is no EPSG:{code}; expected {EXPECTED}"
        ) from None


def identify_crs(text: str) -> str:
    """The canonical name of a CRS a file declares: a name ``parse_crs`` knows, or WKT/PROJ text
    that pyproj matches to an EPSG code (a shapefile's .prj, a GeoPackage's srs)."""
    try:
        return parse_crs(text)
    except CRSError:
        pass
    pyproj = _pyproj()
    try:
        crs = pyproj.CRS.from_user_input(text)
    except pyproj.exceptions.CRSError as exc:
        raise CRSError(f"cannot read the coordinate reference system {_short(text)!r}: {exc}") from None
    code = crs.to_epsg(min_confidence=70)
    if code is None:
        raise CRSError(f"the coordinate reference system {crs.name!r} has no EPSG code; expected {EXPECTED}")
    return parse_crs(f"EPSG:{code}")


def _short(text: str) -> str:
    return text if len(text) <= 80 else text[:77] + "..."


def is_geographic(crs: str) -> bool:
    """Whether a canonical CRS has longitude/latitude coordinates (degrees)."""
    if crs in GEOGRAPHIC:
        return True
    return bool(_pyproj().CRS.from_user_input(crs).is_geographic)


def area_of_use(crs: str) -> tuple[float, float, float, float] | None:
    """West, south, east, north (degrees) of where a projected EPSG CRS is meant to be used; None for
    the longitude/latitude CRSs or when the registry does not say."""
    if crs in GEOGRAPHIC:
        return None
    area = _pyproj().CRS.from_user_input(crs).area_of_use
    return None if area is None else (area.west, area.south, area.east, area.north)


# -- conversion -------------------------------------------------------------------------------------


def to_wgs84(xs: ArrayLike, ys: ArrayLike, crs: str) -> tuple[Floats, Floats]:
    """WGS84 longitude, latitude of coordinates in ``crs`` (a canonical name or anything
    ``parse_crs`` accepts)."""
    name = parse_crs(crs)
    x, y = _floats(xs, ys)
    if name in (WGS84, CGCS2000):
        return x.copy(), y.copy()
    if name == GCJ02:
        return gcj02_to_wgs84(x, y)
    if name == BD09:
        return gcj02_to_wgs84(*bd09_to_gcj02(x, y))
    return _transformer(name).transform(x, y)


def transform_geometry(geom: Any, crs: str) -> Any:
    """A shapely geometry (or an array of them) converted from ``crs`` to WGS84, in 2D."""
    name = parse_crs(crs)

    def convert(coords: Floats) -> Floats:
        lon, lat = to_wgs84(coords[:, 0], coords[:, 1], name)
        return np.column_stack([lon, lat])

    return shapely.transform(shapely.force_2d(geom), convert)


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Floats, Floats]:
    """GCJ-02 of WGS84 coordinates: the published forward algorithm (identity outside China)."""
    x, y = _floats(lon, lat)
    dlon, dlat = _gcj_offset(x, y)
    inside = _in_china(x, y)
    return np.where(inside, x + dlon, x), np.where(inside, y + dlat, y)


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Floats, Floats]:
    """WGS84 of GCJ-02 coordinates: the WGS84 point whose GCJ-02 is the given one, found by
    fixed-point iteration of the forward transform (converges to < 0.01 mm in a few steps)."""
    gx, gy = _floats(lon, lat)
    x, y = gx.copy(), gy.copy()
    for _ in range(_INVERSE_MAX_STEPS):
        fx, fy = wgs84_to_gcj02(x, y)
        ex, ey = fx - gx, fy - gy
        x, y = x - ex, y - ey
        if not np.any(np.abs(ex) > _INVERSE_TOLERANCE_DEG) and not np.any(
            np.abs(ey) > _INVERSE_TOLERANCE_DEG
        ):
            break
    return x, y


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Floats, Floats]:
    """BD-09 of GCJ-02 coordinates (Baidu's published formula)."""
    x, y = _floats(lon, lat)
    z = np.hypot(x, y) + 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _BD_X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Floats, Floats]:
    """GCJ-02 of BD-09 coordinates (Baidu's published inverse; its round trip with
    ``gcj02_to_bd09`` is exact to about 5 cm)."""
    bx, by = _floats(lon, lat)
    x, y = bx - 0.0065, by - 0.006
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _BD_X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Floats, Floats]:
    """BD-09 of WGS84 coordinates (through GCJ-02)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def _floats(xs: ArrayLike, ys: ArrayLike) -> tuple[Floats, Floats]:
    return np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)


def _in_china(lon: Floats, lat: Floats) -> NDArray[np.bool_]:
    return (lon >= _CHINA_LON[0]) & (lon <= _CHINA_LON[1]) & (lat >= _CHINA_LAT[0]) & (lat <= _CHINA_LAT[1])


def _gcj_offset(lon: Floats, lat: Floats) -> tuple[Floats, Floats]:
    """The GCJ-02 shift (degrees) at a WGS84 point, as the published algorithm computes it."""
    x, y = lon - 105.0, lat - 35.0
    dlat = _gcj_lat(x, y)
    dlon = _gcj_lon(x, y)
    rad = np.radians(lat)
    magic = 1 - _GCJ_EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_GCJ_A * (1 - _GCJ_EE)) / (magic * sqrt_magic) * math.pi)
    dlon = (dlon * 180.0) / (_GCJ_A / sqrt_magic * np.cos(rad) * math.pi)
    return dlon, dlat


def _gcj_lat(x: Floats, y: Floats) -> Floats:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * math.pi) + 20.0 * np.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * math.pi) + 40.0 * np.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * math.pi) + 320.0 * np.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _gcj_lon(x: Floats, y: Floats) -> Floats:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * math.pi) + 20.0 * np.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * math.pi) + 40.0 * np.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * math.pi) + 300.0 * np.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


# -- pyproj -----------------------------------------------------------------------------------------


def _pyproj() -> Any:
    try:
        import pyproj
    except ImportError:
        raise CRSError(
            "converting EPSG coordinates needs the Python package 'pyproj': "
            "install it with pip install 'parkbrain[geo]'"
        ) from None
    return pyproj


@lru_cache(maxsize=32)
def _transformer(crs: str) -> Any:
    pyproj = _pyproj()
    try:
        return pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    except pyproj.exceptions.ProjError as exc:
        raise CRSError(f"cannot convert {crs} to WGS84: {exc}") from None
