"""The LLM path of the park assistant: a question → the same ``StructuredQuery`` the offline parser makes,
or free SQL for questions outside the semantic layer, or a refusal; and policy answers written only from
retrieved paragraphs.

The model is offered tools (``structured_query`` with ``query_json_schema()`` as its parameters,
``free_sql``, ``cannot_answer``) and told the semantic layer, the date and the parks it may name. Its
structured output is validated by ``StructuredQuery.from_dict``; an invalid one is sent back with the
validation error (up to ``MAX_RETRIES`` times), then refused. Free SQL must pass ``ai.sqlsafe``'s checks
(it is scoped, limited and run by the platform later, never as written). The model never computes a
number: the platform runs the query.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from parkbrain.ai.llm import CallStats, LLMClient, Tool, ToolReply, strip_reasoning
from parkbrain.ai.query import StructuredQuery, query_json_schema
from parkbrain.ai.sqlsafe import check_sql
from parkbrain.errors import InvalidInput, QueryError
from parkbrain.model.timeutil import PARK_TZ

MAX_RETRIES = 2
#: Columns of the semantic views (issue 9's contract), told to the model for free SQL.
VIEW_COLUMNS: dict[str, str] = {
    "sem_enterprises": "enterprise_id, enterprise_name, park_id, park_name, city_code, city_name, "
    "industry_code, industry_name, employees, output_value_10k_cny, key_energy_user, building_id",
    "sem_parks": "park_id, park_name, city_code, city_name, level, kind, approved_area_ha",
    "sem_energy_daily": "day DATE, point_id, device_id, enterprise_id, building_id, park_id, city_code, "
    "carrier, unit, amount DOUBLE (the day's consumption in unit), tce DOUBLE, tco2 DOUBLE",
    "sem_alerts": "alert_id, ts TIMESTAMPTZ, day DATE, park_id, enterprise_id, device_id, rule, severity, status",
    "sem_aqi_daily": "day DATE, device_id, park_id, city_code, aqi INTEGER, primary_pollutant, level INTEGER",
    "sem_buildings": "building_id, building_name, park_id, floors, area_m2",
    "sem_devices": "device_id, device_name, kind, park_id, enterprise_id, building_id",
}
FREE_SQL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["sql"],
    "properties": {
        "sql": {"type": "string", "description": "one DuckDB SELECT over the sem_* views"},
        "explanation": {"type": "string", "description": "what the query computes, one sentence"},
    },
}
CANNOT_ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["reason"],
    "properties": {"reason": {"type": "string"}},
}


@dataclass(frozen=True)
class FreeSQL:
    """SQL the model wrote for a question outside the semantic layer; it passed ``sqlsafe.check_sql``
    and is scoped, limited and run by the platform (``sqlsafe.run_safe_sql``)."""

    sql: str
    explanation: str = ""
    calls: tuple[CallStats, ...] = ()


@dataclass(frozen=True)
class Refusal:
    """The LLM path gives no query: the model declined, its SQL was refused, or its output stayed
    invalid after the retries. ``reason`` says which."""

    reason: str
    calls: tuple[CallStats, ...] = ()


LLMResult = StructuredQuery | FreeSQL | Refusal


def query_tools(allow_sql: bool = True) -> list[Tool]:
    """The tools the model is offered for a data question."""
    tools = [
        Tool(
            "structured_query",
            "Answer a question about park data through the semantic layer: pick the metric, the "
            "group-by dimensions, filters (ids), the time window and ranking. Preferred whenever it fits.",
            query_json_schema(),
        )
    ]
    if allow_sql:
        tools.append(
            Tool(
                "free_sql",
                "Only when no structured query fits: one read-only DuckDB SELECT over the sem_* views. "
                "The platform adds tenant filters and a LIMIT; statements other than SELECT are refused.",
                FREE_SQL_SCHEMA,
            )
        )
    tools.append(
        Tool(
            "cannot_answer",
            "The question is not about the park data (or needs data that does not exist): say why.",
            CANNOT_ANSWER_SCHEMA,
        )
    )
    return tools


def system_prompt(
    layer: Any, now: datetime, entities: Sequence[Mapping[str, Any]] = (), allow_sql: bool = True
) -> str:
    """What the model is told: its job, today, the window rules, the layer, the parks, the views."""
    local = now.astimezone(PARK_TZ)
    lines = [
        "你是园区大脑 (ParkBrain) 的查询规划器。把用户的问题变成一次工具调用，绝不自己给出数字。",
        "You plan queries for ParkBrain's park assistant: turn the question into exactly one tool call; "
        "never state numbers yourself.",
        f"Now: {local:%Y-%m-%d %H:%M} Asia/Shanghai ({local:%A}).",
        "Time windows are half-open [start, end) in Asia/Shanghai calendar days (end exclusive). "
        "今天/本月/本季度/今年 end at the end of today (tomorrow's date), never in the future; 最近N天 are N "
        "calendar days including today; 上个月 is the whole previous month. 同比 = compare 'yoy', 环比 = "
        "compare 'mom', with time = the current window.",
        "Filter values are ids (park_id, enterprise_id, city_code, industry_name, status, severity, carrier).",
        "Metrics: " + _metrics_text(layer),
        "Dimensions: " + _dimensions_text(layer),
    ]
    if entities:
        lines.append("Known entities (id: name):")
        lines += [_entity_line(e) for e in entities[:300]]
    if allow_sql:
        lines.append("Views for free_sql (DuckDB): ")
        lines += [f"- {name}({cols})" for name, cols in VIEW_COLUMNS.items()]
    return "\n".join(lines)


def _metrics_text(layer: Any) -> str:
    metrics = getattr(layer, "metrics", {})
    parts = []
    for m in metrics.values():
        notes = [n for n in (m.unit, "" if getattr(m, "timed", True) else "no time window") if n]
        parts.append(f"{m.id} = {m.zh} / {m.en}" + (f" ({', '.join(notes)})" if notes else ""))
    return "; ".join(parts)


def _dimensions_text(layer: Any) -> str:
    dims = [f"{d.id} ({d.zh}/{d.en}, id column {d.key})" for d in getattr(layer, "dimensions", {}).values()]
    filters = [
        f"{f.id} (filter only: {', '.join(f.values) or 'text'})"
        for f in getattr(layer, "filter_columns", {}).values()
    ]
    return "; ".join(dims + filters)


def _entity_line(entity: Mapping[str, Any]) -> str:
    values = [f"{k}={v}" for k, v in entity.items() if v not in (None, "", [])]
    return "- " + ", ".join(values)


def catalogue_entities(store: Any) -> list[dict[str, Any]]:
    """The public names the model may need: parks (id, name, short names) and their cities."""
    return store.query_rows(
        "SELECT p.park_id, p.name AS park_name, p.short_names, substr(p.region_code, 1, 4) || '00' AS city_code, "
        "(SELECT r.name FROM regions r WHERE r.region_code = substr(p.region_code, 1, 4) || '00') AS city_name "
        "FROM parks p ORDER BY p.park_id"
    )


# -- a data question ---------------------------------------------------------------------------------------


def llm_structured_query(
    client: LLMClient,
    question: str,
    now: datetime,
    layer: Any,
    *,
    entities: Sequence[Mapping[str, Any]] = (),
    allow_sql: bool = True,
    max_retries: int = MAX_RETRIES,
) -> LLMResult:
    """Ask the model for the query behind ``question``: a validated ``StructuredQuery``, checked
    ``FreeSQL``, or a ``Refusal`` (with the reason). Endpoint failures raise ``UpstreamError``."""
    tools = query_tools(allow_sql)
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": system_prompt(layer, now, entities, allow_sql)},
        {"role": "user", "content": question},
    ]
    calls: list[CallStats] = []
    error = "no answer"
    for _ in range(max_retries + 1):
        reply = client.call_tool(messages, tools)
        calls.append(reply.stats)
        outcome = _outcome(reply, tuple(calls), allow_sql)
        if not isinstance(outcome, str):
            return outcome
        error = outcome
        messages += _feedback(reply, error)
    return Refusal(f"the model gave no valid query after {max_retries + 1} tries: {error}", tuple(calls))


def _outcome(reply: ToolReply, calls: tuple[CallStats, ...], allow_sql: bool) -> LLMResult | str:
    """The result of one reply, or the error to send back for another try."""
    if reply.error or reply.arguments is None:
        return reply.error or "expected a tool call with JSON arguments"
    if reply.name == "structured_query":
        try:
            return StructuredQuery.from_dict(reply.arguments)
        except InvalidInput as exc:
            return exc.message
    if reply.name == "cannot_answer":
        return Refusal(
            f"the model cannot answer: {reply.arguments.get('reason') or 'no reason given'}", calls
        )
    if reply.name == "free_sql" and allow_sql:
        sql = reply.arguments.get("sql")
        if not isinstance(sql, str):
            return "free_sql.sql: expected the SQL text"
        try:
            check_sql(sql)
        except QueryError as exc:
            return Refusal(f"the model's SQL was refused: {exc.message}", calls)
        return FreeSQL(sql, str(reply.arguments.get("explanation") or ""), calls)
    return f"unknown tool {reply.name!r}; expected structured_query or cannot_answer"


def _feedback(reply: ToolReply, error: str) -> list[dict[str, Any]]:
    """The conversation turn that shows the model its mistake."""
    text = f"Invalid: {error}. Call one tool again with corrected arguments."
    if reply.call_id:
        message = dict(reply.message)
        message["tool_calls"] = message.get("tool_calls", [])[:1]  # answer exactly the call we read
        return [message, {"role": "tool", "tool_call_id": reply.call_id, "content": text}]
    return [
        {"role": "assistant", "content": reply.raw or ""},
        {"role": "user", "content": text + ' Reply with one JSON object {"tool": ..., "arguments": {...}}.'},
    ]


# -- a policy question -------------------------------------------------------------------------------------

_CITATION = re.compile(r"[\[【](\d{1,3})[\]】]")


def llm_policy_answer(
    client: LLMClient, question: str, paragraphs: Sequence[Mapping[str, Any]], lang: str | None = None
) -> dict[str, Any]:
    """An answer written by the model only from ``paragraphs`` (dicts with doc_id, title, section, text),
    citing them as [1], [2] …. Citations of paragraphs not given are removed; an answer left citing
    nothing is refused (status ``unsupported``) rather than shown. Returns the assistant's answer keys."""
    lang = lang or ("zh" if re.search(r"[\u4e00-\u9fff]", question) else "en")
    if not paragraphs:
        return _policy_result(_NOTHING_FOUND[lang], [], "no_data", [])
    result = client.complete(
        [
            {"role": "system", "content": _POLICY_RULES[lang]},
            {"role": "user", "content": _policy_prompt(question, paragraphs)},
        ]
    )
    answer, cited = _keep_valid_citations(strip_reasoning(result.content or ""), len(paragraphs))
    if not cited:
        return _policy_result(_NOT_GROUNDED[lang], [], "unsupported", [result.stats])
    sources = [_source(paragraphs[n - 1]) for n in cited]
    return _policy_result(answer, sources, "answered", [result.stats])


_POLICY_RULES = {
    "zh": "你是园区政策助手。只根据用户给出的编号段落回答，不得使用其他知识；每句事实后用 [编号] 注明出处，"
    "只能引用给出的编号。如果段落不能回答问题，直接说明“所给政策条文中没有答案”，不要编造。",
    "en": "You answer questions about park policies only from the numbered paragraphs given, no other "
    "knowledge. Cite the paragraph after each fact as [n], using only the numbers given. If the paragraphs "
    "do not answer the question, say so; never invent.",
}
_NOTHING_FOUND = {
    "zh": "没有检索到相关的政策条文，无法回答。",
    "en": "No policy paragraphs were found for this question, so it cannot be answered.",
}
_NOT_GROUNDED = {
    "zh": "模型的回答没有引用所给的政策条文，已拒绝；请查看检索到的原文。",
    "en": "The model's answer cited none of the given policy paragraphs and was refused.",
}


def _policy_prompt(question: str, paragraphs: Sequence[Mapping[str, Any]]) -> str:
    blocks = [
        f"[{i}] 《{p.get('title', '')}》 {p.get('section', '')}\n{p.get('text', '')}"
        for i, p in enumerate(paragraphs, 1)
    ]
    return "Paragraphs:\n\n" + "\n\n".join(blocks) + f"\n\nQuestion: {question}"


def _keep_valid_citations(text: str, count: int) -> tuple[str, list[int]]:
    """``text`` with citations outside 1..count removed and the others renumbered in order of first
    use (so [k] is the k-th source), and the original numbers cited."""
    cited: list[int] = []
    for match in _CITATION.finditer(text):
        n = int(match.group(1))
        if 1 <= n <= count and n not in cited:
            cited.append(n)

    def renumber(match: re.Match[str]) -> str:
        n = int(match.group(1))
        return f"[{cited.index(n) + 1}]" if n in cited else ""

    return _CITATION.sub(renumber, text).strip(), cited


def _source(paragraph: Mapping[str, Any]) -> dict[str, Any]:
    """The paragraph as given (its demo label, chunk id … kept), as a policy source."""
    return {**paragraph, "kind": "policy"}


def _policy_result(
    answer: str, sources: list[dict[str, Any]], status: str, calls: list[CallStats]
) -> dict[str, Any]:
    from parkbrain.ai.assistant import empty_answer

    return empty_answer(status, answer, sources=sources, engine="llm", llm_calls=[c.as_dict() for c in calls])


# -- the whole answer ----------------------------------------------------------------------------------------


def answer_with_llm(
    client: LLMClient,
    session: Any,
    question: str,
    now: datetime,
    scope: Any,
    *,
    lang: str | None = None,
    layer: Any | None = None,
) -> dict[str, Any]:
    """The assistant's answer (the contract's keys, ``engine`` "llm") to ``question`` through the model.

    ``session`` is the offline engine's ``ai.assistant.Session`` (its cursor holds the ``sem_*`` views
    under the caller's scope); ``scope`` the caller's ``space.scope.Scope`` for free SQL. A structured
    query is compiled and answered exactly as the offline engine does; free SQL is scoped, limited and
    run read-only by ``sqlsafe``; a refusal is an ``unsupported`` answer naming the reason. The model's
    calls (latency, tokens) are in ``llm_calls``. ``UpstreamError`` when the endpoint fails.
    """
    from parkbrain.ai.assistant import answer_query, empty_answer
    from parkbrain.ai.semantic import load_layer

    layer = layer or load_layer()
    lang = lang or ("zh" if re.search(r"[\u4e00-\u9fff]", question) else "en")
    first = len(client.calls)
    entities = catalogue_entities(session.store) + named_entities(session, question, layer)
    result = llm_structured_query(client, question, now, layer, entities=entities)
    calls = [c.as_dict() for c in client.calls[first:]]
    if isinstance(result, StructuredQuery):
        answer = answer_query(session, result, lang, layer, engine="llm")
    elif isinstance(result, FreeSQL):
        try:
            answer = _free_sql_answer(session, result, scope, lang)
        except QueryError as exc:  # refused on the database (a CTE named like a view), too slow, or wrong
            answer = {
                **empty_answer("unsupported", _NOT_RUN[lang] + exc.message, engine="llm"),
                "sql": result.sql,
            }
    else:
        answer = empty_answer("unsupported", _REFUSED[lang] + result.reason, engine="llm")
    return {**answer, "llm_calls": calls}


def named_entities(session: Any, question: str, layer: Any) -> list[dict[str, Any]]:
    """The enterprises, parks, cities and industries the question names, as the offline engine links
    them from the caller's own catalog (ambiguous names with every option): ids the model may use."""
    from parkbrain.ai.entities import link_entities

    links = link_entities(question.lower(), session.catalog, layer)
    found = [*links.entities, *(e for _, options in links.ambiguous for e in options)]
    seen: set[tuple[str, str]] = set()
    out = []
    for e in found:
        if (e.kind, e.id) not in seen:
            seen.add((e.kind, e.id))
            out.append({"named_in_question": e.kind, "id": e.id, "name": e.name})
    return out


_NOT_RUN = {"zh": "模型编写的查询无法运行：", "en": "The model's query could not be run: "}
_REFUSED = {
    "zh": "抱歉，无法用园区数据回答这个问题：",
    "en": "Sorry, this cannot be answered from the park data: ",
}


def _free_sql_answer(session: Any, free: FreeSQL, scope: Any, lang: str) -> dict[str, Any]:
    from parkbrain.ai.sqlsafe import make_safe, run_safe_sql
    from parkbrain.ai.views import create_semantic_views

    facts = [v for v in ("sem_energy_daily", "sem_aqi_daily") if v in make_safe(free.sql, scope).relations]
    if facts:
        create_semantic_views(session.con, session.store, session.scope, views=facts)
    safe, table = run_safe_sql(session.con, free.sql, scope)
    columns = list(table.column_names)
    rows = [[_plain(v) for v in row.values()] for row in table.to_pylist()]
    status = "answered" if rows else "no_data"
    return {
        "answer": _free_sql_text(len(rows), safe.limit, free.explanation, lang),
        "query": None,
        "sql": safe.sql,
        "columns": columns,
        "rows": rows,
        "sources": [
            {"kind": "sql", "sql": safe.sql, "model_sql": free.sql, "views": list(safe.relations)},
            *({"kind": "table", "table": r} for r in safe.relations),
        ],
        "status": status,
        "clarify": [],
        "engine": "llm",
    }


def _plain(v: Any) -> Any:
    """A JSON-safe cell: dates as ISO text, decimals as floats, NaN as null."""
    if isinstance(v, (date, datetime)):
        return v.isoformat()
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, float) and v != v:
        return None
    return v


def _free_sql_text(n: int, limit: int, explanation: str, lang: str) -> str:
    """What the rows are, never a number from the model: only the row count the platform measured."""
    capped = n >= limit
    if lang == "zh":
        if not n:
            return "查询没有返回数据，无法给出数值。"
        note = f"（已截取前 {limit} 行）" if capped else ""
        what = f"：{explanation}" if explanation else ""
        return f"模型编写的查询经平台加上权限范围和行数上限后运行{what}，共 {n} 行{note}，见下表。"
    if not n:
        return "The query returned no rows; no number can be given."
    note = f" (the first {limit})" if capped else ""
    what = f" ({explanation})" if explanation else ""
    return f"The model's query{what}, run with the platform's tenant filter and row limit, returned {n} rows{note}; see the table."


def describe(result: LLMResult) -> dict[str, Any]:
    """A JSON-safe summary of an LLM result (for logs and the answer's ``query`` key)."""
    if isinstance(result, StructuredQuery):
        return {"kind": "structured_query", "query": result.to_dict()}
    if isinstance(result, FreeSQL):
        return {"kind": "free_sql", "sql": result.sql, "explanation": result.explanation}
    return {"kind": "refusal", "reason": result.reason}


__all__ = [
    "FreeSQL",
    "LLMResult",
    "Refusal",
    "answer_with_llm",
    "catalogue_entities",
    "describe",
    "named_entities",
    "llm_policy_answer",
    "llm_structured_query",
    "query_tools",
    "system_prompt",
]
