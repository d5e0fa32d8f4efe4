"""REST routes of the park assistant (policy): thin, over the caller's ``Park`` (no SQL, no rules)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from parkbrain.api.auth import ParkDep

router = APIRouter(tags=["policy"])


class PolicyQuestion(BaseModel):
    """A policy question; the answer is in its language unless ``lang`` says otherwise."""

    question: str = Field(min_length=1, max_length=500)
    lang: Literal["zh", "en"] | None = None


@router.get("/api/policies")
def list_policies(p: ParkDep) -> list[dict[str, Any]]:
    """The documents of the policy corpus with their chunk and condition counts (``demo``: written for the
    demo, not real policy)."""
    return p.policies()


@router.get("/api/policies/search")
def search_policies(
    p: ParkDep,
    q: Annotated[str, Query(min_length=1, max_length=500)],
    k: Annotated[int, Query(ge=1, le=50)] = 5,
) -> list[dict[str, Any]]:
    """The paragraphs that best match ``q`` (jieba + BM25), best first: document, section, text, score."""
    return p.search_policies(q, k)


@router.post("/api/policies/ask")
def ask_policy(p: ParkDep, body: PolicyQuestion) -> dict[str, Any]:
    """The cited answer to a policy question: ``answer``, ``sources`` of kind ``policy`` (doc_id, title,
    section, text, score, demo), ``status`` answered | unsupported."""
    return p.policy_answer(body.question, body.lang)


@router.get("/api/enterprises/{enterprise_id}/policy-matches")
def policy_matches(
    p: ParkDep,
    enterprise_id: Annotated[str, Path(min_length=1, max_length=128)],
    now: Annotated[str | None, Query(min_length=4, max_length=40, description="ISO 8601")] = None,
) -> dict[str, Any]:
    """惠企政策匹配: the policies the enterprise qualifies for, nearly qualifies for (what is missing and
    by how much) and does not; an enterprise user matches itself only."""
    return p.match_policies(enterprise_id, now)
