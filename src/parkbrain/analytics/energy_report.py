"""The energy & carbon report of an enterprise or a park over a window (usually a month).

``compute_energy_report`` gathers, from the rollups only: consumption by carrier, 综合能耗 (tce, the mode
named), CO2 by scope with the electricity factor named, intensities (单位产值能耗 tce/万元 with the yearly
output prorated, 单位能耗碳排放 tCO2/tce and, for a park, its zero-carbon threshold), 环比 and 同比, the
daily series, the time-of-use split and — for a park — the enterprises. ``report_csv`` and
``report_xlsx`` (openpyxl, with a bar chart by carrier and a daily line chart) write it; Chinese headers.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from parkbrain.analytics.energy import (
    Accounting,
    Selection,
    account,
    change,
    compute_consumption,
    previous_window,
    prorate_days,
    shift_year,
    totals,
)
from parkbrain.analytics.energy_factors import MODES, zero_carbon_threshold
from parkbrain.analytics.energy_tou import GUANGXI_STYLE, TouSchedule, compute_tou
from parkbrain.model.timeutil import PARK_TZ
from parkbrain.store.base import Store

CARRIER_ZH = {
    "electricity": "电力",
    "natural_gas": "天然气",
    "steam": "蒸汽",
    "heat": "热力",
    "water": "水",
    "diesel": "柴油",
    "gasoline": "汽油",
    "lpg": "液化石油气",
    "raw_coal": "原煤",
    "coke": "焦炭",
}


@dataclass(frozen=True)
class Subject:
    """Whom a report is about: ``kind`` enterprise or park, its id and name, and its park."""

    kind: str
    id: str
    name: str
    park_id: str


def compute_energy_report(
    store: Store,
    selection: Selection,
    subject: Subject,
    start: datetime,
    end: datetime,
    acc: Accounting,
    tou: TouSchedule = GUANGXI_STYLE,
) -> dict[str, Any]:
    """The report as JSON-able data (see the module docstring)."""
    by = ("enterprise",) if subject.kind == "park" else ()
    usage = compute_consumption(store, selection, start, end, "total", by)
    rows, used = account(usage.rows, acc)
    total = totals(rows)
    notes = list(usage.notes) + [
        f"{c}: GB/T 2589 中无折标系数，未计入综合能耗 / no standard-coal coefficient, not in tce"
        for c in used["uncounted"]
    ]
    report: dict[str, Any] = {
        "kind": subject.kind,
        "subject": {"id": subject.id, "name": subject.name, "park_id": subject.park_id},
        "start": start.isoformat(),
        "end": end.isoformat(),
        "period": _label(start, end),
        "mode": acc.mode,
        "mode_label": MODES[acc.mode],
        "consumption": [
            {"carrier": c, "carrier_zh": CARRIER_ZH.get(c, c), **v} for c, v in total["by_carrier"].items()
        ],
        "tce": total["tce"],
        "tco2": total["tco2"],
        "tco2_scope1": total["tco2_scope1"],
        "tco2_scope2": total["tco2_scope2"],
        "electricity_factor": used["factors"].get("electricity")
        or (acc.factor and {"key": acc.factor.key, "kgco2_per_kwh": acc.factor.kgco2_per_kwh}),
        "coefficients": used["coefficients"],
        "factors": used["factors"],
    }
    enterprises = sorted({r["enterprise_id"] for r in usage.rows if r.get("enterprise_id")})
    if subject.kind == "enterprise":
        enterprises = [subject.id]
    report["intensity"] = _intensity(store, enterprises, total, start, end, subject.kind, notes)
    report["comparison"] = _comparison(store, selection, start, end, acc, total)
    report["daily"] = _daily(store, selection, start, end, acc)
    report["tou"] = compute_tou(store, selection, start, end, tou)
    if subject.kind == "park":
        report["by_enterprise"] = _by_enterprise(rows)
    report["notes"] = notes + _standing_notes(acc)
    return report


def _label(start: datetime, end: datetime) -> str:
    ls, le = start.astimezone(PARK_TZ), end.astimezone(PARK_TZ)
    if ls.day == 1 and le.day == 1 and ls.time() == le.time() == datetime.min.time():
        months = (le.year - ls.year) * 12 + le.month - ls.month
        if months == 1:
            return f"{ls.year}-{ls.month:02d}"
    return f"{ls.date().isoformat()}/{le.date().isoformat()}"


def _intensity(
    store: Store,
    enterprises: list[str],
    total: dict[str, Any],
    start: datetime,
    end: datetime,
    kind: str,
    notes: list[str],
) -> dict[str, Any]:
    output = None
    if enterprises:
        output = store.query_rows(
            "SELECT sum(output_value_10k_cny) AS v FROM enterprises WHERE list_contains(?, enterprise_id)",
            [enterprises],
        )[0]["v"]
    days, days_in_year = prorate_days(start, end)
    prorated = output * days / days_in_year if output else None
    notes.append(
        f"单位产值能耗: 企业年产值 output_value_10k_cny 按 {days:g}/{days_in_year} 天折算 / yearly output prorated "
        f"to the window ({days:g} of {days_in_year} days)"
    )
    tce, tco2 = total["tce"], total["tco2"]
    out: dict[str, Any] = {
        "output_value_10k_cny_yearly": output,
        "output_value_10k_cny_prorated": prorated,
        "tce_per_10k_cny": tce / prorated if prorated else None,
        "tco2_per_tce": tco2 / tce if tce else None,
    }
    if kind == "park":
        out |= zero_carbon_status(tce, tco2, start, end)
        if out["zero_carbon_threshold"] is None:
            notes.append(
                "单位能耗碳排放: 年综合能耗估计低于20万tce，零碳园区核心指标阈值不适用 / below 200,000 tce a year "
                "the zero-carbon-park threshold does not apply"
            )
    return out


def zero_carbon_status(tce: float, tco2: float, start: datetime, end: datetime) -> dict[str, Any]:
    """单位能耗碳排放 of a park over a window against the threshold of its yearly energy use (extrapolated)."""
    days, days_in_year = prorate_days(start, end)
    yearly_tce = tce * days_in_year / days if days else 0.0
    threshold = zero_carbon_threshold(yearly_tce)
    ratio = tco2 / tce if tce else None
    return {
        "tco2_per_tce": ratio,
        "yearly_tce_estimate": yearly_tce,
        "zero_carbon_threshold": threshold.max_tco2_per_tce if threshold else None,
        "zero_carbon_threshold_source": threshold.source.cite() if threshold else None,
        "zero_carbon_meets": ratio <= threshold.max_tco2_per_tce if threshold and ratio is not None else None,
    }


def compute_carbon_parks(
    store: Store,
    selection: Selection,
    parks: list[dict[str, Any]],
    start: datetime,
    end: datetime,
    acc: Accounting,
) -> list[dict[str, Any]]:
    """Per park (one query for all): tce, tCO2 by scope and 单位能耗碳排放 against its threshold."""
    rows, used = account(compute_consumption(store, selection, start, end, "total", ("park",)).rows, acc)
    out = []
    for park in parks:
        t = totals([r for r in rows if r["park_id"] == park["park_id"]])
        out.append(
            {
                "park_id": park["park_id"],
                "name": park["name"],
                "tce": t["tce"],
                "tco2": t["tco2"],
                "tco2_scope1": t["tco2_scope1"],
                "tco2_scope2": t["tco2_scope2"],
                **zero_carbon_status(t["tce"], t["tco2"], start, end),
                "electricity_factor": used["factors"].get("electricity"),
            }
        )
    return out


def _comparison(
    store: Store,
    selection: Selection,
    start: datetime,
    end: datetime,
    acc: Accounting,
    current: dict[str, Any],
) -> dict[str, Any]:
    out = {}
    windows = {"previous": previous_window(start, end), "last_year": (shift_year(start), shift_year(end))}
    for key, (s, e) in windows.items():
        rows, _ = account(compute_consumption(store, selection, s, e, "total").rows, acc)
        t = totals(rows)
        out[key] = {
            "start": s.isoformat(),
            "end": e.isoformat(),
            "tce": t["tce"] if rows else None,
            "tco2": t["tco2"] if rows else None,
            "change_tce": change(current["tce"], t["tce"]) if rows else None,
            "change_tco2": change(current["tco2"], t["tco2"]) if rows else None,
            "by_carrier": {
                c: {
                    "amount": v["amount"],
                    "change": change(current["by_carrier"].get(c, {}).get("amount"), v["amount"]),
                }
                for c, v in t["by_carrier"].items()
            },
        }
    out["previous"]["label"] = "环比 (previous period)"
    out["last_year"]["label"] = "同比 (same period last year)"
    return out


def _daily(
    store: Store, selection: Selection, start: datetime, end: datetime, acc: Accounting
) -> list[dict[str, Any]]:
    rows, _ = account(compute_consumption(store, selection, start, end, "day").rows, acc)
    return [
        {
            "date": r["period"].isoformat(),
            "carrier": r["carrier"],
            "amount": r["amount"],
            "unit": r["unit"],
            "tce": r["tce"],
            "tco2": r["tco2"],
        }
        for r in rows
    ]


def _by_enterprise(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        key = r.get("enterprise_id") or ""
        e = out.setdefault(
            key,
            {
                "enterprise_id": r.get("enterprise_id"),
                "name": r.get("enterprise_name") or "园区自有 park-owned",
                "tce": 0.0,
                "tco2": 0.0,
            },
        )
        e["tce"] += r["tce"] or 0.0
        e["tco2"] += r["tco2"] or 0.0
    return sorted(out.values(), key=lambda e: -e["tce"])


def _standing_notes(acc: Accounting) -> list[str]:
    notes = [
        f"综合能耗按 GB/T 2589-2020 {MODES[acc.mode]} 折标 / electricity converted at its "
        f"{'equivalent' if acc.mode == 'equivalent' else 'equal'} value",
        "日数据为北京时间自然日的汇总（rollups），不读原始读数 / from the day rollups (Asia/Shanghai days)",
    ]
    if acc.factor is not None:
        notes.append(
            f"电力排放因子 {acc.factor.key} = {acc.factor.kgco2_per_kwh} kgCO2/kWh ({acc.factor.source.cite()})"
        )
    return notes


# -- files -------------------------------------------------------------------------------------------------

_SUMMARY_HEADERS = ("能源品种 carrier", "消费量 amount", "单位 unit", "折标煤 tce", "二氧化碳 tCO2")


def report_csv(report: dict[str, Any]) -> str:
    """The report as CSV (UTF-8 with BOM, so that Excel on Chinese Windows reads it): sections one after another."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    subject = report["subject"]
    w.writerow(["能耗与碳排放月报 energy & carbon report", subject["name"], subject["id"], report["period"]])
    w.writerow(["折标方式 mode", report["mode_label"]])
    w.writerow([])
    w.writerow(_SUMMARY_HEADERS)
    for c in report["consumption"]:
        w.writerow([c["carrier_zh"], _num(c["amount"]), c["unit"], _num(c["tce"]), _num(c["tco2"])])
    w.writerow(["合计 total", "", "", _num(report["tce"]), _num(report["tco2"])])
    w.writerow([])
    w.writerow(["指标 indicator", "数值 value"])
    for key, value in _indicator_rows(report):
        w.writerow([key, _num(value)])
    w.writerow([])
    w.writerow(["日期 date", "能源品种 carrier", "消费量 amount", "单位 unit", "折标煤 tce", "二氧化碳 tCO2"])
    for d in report["daily"]:
        w.writerow([d["date"], d["carrier"], _num(d["amount"]), d["unit"], _num(d["tce"]), _num(d["tco2"])])
    w.writerow([])
    w.writerow(["系数与因子 coefficients and factors", "来源 source"])
    for kind in ("coefficients", "factors"):
        for carrier, used in report[kind].items():
            w.writerow([f"{kind}:{carrier}", used.get("source", "")])
    for note in report["notes"]:
        w.writerow(["说明 note", note])
    return "\ufeff" + buf.getvalue()


def _indicator_rows(report: dict[str, Any]) -> list[tuple[str, Any]]:
    i, c = report["intensity"], report["comparison"]
    rows = [
        ("综合能耗 tce", report["tce"]),
        ("碳排放 tCO2", report["tco2"]),
        ("范围一 scope 1 tCO2", report["tco2_scope1"]),
        ("范围二 scope 2 tCO2", report["tco2_scope2"]),
        ("单位产值能耗 tce/万元", i["tce_per_10k_cny"]),
        ("单位能耗碳排放 tCO2/tce", i["tco2_per_tce"]),
        ("环比 tce change vs previous period", c["previous"]["change_tce"]),
        ("同比 tce change vs last year", c["last_year"]["change_tce"]),
    ]
    if "zero_carbon_threshold" in i:
        rows.append(("零碳园区阈值 zero-carbon threshold tCO2/tce", i["zero_carbon_threshold"]))
    factor = report.get("electricity_factor") or {}
    rows.append((f"电力排放因子 {factor.get('key', '')} kgCO2/kWh", factor.get("kgco2_per_kwh")))
    return rows


def _num(value: Any) -> Any:
    return "" if value is None else round(value, 6) if isinstance(value, float) else value


def report_xlsx(report: dict[str, Any]) -> bytes:
    """The report as an Excel workbook: 汇总 (summary, bar chart by carrier), 日数据 (daily, line chart), 说明."""
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, LineChart, Reference
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "汇总"
    subject = report["subject"]
    ws.append([f"{subject['name']} 能耗与碳排放报告 {report['period']}"])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append(["折标方式", report["mode_label"]])
    ws.append([])
    ws.append(list(_SUMMARY_HEADERS))
    first = ws.max_row + 1
    for c in report["consumption"]:
        ws.append([c["carrier_zh"], c["amount"], c["unit"], c["tce"], c["tco2"]])
    last = ws.max_row
    ws.append(["合计", None, None, report["tce"], report["tco2"]])
    ws.append([])
    for key, value in _indicator_rows(report):
        ws.append([key, value])
    if last >= first:
        bar = BarChart()
        bar.title, bar.y_axis.title = "各能源品种折标煤 tce by carrier", "tce"
        bar.add_data(Reference(ws, min_col=4, min_row=first - 1, max_row=last), titles_from_data=True)
        bar.set_categories(Reference(ws, min_col=1, min_row=first, max_row=last))
        ws.add_chart(bar, "H2")
    _daily_sheet(wb.create_sheet("日数据"), report, LineChart, Reference)
    notes = wb.create_sheet("说明")
    notes.append(["系数与因子", "数值", "来源"])
    for carrier, used in report["coefficients"].items():
        notes.append(
            [
                f"折标系数 {carrier}",
                f"{used['kgce_per_unit']} kgce/{used['unit']} ({used['mode']})",
                used["source"],
            ]
        )
    for carrier, used in report["factors"].items():
        value = used.get("kgco2_per_kwh") or used.get("tco2_per_gj") or used.get("tco2_per_unit")
        notes.append([f"排放因子 {carrier}", value, used["source"]])
    for note in report["notes"]:
        notes.append(["说明", note])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _daily_sheet(ws: Any, report: dict[str, Any], LineChart: Any, Reference: Any) -> None:
    days = sorted({d["date"] for d in report["daily"]})
    carriers = sorted({d["carrier"] for d in report["daily"]})
    tce = {(d["date"], d["carrier"]): d["tce"] for d in report["daily"]}
    ws.append(["日期", *[f"{CARRIER_ZH.get(c, c)} tce" for c in carriers], "合计 tce"])
    for day in days:
        values = [tce.get((day, c)) or 0.0 for c in carriers]
        ws.append([day, *values, sum(values)])
    if days:
        line = LineChart()
        line.title, line.y_axis.title = "每日综合能耗 daily tce", "tce"
        line.add_data(
            Reference(ws, min_col=2, max_col=len(carriers) + 2, min_row=1, max_row=len(days) + 1),
            titles_from_data=True,
        )
        line.set_categories(Reference(ws, min_col=1, min_row=2, max_row=len(days) + 1))
        ws.add_chart(line, f"{chr(ord('A') + len(carriers) + 3)}2")
