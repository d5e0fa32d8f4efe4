"""Column headers recognised out of the box, declared as data.

A header is matched after normalising it: lower case, spaces, underscores and full-width
punctuation removed, and a unit in brackets split off — ``产值（万元）`` is the column ``产值`` in
万元, ``建筑面积(m²)`` the column ``建筑面积`` in m². Anything else is mapped with a mapping file
(see ``parkbrain.sources.mapping``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class ColumnAliases:
    table: str
    column: str
    aliases: tuple[str, ...]
    unit: str | None = None  # the unit the model stores this column in (values are converted to it)


def _a(table: str, column: str, *aliases: str, unit: str | None = None) -> ColumnAliases:
    return ColumnAliases(table, column, (column, *aliases), unit)


_PARK = ("park_id", "园区编号", "园区id", "园区代码", "所属园区编号")
_LON = ("经度", "longitude", "lng", "lon", "x坐标")
_LAT = ("纬度", "latitude", "lat", "y坐标")

ALIASES: tuple[ColumnAliases, ...] = (
    # enterprises
    _a("enterprises", "enterprise_id", "企业编号", "企业id", "企业代码"),
    _a("enterprises", "park_id", *_PARK),
    _a("enterprises", "name", "企业名称", "单位名称", "公司名称", "企业", "enterprise_name", "company"),
    _a("enterprises", "uscc", "统一社会信用代码", "社会信用代码", "信用代码", "credit_code"),
    _a("enterprises", "industry_code", "行业代码", "国民经济行业代码", "行业分类代码"),
    _a("enterprises", "industry_name", "行业名称", "所属行业", "行业", "行业类别"),
    _a("enterprises", "employees", "从业人员", "从业人数", "员工人数", "职工人数", "员工数"),
    _a(
        "enterprises",
        "output_value_10k_cny",
        "产值",
        "工业总产值",
        "年产值",
        "工业产值",
        "output_value",
        unit="万元",
    ),
    _a("enterprises", "key_energy_user", "重点用能单位", "是否重点用能单位"),
    _a("enterprises", "building_id", "楼栋编号", "建筑编号", "所在建筑"),
    _a("enterprises", "lon", *_LON),
    _a("enterprises", "lat", *_LAT),
    # buildings
    _a("buildings", "building_id", "建筑编号", "楼栋编号", "建筑id"),
    _a("buildings", "park_id", *_PARK),
    _a("buildings", "name", "建筑名称", "楼栋名称", "楼宇名称"),
    _a("buildings", "floors", "层数", "楼层数", "地上层数"),
    _a("buildings", "area_m2", "建筑面积", "面积", "area", unit="m**2"),
    _a("buildings", "use", "用途", "建筑用途", "使用性质"),
    _a("buildings", "ifc_guid", "ifc_globalid", "globalid"),
    _a("buildings", "lon", *_LON),
    _a("buildings", "lat", *_LAT),
    # devices
    _a("devices", "device_id", "设备编号", "设备id", "设备代码"),
    _a("devices", "park_id", *_PARK),
    _a("devices", "enterprise_id", "企业编号", "所属企业编号"),
    _a("devices", "building_id", "建筑编号", "楼栋编号", "安装位置编号"),
    _a("devices", "kind", "设备类型", "设备类别", "brick类"),
    _a("devices", "name", "设备名称"),
    _a("devices", "vendor", "厂商", "生产厂家", "制造商", "品牌"),
    _a("devices", "model", "型号", "规格型号"),
    # points
    _a("points", "point_id", "测点编号", "点位编号", "测点id", "tag"),
    _a("points", "device_id", "设备编号", "设备id"),
    _a("points", "quantity", "物理量", "测量量", "参数"),
    _a("points", "unit", "单位", "计量单位"),
    _a("points", "value_kind", "值类型", "数据类型"),
    _a("points", "interval_s", "采样间隔", "采集周期", "采样周期"),
    _a("points", "energy_carrier", "能源品种", "能源类型", "介质"),
    _a("points", "name", "测点名称", "点位名称"),
    _a("points", "brick_class", "brick点类"),
    # readings (long form; the wide form is a time column plus one column per point)
    _a("readings", "point_id", "测点编号", "点位编号", "测点", "点位", "tag", "sensor"),
    _a(
        "readings",
        "ts",
        "时间",
        "时间戳",
        "采集时间",
        "数据时间",
        "日期时间",
        "datetime",
        "timestamp",
        "time",
        "date",
    ),
    _a("readings", "value", "数值", "值", "读数", "测量值", "reading"),
    _a("readings", "unit", "单位", "计量单位"),
)

#: The columns whose presence says which table a file is (besides the key).
IDENTIFYING: dict[str, tuple[str, ...]] = {
    "enterprises": ("uscc", "industry_code", "industry_name", "employees", "output_value_10k_cny"),
    "buildings": ("floors", "area_m2", "use"),
    "devices": ("kind", "vendor", "model"),
    "points": ("quantity", "value_kind", "interval_s", "energy_carrier"),
    "readings": ("ts",),
}
#: Columns a row of each table must have (after defaults and --park are applied).
REQUIRED: dict[str, tuple[str, ...]] = {
    "enterprises": ("park_id", "name"),
    "buildings": ("park_id",),
    "devices": ("park_id", "kind"),
    "points": ("device_id", "quantity", "unit", "value_kind"),
    "readings": ("point_id", "ts", "value"),
}
TABULAR_TABLES = tuple(REQUIRED)

_UNIT_IN_BRACKETS = re.compile(r"^(.*?)[(（\[【]([^)）\]】]+)[)）\]】]\s*$")
_DROP = re.compile(r"[\s_\-·:：]+")


@dataclass(frozen=True)
class Header:
    """A file's column header, normalised, with the unit it carried in brackets."""

    raw: str
    key: str
    unit: str | None


def parse_header(raw: str) -> Header:
    text = unicodedata.normalize("NFKC", raw).strip()
    unit = None
    match = _UNIT_IN_BRACKETS.match(text)
    if match and match.group(1).strip():
        text, unit = match.group(1), match.group(2).strip()
    return Header(raw, _DROP.sub("", text).lower(), unit)


def normal_key(text: str) -> str:
    return _DROP.sub("", unicodedata.normalize("NFKC", text)).lower()


def recognise(headers: list[Header], table: str) -> dict[str, Header]:
    """canonical column → the file header that holds it, for one table (first match wins)."""
    found: dict[str, Header] = {}
    for spec in ALIASES:
        if spec.table != table or spec.column in found:
            continue
        keys = {normal_key(a) for a in spec.aliases}
        for header in headers:
            if header.key in keys and header not in found.values():
                found[spec.column] = header
                break
    return found


def column_unit(table: str, column: str) -> str | None:
    for spec in ALIASES:
        if spec.table == table and spec.column == column:
            return spec.unit
    return None
