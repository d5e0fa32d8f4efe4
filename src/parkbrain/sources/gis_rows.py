"""GIS features into canonical rows: ids, required columns, what comes from the geometry.

Which table and which property is which column is ``gis_columns``; geometry checks, conversion
to WGS84 and repair are ``gis_geometry``.

What each table takes from the geometry (already WGS84, checked and repaired):

- regions: ``geometry``, ``area_km2``; ``level`` from the property or the code (xx0000 province,
  xxxx00 prefecture, else county), ``parent_code`` derived from the code.
- parks: ``boundary`` (a polygon; a point gives only the centre), ``lon``/``lat`` at a point inside it.
- buildings: ``footprint``, ``lon``/``lat``; ``area_m2`` from the property, else the footprint area.
- zones: ``geometry``, ``area_m2``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import shapely
from shapely.geometry.base import BaseGeometry

from parkbrain.errors import BadFile
from parkbrain.model import units
from parkbrain.model.geo import area_km2, from_geojson
from parkbrain.model.tables import table_spec
from parkbrain.sources.base import Extract, ImportContext, ImportOptions
from parkbrain.sources.gis_columns import (
    COLUMN_UNITS,
    GEOMETRY_COLUMNS,
    SIX_DIGITS,
    GisSettings,
    check_mapped_properties,
    choose_table,
    coerce,
    plain,
    resolve_columns,
)
from parkbrain.sources.gis_geometry import (
    POINT_OR_POLYGON,
    POLYGONAL,
    Feature,
    resolve_crs,
    to_wgs84_geometries,
)
from parkbrain.sources.headers import parse_header

LEVELS = {
    "province": ("province", "省", "省级", "自治区", "直辖市"),
    "prefecture": ("prefecture", "city", "市", "地级", "地级市", "市级", "自治州", "地区", "盟"),
    "county": ("county", "district", "县", "区", "县级", "区县", "县级市", "旗"),
}
_ALLOWED = {
    "regions": POLYGONAL,
    "zones": POLYGONAL,
    "parks": POINT_OR_POLYGON,
    "buildings": POINT_OR_POLYGON,
}
MAX_REPAIR_NOTES = 20  # one note per repaired feature, up to this many
_PRECISION = {"regions": 5, "parks": 6, "zones": 6, "buildings": 7}  # decimals of stored coordinates
_ARROW = {
    "text": pa.string(),
    "json": pa.string(),
    "int": pa.int64(),
    "double": pa.float64(),
    "bool": pa.bool_(),
}


def features_to_extract(
    features: Sequence[Feature],
    declared_crs: str | None,
    options: ImportOptions,
    context: ImportContext,
    *,
    display: str,
    encoding: str | None = None,
    notes: Sequence[str] = (),
) -> Extract:
    """The canonical rows of a GIS file's features (see the module docstring)."""
    settings = GisSettings.build(display, options)
    if not features:
        raise BadFile(display, "the file holds no features", expected="at least one feature")
    keys = list(dict.fromkeys(k for f in features for k in f.properties))
    check_mapped_properties(keys, settings)
    table = choose_table(features, keys, settings)
    found = resolve_columns(keys, table, settings)
    crs, crs_notes = resolve_crs(declared_crs, settings.crs, display)
    geoms, repaired = to_wgs84_geometries(features, crs, display, _ALLOWED[table])
    builder = RowBuilder(settings, context, table, found)
    rows = [
        builder.row(f, shape) | {"source_crs": crs} for f, shape in zip(features, shapes_of(geoms, table))
    ]
    _check_unique(rows, features, table, found, display)
    extract = Extract(source_crs=crs, encoding=encoding, notes=[*notes, *crs_notes])
    extract.notes += _repair_notes(repaired, rows, table)
    extract.notes += builder.notes()
    extract.tables[table] = to_arrow(rows, table)
    return extract


# -- rows -------------------------------------------------------------------------------------------


class RowBuilder:
    """One canonical row per feature of one table."""

    def __init__(
        self, settings: GisSettings, context: ImportContext, table: str, found: dict[str, str]
    ) -> None:
        self.settings, self.context, self.table, self.found = settings, context, table, found
        self.spec = table_spec(table)
        self.footprint_areas = 0
        self._build: Callable[[Feature, dict[str, Any], Shape], None] = getattr(self, f"_{table}")
        self._boundaries: dict[str, BaseGeometry] | None = None

    def row(self, feature: Feature, shape: Shape) -> dict[str, Any]:
        values = self._values(feature)
        self._build(feature, values, shape)
        return values

    def notes(self) -> list[str]:
        if self.footprint_areas:
            return [
                f"{self.footprint_areas} building(s) have no floor area in the file: area_m2 is their footprint area"
            ]
        return []

    def _values(self, feature: Feature) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for column in self.spec.columns:
            if column.name in GEOMETRY_COLUMNS or column.name == "import_id":
                continue
            prop = self.found.get(column.name)
            value = self._typed(feature, prop, column.name, column.type) if prop else None
            if value is None:
                value = self.settings.defaults.get(column.name)
            values[column.name] = value
        return values

    def _typed(self, feature: Feature, prop: str, column: str, type_: str) -> Any:
        raw = plain(feature.properties.get(prop))
        try:
            value = coerce(raw, type_)
        except ValueError as exc:
            raise self.fail(feature, f"{raw!r} is not {exc}", prop, str(exc)) from None
        if value is not None and column in COLUMN_UNITS:
            value = self._in_unit(feature, prop, column, value)
        return value

    def _in_unit(self, feature: Feature, prop: str, column: str, value: float) -> float:
        unit = self.settings.units.get(prop) or parse_header(prop).unit
        if not unit:
            return value
        try:
            scale, offset = units.conversion(unit, COLUMN_UNITS[column])
        except units.UnitError as exc:
            raise self.fail(
                feature, str(exc), prop, f"a unit convertible to {COLUMN_UNITS[column]}"
            ) from None
        return value * scale + offset

    def fail(self, feature: Feature, problem: str, field: str, expected: str | None = None) -> BadFile:
        return BadFile(self.settings.display, problem, feature=feature.number, field=field, expected=expected)

    def _field(self, column: str) -> str:
        return self.found.get(column, column)

    def _require(self, feature: Feature, values: dict[str, Any], column: str, expected: str) -> Any:
        if values.get(column) is None:
            raise self.fail(feature, f"no {column}", self._field(column), expected)
        return values[column]

    def _code(self, feature: Feature, values: dict[str, Any], column: str) -> None:
        code = values.get(column)
        if code is not None and not SIX_DIGITS.match(code):
            raise self.fail(
                feature,
                f"{code!r} is not a region code",
                self._field(column),
                "a six-digit GB/T 2260 code such as 450100",
            )

    # -- per table ----------------------------------------------------------------------------------

    def _regions(self, feature: Feature, values: dict[str, Any], shape: Shape) -> None:
        code = self._require(
            feature, values, "region_code", "a six-digit region code (区划码) for every feature"
        )
        self._code(feature, values, "region_code")
        self._require(feature, values, "name", "a name (地名, 名称 or name) for every region")
        if values.get("name_en") == values["name"]:
            values["name_en"] = None
        values["level"] = self._level(feature, values.get("level"), code)
        self._code(feature, values, "parent_code")
        values["parent_code"] = values.get("parent_code") or parent_code(code, values["level"])
        values["geometry"] = shape.text
        values["area_km2"] = round(area_km2(shape.geom), 3)

    def _level(self, feature: Feature, given: str | None, code: str) -> str:
        if given is None:
            return level_of_code(code)
        for level, words in LEVELS.items():
            if given.strip().lower() in words:
                return level
        raise self.fail(
            feature, f"unknown level {given!r}", self._field("level"), "province, prefecture or county"
        )

    def _parks(self, feature: Feature, values: dict[str, Any], shape: Shape) -> None:
        name = self._require(feature, values, "name", "a name (园区名称) for every park")
        if values.get("name_en") == name:
            values["name_en"] = None
        self._require(
            feature,
            values,
            "region_code",
            "the code of the prefecture the park lies in (区划码), "
            "as a property or a [defaults] region_code in a mapping file",
        )
        self._code(feature, values, "region_code")
        values["park_id"] = values.get("park_id") or _slug("park", values["region_code"], name)
        values["boundary"], values["lon"], values["lat"] = shape.text, shape.lon, shape.lat

    def _buildings(self, feature: Feature, values: dict[str, Any], shape: Shape) -> None:
        values["park_id"] = self._park(feature, values, shape, required=True)
        values["footprint"], values["lon"], values["lat"] = shape.text, shape.lon, shape.lat
        if values.get("building_id") is None:
            basis = values.get("name") or f"{shape.lon:.7f},{shape.lat:.7f}"
            values["building_id"] = _slug("b", values["park_id"], basis)
        if values.get("area_m2") is None and shape.text is not None:
            values["area_m2"] = round(area_km2(shape.geom) * 1e6, 1)
            self.footprint_areas += 1

    def _zones(self, feature: Feature, values: dict[str, Any], shape: Shape) -> None:
        values["park_id"] = self._park(feature, values, shape, required=False)
        values["name"] = values.get("name") or values.get("zone_id")
        self._require(feature, values, "name", "a name (名称) or a zone_id for every zone")
        values["zone_id"] = values.get("zone_id") or _slug("z", values.get("park_id"), values["name"])
        values["geometry"] = shape.text
        values["area_m2"] = round(area_km2(shape.geom) * 1e6, 1)

    def _park(self, feature: Feature, values: dict[str, Any], shape: Shape, *, required: bool) -> str | None:
        parks = self.context.parks
        park_id = values.get("park_id")
        if park_id is None:
            park_id = self._park_at(shape.lon, shape.lat)
            if park_id is None and required:
                raise self.fail(
                    feature,
                    "no park_id",
                    self._field("park_id"),
                    "a park_id property, --park PARK_ID, [defaults] park_id, or a geometry inside one park's boundary",
                )
        elif park_id not in parks:
            raise self.fail(
                feature,
                f"unknown park {park_id!r}",
                self._field("park_id"),
                "a park_id of the province (import the parks first)",
            )
        return park_id

    def _park_at(self, lon: float, lat: float) -> str | None:
        """The park whose boundary holds the point, when exactly one does."""
        if self._boundaries is None:
            parks = self.context.parks.items()
            self._boundaries = {pid: from_geojson(p["boundary"]) for pid, p in parks if p.get("boundary")}
        inside = [
            pid for pid, boundary in self._boundaries.items() if shapely.contains_xy(boundary, lon, lat)
        ]
        return inside[0] if len(inside) == 1 else None


@dataclass(frozen=True)
class Shape:
    """A feature's WGS84 geometry with what rows store of it."""

    geom: BaseGeometry
    text: str | None  # GeoJSON of a polygon (None for a point)
    lon: float  # the point itself, or a point inside the polygon
    lat: float


def shapes_of(geoms: Sequence[BaseGeometry], table: str) -> list[Shape]:
    """GeoJSON text and a reference point of every geometry, computed for all at once."""
    array = np.array(geoms, dtype=object)
    texts = shapely.to_geojson(shapely.set_precision(array, 10.0 ** -_PRECISION[table]))
    points = shapely.point_on_surface(array)
    lons, lats = np.round(shapely.get_x(points), 7), np.round(shapely.get_y(points), 7)
    polygonal = shapely.get_type_id(array) != shapely.GeometryType.POINT
    return [
        Shape(g, str(t) if p else None, float(x), float(y))
        for g, t, p, x, y in zip(geoms, texts, polygonal, lons, lats)
    ]


def level_of_code(code: str) -> str:
    """province for xx0000, prefecture for xxxx00, county otherwise (GB/T 2260)."""
    if code.endswith("0000"):
        return "province"
    return "prefecture" if code.endswith("00") else "county"


def parent_code(code: str, level: str) -> str | None:
    """The code of the region one level up: xx0000 for a prefecture, xxxx00 for a county."""
    if level == "province":
        return None
    return code[:2] + "0000" if level == "prefecture" else code[:4] + "00"


def _slug(prefix: str, scope: str | None, basis: str) -> str:
    """A stable id from what identifies a row (the same as the tabular sources derive)."""
    return f"{prefix}-{hashlib.sha1(f'{scope}|{basis}'.encode()).hexdigest()[:10]}"


def _check_unique(
    rows: list[dict[str, Any]], features: Sequence[Feature], table: str, found: dict[str, str], display: str
) -> None:
    key = table_spec(table).key[0]
    seen: dict[str, int] = {}
    for row, feature in zip(rows, features):
        first = seen.setdefault(row[key], feature.number)
        if first != feature.number:
            raise BadFile(
                display,
                f"{key} {row[key]!r} again (feature {first} has it too)",
                feature=feature.number,
                field=found.get(key, key),
                expected=f"one feature per {key}",
            )


def _repair_notes(repaired: dict[int, str], rows: list[dict[str, Any]], table: str) -> list[str]:
    notes = [_repair_note(n, rows[n - 1], table, why) for n, why in list(repaired.items())[:MAX_REPAIR_NOTES]]
    if len(repaired) > MAX_REPAIR_NOTES:
        notes.append(f"… and {len(repaired) - MAX_REPAIR_NOTES} more invalid geometries were repaired")
    return notes


def _repair_note(number: int, row: dict[str, Any], table: str, why: str) -> str:
    label = row.get("name") or row.get(table_spec(table).key[0])
    return f"feature {number} ({label}): the geometry was invalid ({why}) and was repaired"


def to_arrow(rows: list[dict[str, Any]], table: str) -> pa.Table:
    """Rows as an Arrow table with the canonical types; columns no row has a value for are left out."""
    spec = table_spec(table)
    keep = [c for c in spec.columns if c.name in spec.key or any(r.get(c.name) is not None for r in rows)]
    return pa.table(
        {c.name: pa.array([r.get(c.name) for r in rows], _ARROW.get(c.type, pa.string())) for c in keep}
    )
