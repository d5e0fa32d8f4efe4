"""The park assistant's evaluation: a fixed demo province, a hand-written question set with gold SQL,
and execution accuracy (the answer's rows equal the gold SQL's rows).

    path = eval_demo_file()                         # built once into the cache, then reused
    with Park.open(path, read_only=True) as park:
        report = run_eval(park, load_questions(), EVAL_NOW)

The question set (``eval_questions.jsonl``, one JSON object a line) is the independent yardstick of
issue 9: written by hand over the ``sem_*`` views of the contract (``ai.views``), never adapted to the
offline parser. A question is correct when

- ``expect`` is ``answer``: the status is ``answered`` and the rows equal the gold SQL's rows — as
  multisets unless ``order_matters``; numbers within 1e-6 relative, dates and text exactly; column
  names ignored, the number of columns must match;
- otherwise (``clarify``, ``no_data``, ``unsupported``): the status is the expected one.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from parkbrain.errors import InvalidInput

EVAL_SEED = 42
EVAL_DAYS = 240
EVAL_NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone(timedelta(hours=8)))
"""The question time of the evaluation: 今天 = 2026-11-20 (Asia/Shanghai); the demo ends at the same time."""
TARGET = 0.90
"""Execution accuracy the offline engine must reach (issue 9)."""
QUESTIONS_FILE = Path(__file__).with_name("eval_questions.jsonl")
EXPECTS = ("answer", "clarify", "no_data", "unsupported")
STATUS_OF = {"answer": "answered", "clarify": "clarify", "no_data": "no_data", "unsupported": "unsupported"}
LANGS = ("zh", "en")
REL_TOL = 1e-6
_FIELDS = ("id", "lang", "category", "question", "gold_sql", "expect", "order_matters")


@dataclass(frozen=True)
class EvalQuestion:
    """One question of the evaluation set."""

    id: str
    lang: str
    category: str
    question: str
    gold_sql: str | None
    expect: str
    order_matters: bool = False


# -- the evaluation demo -----------------------------------------------------------------------------


def cache_dir() -> Path:
    """Where built evaluation demos are kept: ``$PARKBRAIN_CACHE`` or ``~/.cache/parkbrain``."""
    env = os.environ.get("PARKBRAIN_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "parkbrain"


def eval_demo_path(cache: str | Path | None = None) -> Path:
    """Where the evaluation demo is (or will be) kept in ``cache`` (default ``cache_dir()``): the name
    carries seed, end and days."""
    folder = Path(cache) if cache is not None else cache_dir()
    return folder / f"eval-demo-s{EVAL_SEED}-{EVAL_NOW:%Y%m%dT%H%M}-{EVAL_DAYS}d.duckdb"


def eval_demo_file(cache: str | Path | None = None) -> Path:
    """The evaluation demo (seed 42, 240 days ending 2026-11-20 12:00 +08:00), built into ``cache``
    the first time (about two minutes) and reused after."""
    from parkbrain.demo import build_demo_file

    path = eval_demo_path(cache)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        build_demo_file(path, seed=EVAL_SEED, end=EVAL_NOW, days=EVAL_DAYS)
    return path


# -- the question set --------------------------------------------------------------------------------


def load_questions(path: str | Path | None = None) -> list[EvalQuestion]:
    """The questions of a JSON Lines file (default: the packaged set), checked field by field."""
    path = Path(path) if path is not None else QUESTIONS_FILE
    questions, seen = [], set()
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        question = _parse_question(line, f"{path.name}, line {n}")
        if question.id in seen:
            raise InvalidInput(f"{path.name}, line {n}: id {question.id!r} is used twice")
        seen.add(question.id)
        questions.append(question)
    return questions


def _parse_question(line: str, where: str) -> EvalQuestion:
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{where}: not a JSON object ({exc.msg})") from None
    if not isinstance(raw, dict):
        raise InvalidInput(f"{where}: expected a JSON object")
    missing = [f for f in _FIELDS if f not in raw]
    if missing:
        raise InvalidInput(f"{where}: field {missing[0]!r} is missing")
    checks = [
        ("lang", raw["lang"] in LANGS, f"one of {', '.join(LANGS)}"),
        ("expect", raw["expect"] in EXPECTS, f"one of {', '.join(EXPECTS)}"),
        ("question", isinstance(raw["question"], str) and raw["question"].strip(), "non-empty text"),
        ("gold_sql", raw["gold_sql"] is None or isinstance(raw["gold_sql"], str), "SQL text or null"),
        ("gold_sql", raw["expect"] != "answer" or raw["gold_sql"], "SQL text when expect is answer"),
        ("order_matters", isinstance(raw["order_matters"], bool), "true or false"),
    ]
    for field, ok, expected in checks:
        if not ok:
            raise InvalidInput(f"{where}: field {field!r}: expected {expected}; got {raw[field]!r}")
    return EvalQuestion(**{f: raw[f] for f in _FIELDS})


# -- comparing rows ----------------------------------------------------------------------------------


def normalise(value: Any) -> Any:
    """A cell as compared: numbers as float, dates and times as ISO text, everything else as is."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float, Decimal)):
        return float(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def same_value(got: Any, gold: Any) -> bool:
    """Numbers equal within 1e-6 relative; dates (as ISO text), text and NULL exactly."""
    got, gold = normalise(got), normalise(gold)
    if isinstance(got, float) and isinstance(gold, float) and not isinstance(got, bool):
        if math.isnan(got) or math.isnan(gold):
            return math.isnan(got) and math.isnan(gold)
        return math.isclose(got, gold, rel_tol=REL_TOL, abs_tol=1e-12)
    return type(got) is type(gold) and got == gold


def _same_row(got: Sequence[Any], gold: Sequence[Any]) -> bool:
    return len(got) == len(gold) and all(same_value(a, b) for a, b in zip(got, gold))


def compare_rows(
    got: Sequence[Sequence[Any]], gold: Sequence[Sequence[Any]], order_matters: bool = False
) -> str | None:
    """None when ``got`` equals ``gold`` (rows of cells), else why not (in words)."""
    widths = {len(r) for r in gold} | {len(r) for r in got}
    if len(widths) > 1:
        return f"column count: expected {len(gold[0]) if gold else 0}, got {len(got[0]) if got else 0}"
    if len(got) != len(gold):
        return f"row count: expected {len(gold)}, got {len(got)}"
    if order_matters:
        for i, (a, b) in enumerate(zip(got, gold)):
            if not _same_row(a, b):
                return f"row {i + 1}: expected {_show(b)}, got {_show(a)}"
        return None
    left = list(got)
    for row in gold:
        match = next((i for i, candidate in enumerate(left) if _same_row(candidate, row)), None)
        if match is None:
            return f"expected row {_show(row)} is missing"
        left.pop(match)
    return None


def _show(row: Sequence[Any]) -> str:
    return json.dumps([normalise(v) for v in row], ensure_ascii=False)


def answer_rows(answer: dict[str, Any]) -> list[list[Any]]:
    """The rows of an answer as lists in column order (rows given as objects are read by column)."""
    columns = list(answer.get("columns") or [])
    rows = answer.get("rows") or []
    return [[r.get(c) for c in columns] if isinstance(r, dict) else list(r) for r in rows]


def judge(question: EvalQuestion, answer: dict[str, Any], gold: list[list[Any]] | None) -> str | None:
    """None when ``answer`` is right for ``question`` (``gold``: the gold SQL's rows), else why not."""
    status = answer.get("status")
    want = STATUS_OF[question.expect]
    if status != want:
        return f"status: expected {want}, got {status}"
    if question.expect != "answer":
        return None
    got = answer_rows(answer)
    columns = answer.get("columns") or []
    if gold and columns and len(columns) != len(gold[0]):
        return f"column count: expected {len(gold[0])}, got {len(columns)}"
    return compare_rows(got, gold or [], question.order_matters)


# -- running the evaluation ----------------------------------------------------------------------------


def gold_connection(park: Any) -> Any:
    """A cursor of ``park``'s store with the semantic views, under ``park``'s scope (as ``Park.ask`` sees)."""
    from parkbrain.ai.views import ViewScope, create_semantic_views

    scope = park.scope
    con = park.store.cursor()
    view_scope = ViewScope(
        enterprises=scope.enterprises("e"),
        alerts=scope.alerts("a"),
        buildings=scope.buildings("b"),
        devices=scope.devices("d"),
        points=scope.points("p", "d"),
    )
    create_semantic_views(con, park.store, view_scope)
    return con


def run_eval(park: Any, questions: Iterable[EvalQuestion], now: datetime = EVAL_NOW) -> dict[str, Any]:
    """Ask ``park`` every question at ``now`` and score the answers: accuracy overall, by category and
    by language, and the failures (id, question, expected, got, why). An exception while answering a
    question is that question's failure, never the end of the run."""
    started = time.perf_counter()
    con = gold_connection(park)
    results = []
    try:
        for question in questions:
            results.append(_evaluate(park, con, question, now))
    finally:
        con.close()
    report = summarise(results)
    report.update(now=now.isoformat(), seconds=round(time.perf_counter() - started, 1))
    return report


def _evaluate(park: Any, con: Any, question: EvalQuestion, now: datetime) -> dict[str, Any]:
    result: dict[str, Any] = {"id": question.id, "lang": question.lang, "category": question.category}
    gold = None
    try:
        if question.expect == "answer":
            gold = [list(r) for r in con.execute(question.gold_sql).fetchall()]
    except Exception as exc:  # noqa: BLE001 - a broken gold query fails its question, not the run
        return {**result, "ok": False, **_failure(question, None, None, f"gold SQL failed: {exc}")}
    started = time.perf_counter()
    try:
        answer = park.ask(question.question, now=now)
    except Exception as exc:  # noqa: BLE001 - one question's crash is its failure
        result["seconds"] = time.perf_counter() - started
        return {**result, "ok": False, **_failure(question, gold, None, f"{type(exc).__name__}: {exc}")}
    result["seconds"] = time.perf_counter() - started
    try:
        result["engine"] = answer.get("engine")
        why = judge(question, answer, gold)
    except Exception as exc:  # noqa: BLE001 - an answer of the wrong shape is a failure
        why, answer = f"malformed answer: {type(exc).__name__}: {exc}", None
    if why is None:
        return {**result, "ok": True}
    return {**result, "ok": False, **_failure(question, gold, answer, why)}


def _failure(
    question: EvalQuestion, gold: list[list[Any]] | None, answer: dict[str, Any] | None, why: str
) -> dict[str, Any]:
    expected: dict[str, Any] = {"status": STATUS_OF[question.expect]}
    if gold is not None:
        expected["rows"] = [[normalise(v) for v in r] for r in gold[:5]]
        expected["row_count"] = len(gold)
    got: dict[str, Any] | None = None
    if answer is not None:
        rows = answer_rows(answer)
        got = {
            "status": answer.get("status"),
            "answer": str(answer.get("answer") or "")[:200],
            "columns": answer.get("columns"),
            "rows": [[normalise(v) for v in r] for r in rows[:5]],
            "row_count": len(rows),
            "sql": answer.get("sql"),
        }
    return {
        "question": question.question,
        "expected": expected,
        "got": got,
        "reason": why,
        "gold_sql": question.gold_sql,
    }


def summarise(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Accuracy overall, by category and by language, and the failures, of per-question results."""

    def score(rows: list[dict[str, Any]]) -> dict[str, Any]:
        correct = sum(1 for r in rows if r["ok"])
        return {"questions": len(rows), "correct": correct, "accuracy": correct / len(rows) if rows else 0.0}

    def by(key: str) -> dict[str, dict[str, Any]]:
        order = Counter(r[key] for r in results)
        return {k: score([r for r in results if r[key] == k]) for k in order}

    return {
        **score(results),
        "target": TARGET,
        "by_category": by("category"),
        "by_language": by("lang"),
        "engines": dict(Counter(r["engine"] for r in results if r.get("engine"))),
        "answer_seconds": _latency([r["seconds"] for r in results if "seconds" in r]),
        "failures": [r for r in results if not r["ok"]],
    }


def _latency(seconds: list[float]) -> dict[str, float | None]:
    """Mean, 95th percentile (nearest rank) and maximum of the answer times."""
    if not seconds:
        return {"mean": None, "p95": None, "max": None}
    ranked = sorted(seconds)
    p95 = ranked[max(math.ceil(0.95 * len(ranked)) - 1, 0)]
    return {"mean": round(sum(ranked) / len(ranked), 3), "p95": round(p95, 3), "max": round(ranked[-1], 3)}


def report_lines(report: dict[str, Any], failures: int = 10) -> list[str]:
    """The report as text: accuracy by category and language beside the target, then failures."""
    target = f"{report['target']:.0%}"
    lines = [
        f"park assistant evaluation: {report['correct']}/{report['questions']} correct, "
        f"accuracy {report['accuracy']:.1%} (target {target}) at {report.get('now', '')}; engine: "
        + (", ".join(f"{k} {v}" for k, v in (report.get("engines") or {}).items()) or "none answered"),
        "",
        f"{'':16}{'questions':>10}{'correct':>9}{'accuracy':>10}  target",
    ]
    for title, group in (("category", report["by_category"]), ("language", report["by_language"])):
        lines.append(f"by {title}:")
        for name, s in group.items():
            mark = "ok" if s["accuracy"] >= report["target"] else "below"
            lines.append(
                f"  {name:14}{s['questions']:>10}{s['correct']:>9}{s['accuracy']:>10.1%}  {target} {mark}"
            )
    latency = report.get("answer_seconds") or {}
    if latency.get("mean") is not None:
        lines += [
            "",
            f"answer time: mean {latency['mean']:.2f} s, p95 {latency['p95']:.2f} s, max {latency['max']:.2f} s",
        ]
    shown = report["failures"][: max(failures, 0)]
    if shown:
        lines += ["", f"failures ({len(shown)} of {len(report['failures'])}):"]
        for f in shown:
            got = (f.get("got") or {}).get("status", "error")
            lines.append(
                f"  {f['id']} [{f['category']}] {f['question']} — expected {f['expected']['status']}, "
                f"got {got}: {f['reason']}"
            )
    return lines
