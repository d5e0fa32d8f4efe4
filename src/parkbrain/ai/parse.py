"""The offline parser: a Chinese or English question → a ``StructuredQuery``, a clarify, or unsupported.

In order: time words (``ai.timeexpr``) are taken out; entity names (``ai.entities``) become filters;
the metric is the longest metric word of the semantic layer left in the text; group-by words (各园区,
按行业, by park, 哪家企业 …) and rankings (最高的5家, 前十, top 5, 最低) give dimensions, order and limit;
每月/逐月/monthly and 趋势 give a time grain; 同比/环比 a comparison. Nothing here reads data beyond the
catalog of names; nothing here writes SQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from parkbrain.ai.entities import Catalog, Entity, blank, find_word, link_entities, link_values
from parkbrain.ai.query import Filter, StructuredQuery, TimeRange
from parkbrain.ai.semantic import SemanticLayer, load_layer
from parkbrain.ai.timeexpr import (
    NUM,
    TimeParse,
    cn_number,
    default_range,
    parse_time,
    previous_range,
    today_of,
)

POLICY_WORDS: tuple[str, ...] = ("政策", "补贴", "申报", "条件", "规定", "办法", "扶持", "奖励", "资助", "奖补",
                                 "优惠", "细则", "通知", "policy", "policies", "subsidy", "subsidies", "incentive",
                                 "regulation", "eligible", "eligibility", "apply for")  # fmt: skip
DESC_WORDS: tuple[str, ...] = ("最高", "最多", "最大", "最高的", "排名前", "前", "最靠前", "最严重", "top", "highest",
                               "most", "largest", "biggest", "greatest", "maximum", "max", "heaviest", "worst")  # fmt: skip
ASC_WORDS: tuple[str, ...] = ("最低", "最少", "最小", "倒数", "末尾", "垫底", "最好", "lowest", "least", "smallest",
                              "fewest", "minimum", "min", "bottom", "best")  # fmt: skip
RANK_WORDS: tuple[str, ...] = ("排名", "排行", "排序", "rank", "ranking", "ranked", "sorted", "order by")
# Nouns that name a dimension after a ranking (最高的5家企业, 前十的园区, top 5 parks).
DIMENSION_NOUNS: dict[str, tuple[str, ...]] = {
    "park": ("园区", "开发区", "工业区", "parks", "park", "zones", "zone"),
    "city": ("城市", "地市", "市", "cities", "city"),
    "enterprise": (
        "企业",
        "公司",
        "厂",
        "enterprises",
        "enterprise",
        "companies",
        "company",
        "firms",
        "firm",
    ),
    "industry": ("行业", "产业", "industries", "industry", "sectors", "sector"),
    "building": ("建筑", "楼栋", "楼", "buildings", "building"),
    "device": (
        "设备",
        "监测站",
        "站点",
        "电表",
        "devices",
        "device",
        "stations",
        "station",
        "meters",
        "meter",
    ),
}
SINGULAR_WORDS: tuple[str, ...] = ("哪个", "哪家", "哪一家", "哪一个", "哪栋", "哪台", "哪座", "哪一", "which park",
                                   "which city", "which enterprise", "which company", "which industry",
                                   "which building", "which device", "which station", "what park", "what city")  # fmt: skip
PLURAL_WORDS: tuple[str, ...] = ("哪些", "哪几", "有哪些", "which parks", "which cities", "which enterprises",
                                 "which companies", "which industries")  # fmt: skip
NAME_LIKE = re.compile(r"([\u4e00-\u9fff]{2,6})(园区|开发区|工业区|工业园|高新区|经开区|有限公司|公司|集团)")
NAME_STOP = ("全省", "全区", "广西", "所有", "全部", "各个", "这些", "那些", "哪些", "哪个", "本", "该", "我们", "我的",
             "其他", "其它", "每个", "各", "多少", "几个", "几家", "整个", "全市")  # fmt: skip
WRITE_WORDS: tuple[str, ...] = ("删除", "删掉", "修改", "更新", "插入", "清空", "清除", "新增一条", "drop", "delete",
                                "update", "insert", "truncate", "alter", "remove")  # fmt: skip
#: Requests to act rather than to ask (把告警全部关闭, close all alerts): the assistant only reads.
ACTION_REQUEST = re.compile(
    r"(?:把|将).{1,30}?(?:关闭|关掉|确认|处理掉|删|派给|派单|改为|改成|设为|设置为)(?:掉|了|吧|一下)?[。！!？?\s]*$"
    r"|^(?:please\s+)?(?:close|acknowledge|resolve|assign|create|open)\s+(?:all\s+|the\s+|a\s+|an\s+)"
)
AVERAGE_WORDS: tuple[str, ...] = ("平均", "人均", "均值", "日均", "average", "mean", "per capita")
ENTERPRISE_NOUNS: tuple[str, ...] = (
    "企业",
    "公司",
    "单位",
    "几家",
    "多少家",
    "enterprises",
    "companies",
    "firms",
)
THRESHOLD = re.compile(
    r"(?:超过|大于|高于|多于|低于|少于|小于|不足|不到|more than|greater than|over|above|exceeding|below|less than|under)"
    rf"\s*(?P<n>{NUM})"
)
DAY_WORDS: tuple[str, ...] = ("天数", "几天", "多少天", "days")
COUNT_CUES: tuple[str, ...] = ("多少", "几", "数量", "最多", "最少", "how many", "number of", "most", "fewest",
                               "count")  # fmt: skip
DEFAULT_TOP = 10
ENERGY_CARRIER_METRICS = {"electricity_kwh": "electricity", "water_m3": "water", "gas_m3": "natural_gas",
                          "steam_t": "steam"}  # fmt: skip


@dataclass
class Parsed:
    """What the parser made of a question."""

    status: str  # "ok" | "clarify" | "unsupported" | "policy"
    lang: str
    query: StructuredQuery | None = None
    clarify: list[dict] = field(default_factory=list)
    message: str = ""
    defaulted_time: bool = False


def question_lang(question: str) -> str:
    return "zh" if re.search(r"[\u4e00-\u9fff]", question) else "en"


def parse_question(
    question: str, now: datetime, catalog: Catalog, layer: SemanticLayer | None = None
) -> Parsed:
    """Parse ``question`` asked at ``now`` against the caller's ``catalog`` of names."""
    layer = layer or load_layer()
    lang = question_lang(question)
    text = normalise(question)
    if _has_any(text, WRITE_WORDS) or ACTION_REQUEST.search(text):
        return Parsed("unsupported", lang, message=_read_only(lang))
    if _has_any(text, POLICY_WORDS):
        return Parsed("policy", lang)
    t = parse_time(text, now, layer)
    links = link_entities(t.rest, catalog, layer)
    work = links.rest
    work = link_values(work, layer, links, only=("key_energy_user",))  # 重点用能单位 before 用能
    metric, carrier_words, work = _metric(work, layer)
    work = link_values(work, layer, links, only=("status", "severity", "carrier", "rule"))
    if metric is None and _counts_enterprises(work):
        metric = "enterprise_count"  # 哪个园区企业最多, which industry has the most enterprises
    if metric is None:
        return Parsed("unsupported", lang, message=_unsupported(lang))
    if metric != "aqi" and _has_any(work, AVERAGE_WORDS):
        return Parsed("unsupported", lang, message=_no_average(lang))
    threshold = THRESHOLD.search(work)
    if threshold and metric == "aqi" and cn_number(threshold["n"]) == 100 and _has_any(work, DAY_WORDS):
        metric = "aqi_exceed_days"  # AQI超过100的天数
    elif threshold:
        return Parsed("unsupported", lang, message=_no_threshold(lang))
    if links.ambiguous:
        options = _options(question, links.ambiguous, lang)
        return Parsed("clarify", lang, clarify=options, message=_ask(links.ambiguous[0][0], options, lang))
    unknown = links.hidden[0] if links.hidden else _unknown_name(work, links.entities)
    if unknown:
        return Parsed("unsupported", lang, message=_unknown(unknown, lang))
    before = work
    dims, work = _dimensions(work, layer)
    order, limit, rank_dim = _ranking(work)
    if rank_dim and rank_dim not in dims:
        dims.insert(0, rank_dim)
    dims = [d for d in dims if not _filtered_to_one(d, links.filters)]
    if metric == "enterprise_count":  # 企业 names what is counted, not a grouping
        dims = [d for d in dims if d != "enterprise"]
    agg, order = _agg(metric, order, dims, work)
    if order and limit is None and dims:
        limit = _n_before_noun(before) or _default_limit(before)
    filters = _filters(metric, links.filters, carrier_words, layer)
    time, defaulted = _time(metric, t, layer, now)
    compare = t.compare if layer.metrics[metric].timed and time is not None else None
    query = StructuredQuery(
        metric=metric,
        dimensions=tuple(dims),
        filters=tuple(filters),
        time=time,
        compare=compare,
        order=order if dims or compare is None else None,
        limit=limit if dims else None,
        agg=agg,
    )
    return Parsed("ok", lang, query, defaulted_time=defaulted)


def normalise(question: str) -> str:
    """Lower case, ASCII digits and punctuation, single spaces."""
    text = question.strip().lower()
    table = str.maketrans("０１２３４５６７８９，？！：（）", "0123456789,?!:()")
    return re.sub(r"\s+", " ", text.translate(table))


def _has_any(text: str, words: tuple[str, ...]) -> bool:
    return any(_find(text, w) >= 0 for w in words)


def _find(text: str, word: str) -> int:
    return find_word(text, word, joiners="a-z0-9")  # metric and function words may touch a hyphen


# -- metric -----------------------------------------------------------------------------------------


def _metric(work: str, layer: SemanticLayer) -> tuple[str | None, list[str], str]:
    """The metric named in ``work`` (longest word first; the earliest when several), and the carriers
    whose words also appear (天然气的碳排放 → carbon of natural gas)."""
    found: list[tuple[int, int, str]] = []
    for word, mid in layer.metric_words():
        i = _find(work, word)
        if i >= 0:
            found.append((-len(word), i, mid))
            work = blank(work, i, word)
    if not found:
        return None, [], work
    mids = [m for _, _, m in sorted(found)]  # the longest (most specific) word first
    for aggregate in ("energy_intensity", "energy_tce", "carbon_tco2"):
        if aggregate in mids:
            carriers = [ENERGY_CARRIER_METRICS[m] for m in mids if m in ENERGY_CARRIER_METRICS]
            return aggregate, carriers, work
    return mids[0], [], work


# -- dimensions and rankings ------------------------------------------------------------------------


def _dimensions(work: str, layer: SemanticLayer) -> tuple[list[str], str]:
    words = [
        (w.lower(), d.id) for d in layer.dimensions.values() for w in (*d.group_words_zh, *d.group_words_en)
    ]
    found: list[tuple[int, str]] = []
    for word, did in sorted(words, key=lambda p: -len(p[0])):
        i = _find(work, word)
        if i >= 0:
            found.append((i, did))
            work = blank(work, i, word)
    dims: list[str] = []
    for _, did in sorted(found):
        if did not in dims:
            dims.append(did)
    return dims, work


_NOUN_ALT = "|".join(
    sorted({re.escape(n) for nouns in DIMENSION_NOUNS.values() for n in nouns}, key=len, reverse=True)
)
_RANK_ZH = re.compile(
    rf"(?P<w>最高|最多|最大|最低|最少|最小|排名前|前|倒数|后)\s*的?\s*(?P<n>{NUM})?\s*(?:家|个|名|位|栋|台|座)?\s*的?\s*"
    rf"(?P<noun>{_NOUN_ALT})?"
)
_TOP_EN = re.compile(
    rf"\b(?P<w>top|bottom|highest|lowest|most|least|largest|smallest|biggest|fewest)\s*(?P<n>\d+|one|two|three|"
    rf"four|five|six|seven|eight|nine|ten|twenty)?\s*(?P<noun>{_NOUN_ALT})?\b"
)
_N_NOUN_ZH = re.compile(rf"(?P<n>{NUM})\s*(?:家|个|名|栋|台|座)\s*(?P<noun>{_NOUN_ALT})")


def _ranking(work: str) -> tuple[str | None, int | None, str | None]:
    """(order, limit, dimension named after the ranking)."""
    order = limit = dim = None
    for pattern in (_RANK_ZH, _TOP_EN):
        for m in pattern.finditer(work):
            w = m["w"]
            if w in ("前", "后") and not m["n"]:
                continue
            order = "asc" if w in ("最低", "最少", "最小", "倒数", "后", "bottom", "lowest", "least", "smallest",
                                   "fewest") else "desc"  # fmt: skip
            if m["n"]:
                limit = cn_number(m["n"])
            if m["noun"]:
                dim = _noun_dim(m["noun"])
            if limit or dim:
                break
        if order:
            break
    if order is None:
        order = _order_words(work)
    if limit is None or dim is None:
        m = _N_NOUN_ZH.search(work)
        if m and order:
            limit = limit or cn_number(m["n"])
            dim = dim or _noun_dim(m["noun"])
    if limit is not None and not 1 <= limit <= 1000:
        limit = None
    return order, limit, dim


def _default_limit(text: str) -> int | None:
    """No N given: 哪些 / which parks / top → the top ten; a superlative (最高, the highest) → one; 排名 → all."""
    if _has_any(text, PLURAL_WORDS) or _find(text, "top") >= 0 or _find(text, "bottom") >= 0:
        return DEFAULT_TOP
    if _has_any(text, SINGULAR_WORDS):
        return 1
    superlatives = [w for w in (*DESC_WORDS, *ASC_WORDS) if w not in ("前", "max", "min", "most", "best")]
    if _has_any(text, tuple(superlatives)):
        return 1
    return None


_N_NOUN_EN = re.compile(
    rf"(?<![a-z0-9])(?P<n>\d+|one|two|three|four|five|six|seven|eight|nine|ten|twenty)\s+(?:of\s+the\s+)?"
    rf"(?P<noun>{_NOUN_ALT})(?![a-z])"
)


def _n_before_noun(text: str) -> int | None:
    """which 3 parks, the 5 enterprises, 哪3个园区: the N of a ranking written before its noun."""
    for pattern in (_N_NOUN_EN, _N_NOUN_ZH):
        m = pattern.search(text)
        if m:
            n = cn_number(m["n"])
            if n and 1 <= n <= 1000:
                return n
    return None


def _order_words(work: str) -> str | None:
    first = None
    for word in (*DESC_WORDS, *ASC_WORDS, *RANK_WORDS):
        if word in ("前", "min", "max", "most", "best"):
            continue
        i = _find(work, word)
        if i >= 0 and (first is None or i < first[0]):
            first = (i, "asc" if word in ASC_WORDS else "desc")
    return first[1] if first else None


def _noun_dim(noun: str) -> str | None:
    return next((d for d, nouns in DIMENSION_NOUNS.items() if noun in nouns), None)


def _filtered_to_one(dim: str, filters: list[Filter]) -> bool:
    """A dimension already fixed to one value by a filter (南宁高新区 … 园区) is not a grouping."""
    return any(f.dimension == dim and f.op == "=" for f in filters)


def _agg(metric: str, order: str | None, dims: list[str], work: str) -> tuple[str | None, str | None]:
    """最高AQI / 最低AQI without a grouping is the max/min of the stations' daily AQI."""
    if metric != "aqi" or dims or order is None:
        return None, order
    return ("max" if order == "desc" else "min"), None


# -- filters and time -------------------------------------------------------------------------------


def _filters(metric: str, linked: list[Filter], carriers: list[str], layer: SemanticLayer) -> list[Filter]:
    view = layer.metrics[metric].view
    out = []
    for f in linked:
        fc = layer.filter_columns.get(f.dimension)
        if fc is None:
            out.append(f)
        elif f.dimension == "carrier":
            if metric in ("energy_tce", "carbon_tco2", "energy_intensity"):
                out.append(f)
        elif f.dimension == "key_energy_user":
            if view in ("sem_enterprises", "sem_energy_daily"):
                out.append(f)
        elif fc.view == view:
            out.append(f)
    if carriers and not any(f.dimension == "carrier" for f in out):
        out.append(
            Filter("carrier", "=", carriers[0])
            if len(carriers) == 1
            else Filter("carrier", "in", tuple(carriers))
        )
    return out


def _time(metric: str, t: TimeParse, layer: SemanticLayer, now: datetime) -> tuple[TimeRange | None, bool]:
    """The window: the question's; none (all the data) when it names none, unless a trend, a comparison
    or 去年同期 needs one (then ``default_range``); 去年同期 alone moves it a year back."""
    if not layer.metrics[metric].timed:
        return None, False
    grain = t.grain
    if t.time is not None:
        if grain is None and t.trend:
            grain = "month" if t.time.days > 62 else "day"
        window = TimeRange(t.time.start, t.time.end, grain, t.time.label)
        defaulted = False
    elif grain is None and not t.trend and not t.compare and not t.shift:
        return None, True
    else:
        window = default_range(today_of(now), grain or ("month" if t.trend else None))
        defaulted = True
    if t.shift:
        window = previous_range(window, "yoy")
    return window, defaulted


# -- messages ---------------------------------------------------------------------------------------


def _unknown_name(work: str, entities: list[Entity]) -> str | None:
    for m in NAME_LIKE.finditer(work):
        prefix = m[1]
        if "的" in prefix or re.search(r"最|前|后|排|哪|各|每", prefix):
            continue
        if any(prefix.endswith(s) or prefix.startswith(s) for s in NAME_STOP):
            continue
        kind = "park" if m[2] in ("园区", "开发区", "工业区", "工业园", "高新区", "经开区") else "enterprise"
        if not any(e.kind == kind for e in entities):
            return m[0]
    return None


def _options(question: str, ambiguous: list[tuple[str, list[Entity]]], lang: str) -> list[dict]:
    word, options = ambiguous[0]
    out = []
    for e in options:
        pattern = re.compile(re.escape(word), re.IGNORECASE)
        out.append(
            {
                "kind": e.kind,
                "id": e.id,
                "name": e.name,
                "question": pattern.sub(lambda _m, e=e: e.name, question, count=1),
            }
        )
    return out


def _ask(word: str, options: list[dict], lang: str) -> str:
    names = [o["name"] for o in options]
    if lang == "zh":
        return f"「{word}」可以指{len(names)}个：{'、'.join(names)}。您指的是哪一个？"
    return f"'{word}' can mean {len(names)}: {'; '.join(names)}. Which one do you mean?"


def _counts_enterprises(work: str) -> bool:
    return _has_any(work, ENTERPRISE_NOUNS) and _has_any(work, COUNT_CUES)


def _no_average(lang: str) -> str:
    if lang == "zh":
        return "抱歉，离线助手暂不计算平均值；可以问总量、排名或同比环比。"
    return "Sorry, the offline assistant does not compute averages; ask for totals, rankings or comparisons."


def _no_threshold(lang: str) -> str:
    if lang == "zh":
        return "抱歉，离线助手暂不支持按数值阈值筛选（如“超过100万”）；可以问排名，如“用电量最高的10家企业”。"
    return (
        "Sorry, the offline assistant does not filter by a threshold; ask for a ranking (top 10 …) instead."
    )


def _read_only(lang: str) -> str:
    if lang == "zh":
        return "抱歉，助手只查询数据，不执行删除、修改等操作。"
    return "Sorry, the assistant only reads data; it does not delete or change anything."


def _unsupported(lang: str) -> str:
    if lang == "zh":
        return (
            "抱歉，离线助手无法回答这个问题：没有识别出可查询的指标（如用电量、综合能耗、碳排放、AQI、告警数、"
            "企业数、产值、单位产值能耗）。"
        )
    return (
        "Sorry, the offline assistant cannot answer this: no metric it knows was found (electricity, energy "
        "tce, carbon, AQI, alerts, enterprises, output value, energy intensity …)."
    )


def _unknown(name: str, lang: str) -> str:
    if lang == "zh":
        return f"抱歉，没有找到「{name}」：它不是您可查看的园区或企业。"
    return f"Sorry, '{name}' is not a park or enterprise you can see."
