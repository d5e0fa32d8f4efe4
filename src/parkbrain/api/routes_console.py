"""REST routes behind the web console's pages: thin, over the caller's ``Park``."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
