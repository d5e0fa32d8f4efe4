"""The ``parkbrain`` command line: parse, call the library, format. No SQL or business rules here."""

from __future__ import annotations

import csv
import functools
import io
import json
import socket
import sys
import unicodedata
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import click

from parkbrain import __version__
from parkbrain.core import DEFAULT_DB, Park
from parkbrain.errors import DatabaseLocked, NotFound, ParkError

DB_OPTION = click.option(
    "--db",
    "db",
    default=DEFAULT_DB,
    show_default=True,
    type=click.Path(dir_okay=False),
    help="Park database file (DuckDB).",
)


def user_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn ParkErrors into one line on stderr and exit code 1 (no traceback)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ParkError as exc:
            click.echo(f"Error: {exc.message}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(130)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="parkbrain")
def cli() -> None:
    """ParkBrain (园区大脑): the data and AI platform for industrial parks.

    Start with `parkbrain demo`: it builds a demo province of Guangxi parks and serves it on
    http://127.0.0.1:8000.
    """


@cli.command()
@DB_OPTION
@click.option(
    "--seed",
    default=42,
    show_default=True,
    help="Random seed: the same seed and --end give the same province.",
)
@click.option(
    "--end", "end", default=None, help="Last reading time (ISO 8601, naive = Asia/Shanghai); default now."
)
@click.option("--days", default=90, show_default=True, type=click.IntRange(7, 400), help="Days of readings.")
@click.option("--force", is_flag=True, help="Replace the database even if it is not a demo.")
@click.option("--no-serve", is_flag=True, help="Build only; do not start the web server.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to serve on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to serve on.")
@user_errors
def demo(
    db: str, seed: int, end: str | None, days: int, force: bool, no_serve: bool, host: str, port: int
) -> None:
    """Build the demo province of Guangxi (parks, enterprises, meters, 90 days of readings) and serve it."""
    from parkbrain.demo import build_demo_file
    from parkbrain.model.timeutil import parse_time
    from parkbrain.server import read_lock

    if read_lock(db):
        raise DatabaseLocked(f"a parkbrain server is running on {db}; stop it before rebuilding the demo")
    end_ts = _parse_option_time(parse_time, end, "--end") if end else None
    if not no_serve:
        _check_port_free(host, port)
    click.echo(f"Building the demo province into {db} (seed {seed}) …", err=True)
    with click.progressbar(
        length=1000, label="demo", file=sys.stderr, show_eta=False, item_show_func=lambda label: label
    ) as bar:

        def progress(label: str, done: float) -> None:
            bar.update(int(done * 1000) - bar.pos, label)

        report = build_demo_file(db, seed=seed, end=end_ts, days=days, force=force, progress=progress)
    tables = report.tables
    click.echo(
        f"Built in {report.seconds:.0f} s: {tables.get('parks', 0)} parks, {tables.get('enterprises', 0)} enterprises, "
        f"{tables.get('points', 0)} points, {tables.get('readings', 0):,} readings "
        f"({report.size_bytes / 1e6:.0f} MB).",
        err=True,
    )
    for line in report.real_sources:
        click.echo(f"  real data: {line}", err=True)
    for note in report.notes:
        click.echo(f"  note: {note}", err=True)
    if not no_serve:
        _serve(db, host, port)


@cli.command()
@DB_OPTION
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to serve on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to serve on.")
@user_errors
def serve(db: str, host: str, port: int) -> None:
    """Serve the REST API (and its docs at /docs) over a park database."""
    _check_port_free(host, port)
    _serve(db, host, port)


def _serve(db: str, host: str, port: int) -> None:
    from parkbrain.server import serve as run_server

    click.echo(
        f"Serving {db} on http://{host}:{port}  (API docs: http://{host}:{port}/docs; Ctrl+C stops)", err=True
    )
    run_server(db, host=host, port=port)


@cli.command()
@DB_OPTION
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@user_errors
def info(db: str, fmt: str) -> None:
    """Rows per table and the time span of readings."""
    data = _with_db(db, lambda park: park.info(), lambda lock, call: call(lock, "GET", "/api/local/info"))
    if fmt == "json":
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=_json_default))
        return
    click.echo(f"database        {data['path']}")
    if data.get("size_bytes"):
        click.echo(f"size            {data['size_bytes'] / 1e6:.1f} MB")
    click.echo(f"schema version  {data['schema_version']}")
    click.echo(f"readings from   {data['readings_first_ts'] or '—'}")
    click.echo(f"readings to     {data['readings_last_ts'] or '—'}")
    rows = [{"table": name, "rows": f"{count:,}"} for name, count in data["tables"].items()]
    click.echo(format_table(["table", "rows"], rows))


@cli.command()
@click.argument("query")
@DB_OPTION
@click.option(
    "--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True
)
@click.option("--limit", default=None, type=click.IntRange(1), help="At most this many rows.")
@user_errors
def sql(query: str, db: str, fmt: str, limit: int | None) -> None:
    """Run a read-only SELECT over the park tables; --format json prints an array of row objects."""
    columns, rows = _with_db(
        db,
        lambda park: _table_rows(park.sql(query, limit=limit)),
        lambda lock, call: _remote_rows(
            call(lock, "POST", "/api/local/sql", {"query": query, "limit": limit})
        ),
    )
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2, default=_json_default))
    elif fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([_csv_value(r[c]) for c in columns] for r in rows)
        click.echo(buffer.getvalue(), nl=False)
    else:
        click.echo(format_table(columns, rows))
        click.echo(f"({len(rows)} row{'s' if len(rows) != 1 else ''})", err=True)


def _with_db(db: str, local: Callable[[Park], Any], remote: Callable[..., Any]) -> Any:
    """Run on the file read-only, or through the server that holds it."""
    from pathlib import Path

    from parkbrain.server import call_server, read_lock

    lock = read_lock(db)
    if lock is not None:
        return remote(lock, call_server)
    if not Path(db).exists():
        raise NotFound(f"no database at {db}; build one with `parkbrain demo --db {db}`, or pass --db")
    with Park.open(db, read_only=True) as park:
        return local(park)


def _table_rows(table: Any) -> tuple[list[str], list[dict[str, Any]]]:
    return table.column_names, table.to_pylist()


def _remote_rows(data: dict[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    return data["columns"], data["rows"]


def _parse_option_time(parse: Callable[[str, str], datetime], text: str, name: str) -> datetime:
    try:
        return parse(text, name)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            raise ParkError(f"cannot serve on {host}:{port}: the port is in use; pass --port") from None


def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def _width(text: str) -> int:
    """Display width in a terminal: CJK characters take two columns."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def format_table(columns: list[str], rows: list[dict[str, Any]], max_width: int = 60) -> str:
    """A plain-text table, aligned for Chinese text."""

    def cell(value: Any) -> str:
        text = (
            "" if value is None else value.isoformat() if isinstance(value, (datetime, date)) else str(value)
        )
        text = text.replace("\n", " ")
        return text if _width(text) <= max_width else text[: max_width - 1] + "…"

    body = [[cell(r.get(c)) for c in columns] for r in rows]
    widths = [max([_width(c)] + [_width(b[i]) for b in body]) for i, c in enumerate(columns)]

    def line(values: list[str]) -> str:
        return "  ".join(v + " " * (w - _width(v)) for v, w in zip(values, widths)).rstrip()

    out = [line(columns), line(["-" * w for w in widths])]
    out += [line(b) for b in body]
    return "\n".join(out)


def main() -> None:
    cli(prog_name="parkbrain")


if __name__ == "__main__":  # pragma: no cover
    main()
