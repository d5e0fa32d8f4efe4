"""REST routes behind the web console's pages: thin, over the caller's ``Park``."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Path, Query

from parkbrain.api.auth import ParkDep

#: Set to 0 to start the server without the console warm-up thread.
WARM_ENV = "PARKBRAIN_CONSOLE_WARM"


@asynccontextmanager
async def _console_warm_up(app: FastAPI) -> AsyncIterator[None]:
    """While the server runs, a background thread keeps the console's pages warm (``Park.console_warmer``)."""
    warmer = None
    if os.environ.get(WARM_ENV, "1") != "0":
        warmer = app.state.park.console_warmer().start()
    app.state.console_warmer = warmer
    try:
        yield
    finally:
        if warmer is not None:
            warmer.stop()


router = APIRouter(tags=["console"], lifespan=_console_warm_up)

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


@router.get("/api/console/quality")
def console_quality(
    p: ParkDep,
    park_id: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
    wait_s: Annotated[
        float, Query(ge=0, le=60, description="seconds to wait for a report being computed")
    ] = 0,
) -> dict[str, Any]:
    """The data page's quality report: the last one computed (``status`` ready, with ``generated_at``)
    or ``computing``; recomputed in the background when the data changed or it is old."""
    return p.console_quality(park_id, wait_s)


@router.get("/api/console/config")
def console_config(p: ParkDep) -> dict[str, Any]:
    """The console's settings: base-map tiles (``PARKBRAIN_TILE_URL``; null: boundaries only) and languages."""
    return p.console_config()
