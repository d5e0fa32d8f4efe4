"""The data-quality rules, declared as data: dimensions, required fields, ranges, units, geography.

Every bound says where it comes from. Bounds marked *plausibility* are engineering judgement (a value
outside them is almost certainly a unit or typing error), not limits from a standard.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Dimension:
    """One of the five quality dimensions and its weight in the overall score."""

    name: str
    zh: str
    weight: float
    description: str


DIMENSIONS: tuple[Dimension, ...] = (
    Dimension("completeness", "完整性", 0.20, "required and important fields are filled"),
    Dimension("validity", "有效性", 0.30, "values in range, known units, valid codes, coordinates in place"),
    Dimension("duplicates", "唯一性", 0.15, "no two rows for one real thing"),
    Dimension("timeliness", "及时性", 0.20, "telemetry arrives without long gaps and is recent"),
    Dimension("consistency", "一致性", 0.15, "references resolve; cumulative registers never go backwards"),
)

#: Chinese names of the tables the report covers, in report order.
TABLES_ZH: dict[str, str] = {
    "regions": "行政区",
    "parks": "园区",
    "zones": "功能区",
    "buildings": "建筑",
    "enterprises": "企业",
    "devices": "设备",
    "points": "测点",
    "readings": "读数",
}


@dataclass(frozen=True)
class FieldRule:
    """A field that should be filled (not NULL, not blank) on the rows matching ``where``."""

    table: str
    column: str
    zh: str
    where: str | None = None


REQUIRED_FIELDS: tuple[FieldRule, ...] = (
    FieldRule("regions", "geometry", "边界"),
    FieldRule("parks", "boundary", "园区边界"),
    FieldRule("parks", "lon", "中心经度"),
    FieldRule("parks", "lat", "中心纬度"),
    FieldRule("parks", "level", "级别"),
    FieldRule("parks", "kind", "类型"),
    FieldRule("parks", "approved_area_ha", "核准面积"),
    FieldRule("zones", "geometry", "范围"),
    FieldRule("zones", "kind", "类型"),
    FieldRule("buildings", "name", "名称"),
    FieldRule("buildings", "footprint", "轮廓"),
    FieldRule("buildings", "area_m2", "建筑面积"),
    FieldRule("buildings", "floors", "层数"),
    FieldRule("buildings", "use", "用途"),
    FieldRule("enterprises", "uscc", "统一社会信用代码"),
    FieldRule("enterprises", "industry_code", "行业代码"),
    FieldRule("enterprises", "industry_name", "行业名称"),
    FieldRule("enterprises", "building_id", "所在建筑"),
    FieldRule("enterprises", "lon", "经度"),
    FieldRule("enterprises", "lat", "纬度"),
    FieldRule("enterprises", "employees", "从业人数"),
    FieldRule("enterprises", "output_value_10k_cny", "年产值"),
    FieldRule("devices", "name", "名称"),
    FieldRule("devices", "building_id", "所在建筑", "kind LIKE '%Meter'"),
    FieldRule("points", "name", "名称"),
    FieldRule("points", "interval_s", "采样间隔"),
    FieldRule("points", "brick_class", "Brick 类"),
    FieldRule("points", "energy_carrier", "能源品种", "value_kind = 'cumulative'"),
)


@dataclass(frozen=True)
class QuantityRule:
    """A point quantity: its canonical unit and, when known, the plausible range in that unit."""

    quantity: str
    unit: str
    low: float | None = None
    high: float | None = None
    source: str = ""


_NON_NEGATIVE = "a consumption register or total cannot be negative"
_HJ633 = "HJ 633-2026 Table 3, concentration at IAQI 500 (same cap in HJ 633-2012)"
_HJ633_SO2 = "HJ 633-2026 Table 3, SO2 24-h at IAQI 500 (1-h SO2 above 800 is rated on the 24-h table)"
_PM_1H = "HJ 633-2026 Table 3, 24-h table at IAQI 500 (1-h PM values are rated on the 24-h table)"
_PLAUSIBLE = "plausibility (assumption, not from a standard)"

QUANTITIES: tuple[QuantityRule, ...] = (
    QuantityRule("electric_energy", "kWh", 0.0, None, _NON_NEGATIVE),
    QuantityRule("reactive_energy", "kvarh", 0.0, None, _NON_NEGATIVE),
    QuantityRule("natural_gas_volume", "m3", 0.0, None, _NON_NEGATIVE),
    QuantityRule("water_volume", "m3", 0.0, None, _NON_NEGATIVE),
    QuantityRule("steam_mass", "t", 0.0, None, _NON_NEGATIVE),
    QuantityRule("heat_energy", "GJ", 0.0, None, _NON_NEGATIVE),
    QuantityRule("diesel_volume", "L", 0.0, None, _NON_NEGATIVE),
    QuantityRule("active_power", "kW"),
    QuantityRule("reactive_power", "kvar"),
    QuantityRule("power_factor", "dimensionless", 0.0, 1.0, "definition: 0–1 (0–100 % when the unit is %)"),
    QuantityRule("current", "A", 0.0, None, "an RMS current is non-negative"),
    QuantityRule("voltage", "V", 0.0, None, "an RMS voltage is non-negative"),
    QuantityRule("pm2_5", "ug/m3", 0.0, 500.0, _PM_1H),
    QuantityRule("pm10", "ug/m3", 0.0, 600.0, _PM_1H),
    QuantityRule("so2", "ug/m3", 0.0, 2620.0, _HJ633_SO2),
    QuantityRule("no2", "ug/m3", 0.0, 3840.0, _HJ633),
    QuantityRule("co", "mg/m3", 0.0, 150.0, _HJ633),
    QuantityRule("o3", "ug/m3", 0.0, 1200.0, _HJ633),
    QuantityRule("air_temperature", "degC", -50.0, 60.0, _PLAUSIBLE),
    QuantityRule("relative_humidity", "percent", 0.0, 100.0, "definition: 0–100 %"),
    QuantityRule("bearing_temperature", "degC", -40.0, 200.0, _PLAUSIBLE),
    QuantityRule("motor_temperature", "degC", -40.0, 200.0, _PLAUSIBLE),
    QuantityRule("fluid_temperature", "degC", -40.0, 400.0, _PLAUSIBLE),
    QuantityRule("vibration_rms", "mm/s", 0.0, None, "an RMS value is non-negative"),
    QuantityRule("vibration_rms_1", "g0", 0.0, None, "an RMS acceleration is non-negative"),
    QuantityRule("vibration_rms_2", "g0", 0.0, None, "an RMS acceleration is non-negative"),
    QuantityRule("flow_rate", "m3/h"),
    QuantityRule("pressure", "kPa"),
)


@dataclass(frozen=True)
class FieldRange:
    """Plausible range of a numeric column of a table."""

    table: str
    column: str
    low: float | None
    high: float | None
    source: str


FIELD_RANGES: tuple[FieldRange, ...] = (
    FieldRange("enterprises", "employees", 0, 1_000_000, _PLAUSIBLE),
    FieldRange("enterprises", "output_value_10k_cny", 0, None, "an output value cannot be negative"),
    FieldRange("buildings", "floors", 1, 200, _PLAUSIBLE + "; the tallest Chinese towers have about 130"),
    FieldRange("buildings", "area_m2", 1, 5_000_000, _PLAUSIBLE),
    FieldRange("parks", "approved_area_ha", 1, 1_000_000, _PLAUSIBLE),
    FieldRange("parks", "approval_year", 1979, 2100, _PLAUSIBLE + "; the first zones date from 1979–1984"),
)


@dataclass(frozen=True)
class CodeShape:
    """A regular expression a code column must match in full."""

    check: str
    table: str
    column: str
    pattern: str
    description: str
    source: str


CODE_SHAPES: tuple[CodeShape, ...] = (
    CodeShape(
        "industry_code_shape",
        "enterprises",
        "industry_code",
        "[A-T]|[A-T]?[0-9]{2,4}",
        "行业代码格式 industry_code shape: section letter A–T and/or 2–4 digits",
        "GB/T 4754-2017: 门类 A–T, 大类 2 digits, 中类 3, 小类 4",
    ),
)


@dataclass(frozen=True)
class Extent:
    """A lon/lat box every coordinate of the model should fall in."""

    min_lon: float
    max_lon: float
    min_lat: float
    max_lat: float
    source: str


CHINA_EXTENT = Extent(
    73.4,
    135.1,
    3.8,
    53.6,
    "China's extreme points as usually given: 漠河 53°33′N, 曾母暗沙 3°51′N, 帕米尔 73°33′E, 抚远 135°05′E",
)

#: Tables holding a lon/lat pair.
LONLAT_TABLES: tuple[str, ...] = ("parks", "buildings", "enterprises")


@dataclass(frozen=True)
class GeoRule:
    """Coordinates of ``tables`` must fall inside ``target`` (``park`` boundary, ``prefecture`` or ``province``)."""

    check: str
    target: str
    tables: tuple[str, ...]
    tolerance_m: float
    description: str
    source: str


_SIMPLIFIED = (
    "regions are simplified boundaries (src/parkbrain/data/README.md) and ports lie on reclaimed land "
    "beyond the drawn coast (demo enterprises of 钦州港 up to 1 km out): allow 2 km"
)

GEO_RULES: tuple[GeoRule, ...] = (
    GeoRule(
        "inside_park_boundary",
        "park",
        ("buildings", "enterprises"),
        100.0,
        "坐标在园区边界内 coordinates inside the park boundary (parks.boundary)",
        "a gate on the boundary line is fine: allow 100 m",
    ),
    GeoRule(
        "inside_prefecture",
        "prefecture",
        ("parks", "buildings", "enterprises"),
        2000.0,
        "坐标在园区所在地级市内 coordinates inside the park's prefecture (regions, parks.region_code)",
        _SIMPLIFIED,
    ),
    GeoRule(
        "inside_province",
        "province",
        ("parks", "buildings", "enterprises"),
        2000.0,
        "坐标在省界内 coordinates inside the province (regions level 'province')",
        _SIMPLIFIED,
    ),
)


@dataclass(frozen=True)
class DuplicateKey:
    """Rows of ``table`` that share ``column`` (compared as ``upper(trim(column))``) are duplicates."""

    check: str
    table: str
    column: str
    description: str


DUPLICATE_KEYS: tuple[DuplicateKey, ...] = (
    DuplicateKey("uscc_shared", "enterprises", "uscc", "企业共用统一社会信用代码 enterprises sharing a USCC"),
    DuplicateKey("ifc_guid_shared", "devices", "ifc_guid", "设备共用 IFC GlobalId devices sharing ifc_guid"),
    DuplicateKey(
        "ifc_guid_shared", "buildings", "ifc_guid", "建筑共用 IFC GlobalId buildings sharing ifc_guid"
    ),
)

#: Company-form suffixes written differently for the same form, replaced by the first (after NFKC).
NAME_VARIANTS: tuple[tuple[str, str], ...] = (
    ("有限责任公司", "有限公司"),
    ("股份有限公司", "股份公司"),
)


@dataclass(frozen=True)
class Reference:
    """``table.column`` must name an existing row of ``ref_table`` (by the same column name) when not NULL."""

    check: str
    table: str
    column: str
    ref_table: str
    description: str


REFERENCES: tuple[Reference, ...] = (
    Reference(
        "building_known",
        "devices",
        "building_id",
        "buildings",
        "设备所在建筑不存在 device's building unknown",
    ),
    Reference(
        "enterprise_known",
        "devices",
        "enterprise_id",
        "enterprises",
        "设备所属企业不存在 device's enterprise unknown",
    ),
    Reference(
        "building_known",
        "enterprises",
        "building_id",
        "buildings",
        "企业所在建筑不存在 enterprise's building unknown",
    ),
    Reference("device_known", "points", "device_id", "devices", "测点所属设备不存在 point's device unknown"),
    Reference("park_known", "buildings", "park_id", "parks", "建筑所属园区不存在 building's park unknown"),
    Reference(
        "park_known", "enterprises", "park_id", "parks", "企业所属园区不存在 enterprise's park unknown"
    ),
    Reference("park_known", "devices", "park_id", "parks", "设备所属园区不存在 device's park unknown"),
    Reference(
        "region_known", "parks", "region_code", "regions", "园区所在行政区不存在 park's region unknown"
    ),
)


@dataclass(frozen=True)
class Timeliness:
    """When telemetry counts as late: gaps and staleness relative to a point's interval."""

    gap_factor: float = 3.0
    stale_factor: float = 3.0
    stale_min_s: int = 86_400


TIMELINESS = Timeliness()


@dataclass(frozen=True)
class RegisterDrops:
    """How a backwards step of a cumulative register is classified.

    ``rollover``: the previous value is at least ``rollover_near`` of the next power of ten (99 999.x of
    100 000) and the new one at most ``rollover_small`` of it; ``reset``: the new value is at most
    ``reset_share`` of the previous one; ``decrease``: any other drop larger than ``tolerance`` (relative).
    """

    rollover_near: float = 0.99
    rollover_small: float = 0.01
    reset_share: float = 0.01
    tolerance: float = 1e-9


REGISTER_DROPS = RegisterDrops()
