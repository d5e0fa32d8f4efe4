"""Raw readings as a Parquet lake, partitioned Hive-style by park and month.

The layout, which DuckDB, ``pyarrow.dataset`` and Apache Spark all read as one table (Spark with
``spark.sql.sources.partitionColumnTypeInference.enabled=false``, so that park ids stay text)::

    out_dir/
      readings/park_id=<id>/month=YYYY-MM/data_0.parquet   point_id, ts, value, device_id, quantity
      points.parquet, devices.parquet                      the dimension tables, all rows
      _manifest.json                                       what the lake holds, and its schema

Months follow the park calendar (Asia/Shanghai, UTC+8): a reading at 2026-10-31T17:00Z is in
``month=2026-11``. A partition is the unit of export, so the time window is widened to whole
months. Each partition is written to a temporary folder inside ``out_dir`` and then moved into
place, replacing the folder there: exporting a month again never duplicates rows, and a crash
never leaves half a partition. Partitions for which the database has no readings are left alone,
so the lake keeps the months that retention (``parkbrain.store.retention``) has since deleted —
run the export before retention.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import unquote

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from parkbrain.errors import InvalidInput, NotFound
from parkbrain.model.timeutil import CST, PARK_TZ
from parkbrain.store.duckdb import DuckDBStore

#: The columns of every readings file (park_id and month live in the folder names).
READINGS_SCHEMA = pa.schema(
    [
        ("point_id", pa.string()),
        ("ts", pa.timestamp("us", tz="UTC")),
        ("value", pa.float64()),
        ("device_id", pa.string()),
        ("quantity", pa.string()),
    ]
)
MANIFEST = "_manifest.json"
DIMENSIONS = {"points": "point_id", "devices": "device_id"}
_UTC_TO_PARK_US = int(CST.utcoffset(None).total_seconds()) * 1_000_000
_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
_READINGS_FROM = "readings r JOIN points p USING (point_id) JOIN devices d USING (device_id)"

Progress = Callable[[str], None]


class LakePartition(NamedTuple):
    """One ``park_id=…/month=…`` folder of the lake."""

    park_id: str
    month: str
    rows: int
    path: Path


@dataclass(frozen=True)
class LakeExport:
    """What one export wrote: its partitions (replaced or new), their rows and the time taken."""

    out_dir: Path
    partitions: list[LakePartition]
    rows: int
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-able values, for the CLI and the API."""
        return {
            "out_dir": str(self.out_dir),
            "partitions": [p._asdict() | {"path": str(p.path)} for p in self.partitions],
            "rows": self.rows,
            "seconds": round(self.seconds, 3),
        }


def export_lake(
    store: DuckDBStore,
    out_dir: str | Path,
    park_id: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    progress: Progress | None = None,
) -> LakeExport:
    """Write the readings of ``park_id`` (all parks when None) from ``start`` (inclusive) to ``end``
    (exclusive), widened to whole Asia/Shanghai months, into the lake at ``out_dir``.

    Naive datetimes are park time (Asia/Shanghai), as everywhere in ParkBrain.
    """
    began = time.perf_counter()
    say = progress or (lambda _text: None)
    out = _prepare_out_dir(out_dir)
    lo, hi = export_window(start, end)
    with _snapshot(store) as cur:
        _check_park(cur, park_id)
        wanted = _list_partitions(cur, park_id, lo, hi)
        tmp = Path(tempfile.mkdtemp(prefix=".lake-tmp-", dir=out))
        try:
            written = [_copy_partition(cur, tmp, park, month, say) for park, month in wanted]
            for table in DIMENSIONS:
                _copy_dimension(cur, tmp, table)
            _move_into_place(tmp, out, written)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    partitions = [p._replace(path=out / p.path) for p in written]
    _write_manifest(out, park_id, lo, hi, partitions)
    rows = sum(p.rows for p in partitions)
    return LakeExport(out, partitions, rows, time.perf_counter() - began)


def lake_partitions(out_dir: str | Path) -> list[LakePartition]:
    """Every partition in the lake at ``out_dir``, its rows counted from the Parquet footers."""
    found = []
    for folder in sorted(Path(out_dir).glob("readings/park_id=*/month=*")):
        rows = sum(pq.read_metadata(f).num_rows for f in folder.glob("*.parquet"))
        park = unquote(folder.parent.name.removeprefix("park_id="))
        found.append(LakePartition(park, folder.name.removeprefix("month="), rows, folder))
    return found


# -- months of the park calendar ----------------------------------------------------------------


def month_start(ts: datetime) -> datetime:
    """The start (in UTC) of the Asia/Shanghai month that ``ts`` falls in; naive ``ts`` is park time."""
    local = _as_utc(ts).astimezone(CST)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0).astimezone(timezone.utc)


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """The UTC instants where Asia/Shanghai month ``YYYY-MM`` starts (inclusive) and ends (exclusive)."""
    year, number = (int(part) for part in month.split("-"))
    after = (year + 1, 1) if number == 12 else (year, number + 1)
    lo = datetime(year, number, 1, tzinfo=CST).astimezone(timezone.utc)
    return lo, datetime(*after, 1, tzinfo=CST).astimezone(timezone.utc)


def export_window(start: datetime | None, end: datetime | None) -> tuple[datetime | None, datetime | None]:
    """``start`` and ``end`` widened to whole months (None stays open-ended)."""
    lo = month_start(start) if start is not None else None
    hi = None
    if end is not None:
        hi = month_start(end)
        if hi < _as_utc(end):
            hi = month_bounds(_month_name(hi))[1]
    if lo is not None and hi is not None and lo >= hi:
        raise InvalidInput(f"lake export: start {start} must be before end {end}")
    return lo, hi


def _as_utc(ts: datetime) -> datetime:
    return (ts if ts.tzinfo else ts.replace(tzinfo=PARK_TZ)).astimezone(timezone.utc)


def _month_name(utc: datetime) -> str:
    return utc.astimezone(CST).strftime("%Y-%m")


# -- reading the database -----------------------------------------------------------------------


@contextmanager
def _snapshot(store: DuckDBStore) -> Iterator[duckdb.DuckDBPyConnection]:
    """A cursor whose queries all see one state of the database (imports may go on meanwhile)."""
    cur = store.cursor()
    try:
        cur.execute("BEGIN TRANSACTION")
    except duckdb.TransactionException:  # the writer's own connection, already in a transaction
        yield cur
        return
    try:
        cur.execute("SET enable_progress_bar = false")
        yield cur
    finally:
        cur.execute("ROLLBACK")
        cur.close()


def _check_park(cur: duckdb.DuckDBPyConnection, park_id: str | None) -> None:
    if park_id is not None and not cur.execute("SELECT 1 FROM parks WHERE park_id = ?", [park_id]).fetchone():
        raise NotFound(f"lake export: there is no park {park_id!r}")


def _filters(park_id: str | None, lo: datetime | None, hi: datetime | None) -> tuple[str, list[Any]]:
    """A WHERE clause over ``_READINGS_FROM`` (only the conditions given, for filter push-down)."""
    clauses = ["true"]
    params: list[Any] = []
    for condition, value in (("d.park_id = ?", park_id), ("r.ts >= ?", lo), ("r.ts < ?", hi)):
        if value is not None:
            clauses.append(condition)
            params.append(value)
    return " AND ".join(clauses), params


def _list_partitions(
    cur: duckdb.DuckDBPyConnection, park_id: str | None, lo: datetime | None, hi: datetime | None
) -> list[tuple[str, str]]:
    """The (park, month) pairs that have readings in the window."""
    where, params = _filters(park_id, lo, hi)
    month = f"strftime(make_timestamp(epoch_us(r.ts) + {_UTC_TO_PARK_US}), '%Y-%m')"
    rows = cur.execute(
        f"SELECT DISTINCT d.park_id, {month} FROM {_READINGS_FROM} WHERE {where} ORDER BY 1, 2", params
    ).fetchall()
    return [(park, name) for park, name in rows]


# -- writing the lake ---------------------------------------------------------------------------


def _prepare_out_dir(out_dir: str | Path) -> Path:
    out = Path(out_dir).expanduser().resolve()
    if out.exists() and not out.is_dir():
        raise InvalidInput(f"lake export: {out} is a file; give a folder")
    out.mkdir(parents=True, exist_ok=True)
    return out


def partition_folder(park_id: str, month: str) -> Path:
    """The folder of a partition, relative to the lake (ASCII punctuation %-escaped, as Hive does)."""
    escaped = "".join(c if c in _SAFE or not c.isascii() else f"%{ord(c):02X}" for c in park_id)
    return Path("readings", f"park_id={escaped}", f"month={month}")


def _copy_partition(
    cur: duckdb.DuckDBPyConnection, tmp: Path, park_id: str, month: str, say: Progress
) -> LakePartition:
    """Write one partition, sorted by point and time, under ``tmp``; returns it with a relative path."""
    folder = partition_folder(park_id, month)
    (tmp / folder).mkdir(parents=True)
    where, params = _filters(park_id, *month_bounds(month))
    target = _sql_text(str(tmp / folder / "data_0.parquet"))
    rows = cur.execute(
        "COPY (SELECT r.point_id, r.ts, r.value, p.device_id, p.quantity "
        f"FROM {_READINGS_FROM} WHERE {where} ORDER BY r.point_id, r.ts) "
        f"TO {target} (FORMAT PARQUET, COMPRESSION ZSTD)",
        params,
    ).fetchone()[0]
    say(f"{park_id} {month}: {rows} readings")
    return LakePartition(park_id, month, rows, folder)


def _copy_dimension(cur: duckdb.DuckDBPyConnection, tmp: Path, table: str) -> None:
    target = _sql_text(str(tmp / f"{table}.parquet"))
    cur.execute(
        f'COPY (SELECT * FROM "{table}" ORDER BY {DIMENSIONS[table]}) TO {target} '
        "(FORMAT PARQUET, COMPRESSION ZSTD)"
    )


def _move_into_place(tmp: Path, out: Path, written: list[LakePartition]) -> None:
    """Swap each new partition folder in for the old one, then the dimension files."""
    replaced = tmp / "replaced"
    replaced.mkdir()
    for number, part in enumerate(written):
        target = out / part.path
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            target.rename(replaced / str(number))
        (tmp / part.path).rename(target)
    for table in DIMENSIONS:
        (tmp / f"{table}.parquet").replace(out / f"{table}.parquet")


def _write_manifest(
    out: Path,
    park_id: str | None,
    lo: datetime | None,
    hi: datetime | None,
    written: list[LakePartition],
) -> None:
    """``_manifest.json``: this export, every partition of the lake and the schema (written atomically)."""
    everything = lake_partitions(out)
    manifest = {
        "format": "parkbrain-lake/1",
        "exported_at": datetime.now(timezone.utc).isoformat(),
        "timezone": "Asia/Shanghai",
        "export": {
            "park_id": park_id,
            "start": lo.isoformat() if lo else None,
            "end": hi.isoformat() if hi else None,
            "months": sorted({p.month for p in written}),
            "rows": sum(p.rows for p in written),
        },
        "rows": sum(p.rows for p in everything),
        "partitions": [
            {
                "park_id": p.park_id,
                "month": p.month,
                "rows": p.rows,
                "path": p.path.relative_to(out).as_posix(),
            }
            for p in everything
        ],
        "schema": _schema(out),
    }
    staged = out / f".{MANIFEST}.tmp"
    staged.write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    staged.replace(out / MANIFEST)


def _schema(out: Path) -> dict[str, dict[str, str]]:
    schema = {"readings": {f.name: str(f.type) for f in READINGS_SCHEMA}}
    schema["readings_partitions"] = {"park_id": "string", "month": "string (YYYY-MM, Asia/Shanghai)"}
    for table in DIMENSIONS:
        schema[table] = {f.name: str(f.type) for f in pq.read_schema(out / f"{table}.parquet")}
    return schema


def _sql_text(text: str) -> str:
    """``text`` as a SQL string literal (COPY takes no parameter for its target)."""
    return "'" + text.replace("'", "''") + "'"
