"""Reference data for the demo-province generator: real Guangxi development zones, industries, names.

Sources
-------
* Parks: 国家发展改革委、科技部、国土资源部、住房城乡建设部、商务部、海关总署 公告2018年第4号
  《中国开发区审核公告目录》(2018年版).  ``name``, ``level``, ``approved_area_ha`` (核准面积, 公顷),
  ``approval_year`` (批准时间) and ``leading_industries`` (主导产业) follow the catalogue entry.  They
  were checked against a machine-readable transcription of the catalogue (public repository
  ``kaiwulaw/china-industrial-zones-atlas``, ``data/enriched.csv``), not against the official PDF;
  the catalogue code of each entry is given in a comment.  Nothing is marked ``# unverified`` because
  every park fact used here was found in that transcription.
* ``kind`` is the catalogue's zone type (经济技术开发区 / 高新技术产业开发区 / 经济开发区 / 工业园区);
  the one customs zone (海关特殊监管区域) is given its own type, 综合保税区.  中国—马来西亚钦州产业园区
  *is* in the 2018 catalogue: it is listed in the table of national economic and technological
  development zones (代码 G451187).
* ``lon``/``lat`` are approximate WGS84 centres, good to a few kilometres: the transcription's
  geocodes where they look right, otherwise hand-placed (commented).  Every point lies inside its
  prefecture polygon in ``shared/data/guangxi-boundaries/guangxi_province_prefectures.geojson``.
* Industries: GB/T 4754-2017《国民经济行业分类》, 4-digit class codes and names.  Energy
  intensities, head counts and output ranges are plausible orders of magnitude for Chinese park
  enterprises, for synthetic data only; they are not statistics.
* ``industry_mix`` and the company-name parts are invented for the demo; the name parts avoid the
  trade names of well-known real companies.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "COMPANY_SUFFIXES",
    "INDUSTRIES",
    "NAME_PREFIXES",
    "PARKS",
    "PARKS_BY_ID",
    "PREFECTURES",
    "IndustrySpec",
    "ParkSpec",
]


@dataclass(frozen=True)
class ParkSpec:
    """One real development zone, as listed in the 2018 catalogue."""

    park_id: str  # stable ascii slug, e.g. "nanning-hitech"
    name: str  # official Chinese name
    name_en: str
    short_names: tuple[str, ...]  # usual short forms, e.g. ("南宁高新区",)
    region_code: str  # prefecture GB/T 2260 code, e.g. "450100"
    level: str  # "national" | "provincial"
    kind: str  # 经济技术开发区 / 高新技术产业开发区 / 经济开发区 / 工业园区 / 综合保税区
    approved_area_ha: float  # 核准面积, hectares
    approval_year: int | None  # 批准时间 (year)
    leading_industries: tuple[str, ...]  # 主导产业, Chinese, as the catalogue lists them
    lon: float  # approximate real centre, WGS84
    lat: float
    industry_mix: tuple[tuple[str, float], ...]  # (GB/T 4754 code, weight) for demo enterprises


@dataclass(frozen=True)
class IndustrySpec:
    """A GB/T 4754-2017 industry class with the parameters the demo generator needs."""

    code: str  # GB/T 4754-2017 class code
    name: str  # Chinese name in the standard
    name_en: str
    carriers: tuple[str, ...]  # metered energy carriers; always includes "electricity"
    elec_kwh_per_10k_cny: float  # electricity intensity, kWh per 万元 of output
    employees: tuple[int, int]  # typical range for a park enterprise
    output_10k_cny: tuple[float, float]  # typical annual output range, 万元
    shifts: int  # 1 = day shift, 2 = two shifts, 3 = continuous process
    name_words: tuple[str, ...]  # words that make plausible company names in this industry
    energy_intensive: bool  # typical 重点用能单位 candidate


# --------------------------------------------------------------------------------------------
# Prefectures (GB/T 2260)
# --------------------------------------------------------------------------------------------

PREFECTURES: dict[str, tuple[str, str]] = {
    "450100": ("南宁市", "Nanning"),
    "450200": ("柳州市", "Liuzhou"),
    "450300": ("桂林市", "Guilin"),
    "450400": ("梧州市", "Wuzhou"),
    "450500": ("北海市", "Beihai"),
    "450600": ("防城港市", "Fangchenggang"),
    "450700": ("钦州市", "Qinzhou"),
    "450800": ("贵港市", "Guigang"),
    "450900": ("玉林市", "Yulin"),
    "451000": ("百色市", "Baise"),
    "451100": ("贺州市", "Hezhou"),
    "451200": ("河池市", "Hechi"),
    "451300": ("来宾市", "Laibin"),
    "451400": ("崇左市", "Chongzuo"),
}


# --------------------------------------------------------------------------------------------
# Industries (GB/T 4754-2017 classes)
# --------------------------------------------------------------------------------------------

# One row per industry; keep the table compact.
# fmt: off
E, G, S, W, D = "electricity", "natural_gas", "steam", "water", "diesel"

_INDUSTRY_LIST: tuple[IndustrySpec, ...] = (
    IndustrySpec("1331", "食用植物油加工", "Edible vegetable oil processing", (E, S, G, W), 120.0,
                 (80, 600), (30_000.0, 800_000.0), 3,
                 ("粮油", "油脂", "食品", "粮油工业", "植物油"), False),
    # Cane sugar mills crush from November to April and burn bagasse for most of their steam.
    IndustrySpec("1340", "制糖业", "Sugar manufacturing", (E, S, W), 300.0,
                 (300, 1500), (30_000.0, 200_000.0), 3,
                 ("糖业", "制糖", "蔗糖", "糖厂", "甘蔗综合利用"), True),
    IndustrySpec("1353", "肉制品及副产品加工", "Meat products processing", (E, S, G, W), 250.0,
                 (100, 800), (10_000.0, 150_000.0), 2,
                 ("食品", "肉类食品", "食品加工", "冷链食品", "农牧食品"), False),
    IndustrySpec("1810", "机织服装制造", "Woven apparel manufacturing", (E, S), 120.0,
                 (150, 1500), (5_000.0, 60_000.0), 1,
                 ("服饰", "制衣", "服装", "纺织服饰", "时装"), False),
    IndustrySpec("2021", "胶合板制造", "Plywood manufacturing", (E, S, W), 350.0,
                 (50, 400), (5_000.0, 80_000.0), 2,
                 ("木业", "板业", "人造板", "林产品", "木材加工", "新型板材"), False),
    IndustrySpec("2110", "木质家具制造", "Wooden furniture manufacturing", (E,), 180.0,
                 (50, 600), (3_000.0, 50_000.0), 1,
                 ("家具", "家居", "木艺", "定制家居", "实木家具"), False),
    IndustrySpec("2130", "金属家具制造", "Metal furniture manufacturing", (E, G), 220.0,
                 (50, 500), (3_000.0, 60_000.0), 1,
                 ("家具", "铝家居", "金属家具", "门窗家居", "办公家具"), False),
    IndustrySpec("2211", "木竹浆制造", "Wood and bamboo pulp manufacturing", (E, S, W), 1200.0,
                 (300, 1500), (80_000.0, 600_000.0), 3,
                 ("浆业", "纸浆", "林浆", "浆纸", "制浆"), True),
    IndustrySpec("2221", "机制纸及纸板制造", "Machine-made paper and paperboard", (E, S, G, W), 900.0,
                 (200, 1200), (50_000.0, 500_000.0), 3,
                 ("纸业", "造纸", "纸品", "包装纸业", "特种纸"), True),
    IndustrySpec("2319", "包装装潢及其他印刷", "Packaging and other printing", (E, G), 180.0,
                 (50, 400), (3_000.0, 50_000.0), 2,
                 ("印务", "彩印", "包装印刷", "包装", "印刷"), False),
    IndustrySpec("2511", "原油加工及石油制品制造", "Crude oil refining", (E, S, G, W), 250.0,
                 (800, 2500), (1_500_000.0, 6_000_000.0), 3,
                 ("石化", "炼化", "石油化工", "能源化工", "油品"), True),
    IndustrySpec("2614", "有机化学原料制造", "Organic chemical raw materials", (E, S, G, W), 600.0,
                 (100, 800), (50_000.0, 800_000.0), 3,
                 ("化工", "化学", "新材料", "精细化工", "石化材料"), True),
    IndustrySpec("2740", "中成药生产", "Chinese patent medicine manufacturing", (E, S, W), 120.0,
                 (100, 800), (10_000.0, 200_000.0), 2,
                 ("药业", "制药", "中药", "医药", "本草"), False),
    IndustrySpec("2761", "生物药品制造", "Biological medicine manufacturing", (E, S, W), 200.0,
                 (100, 800), (10_000.0, 300_000.0), 3,
                 ("生物", "生物制药", "生物科技", "药业", "健康科技"), False),
    IndustrySpec("3011", "水泥制造", "Cement manufacturing", (E, W, D), 2200.0,
                 (200, 800), (30_000.0, 200_000.0), 3,
                 ("水泥", "建材", "新型建材", "水泥建材"), True),
    IndustrySpec("3074", "日用陶瓷制品制造", "Household ceramics manufacturing", (E, G, W), 450.0,
                 (100, 800), (5_000.0, 60_000.0), 3,
                 ("陶瓷", "瓷业", "日用瓷", "陶瓷制品", "窑业"), True),
    # The demo uses one real steel-plant load series for the province's 3120 enterprise.
    IndustrySpec("3120", "炼钢", "Steelmaking", (E, S, G, W), 1100.0,
                 (2000, 8000), (1_000_000.0, 4_000_000.0), 3,
                 ("钢铁", "钢业", "特钢", "钢铁集团", "冶金"), True),
    IndustrySpec("3130", "钢压延加工", "Steel rolling", (E, G, W), 300.0,
                 (300, 2000), (200_000.0, 1_500_000.0), 3,
                 ("钢材", "板材", "型钢", "钢构", "金属材料"), True),
    IndustrySpec("3211", "铜冶炼", "Copper smelting", (E, S, G, W), 200.0,
                 (800, 3000), (1_000_000.0, 4_000_000.0), 3,
                 ("铜业", "有色金属", "冶炼", "铜材"), True),
    IndustrySpec("3214", "锡冶炼", "Tin smelting", (E, G, W), 300.0,
                 (200, 1200), (50_000.0, 500_000.0), 3,
                 ("锡业", "有色金属", "冶炼", "稀贵金属", "金属材料"), True),
    IndustrySpec("3216", "铝冶炼", "Aluminium smelting", (E, S, G, W), 6000.0,
                 (800, 3000), (300_000.0, 1_500_000.0), 3,
                 ("铝业", "电解铝", "氧化铝", "有色金属", "铝材"), True),
    IndustrySpec("3252", "铝压延加工", "Aluminium rolling and extrusion", (E, G, W), 450.0,
                 (100, 1500), (20_000.0, 500_000.0), 3,
                 ("铝业", "铝材", "新材料", "金属制品", "铝型材", "铝箔"), False),
    IndustrySpec("3412", "内燃机及配件制造", "Internal combustion engines and parts", (E, G, D, W), 150.0,
                 (200, 3000), (20_000.0, 800_000.0), 2,
                 ("动力", "机械", "发动机", "动力科技", "机电"), False),
    IndustrySpec("3514", "建筑工程用机械制造", "Construction machinery", (E, G, D), 120.0,
                 (200, 3000), (20_000.0, 1_000_000.0), 2,
                 ("机械", "重工", "装备", "工程机械", "智能装备"), False),
    IndustrySpec("3581", "医疗诊断、监护及治疗设备制造", "Medical diagnostic and therapy equipment", (E,), 100.0,
                 (50, 500), (3_000.0, 80_000.0), 1,
                 ("医疗器械", "医疗科技", "医疗设备", "健康科技"), False),
    IndustrySpec("3611", "汽柴油车整车制造", "Petrol and diesel vehicle assembly", (E, G, W), 60.0,
                 (1500, 8000), (500_000.0, 5_000_000.0), 2,
                 ("汽车", "汽车工业", "商用车", "专用车"), True),
    IndustrySpec("3612", "新能源车整车制造", "New-energy vehicle assembly", (E, G, W), 70.0,
                 (1500, 8000), (500_000.0, 5_000_000.0), 2,
                 ("新能源汽车", "汽车", "电动汽车", "智能汽车"), True),
    IndustrySpec("3670", "汽车零部件及配件制造", "Automobile parts and accessories", (E, G, W), 200.0,
                 (100, 1500), (10_000.0, 300_000.0), 2,
                 ("汽车零部件", "汽配", "精密机械", "车桥", "汽车部件", "底盘系统"), False),
    IndustrySpec("3841", "锂离子电池制造", "Lithium-ion battery manufacturing", (E, W), 300.0,
                 (300, 3000), (50_000.0, 1_000_000.0), 3,
                 ("新能源", "储能", "电池", "锂电", "能源科技"), True),
    IndustrySpec("3911", "计算机整机制造", "Computer manufacturing", (E,), 40.0,
                 (500, 5000), (100_000.0, 2_000_000.0), 2,
                 ("电子", "信息技术", "计算机", "智能终端", "电子科技"), False),
    IndustrySpec("3922", "通信终端设备制造", "Communication terminal equipment", (E,), 50.0,
                 (500, 6000), (50_000.0, 2_000_000.0), 2,
                 ("通信", "智能终端", "电子", "通讯设备", "电子科技"), False),
    IndustrySpec("3982", "电子电路制造", "Electronic circuits (PCB) manufacturing", (E, W), 500.0,
                 (200, 2000), (20_000.0, 300_000.0), 3,
                 ("电路", "电子", "线路板", "电子科技", "精密电子"), False),
    # Auxiliary power of a coal-fired plant is metered on site: about 5 % of what it sells.
    IndustrySpec("4411", "火力发电", "Thermal power generation", (E, S, W, D), 1250.0,
                 (200, 800), (100_000.0, 600_000.0), 3,
                 ("发电", "电力", "能源", "热电"), True),
    IndustrySpec("5920", "通用仓储", "General warehousing", (E, D), 300.0,
                 (20, 300), (1_000.0, 30_000.0), 2,
                 ("物流", "仓储", "供应链", "国际物流", "冷链物流"), False),
    IndustrySpec("6513", "应用软件开发", "Application software development", (E,), 60.0,
                 (20, 500), (500.0, 50_000.0), 1,
                 ("软件", "信息技术", "数字科技", "网络科技", "数据科技", "智能科技"), False),
)

# fmt: on

INDUSTRIES: dict[str, IndustrySpec] = {spec.code: spec for spec in _INDUSTRY_LIST}

del E, G, S, W, D


# --------------------------------------------------------------------------------------------
# Parks
# --------------------------------------------------------------------------------------------

# fmt: off
PARKS: tuple[ParkSpec, ...] = (
    # --- 南宁市 -------------------------------------------------------------------------------
    ParkSpec(  # 目录代码 G452041
        park_id="nanning-hitech", name="南宁高新技术产业开发区",
        name_en="Nanning High-tech Industrial Development Zone", short_names=("南宁高新区",),
        region_code="450100", level="national", kind="高新技术产业开发区",
        approved_area_ha=850.0, approval_year=1992,
        leading_industries=("电子信息", "生命健康", "智能制造"),
        lon=108.2561, lat=22.8640,
        industry_mix=(("3922", 0.3), ("3982", 0.2), ("2761", 0.2), ("6513", 0.2), ("3581", 0.1)),
    ),
    ParkSpec(  # 目录代码 G451038
        park_id="nanning-etdz", name="南宁经济技术开发区",
        name_en="Nanning Economic and Technological Development Zone",
        short_names=("南宁经开区",),
        region_code="450100", level="national", kind="经济技术开发区",
        approved_area_ha=1079.6, approval_year=2001,
        leading_industries=("生物制药", "轻工", "食品", "机电"),
        lon=108.2826, lat=22.7575,
        industry_mix=(("2761", 0.25), ("2740", 0.15), ("1353", 0.2), ("2319", 0.2), ("3412", 0.2)),
    ),
    ParkSpec(  # 目录代码 G451185; in 武鸣区, 30 km north of the city
        park_id="asean-etdz", name="广西—东盟经济技术开发区",
        name_en="Guangxi-ASEAN Economic and Technological Development Zone",
        short_names=("东盟经开区", "广西—东盟经开区"),
        region_code="450100", level="national", kind="经济技术开发区",
        approved_area_ha=312.9, approval_year=2013,
        leading_industries=("食品", "生物医药", "机械装备"),
        lon=108.1635, lat=23.2034,
        industry_mix=(("1353", 0.35), ("2740", 0.25), ("3514", 0.2), ("5920", 0.2)),
    ),
    # --- 柳州市 -------------------------------------------------------------------------------
    ParkSpec(  # 目录代码 G452136; the 110 ha core of 柳东新区 (hand-placed: the geocode fell in 柳南区)
        park_id="liuzhou-hitech", name="柳州高新技术产业开发区",
        name_en="Liuzhou High-tech Industrial Development Zone", short_names=("柳州高新区", "柳东高新区"),
        region_code="450200", level="national", kind="高新技术产业开发区",
        approved_area_ha=110.0, approval_year=2010,
        leading_industries=("汽车", "装备制造", "新材料"),
        lon=109.490, lat=24.370,
        industry_mix=(("3611", 0.15), ("3612", 0.15), ("3670", 0.4), ("3514", 0.15), ("3252", 0.15)),
    ),
    # --- 桂林市 -------------------------------------------------------------------------------
    ParkSpec(  # 目录代码 G452042; 七星区 (hand-placed: the geocode was the city centre)
        park_id="guilin-hitech", name="桂林高新技术产业开发区",
        name_en="Guilin High-tech Industrial Development Zone", short_names=("桂林高新区",),
        region_code="450300", level="national", kind="高新技术产业开发区",
        approved_area_ha=1207.0, approval_year=1991,
        leading_industries=("电子信息", "生物医药"),
        lon=110.318, lat=25.270,
        industry_mix=(("3982", 0.3), ("3922", 0.25), ("2740", 0.25), ("6513", 0.2)),
    ),
    # --- 梧州市 -------------------------------------------------------------------------------
    ParkSpec(  # 目录代码 S458012
        park_id="wuzhou-hitech", name="广西梧州高新技术产业开发区",
        name_en="Guangxi Wuzhou High-tech Industrial Development Zone", short_names=("梧州高新区",),
        region_code="450400", level="provincial", kind="高新技术产业开发区",
        approved_area_ha=1121.39, approval_year=2002,
        leading_industries=("医药", "电子信息", "食品"),
        lon=111.3376, lat=23.5357,
        industry_mix=(("2740", 0.3), ("3982", 0.25), ("1353", 0.25), ("2319", 0.2)),
    ),
    # --- 北海市 -------------------------------------------------------------------------------
    ParkSpec(  # 目录代码 S459018; 海城区, home of the city's electronics cluster
        park_id="beihai-industrial-park", name="广西北海工业园区",
        name_en="Guangxi Beihai Industrial Park", short_names=("北海工业园区", "北海工业园"),
        region_code="450500", level="provincial", kind="工业园区",
        approved_area_ha=1344.36, approval_year=2003,
        leading_industries=("电子信息",),
        lon=109.1818, lat=21.5258,
        industry_mix=(("3911", 0.35), ("3922", 0.25), ("3982", 0.25), ("5920", 0.15)),
    ),
    # --- 防城港市 -----------------------------------------------------------------------------
    ParkSpec(  # 目录代码 S459034; 港口区企沙镇, coastal steel and copper base
        park_id="fangchenggang-qisha", name="防城港市企沙工业区",
        name_en="Fangchenggang Qisha Industrial Zone", short_names=("企沙工业区",),
        region_code="450600", level="provincial", kind="工业园区",
        approved_area_ha=1707.56, approval_year=2009,
        leading_industries=("有色金属", "钢铁", "节能环保"),
        lon=108.4673, lat=21.5893,
        industry_mix=(("3120", 0.35), ("3130", 0.3), ("3211", 0.2), ("5920", 0.15)),
    ),
    # --- 钦州市 -------------------------------------------------------------------------------
    ParkSpec(  # 目录代码 G451186 (hand-placed at 钦州港: the transcription's geocode fell in 南宁)
        park_id="qinzhou-port-etdz", name="钦州港经济技术开发区",
        name_en="Qinzhou Port Economic and Technological Development Zone",
        short_names=("钦州港经开区", "钦州港区"),
        region_code="450700", level="national", kind="经济技术开发区",
        approved_area_ha=1000.0, approval_year=2010,
        leading_industries=("石化", "粮油", "林浆纸"),
        lon=108.620, lat=21.705,
        industry_mix=(("2511", 0.3), ("2614", 0.2), ("1331", 0.2), ("2211", 0.15), ("2221", 0.15)),
    ),
    ParkSpec(  # 目录代码 G451187; listed in the catalogue's national ETDZ table
        park_id="china-malaysia-qinzhou", name="中国—马来西亚钦州产业园区",
        name_en="China-Malaysia Qinzhou Industrial Park", short_names=("中马钦州产业园区", "中马园区"),
        region_code="450700", level="national", kind="经济技术开发区",
        approved_area_ha=1500.0, approval_year=2012,
        leading_industries=("装备制造", "生物医药", "新能源"),
        lon=108.6714, lat=21.7723,
        industry_mix=(("3412", 0.3), ("2761", 0.3), ("3841", 0.4)),
    ),
    # --- 贵港市 -------------------------------------------------------------------------------
    ParkSpec(  # 目录代码 S459013; 港北区, plywood and panel-board cluster
        park_id="guigang-industrial-park", name="贵港市产业园区",
        name_en="Guigang Industrial Park", short_names=("贵港产业园",),
        region_code="450800", level="provincial", kind="工业园区",
        approved_area_ha=1645.55, approval_year=2006,
        leading_industries=("电力", "木材", "化工"),
        lon=109.5628, lat=23.1074,
        industry_mix=(("2021", 0.45), ("2110", 0.2), ("2614", 0.2), ("4411", 0.15)),
    ),
    # --- 玉林市 -------------------------------------------------------------------------------
    ParkSpec(  # 目录代码 S457014
        park_id="yulin-edz", name="广西玉林经济开发区",
        name_en="Guangxi Yulin Economic Development Zone", short_names=("玉林经开区",),
        region_code="450900", level="provincial", kind="经济开发区",
        approved_area_ha=947.0, approval_year=2002,
        leading_industries=("食品", "彩印", "医疗设备"),
        lon=110.1922, lat=22.6409,
        # 3412 is not a catalogue industry of this zone; it stands for Yulin's engine-supplier base.
        industry_mix=(("1353", 0.35), ("2319", 0.25), ("3581", 0.25), ("3412", 0.15)),
    ),
    ParkSpec(  # 目录代码 S459016
        park_id="beiliu-ceramics", name="广西北流日用陶瓷工业园区",
        name_en="Guangxi Beiliu Household Ceramics Industrial Park", short_names=("北流陶瓷园",),
        region_code="450900", level="provincial", kind="工业园区",
        approved_area_ha=1336.15, approval_year=2006,
        leading_industries=("陶瓷", "水泥"),
        lon=110.4407, lat=22.7715,
        industry_mix=(("3074", 0.7), ("3011", 0.3)),
    ),
    # --- 百色市 -------------------------------------------------------------------------------
    ParkSpec(  # 目录代码 S459045; next to the 平果 alumina/aluminium complex
        park_id="pingguo-industrial", name="平果工业区",
        name_en="Pingguo Industrial Zone", short_names=("平果工业区", "平果工业园"),
        region_code="451000", level="provincial", kind="工业园区",
        approved_area_ha=1029.32, approval_year=2007,
        leading_industries=("铝产品", "家具"),
        lon=107.5767, lat=23.3166,
        industry_mix=(("3216", 0.3), ("3252", 0.5), ("2130", 0.2)),
    ),
    # --- 贺州市 -------------------------------------------------------------------------------
    ParkSpec(  # 目录代码 S459023; 平桂区
        park_id="hezhou-wanggao", name="广西贺州旺高工业区",
        name_en="Guangxi Hezhou Wanggao Industrial Zone", short_names=("旺高工业区",),
        region_code="451100", level="provincial", kind="工业园区",
        approved_area_ha=1273.67, approval_year=2002,
        leading_industries=("服装", "食品", "医药"),
        lon=111.4048, lat=24.5796,
        industry_mix=(("1810", 0.4), ("1353", 0.3), ("2740", 0.3)),
    ),
    # --- 河池市 -------------------------------------------------------------------------------
    ParkSpec(  # 目录代码 S459050; county-level geocode (南丹县)
        park_id="nandan-nonferrous", name="河池南丹有色金属新材料工业园区",
        name_en="Hechi Nandan Non-ferrous Metals New Materials Industrial Park",
        short_names=("南丹有色金属新材料工业园区", "南丹工业园区"),
        region_code="451200", level="provincial", kind="工业园区",
        approved_area_ha=664.98, approval_year=2008,
        leading_industries=("有色金属冶炼加工",),
        lon=107.5365, lat=24.9781,
        industry_mix=(("3214", 0.7), ("3252", 0.3)),  # 3252 stands in for non-ferrous processing
    ),
    # --- 来宾市 -------------------------------------------------------------------------------
    ParkSpec(  # 目录代码 S459051; 兴宾区, south bank of the 红水河 (hand-placed near the city)
        park_id="laibin-henan", name="来宾市河南工业园区",
        name_en="Laibin Henan Industrial Park", short_names=("河南工业园区", "来宾河南工业园"),
        region_code="451300", level="provincial", kind="工业园区",
        approved_area_ha=1447.53, approval_year=2007,
        leading_industries=("电力", "制糖"),
        lon=109.220, lat=23.740,
        industry_mix=(("1340", 0.6), ("4411", 0.4)),
    ),
    # --- 崇左市 -------------------------------------------------------------------------------
    ParkSpec(  # 目录代码 S459053; 江州区
        park_id="chongzuo-zhongtai", name="中泰崇左产业园",
        name_en="China-Thailand Chongzuo Industrial Park", short_names=("中泰产业园",),
        region_code="451400", level="provincial", kind="工业园区",
        approved_area_ha=997.26, approval_year=2007,
        leading_industries=("制糖", "矿产品加工", "建材"),
        lon=107.4469, lat=22.4065,
        industry_mix=(("1340", 0.6), ("3011", 0.4)),
    ),
    ParkSpec(  # 目录代码 G453113; a few km from the 友谊关 border crossing
        park_id="pingxiang-bonded", name="广西凭祥综合保税区",
        name_en="Guangxi Pingxiang Comprehensive Bonded Zone", short_names=("凭祥综保区",),
        region_code="451400", level="national", kind="综合保税区",
        approved_area_ha=101.0, approval_year=2008,
        leading_industries=("国际中转", "保税加工"),
        lon=106.7143, lat=21.9819,
        industry_mix=(("5920", 0.6), ("3922", 0.4)),
    ),
)

# fmt: on

PARKS_BY_ID: dict[str, ParkSpec] = {park.park_id: park for park in PARKS}


# --------------------------------------------------------------------------------------------
# Company-name parts
# --------------------------------------------------------------------------------------------

# Two-character trade names (字号).  A demo company is named
# ``<prefecture><prefix><industry word><suffix>``, e.g. 南宁华昇铝业有限公司.
# fmt: off
NAME_PREFIXES: tuple[str, ...] = (
    "华昇", "桂鑫", "邕创", "东盟", "瑞丰", "恒岳", "宏拓", "鼎诚", "盛邦", "汇桂",
    "聚源", "兴桂", "南嘉", "博远", "润桂", "弘盛", "海岚", "泓利", "凯晟", "锦川",
    "启航", "远拓", "金穗", "银湾", "榕晟", "荔源", "甘泽", "丰沃", "青禾", "翠峰",
    "桂岭", "漓韵", "邕泰", "柳晟", "龙腾", "凤鸣", "嘉骏", "信航", "正和", "和顺",
    "泰和", "中桂", "浔盛", "右源", "红岭", "山海", "明远", "长钰", "同创", "众诚",
    "力辰", "天澄", "云峰", "峰华", "晨曦", "朝晖", "骏达", "宇辰", "欣荣", "旭晟",
    "永盛", "德润", "昌隆", "安澜", "瀚海", "沃土", "禾润", "桂通", "南珠", "北湾",
    "钦海", "防澜", "崇禾", "鹏程", "远澜", "金桂", "银杉", "铭泰", "华拓", "隆盛",
    "新禾", "翔宇",
)

# fmt: on

COMPANY_SUFFIXES: tuple[str, ...] = ("有限公司", "股份有限公司", "有限责任公司")
