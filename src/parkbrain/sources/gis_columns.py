"""Which table GIS features are for, which property holds which column, and property values.

The target table is ``--as`` (or ``table`` in the mapping), else detected from the properties:
building properties (building_id, 建筑名称, 楼栋, floors, 层数 …) → ``buildings``; park properties
(park_id, 园区名称, 园区 …) → ``parks``; a six-digit region code (区划码, adcode, region_code, code)
→ ``regions``. ``zones`` only when asked for. A mapping's ``[columns]`` renames properties to
canonical columns (it wins over the aliases below), ``[units]`` gives the unit of an area property,
``[defaults]`` fills columns the file lacks (``--park`` is the default park_id).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from parkbrain.errors import BadFile
from parkbrain.model.tables import table_spec
from parkbrain.sources.base import ImportOptions
from parkbrain.sources.gis_geometry import Feature
from parkbrain.sources.headers import parse_header
from parkbrain.sources.mapping import mapping_defaults
from parkbrain.sources.textfile import parse_encoding

GIS_TABLES = ("regions", "parks", "zones", "buildings")
_PARK = ("park_id", "园区编号", "园区id", "园区代码", "所属园区编号")
_REGION_CODE = ("region_code", "区划码", "区划代码", "行政区划代码", "行政区代码", "adcode", "code")
#: canonical column → property names that hold it, in order of preference (matched like CSV headers).
PROPERTY_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "regions": {
        "region_code": _REGION_CODE,
        "name": ("地名", "name_zh", "name_cn", "中文名", "名称", "行政区名称", "区划名称", "name"),
        "name_en": ("name_en", "英文名", "英文名称", "ename", "name"),
        "level": ("level", "级别", "行政级别", "层级"),
        "parent_code": ("parent_code", "上级区划码", "上级区划代码", "parent_adcode", "parent"),
    },
    "parks": {
        "park_id": _PARK,
        "name": ("园区名称", "园区", "name_zh", "name_cn", "中文名", "名称", "park_name", "name"),
        "name_en": ("name_en", "英文名", "英文名称", "name"),
        "short_names": ("short_names", "简称", "别名"),
        "region_code": (*_REGION_CODE, "所属地市代码"),
        "level": ("level", "级别", "园区级别"),
        "kind": ("kind", "类型", "园区类型", "开发区类型", "类别"),
        "approved_area_ha": ("approved_area_ha", "批复面积", "核准面积"),
        "approval_year": ("approval_year", "批复年份", "批准年份", "设立年份"),
        "leading_industries": ("leading_industries", "主导产业"),
    },
    "buildings": {
        "building_id": ("building_id", "建筑编号", "楼栋编号", "建筑id"),
        "park_id": _PARK,
        "name": ("建筑名称", "楼栋名称", "楼宇名称", "楼栋", "名称", "name"),
        "floors": ("floors", "层数", "楼层数", "地上层数"),
        "area_m2": ("area_m2", "建筑面积", "面积", "area"),
        "use": ("use", "用途", "建筑用途", "使用性质"),
        "ifc_guid": ("ifc_guid", "ifc_globalid", "globalid"),
    },
    "zones": {
        "zone_id": ("zone_id", "分区编号", "地块编号", "分区id"),
        "park_id": _PARK,
        "name": ("分区名称", "地块名称", "名称", "zone_name", "name"),
        "kind": ("kind", "类型", "分区类型", "用地类型", "用地性质", "功能"),
    },
}
#: Properties that say a file is for a table, checked in this order (regions: a 6-digit code).
DETECT: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "buildings",
        ("building_id", "建筑编号", "楼栋编号", "建筑名称", "楼栋名称", "楼栋", "floors", "层数", "楼层数"),
    ),
    ("parks", ("park_id", "园区编号", "园区id", "园区代码", "园区名称", "园区")),
)
#: Columns that come from the geometry, never from a property.
GEOMETRY_COLUMNS = ("geometry", "boundary", "footprint", "lon", "lat", "area_km2", "source_crs")
#: The unit a numeric column is stored in (a property's unit, in brackets or [units], is converted).
COLUMN_UNITS = {"approved_area_ha": "ha", "area_m2": "m**2"}
SIX_DIGITS = re.compile(r"^\d{6}$")
_LIST_SPLIT = re.compile(r"[,，、;；/]")


def encoding_option(options: ImportOptions) -> str | None:
    """The text encoding the caller asked for (--encoding, else the mapping's)."""
    return options.encoding or dict(options.mapping or {}).get("encoding")


def encoding_codec(encoding: str | None, display: str) -> str | None:
    """The Python codec of an encoding the caller named; ``BadFile`` if it is not supported."""
    try:
        return parse_encoding(encoding) if encoding else None
    except ValueError as exc:
        raise BadFile(display, str(exc), field="encoding") from None


@dataclass(frozen=True)
class GisSettings:
    """Options and mapping merged: what the conversion obeys."""

    display: str
    table: str | None
    columns: dict[str, str]  # property → canonical column
    units: dict[str, str]  # property → unit
    defaults: dict[str, Any]
    crs: str | None

    @classmethod
    def build(cls, display: str, options: ImportOptions) -> GisSettings:
        mapping = dict(options.mapping or {})
        defaults = mapping_defaults(mapping, options.park_id)
        return cls(
            display,
            options.table or mapping.get("table"),
            dict(mapping.get("columns", {})),
            dict(mapping.get("units", {})),
            defaults,
            options.crs or mapping.get("crs"),
        )


# -- which table and which property is which column -------------------------------------------------


def choose_table(features: Sequence[Feature], keys: list[str], settings: GisSettings) -> str:
    if settings.table:
        if settings.table not in GIS_TABLES:
            raise BadFile(
                settings.display,
                f"a GIS file cannot be imported as {settings.table!r}",
                field="--as",
                expected=f"one of {', '.join(GIS_TABLES)}",
            )
        return settings.table
    present = {_key(k) for k in keys} | {_key(c) for c in settings.columns.values()}
    for table, names in DETECT:
        if present & {_key(n) for n in names}:
            return table
    if _has_region_codes(features, keys, settings):
        return "regions"
    raise BadFile(
        settings.display,
        "cannot tell which table the features are for",
        expected=(
            f"--as one of {', '.join(GIS_TABLES)}, or properties such as 区划码 (regions), 园区名称 (parks), "
            "建筑名称 (buildings)"
        ),
    )


def _has_region_codes(features: Sequence[Feature], keys: list[str], settings: GisSettings) -> bool:
    names = [k for k, c in settings.columns.items() if c == "region_code"]
    aliases = {_key(a) for a in _REGION_CODE}
    names += [k for k in keys if _key(k) in aliases]
    return any(SIX_DIGITS.match(_text(f.properties.get(n)) or "") for n in names for f in features)


def check_mapped_properties(keys: list[str], settings: GisSettings) -> None:
    """Every property the mapping's [columns] names must be in the file: a typo is an error, not a skip."""
    for prop in settings.columns:
        if prop not in keys:
            raise BadFile(
                settings.display,
                f"the mapping's [columns] names a property {prop!r} no feature has",
                field=prop,
                expected=f"one of the properties: {', '.join(keys)}",
            )


def resolve_columns(keys: list[str], table: str, settings: GisSettings) -> dict[str, str]:
    """canonical column → the property that holds it: the mapping's first, then the aliases."""
    spec = table_spec(table)
    found: dict[str, str] = {}
    for prop, column in settings.columns.items():
        if column not in spec.column_names or column in GEOMETRY_COLUMNS or column == "import_id":
            allowed = [c for c in PROPERTY_ALIASES[table] if c in spec.column_names]
            raise BadFile(
                settings.display,
                f"the mapping's [columns] maps {prop!r} to {column!r}, "
                f"which {table} does not take from a property",
                field=prop,
                expected=f"one of {', '.join(allowed)}",
            )
        found[column] = prop
    by_key: dict[str, str] = {}
    for k in keys:
        by_key.setdefault(_key(k), k)
    used = set(found.values())
    for column, aliases in PROPERTY_ALIASES[table].items():
        if column in found:
            continue
        prop = next(
            (by_key[_key(a)] for a in aliases if _key(a) in by_key and by_key[_key(a)] not in used), None
        )
        if prop is not None:
            found[column] = prop
            used.add(prop)
    return found


def _key(name: str) -> str:
    return parse_header(name).key


# -- values -----------------------------------------------------------------------------------------


def coerce(value: Any, type_: str) -> Any:
    """A property value as the column type; ``ValueError`` says what was expected."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if type_ == "int":
        return _int(value)
    if type_ == "double":
        return _float(value)
    if type_ == "json":
        return _json_list(value)
    if type_ == "bool":
        return _bool(value)
    return _text(value)


def plain(value: Any) -> Any:
    """Python values from NumPy scalars (pyogrio); NaN as None."""
    if hasattr(value, "item") and not isinstance(value, (list, dict)):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _text(value: Any) -> str | None:
    value = plain(value)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value).strip() or None


def _int(value: Any) -> int:
    number = _float(value, "a whole number")
    if not number.is_integer():
        raise ValueError("a whole number")
    return int(number)


def _float(value: Any, expected: str = "a number") -> float:
    if isinstance(value, bool):
        raise ValueError(expected)
    try:
        number = float(str(value).strip().replace(",", "")) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise ValueError(expected) from None
    if not math.isfinite(number):
        raise ValueError(expected)
    return number


def _json_list(value: Any) -> str:
    if isinstance(value, str) and value.strip().startswith("["):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise ValueError("a JSON array or a list separated by 、 or commas") from None
    if isinstance(value, str):
        value = [part.strip() for part in _LIST_SPLIT.split(value) if part.strip()]
    if not isinstance(value, list):
        raise ValueError("a JSON array or a list separated by 、 or commas")
    return json.dumps([str(v) for v in value], ensure_ascii=False)


def _bool(value: Any) -> bool:
    text = str(value).strip().lower()
    if text in ("1", "true", "t", "yes", "y", "是"):
        return True
    if text in ("0", "false", "f", "no", "n", "否"):
        return False
    raise ValueError("是/否, yes/no, true/false or 1/0")
