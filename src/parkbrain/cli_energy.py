"""``parkbrain energy …``: energy and carbon reports, summaries, reference factors, scheduled reports.

Each command runs one operation of ``facets.energy.ENERGY_OPS`` through ``_admin`` — on the database
file, or through the server that holds it — as the local ``system``. Parse, call, format; no rules here.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import click

from parkbrain.cli import DB_OPTION, FORMAT_OPTION, _admin, _json_default, _print_rows, cli, user_errors

MODE_OPTION = click.option(
    "--mode",
    type=click.Choice(["equivalent", "equal"]),
    default="equivalent",
    show_default=True,
    help="Electricity to standard coal: 当量值 (equivalent) or 等价值 (equal, the year's factor).",
)
FACTOR_OPTION = click.option(
    "--factor",
    default=None,
    metavar="SCOPE:AREA[:YEAR[:CALIBER]]",
    help="Electricity CO2 factor, e.g. province:广西 (default), national:全国:2022, region:南方:2023.",
)
START_OPTION = click.option(
    "--start", default=None, help="Window start (ISO date/time; default: last month)."
)
END_OPTION = click.option("--end", default=None, help="Window end, exclusive.")


def _given(**kw: Any) -> dict[str, Any]:
    return {k: v for k, v in kw.items() if v is not None}


def _dump(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=_json_default))


@cli.group()
def energy() -> None:
    """Energy and carbon (能耗双碳): reports, summaries, factors, scheduled monthly reports."""


@energy.command("report")
@click.option("--enterprise", "enterprise_id", default=None, help="The enterprise's report.")
@click.option("--park", "park_id", default=None, help="The park's report.")
@START_OPTION
@END_OPTION
@click.option(
    "--format", "fmt", type=click.Choice(["json", "xlsx", "csv"]), default="json", show_default=True
)
@click.option("--out", "out", default=None, type=click.Path(dir_okay=False), help="File to write.")
@MODE_OPTION
@FACTOR_OPTION
@click.option(
    "--tou", default=None, metavar="SPEC", help="TOU periods, e.g. 'peak=16-24;flat=8-16;valley=0-8'."
)
@DB_OPTION
@user_errors
def energy_report(
    enterprise_id: str | None,
    park_id: str | None,
    start: str | None,
    end: str | None,
    fmt: str,
    out: str | None,
    mode: str,
    factor: str | None,
    tou: str | None,
    db: str,
) -> None:
    """Consumption by carrier, tce, tCO2 and intensity of an enterprise or a park, naming the
    coefficients and factors used (JSON on stdout, or a .xlsx with charts / .csv file)."""
    if (enterprise_id is None) == (park_id is None):
        raise click.UsageError("give exactly one of --enterprise ID or --park ID")
    args = _given(enterprise_id=enterprise_id, park_id=park_id, start=start, end=end, factor=factor, tou=tou)
    args["mode"] = mode
    if fmt == "json" and out is None:
        _dump(_admin(db, "energy_report", **args))
        return
    result = _admin(db, "energy_report_file", fmt=fmt, **args)
    path = Path(out or result["file_name"])
    path.write_bytes(base64.b64decode(result["content_b64"]))
    click.echo(f"Wrote {path}")


@energy.command("summary")
@click.option("--park", "park_id", default=None, help="Only this park's meters.")
@click.option("--enterprise", "enterprise_id", default=None, help="Only this enterprise's meters.")
@click.option("--building", "building_id", default=None, help="Only this building's meters.")
@START_OPTION
@END_OPTION
@click.option(
    "--grain", type=click.Choice(["day", "month", "year", "total"]), default="month", show_default=True
)
@click.option(
    "--by",
    "by",
    multiple=True,
    type=click.Choice(["point", "enterprise", "building", "park", "prefecture", "province"]),
    help="Group by (repeatable) [park].",
)
@MODE_OPTION
@FACTOR_OPTION
@DB_OPTION
@FORMAT_OPTION
@user_errors
def energy_summary(
    park_id: str | None,
    enterprise_id: str | None,
    building_id: str | None,
    start: str | None,
    end: str | None,
    grain: str,
    by: tuple[str, ...],
    mode: str,
    factor: str | None,
    db: str,
    fmt: str,
) -> None:
    """Consumption, tce and tCO2 per period and dimension, with 同比 (yoy) and 环比 (mom)."""
    args = _given(
        park_id=park_id,
        enterprise_id=enterprise_id,
        building_id=building_id,
        start=start,
        end=end,
        factor=factor,
    )
    data = _admin(db, "energy_summary", grain=grain, by=list(by or ("park",)), mode=mode, **args)
    if fmt == "json":
        _dump(data)
        return
    dims = [
        f"{d}_name" if d not in ("point", "building") else ("point_id" if d == "point" else "building_id")
        for d in data["by"]
    ]
    rows = [
        {**r, **{k: _round(r.get(k)) for k in ("amount", "tce", "tco2")}, **_pct(r)} for r in data["rows"]
    ]
    _print_rows(rows, ["period", *dims, "carrier", "amount", "unit", "tce", "tco2", "mom", "yoy"], fmt)
    t = data["totals"]
    click.echo(f"total {t['tce']:,.3f} tce, {t['tco2']:,.3f} tCO2 ({data['mode']})", err=True)


def _round(value: Any) -> Any:
    return round(value, 3) if isinstance(value, float) else value


def _pct(row: dict[str, Any]) -> dict[str, str]:
    def pct(v: float | None) -> str:
        return "" if v is None else f"{v:+.1%}"

    return {"mom": pct(row.get("mom_tce")), "yoy": pct(row.get("yoy_tce"))}


@energy.command("carbon")
@START_OPTION
@END_OPTION
@FACTOR_OPTION
@DB_OPTION
@FORMAT_OPTION
@user_errors
def energy_carbon(start: str | None, end: str | None, factor: str | None, db: str, fmt: str) -> None:
    """Per park: tce, tCO2 and 单位能耗碳排放 (tCO2/tce) against the zero-carbon-park threshold."""
    rows = _admin(db, "energy_carbon", **_given(start=start, end=end, factor=factor))
    table = [{**r, **{k: _round(r.get(k)) for k in ("tce", "tco2", "tco2_per_tce")}} for r in rows]
    _print_rows(
        table,
        ["park_id", "name", "tce", "tco2", "tco2_per_tce", "zero_carbon_threshold", "zero_carbon_meets"],
        fmt,
    )


@energy.command("factors")
@click.option(
    "--table",
    "table",
    type=click.Choice(
        [
            "standard_coal",
            "electricity_equal_value",
            "fuels",
            "grid_factors",
            "purchased_heat",
            "zero_carbon_thresholds",
        ]
    ),
    default=None,
    help="One reference table (default: all).",
)
@DB_OPTION
@FORMAT_OPTION
@user_errors
def energy_factors(table: str | None, db: str, fmt: str) -> None:
    """The reference tables: GB/T 2589-2020 coefficients, fuel defaults, electricity CO2 factors, thresholds."""
    data = _admin(db, "energy_factors")
    names = [table] if table else [k for k in data if k != "default_factor"]
    if fmt == "json":
        _dump({n: data[n] for n in names} if table else data)
        return
    for name in names:
        rows = data[name]
        click.echo(f"\n# {name}")
        columns = [c for c in rows[0] if c not in ("note",)] if rows else []
        _print_rows(rows, columns, fmt)
    click.echo(f"\ndefault electricity factor: {data['default_factor']}")


@energy.command("alerts")
@click.option("--park", "park_id", default=None, help="One park (default: every park).")
@START_OPTION
@END_OPTION
@DB_OPTION
@FORMAT_OPTION
@user_errors
def energy_alerts(park_id: str | None, start: str | None, end: str | None, db: str, fmt: str) -> None:
    """Evaluate 'energy far above its own baseline' (same weekday of the previous weeks) into alerts."""
    result = _admin(db, "energy_alerts", **_given(park_id=park_id, start=start, end=end))
    if fmt == "json":
        _dump(result)
    else:
        click.echo(f"{result['rule']}: {result['found']} found, {result['written']} new")


@energy.command("reports")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10_000))
@DB_OPTION
@FORMAT_OPTION
@user_errors
def energy_reports(limit: int, db: str, fmt: str) -> None:
    """The generated report files (scheduled monthly reports), newest first."""
    rows = _admin(db, "energy_reports", limit=limit)
    _print_rows(rows, ["report_id", "kind", "subject_id", "period", "format", "file_name", "created_at"], fmt)


@energy.command("download")
@click.argument("report_id")
@click.option("--out", "out", default=None, type=click.Path(dir_okay=False), help="File to write [its name].")
@DB_OPTION
@user_errors
def energy_download(report_id: str, out: str | None, db: str) -> None:
    """Copy a generated report file out of the reports folder."""
    result = _admin(db, "energy_report_download", report_id=report_id)
    path = Path(out or result["file_name"])
    path.write_bytes(base64.b64decode(result["content_b64"]))
    click.echo(f"Wrote {path}")


@energy.command("schedule")
@click.option("--at", "at", default=None, help="Run as if it were this time (ISO 8601; default now).")
@DB_OPTION
@FORMAT_OPTION
@user_errors
def energy_schedule(at: str | None, db: str, fmt: str) -> None:
    """Write the monthly reports due now (day 1, 08:00 Asia/Shanghai, previous month) that are not written yet;
    `parkbrain serve` does this by itself."""
    rows = _admin(db, "energy_schedule", **_given(now=at))
    _print_rows(rows, ["report_id", "kind", "subject_id", "period", "format", "file_name"], fmt)
    if fmt == "table":
        click.echo(f"({len(rows)} report file{'s' if len(rows) != 1 else ''} written)", err=True)
