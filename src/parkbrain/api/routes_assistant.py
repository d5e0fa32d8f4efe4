"""REST routes of the park assistant (assistant): thin, over the caller's ``Park`` (no SQL, no rules)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from parkbrain.api.auth import ParkDep

router = APIRouter(tags=["assistant"])


class Question(BaseModel):
    """A question in Chinese or English; ``now`` (ISO 8601) is when it is asked (default: now)."""

    question: str = Field(min_length=1, max_length=500)
    now: str | None = Field(default=None, min_length=4, max_length=40, description="ISO 8601")
    lang: Literal["zh", "en"] | None = None


@router.post("/api/ask")
def ask(p: ParkDep, body: Question) -> dict[str, Any]:
    """The park assistant's answer from the caller's own data: ``answer``, ``query``, ``sql``, ``columns``,
    ``rows``, ``sources``, ``status`` (answered | clarify | no_data | unsupported), ``clarify``, ``engine``."""
    return p.ask(body.question, now=body.now, lang=body.lang)
