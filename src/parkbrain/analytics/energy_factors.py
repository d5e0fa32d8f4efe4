"""Reference data for energy and carbon accounting, declared as data with their sources.

Nothing here computes: the tables are small frozen dataclasses that ``energy.py`` and the reports read,
and that ``parkbrain energy factors`` / ``GET /api/energy/factors`` list. Every number names its
document, table or annex and year, and how sure we are of it (``verified`` / ``secondary`` /
``memory``; see ``../shared/reference/standards.md`` §1.1–1.2).

- **综合能耗 (GB/T 2589-2020)**: ``STANDARD_COAL`` — kgce per unit of each carrier, 当量值 (equivalent
  value). Electricity has a second mode, 等价值 (equal value), which is not a constant: the national
  standard coal consumption of power supply of the year (``ELECTRICITY_EQUAL_VALUE``).
- **Scope 1 (GB/T 32150-2015, 工业其他行业 guideline defaults)**: ``FUELS`` — NCV, carbon content, oxidation
  rate; ``E = FC × NCV × CC × OF × 44/12``.
- **Scope 2**: ``GRID_FACTORS`` keyed by (口径 caliber, scope national/region/province, area, year,
  source); ``PURCHASED_HEAT``.
- **Zero-carbon parks**: ``ZERO_CARBON_THRESHOLDS`` for 单位能耗碳排放 (tCO2/tce).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from parkbrain.errors import InvalidInput, NotFound

#: Molar mass ratio of CO2 to C (GB/T 32150-2015 formula).
CO2_PER_C = 44.0 / 12.0


@dataclass(frozen=True)
class Source:
    """Where a number comes from: document, the table or annex in it, and how sure we are."""

    document: str
    section: str = ""
    certainty: str = "verified"  # verified | secondary | memory
    note: str = ""

    def cite(self) -> str:
        parts = [self.document, self.section, f"({self.certainty})" if self.certainty != "verified" else ""]
        return " ".join(p for p in parts if p)


GB2589_A = Source("GB/T 2589-2020《综合能耗计算通则》", "附录A 表A.1（数值同2008版附录A）")
GB2589_B_WATER = Source(
    "GB/T 2589-2008《综合能耗计算通则》",
    "附录B 表B.1 新水 7.54 MJ/t",
    "secondary",
    "2020版附录B有修改而未见原文；若干引用2020版的实现用 0.0857 kgce/t。此处取2008版原文数值 0.2571，"
    "知道差异 / the 2020 value is unverified, we keep the 2008 primary text's 0.2571 kgce/t",
)
GUIDELINE = Source(
    "《工业其他行业企业温室气体排放核算方法与报告指南（试行）》",
    "附录二 表2.1 常用化石燃料相关参数缺省值",
    "secondary",
    "method of GB/T 32150-2015: E = FC × NCV × CC × OF × 44/12",
)


# -- GB/T 2589-2020: conversion to standard coal ----------------------------------------------------


@dataclass(frozen=True)
class StandardCoal:
    """kgce per ``unit`` of a carrier (当量值 unless ``medium``: working media count at their 等价值)."""

    carrier: str
    name_zh: str
    unit: str  # the unit consumption is expressed in before conversion (pint text)
    kgce_per_unit: float
    source: Source
    medium: bool = False  # 耗能工质 (energy-carrying working medium, Annex B)
    ncv: str = ""


STANDARD_COAL: tuple[StandardCoal, ...] = (
    StandardCoal("electricity", "电力", "kWh", 0.1229, GB2589_A, ncv="3,600 kJ/kWh (860 kcal)"),
    StandardCoal(
        "natural_gas",
        "天然气（气田）",
        "m3",
        1.2143,
        Source(GB2589_A.document, GB2589_A.section, note="气田天然气; 油田天然气 1.3300 kgce/m³"),
        ncv="35,544 kJ/m³ (8,500 kcal)",
    ),
    StandardCoal("steam", "蒸汽（低压）", "kg", 0.1286, GB2589_A, ncv="3,763 MJ/t (900 Mcal/t)"),
    StandardCoal("heat", "热力", "MJ", 0.03412, GB2589_A),
    StandardCoal("raw_coal", "原煤", "kg", 0.7143, GB2589_A, ncv="20,908 kJ/kg (5,000 kcal)"),
    StandardCoal("coke", "焦炭", "kg", 0.9714, GB2589_A, ncv="28,435 kJ/kg (6,800 kcal)"),
    StandardCoal("crude_oil", "原油", "kg", 1.4286, GB2589_A, ncv="41,816 kJ/kg (10,000 kcal)"),
    StandardCoal("fuel_oil", "燃料油", "kg", 1.4286, GB2589_A, ncv="41,816 kJ/kg (10,000 kcal)"),
    StandardCoal("gasoline", "汽油", "kg", 1.4714, GB2589_A, ncv="43,070 kJ/kg (10,300 kcal)"),
    StandardCoal("kerosene", "煤油", "kg", 1.4714, GB2589_A, ncv="43,070 kJ/kg (10,300 kcal)"),
    StandardCoal("diesel", "柴油", "kg", 1.4571, GB2589_A, ncv="42,652 kJ/kg (10,200 kcal)"),
    StandardCoal("lpg", "液化石油气", "kg", 1.7143, GB2589_A, ncv="50,179 kJ/kg (12,000 kcal)"),
    StandardCoal("coke_oven_gas", "焦炉煤气", "m3", 0.5714, GB2589_A, ncv="16,726 kJ/m³ (lower bound)"),
    StandardCoal("blast_furnace_gas", "高炉煤气", "m3", 0.1286, GB2589_A, ncv="3,763 kJ/m³"),
    StandardCoal("water", "新水", "m3", 0.2571, GB2589_B_WATER, medium=True),
    StandardCoal(
        "softened_water",
        "软化水",
        "m3",
        0.4857,
        Source(GB2589_B_WATER.document, "附录B 表B.1", "secondary"),
        medium=True,
    ),
    StandardCoal(
        "compressed_air",
        "压缩空气",
        "m3",
        0.0400,
        Source(GB2589_B_WATER.document, "附录B 表B.1", "secondary"),
        medium=True,
    ),
    StandardCoal(
        "oxygen",
        "氧气",
        "m3",
        0.4000,
        Source(GB2589_B_WATER.document, "附录B 表B.1", "secondary"),
        medium=True,
    ),
)


@dataclass(frozen=True)
class ElectricityEqualValue:
    """等价值 of electricity for a year: the national average standard coal consumption of power supply."""

    year: int
    kgce_per_kwh: float
    source: Source


_CEC = "中国电力企业联合会《电力工业统计资料汇编》/ 国家能源局：全国6000千瓦及以上火电厂供电标准煤耗"
ELECTRICITY_EQUAL_VALUE: tuple[ElectricityEqualValue, ...] = (
    ElectricityEqualValue(2018, 0.3080, Source(_CEC, "2018: 308 gce/kWh", "memory")),
    ElectricityEqualValue(2019, 0.3064, Source(_CEC, "2019: 306.4 gce/kWh", "memory")),
    ElectricityEqualValue(2020, 0.3055, Source(_CEC, "2020: 305.5 gce/kWh", "memory")),
    ElectricityEqualValue(2021, 0.3025, Source(_CEC, "2021: 302.5 gce/kWh", "memory")),
    ElectricityEqualValue(2022, 0.3007, Source(_CEC, "2022: 300.7 gce/kWh", "memory")),
)

#: The two ways electricity is converted (GB/T 2589-2020 §3): 当量值 by default.
MODES = {"equivalent": "当量值 (equivalent value)", "equal": "等价值 (equal value, per year)"}


# -- carbon: Scope 1 fuels ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fuel:
    """Default parameters of a fuel: NCV in GJ per ``ncv_unit`` of fuel, carbon content tC/GJ, oxidation %."""

    carrier: str
    name_zh: str
    ncv_gj: float
    ncv_unit: str  # "t" or "1e4 * m3"
    carbon_tc_per_gj: float
    oxidation_pct: float
    source: Source = GUIDELINE

    @property
    def tco2_per_unit(self) -> float:
        """tCO2 per ``ncv_unit`` of fuel burnt."""
        return self.ncv_gj * self.carbon_tc_per_gj * self.oxidation_pct / 100.0 * CO2_PER_C


_WAN_M3 = "1e4 * m3"
FUELS: tuple[Fuel, ...] = (
    Fuel("anthracite", "无烟煤", 24.515, "t", 0.02749, 94),
    Fuel("raw_coal", "烟煤（原煤缺省）", 23.204, "t", 0.02618, 93),
    Fuel("lignite", "褐煤", 14.449, "t", 0.02800, 96),
    Fuel("washed_coal", "洗精煤", 26.344, "t", 0.02540, 93),
    Fuel("coke", "焦炭", 28.446, "t", 0.02940, 93),
    Fuel("crude_oil", "原油", 42.62, "t", 0.02010, 98),
    Fuel("fuel_oil", "燃料油", 40.19, "t", 0.02110, 98),
    Fuel("gasoline", "汽油", 44.80, "t", 0.01890, 98),
    Fuel("diesel", "柴油", 43.33, "t", 0.02020, 98),
    Fuel("lpg", "液化石油气", 47.31, "t", 0.01720, 99),
    Fuel("lng", "液化天然气", 41.868, "t", 0.01530, 99),
    Fuel("natural_gas", "天然气", 389.31, _WAN_M3, 0.01530, 99),
    Fuel("coke_oven_gas", "焦炉煤气", 173.854, _WAN_M3, 0.01360, 99),
    Fuel("blast_furnace_gas", "高炉煤气", 37.69, _WAN_M3, 0.07080, 99),
)


# -- carbon: Scope 2 -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeatFactor:
    """tCO2 per GJ of purchased heat, and the heat content of purchased steam (GJ per t)."""

    tco2_per_gj: float
    steam_gj_per_t: float
    source: Source
    steam_source: Source


PURCHASED_HEAT = HeatFactor(
    0.11,
    3.763,
    Source(GUIDELINE.document, "购入热力排放因子缺省值 0.11 tCO2/GJ", "secondary"),
    Source(
        GB2589_A.document,
        "附录A 低压蒸汽 3,763 MJ/t",
        note="steam of unknown pressure and temperature counted as low-pressure steam; meter heat (GJ) where you can",
    ),
)

CALIBERS = {
    "average": "全口径平均（全部发电量）",
    "excl_market_nonfossil": "扣除市场化交易非化石能源电量",
    "fossil": "化石能源电力",
    "reporting": "全国电网平均排放因子（重点排放单位核算报告用）",
}
SCOPES = {"national": "全国", "region": "区域电网", "province": "省级"}


@dataclass(frozen=True)
class GridFactor:
    """An electricity CO2 emission factor, kgCO2/kWh (= tCO2/MWh)."""

    year: int
    caliber: str  # CALIBERS
    scope: str  # SCOPES
    area: str  # 全国, 南方, 广西 …
    kgco2_per_kwh: float
    source: Source

    @property
    def key(self) -> str:
        return f"{self.scope}:{self.area}:{self.year}:{self.caliber}"


_MEE_2021 = Source("生态环境部 国家统计局 公告2024年第12号（2021年电力二氧化碳排放因子）", "2024-04-12")
_MEE_2022 = Source("生态环境部 国家统计局 2022年电力二氧化碳排放因子公告", "2024-12-20 公告，12-23 印发")
_MEE_2023 = Source("生态环境部 国家统计局 2023年电力二氧化碳排放因子公告", "2026-01")
_REGIONS = ("华北", "东北", "华东", "华中", "西北", "南方", "西南")


def _regional(year: int, values: tuple[float, ...], source: Source) -> tuple[GridFactor, ...]:
    return tuple(GridFactor(year, "average", "region", a, v, source) for a, v in zip(_REGIONS, values))


_PROVINCES_2022 = {
    "北京": 0.5580, "天津": 0.7041, "河北": 0.7252, "山西": 0.7096, "内蒙古": 0.6849, "辽宁": 0.5626,
    "吉林": 0.4932, "黑龙江": 0.5368, "上海": 0.5849, "江苏": 0.5978, "浙江": 0.5153, "安徽": 0.6782,
    "福建": 0.4092, "江西": 0.5752, "山东": 0.6410, "河南": 0.6058, "湖北": 0.4364, "湖南": 0.4900,
    "广东": 0.4403, "广西": 0.4044, "海南": 0.4184, "重庆": 0.5227, "四川": 0.1404, "贵州": 0.4989,
    "云南": 0.1073, "陕西": 0.6558, "甘肃": 0.4772, "青海": 0.1567, "宁夏": 0.6423, "新疆": 0.6231,
}  # fmt: skip
_PROV_2022_SOURCE = Source(
    _MEE_2022.document,
    "省级电力平均二氧化碳排放因子",
    "secondary",
    "广西 0.4044 verified (新京报 copy); the other provinces from a public table that matches the news",
)

GRID_FACTORS: tuple[GridFactor, ...] = (
    GridFactor(2021, "average", "national", "全国", 0.5568, _MEE_2021),
    GridFactor(2021, "excl_market_nonfossil", "national", "全国", 0.5942, Source(_MEE_2021.document, "", "memory")),
    GridFactor(2021, "fossil", "national", "全国", 0.8426, _MEE_2021),
    GridFactor(2022, "average", "national", "全国", 0.5366, _MEE_2022),
    GridFactor(2022, "excl_market_nonfossil", "national", "全国", 0.5856, _MEE_2022),
    GridFactor(2022, "fossil", "national", "全国", 0.8325, _MEE_2022),
    GridFactor(2023, "average", "national", "全国", 0.5306, _MEE_2023),
    GridFactor(2023, "excl_market_nonfossil", "national", "全国", 0.6096, _MEE_2023),
    GridFactor(2023, "fossil", "national", "全国", 0.8273, _MEE_2023),
    *_regional(2021, (0.7120, 0.6012, 0.5992, 0.5354, 0.5951, 0.4326, 0.2113), Source(_MEE_2021.document, "区域", "secondary")),
    *_regional(2022, (0.6776, 0.5564, 0.5617, 0.5395, 0.5857, 0.3869, 0.2268), _MEE_2022),
    *_regional(2023, (0.6361, 0.5122, 0.5500, 0.5271, 0.5543, 0.4042, 0.2472), _MEE_2023),
    GridFactor(2021, "average", "province", "广西", 0.5154, Source(_MEE_2021.document, "省级", "secondary")),
    *(GridFactor(2022, "average", "province", a, v, _PROV_2022_SOURCE) for a, v in _PROVINCES_2022.items()),
    GridFactor(
        2023,
        "reporting",
        "national",
        "全国",
        0.5703,
        Source("生态环境部 2023 通知：全国电网平均排放因子（2023–2024年度数据）", "", "memory"),
    ),
    GridFactor(2022, "reporting", "national", "全国", 0.5810, Source("生态环境部 2022 通知：全国电网平均排放因子", "", "memory")),
)  # fmt: skip

#: The Guangxi default of a Scope-2 inventory: the provincial average of the latest year published.
DEFAULT_FACTOR = "province:广西"


def grid_factor(choice: str | None = None) -> GridFactor:
    """The factor named by ``choice``: ``scope:area[:year[:caliber]]`` (``province:广西``,
    ``national:全国:2022``, ``region:南方:2023``), the latest year when none is given; default Guangxi."""
    text = (choice or DEFAULT_FACTOR).strip()
    parts = text.split(":")
    if len(parts) < 2 or parts[0] not in SCOPES:
        raise InvalidInput(
            f"factor: expected scope:area[:year[:caliber]] with scope one of {', '.join(SCOPES)} "
            f"(e.g. province:广西, national:全国:2022); got {text!r}"
        )
    scope, area = parts[0], parts[1]
    year = _int(parts[2], "factor year") if len(parts) > 2 and parts[2] else None
    caliber = parts[3] if len(parts) > 3 else "average"
    found = [
        f
        for f in GRID_FACTORS
        if f.scope == scope and f.area == area and f.caliber == caliber and (year is None or f.year == year)
    ]
    if not found:
        have = sorted({f.key for f in GRID_FACTORS if f.scope == scope})
        raise NotFound(f"factor: no electricity factor {text!r}; known: {', '.join(have)}")
    return max(found, key=lambda f: f.year)


def equal_value(year: int) -> ElectricityEqualValue:
    """The 等价值 of the latest year not after ``year`` (the table's earliest when before it)."""
    rows = sorted(ELECTRICITY_EQUAL_VALUE, key=lambda r: r.year)
    earlier = [r for r in rows if r.year <= year]
    return earlier[-1] if earlier else rows[0]


def standard_coal(carrier: str) -> StandardCoal | None:
    return next((c for c in STANDARD_COAL if c.carrier == carrier), None)


def fuel(carrier: str) -> Fuel | None:
    return next((f for f in FUELS if f.carrier == carrier), None)


# -- zero-carbon parks ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ZeroCarbonThreshold:
    """单位能耗碳排放 limit (tCO2/tce) for parks whose yearly energy use is in [min_tce, max_tce)."""

    min_tce: float
    max_tce: float | None
    max_tco2_per_tce: float
    source: Source


_ZERO = Source(
    "国家发展改革委等《关于开展零碳园区建设的通知》发改环资〔2025〕910号，指标体系“1+5”",
    "核心指标 单位能耗碳排放",
    "secondary",
    "blog/news copies; verify against the notice",
)
ZERO_CARBON_THRESHOLDS: tuple[ZeroCarbonThreshold, ...] = (
    ZeroCarbonThreshold(200_000, 1_000_000, 0.20, _ZERO),
    ZeroCarbonThreshold(1_000_000, None, 0.30, _ZERO),
)


def zero_carbon_threshold(yearly_tce: float) -> ZeroCarbonThreshold | None:
    """The threshold that applies to a park using ``yearly_tce`` a year (None below 20 万tce)."""
    for t in ZERO_CARBON_THRESHOLDS:
        if yearly_tce >= t.min_tce and (t.max_tce is None or yearly_tce < t.max_tce):
            return t
    return None


# -- listing ---------------------------------------------------------------------------------------------


def reference_tables() -> dict[str, list[dict[str, Any]]]:
    """Every reference table as rows (for the CLI, the API and the docs)."""

    def rows(items: Any, **extra: Any) -> list[dict[str, Any]]:
        out = []
        for item in items:
            row = asdict(item)
            row["source"] = item.source.cite()
            for name, fn in extra.items():
                row[name] = fn(item)
            out.append(row)
        return out

    heat = asdict(PURCHASED_HEAT)
    heat["source"], heat["steam_source"] = PURCHASED_HEAT.source.cite(), PURCHASED_HEAT.steam_source.cite()
    return {
        "standard_coal": rows(STANDARD_COAL),
        "electricity_equal_value": rows(ELECTRICITY_EQUAL_VALUE),
        "fuels": rows(FUELS, tco2_per_unit=lambda f: round(f.tco2_per_unit, 6)),
        "grid_factors": rows(GRID_FACTORS, key=lambda f: f.key),
        "purchased_heat": [heat],
        "zero_carbon_thresholds": rows(ZERO_CARBON_THRESHOLDS),
    }


def _int(text: str, field: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise InvalidInput(f"{field}: expected a year such as 2022; got {text!r}") from None
