"""REST routes for energy and carbon: thin, over the caller's ``Park`` (no SQL, no business rules)."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from parkbrain.api.auth import ParkDep

router = APIRouter(tags=["energy"])

Id = Annotated[str, Query(min_length=1, max_length=128)]
Time = Annotated[str, Query(min_length=4, max_length=40, description="ISO 8601; naive = Asia/Shanghai")]
Mode = Annotated[
    Literal["equivalent", "equal"],
    Query(
        description="electricity to standard coal: 当量值 (equivalent, default) or 等价值 (equal, per year)"
    ),
]
Factor = Annotated[
    str | None,
    Query(
        max_length=60,
        description="electricity CO2 factor scope:area[:year[:caliber]], e.g. province:广西 (default), national:全国:2022",
    ),
]
Dimension = Literal["point", "enterprise", "building", "park", "prefecture", "province"]


@router.get("/api/energy/summary")
def energy_summary(
    p: ParkDep,
    start: Time | None = None,
    end: Time | None = None,
    grain: Literal["day", "month", "year", "total"] = "month",
    by: Annotated[list[Dimension] | None, Query(max_length=6, description="group by (repeat)")] = None,
    park_id: Id | None = None,
    enterprise_id: Id | None = None,
    building_id: Id | None = None,
    mode: Mode = "equivalent",
    factor: Factor = None,
) -> dict[str, Any]:
    """Consumption, tce and tCO2 per period and dimension over the meters the caller may read, with
    同比 (``yoy_*``) and 环比 (``mom_*``); default window: the last whole month."""
    return p.energy_summary(
        start, end, grain, tuple(by or ("park",)), park_id, enterprise_id, building_id, mode, factor
    )


@router.get(
    "/api/energy/report",
    responses={
        200: {
            "content": {
                "application/json": {},
                "text/csv": {},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
            },
            "description": "the report as JSON, CSV or Excel (with charts)",
        }
    },
)
def energy_report(
    p: ParkDep,
    enterprise_id: Id | None = None,
    park_id: Id | None = None,
    start: Time | None = None,
    end: Time | None = None,
    format: Literal["json", "xlsx", "csv"] = "json",
    mode: Mode = "equivalent",
    factor: Factor = None,
    tou: Annotated[
        str | None, Query(max_length=200, description="e.g. peak=16-24;flat=8-16;valley=0-8")
    ] = None,
) -> Response:
    """The energy & carbon report of one enterprise or one park: consumption by carrier, ``tce``, ``tco2``,
    ``intensity``, ``comparison`` (环比, 同比), ``daily``, ``tou``, and the ``coefficients`` and ``factors`` used."""
    kw = {"enterprise_id": enterprise_id, "park_id": park_id, "start": start, "end": end}
    kw |= {"mode": mode, "factor": factor, "tou": tou}
    if format == "json":
        body = json.dumps(p.energy_report(**kw), ensure_ascii=False, default=str)
        return Response(body, media_type="application/json")
    content, name, media_type = p.energy_report_file(format, **kw)
    return _attachment(content, name, media_type)


@router.get("/api/energy/factors")
def energy_factors(p: ParkDep) -> dict[str, Any]:
    """The reference tables with their sources: GB/T 2589-2020 coefficients (当量值, 等价值 per year), fuel
    defaults (GB/T 32150-2015 method), MEE/NBS electricity factors by (year, 口径, scope), thresholds."""
    return p.energy_factors()


@router.get("/api/carbon/parks")
def carbon_parks(
    p: ParkDep, start: Time | None = None, end: Time | None = None, factor: Factor = None
) -> list[dict[str, Any]]:
    """Per park the caller runs: tce, tCO2 (scope 1, scope 2) and 单位能耗碳排放 against the zero-carbon threshold."""
    return p.carbon_parks(start, end, factor)


@router.get("/api/reports")
def reports(
    p: ParkDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[dict[str, Any]]:
    """Generated report files the caller may download (scheduled monthly energy & carbon reports)."""
    return p.energy_reports(limit, offset)


@router.get("/api/reports/download")
def report_download(p: ParkDep, report_id: Annotated[str, Query(min_length=1, max_length=64)]) -> Response:
    """One generated report file (``report_id`` from ``GET /api/reports``)."""
    content, name, media_type = p.energy_report_download(report_id)
    return _attachment(content, name, media_type)


def _attachment(content: bytes, name: str, media_type: str) -> Response:
    from urllib.parse import quote

    disposition = (
        f"attachment; filename=\"{name.encode('ascii', 'replace').decode()}\"; filename*=UTF-8''{quote(name)}"
    )
    return Response(content, media_type=media_type, headers={"Content-Disposition": disposition})
