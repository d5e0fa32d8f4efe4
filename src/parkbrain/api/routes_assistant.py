"""REST routes of the park assistant (assistant): thin, over the caller's ``Park`` (no SQL, no rules)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["assistant"])
