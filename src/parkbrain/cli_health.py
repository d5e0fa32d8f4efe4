"""``parkbrain`` commands for equipment health and forecasting (registered on the group in ``parkbrain.cli``).

``parkbrain detect FILE …`` scores sensor CSV files (no database); ``parkbrain bench skab`` and
``parkbrain bench forecast`` run the benchmarks on the shared datasets; ``parkbrain forecast`` and
``parkbrain health`` read the park database. Parse, call, format: the rules are in ``analytics.anomaly*``,
``analytics.forecast*`` and ``Park``.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import click

from parkbrain.cli import (
    DB_OPTION,
    FORMAT_OPTION,
    _admin,
    _json_default,
    _print_rows,
    bench,
    cli,
    user_errors,
)
from parkbrain.errors import NotFound


def _shared(name: str, given: str | None) -> Path:
    if given:
        return Path(given)
    from parkbrain.demo.realdata import find_shared_data

    shared = find_shared_data()
    if shared is None or not (shared / name).is_dir():
        raise NotFound(
            f"the {name} dataset was not found in ../shared/data or $PARKBRAIN_SHARED_DATA; pass --data DIR"
        )
    return shared / name


@bench.command("skab")
@click.option("--data", "data", default=None, type=click.Path(file_okay=False), help="SKAB's data folder.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@user_errors
def bench_skab(data: str | None, fmt: str) -> None:
    """SKAB anomaly benchmark: F1/FAR/MAR per group and total, beside the published leaderboard and a T² baseline."""
    from parkbrain.analytics.anomaly_skab import compute_skab, skab_lines, skab_report

    results = compute_skab(_shared("skab", data))
    if fmt == "json":
        click.echo(json.dumps(skab_report(results), ensure_ascii=False, indent=2))
    else:
        click.echo("\n".join(skab_lines(results)))


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--train-rows",
    default=400,
    show_default=True,
    type=click.IntRange(10),
    help="Rows at the start of each file assumed normal (the model is fitted on them).",
)
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@user_errors
def detect(files: tuple[str, ...], train_rows: int, fmt: str) -> None:
    """Score sensor CSV files (SKAB layout): one line per row, file,row,score,anomaly (label columns ignored)."""
    from parkbrain.analytics.anomaly import compute_anomaly_scores
    from parkbrain.analytics.anomaly_files import read_sensor_file

    results = []
    for path in files:
        scored = compute_anomaly_scores(read_sensor_file(path).sensors, train_rows=train_rows, source=path)
        scored.insert(0, "file", path)
        results.append(scored)
    if fmt == "json":
        rows = [r for frame in results for r in frame.to_dict(orient="records")]
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["file", "row", "score", "anomaly"])
    for frame in results:
        writer.writerows(frame[["file", "row", "score", "anomaly"]].itertuples(index=False))


@bench.command("forecast")
@click.option(
    "--data", "data", default=None, type=click.Path(file_okay=False), help="The steel-industry-energy folder."
)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@user_errors
def bench_forecast(data: str | None, fmt: str) -> None:
    """Day-ahead 15-min forecast of the steel plant (rolling origin): MASE beside the seasonal-naive forecast."""
    from parkbrain.analytics.forecast_bench import compute_forecast_bench, forecast_lines, forecast_report

    result = compute_forecast_bench(_shared("steel-industry-energy", data))
    if fmt == "json":
        click.echo(json.dumps(forecast_report(result), ensure_ascii=False, indent=2))
    else:
        click.echo("\n".join(forecast_lines(result)))


@cli.command()
@click.argument("point_id")
@click.option("--interval", type=click.Choice(["15m", "1h", "1d"]), default="15m", show_default=True)
@click.option(
    "--horizon-days", default=1, show_default=True, type=click.IntRange(1, 31), help="Whole days ahead."
)
@click.option(
    "--holidays",
    type=click.Choice(["cn", "none"]),
    default="cn",
    show_default=True,
    help="Chinese public holidays and make-up workdays as day types, or weekdays only.",
)
@DB_OPTION
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@user_errors
def forecast(point_id: str, interval: str, horizon_days: int, holidays: str, db: str, fmt: str) -> None:
    """Forecast a point's next days (consumption of energy points, the mean of others) with lower/upper bounds."""
    result = _admin(
        db,
        "forecast_point",
        point_id=point_id,
        interval=interval,
        horizon_days=horizon_days,
        holidays=holidays,
    )
    if fmt == "json":
        click.echo(json.dumps(result, ensure_ascii=False, indent=2, default=_json_default))
        return
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["point_id", "ts", "forecast", "lower", "upper"])
    writer.writerows([point_id, r["ts"], r["forecast"], r["lower"], r["upper"]] for r in result["rows"])


@cli.group()
def equipment() -> None:
    """Equipment health (设备健康): anomaly episodes with fault hints, and the alerts they raise."""


@equipment.command("health")
@click.argument("device_id")
@click.option(
    "--since", default=None, help="Start (ISO date or time; naive = Asia/Shanghai; default 30 days back)."
)
@click.option("--until", default=None, help="End, exclusive (default: the next full hour).")
@DB_OPTION
@FORMAT_OPTION
@user_errors
def equipment_health(device_id: str, since: str | None, until: str | None, db: str, fmt: str) -> None:
    """Anomaly episodes of a device's sensors with the sensors that contributed most (nothing written)."""
    result = _admin(db, "device_health", device_id=device_id, start=since, end=until)
    rows = [
        {**e, "top_sensors": ", ".join(f"{t['quantity']} {t['contribution']:.0%}" for t in e["top_sensors"])}
        for e in result["episodes"]
    ]
    if fmt == "json":
        click.echo(json.dumps(result, ensure_ascii=False, indent=2, default=_json_default))
    else:
        _print_rows(rows, ["start", "end", "rows", "max_score", "top_sensors"], fmt)


@equipment.command("alerts")
@click.option("--park", "park_id", default=None, help="One park (default: every park in scope).")
@click.option("--device", "device_id", default=None, help="One device.")
@click.option(
    "--since", default=None, help="Start (ISO date or time; naive = Asia/Shanghai; default 30 days back)."
)
@click.option("--until", default=None, help="End, exclusive (default: the next full hour).")
@DB_OPTION
@FORMAT_OPTION
@user_errors
def equipment_alerts(
    park_id: str | None, device_id: str | None, since: str | None, until: str | None, db: str, fmt: str
) -> None:
    """Check pumps, motors, fans and compressors and write equipment_anomaly alerts (re-running adds nothing)."""
    result = _admin(db, "equipment_alerts", park_id=park_id, device_id=device_id, start=since, end=until)
    _print_rows(result["alerts"], ["ts", "device_id", "severity", "message"], fmt)
    if fmt == "table":
        click.echo(
            f"{len(result['devices'])} devices checked: {result['opened']} opened, {result['updated']} updated, "
            f"{result['unchanged']} unchanged",
            err=True,
        )
        labels = result["labels"]
        click.echo(
            f"labelled faults (fault_labels): {labels['labelled_faulty_alerted']} of {labels['labelled_faulty']} "
            f"machines alerted; without a labelled fault: {labels['not_labelled_alerted']} of "
            f"{labels['not_labelled']} alerted",
            err=True,
        )


@cli.command("energy-forecast")
@click.option("--park", "park_id", default=None, help="One park.")
@click.option("--enterprise", "enterprise_id", default=None, help="One enterprise.")
@click.option(
    "--carrier",
    type=click.Choice(["electricity", "water", "steam", "natural_gas"]),
    default="electricity",
    show_default=True,
)
@click.option("--by", type=click.Choice(["enterprise", "park"]), default=None, help="One forecast each.")
@click.option(
    "--today", default=None, help="ISO date the month is seen from (default: today, Asia/Shanghai)."
)
@click.option(
    "--alerts", is_flag=True, help="Write energy_forecast_deviation alerts (per enterprise) instead."
)
@DB_OPTION
@FORMAT_OPTION
@user_errors
def energy_forecast(
    park_id: str | None,
    enterprise_id: str | None,
    carrier: str,
    by: str | None,
    today: str | None,
    alerts: bool,
    db: str,
    fmt: str,
) -> None:
    """This month's consumption forecast beside the actual, per enterprise or park; --alerts writes the alerts."""
    if alerts:
        result = _admin(db, "forecast_alerts", park_id=park_id, carrier=carrier, today=today)
        _print_rows(result["alerts"], ["park_id", "enterprise_id", "value", "message"], fmt)
        return
    args = {"park_id": park_id, "enterprise_id": enterprise_id, "carrier": carrier, "by": by, "today": today}
    rows = _admin(db, "energy_forecast", **args)
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2, default=_json_default))
        return
    columns = ["name", "month", "unit", "forecast_to_date", "actual_to_date", "outlook_total"]
    _print_rows(rows, columns, fmt)
