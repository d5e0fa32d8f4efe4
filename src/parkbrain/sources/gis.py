"""GIS file sources: GeoJSON, ESRI Shapefile (a .shp with its sidecars, or a .zip holding one) and
GeoPackage.

GeoJSON is read with the json module (no GDAL needed); a legacy ``crs`` member
(``{"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4490"}}``) is honoured, else
the coordinates are WGS84 as RFC 7946 says. Shapefiles and GeoPackages are read with pyogrio (the
optional extra ``geo``), geometries as WKB into shapely; their CRS comes from the .prj or the
GeoPackage's spatial reference. ``--crs`` gives the CRS of a file that does not say it.

Features are numbered from 1 in file order; errors name the file, the feature and the field.
Turning features into canonical rows is ``gis_rows``; geometry checks, conversion to WGS84 and
repair are ``gis_geometry``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shapely.geometry import shape

from parkbrain.errors import BadFile
from parkbrain.sources.base import Extract, ImportContext, ImportOptions, looks_binary
from parkbrain.sources.gis_columns import encoding_codec, encoding_option
from parkbrain.sources.gis_geometry import Feature
from parkbrain.sources.gis_ogr import GeoPackageSource, ShapefileSource
from parkbrain.sources.gis_rows import features_to_extract

GEOJSON_TYPES = (
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "Polygon",
    "MultiPolygon",
    "GeometryCollection",
)


# -- GeoJSON ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GeoJsonSource:
    name: str = "geojson"
    title: str = "GeoJSON (.geojson, .json): regions, park boundaries, zones and building footprints"
    suffixes: tuple[str, ...] = (".geojson", ".json")

    def sniff(self, path: Path, head: bytes) -> bool:
        if looks_binary(head) or not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
            return False
        return path.suffix.lower() == ".geojson" or b'"FeatureCollection"' in head or b'"Feature"' in head

    def read(self, path: Path, options: ImportOptions, context: ImportContext) -> Extract:
        display = options.name_for(path)
        features, declared, encoding = read_geojson(path, display, encoding_option(options))
        return features_to_extract(features, declared, options, context, display=display, encoding=encoding)


def read_geojson(
    path: Path, display: str, encoding: str | None = None
) -> tuple[list[Feature], str | None, str]:
    """The features of a GeoJSON file, the CRS its legacy ``crs`` member names, and its encoding."""
    text, used = _decode(path.read_bytes(), display, encoding)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadFile(
            display,
            f"broken JSON: {exc.msg} at column {exc.colno}",
            line=exc.lineno,
            expected="a complete GeoJSON document",
        ) from None
    items = _feature_items(doc, display)
    return (
        [_feature(i, item, display) for i, item in enumerate(items, start=1)],
        _legacy_crs(doc, display),
        used,
    )


def _decode(data: bytes, display: str, encoding: str | None) -> tuple[str, str]:
    if looks_binary(data[:65536]):
        raise BadFile(display, "this is a binary file, not GeoJSON text", expected="a GeoJSON text file")
    codec = encoding_codec(encoding, display)
    for name in [codec] if codec else ["utf-8-sig", "gb18030"]:
        try:
            return data.decode(name), {"gb18030": "GBK/GB18030"}.get(name, "UTF-8")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            failure = BadFile(
                display, f"the text is not {name}", line=line, expected="UTF-8 (or GBK) GeoJSON"
            )
    raise failure


def _feature_items(doc: Any, display: str) -> list[Any]:
    kind = doc.get("type") if isinstance(doc, dict) else None
    if kind == "FeatureCollection":
        features = doc.get("features")
        if not isinstance(features, list):
            raise BadFile(
                display,
                "the FeatureCollection has no list of features",
                field="features",
                expected='"features": [ … ]',
            )
        return features
    if kind == "Feature":
        return [doc]
    if kind in GEOJSON_TYPES:
        return [{"type": "Feature", "properties": {}, "geometry": doc}]
    if kind == "Topology":
        raise BadFile(
            display,
            "this is TopoJSON, not GeoJSON",
            field="type",
            expected="GeoJSON (convert TopoJSON first, e.g. mapshaper in.json -o format=geojson)",
        )
    raise BadFile(
        display,
        f"the document's type is {kind!r}",
        field="type",
        expected="a GeoJSON FeatureCollection or Feature",
    )


def _feature(number: int, item: Any, display: str) -> Feature:
    if not isinstance(item, dict) or item.get("type") != "Feature":
        raise BadFile(
            display,
            "not a GeoJSON Feature",
            feature=number,
            field="type",
            expected='{"type": "Feature", "geometry": …, "properties": {…}}',
        )
    properties = item.get("properties") or {}
    if not isinstance(properties, dict):
        raise BadFile(
            display,
            "the properties are not an object",
            feature=number,
            field="properties",
            expected='"properties": {"name": …}',
        )
    geometry = item.get("geometry")
    return Feature(number, properties, None if geometry is None else _geometry(geometry, number, display))


def _geometry(geometry: Any, number: int, display: str) -> Any:
    expected = 'a GeoJSON geometry such as {"type": "Polygon", "coordinates": [[[lon, lat], …]]}'
    if not isinstance(geometry, dict) or geometry.get("type") not in GEOJSON_TYPES:
        kind = geometry.get("type") if isinstance(geometry, dict) else type(geometry).__name__
        raise BadFile(
            display, f"unknown geometry type {kind!r}", feature=number, field="geometry", expected=expected
        )
    try:
        return shape(geometry)
    except Exception as exc:  # shapely raises ValueError, TypeError, GEOSException … on bad coordinates
        raise BadFile(
            display, f"cannot read the geometry ({exc})", feature=number, field="geometry", expected=expected
        ) from None


def _legacy_crs(doc: dict[str, Any], display: str) -> str | None:
    """The CRS named by a (pre-RFC 7946) ``crs`` member, if the document has one."""
    member = doc.get("crs")
    if member is None:
        return None
    props = member.get("properties") if isinstance(member, dict) else None
    if isinstance(props, dict) and member.get("type") == "name" and isinstance(props.get("name"), str):
        return props["name"]
    if isinstance(props, dict) and member.get("type") == "EPSG" and props.get("code") is not None:
        return f"EPSG:{props['code']}"
    raise BadFile(
        display,
        "the crs member is not a named CRS",
        field="crs",
        expected='{"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4490"}}',
    )


GEOJSON_SOURCE = GeoJsonSource()
SHAPEFILE_SOURCE = ShapefileSource()
GPKG_SOURCE = GeoPackageSource()
