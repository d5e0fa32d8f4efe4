"""Synthetic but realistic time series for the demo: factory loads, utilities, air quality, machines.

Everything is vectorised over the time grid; shapes follow how Chinese factories actually run:
shift patterns, weekends, public holidays and 调休 make-up days, the cooling season, daily
production noise, maintenance days, and meters that get replaced (register resets).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from parkbrain.demo.calendar import HOLIDAY, WEEKEND, WORKDAY, Grid

# Day-type factors per shift pattern: (workday, weekend, holiday).
_DAY_FACTORS = {1: (1.0, 0.30, 0.15), 2: (1.0, 0.55, 0.25), 3: (1.0, 0.93, 0.85)}


def shift_shape(hours: np.ndarray, shifts: int) -> np.ndarray:
    """Relative load (0–1) by local hour of day for a 1-, 2- or 3-shift operation."""
    if shifts >= 3:
        # Continuous process: flat with small dips at shift changes (8, 16, 0 h) and a night trough.
        dips = sum(0.06 * np.exp(-((((hours - h) % 24 + 12) % 24 - 12) ** 2) / 0.15) for h in (0, 8, 16))
        return 0.92 + 0.05 * np.cos((hours - 14) / 24 * 2 * np.pi) - dips
    on = _ramp(hours, 7.75, 0.5) - _ramp(hours, 12.0, 0.25) + _ramp(hours, 13.25, 0.25)
    if shifts == 1:
        on = on - _ramp(hours, 17.5, 0.5)
        return 0.22 + 0.78 * np.clip(on, 0, 1)
    on = on - 0.3 * (_ramp(hours, 17.75, 0.25) - _ramp(hours, 18.5, 0.25)) - _ramp(hours, 23.5, 0.5)
    return 0.28 + 0.72 * np.clip(on, 0, 1)


def _ramp(hours: np.ndarray, at: float, width: float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(hours - at) / (width / 4)))


def daily_temperature_c(grid: Grid, rng: np.random.Generator) -> np.ndarray:
    """A plausible daily mean air temperature for Guangxi per local day (°C)."""
    doy = np.array([d.timetuple().tm_yday for d in grid.days], dtype=float)
    seasonal = 21.5 + 7.5 * np.cos((doy - 205) / 365.25 * 2 * np.pi)
    weather = ar1(len(doy), phi=0.8, sigma=1.2, rng=rng)
    return seasonal + weather


def ar1(n: int, phi: float, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """An AR(1) series with stationary standard deviation ``sigma``."""
    noise = rng.normal(0.0, sigma * np.sqrt(1 - phi**2), n)
    return _recursive_filter(noise, phi, rng.normal(0.0, sigma))


def _recursive_filter(x: np.ndarray, phi: float, y0: float, block: int = 48) -> np.ndarray:
    """y[t] = phi * y[t-1] + x[t], vectorised in blocks (phi**-block stays small)."""
    out = np.empty(len(x))
    powers = phi ** np.arange(1, block + 1)
    acc = y0
    for lo in range(0, len(x), block):
        chunk = x[lo : lo + block]
        p = powers[: len(chunk)]
        out[lo : lo + len(chunk)] = p * (acc + np.cumsum(chunk / p))
        acc = out[lo + len(chunk) - 1]
    return out


@dataclass(frozen=True)
class LoadProfile:
    """How one enterprise draws power."""

    mean_kw: float
    shifts: int
    cooling_share: float  # fraction of load that is air conditioning at peak heat
    noise: float = 0.05


def factory_load_kw(
    grid: Grid, profile: LoadProfile, temperature_c: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Active power (kW) at each step of the grid for one enterprise."""
    hours = grid.local_hours
    day = grid.day_index
    shape = shift_shape(hours, profile.shifts)
    work, weekend, holiday = _DAY_FACTORS[min(max(profile.shifts, 1), 3)]
    day_factor = np.select(
        [grid.day_types == WORKDAY, grid.day_types == WEEKEND, grid.day_types == HOLIDAY],
        [work, weekend, holiday],
    )
    # Some firms work Saturdays: raise their weekend factor on Saturdays.
    if profile.shifts < 3 and rng.random() < 0.35:
        saturdays = np.array([d.weekday() == 5 for d in grid.days]) & (grid.day_types == WEEKEND)
        day_factor = np.where(saturdays, 0.8, day_factor)
    production = np.exp(rng.normal(0, 0.06, len(grid.days)))  # order book, day to day
    maintenance = rng.random(len(grid.days)) < 0.012
    production = np.where(maintenance, 0.35, production)
    cooling = profile.cooling_share * np.clip((temperature_c - 22.0) / 8.0, 0, 1.2)
    base = shape * (day_factor * production)[day]
    # Standby load never drops below ~12 % of the mean even on holidays.
    level = np.maximum(base, 0.12) * (1 - profile.cooling_share) + cooling[day] * (0.6 + 0.4 * shape)
    jitter = np.exp(ar1(grid.n, phi=0.9, sigma=profile.noise, rng=rng))
    load = level * jitter
    return profile.mean_kw * load / max(float(load.mean()), 1e-9)


def cumulative_register(
    increments: np.ndarray,
    start_value: float,
    rng: np.random.Generator,
    reset_probability: float = 0.0,
    decimals: int = 2,
) -> tuple[np.ndarray, int | None]:
    """A meter register from per-step increments; with some probability the meter is replaced
    (the register restarts near zero) once. Returns (register, index of the reset or None)."""
    register = start_value + np.cumsum(increments)
    reset_at = None
    if reset_probability and rng.random() < reset_probability:
        reset_at = int(rng.integers(len(increments) // 5, len(increments) - 10))
        register[reset_at:] = np.cumsum(increments[reset_at:])
    return np.round(register, decimals), reset_at


def hourly_mean(values: np.ndarray, steps_per_hour: int) -> np.ndarray:
    """Mean of each block of ``steps_per_hour`` steps (the last partial block included)."""
    n = len(values)
    pad = (-n) % steps_per_hour
    padded = np.concatenate([values, np.full(pad, np.nan)])
    return np.nanmean(padded.reshape(-1, steps_per_hour), axis=1)


@dataclass(frozen=True)
class AirQualityHours:
    pm2_5: np.ndarray
    pm10: np.ndarray
    so2: np.ndarray
    no2: np.ndarray
    co: np.ndarray  # mg/m3
    o3: np.ndarray


def air_quality(
    grid: Grid, regional: np.ndarray, industrial: float, rng: np.random.Generator
) -> AirQualityHours:
    """Hourly concentrations at a park station (µg/m³; CO in mg/m³).

    ``regional`` is a shared log-scale weather signal per hour (episodes move across the province);
    ``industrial`` (0–1) raises SO2/NO2/PM for heavy-industry parks.
    """
    hours = grid.local_hours
    doy = np.array([d.timetuple().tm_yday for d in grid.days])[grid.day_index]
    # Guangxi: clean, wet late summer; particulates rise into autumn and winter.
    season = 22 + 18 * np.clip((doy - 240) / 90, 0, 1.4)
    local = ar1(grid.n, phi=0.97, sigma=0.25, rng=rng)
    diurnal = 1 + 0.18 * np.cos((hours - 22) / 24 * 2 * np.pi) + 0.08 * np.cos((hours - 8) / 12 * 2 * np.pi)
    pm25 = season * (1 + 0.5 * industrial) * diurnal * np.exp(regional + local - 0.05)
    pm10 = pm25 * (1.45 + 0.25 * industrial + 0.1 * np.exp(ar1(grid.n, 0.95, 0.3, rng)))
    traffic = 1 + 0.35 * np.exp(-((hours - 8.5) ** 2) / 2) + 0.45 * np.exp(-((hours - 19) ** 2) / 3)
    no2 = (16 + 18 * industrial) * traffic * np.exp(0.6 * regional + ar1(grid.n, 0.9, 0.2, rng))
    so2 = (6 + 14 * industrial) * np.exp(0.4 * regional + ar1(grid.n, 0.95, 0.35, rng))
    co = (
        (0.55 + 0.3 * industrial)
        * np.exp(0.5 * regional + ar1(grid.n, 0.95, 0.15, rng))
        * (0.9 + 0.1 * traffic)
    )
    sun = np.clip(np.sin((hours - 7) / 12 * np.pi), 0, None) ** 1.5
    o3_season = 70 + 50 * np.exp(-(((doy - 280) / 35) ** 2))  # autumn ozone season in South China
    o3 = (
        12 + o3_season * sun * np.exp(ar1(grid.n, 0.97, 0.25, rng) - 0.3 * regional) + 10 * rng.random(grid.n)
    )
    return AirQualityHours(
        pm2_5=np.round(pm25),
        pm10=np.round(pm10),
        so2=np.round(so2),
        no2=np.round(no2),
        co=np.round(co, 1),
        o3=np.round(o3),
    )


@dataclass(frozen=True)
class MachineSignals:
    vibration_rms: np.ndarray  # mm/s
    temperature: np.ndarray  # °C
    current: np.ndarray  # A


def machine(
    grid: Grid,
    running: np.ndarray,
    rated_current_a: float,
    rng: np.random.Generator,
    fault: str | None = None,
    fault_start: int | None = None,
) -> MachineSignals:
    """Vibration, bearing temperature and motor current of a machine that runs when ``running`` > 0.

    ``fault`` is ``bearing`` (vibration grows exponentially, temperature follows) or ``imbalance``
    (current and temperature step up) from step ``fault_start`` onward.
    """
    n = grid.n
    load = np.clip(running, 0, 1.2)
    on = load > 0.35
    vib = np.where(on, 1.8 + 0.5 * load, 0.15) * np.exp(rng.normal(0, 0.06, n))
    current = np.where(on, rated_current_a * (0.45 + 0.5 * load), 0.3) * np.exp(rng.normal(0, 0.02, n))
    heat = _lag(np.where(on, 28 * load, 0.0), alpha=0.25)
    temp = 24 + heat + rng.normal(0, 0.4, n)
    if fault and fault_start is not None:
        k = np.arange(n) - fault_start
        active = k >= 0
        if fault == "bearing":
            span = max(n - fault_start, 1)
            growth = np.where(active, np.expm1(3.0 * k / span), 0.0) / np.expm1(3.0)
            vib = vib * (1 + 4.5 * growth * on) + 0.6 * growth * on * rng.random(n)
            temp = temp + 18 * growth * on
        else:
            current = np.where(active & on, current * 1.18, current)
            temp = temp + np.where(active & on, 9.0, 0.0)
    return MachineSignals(np.round(vib, 3), np.round(temp, 2), np.round(current, 2))


def _lag(values: np.ndarray, alpha: float) -> np.ndarray:
    """First-order lag (thermal inertia): y[t] = y[t-1] + alpha * (x[t] - y[t-1])."""
    return _recursive_filter(alpha * values, 1 - alpha, values[0])
