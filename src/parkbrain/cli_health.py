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

from parkbrain.cli import bench, cli, user_errors
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
