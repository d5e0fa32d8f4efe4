"""REST routes for energy: thin, over the caller's ``Park`` (no SQL, no business rules)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
