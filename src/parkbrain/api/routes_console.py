"""REST routes behind the web console's pages: thin, over the caller's ``Park``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query

from parkbrain.api.auth import ParkDep

router = APIRouter(tags=["console"])

Id = Annotated[str, Path(min_length=1, max_length=128)]


@router.get("/api/console/province")
def console_province(
    p: ParkDep,
    layer: Annotated[
        Literal["energy", "carbon", "aqi"], Query(description="the choropleth layer: tce, tCO2 or AQI")
    ] = "energy",
) -> dict[str, Any]:
    """The province map (一张图): KPIs, the layer per prefecture, the parks and their ranking — this
    month so far (Asia/Shanghai). The province sees every park, others their own."""
    return p.console_province(layer)


@router.get("/api/console/parks/{park_id}")
def console_park(p: ParkDep, park_id: Id) -> dict[str, Any]:
    """A park's page: boundary, buildings, enterprises (energy, carbon, open alerts), the 15-minute
    load curve (today, yesterday, last week), air quality (now, last 7 days) and open alerts."""
    return p.console_park(park_id)


@router.get("/api/console/enterprises/{enterprise_id}")
def console_enterprise(p: ParkDep, enterprise_id: Id) -> dict[str, Any]:
    """An enterprise's page: meters with latest values, this month's consumption by carrier, 12
    months of tce and tCO2, carbon with its factor, 单位产值能耗 and its alerts."""
    return p.console_enterprise(enterprise_id)


@router.get("/api/console/config")
def console_config(p: ParkDep) -> dict[str, Any]:
    """The console's settings: base-map tiles (``PARKBRAIN_TILE_URL``; null: boundaries only) and languages."""
    return p.console_config()
