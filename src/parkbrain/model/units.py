"""Units of measure: pint, plus the Chinese units park records are written in.

``convert(values, "万千瓦时", "kWh")`` multiplies by 10 000; a unit that cannot be converted to the
target (``m3`` to ``kWh``, an unknown word) raises ``UnitError`` — it is never guessed.

Chinese units (and the usual ways they are written in spreadsheets):

==========================  ==========================================
千瓦时, 度, 千瓦·时           kWh
万千瓦时, 万度                 10 000 kWh
兆瓦时                        MWh
立方米, 方, 立方               m³
万立方米, 万方                 10 000 m³
平方米, 公顷, 亩              m², ha, 666.67 m² (1 亩 = 10 000/15 m²)
吨, 万吨                      t, 10 000 t
元, 万元, 亿元                 CNY, 10 000 CNY, 100 000 000 CNY (currency: converts only to currency)
千瓦, 兆瓦                    kW, MW
==========================  ==========================================

Reactive energy (kvarh) and reactive power (kvar) are their own dimension, so they never convert
to kWh or kW. ``g`` alone means gram; vibration sensors' acceleration in standard gravities is
written ``g0`` or ``gn``.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import numpy as np

#: Chinese unit words → pint expressions, longest first when matching.
CHINESE_UNITS: dict[str, str] = {
    "万千瓦时": "1e4 * kWh",
    "万千瓦·时": "1e4 * kWh",
    "万度": "1e4 * kWh",
    "千瓦时": "kWh",
    "千瓦·时": "kWh",
    "兆瓦时": "MWh",
    "度": "kWh",
    "万立方米": "1e4 * m**3",
    "万方": "1e4 * m**3",
    "立方米": "m**3",
    "立方": "m**3",
    "方": "m**3",
    "平方米": "m**2",
    "平方公里": "km**2",
    "公顷": "hectare",
    "亩": "(10000/15) * m**2",
    "万吨": "1e4 * t",
    "吨": "t",
    "千克": "kg",
    "公斤": "kg",
    "亿元": "1e8 * CNY",
    "万元": "1e4 * CNY",
    "元": "CNY",
    "兆瓦": "MW",
    "千瓦": "kW",
    "瓦": "W",
    "摄氏度": "degC",
    "℃": "degC",
    "微克/立方米": "ug/m**3",
    "毫克/立方米": "mg/m**3",
    "小时": "hour",
    "人": "dimensionless",
    "个": "dimensionless",
}

_DEFINITIONS = (
    "yuan = [currency] = CNY = RMB",
    "var = [reactive_power] = VAr = VAR = kvar_unit_base",
    "varh = var * hour = VArh = VARh",
    "kvar = 1e3 * var = kVAr = kVAR",
    "kvarh = 1e3 * varh = kVArh = kVARh = kVarh",
    "tCO2 = tonne = tCO2e",
    "gn_accel = 9.80665 * m / s**2 = g0 = gn",
)
#: "m3", "ug/m3", "m2": a letter then 2 or 3 is a power (but not the 2 of "CO2").
_POWER = re.compile(r"(?<!CO)(?<=[A-Za-z])([23])(?![\w.*])")
_SUPERSCRIPTS = str.maketrans({"³": "**3", "²": "**2", "·": "*", "µ": "u", "μ": "u"})


class UnitError(ValueError):
    """A unit is unknown, or cannot be converted to the unit asked for."""


@cache
def registry() -> Any:
    import pint

    ureg = pint.UnitRegistry(autoconvert_offset_to_baseunit=True)
    for line in _DEFINITIONS:
        ureg.define(line)
    return ureg


def _normalise(text: str) -> str:
    text = text.strip()
    for word in sorted(CHINESE_UNITS, key=len, reverse=True):
        if word in text:
            text = text.replace(word, f"({CHINESE_UNITS[word]})")
    text = text.translate(_SUPERSCRIPTS)
    return _POWER.sub(r"**\1", text)


@cache
def parse_unit(text: str) -> Any:
    """A pint ``Quantity`` of 1 in ``text`` (a unit, possibly Chinese); ``UnitError`` if unknown."""
    if text is None or not str(text).strip():
        raise UnitError("no unit given")
    import pint

    try:
        return registry().Quantity(_normalise(str(text)))
    except (
        pint.errors.UndefinedUnitError,
        pint.errors.DefinitionSyntaxError,
        AttributeError,
        TypeError,
    ) as exc:
        raise UnitError(f"unknown unit {text!r} ({exc})") from None
    except Exception as exc:  # tokenizer errors on odd text
        raise UnitError(f"unknown unit {text!r}: {exc}") from None


def is_known_unit(text: str) -> bool:
    try:
        parse_unit(text)
    except UnitError:
        return False
    return True


@cache
def conversion(from_unit: str, to_unit: str) -> tuple[float, float]:
    """``(scale, offset)`` such that ``value_to = value_from * scale + offset``."""
    import pint

    source, target = parse_unit(from_unit), parse_unit(to_unit)
    try:
        zero = (source * 0).to(target.units).magnitude / target.magnitude
        one = (source * 1).to(target.units).magnitude / target.magnitude
    except pint.errors.DimensionalityError:
        raise UnitError(
            f"{from_unit!r} cannot be converted to {to_unit!r} "
            f"({source.dimensionality} is not {target.dimensionality})"
        ) from None
    return float(one - zero), float(zero)


def convert(values: Any, from_unit: str, to_unit: str) -> Any:
    """``values`` (a number or an array) in ``from_unit`` expressed in ``to_unit``."""
    if from_unit == to_unit:
        return values
    scale, offset = conversion(from_unit, to_unit)
    if isinstance(values, (int, float)):
        return values * scale + offset
    return np.asarray(values, dtype="float64") * scale + offset
