"""CRS names and conversions to WGS84, against values published by other projects."""

from __future__ import annotations

import math

import numpy as np
import pytest
from shapely.geometry import Point, box

from parkbrain.model.crs import (
    CRSError,
    bd09_to_gcj02,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    identify_crs,
    parse_crs,
    to_wgs84,
    transform_geometry,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

pyproj = pytest.importorskip("pyproj")

# (wgs lon, wgs lat, gcj lon, gcj lat) — googollee/eviltransform, python/test.py `TESTS`
# (Shanghai, Shenzhen, Beijing); that test asserts 6 decimal places for WGS84 → GCJ-02.
EVILTRANSFORM = [
    (121.5272106, 31.1774276, 121.531541859215, 31.17530398364597),
    (113.912316, 22.543847, 113.9171764808363, 22.540796131694766),
    (116.377817, 39.911954, 116.38404722455657, 39.91334545536069),
]
# wandergis/coordtransform, test/app.js "result" comments: every function applied to (116.404, 39.915),
# a point by Tiananmen.
CT_INPUT = (116.404, 39.915)
CT_WGS84_TO_GCJ02 = (116.41024449916938, 39.91640428150164)
CT_GCJ02_TO_BD09 = (116.41036949371029, 39.92133699351021)
CT_BD09_TO_GCJ02 = (116.39762729119315, 39.90865673957631)
CT_GCJ02_TO_WGS84 = (116.39775550083061, 39.91359571849836)  # their one-step approximation, good to ~1 m
# aknow2/utm (Dart), test/utm_test.dart: Tokyo, UTM zone 54 (WGS84), to 0.1 m.
TOKYO_LON_LAT = (139.752899, 35.720122)
TOKYO_UTM54 = (387203.09, 3953623.37)
# Published length of the WGS84 meridian quadrant (equator to pole), m; anchors the arc integral below.
WGS84_QUADRANT_M = 10_001_965.729

WGS84_ELLIPSOID = (6378137.0, 1 / 298.257223563)
CGCS2000_ELLIPSOID = (6378137.0, 1 / 298.257222101)


def metres(lon1, lat1, lon2, lat2) -> float:
    """Great-circle distance, m (plenty for sub-metre checks)."""
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(a))


def meridian_arc_m(lat_deg: float, ellipsoid: tuple[float, float]) -> float:
    """Length of the meridian from the equator to ``lat_deg``, by integrating the meridional radius
    of curvature (Simpson's rule) — a check independent of pyproj."""
    a, f = ellipsoid
    e2 = f * (2 - f)
    t = np.linspace(0.0, math.radians(lat_deg), 20001)
    r = a * (1 - e2) / (1 - e2 * np.sin(t) ** 2) ** 1.5
    h = t[1] - t[0]
    return float(h / 3 * (r[0] + r[-1] + 4 * r[1:-1:2].sum() + 2 * r[2:-1:2].sum()))


# -- names ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("WGS84", "WGS84"),
        ("wgs-84", "WGS84"),
        ("EPSG:4326", "WGS84"),
        ("4326", "WGS84"),
        ("CRS84", "WGS84"),
        ("OGC:CRS84", "WGS84"),
        ("urn:ogc:def:crs:OGC:1.3:CRS84", "WGS84"),
        ("CGCS2000", "CGCS2000"),
        ("EPSG:4490", "CGCS2000"),
        ("4490", "CGCS2000"),
        ("cgcs2000", "CGCS2000"),
        ("urn:ogc:def:crs:EPSG::4490", "CGCS2000"),
        ("GCJ02", "GCJ02"),
        ("gcj-02", "GCJ02"),
        ("amap", "GCJ02"),
        ("gaode", "GCJ02"),
        ("高德", "GCJ02"),
        ("tencent", "GCJ02"),
        ("火星", "GCJ02"),
        ("BD09", "BD09"),
        ("bd-09", "BD09"),
        ("baidu", "BD09"),
        ("百度", "BD09"),
        ("bd09ll", "BD09"),
        ("EPSG:32649", "EPSG:32649"),
        ("epsg:4545", "EPSG:4545"),
        ("4534", "EPSG:4534"),
        ("EPSG:4554", "EPSG:4554"),
        ("EPSG:4491", "EPSG:4491"),
        ("EPSG:4501", "EPSG:4501"),
        ("EPSG:4524", "EPSG:4524"),
        ("urn:ogc:def:crs:EPSG::32649", "EPSG:32649"),
    ],
)
def test_parse_crs_names(text, name):
    assert parse_crs(text) == name


@pytest.mark.parametrize("text", ["Beijing54-ish", "EPSG:99999", "", "GCJ03"])
def test_unknown_crs_says_what_was_expected(text):
    with pytest.raises(
        CRSError, match=r"unknown coordinate reference system.*expected WGS84, CGCS2000, GCJ02"
    ):
        parse_crs(text)


def test_a_crs_error_is_a_value_error():
    assert issubclass(CRSError, ValueError)


def test_identify_crs_reads_esri_and_ogc_wkt():
    assert identify_crs(pyproj.CRS.from_epsg(4545).to_wkt("WKT1_ESRI")) == "EPSG:4545"
    assert identify_crs(pyproj.CRS.from_epsg(4490).to_wkt()) == "CGCS2000"
    assert identify_crs(pyproj.CRS.from_epsg(32649).to_wkt("WKT1_GDAL")) == "EPSG:32649"
    assert identify_crs("EPSG:4326") == "WGS84"


# -- GCJ-02 and BD-09 -------------------------------------------------------------------------------


@pytest.mark.parametrize(("wlon", "wlat", "glon", "glat"), EVILTRANSFORM)
def test_wgs84_to_gcj02_matches_eviltransform(wlon, wlat, glon, glat):
    lon, lat = wgs84_to_gcj02(wlon, wlat)
    assert float(lon) == pytest.approx(glon, abs=1e-6)
    assert float(lat) == pytest.approx(glat, abs=1e-6)


@pytest.mark.parametrize(("wlon", "wlat", "glon", "glat"), EVILTRANSFORM)
def test_gcj02_to_wgs84_is_within_half_a_metre_of_eviltransform(wlon, wlat, glon, glat):
    lon, lat = to_wgs84([glon], [glat], "GCJ02")
    assert metres(lon[0], lat[0], wlon, wlat) < 0.5  # eviltransform's own bound for gcj2wgs_exact


def test_coordtransform_published_pairs():
    assert np.allclose(wgs84_to_gcj02(*CT_INPUT), CT_WGS84_TO_GCJ02, atol=1e-9)
    assert np.allclose(gcj02_to_bd09(*CT_INPUT), CT_GCJ02_TO_BD09, atol=1e-9)
    assert np.allclose(bd09_to_gcj02(*CT_INPUT), CT_BD09_TO_GCJ02, atol=1e-9)
    lon, lat = gcj02_to_wgs84(*CT_INPUT)
    assert metres(float(lon), float(lat), *CT_GCJ02_TO_WGS84) < 1.0


def test_bd09_of_tiananmen_goes_back_through_gcj02():
    lon, lat = to_wgs84([CT_GCJ02_TO_BD09[0]], [CT_GCJ02_TO_BD09[1]], "BD09")
    # BD-09 → GCJ-02 is Baidu's approximate inverse (cm), GCJ-02 → WGS84 is exact
    expected = gcj02_to_wgs84(*CT_INPUT)
    assert metres(lon[0], lat[0], float(expected[0]), float(expected[1])) < 0.1


def test_round_trips_over_guangxi_are_under_half_a_metre():
    lon, lat = np.meshgrid(np.arange(104.4, 112.1, 0.2), np.arange(21.0, 26.5, 0.2))
    lon, lat = lon.ravel(), lat.ravel()
    back_lon, back_lat = to_wgs84(*wgs84_to_gcj02(lon, lat), "GCJ02")
    worst = max(metres(*p) for p in zip(lon, lat, back_lon, back_lat))
    assert worst < 0.5
    back_lon, back_lat = to_wgs84(*wgs84_to_bd09(lon, lat), "BD09")
    assert max(metres(*p) for p in zip(lon, lat, back_lon, back_lat)) < 0.5
    # and the shift itself is the expected few hundred metres
    glon, glat = wgs84_to_gcj02(lon, lat)
    shifts = [metres(*p) for p in zip(lon, lat, glon, glat)]
    assert min(shifts) > 100 and max(shifts) < 1000


def test_gcj02_is_identity_outside_china():
    paris = (np.array([2.3522]), np.array([48.8566]))
    assert np.array_equal(np.column_stack(wgs84_to_gcj02(*paris)), np.column_stack(paris))
    assert np.array_equal(np.column_stack(to_wgs84(*paris, "GCJ02")), np.column_stack(paris))


def test_wgs84_and_cgcs2000_are_identity_and_arrays_come_back():
    xs, ys = [108.3, 109.4], [22.8, 24.3]
    for name in ("WGS84", "CGCS2000"):
        lon, lat = to_wgs84(xs, ys, name)
        assert isinstance(lon, np.ndarray) and lon.dtype == np.float64
        assert lon.tolist() == xs and lat.tolist() == ys


# -- projected (pyproj) -----------------------------------------------------------------------------


def test_the_meridian_arc_integral_matches_the_published_quadrant():
    assert meridian_arc_m(90.0, WGS84_ELLIPSOID) == pytest.approx(WGS84_QUADRANT_M, abs=0.01)


def test_utm_49n_on_its_central_meridian():
    # UTM 49N: central meridian 111°E, scale 0.9996, false easting 500 km
    northing = 0.9996 * meridian_arc_m(22.5, WGS84_ELLIPSOID)
    lon, lat = to_wgs84([500_000.0], [northing], "EPSG:32649")
    assert lon[0] == pytest.approx(111.0, abs=1e-9)
    assert lat[0] == pytest.approx(22.5, abs=1e-8)
    # 10 km either side of the central meridian lie symmetrically
    lon, lat = to_wgs84([490_000.0, 510_000.0], [northing, northing], "EPSG:32649")
    assert lon[0] + lon[1] == pytest.approx(222.0, abs=1e-9)
    assert lat[0] == pytest.approx(lat[1], abs=1e-12)


@pytest.mark.parametrize(("crs", "false_easting"), [("EPSG:4545", 500_000.0), ("EPSG:4524", 36_500_000.0)])
def test_cgcs2000_3_degree_gauss_kruger_cm_108e(crs, false_easting):
    # CM 108°E, scale 1; EPSG:4524 is the same zone (36) with the zone number in front of the easting
    northing = meridian_arc_m(22.8, CGCS2000_ELLIPSOID)
    lon, lat = to_wgs84([false_easting], [northing], crs)
    assert lon[0] == pytest.approx(108.0, abs=1e-9)
    assert lat[0] == pytest.approx(22.8, abs=1e-8)


def test_utm_54n_tokyo_matches_a_published_point():
    lon, lat = to_wgs84([TOKYO_UTM54[0]], [TOKYO_UTM54[1]], "EPSG:32654")
    assert metres(lon[0], lat[0], *TOKYO_LON_LAT) < 0.2


def test_transform_geometry_converts_every_vertex():
    square = box(500_000, 2_500_000, 500_100, 2_500_100)
    converted = transform_geometry(square, "EPSG:32649")
    assert converted.geom_type == "Polygon"
    minx, miny, maxx, maxy = converted.bounds
    assert 110.99 < minx < 111.0 < maxx < 111.01 and 22.5 < miny < maxy < 22.7
    gcj = Point(*map(float, wgs84_to_gcj02(108.36, 22.81)))
    assert metres(*transform_geometry(gcj, "GCJ02").coords[0], 108.36, 22.81) < 0.01


def test_missing_pyproj_names_the_extra(monkeypatch):
    import builtins

    from parkbrain.model import crs as crs_module

    real_import = builtins.__import__

    def no_pyproj(name, *args, **kwargs):
        if name == "pyproj":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    crs_module._transformer.cache_clear()
    monkeypatch.setattr(builtins, "__import__", no_pyproj)
    try:
        with pytest.raises(CRSError, match=r"pip install 'parkbrain\[geo\]'"):
            to_wgs84([500_000.0], [2_500_000.0], "EPSG:32649")
    finally:
        crs_module._transformer.cache_clear()
