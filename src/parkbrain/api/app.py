"""The REST API: thin routes over ``Park`` (no SQL, no business rules here)."""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from parkbrain import __version__
from parkbrain.core import Park
from parkbrain.errors import InvalidInput, ParkError, QueryError
from parkbrain.model.timeutil import parse_time

API_DESCRIPTION = """ParkBrain (园区大脑) REST API: regions, parks, enterprises and telemetry of a province of
industrial parks. Times are ISO 8601; naive times are Asia/Shanghai. Readings are served from rollups."""


class ReadingsPage(BaseModel):
    point_id: str
    unit: str
    quantity: str
    value_kind: str
    interval: str = Field(description="rollup used: 15m, 1h or 1d")
    start: datetime
    end: datetime
    readings: list[dict[str, Any]] = Field(
        description="ts (bucket start, UTC), value (mean), min, max, n, last, delta (consumption, cumulative points)"
    )


class SqlRequest(BaseModel):
    query: str
    limit: int | None = Field(default=10_000, ge=1, le=1_000_000)


def get_park(request: Request) -> Park:
    """The ``Park`` the app serves."""
    return request.app.state.park


ParkDep = Annotated[Park, Depends(get_park)]


def create_app(park: Park, local_token: str | None = None) -> FastAPI:
    """The API over one ``Park``. ``local_token`` enables the routes the CLI uses while serving."""
    app = FastAPI(title="ParkBrain API", version=__version__, description=API_DESCRIPTION)
    app.state.park = park

    @app.exception_handler(ParkError)
    async def _park_error(request: Request, exc: ParkError) -> JSONResponse:
        return JSONResponse(
            status_code=exc.http_status,
            content={"error": {"type": type(exc).__name__, "message": exc.message}},
        )

    @app.get("/healthz", tags=["system"])
    def healthz(p: ParkDep) -> dict[str, Any]:
        """Liveness and the schema version of the database."""
        return {"status": "ok", "version": __version__, "schema_version": p.store.schema_version()}

    @app.get("/api/regions", tags=["map"])
    def regions(
        p: ParkDep,
        level: Annotated[str | None, Query(pattern="^(province|prefecture|county)$")] = None,
        geometry: bool = False,
    ) -> list[dict[str, Any]]:
        """Administrative regions (GB/T 2260 codes), optionally with GeoJSON geometry."""
        return p.regions(level=level, geometry=geometry)

    @app.get("/api/parks", tags=["map"])
    def parks(
        p: ParkDep,
        region_code: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
        boundary: bool = False,
    ) -> list[dict[str, Any]]:
        """Parks with their enterprise counts, optionally of one prefecture and with boundaries."""
        return p.parks(region_code=region_code, boundary=boundary)

    @app.get("/api/parks/{park_id}", tags=["map"])
    def park_detail(p: ParkDep, park_id: str) -> dict[str, Any]:
        """One park with its boundary and counts of enterprises, buildings, devices and open alerts."""
        return p.park(park_id)

    @app.get("/api/enterprises", tags=["enterprises"])
    def enterprises(
        p: ParkDep,
        response: Response,
        park_id: str | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> list[dict[str, Any]]:
        """Enterprises, optionally of one park; the total is in the ``X-Total-Count`` header."""
        rows, total = p.enterprises(park_id=park_id, limit=limit, offset=offset)
        response.headers["X-Total-Count"] = str(total)
        return rows

    @app.get("/api/points/{point_id}/readings", tags=["telemetry"], response_model=ReadingsPage)
    def point_readings(
        p: ParkDep,
        point_id: str,
        start: Annotated[str | None, Query(description="ISO 8601; default 7 days before end")] = None,
        end: Annotated[
            str | None, Query(description="ISO 8601; default just after the latest reading")
        ] = None,
        interval: Annotated[str, Query(pattern="^(auto|15m|1h|1d)$")] = "auto",
    ) -> dict[str, Any]:
        """Readings of a point from the 15-min, hourly or daily rollups."""
        result = p.readings(point_id, _time(start, "start"), _time(end, "end"), interval)
        point = result.point
        return {
            "point_id": point_id,
            "unit": point["unit"],
            "quantity": point["quantity"],
            "value_kind": point["value_kind"],
            "interval": result.interval,
            "start": result.start,
            "end": result.end,
            "readings": result.table.to_pylist(),
        }

    if local_token:
        _local_routes(app, local_token)
    return app


def _time(text: str | None, field: str) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_time(text, field)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


def _local_routes(app: FastAPI, token: str) -> None:
    """Routes through which the CLI works on a database the server holds (token from the lock file)."""

    def check(x_parkbrain_local_token: Annotated[str | None, Header()] = None) -> None:
        if not x_parkbrain_local_token or not hmac.compare_digest(x_parkbrain_local_token, token):
            raise _Forbidden("this route is for the parkbrain CLI on the same machine")

    @app.post("/api/local/sql", tags=["local"], dependencies=[Depends(check)])
    def local_sql(p: ParkDep, body: SqlRequest) -> dict[str, Any]:
        """Run a read-only SELECT for ``parkbrain sql`` while the server holds the database."""
        table = p.sql(body.query, limit=body.limit)
        return {"columns": table.column_names, "rows": table.to_pylist()}

    @app.get("/api/local/info", tags=["local"], dependencies=[Depends(check)])
    def local_info(p: ParkDep) -> dict[str, Any]:
        """``parkbrain info`` while the server holds the database."""
        return p.info()


class _Forbidden(QueryError):
    http_status = 403
