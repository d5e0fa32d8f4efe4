"""REST routes for equipment health and forecasting: thin, over the caller's ``Park`` (no SQL, no rules)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field, StringConstraints

from parkbrain.api.auth import ParkDep

router = APIRouter(tags=["health"])

Time = Annotated[str, Query(min_length=4, max_length=40, description="ISO 8601; naive = Asia/Shanghai")]
SensorName = Annotated[str, StringConstraints(min_length=1, max_length=128)]
SensorValue = Annotated[float, Field(ge=-1e12, le=1e12)]


class DetectRequest(BaseModel):
    """Rows of sensor values in time order; the first ``train_rows`` are taken as normal behaviour."""

    train_rows: int = Field(default=400, ge=10, le=20_000)
    rows: list[dict[SensorName, SensorValue]] = Field(min_length=11, max_length=20_000)


@router.post("/api/detect")
def post_detect(p: ParkDep, body: DetectRequest) -> list[dict[str, Any]]:
    """Anomaly scores of posted sensor rows: per row ``row``, ``score`` (above 1 is anomalous), ``anomaly``
    (0/1) and ``top_sensors`` (the sensors that contributed most, where anomalous)."""
    return p.detect_rows(body.rows, body.train_rows)


@router.get("/api/devices/{device_id}/health")
def device_health(
    p: ParkDep,
    device_id: Annotated[str, Path(min_length=1, max_length=128)],
    start: Time | None = None,
    end: Time | None = None,
) -> dict[str, Any]:
    """Anomaly episodes of a device's sensors (default: the last 30 days) with their fault hints
    (``top_sensors``: point, quantity, share of the anomaly)."""
    return p.device_health(device_id, start, end)


@router.get("/api/points/{point_id}/forecast")
def point_forecast(
    p: ParkDep,
    point_id: Annotated[str, Path(min_length=1, max_length=128)],
    interval: Literal["15m", "1h", "1d"] = "15m",
    horizon_days: Annotated[int, Query(ge=1, le=31)] = 1,
    holidays: Literal["cn", "none"] = "cn",
) -> dict[str, Any]:
    """Forecast of a point's next whole days (consumption for energy points, the mean otherwise) with
    ``lower``/``upper`` bounds."""
    return p.forecast_point(point_id, interval, horizon_days, holidays)


@router.get("/api/forecast/energy")
def energy_forecast(
    p: ParkDep,
    park_id: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
    enterprise_id: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
    carrier: Literal["electricity", "water", "steam", "natural_gas"] = "electricity",
    by: Literal["enterprise", "park"] | None = None,
    today: Annotated[str | None, Query(min_length=10, max_length=10, description="ISO date")] = None,
) -> list[dict[str, Any]]:
    """This month's daily consumption forecast beside the actual, with month totals (``outlook_total``:
    actual so far + forecast of the rest), for the caller's points together or per enterprise or park."""
    return p.energy_forecast(park_id, enterprise_id, carrier, by, today)
