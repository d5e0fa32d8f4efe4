"""The park assistant's offline engine: a question → parse → compile → run on the semantic views → answer.

``answer_question`` builds the ``sem_*`` views on one cursor of the store under the caller's scope,
links names from them, parses, compiles, runs the SQL and writes the answer from the rows only: every
number in the text is a number of the rows (formatted), and a window without data says so. The answer
is the contract of issue 9: ``answer``, ``query``, ``sql``, ``columns``, ``rows``, ``sources``,
``status`` (answered | clarify | no_data | unsupported), ``clarify``, ``engine``.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from parkbrain.ai.compile import Compiled, compile_query
from parkbrain.ai.entities import Catalog
from parkbrain.ai.parse import Parsed, parse_question, question_lang
from parkbrain.ai.query import StructuredQuery, TimeRange
from parkbrain.ai.semantic import SemanticLayer, load_layer
from parkbrain.ai.views import ViewScope, create_semantic_views, data_days
from parkbrain.errors import InvalidInput
from parkbrain.store.base import Store

SHOWN_ROWS = 10
# Words that carry no topic (left out before a question without a metric is tried on the policy corpus).
FUNCTION_WORDS: tuple[str, ...] = ("请问", "一下", "多少", "几家", "几个", "哪些", "什么", "怎么样", "如何", "情况",
                                   "的", "有", "是", "吗", "呢", "了")  # fmt: skip  # rows named in the answer text
DIMENSION_VIEWS = ("sem_parks", "sem_enterprises", "sem_buildings", "sem_devices")
DEFAULT_LABELS_EN = {
    "去年同期": "the same period last year",
    "上期": "the previous period",
    "最近30天": "the last 30 days",
    "今年": "this year",
    "最近3年": "the last 3 years",
    "最近12周": "the last 12 weeks",
}


def empty_answer(status: str, answer: str, **extra: Any) -> dict[str, Any]:
    """An answer with no query run (clarify, unsupported …)."""
    return {
        "answer": answer,
        "query": None,
        "sql": None,
        "columns": [],
        "rows": [],
        "sources": [],
        "status": status,
        "clarify": [],
        "engine": "offline",
        **extra,
    }


class Session:
    """One question's connection: the semantic views under the caller's scope, and its name catalog."""

    def __init__(self, store: Store, scope: ViewScope | None = None) -> None:
        self.store = store
        self.scope = scope or ViewScope()
        self.con = store.cursor()
        create_semantic_views(self.con, store, self.scope, views=(*DIMENSION_VIEWS, "sem_alerts"))
        self.catalog = Catalog.read(self.con, everything=self.scope.everything)
        self.span = data_days(store)

    def prepare(self, compiled: Compiled) -> None:
        """Build the fact views the query reads, for the days it needs."""
        facts = [v for v in compiled.views if v in ("sem_energy_daily", "sem_aqi_daily")]
        if not facts:
            return
        windows = [w for w in compiled.windows if w is not None]
        start = min((w.start for w in windows), default=None)
        end = max((w.end for w in windows), default=None)
        if start is not None and self.span:  # no need to read days outside the data
            start = max(start, self.span[0])
            end = max(min(end, self.span[1] + timedelta(days=1)), start + timedelta(days=1))
        create_semantic_views(self.con, self.store, self.scope, start, end, views=facts)

    def run(self, compiled: Compiled) -> list[list[Any]]:
        self.prepare(compiled)
        return [[_json_value(v) for v in row] for row in self.con.execute(compiled.sql).fetchall()]

    def covered(self, t: TimeRange | None) -> bool:
        """Whether the window overlaps the days with data."""
        if t is None:
            return self.span is not None
        return self.span is not None and t.start <= self.span[1] and t.end > self.span[0]


def answer_question(
    store: Store,
    question: str,
    now: datetime,
    scope: ViewScope | None = None,
    lang: str | None = None,
    layer: SemanticLayer | None = None,
    session: Session | None = None,
) -> dict[str, Any]:
    """The offline answer to ``question`` asked at ``now`` by a caller with ``scope`` (or on an open
    ``session``). Policy questions come back with status ``policy`` (for ``Park.ask`` to route)."""
    layer = layer or load_layer()
    session = session or Session(store, scope)
    parsed = parse_question(question, now, session.catalog, layer)
    lang = lang or parsed.lang
    if parsed.status == "policy":
        return empty_answer("policy", "")
    if parsed.status == "clarify":
        return empty_answer("clarify", parsed.message, clarify=parsed.clarify)
    if parsed.status != "ok" or parsed.query is None:
        return empty_answer("unsupported", parsed.message)
    return answer_query(session, parsed.query, lang, layer, parsed)


def without_names(question: str, session: Session, now: datetime) -> str:
    """``question`` without its time words and the names it links (parks, cities, enterprises …): what
    is left to search the policy corpus with, so that a place name alone does not make a policy hit."""
    from parkbrain.ai.entities import link_entities
    from parkbrain.ai.parse import normalise
    from parkbrain.ai.timeexpr import parse_time

    layer = load_layer()
    rest = link_entities(parse_time(normalise(question), now, layer).rest, session.catalog, layer).rest
    for word in FUNCTION_WORDS:
        rest = rest.replace(word, " ")
    rest = re.sub(r"\s+", " ", rest).strip(" ?？。,，!！")
    return rest if re.search(r"[\u4e00-\u9fff]{2}|[a-z]{4}", rest) else ""


def answer_query(
    session: Session,
    query: StructuredQuery,
    lang: str,
    layer: SemanticLayer | None = None,
    parsed: Parsed | None = None,
    engine: str = "offline",
) -> dict[str, Any]:
    """Compile and run ``query`` (from the parser or an LLM) and write the answer from its rows."""
    layer = layer or load_layer()
    try:
        compiled = compile_query(query, layer)
    except InvalidInput as exc:
        text = (
            f"抱歉，这个问题无法回答：{exc.message}"
            if lang == "zh"
            else f"Sorry, this cannot be answered: {exc}"
        )
        return {**empty_answer("unsupported", text, engine=engine), "query": query.to_dict()}
    rows = session.run(compiled)
    names = _names(session)
    writer = _Writer(query, layer, lang, names, session.span)
    metric_timed = layer.metrics[query.metric].timed
    has_data = session.covered(query.time) if metric_timed else True
    status = "answered" if has_data and _has_values(rows, compiled) else "no_data"
    text = writer.no_data() if status == "no_data" else writer.answer(rows, compiled)
    if parsed is not None and parsed.defaulted_time and metric_timed:
        text += writer.default_note()
    return {
        "answer": text,
        "query": query.to_dict(),
        "sql": compiled.sql,
        "columns": list(compiled.columns),
        "rows": rows if status == "answered" else [],
        "sources": _sources(compiled, layer, query),
        "status": status,
        "clarify": [],
        "engine": engine,
    }


def _has_values(rows: list[list[Any]], compiled: Compiled) -> bool:
    value_at = (
        compiled.columns.index("current") if "current" in compiled.columns else len(compiled.columns) - 1
    )
    return any(r[value_at] is not None for r in rows)


def _sources(compiled: Compiled, layer: SemanticLayer, query: StructuredQuery) -> list[dict[str, Any]]:
    metric = layer.metrics[query.metric]
    out: list[dict[str, Any]] = [{"kind": "sql", "sql": compiled.sql, "views": list(compiled.views)}]
    out += [{"kind": "table", "table": v} for v in compiled.views]
    if metric.view == "sem_energy_daily":
        out.append(
            {
                "kind": "table",
                "table": "readings_1d",
                "note": "tce: GB/T 2589-2020 当量值; tCO2: default grid factor of the energy reports",
            }
        )
    return out


def _names(session: Session) -> dict[str, str]:
    return {e.id: e.name for ents in session.catalog.aliases.values() for e in ents}


def _json_value(v: Any) -> Any:
    if isinstance(v, (date, datetime)):
        return v.isoformat()
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return None
    return v


# -- the text -------------------------------------------------------------------------------------------


def fmt_number(v: Any) -> str:
    """A number as shown in an answer: thousands separators, at most two decimals."""
    if v is None:
        return "—"
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return str(v)
    if float(v).is_integer():
        return f"{int(v):,}"
    digits = 2 if abs(v) >= 1 else 4
    return f"{v:,.{digits}f}".rstrip("0").rstrip(".")


class _Writer:
    """The answer sentence, in the question's language, from the rows only."""

    def __init__(
        self, q: StructuredQuery, layer: SemanticLayer, lang: str, names: dict[str, str], span: Any
    ) -> None:
        self.q, self.layer, self.lang, self.names, self.span = q, layer, lang, names, span
        self.metric = layer.metrics[q.metric]
        self.zh = lang == "zh"

    def window(self, t: TimeRange | None = None) -> str:
        t = t or self.q.time
        if t is None or not self.metric.timed:
            return ""
        last = t.end - timedelta(days=1)
        dates = t.start.isoformat() if last == t.start else f"{t.start.isoformat()} – {last.isoformat()}"
        label = t.label or ""
        if not self.zh:
            for zh, en in DEFAULT_LABELS_EN.items():
                label = label.replace(zh, en)
            label = re.sub(r"^(in|during|over)\s+", "", label)
        return f"{label}（{dates}）" if self.zh else f"{label} ({dates})".strip()

    def subject(self) -> str:
        parts = []
        for f in self.q.filters:
            names = [self._value_name(f.dimension, v, f.op == "!=") for v in f.values()]
            parts.append("、".join(names) if self.zh else ", ".join(names))
        return ("".join(p + " " for p in parts)).strip()

    def _value_name(self, dim: str, value: str, negated: bool = False) -> str:
        """A filter value as words: the layer's first word for it in the answer's language (未处理,
        严重, 振动告警 …), an entity's name, or the value itself."""
        if dim not in self.layer.filter_columns:
            return self.names.get(value, value)
        words = self.layer.value_words.get(dim, {})
        key = f"!{value}" if negated else value
        for word, v in words.items():
            if v == key and (word.isascii() != self.zh):
                return word
        if negated:
            return f"非{value}" if self.zh else f"not {value}"
        return value

    def metric_name(self) -> str:
        name = self.metric.name(self.lang)
        if self.q.agg == "max":
            return f"最高{name}" if self.zh else f"highest {name}"
        if self.q.agg == "min":
            return f"最低{name}" if self.zh else f"lowest {name}"
        return name

    def value(self, v: Any) -> str:
        unit = self.metric.unit_text(self.lang)
        return f"{fmt_number(v)} {unit}".strip() if unit and not self.zh else f"{fmt_number(v)}{unit}"

    def head(self) -> str:
        w, s = self.window(), self.subject()
        if self.zh:
            return f"{w}{s}{'的' if s else ''}{self.metric_name()}"
        return f"{self.metric_name()}{' (' + s + ')' if s else ''}{', ' + w if w else ''}"

    def answer(self, rows: list[list[Any]], compiled: Compiled) -> str:
        if self.q.compare:
            return self._compare(rows, compiled)
        if len(compiled.columns) == 1:
            v = rows[0][0] if rows else None
            return f"{self.head()}为 {self.value(v)}。" if self.zh else f"{self.head()}: {self.value(v)}."
        return self._list(rows, compiled)

    def _list(self, rows: list[list[Any]], compiled: Compiled) -> str:
        shown = [r for r in rows if r[-1] is not None][:SHOWN_ROWS]
        items = [f"{' '.join(str(c) for c in r[:-1])} {self.value(r[-1])}" for r in shown]
        more = len(rows) - len(shown)
        if self.q.order and self.q.limit == 1 and len(shown) == 1:
            label = " ".join(str(c) for c in shown[0][:-1])
            if self.zh:
                return f"{self.head()}{'最高' if self.q.order == 'desc' else '最低'}的是 {label}，为 {self.value(shown[0][-1])}。"
            top = "highest" if self.q.order == "desc" else "lowest"
            return f"{self.head()}: the {top} is {label} ({self.value(shown[0][-1])})."
        rank = ""
        if self.q.order:
            n = f"{len(rows)}" if self.q.limit else ""
            if self.zh:
                rank = f"排名{'前' if self.q.order == 'desc' else '后'}{n}" if n else "排名"
            else:
                rank = f"{'top' if self.q.order == 'desc' else 'bottom'} {n}".strip()
        if self.zh:
            tail = f"；另有 {more} 行见表格" if more > 0 else ""
            return (
                f"{self.head()}{rank}："
                + "；".join(f"{i + 1}. {t}" for i, t in enumerate(items))
                + tail
                + "。"
            )
        tail = f"; {more} more rows in the table" if more > 0 else ""
        return (
            f"{self.head()}{', ' + rank if rank else ''}: "
            + "; ".join(f"{i + 1}. {t}" for i, t in enumerate(items))
            + tail
            + "."
        )

    def _compare(self, rows: list[list[Any]], compiled: Compiled) -> str:
        from parkbrain.ai.timeexpr import previous_range

        assert self.q.time is not None and self.q.compare is not None
        prev = previous_range(self.q.time, self.q.compare)
        kind = ("同比" if self.q.compare == "yoy" else "环比") if self.zh else (
            "year over year" if self.q.compare == "yoy" else "period over period")  # fmt: skip
        prev_name = ("去年同期" if self.q.compare == "yoy" else "上期") if self.zh else (
            "the same period last year" if self.q.compare == "yoy" else "the previous period")  # fmt: skip
        prev_dates = self.window(TimeRange(prev.start, prev.end, None, ""))
        parts = []
        for r in rows[:SHOWN_ROWS]:
            label = " ".join(str(c) for c in r[:-3])
            cur, before, pct = r[-3], r[-2], r[-1]
            if self.zh:
                p = f"{prev_name}{prev_dates}没有数据" if before is None else (
                    f"{prev_name} {self.value(before)}，{kind}{'增长' if pct >= 0 else '下降'} {fmt_number(abs(pct))}%"
                    if pct is not None else f"{prev_name} {self.value(before)}")  # fmt: skip
                parts.append(f"{label + ' ' if label else ''}{self.value(cur)}，{p}")
            else:
                p = f"no data for {prev_name} {prev_dates}" if before is None else (
                    f"{prev_name} {self.value(before)}, {'up' if pct >= 0 else 'down'} {fmt_number(abs(pct))}% {kind}"
                    if pct is not None else f"{prev_name} {self.value(before)}")  # fmt: skip
                parts.append(f"{label + ' ' if label else ''}{self.value(cur)}, {p}")
        sep = "；" if self.zh else "; "
        return f"{self.head()}{'：' if self.zh else ': '}{sep.join(parts)}{'。' if self.zh else '.'}"

    def no_data(self) -> str:
        cover = ""
        if self.span:
            lo, hi = self.span
            cover = f"（现有数据覆盖 {lo} 至 {hi}）" if self.zh else f" (the data covers {lo} to {hi})"
        if self.zh:
            return f"{self.window() or ''}没有{self.subject()}{self.metric_name()}数据{cover}，无法给出数值。"
        w = self.window()
        return (
            f"There is no {self.metric_name()} data{' for ' + self.subject() if self.subject() else ''}"
            + (f", {w}" if w else "")
            + f"{cover}; no number can be given."
        )

    def default_note(self) -> str:
        """What window a question without one was answered for."""
        if self.q.time is None:
            span = f"{self.span[0]} – {self.span[1]}" if self.span else ""
            if self.zh:
                return f"（问题未指明时间，按全部数据统计{'：' + span if span else ''}。）"
            return f" (No time was given; this is all the data{': ' + span if span else ''}.)"
        if self.zh:
            return f"（问题未指明时间，按{self.q.time.label}统计。）"
        return f" (No time was given; this is {self.window()}.)"


def detect_lang(question: str) -> str:
    return question_lang(question)
