"""惠企政策匹配: an enterprise's facts against the machine-readable conditions of the subsidy notices.

Conditions are data (``policy_conditions``, from each document's front matter); the fields they may test
and the operators each field takes are declared here, in ``FIELDS``. A policy *qualifies* when every
condition is met, is *nearly* met when one or two conditions are unmet (or cannot be checked, their data
being unavailable) and none of them is one the enterprise cannot change (its park, city or industry),
and is *not* met otherwise. Each condition comes back with the enterprise's value, and the gap for
numeric ones (how far from the threshold).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from parkbrain.errors import InvalidInput, NotFound

#: At most this many unmet conditions make a policy "nearly" met.
NEARLY_MAX_UNMET = 2
OPS = (">=", "<=", "==", "in", "prefix_in")
_OP_TEXT = {">=": "≥", "<=": "≤", "==": "=", "in": "∈", "prefix_in": "starts with"}


@dataclass(frozen=True)
class MatchField:
    """A fact about an enterprise that a policy condition may test."""

    name: str
    kind: str  # number | text | bool
    ops: tuple[str, ...]
    label_zh: str
    label_en: str
    unit_zh: str = ""
    unit_en: str = ""
    fixed: bool = False  # the enterprise cannot change it (its park, city, industry)


FIELDS: tuple[MatchField, ...] = (
    MatchField(
        "industry_code",
        "text",
        ("prefix_in", "in"),
        "行业代码（GB/T 4754）",
        "industry code (GB/T 4754)",
        fixed=True,
    ),
    MatchField("industry_name", "text", ("in",), "行业", "industry", fixed=True),
    MatchField("park_id", "text", ("in",), "所在园区", "park", fixed=True),
    MatchField("city_code", "text", ("in",), "所在设区市（GB/T 2260）", "city (GB/T 2260)", fixed=True),
    MatchField("park_level", "text", ("in",), "园区级别", "park level", fixed=True),
    MatchField("employees", "number", (">=", "<="), "从业人员", "employees", "人", "people"),
    MatchField("output_value_10k_cny", "number", (">=", "<="), "年产值", "annual output", "万元", "10k CNY"),
    MatchField("key_energy_user", "bool", ("==",), "重点用能单位", "key energy user"),
    MatchField("uscc_registered", "bool", ("==",), "统一社会信用代码", "unified social credit code"),
    MatchField(
        "energy_tce_12m",
        "number",
        (">=", "<="),
        "近12个月综合能耗",
        "energy use over 12 months",
        "吨标准煤",
        "tce",
    ),
    MatchField(
        "energy_intensity_tce_per_10k_cny",
        "number",
        ("<=", ">="),
        "单位产值综合能耗",
        "energy use per output",
        "吨标准煤/万元",
        "tce per 10k CNY",
    ),
)
FIELDS_BY_NAME = {f.name: f for f in FIELDS}


def check_condition(field: str, op: str, value: Any) -> None:
    """Raise ``InvalidInput`` unless ``field op value`` is a condition this module can check."""
    spec = FIELDS_BY_NAME.get(field)
    if spec is None:
        raise InvalidInput(f"unknown condition field {field!r}; expected one of {', '.join(FIELDS_BY_NAME)}")
    if op not in spec.ops:
        raise InvalidInput(f"field {field} takes the operators {', '.join(spec.ops)}; got {op!r}")
    if op in ("in", "prefix_in"):
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise InvalidInput(f"field {field} {op}: expected a non-empty list of strings; got {value!r}")
    elif spec.kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidInput(f"field {field} {op}: expected a number; got {value!r}")
    elif spec.kind == "bool" and not isinstance(value, bool):
        raise InvalidInput(f"field {field} {op}: expected true or false; got {value!r}")


_FACTS_SQL = """
SELECT e.enterprise_id, e.name, e.park_id, p.name AS park_name, e.industry_code, e.industry_name,
       e.employees, e.output_value_10k_cny, coalesce(e.key_energy_user, false) AS key_energy_user,
       e.uscc IS NOT NULL AND length(e.uscc) = 18 AS uscc_registered, p.level AS park_level,
       CASE WHEN r.level = 'prefecture' THEN r.region_code ELSE coalesce(r.parent_code, p.region_code) END
           AS city_code
FROM enterprises e LEFT JOIN parks p USING (park_id) LEFT JOIN regions r ON r.region_code = p.region_code
WHERE e.enterprise_id = ?
"""


def enterprise_facts(store: Any, enterprise_id: str) -> dict[str, Any]:
    """The register facts of an enterprise (the caller has checked that it may see it)."""
    rows = store.query_rows(_FACTS_SQL, [enterprise_id])
    if not rows:
        raise NotFound(f"no enterprise with enterprise_id {enterprise_id!r}")
    return rows[0]


def policy_conditions(store: Any) -> dict[str, dict[str, Any]]:
    """The documents that have conditions, each with its conditions (in id order)."""
    rows = store.query_rows(
        "SELECT d.doc_id, d.title, d.demo, d.published, c.condition_id, c.field, c.op, c.value, c.label_zh, "
        "c.label_en FROM policy_conditions c JOIN policy_documents d USING (doc_id) ORDER BY d.doc_id, c.seq"
    )
    docs: dict[str, dict[str, Any]] = {}
    for r in rows:
        doc = docs.setdefault(
            r["doc_id"],
            {
                "doc_id": r["doc_id"],
                "title": r["title"],
                "demo": r["demo"],
                "published": r["published"],
                "conditions": [],
            },
        )
        doc["conditions"].append(
            {k: r[k] for k in ("condition_id", "field", "op", "label_zh", "label_en")}
            | {"value": json.loads(r["value"])}
        )
    return docs


def evaluate(condition: dict[str, Any], facts: dict[str, Any]) -> dict[str, Any]:
    """One condition against the facts: status met | unmet | unknown, the actual value, the gap, reasons."""
    spec = FIELDS_BY_NAME[condition["field"]]
    actual = facts.get(spec.name)
    out = {**condition, "actual": actual, "gap": None, "fixed": spec.fixed}
    if actual is None:
        return out | {"status": "unknown", **_reasons(spec, condition, actual, None, "unknown", facts)}
    op, value = condition["op"], condition["value"]
    if op == ">=":
        met, gap = actual >= value, value - actual
    elif op == "<=":
        met, gap = actual <= value, actual - value
    elif op == "==":
        met, gap = actual == value, None
    elif op == "in":
        met, gap = actual in value, None
    else:
        met, gap = any(str(actual).startswith(v) for v in value), None
    status = "met" if met else "unmet"
    gap = None if met or gap is None else _round(gap)
    return out | {"status": status, "gap": gap, **_reasons(spec, condition, actual, gap, status, facts)}


def classify(policy: dict[str, Any], facts: dict[str, Any]) -> dict[str, Any]:
    """A policy's conditions evaluated, and its verdict: qualifies | nearly | not."""
    checked = [evaluate(c, facts) for c in policy["conditions"]]
    missing = [c for c in checked if c["status"] != "met"]
    if not missing:
        verdict = "qualifies"
    elif len(missing) <= NEARLY_MAX_UNMET and not any(c["fixed"] for c in missing):
        verdict = "nearly"
    else:
        verdict = "not"
    return {
        "doc_id": policy["doc_id"],
        "title": policy["title"],
        "demo": policy["demo"],
        "verdict": verdict,
        "met": [c for c in checked if c["status"] == "met"],
        "missing": missing,
    }


def match_all(policies: dict[str, dict[str, Any]], facts: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Every policy with conditions, grouped by verdict; the "not" ones summarised (title, what fails)."""
    groups: dict[str, list[dict[str, Any]]] = {"qualifies": [], "nearly": [], "not": []}
    for policy in policies.values():
        result = classify(policy, facts)
        verdict = result.pop("verdict")
        if verdict == "not":
            result = {
                "doc_id": result["doc_id"],
                "title": result["title"],
                "demo": result["demo"],
                "unmet": len(result["missing"]),
                "of": len(policy["conditions"]),
                "reasons_zh": [c["reason_zh"] for c in result["missing"]],
                "reasons_en": [c["reason_en"] for c in result["missing"]],
            }
        groups[verdict].append(result)
    return groups


def _reasons(
    spec: MatchField, cond: dict[str, Any], actual: Any, gap: float | None, status: str, facts: dict[str, Any]
) -> dict[str, str]:
    want_zh = f"要求{cond['label_zh']}"
    want_en = f"required: {cond.get('label_en') or cond['label_zh']}"
    if status == "unknown":
        why = facts.get(f"{spec.name}_note") or {"zh": "无数据", "en": "no data"}
        return {
            "reason_zh": f"{spec.label_zh}：无法核对（{why['zh']}）；{want_zh}",
            "reason_en": f"{spec.label_en}: cannot be checked ({why['en']}); {want_en}",
        }
    shown_zh, shown_en = _value_text(spec, actual, "zh"), _value_text(spec, actual, "en")
    mark_zh, mark_en = ("符合", "met") if status == "met" else ("不符合", "not met")
    text_zh = f"{spec.label_zh} {shown_zh}：{mark_zh}（{want_zh}）"
    text_en = f"{spec.label_en} {shown_en}: {mark_en} ({want_en})"
    if gap is not None:
        verb_zh = "还差" if cond["op"] == ">=" else "需降低"
        verb_en = "short by" if cond["op"] == ">=" else "over by"
        text_zh += f"，{verb_zh} {_num(gap)} {spec.unit_zh}".rstrip()
        text_en += f", {verb_en} {_num(gap)} {spec.unit_en}".rstrip()
    return {"reason_zh": text_zh, "reason_en": text_en}


def _value_text(spec: MatchField, value: Any, lang: str) -> str:
    if spec.kind == "bool":
        return ("是" if value else "否") if lang == "zh" else ("yes" if value else "no")
    if spec.kind == "number":
        return f"{_num(value)} {spec.unit_zh if lang == 'zh' else spec.unit_en}".rstrip()
    return str(value)


def _num(x: float) -> str:
    if float(x).is_integer():
        return f"{int(x):,}"
    return f"{x:,.4g}" if abs(x) < 1 else f"{x:,.1f}"


def _round(x: float) -> float:
    return round(float(x), 4) if abs(x) < 1 else round(float(x), 1)
