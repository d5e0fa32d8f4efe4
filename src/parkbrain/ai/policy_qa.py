"""Policy Q&A: the paragraphs of the policy corpus that answer a question, quoted with their citations.

``answer_policy`` returns the park assistant's answer keys (see ``Park.ask``): the answer quotes the best
paragraphs, each with the document's title and section; ``sources`` are of kind ``policy``. A question
that no paragraph matches well enough (``MIN_SCORE``, ``MIN_COVERAGE``) gets status ``unsupported`` and an
honest "no matching policy" answer — never an invented one. Demo documents are labelled as such.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from parkbrain.ai.policy_docs import DEMO_LABEL
from parkbrain.ai.policy_search import search_chunks
from parkbrain.errors import ParkError

#: The best paragraph must score at least this (BM25) and hold this share of the question's tokens.
MIN_SCORE = 2.5
MIN_COVERAGE = 0.34
#: Further paragraphs are quoted when they score at least this share of the best one.
KEEP_RATIO = 0.6
COLUMNS = ["rank", "doc_id", "title", "section", "score", "demo"]
_CJK = re.compile(r"[\u3400-\u9fff]")
_DEMO_NOTE = {
    "zh": "注：标注「演示内容（demo content）」的文件为演示数据，不是真实政策。",
    "en": "Note: documents marked 「演示内容（demo content）」 are written for the demo; they are not real policy.",
}
log = logging.getLogger(__name__)


def question_lang(question: str) -> str:
    """zh when the question holds Chinese characters, else en."""
    return "zh" if _CJK.search(question) else "en"


def answer_policy(
    store: Any, question: str, k: int = 3, lang: str | None = None, client: Any | None = None
) -> dict[str, Any]:
    """The cited answer to a policy question (the contract's answer keys). With an LLM ``client`` the
    model writes the answer from the same paragraphs (``llm_query.llm_policy_answer``: citations checked,
    uncited answers refused); when it fails or is refused, the paragraphs are quoted."""
    lang = lang or question_lang(question)
    hits = relevant_hits(store, question, k)
    if not hits:
        return _answer(_nothing(lang), [], "unsupported", lang)
    if client is not None:
        written = _llm_answer(client, question, hits, lang)
        if written is not None:
            return written
    return _answer(_quote(hits, lang), hits, "answered", lang)


def relevant_hits(store: Any, question: str, k: int = 3) -> list[dict[str, Any]]:
    """The best paragraphs that pass the thresholds (none: no matching policy)."""
    hits = [h for h in search_chunks(store, question, k=k) if _relevant(h)]
    return [h for h in hits if h["score"] >= KEEP_RATIO * hits[0]["score"]] if hits else []


def _llm_answer(client: Any, question: str, hits: list[dict[str, Any]], lang: str) -> dict[str, Any] | None:
    from parkbrain.ai.llm_query import llm_policy_answer

    try:
        result = llm_policy_answer(client, question, [_source(h) for h in hits], lang)
    except ParkError as exc:
        log.warning("LLM policy answer failed, quoting the paragraphs: %s", exc)
        return None
    if result.get("status") != "answered":
        return None
    cited = {s["chunk_id"] for s in result["sources"]}
    result["columns"] = COLUMNS
    result["rows"] = [[h[c] for c in COLUMNS] for h in hits if h["chunk_id"] in cited]
    if any(s.get("demo") for s in result["sources"]):
        result["answer"] += "\n" + _DEMO_NOTE[lang]
    return result


def _relevant(hit: dict[str, Any]) -> bool:
    return hit["score"] >= MIN_SCORE and hit["coverage"] >= MIN_COVERAGE


def _answer(text: str, hits: list[dict[str, Any]], status: str, lang: str) -> dict[str, Any]:
    return {
        "answer": text,
        "query": None,
        "sql": None,
        "columns": COLUMNS,
        "rows": [[h[c] for c in COLUMNS] for h in hits],
        "sources": [_source(h) for h in hits],
        "status": status,
        "clarify": [],
        "engine": "offline",
    }


def _source(hit: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": "policy",
        "doc_id": hit["doc_id"],
        "chunk_id": hit["chunk_id"],
        "title": hit["title"],
        "section": hit["section"],
        "text": hit["text"],
        "score": hit["score"],
        "demo": bool(hit["demo"]),
        "issuer": hit["issuer"],
        "published": hit["published"].isoformat() if hit["published"] else None,
    }


def _quote(hits: list[dict[str, Any]], lang: str) -> str:
    lines = [
        "根据政策文件：" if lang == "zh" else "From the policy documents (quoted in the original Chinese):"
    ]
    for i, h in enumerate(hits, start=1):
        label = f"{DEMO_LABEL} " if h["demo"] else ""
        section = f"，{h['section']}" if lang == "zh" else f", {h['section']}"
        cite = f"{label}《{h['title']}》{section if h['section'] not in ('', h['title']) else ''}"
        lines.append(f"[{i}] {cite}：“{h['text']}”" if lang == "zh" else f"[{i}] {cite}: “{h['text']}”")
    if any(h["demo"] for h in hits):
        lines.append(_DEMO_NOTE[lang])
    return "\n".join(lines)


def _nothing(lang: str) -> str:
    if lang == "zh":
        return "政策库中没有找到与该问题相符的政策条文，无法作答。可换个说法，或用 `parkbrain policy list` 查看已收录的文件。"
    return (
        "No matching policy was found in the policy corpus for this question, so it cannot be answered. "
        "Try other words, or see the documents held with `parkbrain policy list`."
    )
