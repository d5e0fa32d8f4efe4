"""``Park``: the one object the CLI, the API server and the tests all build."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

from parkbrain.errors import InvalidInput, NotFound, QueryError
from parkbrain.model.tables import CANONICAL_TABLES
from parkbrain.store.base import INTERVALS, WriteResult
from parkbrain.store.duckdb import DuckDBStore

DEFAULT_DB = "parkbrain.duckdb"
_JSON_COLUMNS = {"short_names", "leading_industries"}


@dataclass(frozen=True)
class Readings:
    """Rolled-up readings of a point over a window, and how they were chosen."""

    point: dict[str, Any]
    interval: str
    start: datetime
    end: datetime
    table: pa.Table


@dataclass(frozen=True)
class TableInfo:
    name: str
    rows: int


class Park:
    """A park data space: a province of parks, their enterprises, devices, points and readings.

    ``Park(memory=True)`` is an empty in-memory park (tests); ``Park.open(path)`` opens or creates
    a DuckDB file, upgrading its schema to this version.
    """

    def __init__(
        self, path: str | Path | None = None, *, memory: bool = False, read_only: bool = False
    ) -> None:
        if memory and path is not None:
            raise ValueError("give either a path or memory=True, not both")
        if not memory and path is None:
            raise ValueError("give a database path, or memory=True for an in-memory park")
        self.store = DuckDBStore(None if memory else path, read_only=read_only)

    @classmethod
    def open(cls, path: str | Path = DEFAULT_DB, *, read_only: bool = False) -> Park:
        """Open (or create) the park database at ``path``."""
        return cls(path, read_only=read_only)

    @property
    def path(self) -> str | None:
        return self.store.path

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Park:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- overview -----------------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        """Rows per table, the time span of readings and the schema version."""
        tables = [TableInfo(name, self.store.count(name)) for name in self.store.table_names()]
        first, last = self.store.readings_span()
        size = Path(self.path).stat().st_size if self.path and Path(self.path).exists() else None
        return {
            "path": self.path or ":memory:",
            "schema_version": self.store.schema_version(),
            "size_bytes": size,
            "tables": {t.name: t.rows for t in tables},
            "readings_first_ts": first.isoformat() if first else None,
            "readings_last_ts": last.isoformat() if last else None,
        }

    def sql(self, query: str, limit: int | None = None) -> pa.Table:
        """Run a read-only SELECT over the park tables (refused otherwise)."""
        return self.store.query_readonly(query, limit=limit)

    # -- entities -----------------------------------------------------------------------------

    def regions(self, level: str | None = None, geometry: bool = False) -> list[dict[str, Any]]:
        cols = "region_code, name, name_en, level, parent_code, area_km2" + (", geometry" if geometry else "")
        where, params = ("WHERE level = ?", [level]) if level else ("", [])
        rows = self.store.query_rows(f"SELECT {cols} FROM regions {where} ORDER BY region_code", params)
        return [_decode(r) for r in rows]

    def parks(self, region_code: str | None = None, boundary: bool = False) -> list[dict[str, Any]]:
        cols = _park_columns(boundary)
        where, params = ("WHERE p.region_code = ?", [region_code]) if region_code else ("", [])
        rows = self.store.query_rows(
            f"SELECT {cols}, (SELECT count(*) FROM enterprises e WHERE e.park_id = p.park_id) AS enterprises "
            f"FROM parks p {where} ORDER BY p.region_code, p.park_id",
            params,
        )
        return [_decode(r) for r in rows]

    def park(self, park_id: str) -> dict[str, Any]:
        rows = self.store.query_rows(
            f"""SELECT {_park_columns(True)},
                (SELECT name FROM regions r WHERE r.region_code = p.region_code) AS region_name,
                (SELECT count(*) FROM enterprises e WHERE e.park_id = p.park_id) AS enterprises,
                (SELECT count(*) FROM buildings b WHERE b.park_id = p.park_id) AS buildings,
                (SELECT count(*) FROM devices d WHERE d.park_id = p.park_id) AS devices,
                (SELECT count(*) FROM alerts a WHERE a.park_id = p.park_id AND a.status <> 'closed') AS open_alerts
            FROM parks p WHERE p.park_id = ?""",
            [park_id],
        )
        if not rows:
            raise NotFound(f"no park with park_id {park_id!r}")
        return _decode(rows[0])

    def enterprises(
        self, park_id: str | None = None, limit: int = 100, offset: int = 0
    ) -> tuple[list[dict[str, Any]], int]:
        """A page of enterprises (optionally of one park) and the total count."""
        if park_id is not None:
            self.park(park_id)  # raises NotFound
        where, params = ("WHERE park_id = ?", [park_id]) if park_id else ("", [])
        total = self.store.query_rows(f"SELECT count(*) AS n FROM enterprises {where}", params)[0]["n"]
        rows = self.store.query_rows(
            f"SELECT * FROM enterprises {where} ORDER BY park_id, enterprise_id LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return rows, total

    def point(self, point_id: str) -> dict[str, Any]:
        rows = self.store.query_rows(
            "SELECT p.*, d.park_id, d.enterprise_id, d.kind AS device_kind FROM points p "
            "JOIN devices d USING (device_id) WHERE p.point_id = ?",
            [point_id],
        )
        if not rows:
            raise NotFound(f"no point with point_id {point_id!r}")
        return rows[0]

    # -- readings -----------------------------------------------------------------------------

    def readings(
        self,
        point_id: str,
        start: datetime | None = None,
        end: datetime | None = None,
        interval: str = "auto",
    ) -> Readings:
        """Rolled-up readings of a point: rows of ts, value (mean), min, max, n, last, delta.

        ``end`` defaults to just after the point's latest reading and ``start`` to 7 days before
        ``end``; ``interval='auto'`` picks 15m up to 2 days, 1h up to 31 days, else 1d.
        """
        point = self.point(point_id)  # raises NotFound
        if end is None:
            latest = self.store.query_rows("SELECT ts FROM latest_readings WHERE point_id = ?", [point_id])
            end = (latest[0]["ts"] if latest else datetime.now().astimezone()) + timedelta(seconds=1)
        if start is None:
            start = end - timedelta(days=7)
        if start >= end:
            raise InvalidInput(f"start ({start.isoformat()}) must be before end ({end.isoformat()})")
        if interval == "auto":
            span = end - start
            interval = "15m" if span <= timedelta(days=2) else "1h" if span <= timedelta(days=31) else "1d"
        if interval not in INTERVALS:
            raise QueryError(f"interval must be auto or one of {', '.join(INTERVALS)}; got {interval!r}")
        return Readings(point, interval, start, end, self.store.readings(point_id, start, end, interval))

    def write_readings(self, data: Any) -> WriteResult:
        """Store readings (point_id, ts, value); already stored (point_id, ts) pairs are skipped."""
        return self.store.write_readings(data)

    def canonical_tables(self) -> list[str]:
        return [spec.name for spec in CANONICAL_TABLES]


def _park_columns(boundary: bool) -> str:
    cols = [
        "park_id",
        "name",
        "name_en",
        "short_names",
        "region_code",
        "level",
        "kind",
        "approved_area_ha",
        "approval_year",
        "leading_industries",
        "lon",
        "lat",
        "data_source",
    ]
    if boundary:
        cols.append("boundary")
    return ", ".join(f"p.{c}" for c in cols)


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    """Turn JSON text columns into values for the API and Python callers."""
    out = dict(row)
    for key in ("geometry", "boundary", "footprint", *_JSON_COLUMNS):
        if isinstance(out.get(key), str):
            out[key] = json.loads(out[key])
    return out
