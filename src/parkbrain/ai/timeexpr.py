"""Time expressions of questions, Chinese and English, → half-open windows of Asia/Shanghai days.

``parse_time(text, now)`` finds the window (今天, 上个月, 本季度, 今年一季度, 上半年, 最近7天, 2026年10月,
10月份, last month, Q1 2026, October 2026 …), a comparison (同比/去年同期 → ``yoy``, 环比 → ``mom``) and
a grain (每月, 逐日, monthly …), and returns the text with those spans blanked out (so that the 7 of 最近7天
is not read as a top-N later). Windows that contain today end at the end of today (never in the future);
weeks start on Monday. The fixed words (上个月 = month −1 …) are data in ``semantic_layer.toml``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from parkbrain.ai.query import TimeRange
from parkbrain.ai.semantic import SemanticLayer, load_layer
from parkbrain.model.timeutil import PARK_TZ

_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_EN_NUMBERS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fourteen": 14,
    "thirty": 30,
    "a": 1,
}
_MONTHS_EN = {
    "january": 1,
    "february": 2,
    "march": 3,
    "april": 4,
    "may": 5,
    "june": 6,
    "july": 7,
    "august": 8,
    "september": 9,
    "october": 10,
    "november": 11,
    "december": 12,
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "sept": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4}
CN_NUM = r"[零〇一二两三四五六七八九十百]+"
NUM = rf"(?:\d+|{CN_NUM})"
_YEAR_PREFIX = r"(?P<yp>今年|本年|去年|上年|前年|\d{4}\s*年)"
_EN_YEAR = r"(?P<y>\d{4}|this year|last year)"

YOY_WORDS = ("同比", "比去年同期", "较去年同期", "与去年同期相比", "和去年同期比", "比去年", "较去年", "year over year",
             "year-over-year", "year on year", "year-on-year", "yoy", "compared with last year",
             "compared to last year", "vs last year", "versus last year", "compared with the same period last year",
             "compared to the same period last year", "compared with a year earlier")  # fmt: skip
MOM_WORDS = ("环比", "上期", "比上月", "比上个月", "较上月", "较上个月", "与上月相比", "与上个月相比", "跟上个月比",
             "比上周", "较上周", "与上周相比", "比昨天", "较昨日", "比前一天", "比上季度", "较上季度",
             "month over month", "month-over-month", "month on month", "month-on-month", "mom", "week over week",
             "week-over-week", "week on week", "wow", "day over day", "day-over-day", "quarter over quarter",
             "quarter-over-quarter", "qoq", "period over period", "compared with the previous",
             "compared to the previous", "compared with the month before", "compared to the month before",
             "than the month before", "vs the month before", "vs previous", "versus the previous",
             "compared with the last period", "compared with the week before", "compared to the week before")  # fmt: skip
# 去年同期 alone asks for the same window a year earlier; with a comparison word it is 同比.
SHIFT_WORDS = ("去年同期", "上年同期", "去年的同期", "same period last year", "same period a year ago",
               "same time last year")  # fmt: skip
COMPARE_CUES = ("相比", "对比", "比较", "增长", "下降", "增幅", "降幅", "变化", "增加", "减少", "涨", "跌", "比",
                "compared", "compare", "change", "growth", "increase", "decrease", "versus", "vs")  # fmt: skip
TREND_WORDS = ("趋势", "走势", "变化情况", "trend", "over time")


def cn_number(text: str) -> int | None:
    """7, 七, 十五, 二十, 三十, 两 → int (None when not a number)."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    if text.lower() in _EN_NUMBERS:
        return _EN_NUMBERS[text.lower()]
    if not text or any(c not in _CN_DIGITS and c not in "十百" for c in text):
        return None
    total, current = 0, 0
    for c in text:
        if c == "百":
            total += (current or 1) * 100
            current = 0
        elif c == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = current * 10 + _CN_DIGITS[c] if current else _CN_DIGITS[c]
    return total + current


@dataclass
class TimeParse:
    """What the time words of a question say, and the question with them blanked out."""

    time: TimeRange | None = None
    compare: str | None = None
    grain: str | None = None
    trend: bool = False
    shift: bool = False  # 去年同期 alone: the window a year earlier
    rest: str = ""
    found: list[str] = field(default_factory=list)


# -- calendar arithmetic ----------------------------------------------------------------------------


def today_of(now: datetime) -> date:
    return now.astimezone(PARK_TZ).date() if now.tzinfo else now.date()


def add_months(d: date, n: int) -> date:
    """The first day of the month ``n`` months from ``d``'s month."""
    y, m = divmod(d.year * 12 + d.month - 1 + n, 12)
    return date(y, m + 1, 1)


def shift_years(d: date, n: int) -> date:
    try:
        return d.replace(year=d.year + n)
    except ValueError:  # 29 February
        return d.replace(year=d.year + n, day=28)


def unit_window(unit: str, offset: int, today: date) -> tuple[date, date]:
    """The ``offset``-th day/week/month/quarter/year from the current one, ``[start, end)``."""
    if unit == "day":
        start = today + timedelta(days=offset)
        return start, start + timedelta(days=1)
    if unit == "week":
        start = today - timedelta(days=today.weekday()) + timedelta(weeks=offset)
        return start, start + timedelta(weeks=1)
    if unit == "month":
        start = add_months(today, offset)
        return start, add_months(start, 1)
    if unit == "quarter":
        first = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
        start = add_months(first, 3 * offset)
        return start, add_months(start, 3)
    start = date(today.year + offset, 1, 1)
    return start, date(start.year + 1, 1, 1)


def capped(start: date, end: date, today: date, label: str, grain: str | None = None) -> TimeRange:
    """The window, ended at the end of today when it runs past it (never in the future)."""
    limit = today + timedelta(days=1)
    if start < limit < end:
        end = limit
    return TimeRange(start, end, grain, label)


def previous_range(t: TimeRange, compare: str) -> TimeRange:
    """The window a comparison compares with: a year earlier (yoy); for mom the one before, as the energy
    reports define 环比 (``analytics.energy.previous_window``): the previous calendar month(s) when the
    window is whole months, else the same number of days just before."""
    if compare == "yoy":
        return TimeRange(shift_years(t.start, -1), shift_years(t.end, -1), t.grain, f"{t.label} 去年同期")
    if t.start.day == 1 and t.end.day == 1:
        months = (t.end.year - t.start.year) * 12 + t.end.month - t.start.month
        return TimeRange(add_months(t.start, -months), t.start, t.grain, f"{t.label} 上期")
    length = t.end - t.start
    return TimeRange(t.start - length, t.start, t.grain, f"{t.label} 上期")


# -- the patterns -------------------------------------------------------------------------------------


def _year_of(prefix: str | None, today: date) -> int:
    if not prefix:
        return today.year
    p = prefix.replace(" ", "").rstrip("年").lower()
    if p.isdigit():
        return int(p)
    if p in ("今", "本", "this year"):
        return today.year
    if p in ("去", "上", "last year"):
        return today.year - 1
    if p == "前":
        return today.year - 2
    return today.year


def _month_year(month: int, prefix: str | None, today: date) -> int:
    """A month without a year is the latest one not in the future (12月 asked in November → last year)."""
    if prefix:
        return _year_of(prefix, today)
    return today.year if month <= today.month else today.year - 1


Handler = Callable[[re.Match, date], TimeRange | None]


def _day(m: re.Match, today: date) -> TimeRange | None:
    month, day = cn_number(m["m"]), cn_number(m["d"])
    year = int(m["y"]) if m.groupdict().get("y") else _month_year(month or 1, None, today)
    try:
        start = date(year, month or 0, day or 0)
    except ValueError:
        return None
    return TimeRange(start, start + timedelta(days=1), None, m[0].strip())


def _quarter(m: re.Match, today: date) -> TimeRange | None:
    q = cn_number(m["q"]) or _ORDINALS.get((m["q"] or "").lower())
    if not q or not 1 <= q <= 4:
        return None
    year = _year_of(m.groupdict().get("yp") or m.groupdict().get("y"), today)
    start = date(year, 3 * (q - 1) + 1, 1)
    return capped(start, add_months(start, 3), today, m[0].strip())


def _half(m: re.Match, today: date) -> TimeRange | None:
    year = _year_of(m.groupdict().get("yp") or m.groupdict().get("y"), today)
    first = m["h"].lower() in ("上", "first", "1", "h1")
    start = date(year, 1 if first else 7, 1)
    return capped(start, add_months(start, 6), today, m[0].strip())


def _month(m: re.Match, today: date) -> TimeRange | None:
    raw = m["m"].lower()
    month = _MONTHS_EN.get(raw) or cn_number(raw)
    if not month or not 1 <= month <= 12:
        return None
    prefix = m.groupdict().get("yp") or m.groupdict().get("y")
    start = date(_month_year(month, prefix, today), month, 1)
    return capped(start, add_months(start, 1), today, m[0].strip())


def _year(m: re.Match, today: date) -> TimeRange | None:
    year = _year_of(m["y"], today)
    return capped(date(year, 1, 1), date(year + 1, 1, 1), today, m[0].strip())


def _rolling(m: re.Match, today: date) -> TimeRange | None:
    n = 1 if m.groupdict().get("n") is None else cn_number(m["n"])
    if m.groupdict().get("half"):
        n, unit = 6, "月"
    else:
        unit = m["u"].lower()
    if not n or n > 3660:
        return None
    end = today + timedelta(days=1)
    if unit in ("天", "日", "day", "days"):
        start = end - timedelta(days=n)
    elif unit in ("周", "星期", "个星期", "week", "weeks"):
        start = end - timedelta(weeks=n)
    elif unit in ("个月", "月", "month", "months"):
        start = shift_months_day(today, -n) + timedelta(days=1)
    elif unit in ("个季度", "季度", "quarter", "quarters"):
        start = shift_months_day(today, -3 * n) + timedelta(days=1)
    else:
        start = shift_years(today, -n) + timedelta(days=1)
    return TimeRange(start, end, None, m[0].strip())


def shift_months_day(d: date, n: int) -> date:
    """The same day ``n`` months away (clamped to the month's last day)."""
    first = add_months(d, n)
    last = (add_months(first, 1) - timedelta(days=1)).day
    return first.replace(day=min(d.day, last))


_MONTH_EN = "|".join(sorted(_MONTHS_EN, key=len, reverse=True))
_FULL_MONTH_EN = "january|february|march|april|june|july|august|september|october|november|december"


def _iso_range(m: re.Match, today: date) -> TimeRange | None:
    try:
        start, last = date.fromisoformat(_iso(m["a"])), date.fromisoformat(_iso(m["b"]))
    except ValueError:
        return None
    return TimeRange(start, last + timedelta(days=1), None, m[0].strip()) if last >= start else None


def _iso(text: str) -> str:
    y, mo, d = text.split("-")
    return f"{int(y):04d}-{int(mo):02d}-{int(d):02d}"


def _day_range(m: re.Match, today: date) -> TimeRange | None:
    m1, d1, d2 = int(m["m1"]), int(m["d1"]), int(m["d2"])
    m2 = int(m["m2"]) if m["m2"] else m1
    y1 = _year_of(m["y1"], today) if m["y1"] else _month_year(m1, None, today)
    y2 = int(m["y2"]) if m["y2"] else (y1 if m2 >= m1 else y1 + 1)
    try:
        start, last = date(y1, m1, d1), date(y2, m2, d2)
    except ValueError:
        return None
    return TimeRange(start, last + timedelta(days=1), None, m[0].strip()) if last >= start else None


def _month_range(m: re.Match, today: date) -> TimeRange | None:
    m1, m2 = cn_number(m["m1"]), cn_number(m["m2"])
    if not m1 or not m2 or not (1 <= m1 <= 12 and 1 <= m2 <= 12):
        return None
    y1 = _year_of(m["y1"], today) if m["y1"] else _month_year(m1, None, today)
    y2 = int(m["y2"]) if m["y2"] else (y1 if m2 >= m1 else y1 + 1)
    start, end = date(y1, m1, 1), add_months(date(y2, m2, 1), 1)
    return capped(start, end, today, m[0].strip()) if end > start else None


_TO = r"\s*(?:到|至|~|～|—|–|-|to|and|until|through)\s*"
PATTERNS: list[tuple[re.Pattern, Handler]] = [
    (re.compile(rf"(?:from\s+|between\s+)?(?P<a>\d{{4}}-\d{{1,2}}-\d{{1,2}}){_TO}(?P<b>\d{{4}}-\d{{1,2}}-\d{{1,2}})"), _iso_range),
    (re.compile(rf"(?:(?P<y1>\d{{4}}\s*年|今年|本年|去年|上年|前年))?\s*(?P<m1>\d{{1,2}})\s*月\s*(?P<d1>\d{{1,2}})\s*[日号]?{_TO}"
                rf"(?:(?P<y2>\d{{4}})\s*年)?\s*(?:(?P<m2>\d{{1,2}})\s*月)?\s*(?P<d2>\d{{1,2}})\s*[日号]"), _day_range),
    (re.compile(rf"(?:(?P<y1>\d{{4}}\s*年|今年|本年|去年|上年|前年))?\s*(?P<m1>\d{{1,2}}|{CN_NUM})\s*(?:月份?)?{_TO}(?:(?P<y2>\d{{4}})\s*年)?\s*"
                rf"(?P<m2>\d{{1,2}}|{CN_NUM})\s*月份?"), _month_range),
    (re.compile(r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]?"), _day),
    (re.compile(r"(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})"), _day),
    (re.compile(rf"(?<![\d年])(?P<m>\d{{1,2}}|{CN_NUM})\s*月\s*(?P<d>\d{{1,2}}|{CN_NUM})\s*[日号]"), _day),
    (re.compile(rf"{_YEAR_PREFIX}?\s*的?\s*(?<![上下本这前])第?(?P<q>[一二三四1-4])\s*季度"), _quarter),  # 上一季度 is relative
    (re.compile(rf"{_YEAR_PREFIX}?\s*的?\s*(?P<h>上|下)半年"), _half),
    (re.compile(rf"{_YEAR_PREFIX}\s*的?\s*(?P<m>\d{{1,2}}|{CN_NUM})\s*月份?"), _month),
    (re.compile(r"(?P<y>\d{4})[-/](?P<m>\d{1,2})(?![-/\d])"), _month),
    (re.compile(r"(?<![\d个上本下这当每逐按各分])(?P<m>\d{1,2}|十[一二]?|[一二三四五六七八九])\s*月份?(?![\d日号])"), _month),
    (re.compile(rf"(?:最近|近|过去|前|这)\s*(?P<n>{NUM})\s*(?P<u>天|日|个星期|星期|周|个月|月|个季度|季度|年)"), _rolling),
    (re.compile(r"(?:最近|近|过去)\s*(?P<half>半年)"), _rolling),
    (re.compile(r"(?P<y>\d{4})\s*年(?:度)?"), _year),
    # English
    (re.compile(rf"(?<![a-z0-9])(?:q(?P<q>[1-4])\s*(?:of\s+)?{_EN_YEAR}?|(?P<y2>\d{{4}})\s*q(?P<q2>[1-4]))(?![a-z0-9])"), None),
    (re.compile(rf"(?<![a-z0-9])(?:the\s+)?(?P<q>first|second|third|fourth|1st|2nd|3rd|4th)\s+quarter(?:\s+of\s+{_EN_YEAR})?"),
     _quarter),
    (re.compile(rf"(?<![a-z0-9])(?:the\s+)?(?P<h>first|second)\s+half(?:\s+of\s+{_EN_YEAR})?"), _half),
    (re.compile(rf"(?<![a-z0-9])(?P<h>h1|h2)\s*{_EN_YEAR}?(?![a-z0-9])"), None),
    (re.compile(rf"(?<![a-z0-9])(?:in\s+)?(?P<m>{_MONTH_EN})\.?\s*,?\s*(?P<y>\d{{4}})(?![a-z0-9])"), _month),
    (re.compile(rf"(?<![a-z0-9])(?:in\s+)?(?P<m>{_FULL_MONTH_EN})(?![a-z0-9])"), _month),
    (re.compile(r"(?<![a-z0-9])(?:in\s+|during\s+|over\s+)?(?:the\s+)?(?:last|past|previous|recent)\s+(?P<n>\d+|one|two|three|four|"
                r"five|six|seven|eight|nine|ten|eleven|twelve|fourteen|thirty)\s+(?P<u>days?|weeks?|months?|"
                r"quarters?|years?)(?![a-z0-9])"), _rolling),
    (re.compile(r"(?<![a-z0-9])(?:in\s+)?(?P<y>20\d{2})(?![a-z0-9])"), _year),
]  # fmt: skip


def _special(m: re.Match, today: date) -> TimeRange | None:
    """The two English patterns with alternative groups (Q1 2026 / 2026 Q1; H1 2026)."""
    g = m.groupdict()
    if "q2" in g:
        q = g["q"] or g["q2"]
        year = _year_of(g.get("y") or g.get("y2"), today)
        start = date(year, 3 * (int(q) - 1) + 1, 1)
        return capped(start, add_months(start, 3), today, m[0].strip())
    return _half(m, today)


# -- parse ----------------------------------------------------------------------------------------------


def parse_time(text: str, now: datetime, layer: SemanticLayer | None = None) -> TimeParse:
    """The window, comparison and grain of ``text`` at ``now``; ``rest`` is ``text`` without them."""
    layer = layer or load_layer()
    today = today_of(now)
    work = text.lower()
    out = TimeParse()
    out.compare, work = _comparison(work, out)
    for pattern, handler in PATTERNS:
        if out.time is not None:
            break
        for m in pattern.finditer(work):
            t = (handler or _special)(m, today)
            if t is not None:
                t = replace(t, label=text[m.start() : m.end()].strip() or t.label)
                out.time, work = t, _blank(work, m.start(), m.end())
                out.found.append(m[0].strip())
                break
    if out.time is None:
        out.time, work = _fixed_word(work, layer, today, out)
    out.grain, work = _grain(work, layer, out)
    out.trend = any(w in work for w in TREND_WORDS)
    out.rest = work
    return out


_WITH = r"(?:和|与|跟|同|对比|相比|比|with|to|vs\.?|versus|than)\s*"
COMPARED_WITH: tuple[tuple[re.Pattern, str], ...] = (
    (re.compile(rf"{_WITH}(?:the\s+)?(?:上个?月|上一个月|上周|上个星期|昨天|上季度|上个季度|前一天|last month|"
                rf"previous month|month before|last week|previous week|yesterday|last quarter|previous quarter)"), "mom"),
    (re.compile(rf"{_WITH}(?:the\s+)?(?:去年同期|去年|上年|same period last year|last year|a year (?:ago|earlier))"),
     "yoy"),
)  # fmt: skip


def _comparison(work: str, out: TimeParse) -> tuple[str | None, str]:
    for pattern, kind in COMPARED_WITH:  # 本月和上个月比, this month's … with last month
        m = pattern.search(work)
        if m and any(_find_word(work, c) >= 0 for c in (*COMPARE_CUES, "和", "与", "跟", "with")):
            out.found.append(m[0])
            return kind, _blank(work, m.start(), m.end())
    for words, kind in ((YOY_WORDS, "yoy"), (MOM_WORDS, "mom"), (SHIFT_WORDS, "shift")):
        for w in sorted(words, key=len, reverse=True):
            i = _find_word(work, w)
            if i >= 0:
                out.found.append(w)
                work = _blank(work, i, i + len(w))
                if kind != "shift":
                    return kind, work
                if any(_find_word(work, c) >= 0 for c in COMPARE_CUES):
                    return "yoy", work
                out.shift = True
                return None, work
    return None, work


def _find_word(work: str, word: str) -> int:
    """Where ``word`` occurs in ``work`` (ASCII words on word boundaries), or -1."""
    if word.isascii():
        m = re.search(rf"(?<![a-z]){re.escape(word)}(?![a-z])", work)
        return m.start() if m else -1
    return work.find(word)


def _fixed_word(work: str, layer: SemanticLayer, today: date, out: TimeParse) -> tuple[TimeRange | None, str]:
    for word in sorted(layer.time_words, key=len, reverse=True):
        i = _find_word(work, word)
        if i >= 0:
            tw = layer.time_words[word]
            start, end = unit_window(tw.unit, tw.offset, today)
            out.found.append(word)
            return capped(start, end, today, word), _blank(work, i, i + len(word))
    return None, work


def _grain(work: str, layer: SemanticLayer, out: TimeParse) -> tuple[str | None, str]:
    for word in sorted(layer.grain_words, key=len, reverse=True):
        i = _find_word(work, word)
        if i >= 0:
            out.found.append(word)
            return layer.grain_words[word], _blank(work, i, i + len(word))
    return None, work


def _blank(text: str, start: int, end: int) -> str:
    return text[:start] + " " * (end - start) + text[end:]


def default_range(today: date, grain: str | None) -> TimeRange:
    """The window of a question that names none: by grain (每月 → this year), else the last 30 days."""
    if grain in ("month", "quarter"):
        return capped(date(today.year, 1, 1), date(today.year + 1, 1, 1), today, "今年", grain)
    if grain == "year":
        return TimeRange(date(today.year - 2, 1, 1), today + timedelta(days=1), grain, "最近3年")
    if grain == "week":
        return TimeRange(
            today - timedelta(weeks=12) + timedelta(days=1), today + timedelta(days=1), grain, "最近12周"
        )
    return TimeRange(today - timedelta(days=29), today + timedelta(days=1), grain, "最近30天")
