"""Air quality index (HJ 633), GB 3095 exceedances and GB 3096 noise: pure, vectorised functions.

Every function takes numpy arrays (or scalars) and returns arrays; missing values are NaN. The numbers
come from ``aqi_standards``. The computation of one report row:

1. each concentration is rounded per GB/T 8170 (round half to even: integers, CO one decimal);
2. IAQI_P = (IAQI_Hi − IAQI_Lo) / (BP_Hi − BP_Lo) × (C_P − BP_Lo) + IAQI_Lo on the segment holding C_P,
   rounded **up** (HJ 633 "全部进位取整数"); the special rules of the edition replace it above their limit;
3. AQI = max IAQI, computed only when every IAQI of the report is there (a partial AQI is not an AQI,
   as CNEMC publishes none); primary pollutants = those with IAQI = AQI when AQI > 50 (ties: several);
   超标污染物 = IAQI > 100.

``compute_*`` functions over the store are in ``aqi_compute``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from parkbrain.analytics.aqi_standards import (
    DEFAULT_ZONE_CLASS,
    EDITION_2026_FROM,
    GB3095_EDITIONS,
    LEVELS,
    POLLUTANT_INFO,
    AqiEdition,
    Breakpoints,
    aqi_edition,
    check_standard,
)
from parkbrain.errors import InvalidInput

ArrayLike = Any
_EPS = 1e-9  # float noise tolerated before rounding up (e.g. 59.000000000001 is 59)


def _array(values: ArrayLike) -> np.ndarray:
    return np.asarray(values, dtype=np.float64).reshape(-1) if np.ndim(values) else np.array([float(values)])


def round_concentration(values: ArrayLike, pollutant: str) -> np.ndarray:
    """Concentrations rounded per GB/T 8170 (四舍六入五成双): integers; CO (mg/m³) to one decimal."""
    decimals = POLLUTANT_INFO[pollutant].decimals
    scaled = np.round(_array(values) * 10**decimals, 6)  # decimal text 0.15 is 1.4999… in binary
    return np.rint(scaled) / 10**decimals


def interpolate_iaqi(values: ArrayLike, table: Breakpoints) -> np.ndarray:
    """IAQI by linear interpolation on ``table`` (no rounding, no special rule): NaN where missing or
    negative, NaN past the last defined breakpoint (the caller applies the edition's rule there)."""
    c = _array(values)
    steps = np.array([i for i, _ in table.defined], dtype=np.float64)
    bps = np.array([b for _, b in table.defined], dtype=np.float64)
    seg = np.clip(np.searchsorted(bps, c, side="left"), 1, len(bps) - 1)  # C in (BP_lo, BP_hi]
    lo, hi = seg - 1, seg
    with np.errstate(invalid="ignore"):
        out = (steps[hi] - steps[lo]) / (bps[hi] - bps[lo]) * (c - bps[lo]) + steps[lo]
    out[(c < 0) | np.isnan(c) | (c > bps[-1])] = np.nan
    return out


def round_up(values: ArrayLike) -> np.ndarray:
    """Round up to an integer (进位取整), tolerating float noise."""
    return np.ceil(_array(values) - _EPS)


def iaqi(
    values: ArrayLike,
    pollutant: str,
    averaging: str,
    edition: AqiEdition,
    fallback: ArrayLike | None = None,
) -> np.ndarray:
    """IAQI of concentrations of ``pollutant`` rated on the ``averaging`` table of ``edition``.

    Concentrations are rounded first (GB/T 8170), the IAQI rounded up. Past the special-rule limit
    (SO2 1-h, O3 8-h above 800 µg/m³) the edition's rule applies: a fixed IAQI (2026) or the IAQI of
    ``fallback`` — concentrations of the other averaging (2012: SO2 24-h, O3 1-h), NaN without them.
    Other concentrations past the table's end rate ``edition.above_table`` (500).
    """
    table = edition.table(pollutant, averaging)
    c = round_concentration(values, pollutant)
    out = round_up(interpolate_iaqi(c, table))
    top = table.defined[-1][1]
    beyond = c > top
    rule = next(
        (r for r in edition.special_rules if r.pollutant == pollutant and r.averaging == averaging), None
    )
    if rule is None:
        out[beyond] = edition.above_table
    elif rule.iaqi is not None:
        out[c > rule.above] = rule.iaqi
    else:
        other = (
            np.full(len(c), np.nan)
            if fallback is None
            else iaqi(np.broadcast_to(_array(fallback), c.shape), pollutant, rule.fallback, edition)
        )
        out = np.where(c > rule.above, other, out)
    return out


# -- one report: IAQI per pollutant, AQI, primary pollutants, level ----------------------------------


@dataclass(frozen=True)
class AqiResult:
    """IAQI per indicator, AQI, level and primary pollutants of each row (arrays of equal length)."""

    edition: np.ndarray  # edition code per row
    iaqi: dict[str, np.ndarray]  # indicator -> IAQI (NaN: not rated)
    aqi: np.ndarray  # NaN: no AQI (an IAQI of the report is missing)
    level: np.ndarray  # 1…6, 0 where no AQI

    def __len__(self) -> int:
        return len(self.aqi)

    def primary(self, i: int) -> list[str]:
        """Primary pollutants of row ``i`` (indicator codes, table order): IAQI = AQI and AQI > 50."""
        aqi = self.aqi[i]
        if np.isnan(aqi) or aqi <= 50:
            return []
        return [k for k, v in self.iaqi.items() if v[i] == aqi]

    def exceeding(self, i: int) -> list[str]:
        """超标污染物 of row ``i``: indicators with IAQI > 100."""
        return [k for k, v in self.iaqi.items() if v[i] > 100]

    def row(self, i: int) -> dict[str, Any]:
        """Row ``i`` as JSON-able values (the keys of ``AQI_KEYS``)."""
        return self.rows(np.array([i]))[0]

    def rows(self, index: np.ndarray | None = None) -> list[dict[str, Any]]:
        """Rows (all, or those at ``index``) as JSON-able values, built column by column."""
        index = np.arange(len(self)) if index is None else index
        aqi = self.aqi[index]
        cols: dict[str, list[Any]] = {"standard": self.edition[index].tolist()}
        for key in INDICATORS:
            cols[f"iaqi_{key}"] = _ints(self.iaqi[key][index]) if key in self.iaqi else [None] * len(index)
        cols["aqi"] = _ints(aqi)
        level = self.level[index]
        for name, attr in _LEVEL_ATTRS.items():
            table = [None, *(getattr(lv, attr) for lv in LEVELS)]
            cols[name] = [table[x] for x in level.tolist()]
        keys = list(self.iaqi)
        stack = np.vstack([self.iaqi[k][index] for k in keys]) if keys else np.empty((0, len(index)))
        with np.errstate(invalid="ignore"):
            primary = (stack == aqi) & (aqi > 50)
            exceeding = stack > 100
        cols["primary_pollutants"] = _names(keys, primary)
        cols["primary_pollutant"] = [
            ",".join(POLLUTANT_INFO[p].name_zh for p in ps) or None for ps in cols["primary_pollutants"]
        ]
        cols["exceeding_pollutants"] = _names(keys, exceeding)
        return [dict(zip(cols, values)) for values in zip(*cols.values())]


_LEVEL_ATTRS = {
    "level": "level",
    "level_name": "name_zh",
    "category": "category_zh",
    "category_en": "category_en",
    "color": "color",
}


def _ints(values: np.ndarray) -> list[int | None]:
    return [None if v != v else int(v) for v in values.tolist()]


def _names(keys: list[str], mask: np.ndarray) -> list[list[str]]:
    """Per column of ``mask`` (indicator × row), the indicators set, in table order."""
    if not mask.any():
        return [[] for _ in range(mask.shape[1])]
    return [[keys[k] for k in np.flatnonzero(col)] if col.any() else [] for col in mask.T]


INDICATORS: tuple[str, ...] = ("so2", "no2", "co", "o3", "o3_8h", "pm10", "pm2_5")
AQI_KEYS: tuple[str, ...] = (
    "standard",
    *(f"iaqi_{k}" for k in INDICATORS),
    "aqi",
    "level",
    "level_name",
    "category",
    "category_en",
    "color",
    "primary_pollutants",
    "primary_pollutant",
    "exceeding_pollutants",
)


def level_index(aqi: ArrayLike) -> np.ndarray:
    """AQI level 1…6 of each AQI (0 where NaN)."""
    a = _array(aqi)
    uppers = np.array([lv.upper for lv in LEVELS[:-1]], dtype=np.float64)
    out = np.searchsorted(uppers, a, side="left") + 1
    return np.where(np.isnan(a), 0, out).astype(np.int64)


def _report_iaqi(
    conc: Mapping[str, ArrayLike], edition: AqiEdition, report: str, n: int
) -> dict[str, np.ndarray]:
    """IAQI of each input of ``report`` (keys: ``<indicator>``; the concentrations' keys: the
    indicator for its ``value_averaging``, e.g. ``so2`` for the 1-h or the 24-h value as the report
    needs; ``so2_24h`` and ``o3`` feed the 2012 fallbacks)."""
    out = {}
    for inp in edition.report(report):
        values = conc.get(inp.indicator)
        if values is None:
            out[inp.indicator] = np.full(n, np.nan)
            continue
        pollutant = "o3" if inp.indicator == "o3_8h" else inp.indicator
        fallback = (
            conc.get("so2_24h") if pollutant == "so2" else conc.get("o3") if pollutant == "o3" else None
        )
        out[inp.indicator] = iaqi(
            np.broadcast_to(_array(values), (n,)), pollutant, inp.table, edition, fallback
        )
    return out


def compute_aqi(
    conc: Mapping[str, ArrayLike],
    report: str = "hourly",
    standard: str = "auto",
    dates: Sequence[date] | np.ndarray | None = None,
) -> AqiResult:
    """AQI of rows of concentrations (µg/m³; CO mg/m³) for the ``hourly`` (real-time) or ``daily`` report.

    ``conc`` maps an indicator to its values: hourly — ``so2, no2, co, o3, pm10, pm2_5`` (1-h means;
    ``so2_24h`` optional, for the 2012 rule above 800); daily — ``so2, no2, co, pm10, pm2_5`` (24-h
    means), ``o3_8h`` (daily max 8-h) and, under 2012, ``o3`` (daily max 1-h). ``standard``: ``2012``,
    ``2026`` or ``auto`` (by ``dates``, the local date of each row).
    """
    check_standard(standard)
    n = max((len(_array(v)) for v in conc.values()), default=0)
    arrays = {k: np.broadcast_to(_array(v), (n,)) for k, v in conc.items()}
    is_2026 = _is_2026(standard, dates, n)
    iaqis = {k: np.full(n, np.nan) for k in INDICATORS}
    aqi = np.full(n, np.nan)
    rated: set[str] = set()
    for edition, mask in ((aqi_edition("2012"), ~is_2026), (aqi_edition("2026"), is_2026)):
        if not mask.any():
            continue
        part = _report_iaqi({k: v[mask] for k, v in arrays.items()}, edition, report, int(mask.sum()))
        for key, values in part.items():
            iaqis[key][mask] = values
            rated.add(key)
        stack = np.vstack(list(part.values()))
        complete = ~np.isnan(stack).any(axis=0)
        aqi[mask] = np.where(complete, np.max(np.nan_to_num(stack, nan=-1), axis=0), np.nan)
    codes = np.where(is_2026, aqi_edition("2026").code, aqi_edition("2012").code)
    kept = {k: v for k, v in iaqis.items() if k in rated}
    return AqiResult(codes, kept, aqi, level_index(aqi))


def _local_days(dates: Sequence[date] | np.ndarray) -> np.ndarray:
    return np.asarray(dates, dtype="datetime64[D]")


def _is_2026(standard: str, dates: Sequence[date] | np.ndarray | None, n: int) -> np.ndarray:
    """Whether each row is rated on HJ 633-2026 (forced, or by its date)."""
    if standard != "auto":
        return np.full(n, standard == "2026")
    if dates is None or len(dates) != n:
        raise InvalidInput("standard auto: give the date of every row")
    return _local_days(dates) >= np.datetime64(EDITION_2026_FROM)


# -- GB 3095 exceedances -----------------------------------------------------------------------------

#: Which concentration of a report is checked against which GB 3095 limit (pollutant, averaging).
HOURLY_LIMITS: tuple[tuple[str, str, str], ...] = (
    ("so2", "so2", "1h"),
    ("no2", "no2", "1h"),
    ("co", "co", "1h"),
    ("o3", "o3", "1h"),
)
DAILY_LIMITS: tuple[tuple[str, str, str], ...] = (
    ("so2", "so2", "24h"),
    ("no2", "no2", "24h"),
    ("co", "co", "24h"),
    ("o3_8h", "o3", "8h"),
    ("o3", "o3", "1h"),
    ("pm10", "pm10", "24h"),
    ("pm2_5", "pm2_5", "24h"),
)


def exceedances(
    conc: Mapping[str, ArrayLike],
    dates: Sequence[date] | np.ndarray,
    report: str = "hourly",
    zone_class: int = DEFAULT_ZONE_CLASS,
    standard: str = "auto",
) -> list[list[dict[str, Any]]]:
    """GB 3095 exceedances of each row: for every concentration above its limit, a dict of the
    indicator, averaging, value, limit, unit and standard (edition by the row's local date: 2012, 2026
    transition, 2026 final; ``standard`` forces 2012 or 2026). Hourly rows are checked on the 1-h
    limits, daily rows on the 24-h limits, the O3 daily maximum 8-h mean and the daily maximum 1-h O3."""
    check_standard(standard)
    days = _local_days(dates)
    n = len(days)
    period = _gb3095_period(standard, days)
    out: list[list[dict[str, Any]]] = [[] for _ in range(n)]
    for key, pollutant, averaging in HOURLY_LIMITS if report == "hourly" else DAILY_LIMITS:
        if key not in conc:
            continue
        limit = np.full(n, np.nan)
        for i, edition in enumerate(GB3095_EDITIONS):
            found = edition.limit(pollutant, averaging)
            if found is not None:
                limit[period == i] = found.value(zone_class)
        values = round_concentration(np.broadcast_to(_array(conc[key]), (n,)), key)
        with np.errstate(invalid="ignore"):
            over = np.flatnonzero(values > limit)
        for i in over:  # only the rows that exceed: few
            e = GB3095_EDITIONS[period[i]]
            out[i].append(
                {
                    "pollutant": key,
                    "averaging": averaging,
                    "value": float(values[i]),
                    "limit": float(limit[i]),
                    "unit": POLLUTANT_INFO[key].unit,
                    "standard": e.code if e.period == "2012" else f"{e.code} {e.period}",
                    "zone_class": zone_class,
                }
            )
    return out


def _gb3095_period(standard: str, days: np.ndarray) -> np.ndarray:
    """Index into ``GB3095_EDITIONS`` of each day: 0 = 2012, 1 = 2026 transition, 2 = 2026 final."""
    final = days >= np.datetime64(GB3095_EDITIONS[2].effective_from)
    if standard == "2012":
        return np.zeros(len(days), np.int64)
    if standard == "2026":
        return np.where(final, 2, 1)
    return np.where(final, 2, np.where(days >= np.datetime64(EDITION_2026_FROM), 1, 0))


# -- GB 3096 noise -----------------------------------------------------------------------------------


def energy_mean_db(levels: ArrayLike) -> float:
    """Energy-average of sound levels: 10·lg(mean(10^(L/10))), NaN values ignored."""
    a = _array(levels)
    a = a[~np.isnan(a)]
    return float("nan") if len(a) == 0 else float(10 * np.log10(np.mean(10 ** (a / 10))))


def noise_exceeds(laeq_db: ArrayLike, limit_db: ArrayLike) -> np.ndarray:
    """Whether each LAeq exceeds its limit (rounded to 0.1 dB(A) first, GB/T 8170)."""
    level = np.rint(np.round(_array(laeq_db) * 10, 6)) / 10
    with np.errstate(invalid="ignore"):
        return level > _array(limit_db)
