"""Park methods of policy documents: Q&A with citations and 惠企政策匹配 (mixed into ``core.Park``).
Computations are in ``parkbrain.ai.policy*``.

Policies are public documents: every role that reads (not a device) may list, search and ask them; only
the province (and the local system) imports them. Matching reads an enterprise through the caller's
scope: an enterprise user matches itself only (another enterprise: ``Forbidden``), a park role the
enterprises of its park; the energy intensity comes from the meters the caller may read, or is stated
as unavailable.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from parkbrain.errors import Forbidden, InvalidInput, ParkError

MAX_QUESTION = 500
#: Days of meter data below which the 12-month energy figures are not annualised but unavailable.
MIN_ENERGY_DAYS = 7
log = logging.getLogger(__name__)


class PolicyFacet:
    """Policy documents, retrieval and eligibility matching of ``Park``."""

    # -- the corpus -------------------------------------------------------------------------------

    def import_policies(self, path: str | Path) -> list[dict[str, Any]]:
        """Import a policy file or a folder of them (Markdown/text with front matter); idempotent by
        sha256; a bad file stores nothing. Province only."""
        from parkbrain.ai.policy_docs import import_policies

        self.require("import")
        if not self.scope.everything:
            raise Forbidden(f"only the province imports policy documents, not a {self.principal.role}")
        rows = import_policies(self.store, path, self.principal.actor)
        changed = [r["doc_id"] for r in rows if r["action"] != "unchanged"]
        if changed:
            self.audit.record(self.principal, "import", "policies", detail={"documents": changed})
        return rows

    def import_demo_policies(self, shared: Path | None) -> list[dict[str, Any]]:
        """The demo corpus: the package's demo documents and, when the shared data is there, the real one."""
        from parkbrain.ai.policy_docs import demo_policy_paths, import_policies

        self._require_system("the demo corpus")
        return [row for path in demo_policy_paths(shared) for row in import_policies(self.store, path)]

    def policies(self) -> list[dict[str, Any]]:
        """The documents of the corpus with their chunk and condition counts (demo ones flagged)."""
        from parkbrain.ai.policy_docs import list_documents

        self.require("read")
        return list_documents(self.store)

    def search_policies(self, q: str, k: int = 5) -> list[dict[str, Any]]:
        """The ``k`` paragraphs that best match ``q`` (BM25), best first, with their section and score."""
        from parkbrain.ai.policy_search import search_chunks

        self.require("read")
        q = _question(q)
        if not 1 <= k <= 50:
            raise InvalidInput(f"k: expected 1 to 50; got {k}")
        return search_chunks(self.store, q, k=k)

    def policy_answer(self, question: str, lang: str | None = None) -> dict[str, Any]:
        """The cited answer to a policy question (the park assistant's answer keys, sources of kind policy)."""
        from parkbrain.ai.policy_qa import answer_policy

        self.require("read")
        if lang not in (None, "zh", "en"):
            raise InvalidInput(f"lang: expected zh or en; got {lang!r}")
        question = _question(question)
        with _llm_client() as client:
            return answer_policy(self.store, question, lang=lang, client=client)

    # -- matching ---------------------------------------------------------------------------------

    def match_policies(self, enterprise_id: str, now: str | datetime | None = None) -> dict[str, Any]:
        """The policies with conditions an enterprise qualifies for, nearly qualifies for (with what is
        missing and by how much), and does not."""
        from parkbrain.ai.policy_match import enterprise_facts, match_all, policy_conditions

        self.require("read")
        p = self.principal
        if p.role == "enterprise" and enterprise_id != p.enterprise_id:
            raise Forbidden(
                f"an enterprise user matches policies for its own enterprise ({p.enterprise_id}) only"
            )
        self.enterprise(enterprise_id)  # NotFound outside the caller's scope
        facts = enterprise_facts(self.store, enterprise_id)
        facts.update(self._energy_facts(enterprise_id, facts.get("output_value_10k_cny"), _now(now)))
        groups = match_all(policy_conditions(self.store), facts)
        return {
            "enterprise": {k: v for k, v in facts.items() if not k.endswith("_note")},
            **groups,
            "notes": list({str(facts[k]): facts[k] for k in sorted(facts) if k.endswith("_note")}.values()),
        }

    def _energy_facts(self, enterprise_id: str, output: float | None, now: datetime) -> dict[str, Any]:
        """综合能耗 of the last 12 months (annualised from the days with meter data) and 单位产值能耗,
        from the meters the caller may read; unavailable (None, with a note) without them."""
        start = now - timedelta(days=365)
        summary = self.energy_summary(
            start=start, end=now, grain="day", by=("enterprise",), enterprise_id=enterprise_id
        )
        days = len({r["period"] for r in summary["rows"]})
        tce = summary["totals"].get("tce") if summary["rows"] else None
        window = f"{start.date().isoformat()}..{now.date().isoformat()}"
        if tce is None or days < MIN_ENERGY_DAYS:
            note = {
                "zh": f"{window} 可读的能耗计量数据不足 {MIN_ENERGY_DAYS} 天",
                "en": f"fewer than {MIN_ENERGY_DAYS} days of meter data readable in {window}",
            }
            return {
                "energy_tce_12m": None,
                "energy_intensity_tce_per_10k_cny": None,
                "energy_tce_12m_note": note,
                "energy_intensity_tce_per_10k_cny_note": note,
            }
        annual = tce * 365 / days if days < 365 else tce
        basis = {
            "zh": f"按 {days} 天计量数据折算全年（{window}）",
            "en": f"annualised from {days} days of meter data ({window})",
        }
        facts: dict[str, Any] = {
            "energy_tce_12m": round(annual, 1),
            "energy_days": days,
            "energy_basis": basis,
        }
        if output:
            facts["energy_intensity_tce_per_10k_cny"] = round(annual / output, 4)
        else:
            facts["energy_intensity_tce_per_10k_cny"] = None
            facts["energy_intensity_tce_per_10k_cny_note"] = {"zh": "无产值数据", "en": "no output value"}
        return facts


@contextmanager
def _llm_client() -> Iterator[Any]:
    """The configured LLM client (env ``PARKBRAIN_LLM_*`` or the config file), or None: offline."""
    try:
        from parkbrain.ai.llm import LLMClient, load_llm_config

        config = load_llm_config()
    except (ImportError, ParkError) as exc:
        log.warning("no LLM for policy answers: %s", exc)
        config = None
    if config is None:
        yield None
        return
    with LLMClient(config) as client:
        yield client


def _question(text: str) -> str:
    text = (text or "").strip()
    if not 1 <= len(text) <= MAX_QUESTION:
        raise InvalidInput(f"question: expected 1 to {MAX_QUESTION} characters; got {len(text)}")
    return text


def _now(now: str | datetime | None) -> datetime:
    from parkbrain.model.timeutil import PARK_TZ, parse_time

    if now is None:
        return datetime.now(PARK_TZ)
    if not isinstance(now, datetime):
        try:
            now = parse_time(now, "now")
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
    if not 1972 <= now.astimezone(PARK_TZ).year <= 2200:
        raise InvalidInput(f"now: expected a time between 1972 and 2200; got {now.isoformat()}")
    return now


#: The policy operations ``parkbrain policy …`` runs on the file or through the server (``localops``).
POLICY_OPS: dict[str, Callable[..., Any]] = {
    "policy_import": lambda park, path: park.import_policies(path),
    "policy_list": lambda park: park.policies(),
    "policy_search": lambda park, q, k=5: park.search_policies(q, k),
    "policy_ask": lambda park, question, lang=None: park.policy_answer(question, lang),
    "policy_match": lambda park, enterprise_id, now=None: park.match_policies(enterprise_id, now),
}
POLICY_WRITES = frozenset({"policy_import"})
