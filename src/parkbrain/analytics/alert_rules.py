"""The alert rules, declared as data: thresholds with hysteresis, rates of change, silent points.

``parkbrain.analytics.alert_engine.AlertEngine`` evaluates them as readings arrive. Every rule names
the quantity it watches, the unit its numbers are written in (converted to a point's own unit when
they differ; a point whose unit cannot be converted is not checked), a severity, a Chinese message
template and where its numbers come from. Cumulative registers (``value_kind = 'cumulative'``) are
never threshold- or rate-checked, only watched for silence.

Message templates are ``str.format`` strings; the fields are ``device`` (device name, else its id),
``point`` (point name, else its id), ``value`` and ``unit`` (the reading, in the point's unit),
``limit`` and ``clear`` (the rule's levels in the point's unit), ``rate`` (per minute, rate rules),
``minutes``, ``interval_s`` and ``intervals`` (stale rules).

Air quality limits are applied to each reading as it arrives — a screening, not the compliance
assessment, which needs the averaging period of the standard (1 h, 24 h). PM2.5 and PM10 readings
are compared with the 24-hour limits, as HJ 633-2026 rates 1-hour PM values on the 24-hour table.
"""

from __future__ import annotations

from dataclasses import dataclass

from parkbrain.model.tables import SEVERITIES

#: Sampling interval assumed for a point whose ``interval_s`` is NULL.
DEFAULT_INTERVAL_S = 900


@dataclass(frozen=True, kw_only=True)
class _RuleBase:
    """What every rule says: its name, severity, Chinese message template and the source of its numbers."""

    rule: str
    severity: str
    message_zh: str
    source: str

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(
                f"rule {self.rule}: severity must be one of {', '.join(SEVERITIES)}; got {self.severity!r}"
            )


@dataclass(frozen=True, kw_only=True)
class ThresholdRule(_RuleBase):
    """Open when a reading passes ``above`` (or falls under ``below``); close when it comes back past
    ``clear`` (the hysteresis level; without one, as soon as it is back within the limit).

    Readings between ``clear`` and the limit neither open nor close an alert.
    """

    quantity: str
    unit: str
    above: float | None = None
    below: float | None = None
    clear: float | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if (self.above is None) == (self.below is None):
            raise ValueError(f"rule {self.rule}: give exactly one of above and below")
        if self.clear is not None and (
            (self.above is not None and self.clear > self.above)
            or (self.below is not None and self.clear < self.below)
        ):
            raise ValueError(f"rule {self.rule}: the clear level must lie on the normal side of the limit")

    @property
    def limit(self) -> float:
        """The level that opens the alert."""
        return self.above if self.above is not None else self.below  # type: ignore[return-value]


@dataclass(frozen=True, kw_only=True)
class RateRule(_RuleBase):
    """Open when a reading rises (or falls) faster than the limit, per minute, since the point's
    previous reading; close at the next reading whose change is within the limits."""

    quantity: str
    unit: str
    max_rise_per_min: float | None = None
    max_fall_per_min: float | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.max_rise_per_min is None and self.max_fall_per_min is None:
            raise ValueError(f"rule {self.rule}: give max_rise_per_min, max_fall_per_min or both")


@dataclass(frozen=True, kw_only=True)
class StaleRule(_RuleBase):
    """Open when a point has sent nothing for ``intervals`` × its ``interval_s`` (``DEFAULT_INTERVAL_S``
    when NULL); close when a newer reading arrives. ``quantity=None`` watches every point; a rule
    naming the point's quantity takes precedence over it."""

    quantity: str | None = None
    intervals: int = 3

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.intervals < 1:
            raise ValueError(f"rule {self.rule}: intervals must be at least 1")


Rule = ThresholdRule | RateRule | StaleRule

# -- sources ---------------------------------------------------------------------------------------

_ISO_10816 = (
    "ISO 10816-3:2009 Annex A (now ISO 20816-3:2022), zone boundaries of vibration velocity r.m.s. for "
    "group 2 machines (15–300 kW) on flexible foundations, the same as group 1 (300 kW–50 MW) on rigid "
    "ones: B/C 4.5 mm/s (restricted long-term operation), C/D 7.1 mm/s (damage may occur)"
)
_GB_3095 = (
    "GB 3095-2026 表1 二级浓度限值 (class-2 zones include industrial areas), transition limits in force "
    "2026-03-01…2030-12-31"
)
_GB_3095_PM = (
    _GB_3095 + "; PM2.5 60 and PM10 120 µg/m³ 24-hour (GB 3095-2012: 75 and 150); each reading is "
    "rated on the 24-hour limit as HJ 633-2026 rates 1-hour PM values"
)
_GB_3095_1H = _GB_3095 + "; 1-hour limits, unchanged from GB 3095-2012"
_DEADBAND = "clear level: engineering practice, a 10 % deadband so that a value hovering at the limit does not chatter"
_BEARING = (
    "engineering practice for rolling-element bearings (alarm ≈ 85 °C, trip ≈ 95 °C); the "
    "manufacturer's limits govern where known"
)
_IEC_60034 = (
    "IEC 60034-1 thermal classes at 40 °C coolant: class B 120 °C (80 K rise), class F 145 °C (105 K rise), "
    "winding temperature by resistance (memory: verify); a housing sensor reads lower"
)
_POWER_STEP = (
    "engineering practice: a change of more than 1 MW within a minute on an enterprise feeder points to "
    "a trip or a large load switched; tune per feeder"
)
_STALE = "engineering practice: three missed sampling intervals before a point is reported silent"

# -- the default rule table ----------------------------------------------------------------------

_AIR_DEADBAND = 0.9


def _air(
    rule: str, quantity: str, name: str, unit: str, limit: float, period: str, source: str
) -> ThresholdRule:
    """An air-quality limit exceedance, cleared at 90 % of the limit."""
    digits = ".1f" if unit == "mg/m3" else ".0f"
    return ThresholdRule(
        rule=rule,
        quantity=quantity,
        unit=unit,
        above=limit,
        clear=round(limit * _AIR_DEADBAND, 6),
        severity="warning",
        message_zh=(
            f"{{device}} {name} 浓度 {{value:{digits}}} {{unit}}，超过 GB 3095-2026 二级{period}平均浓度限值 "
            "{limit:g} {unit}"
        ),
        source=f"{source}; {_DEADBAND}",
    )


THRESHOLD_RULES: tuple[ThresholdRule, ...] = (
    ThresholdRule(
        rule="vibration_zone_c",
        quantity="vibration_rms",
        unit="mm/s",
        above=4.5,
        clear=4.0,
        severity="warning",
        message_zh="{device}振动速度 {value:.1f} {unit}，超过 ISO 10816-3 B/C 区界限 {limit:g} {unit}，不宜长期连续运行",
        source=f"{_ISO_10816}; clear level: engineering practice",
    ),
    ThresholdRule(
        rule="vibration_high",
        quantity="vibration_rms",
        unit="mm/s",
        above=7.1,
        clear=6.0,
        severity="critical",
        message_zh="{device}振动速度 {value:.1f} {unit}，超过 ISO 10816-3 C/D 区界限 {limit:g} {unit}，请安排检修",
        source=f"{_ISO_10816}; clear level: engineering practice",
    ),
    _air("pm2_5_exceedance", "pm2_5", "PM2.5", "ug/m3", 60.0, " 24 小时", _GB_3095_PM),
    _air("pm10_exceedance", "pm10", "PM10", "ug/m3", 120.0, " 24 小时", _GB_3095_PM),
    _air("so2_1h_exceedance", "so2", "SO2", "ug/m3", 500.0, " 1 小时", _GB_3095_1H),
    _air("no2_1h_exceedance", "no2", "NO2", "ug/m3", 200.0, " 1 小时", _GB_3095_1H),
    _air("co_1h_exceedance", "co", "CO", "mg/m3", 10.0, " 1 小时", _GB_3095_1H),
    _air("o3_1h_exceedance", "o3", "O3", "ug/m3", 200.0, " 1 小时", _GB_3095_1H),
    ThresholdRule(
        rule="bearing_temperature_high",
        quantity="bearing_temperature",
        unit="degC",
        above=85.0,
        clear=80.0,
        severity="warning",
        message_zh="{device}轴承温度 {value:.1f} {unit}，超过报警值 {limit:g} {unit}",
        source=_BEARING,
    ),
    ThresholdRule(
        rule="bearing_temperature_critical",
        quantity="bearing_temperature",
        unit="degC",
        above=95.0,
        clear=90.0,
        severity="critical",
        message_zh="{device}轴承温度 {value:.1f} {unit}，超过停机值 {limit:g} {unit}，请立即检查润滑与负载",
        source=_BEARING,
    ),
    ThresholdRule(
        rule="motor_temperature_high",
        quantity="motor_temperature",
        unit="degC",
        above=120.0,
        clear=110.0,
        severity="warning",
        message_zh="{device}电机温度 {value:.1f} {unit}，超过 B 级绝缘温度限值 {limit:g} {unit}",
        source=_IEC_60034,
    ),
    ThresholdRule(
        rule="motor_temperature_critical",
        quantity="motor_temperature",
        unit="degC",
        above=145.0,
        clear=135.0,
        severity="critical",
        message_zh="{device}电机温度 {value:.1f} {unit}，超过 F 级绝缘温度限值 {limit:g} {unit}，请降载或停机检查",
        source=_IEC_60034,
    ),
)

RATE_RULES: tuple[RateRule, ...] = (
    RateRule(
        rule="active_power_step",
        quantity="active_power",
        unit="kW",
        max_rise_per_min=1000.0,
        max_fall_per_min=1000.0,
        severity="warning",
        message_zh=(
            "{device}有功功率变化 {rate:+.0f} {unit}/分钟（现值 {value:.0f} {unit}），超过 {limit:g} {unit}/分钟，"
            "疑似跳闸或大负荷投切"
        ),
        source=_POWER_STEP,
    ),
)

STALE_RULES: tuple[StaleRule, ...] = (
    StaleRule(
        rule="point_stale",
        quantity=None,
        intervals=3,
        severity="warning",
        message_zh="{device} 测点 {point} 已 {minutes:.0f} 分钟无数据（采样间隔 {interval_s} 秒，超过 {intervals} 个间隔）",
        source=_STALE,
    ),
)

#: The default rule set of ``AlertEngine``.
RULES: tuple[Rule, ...] = THRESHOLD_RULES + RATE_RULES + STALE_RULES
