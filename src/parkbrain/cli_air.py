"""``parkbrain`` commands for air quality and noise (registered on the group in ``parkbrain.cli``).

``parkbrain aqi FILE`` rates a CSV file (no database); ``parkbrain air …`` reads the park database
(on the file, or through the server that holds it). Parse, call, format: the rules are in
``analytics.aqi*`` and ``Park``.
"""

from __future__ import annotations

import json
from typing import Any

import click

from parkbrain.analytics.aqi_standards import DEFAULT_NOISE_CLASS, DEFAULT_ZONE_CLASS
from parkbrain.cli import (
    DB_OPTION,
    FORMAT_OPTION,
    _admin,
    _json_default,
    _parse_option_time,
    _print_rows,
    cli,
    format_table,
    user_errors,
)

STANDARD_OPTION = click.option(
    "--standard",
    type=click.Choice(["auto", "2012", "2026"]),
    default="auto",
    show_default=True,
    help="HJ 633 / GB 3095 edition: auto = by date (2026 editions from 2026-03-01), or forced.",
)
PARK_OPTION = click.option("--park", "park_id", default=None, help="One park (default: every park in scope).")
SINCE_OPTION = click.option("--since", default=None, help="Start (ISO date or time; naive = Asia/Shanghai).")
UNTIL_OPTION = click.option("--until", default=None, help="End, exclusive (default: the next full hour).")
IAQI_COLUMNS = ["iaqi_so2", "iaqi_no2", "iaqi_co", "iaqi_o3", "iaqi_pm10", "iaqi_pm2_5"]


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False))
@STANDARD_OPTION
@FORMAT_OPTION
@user_errors
def aqi(file: str, standard: str, fmt: str) -> None:
    """Real-time AQI (HJ 633) of each row of a CSV: CNEMC layout or readings layout (point_id/quantity, ts, value)."""
    from parkbrain.analytics.aqi_files import compute_aqi_file

    rows = compute_aqi_file(file, standard)
    columns = [
        "time",
        "station_code",
        "station",
        *IAQI_COLUMNS,
        "aqi",
        "primary_pollutant",
        "level_name",
        "category",
    ]
    _print_rows(rows, columns, fmt)


@cli.group()
def air() -> None:
    """Air quality (HJ 633 AQI, GB 3095 exceedances) and noise (GB 3096) of the parks' stations."""


def _window_args(park_id: str | None, since: str | None, until: str | None) -> dict[str, Any]:
    from parkbrain.model.timeutil import parse_time

    args: dict[str, Any] = {"park_id": park_id}
    for key, text, name in (("start", since, "--since"), ("end", until, "--until")):
        if text:
            args[key] = _parse_option_time(parse_time, text, name).isoformat()
    return args


@air.command("aqi")
@PARK_OPTION
@click.option(
    "--interval",
    type=click.Choice(["1h", "1d"]),
    default="1h",
    show_default=True,
    help="Hourly or daily AQI.",
)
@SINCE_OPTION
@UNTIL_OPTION
@STANDARD_OPTION
@click.option(
    "--zone-class",
    type=click.IntRange(1, 2),
    default=DEFAULT_ZONE_CLASS,
    show_default=True,
    help="GB 3095 zone class.",
)
@DB_OPTION
@FORMAT_OPTION
@user_errors
def air_aqi(
    park_id: str | None,
    interval: str,
    since: str | None,
    until: str | None,
    standard: str,
    zone_class: int,
    db: str,
    fmt: str,
) -> None:
    """Hourly or daily AQI of each air station, with its GB 3095 exceedances."""
    args = _window_args(park_id, since, until)
    result = _admin(db, "air_quality", interval=interval, standard=standard, zone_class=zone_class, **args)
    if fmt == "json":
        click.echo(json.dumps(result, ensure_ascii=False, indent=2, default=_json_default))
        return
    rows = [{**r, "exceedances": _exceedance_text(r["exceedances"])} for r in result["rows"]]
    columns = [
        "time",
        "station",
        "device_id",
        *IAQI_COLUMNS,
        "aqi",
        "primary_pollutant",
        "level_name",
        "category",
    ]
    if interval == "1d":
        columns.insert(columns.index("iaqi_pm10"), "iaqi_o3_8h")
    click.echo(format_table([*columns, "exceedances"], rows))
    click.echo(f"({len(rows)} rows, {result['start']} – {result['end']})", err=True)


def _exceedance_text(items: list[dict[str, Any]]) -> str:
    return ", ".join(f"{e['pollutant']} {e['averaging']} {e['value']:g}>{e['limit']:g}" for e in items)


@air.command("noise")
@PARK_OPTION
@SINCE_OPTION
@UNTIL_OPTION
@click.option(
    "--zone-class",
    type=click.Choice(["0", "1", "2", "3", "4a", "4b"]),
    default=DEFAULT_NOISE_CLASS,
    show_default=True,
    help="GB 3096-2008 acoustic zone class (3: industrial areas).",
)
@DB_OPTION
@FORMAT_OPTION
@user_errors
def air_noise(
    park_id: str | None, since: str | None, until: str | None, zone_class: str, db: str, fmt: str
) -> None:
    """Day (06–22) and night (22–06) LAeq of each noise point against GB 3096-2008."""
    args = _window_args(park_id, since, until)
    result = _admin(db, "air_noise", zone_class=zone_class, **args)
    if fmt == "json":
        click.echo(json.dumps(result, ensure_ascii=False, indent=2, default=_json_default))
        return
    _print_rows(
        result["rows"], ["day", "period", "station", "point_id", "laeq_db", "limit_db", "exceeds", "n"], fmt
    )


@air.command("alerts")
@PARK_OPTION
@SINCE_OPTION
@UNTIL_OPTION
@STANDARD_OPTION
@DB_OPTION
@FORMAT_OPTION
@user_errors
def air_alerts(
    park_id: str | None, since: str | None, until: str | None, standard: str, db: str, fmt: str
) -> None:
    """Evaluate the AQI-level alert rules (e.g. hourly AQI ≥ 四级 中度污染) and write the alerts; re-running adds nothing."""
    result = _admin(db, "air_alerts", standard=standard, **_window_args(park_id, since, until))
    if fmt == "json":
        click.echo(json.dumps(result, ensure_ascii=False, indent=2, default=_json_default))
        return
    click.echo(
        format_table(["ts", "park_id", "rule", "severity", "status", "value", "message"], result["alerts"])
    )
    click.echo(
        f"opened {result['opened']}, updated {result['updated']}, unchanged {result['unchanged']}", err=True
    )


@air.command("standards")
@DB_OPTION
@FORMAT_OPTION
@user_errors
def air_standards(db: str, fmt: str) -> None:
    """The reference tables (HJ 633, GB 3095, GB 3096, levels, alert rules) and their sources."""
    result = _admin(db, "air_standards")
    if fmt == "json":
        click.echo(json.dumps(result, ensure_ascii=False, indent=2, default=_json_default))
        return
    rows = [{"table": e["code"], "source": e["source"]} for e in result["aqi"]]
    rows += [{"table": f"{e['code']} {e['period']}", "source": e["source"]} for e in result["gb3095"]]
    rows += [{"table": "GB 3096-2008", "source": result["noise"]["source"]}]
    click.echo(format_table(["table", "source"], rows, max_width=160))
