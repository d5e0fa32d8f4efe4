"""REST routes for air quality and noise: thin, over the caller's ``Park`` (no SQL, no business rules)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from parkbrain.analytics.aqi_standards import DEFAULT_NOISE_CLASS, DEFAULT_ZONE_CLASS
from parkbrain.api.auth import ParkDep

router = APIRouter(tags=["air"])

Id = Annotated[str, Query(min_length=1, max_length=128)]
Time = Annotated[str, Query(min_length=4, max_length=40, description="ISO 8601; naive = Asia/Shanghai")]
Standard = Annotated[
    Literal["auto", "2012", "2026"],
    Query(description="HJ 633 / GB 3095 edition: auto = by date (2026 editions from 2026-03-01)"),
]
Concentration = Annotated[float | None, Field(default=None, ge=0, le=1_000_000)]


class AqiRow(BaseModel):
    """Concentrations of one row (µg/m³; CO mg/m³); the pollutants the report needs."""

    time: str | None = Field(default=None, max_length=40, description="ISO 8601; needed for standard auto")
    so2: Concentration = None
    no2: Concentration = None
    co: Concentration = None
    o3: Concentration = Field(default=None, ge=0, le=1_000_000, description="1-h (hourly) or daily max 1-h")
    o3_8h: Concentration = Field(default=None, ge=0, le=1_000_000, description="daily max 8-h (daily report)")
    pm10: Concentration = None
    pm2_5: Concentration = None
    so2_24h: Concentration = Field(
        default=None, ge=0, le=1_000_000, description="SO2 24-h mean (HJ 633-2012 rule above 800 µg/m³ 1-h)"
    )


class AqiRequest(BaseModel):
    report: Literal["hourly", "daily"] = "hourly"
    standard: Literal["auto", "2012", "2026"] = "auto"
    rows: list[AqiRow] = Field(min_length=1, max_length=10_000)


@router.get("/api/air/aqi")
def air_aqi(
    p: ParkDep,
    park_id: Id | None = None,
    start: Time | None = None,
    end: Time | None = None,
    interval: Literal["1h", "1d"] = "1h",
    standard: Standard = "auto",
    zone_class: Annotated[int, Query(ge=1, le=2, description="GB 3095 zone class")] = DEFAULT_ZONE_CLASS,
) -> dict[str, Any]:
    """Hourly (real-time) or daily AQI (HJ 633) of the air stations the caller may read, with each
    IAQI, level, primary pollutant and the GB 3095 exceedances of each row."""
    return p.air_quality(park_id, start, end, interval, standard, zone_class)


@router.get("/api/air/noise")
def air_noise(
    p: ParkDep,
    park_id: Id | None = None,
    start: Time | None = None,
    end: Time | None = None,
    zone_class: Literal["0", "1", "2", "3", "4a", "4b"] = DEFAULT_NOISE_CLASS,  # type: ignore[assignment]
) -> dict[str, Any]:
    """Day (06–22) and night (22–06) LAeq of the noise points the caller may read against GB 3096-2008."""
    return p.noise(park_id, start, end, zone_class)


@router.get("/api/air/standards")
def air_standards(p: ParkDep) -> dict[str, Any]:
    """The reference tables with their sources: HJ 633-2012/2026 breakpoints and special rules, AQI
    levels, GB 3095-2012/2026 limits, data validity, GB 3096-2008 noise limits, AQI alert rules."""
    return p.air_standards()


@router.post("/api/aqi")
def post_aqi(p: ParkDep, body: AqiRequest) -> list[dict[str, Any]]:
    """AQI of posted concentrations: each IAQI, AQI, level, primary pollutant(s), 超标污染物."""
    rows = [r.model_dump() for r in body.rows]
    return p.aqi_rows(rows, body.report, body.standard)
