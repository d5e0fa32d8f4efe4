"""Park methods of the park assistant (mixed into ``core.Park``): questions over the semantic layer,
policy Q&A and policy matching. Computations are in ``parkbrain.ai``; reads go through the caller's scope.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from parkbrain.errors import InvalidInput, ParkError

if TYPE_CHECKING:
    from parkbrain.ai.assistant import Session
    from parkbrain.ai.views import ViewScope

MAX_QUESTION_CHARS = 500
log = logging.getLogger(__name__)


class AssistantFacet:
    """The park assistant of ``Park``."""

    def ask(
        self, question: str, *, now: str | datetime | None = None, lang: str | None = None
    ) -> dict[str, Any]:
        """Answer a question about the park's data (or its policies) in Chinese or English.

        Returns ``answer``, ``query``, ``sql``, ``columns``, ``rows``, ``sources``, ``status``
        (answered | clarify | no_data | unsupported), ``clarify`` and ``engine`` (offline | llm).
        ``now`` (ISO time; default the current time) is when the question is asked: 上个月 is the month
        before it. Policy questions go to ``policy_answer``; with an LLM configured, the model fills the
        query and the offline engine is the fallback."""
        from parkbrain.ai.assistant import Session, answer_question, empty_answer

        self.require("read")
        question = _check_question(question)
        if lang not in (None, "zh", "en"):
            raise InvalidInput(f"lang: expected zh or en; got {lang!r}")
        when = _ask_time(now)
        session = Session(self.store, self._view_scope())
        result = self._ask_llm(session, question, when, lang)
        if result is None or (result["status"] == "unsupported" and not result.get("sql")):
            offline = answer_question(self.store, question, when, lang=lang, session=session)
            if result is None or offline["status"] != "unsupported":  # else the model's refusal says why
                result = offline
        if result["status"] == "policy":
            result = self._policy_or(question, lang, empty_answer("unsupported", _no_policy(question)))
        elif result["status"] == "unsupported" and result["query"] is None and not result["clarify"]:
            result = self._policy_fallback(session, question, when, lang, result)
        self._audit_assistant_reads(session, result)
        return result

    # -- helpers ----------------------------------------------------------------------------------

    def _view_scope(self) -> ViewScope:
        from parkbrain.ai.views import ViewScope

        s = self.scope
        return ViewScope(
            enterprises=s.enterprises("e"),
            alerts=s.alerts("a"),
            buildings=s.buildings("b"),
            devices=s.devices("d"),
            points=s.points("p", "d"),
        )

    def _policy_or(
        self, question: str, lang: str | None, fallback: dict[str, Any], only_answered: bool = False
    ) -> dict[str, Any]:
        """``policy_answer`` (the policy corpus) when that is available, else ``fallback``."""
        answer_policy = getattr(self, "policy_answer", None)
        if answer_policy is None:
            return fallback
        try:
            result = answer_policy(question, lang=lang)
        except ParkError as exc:
            log.info("policy answer failed: %s", exc)
            return fallback
        if only_answered and result.get("status") != "answered":
            return fallback
        return result

    def _policy_fallback(
        self, session: Session, question: str, when: datetime, lang: str | None, fallback: dict[str, Any]
    ) -> dict[str, Any]:
        """No metric matched: the policy corpus answers when what is left of the question without its
        names and time words still matches a policy (南宁到桂林的高铁票 is not a policy question)."""
        from parkbrain.ai.assistant import without_names

        rest = without_names(question, session, when)
        if not rest or self._policy_or(rest, lang, fallback, only_answered=True) is fallback:
            return fallback
        return self._policy_or(question, lang, fallback, only_answered=True)

    def _ask_llm(
        self, session: Session, question: str, when: datetime, lang: str | None
    ) -> dict[str, Any] | None:
        """The LLM path when one is configured: the model's structured query (compiled and answered as
        the offline engine does) or its free SQL (checked, scoped, limited, read-only: ``ai.sqlsafe``).
        None → the offline engine answers: no endpoint, or the endpoint failed. When the model declines
        or its SQL is refused, ``ask`` still tries the offline engine and keeps the refusal only if that
        cannot answer either."""
        try:
            from parkbrain.ai.llm import open_llm_client
            from parkbrain.ai.llm_query import answer_with_llm
        except ImportError:  # pragma: no cover - the LLM path is optional
            return None
        client = open_llm_client()
        if client is None:
            return None
        try:
            with client:
                result = answer_with_llm(client, session, question, when, self.scope, lang=lang)
        except ParkError as exc:  # the endpoint failed: the offline engine answers
            log.warning("LLM path failed, answering offline: %s", exc)
            return None
        return result

    def _audit_assistant_reads(self, session: Session, result: dict[str, Any]) -> None:
        """One ``grant.read`` entry per grant whose points the answer's fact view read."""
        views = set(((result.get("sources") or [{}])[0]).get("views") or [])
        if (
            self.scope.everything
            or not self.scope.granted
            or not views & {"sem_energy_daily", "sem_aqi_daily"}
        ):
            return
        table = "sem_energy_daily" if "sem_energy_daily" in views else "sem_aqi_daily"
        column = "point_id" if table == "sem_energy_daily" else "device_id"
        ids = [r[0] for r in session.con.execute(f"SELECT DISTINCT {column} FROM {table}").fetchall()]
        points = self.store.query_rows(
            "SELECT p.point_id, d.park_id, d.enterprise_id FROM points p JOIN devices d USING (device_id) "
            f"WHERE list_contains(?::VARCHAR[], {'p.point_id' if column == 'point_id' else 'd.device_id'})",
            [ids],
        )
        self._audit_grant_reads(points, "assistant")


def _check_question(question: Any) -> str:
    if not isinstance(question, str) or not question.strip():
        raise InvalidInput("question: expected a non-empty text")
    question = question.strip()
    if len(question) > MAX_QUESTION_CHARS:
        raise InvalidInput(f"question: expected at most {MAX_QUESTION_CHARS} characters; got {len(question)}")
    return question


def _ask_time(now: str | datetime | None) -> datetime:
    from parkbrain.model.timeutil import PARK_TZ, parse_time

    if now is None:
        return datetime.now(PARK_TZ)
    if isinstance(now, datetime):
        return now if now.tzinfo else now.replace(tzinfo=PARK_TZ)
    try:
        return parse_time(now, "now")
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


def _no_policy(question: str) -> str:
    from parkbrain.ai.parse import question_lang

    if question_lang(question) == "zh":
        return "抱歉，这是政策类问题，但政策库不可用，无法回答。"
    return "Sorry, this is a policy question and the policy corpus is not available."


#: Local operations of the assistant (``parkbrain ask`` on the file, or through the server holding it).
ASSISTANT_OPS: dict[str, Any] = {
    "ask": lambda park, question, now=None, lang=None: park.ask(question, now=now, lang=lang),
}
