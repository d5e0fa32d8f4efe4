"""The text rendering of a ``QualityReport`` for the CLI: Chinese first, English terms beside."""

from __future__ import annotations

import math
import unicodedata
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from parkbrain.analytics.quality_context import key_of
from parkbrain.analytics.quality_rules import DIMENSIONS, TABLES_ZH

if TYPE_CHECKING:
    from parkbrain.analytics.quality import CheckResult, QualityReport

_EXAMPLES = 3
_SHANGHAI = ZoneInfo("Asia/Shanghai")  # times are shown in Beijing time (stored in UTC)
_DIMENSION_ZH = {d.name: d.zh for d in DIMENSIONS}


def display_score(score: float | None) -> float | None:
    """One decimal, rounded down: 100.0 only when nothing failed."""
    return None if score is None else math.floor(score * 10 + 1e-9) / 10


def sample_key(check: CheckResult, row: dict[str, Any]) -> str:
    """The identifying text of a sample row: the table's key, and the time or the gap for readings."""
    key = str(row.get(key_of(check.table), "?"))
    start, end = row.get("gap_start"), row.get("gap_end")
    if isinstance(start, datetime) and isinstance(end, datetime):
        return f"{key} {_local(start)} → {_local(end)} ({row.get('gap_hours')} h)"
    moment = row.get("ts")
    return f"{key} @ {_local(moment)}" if isinstance(moment, datetime) else key


def _local(moment: datetime) -> str:
    return f"{moment.astimezone(_SHANGHAI):%Y-%m-%d %H:%M}"


def render_text(report: QualityReport, issues: int = 30) -> str:
    """Scores, a table of tables, the worst ``issues`` failing checks with examples, and the sources."""
    lines = (
        _header(report) + [""] + _tables(report) + [""] + _issues(report, issues) + [""] + _sources(report)
    )
    return "\n".join(lines) + "\n"


def _fmt(score: float | None) -> str:
    shown = display_score(score)
    return "—" if shown is None else f"{shown:.1f}"


def _header(report: QualityReport) -> list[str]:
    scope = f"园区 park {report.park_id}" if report.park_id else "全部园区 all parks"
    when = f"{_local(report.generated_at)} 北京时间 UTC+8"
    dims = report.dimension_scores()
    parts = [f"{d.zh} {d.name} {_fmt(dims[d.name])}" for d in DIMENSIONS]
    return [
        f"数据质量报告 data-quality report · {scope} · {when}",
        f"总分 score {_fmt(report.score)}",
        "  " + " · ".join(parts),
    ]


def _tables(report: QualityReport) -> list[str]:
    lines = ["表 table                      行数 rows   得分 score"]
    for table, rows in report.table_rows.items():
        label = f"{TABLES_ZH.get(table, '')} {table}"
        lines.append(f"  {label:<26}{rows:>12,}   {_fmt(report.table_score(table)):>6}")
    return lines


def _issues(report: QualityReport, limit: int) -> list[str]:
    failures = report.failures()
    if not failures:
        return ["问题 issues: 无 none"]
    lines = [f"问题 issues ({len(failures)}; 失败/检查 failed/total):"]
    for check in failures[:limit]:
        lines.append(_issue_line(check))
    if len(failures) > limit:
        lines.append(f"  … 另有 {len(failures) - limit} 项 more")
    return lines


def _issue_line(check: CheckResult) -> str:
    examples = ", ".join(sample_key(check, row) for row in check.samples[:_EXAMPLES])
    kinds = " [" + ", ".join(f"{k} {n}" for k, n in check.breakdown.items()) + "]" if check.breakdown else ""
    return (
        f"  {TABLES_ZH.get(check.table, '')} {check.table} · {_DIMENSION_ZH[check.dimension]} {check.dimension} · "
        f"{check.check}: {check.failed:,}/{check.total:,}{kinds} — {check.description}"
        + (f"\n      例 e.g. {examples}" if examples else "")
    )


def _sources(report: QualityReport) -> list[str]:
    lines = ["来源 sources                              行数 rows   得分 score"]
    for source in report.sources:
        label = source.data_source or "(未注明 unspecified)"
        if source.import_id:
            label = f"import {source.import_id} ({source.file_name or label})"
        lines.append(f"  {_pad(label, 38)}{source.rows:>12,}   {_fmt(source.score):>6}")
    return lines


def _pad(text: str, width: int) -> str:
    """``text`` cut or padded to ``width`` terminal columns (CJK characters take two)."""
    out, used = "", 0
    for ch in text:
        w = 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        if used + w > width - 1 and len(out) < len(text):
            return out + "…" + " " * (width - used - 1)
        out, used = out + ch, used + w
    return out + " " * (width - used)
