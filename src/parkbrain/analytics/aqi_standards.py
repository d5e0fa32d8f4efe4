"""Reference tables of ambient air quality and noise, declared as data with their sources.

- HJ 633-2012 and HJ 633-2026《环境空气质量指数（AQI）技术规定》: IAQI breakpoints (Table 1 / Table 3),
  the special rules of the table notes, the six AQI levels;
- GB 3095-2012 and GB 3095-2026《环境空气质量标准》: concentration limits of class-1 and class-2 zones
  (2026: transition limits 2026-03-01…2030-12-31, final limits from 2031-01-01);
- GB 3096-2008《声环境质量标准》: LAeq limits per acoustic zone class, day (06–22) and night.

An edition is chosen by date (``standard="auto"``: HJ 633-2026 and GB 3095-2026 apply from 2026-03-01)
or forced (``"2012"``, ``"2026"``). Every number a computation uses comes from these tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from parkbrain.errors import InvalidInput

#: The IAQI values at the breakpoints, shared by both HJ 633 editions (Table 1 / Table 3, 第一列).
IAQI_STEPS: tuple[int, ...] = (0, 50, 100, 150, 200, 300, 400, 500)
#: Pollutant codes: the canonical ``points.quantity`` names; ``o3_8h`` is the O3 8-hour average.
POLLUTANTS: tuple[str, ...] = ("so2", "no2", "co", "o3", "o3_8h", "pm10", "pm2_5")
STANDARDS: tuple[str, ...] = ("auto", "2012", "2026")
EDITION_2026_FROM = date(2026, 3, 1)

_HJ_2012 = (
    "HJ 633-2012《环境空气质量指数（AQI）技术规定（试行）》表1 空气质量分指数及对应的污染物项目浓度限值"
)
_HJ_2026 = (
    "HJ 633-2026《环境空气质量指数（AQI）技术规定》表3 (MEE/SAMR, published 2026-02-24, in force "
    "2026-03-01), read from the published text; PM10 and PM2.5 IAQI 100 lowered to 120 and 60 µg/m³"
)


@dataclass(frozen=True)
class Pollutant:
    """A pollutant indicator of the AQI: its code, names (CNEMC's Chinese spelling) and unit."""

    code: str
    name_zh: str
    name_en: str
    unit: str
    decimals: int  # GB/T 8170 rounding of concentrations before the IAQI (HJ 633 §6.2 / §4.2)


POLLUTANT_INFO: dict[str, Pollutant] = {
    p.code: p
    for p in (
        Pollutant("so2", "二氧化硫", "SO2", "ug/m3", 0),
        Pollutant("no2", "二氧化氮", "NO2", "ug/m3", 0),
        Pollutant("co", "一氧化碳", "CO", "mg/m3", 1),
        Pollutant("o3", "臭氧1小时", "O3 1-hour", "ug/m3", 0),
        Pollutant("o3_8h", "臭氧8小时", "O3 8-hour", "ug/m3", 0),
        Pollutant("pm10", "颗粒物(PM10)", "PM10", "ug/m3", 0),
        Pollutant("pm2_5", "细颗粒物(PM2.5)", "PM2.5", "ug/m3", 0),
    )
}


@dataclass(frozen=True)
class Breakpoints:
    """One column of the IAQI table: concentrations at ``IAQI_STEPS`` (None past the table's end)."""

    pollutant: str  # so2, no2, co, o3, pm10, pm2_5 (o3 with averaging 8h is the o3_8h indicator)
    averaging: str  # 1h, 24h, 8h
    concentrations: tuple[float | None, ...]
    note: str = ""

    @property
    def defined(self) -> tuple[tuple[int, float], ...]:
        """(IAQI, concentration) pairs of the defined breakpoints."""
        return tuple((i, c) for i, c in zip(IAQI_STEPS, self.concentrations) if c is not None)


@dataclass(frozen=True)
class SpecialRule:
    """A table note: above ``above`` the IAQI of ``pollutant``/``averaging`` is not interpolated but
    either fixed at ``iaqi`` or taken from ``fallback`` (the other averaging of the same pollutant)."""

    pollutant: str
    averaging: str
    above: float
    iaqi: int | None
    fallback: str | None  # averaging whose IAQI is used instead (e.g. 24h for SO2 1h under 2012)
    note: str


@dataclass(frozen=True)
class ReportInput:
    """One IAQI of a report: the indicator, the averaging of its concentration and the table used."""

    indicator: str  # key of the IAQI (iaqi_<indicator>): so2, …, o3 (1-h), o3_8h, pm10, pm2_5
    value_averaging: str  # 1h: the hourly mean; 24h: the daily mean; 8h: daily max 8-h; 1h_max: daily max 1-h
    table: str  # averaging of the breakpoint column used


@dataclass(frozen=True)
class AqiLevel:
    """An AQI level (HJ 633 表2 / 2026 表1): upper bound, names, colour (RGB)."""

    level: int
    upper: int | None  # None: no upper bound
    name_zh: str
    category_zh: str
    category_en: str
    color_zh: str
    rgb: tuple[int, int, int]

    @property
    def color(self) -> str:
        return "#{:02X}{:02X}{:02X}".format(*self.rgb)


_LEVEL_SOURCE = (
    "HJ 633-2012 表2 / HJ 633-2026 表1 空气质量指数及相关信息 (levels, categories, colours unchanged)"
)
LEVELS: tuple[AqiLevel, ...] = (
    AqiLevel(1, 50, "一级", "优", "Excellent", "绿色", (0, 228, 0)),
    AqiLevel(2, 100, "二级", "良", "Good", "黄色", (255, 255, 0)),
    AqiLevel(3, 150, "三级", "轻度污染", "Lightly polluted", "橙色", (255, 126, 0)),
    AqiLevel(4, 200, "四级", "中度污染", "Moderately polluted", "红色", (255, 0, 0)),
    AqiLevel(5, 300, "五级", "重度污染", "Heavily polluted", "紫色", (153, 0, 76)),
    AqiLevel(6, None, "六级", "严重污染", "Severely polluted", "褐红色", (126, 0, 35)),
)


@dataclass(frozen=True)
class AqiEdition:
    """One edition of HJ 633: its tables, special rules and the inputs of its two reports."""

    code: str
    year: int
    effective_from: date | None
    effective_until: date | None
    source: str
    tables: tuple[Breakpoints, ...]
    special_rules: tuple[SpecialRule, ...]
    hourly: tuple[ReportInput, ...]
    daily: tuple[ReportInput, ...]
    exceeding_above: int = 100  # 超标污染物: IAQI > 100 (HJ 633-2012 §3.6)
    primary_above: int = 50  # 首要污染物 only when AQI > 50
    above_table: int = 500  # a concentration past the last breakpoint rates 500 (memory: common practice)

    def table(self, pollutant: str, averaging: str) -> Breakpoints:
        for t in self.tables:
            if t.pollutant == pollutant and t.averaging == averaging:
                return t
        raise KeyError(f"{self.code}: no {averaging} table for {pollutant}")

    def report(self, report: str) -> tuple[ReportInput, ...]:
        if report not in ("hourly", "daily"):
            raise InvalidInput(f"report: expected hourly or daily; got {report!r}")
        return self.hourly if report == "hourly" else self.daily


_B = None  # "b"/"c" of the table: the concentration has no IAQI by interpolation (see the special rules)
_COMMON = (
    Breakpoints("so2", "24h", (0, 50, 150, 475, 800, 1600, 2100, 2620)),
    Breakpoints(
        "so2",
        "1h",
        (0, 150, 500, 650, 800, _B, _B, _B),
        "1-h SO2 only for the real-time report; above 800 µg/m³ see the special rule (note b)",
    ),
    Breakpoints("no2", "24h", (0, 40, 80, 180, 280, 565, 750, 940)),
    Breakpoints("no2", "1h", (0, 100, 200, 700, 1200, 2340, 3090, 3840), "real-time report only"),
    Breakpoints("co", "24h", (0, 2, 4, 14, 24, 36, 48, 60), "mg/m³"),
    Breakpoints("co", "1h", (0, 5, 10, 35, 60, 90, 120, 150), "mg/m³; real-time report only"),
    Breakpoints(
        "o3", "8h", (0, 100, 160, 215, 265, 800, _B, _B), "above 800 µg/m³ see the special rule (note c)"
    ),
    Breakpoints("o3", "1h", (0, 160, 200, 300, 400, 800, 1000, 1200)),
)
_PM_2012 = (
    Breakpoints("pm10", "24h", (0, 50, 150, 250, 350, 420, 500, 600)),
    Breakpoints("pm2_5", "24h", (0, 35, 75, 115, 150, 250, 350, 500)),
)
_PM_2026 = (
    Breakpoints("pm10", "24h", (0, 50, 120, 250, 350, 420, 500, 600), "IAQI 100: 120 (2012: 150)"),
    Breakpoints("pm2_5", "24h", (0, 35, 60, 115, 150, 250, 350, 500), "IAQI 100: 60 (2012: 75)"),
)

_HOURLY = (
    ReportInput("so2", "1h", "1h"),
    ReportInput("no2", "1h", "1h"),
    ReportInput("co", "1h", "1h"),
    ReportInput("o3", "1h", "1h"),
    # 1-h PM values rate on the 24-h table: HJ 633-2026 §4.2 says so; CNEMC did so under 2012
    # (all 12 rows of the CNEMC sample reproduce this way)
    ReportInput("pm10", "1h", "24h"),
    ReportInput("pm2_5", "1h", "24h"),
)
_DAILY_2026 = (
    ReportInput("so2", "24h", "24h"),
    ReportInput("no2", "24h", "24h"),
    ReportInput("co", "24h", "24h"),
    ReportInput("o3_8h", "8h", "8h"),
    ReportInput("pm10", "24h", "24h"),
    ReportInput("pm2_5", "24h", "24h"),
)
_DAILY_2012 = (*_DAILY_2026[:3], ReportInput("o3", "1h_max", "1h"), *_DAILY_2026[3:])

HJ_633_2012 = AqiEdition(
    code="HJ 633-2012",
    year=2012,
    effective_from=None,
    effective_until=date(2026, 2, 28),
    source=_HJ_2012,
    tables=_COMMON + _PM_2012,
    special_rules=(
        SpecialRule(
            "so2",
            "1h",
            800,
            None,
            "24h",
            "HJ 633-2012 表1 注(2): SO2 1-h above 800 µg/m³ is not rated; the 24-h IAQI is reported",
        ),
        SpecialRule(
            "o3",
            "8h",
            800,
            None,
            "1h",
            "HJ 633-2012 表1 注(3): O3 8-h above 800 µg/m³ is not rated; the 1-h IAQI is used",
        ),
    ),
    hourly=_HOURLY,
    daily=_DAILY_2012,
)
HJ_633_2026 = AqiEdition(
    code="HJ 633-2026",
    year=2026,
    effective_from=EDITION_2026_FROM,
    effective_until=None,
    source=_HJ_2026,
    tables=_COMMON + _PM_2026,
    special_rules=(
        SpecialRule(
            "so2", "1h", 800, 200, None, "HJ 633-2026 表3 注b: SO2 1-h above 800 µg/m³ counts as IAQI 200"
        ),
        SpecialRule(
            "o3", "8h", 800, 300, None, "HJ 633-2026 表3 注c: O3 8-h above 800 µg/m³ counts as IAQI 300"
        ),
    ),
    hourly=_HOURLY,
    daily=_DAILY_2026,
)
EDITIONS: dict[str, AqiEdition] = {"2012": HJ_633_2012, "2026": HJ_633_2026}


def check_standard(standard: str) -> str:
    if standard not in STANDARDS:
        raise InvalidInput(f"standard: expected one of {', '.join(STANDARDS)}; got {standard!r}")
    return standard


def aqi_edition(standard: str, day: date | None = None) -> AqiEdition:
    """The HJ 633 edition: forced (``2012``/``2026``) or, for ``auto``, the one in force on ``day``."""
    check_standard(standard)
    if standard != "auto":
        return EDITIONS[standard]
    if day is None:
        raise InvalidInput("standard auto needs the date of the data")
    return HJ_633_2026 if day >= EDITION_2026_FROM else HJ_633_2012


def level_of(aqi: float) -> AqiLevel:
    """The level of an AQI value (an integer after rounding up)."""
    for lvl in LEVELS:
        if lvl.upper is None or aqi <= lvl.upper:
            return lvl
    return LEVELS[-1]  # pragma: no cover - the last level has no upper bound


# -- GB 3095: concentration limits -------------------------------------------------------------------


@dataclass(frozen=True)
class ConcentrationLimit:
    """A limit of GB 3095 for one pollutant and averaging time, per zone class."""

    pollutant: str
    averaging: str  # year, 24h, 8h (O3 daily maximum 8-h mean), 1h
    class1: float
    class2: float
    unit: str = "ug/m3"

    def value(self, zone_class: int) -> float:
        if zone_class not in (1, 2):
            raise InvalidInput(f"zone_class: GB 3095 has classes 1 and 2; got {zone_class!r}")
        return self.class1 if zone_class == 1 else self.class2


@dataclass(frozen=True)
class Gb3095Edition:
    """A set of GB 3095 limits in force from ``effective_from`` to ``effective_until`` (inclusive)."""

    code: str
    period: str
    effective_from: date | None
    effective_until: date | None
    source: str
    limits: tuple[ConcentrationLimit, ...]

    def limit(self, pollutant: str, averaging: str) -> ConcentrationLimit | None:
        return next((x for x in self.limits if x.pollutant == pollutant and x.averaging == averaging), None)


def _limits(table: dict[tuple[str, str], tuple[float, float]]) -> tuple[ConcentrationLimit, ...]:
    return tuple(
        ConcentrationLimit(p, a, c1, c2, "mg/m3" if p == "co" else "ug/m3")
        for (p, a), (c1, c2) in table.items()
    )


_GB3095_2012 = {
    ("so2", "year"): (20, 60),
    ("so2", "24h"): (50, 150),
    ("so2", "1h"): (150, 500),
    ("no2", "year"): (40, 40),
    ("no2", "24h"): (80, 80),
    ("no2", "1h"): (200, 200),
    ("co", "24h"): (4, 4),
    ("co", "1h"): (10, 10),
    ("o3", "8h"): (100, 160),
    ("o3", "1h"): (160, 200),
    ("pm10", "year"): (40, 70),
    ("pm10", "24h"): (50, 150),
    ("pm2_5", "year"): (15, 35),
    ("pm2_5", "24h"): (35, 75),
}
_GB3095_2026_TRANSITION = {
    **_GB3095_2012,
    ("pm10", "year"): (40, 60),
    ("pm10", "24h"): (50, 120),
    ("pm2_5", "year"): (15, 30),
    ("pm2_5", "24h"): (35, 60),
}
_GB3095_2026_FINAL = {
    **_GB3095_2026_TRANSITION,
    ("so2", "year"): (20, 20),
    ("so2", "24h"): (50, 50),
    ("so2", "1h"): (150, 150),
    ("no2", "year"): (30, 30),
    ("no2", "24h"): (50, 50),
    ("pm10", "year"): (20, 50),
    ("pm10", "24h"): (50, 100),
    ("pm2_5", "year"): (10, 25),
    ("pm2_5", "24h"): (25, 50),
}
_GB_2026 = "GB 3095-2026《环境空气质量标准》表1 (MEE/SAMR, published 2026-02-24)"
GB3095_EDITIONS: tuple[Gb3095Edition, ...] = (
    Gb3095Edition(
        "GB 3095-2012",
        "2012",
        None,
        date(2026, 2, 28),
        "GB 3095-2012《环境空气质量标准》表1 环境空气污染物基本项目浓度限值 (in force nationwide 2016-01-01)",
        _limits(_GB3095_2012),
    ),
    Gb3095Edition(
        "GB 3095-2026",
        "transition",
        EDITION_2026_FROM,
        date(2030, 12, 31),
        _GB_2026 + ", transition limits 2026-03-01…2030-12-31",
        _limits(_GB3095_2026_TRANSITION),
    ),
    Gb3095Edition(
        "GB 3095-2026",
        "final",
        date(2031, 1, 1),
        None,
        _GB_2026 + ", final limits from 2031-01-01",
        _limits(_GB3095_2026_FINAL),
    ),
)
#: Industrial parks are class-2 zones (GB 3095-2012 §4.1 / 2026: 二类区 includes industrial areas).
DEFAULT_ZONE_CLASS = 2


def gb3095_edition(standard: str, day: date) -> Gb3095Edition:
    """The GB 3095 limits for ``day``: ``auto`` by date; ``2012`` forced; ``2026`` the 2026 edition's
    limits for the date (transition until 2030-12-31, final after; transition before 2026-03-01)."""
    check_standard(standard)
    if standard == "2012":
        return GB3095_EDITIONS[0]
    if standard == "2026":
        return GB3095_EDITIONS[2] if day >= GB3095_EDITIONS[2].effective_from else GB3095_EDITIONS[1]  # type: ignore[operator]
    for edition in GB3095_EDITIONS:
        if (edition.effective_from is None or day >= edition.effective_from) and (
            edition.effective_until is None or day <= edition.effective_until
        ):
            return edition
    raise AssertionError("the GB 3095 periods cover every date")  # pragma: no cover


@dataclass(frozen=True)
class DataValidity:
    """Minimum data for an average to be valid (GB 3095 表4 数据统计的有效性规定)."""

    averaging: str
    min_values: int
    of: str
    source: str


_VALIDITY_SOURCE = "GB 3095-2012 表4 / GB 3095-2026 数据统计的有效性规定 (memory: verify the 2026 wording)"
VALIDITY: dict[str, DataValidity] = {
    "24h": DataValidity("24h", 20, "hourly means a day", _VALIDITY_SOURCE),
    "8h": DataValidity("8h", 6, "hourly means in the 8 hours", _VALIDITY_SOURCE),
    "8h_daily_max": DataValidity("8h_daily_max", 14, "valid 8-h means ending 08:00–24:00", _VALIDITY_SOURCE),
}
#: O3 daily maximum 8-h mean: the 8-h windows ending 08:00…24:00 of the local day (HJ 663 / GB 3095 3.x):
#: hourly buckets starting 00:00…23:00, so a window's last bucket starts at 07:00 or later.
O3_8H_FIRST_END_BUCKET_HOUR = 7


# -- GB 3096-2008: noise ------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoiseLimit:
    """Environmental noise limit LAeq, dB(A), of an acoustic zone class (GB 3096-2008 表1)."""

    zone_class: str
    day_db: float
    night_db: float
    description_zh: str


NOISE_SOURCE = (
    "GB 3096-2008《声环境质量标准》表1 环境噪声限值, LAeq dB(A); 昼间 06:00–22:00, 夜间 22:00–06:00 "
    "(§3.14–3.15); night-time sudden noise Lmax ≤ limit + 15 dB(A) (§5.4, not checked on LAeq readings)"
)
NOISE_LIMITS: dict[str, NoiseLimit] = {
    n.zone_class: n
    for n in (
        NoiseLimit("0", 50, 40, "康复疗养区等特别需要安静的区域"),
        NoiseLimit("1", 55, 45, "居民住宅、医疗卫生、文化教育、科研设计、行政办公为主"),
        NoiseLimit("2", 60, 50, "商业金融、集市贸易为主，或居住、商业、工业混杂"),
        NoiseLimit("3", 65, 55, "工业生产、仓储物流为主（工业区）"),
        NoiseLimit("4a", 70, 55, "高速公路、一级二级城市主干路、城市轨道交通（地面段）、内河航道两侧"),
        NoiseLimit("4b", 70, 60, "铁路干线两侧"),
    )
}
#: Industrial areas are class 3 (GB 3096-2008 §4 b).
DEFAULT_NOISE_CLASS = "3"
NOISE_DAY_START_HOUR = 6
NOISE_NIGHT_START_HOUR = 22
#: Quantities of points that measure the equivalent continuous A-weighted sound level.
NOISE_QUANTITIES: tuple[str, ...] = ("noise_laeq", "noise", "sound_level")


def noise_limit(zone_class: str) -> NoiseLimit:
    if zone_class not in NOISE_LIMITS:
        raise InvalidInput(f"zone class: GB 3096-2008 has {', '.join(NOISE_LIMITS)}; got {zone_class!r}")
    return NOISE_LIMITS[zone_class]
