"""The REST API: thin routes over ``Park`` (no SQL, no business rules here).

Every route needs credentials except /healthz and the login routes (``api.auth``); each route gets a
``Park`` already limited to the caller, so what a route returns is what the caller may see.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Body, Depends, FastAPI, File, Form, Query, Request, Response, UploadFile
from fastapi import Path as Path_
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, Field

from parkbrain import __version__
from parkbrain.api.auth import ParkDep, authenticate
from parkbrain.api.auth import router as auth_router
from parkbrain.api.responses import paged
from parkbrain.api.routes_air import router as air_router
from parkbrain.api.routes_assistant import router as assistant_router
from parkbrain.api.routes_console import router as console_router
from parkbrain.api.routes_energy import router as energy_router
from parkbrain.api.routes_health import router as health_router
from parkbrain.api.routes_operations import router as operations_router
from parkbrain.api.routes_policy import router as policy_router
from parkbrain.api.security import DEFAULT_MAX_BODY, BodyLimit, RateLimiter, SecurityHeaders
from parkbrain.core import EXPORT_DATASETS, Park
from parkbrain.errors import InvalidInput, ParkError, TooManyRequests, Unauthorized
from parkbrain.model.timeutil import parse_time
from parkbrain.web.pages import router as pages_router

API_DESCRIPTION = """ParkBrain (园区大脑) REST API: regions, parks, enterprises and telemetry of a province of
industrial parks. Times are ISO 8601; naive times are Asia/Shanghai. Readings are served from rollups.

Authenticate with `Authorization: Bearer <token>` (`parkbrain token create`) or a web session
(`POST /api/auth/login`; cookie-authenticated writes send `X-CSRF-Token`). What each route returns is
limited to the caller's scope: its park, its enterprise, and what enterprises granted to it."""

Id = Annotated[str, Query(min_length=1, max_length=128)]
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]


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


class GrantRequest(BaseModel):
    grantee: str = Field(
        min_length=3,
        max_length=140,
        description="park:<park_id>, enterprise:<enterprise_id> or integrator:<org>",
    )
    kind: Literal["points", "metrics"] = Field(description="points: point ids; metrics: quantities")
    items: list[Annotated[str, Field(min_length=1, max_length=128)]] = Field(min_length=1, max_length=1000)
    purpose: str = Field(min_length=1, max_length=500, description="what the data will be used for")
    expires: str = Field(max_length=40, description="30d, 12h, 2w, 1y or an ISO date")
    enterprise_id: str | None = Field(
        default=None, max_length=128, description="province only: on whose behalf"
    )


class TokenRequest(BaseModel):
    role: Literal["province_admin", "park_admin", "park_operator", "enterprise", "integrator", "device"]
    park_id: str | None = Field(default=None, max_length=128)
    enterprise_id: str | None = Field(default=None, max_length=128)
    device_id: str | None = Field(default=None, max_length=128)
    org: str | None = Field(default=None, max_length=100)
    expires: str | None = Field(default=None, max_length=40, description="default 30d")
    name: str | None = Field(default=None, max_length=100)
    rate_per_min: int | None = Field(default=None, ge=1, le=1_000_000)


def create_app(park: Park, local_token: str | None = None, max_body: int = DEFAULT_MAX_BODY) -> FastAPI:
    """The API over one ``Park``. ``local_token`` enables the routes the CLI uses while serving."""
    app = FastAPI(
        title="ParkBrain API",
        version=__version__,
        description=API_DESCRIPTION,
        dependencies=[Depends(authenticate)],
    )
    app.state.park = park
    app.state.local_token = local_token
    app.state.rate_limiter = RateLimiter()
    app.add_middleware(BodyLimit, max_body=max_body)
    app.add_middleware(SecurityHeaders)
    app.include_router(auth_router)
    routers = (air_router, energy_router, health_router, operations_router, console_router)
    for router in (*routers, assistant_router, policy_router, pages_router):
        app.include_router(router)

    @app.exception_handler(ParkError)
    async def _park_error(request: Request, exc: ParkError) -> JSONResponse:
        headers = {}
        if isinstance(exc, Unauthorized):
            headers["WWW-Authenticate"] = 'Bearer realm="parkbrain"'
        if isinstance(exc, TooManyRequests):
            headers["Retry-After"] = str(exc.retry_after)
        return JSONResponse(
            status_code=exc.http_status,
            content={"error": {"type": type(exc).__name__, "message": exc.message}},
            headers=headers,
        )

    @app.get("/healthz", tags=["system"])
    def healthz(request: Request) -> dict[str, Any]:
        """Liveness and the schema version of the database (no credentials needed)."""
        schema = request.app.state.park.store.schema_version()
        return {"status": "ok", "version": __version__, "schema_version": schema}

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
        park_id: Id | None = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> list[dict[str, Any]]:
        """Enterprises the caller may see, optionally of one park; the total is in ``X-Total-Count``."""
        return paged(response, p.enterprises(park_id=park_id, limit=limit, offset=offset))

    @app.get("/api/enterprises/{enterprise_id}", tags=["enterprises"])
    def enterprise_detail(p: ParkDep, enterprise_id: str) -> dict[str, Any]:
        """One enterprise (404 when it does not exist or is not the caller's to see)."""
        return p.enterprise(enterprise_id)

    @app.get("/api/buildings", tags=["map"])
    def buildings(
        p: ParkDep, response: Response, park_id: Id | None = None, limit: Limit = 100, offset: Offset = 0
    ) -> list[dict[str, Any]]:
        """Buildings of the caller's park (all parks for the province), with footprints."""
        return paged(response, p.buildings(park_id=park_id, limit=limit, offset=offset))

    @app.get("/api/devices", tags=["telemetry"])
    def devices(
        p: ParkDep,
        response: Response,
        park_id: Id | None = None,
        enterprise_id: Id | None = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> list[dict[str, Any]]:
        """Devices the caller may see: a park's asset register, an enterprise's own and granted devices."""
        return paged(
            response, p.devices(park_id=park_id, enterprise_id=enterprise_id, limit=limit, offset=offset)
        )

    @app.get("/api/points", tags=["telemetry"])
    def points(
        p: ParkDep,
        response: Response,
        park_id: Id | None = None,
        enterprise_id: Id | None = None,
        device_id: Id | None = None,
        quantity: Id | None = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> list[dict[str, Any]]:
        """Points whose readings the caller may read (own, its park's own devices, or granted)."""
        page = p.points(
            park_id=park_id,
            enterprise_id=enterprise_id,
            device_id=device_id,
            quantity=quantity,
            limit=limit,
            offset=offset,
        )
        return paged(response, page)

    @app.get("/api/points/{point_id}", tags=["telemetry"])
    def point_detail(p: ParkDep, point_id: str) -> dict[str, Any]:
        """One point (404 when it does not exist or is not the caller's to read)."""
        return p.point(point_id)

    @app.get("/api/alerts", tags=["governance"])
    def alerts(
        p: ParkDep,
        response: Response,
        park_id: Id | None = None,
        status: Annotated[str | None, Query(pattern="^(open|acknowledged|closed)$")] = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> list[dict[str, Any]]:
        """Alerts the caller may see, newest first."""
        return paged(response, p.alerts(park_id=park_id, status=status, limit=limit, offset=offset))

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

    @app.post("/api/telemetry/{device_id}", tags=["telemetry"])
    def push_telemetry(
        p: ParkDep,
        device_id: str,
        payload: Annotated[
            dict[str, Any] | list[dict[str, Any]],
            Body(
                description='{"ts": epoch ms or ISO 8601, "values": {"<point_id or quantity>": number}} or a list'
            ),
        ],
    ) -> dict[str, Any]:
        """Push readings of one device (device tokens; park roles for their park's devices)."""
        result = p.push_telemetry(device_id, payload)
        return {"device_id": device_id, "stored": result.inserted}

    @app.get(
        "/api/export/{dataset}",
        tags=["data space"],
        response_class=PlainTextResponse,
        responses={200: {"content": {"text/csv": {}}, "description": "CSV, UTF-8"}},
    )
    def export(
        p: ParkDep,
        dataset: Annotated[str, Path_(description=f"one of {', '.join(EXPORT_DATASETS)}")],
        park_id: Id | None = None,
        point_id: Id | None = None,
    ) -> PlainTextResponse:
        """Export what the caller may see as CSV (audited). Readings need ``point_id``."""
        if dataset not in EXPORT_DATASETS:
            raise InvalidInput(f"dataset: expected one of {', '.join(EXPORT_DATASETS)}; got {dataset!r}")
        filters: dict[str, Any] = {"point_id": point_id} if dataset == "readings" else {}
        if park_id and dataset in ("enterprises", "devices", "points", "alerts"):
            filters["park_id"] = park_id
        text, _ = p.export_csv(dataset, **filters)
        return PlainTextResponse(
            text,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{dataset}.csv"'},
        )

    @app.post("/api/imports", tags=["data space"], status_code=201)
    def create_import(
        p: ParkDep,
        response: Response,
        file: Annotated[
            UploadFile, File(description="CSV/TSV, .xlsx, .jsonl, .geojson, .gpkg, zipped .shp or .ifc")
        ],
        as_: Annotated[
            str | None, Form(alias="as", max_length=40, description="table; detected when omitted")
        ] = None,
        mapping: Annotated[UploadFile | None, File(description="a TOML mapping file")] = None,
        crs: Annotated[str | None, Form(max_length=60)] = None,
        park_id: Annotated[str | None, Form(max_length=128)] = None,
        timezone: Annotated[str | None, Form(max_length=60)] = None,
        encoding: Annotated[str | None, Form(max_length=20)] = None,
    ) -> dict[str, Any]:
        """Import an uploaded file, all or nothing (park roles into their park; the province anywhere).

        201 with what was written; 200 with ``unchanged: true`` when the same file was imported before.
        """
        p.require("import")
        with _uploaded(file) as path:
            parsed = _mapping(mapping)
            result = p.ingest(
                path,
                table=as_,
                mapping=parsed,
                crs=crs,
                park_id=park_id,
                timezone=timezone,
                encoding=encoding,
                display_name=_safe_name(file.filename),
            )
        if result.unchanged:
            response.status_code = 200
        return result.as_dict()

    @app.get("/api/imports", tags=["data space"])
    def imports(p: ParkDep, limit: Limit = 100, offset: Offset = 0) -> list[dict[str, Any]]:
        """Imports (lineage), newest first: file name and SHA-256, time, who, rows, conflicts."""
        return p.imports(limit=limit, offset=offset)

    @app.get("/api/quality", tags=["data space"])
    def quality(p: ParkDep, park_id: Id | None = None) -> dict[str, Any]:
        """Data-quality report: completeness, validity, duplicates, timeliness, consistency — scores
        per table and per source, with the offending rows (park roles: their park)."""
        return p.quality(park_id=park_id).as_dict()

    @app.get("/api/grants", tags=["data space"])
    def grants(p: ParkDep, active: bool = False) -> list[dict[str, Any]]:
        """Grants the caller's enterprise made, and grants made to the caller's party."""
        return p.grants(active_only=active)

    @app.post("/api/grants", tags=["data space"], status_code=201)
    def create_grant(p: ParkDep, body: GrantRequest) -> dict[str, Any]:
        """Open chosen data of the caller's enterprise to a party, for a purpose, until an expiry."""
        return p.create_grant(
            body.grantee, body.kind, body.items, body.purpose, body.expires, body.enterprise_id
        )

    @app.delete("/api/grants/{grant_id}", tags=["data space"])
    def revoke_grant(p: ParkDep, grant_id: str) -> dict[str, Any]:
        """Revoke a grant (the granting enterprise only); reads under it stop at once."""
        return p.revoke_grant(grant_id)

    @app.get("/api/tokens", tags=["data space"])
    def tokens(p: ParkDep) -> list[dict[str, Any]]:
        """API tokens the caller manages (never their secrets)."""
        return p.tokens()

    @app.post("/api/tokens", tags=["data space"], status_code=201)
    def create_token(p: ParkDep, body: TokenRequest) -> dict[str, Any]:
        """Create an API token; the answer holds the token itself, shown this once."""
        token = p.create_token(
            body.role,
            body.park_id,
            body.enterprise_id,
            body.device_id,
            body.org,
            body.expires,
            body.name,
            body.rate_per_min,
        )
        return token.as_dict()

    @app.delete("/api/tokens/{token_id}", tags=["data space"])
    def revoke_token(p: ParkDep, token_id: str) -> dict[str, Any]:
        """Revoke an API token (its owner, or an admin of its park)."""
        return p.revoke_token(token_id)

    @app.get("/api/audit", tags=["data space"])
    def audit(
        p: ParkDep,
        action: Annotated[str | None, Query(max_length=40)] = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> list[dict[str, Any]]:
        """The audit log, newest first (province: all; park admin: its park's entries)."""
        return p.audit_entries(action=action, limit=limit, offset=offset)

    @app.get("/api/audit/verify", tags=["data space"])
    def audit_verify(p: ParkDep) -> dict[str, Any]:
        """Walk the hash chain: ok, or the entries that were edited or deleted."""
        return p.verify_audit()

    if local_token:
        _local_routes(app)
    return app


@contextmanager
def _uploaded(upload: UploadFile) -> Iterator[Path]:
    """The upload in a temporary file (keeping its suffix, which picks the source), deleted after."""
    suffix = "".join(Path(_safe_name(upload.filename)).suffixes[-2:])[:20]
    with tempfile.TemporaryDirectory(prefix="parkbrain-upload-") as folder:
        path = Path(folder) / f"upload{suffix}"
        with open(path, "wb") as out:
            shutil.copyfileobj(upload.file, out, 1 << 20)
        yield path


def _mapping(upload: UploadFile | None) -> dict[str, Any] | None:
    if upload is None or not upload.filename:
        return None
    from parkbrain.sources.mapping import parse_mapping

    return parse_mapping(upload.file.read(1 << 20), _safe_name(upload.filename))


def _safe_name(name: str | None) -> str:
    """The upload's base name without path or control characters (it is shown in errors and lineage)."""
    base = Path((name or "upload").replace("\\", "/")).name
    clean = "".join(ch for ch in base if ch.isprintable())[:120]
    return clean or "upload"


def _time(text: str | None, field: str) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_time(text, field)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


def _local_routes(app: FastAPI) -> None:
    """Routes through which the CLI works on a database the server holds (token from the lock file;
    ``api.auth`` admits only that token here, as the local ``system``)."""

    @app.post("/api/local/sql", tags=["local"])
    def local_sql(p: ParkDep, body: SqlRequest) -> dict[str, Any]:
        """Run a read-only SELECT for ``parkbrain sql`` while the server holds the database."""
        table = p.sql(body.query, limit=body.limit)
        return {"columns": table.column_names, "rows": table.to_pylist()}

    @app.get("/api/local/info", tags=["local"])
    def local_info(p: ParkDep) -> dict[str, Any]:
        """``parkbrain info`` while the server holds the database."""
        return p.info()

    @app.post("/api/local/call/{op}", tags=["local"])
    def local_call(p: ParkDep, op: str, args: Annotated[dict[str, Any], Body()]) -> Any:
        """``parkbrain user/token/audit`` while the server holds the database."""
        from parkbrain.localops import run_op

        return run_op(p, op, args)
