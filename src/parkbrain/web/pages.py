"""The console's page routes (HTML; not in the OpenAPI schema). Pages read data only through the REST API."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
