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
    click.echo(
        f"\nDemo admin (shown once; keep it): user {report.admin_user}  password {report.admin_password}\n"
        f"Log in at http://{host}:{port}/login, or make API tokens with `parkbrain token create`.\n",
        err=True,
    )
    if not no_serve:
        _serve(db, host, port)


@cli.command()
@DB_OPTION
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to serve on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to serve on.")
@click.option(
    "--mqtt",
    "mqtt",
    default=None,
    metavar="HOST:PORT",
    help="Also take telemetry from this MQTT broker (topic parkbrain/{park_id}/{device_id}/telemetry).",
)
@click.option(
    "--spool",
    default=None,
    type=click.Path(file_okay=False),
    help="Folder of the telemetry spool (messages kept until stored) [<db>.spool].",
)
@user_errors
def serve(db: str, host: str, port: int, mqtt: str | None, spool: str | None) -> None:
    """Serve the REST API (and its docs at /docs) over a park database; with --mqtt, live telemetry too."""
    _check_port_free(host, port)
    _serve(db, host, port, mqtt, spool)


def _serve(db: str, host: str, port: int, mqtt: str | None = None, spool: str | None = None) -> None:
    from parkbrain.server import serve as run_server

    click.echo(
        f"Serving {db} on http://{host}:{port}  (API docs: http://{host}:{port}/docs; Ctrl+C stops)", err=True
    )
    if mqtt:
        click.echo(f"Taking telemetry from mqtt://{mqtt}, topic parkbrain/+/+/telemetry (QoS 1)", err=True)
    run_server(db, host=host, port=port, mqtt=mqtt, spool=spool)


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


# -- the data space: users, tokens, audit, grants -------------------------------------------------

ROLE_CHOICE = click.Choice(
    ["province_admin", "park_admin", "park_operator", "enterprise", "integrator", "device"]
)


#: Operations that may start a new database file (an import into an empty park).
CREATES = frozenset({"import", "policy_import"})


def _admin(db: str, op: str, **args: Any) -> Any:
    """Run an administrative operation as the local system: on the file, or through the server."""
    from pathlib import Path

    from parkbrain.localops import WRITES, run_op
    from parkbrain.server import call_server, read_lock

    lock = read_lock(db)
    if lock is not None:
        return call_server(lock, "POST", f"/api/local/call/{op}", args)
    if not Path(db).exists() and op not in CREATES:
        raise NotFound(f"no database at {db}; build one with `parkbrain demo --db {db}`, or pass --db")
    with Park.open(db, read_only=op not in WRITES) as park:
        return json.loads(json.dumps(run_op(park, op, args), default=_json_default))


def _print_rows(rows: list[dict[str, Any]], columns: list[str], fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2, default=_json_default))
    else:
        click.echo(format_table(columns, rows))


FORMAT_OPTION = click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)


@cli.group()
def user() -> None:
    """People who log in to the console (passwords hashed with argon2id)."""


@user.command("create")
@click.argument("username")
@click.option("--role", required=True, type=ROLE_CHOICE, help="What the user may do.")
@click.option("--park", "park_id", default=None, help="Park the user works for (park roles).")
@click.option(
    "--enterprise", "enterprise_id", default=None, help="Enterprise the user belongs to (role enterprise)."
)
@click.option("--org", default=None, help="Service provider's name (role integrator; grants name it).")
@click.option("--name", "display_name", default=None, help="Display name, e.g. 张三.")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from stdin instead of generating one."
)
@DB_OPTION
@FORMAT_OPTION
@user_errors
def user_create(
    username: str,
    role: str,
    park_id: str | None,
    enterprise_id: str | None,
    org: str | None,
    display_name: str | None,
    password_stdin: bool,
    db: str,
    fmt: str,
) -> None:
    """Create a user; without --password-stdin a random password is generated and printed once."""
    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    result = _admin(
        db,
        "user_create",
        username=username,
        role=role,
        password=password,
        park_id=park_id,
        enterprise_id=enterprise_id,
        org=org,
        display_name=display_name,
    )
    if fmt == "json":
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    made = result["user"]
    click.echo(f"Created user {made['username']} ({made['role']}, id {made['user_id']}).")
    if result["password"]:
        click.echo(f"Password (shown once): {result['password']}")


@user.command("list")
@DB_OPTION
@FORMAT_OPTION
@user_errors
def user_list(db: str, fmt: str) -> None:
    """Users and their roles."""
    cols = [
        "username",
        "role",
        "park_id",
        "enterprise_id",
        "org",
        "display_name",
        "created_at",
        "disabled_at",
    ]
    _print_rows(_admin(db, "user_list"), cols, fmt)


@user.command("disable")
@click.argument("username")
@DB_OPTION
@user_errors
def user_disable(username: str, db: str) -> None:
    """Disable a user: ends its sessions and revokes its tokens."""
    _admin(db, "user_disable", username=username)
    click.echo(f"Disabled {username}; its sessions and tokens no longer work.")


@cli.group()
def token() -> None:
    """API tokens (Authorization: Bearer …): scoped, expiring, revocable, stored hashed."""


@token.command("create")
@click.option("--role", required=True, type=ROLE_CHOICE, help="What the token may do.")
@click.option("--park", "park_id", default=None, help="Park the token is bound to.")
@click.option("--enterprise", "enterprise_id", default=None, help="Enterprise the token is bound to.")
@click.option("--device", "device_id", default=None, help="Device a device token pushes for.")
@click.option("--org", default=None, help="Service provider's name (role integrator).")
@click.option("--expires", default="30d", show_default=True, help="30d, 12h, 2w, 1y or an ISO date.")
@click.option("--name", default=None, help="A label, e.g. the system that uses it.")
@click.option("--rate", "rate_per_min", default=None, type=click.IntRange(1), help="Requests per minute.")
@DB_OPTION
@FORMAT_OPTION
@user_errors
def token_create(
    role: str,
    park_id: str | None,
    enterprise_id: str | None,
    device_id: str | None,
    org: str | None,
    expires: str,
    name: str | None,
    rate_per_min: int | None,
    db: str,
    fmt: str,
) -> None:
    """Create an API token and print it once (only its hash is stored)."""
    made = _admin(
        db,
        "token_create",
        role=role,
        park_id=park_id,
        enterprise_id=enterprise_id,
        device_id=device_id,
        org=org,
        expires=expires,
        name=name,
        rate_per_min=rate_per_min,
    )
    if fmt == "json":
        click.echo(json.dumps(made, ensure_ascii=False, indent=2))
        return
    click.echo(made["token"])
    bound = ", ".join(f"{k} {made[k]}" for k in ("park_id", "enterprise_id", "device_id", "org") if made[k])
    click.echo(
        f"token {made['token_id']}: role {made['role']}{', ' + bound if bound else ''}, "
        f"expires {made['expires_at']}. It is shown only now.",
        err=True,
    )


@token.command("list")
@DB_OPTION
@FORMAT_OPTION
@user_errors
def token_list(db: str, fmt: str) -> None:
    """Tokens with their scope and status (never their secrets)."""
    cols = [
        "token_id",
        "name",
        "role",
        "park_id",
        "enterprise_id",
        "device_id",
        "expires_at",
        "last_used_at",
        "status",
    ]
    _print_rows(_admin(db, "token_list"), cols, fmt)


@token.command("revoke")
@click.argument("token_id")
@DB_OPTION
@user_errors
def token_revoke(token_id: str, db: str) -> None:
    """Revoke a token (give its id, or paste the whole token)."""
    revoked = _admin(db, "token_revoke", token_id=token_id)
    click.echo(f"Revoked token {revoked['token_id']}.")


@cli.group()
def audit() -> None:
    """The hash-chained audit log."""


@audit.command("verify")
@DB_OPTION
@FORMAT_OPTION
@user_errors
def audit_verify(db: str, fmt: str) -> None:
    """Check the chain; exit 1 and name the entries if any was edited or deleted."""
    report = _admin(db, "audit_verify")
    if fmt == "json":
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    elif report["ok"]:
        click.echo(
            f"Audit log intact: {report['entries']} entries, chain verified up to #{report['head_seq']}."
        )
    else:
        click.echo(f"AUDIT LOG TAMPERED ({report['entries']} entries):", err=True)
        for problem in report["problems"]:
            click.echo(f"  - {problem}", err=True)
    if not report["ok"]:
        sys.exit(1)


@audit.command("list")
@click.option("--action", default=None, help="Only this action (or family, e.g. grant).")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 100_000))
@DB_OPTION
@FORMAT_OPTION
@user_errors
def audit_list(action: str | None, limit: int, db: str, fmt: str) -> None:
    """The newest audit entries."""
    rows = _admin(db, "audit_list", action=action, limit=limit)
    _print_rows(rows, ["seq", "ts", "actor", "action", "target", "park_id", "enterprise_id", "detail"], fmt)


@cli.group()
def grant() -> None:
    """Sharing grants enterprises made (they make and revoke them in the console or the API)."""


@grant.command("list")
@click.option("--active", is_flag=True, help="Only grants in force now.")
@DB_OPTION
@FORMAT_OPTION
@user_errors
def grant_list(active: bool, db: str, fmt: str) -> None:
    """All grants: who opened what to whom, why and until when."""
    rows = _admin(db, "grant_list", active_only=active)
    cols = ["grant_id", "enterprise_id", "grantee", "kind", "items", "purpose", "expires_at", "status"]
    _print_rows(rows, cols, fmt)


# -- imports -------------------------------------------------------------------------------------

IMPORT_TABLES = ["regions", "parks", "zones", "buildings", "enterprises", "devices", "points", "readings"]


@cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--as",
    "table",
    type=click.Choice(IMPORT_TABLES),
    default=None,
    help="The table the file fills; detected from its columns when omitted.",
)
@click.option(
    "--mapping",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="A TOML mapping file for layouts not recognised by themselves (see the README).",
)
@click.option("--crs", default=None, help="CRS of the coordinates: WGS84, CGCS2000, GCJ02, BD09 or EPSG:n.")
@click.option(
    "--park", "park_id", default=None, help="Park for rows that do not name one (and for IFC models)."
)
@click.option(
    "--tz", "timezone", default=None, help="Time zone of timestamps without an offset [Asia/Shanghai]."
)
@click.option("--encoding", default=None, help="Text encoding (utf-8, gbk, gb18030); detected when omitted.")
@click.option(
    "--source", default=None, help="The source plugin to use (csv, excel, jsonl, geojson, …); by file type."
)
@DB_OPTION
@FORMAT_OPTION
@user_errors
def import_(file: str, db: str, fmt: str, **options: Any) -> None:
    """Import a file: CSV/TSV, Excel, JSON Lines, GeoJSON, Shapefile, GeoPackage or IFC.

    All or nothing: a bad file changes nothing and the error names the line and field. Importing
    the same file twice adds nothing.
    """
    from pathlib import Path

    options = {k: v for k, v in options.items() if v is not None}
    path = str(Path(file).resolve())
    if fmt == "table":
        click.echo(f"Importing {file} into {db} …", err=True)
    from parkbrain.server import read_lock

    options.update(path=path, display_name=Path(file).name)
    if read_lock(db) is None:  # on the file: show progress as it goes
        with Park.open(db) as park:
            progress = (lambda text: click.echo(f"  {text}", err=True)) if fmt == "table" else None
            result = park.ingest(progress=progress, **options).as_dict()
    else:
        result = _admin(db, "import", **options)
    if fmt == "json":
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    _print_import(result)


def _print_import(result: dict[str, Any]) -> None:
    if result["unchanged"]:
        click.echo(f"Unchanged: {' '.join(result['notes'])}")
        return
    written = ", ".join(f"{n:,} {t}" for t, n in result["rows_written"].items()) or "nothing new"
    click.echo(
        f"Imported {result['file_name']} as import {result['import_id']} ({result['source']}): {written} "
        f"in {result['seconds']:.1f} s"
    )
    if result["duplicates"]:
        click.echo(f"  {result['duplicates']:,} readings were already stored (skipped)")
    if result["conflicts"]:
        click.echo(
            f"  {result['conflicts']:,} conflicting duplicates (same point and time, another value; "
            "the first value is kept):"
        )
        for sample in result["conflict_samples"][:5]:
            click.echo(f"    {json.dumps(sample, ensure_ascii=False, default=str)}")
    for key in ("encoding", "source_crs"):
        if result.get(key):
            click.echo(f"  {key.replace('_', ' ')}: {result[key]}")
    for note in result["notes"]:
        click.echo(f"  note: {note}")


@cli.command("imports")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1), help="At most this many.")
@DB_OPTION
@FORMAT_OPTION
@user_errors
def imports_(limit: int, db: str, fmt: str) -> None:
    """List the imports (lineage): file, hash, time, who, rows — newest first."""
    rows = _admin(db, "import_list", limit=limit)
    for row in rows:
        row["file_sha256"] = row["file_sha256"][:12]
    cols = [
        "import_id",
        "file_name",
        "file_sha256",
        "source",
        "target",
        "finished_at",
        "actor",
        "rows_read",
        "rows_written",
        "duplicates",
        "conflicts",
    ]
    _print_rows(rows, cols, fmt)


@cli.command()
@click.option("--park", "park_id", default=None, help="One park's report (default: every park).")
@DB_OPTION
@FORMAT_OPTION
@user_errors
def quality(park_id: str | None, db: str, fmt: str) -> None:
    """Data-quality report: completeness, validity, duplicates, timeliness, consistency, with the offending rows."""
    args = {"park_id": park_id} if park_id else {}
    if fmt == "json":
        click.echo(json.dumps(_admin(db, "quality", **args), ensure_ascii=False, indent=2))
    else:
        click.echo(_admin(db, "quality_text", **args))


@cli.group()
def brick() -> None:
    """Brick (brickschema.org) models of the park's devices and points."""


BRICK_FORMATS = {"turtle": ".ttl", "json-ld": ".jsonld", "nt": ".nt", "xml": ".rdf"}


@brick.command("export")
@click.option("--park", "park_id", default=None, help="One park (default: every park).")
@click.option(
    "--out",
    "out",
    default=None,
    type=click.Path(dir_okay=False),
    help="File to write [brick-<park or province>.ttl].",
)
@click.option(
    "--rdf-format",
    "rdf_format",
    type=click.Choice(list(BRICK_FORMATS)),
    default="turtle",
    show_default=True,
    help="RDF serialisation.",
)
@click.option("--no-validate", is_flag=True, help="Skip the SHACL validation against the Brick shapes.")
@DB_OPTION
@user_errors
def brick_export(park_id: str | None, out: str | None, rdf_format: str, no_validate: bool, db: str) -> None:
    """Write the devices and points as a Brick model, each point referencing its time series; validated."""
    from pathlib import Path

    click.echo("Building the Brick model (the ontology loads in a few seconds) …", err=True)
    args: dict[str, Any] = {"validate": not no_validate, "fmt": rdf_format}
    if park_id:
        args["park_id"] = park_id
    result = _admin(db, "brick_export", **args)
    path = Path(out or f"brick-{park_id or 'province'}{BRICK_FORMATS[rdf_format]}")
    path.write_text(result["model"], encoding="utf-8")
    counts = ", ".join(f"{n:,} {k}" for k, n in result["counts"].items())
    click.echo(f"Wrote {path}: {counts}")
    for warning in result["warnings"]:
        click.echo(f"  warning: {warning}")
    if result["valid"] is False:
        click.echo(
            f"Error: the model does not conform to the Brick shapes:\n{result['report'][:4000]}", err=True
        )
        sys.exit(1)
    if result["valid"]:
        click.echo("  valid against the Brick 1.5 shapes")


@cli.group()
def lake() -> None:
    """The Parquet lake of raw readings (readable by DuckDB, Spark, pandas)."""


@lake.command("export")
@click.option(
    "--out",
    "out_dir",
    default="lake",
    show_default=True,
    type=click.Path(file_okay=False),
    help="The lake folder (readings/park_id=…/month=YYYY-MM/*.parquet).",
)
@click.option("--park", "park_id", default=None, help="One park (default: every park).")
@click.option("--since", default=None, help="First month to export (a date; naive = Asia/Shanghai).")
@click.option("--until", default=None, help="Export up to this time (exclusive).")
@DB_OPTION
@FORMAT_OPTION
@user_errors
def lake_export(
    out_dir: str, park_id: str | None, since: str | None, until: str | None, db: str, fmt: str
) -> None:
    """Export raw readings to Parquet, partitioned by park and month; re-exporting replaces those months."""
    from pathlib import Path

    from parkbrain.model.timeutil import parse_time

    args: dict[str, Any] = {"out_dir": str(Path(out_dir).resolve())}
    if park_id:
        args["park_id"] = park_id
    for key, text in (("start", since), ("end", until)):
        if text:
            args[key] = _parse_option_time(
                parse_time, text, f"--{'since' if key == 'start' else 'until'}"
            ).isoformat()
    result = _admin(db, "lake_export", **args)
    if fmt == "json":
        click.echo(json.dumps(result, ensure_ascii=False, indent=2, default=_json_default))
        return
    click.echo(
        f"Exported {result['rows']:,} readings to {result['out_dir']} in {result['seconds']:.1f} s "
        f"({len(result['partitions'])} partitions)"
    )


@cli.command()
@click.option(
    "--keep",
    "keep",
    multiple=True,
    metavar="RESOLUTION=DAYS",
    help="Override a retention: raw=400, 15m=730, 1h=1825, 1d=forever (repeatable).",
)
@click.option("--apply", "apply", is_flag=True, help="Delete; without it, only count what would go.")
@DB_OPTION
@FORMAT_OPTION
@user_errors
def retention(keep: tuple[str, ...], apply: bool, db: str, fmt: str) -> None:
    """Retention per resolution: delete readings and rollups older than their policy (run `lake export` first)."""
    overrides: dict[str, int | None] = {}
    for item in keep:
        name, _, days = item.partition("=")
        if not days:
            raise click.BadParameter(f"{item!r}: expected RESOLUTION=DAYS, e.g. raw=400", param_hint="--keep")
        overrides[name.strip()] = None if days.strip() in ("forever", "none") else _int_option(days, "--keep")
    rows = _admin(db, "retention", keep=overrides or None, apply=apply)
    _print_rows(rows, ["table", "cutoff", "rows_deleted"], fmt)
    if not apply and fmt == "table":
        click.echo("(nothing deleted: add --apply)", err=True)


def _int_option(text: str, name: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a whole number of days", param_hint=name) from None


@cli.group()
def bench() -> None:
    """Benchmarks that need no test data of their own."""


@bench.command("telemetry")
@click.option(
    "--messages", default=40_000, show_default=True, type=click.IntRange(100), help="MQTT messages."
)
@click.option(
    "--points", default=50, show_default=True, type=click.IntRange(1, 500), help="Data points a message."
)
@click.option(
    "--rate",
    default=100_000,
    show_default=True,
    type=click.IntRange(1000),
    help="Data points/s of the paced run that measures latency.",
)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@user_errors
def bench_telemetry(messages: int, points: int, rate: int, fmt: str) -> None:
    """MQTT publish → stored and queryable, beside mosquitto_sub on the same stream (starts its own Mosquitto)."""
    from parkbrain.telemetry.bench import run

    click.echo("Running: flat out (throughput), then paced (latency) …", err=True)
    flat = run(messages=messages, points=points)
    paced = run(
        messages=messages, points=points, rate=rate, reference=False
    )  # the broker serves ParkBrain alone
    if fmt == "json":
        click.echo(json.dumps({"flat_out": flat.as_dict(), "paced": paced.as_dict()}, indent=2))
        return
    click.echo("\n".join(["flat out:", *flat.lines(), f"paced at {rate:,} points/s:", *paced.lines()]))


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


# Commands of other modules attach to `cli` when imported.
from parkbrain import cli_air, cli_energy, cli_health, cli_operations  # noqa: E402,F401,I001
from parkbrain import cli_assistant, cli_evaluation, cli_policy  # noqa: E402,F401,I001


def main() -> None:
    cli(prog_name="parkbrain")


if __name__ == "__main__":  # pragma: no cover
    # `python -m parkbrain.cli`: run the group of the imported module, which the cli_* modules extend
    from parkbrain.cli import main as _main

    _main()
