"""The narrow interface every storage backend implements."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import pyarrow as pa

#: Rollup resolutions served to dashboards and the API, with their bucket width in seconds.
INTERVALS: dict[str, int] = {"15m": 900, "1h": 3600, "1d": 86400}

Params = Sequence[Any] | Mapping[str, Any] | None
#: One condition of a WHERE clause: SQL text and its parameters ("TRUE" adds nothing).
Predicate = tuple[str, list[Any]]


def where(*predicates: Predicate) -> tuple[str, list[Any]]:
    """AND predicates together into a WHERE clause (text starting with WHERE) and its parameters;
    each predicate is parenthesised, so one holding an OR keeps its meaning."""
    parts = [sql for sql, _ in predicates if sql != "TRUE"]
    params = [v for _, values in predicates for v in values]
    return ("WHERE " + " AND ".join(f"({p})" for p in parts) if parts else ""), params


def sql_string(value: str) -> str:
    """A SQL string literal (quotes doubled; DuckDB strings have no backslash escapes), for SQL that is
    shown to people or must be a constant; use parameters everywhere else."""
    return "'" + str(value).replace("'", "''") + "'"


def equal(*pairs: tuple[str, Any]) -> list[Predicate]:
    """``column = ?`` predicates for the (column, value) pairs whose value is given (not None)."""
    return [(f"{column} = ?", [value]) for column, value in pairs if value is not None]


def page(
    store: Any, select: str, predicates: Sequence[Predicate], order: str, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """A page of ``select`` under ``predicates`` in ``order``, and the total count of its rows."""
    clause, params = where(*predicates)
    base = f"{select} {clause}"
    total = store.query_rows(f"SELECT count(*) AS n FROM ({base})", params)[0]["n"]
    rows = store.query_rows(f"{base} ORDER BY {order} LIMIT ? OFFSET ?", [*params, limit, offset])
    return rows, total


@dataclass(frozen=True)
class WriteResult:
    """What a write did: rows stored and rows skipped because they were already there.

    ``conflicts`` counts skipped readings whose stored value differs (the stored one is kept);
    ``conflict_samples`` shows the first of them.
    """

    inserted: int
    duplicates: int = 0
    conflicts: int = 0
    conflict_samples: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class CsvReadings:
    """A long-form readings CSV that a store may load natively: the bulk path of an import.

    Columns are numbered from 0; times are naive (in ``timezone``) in the strict strptime layout
    ``ts_format``, so that a row with an offset or another layout fails the load instead of being read
    wrongly. A store that cannot load it, or finds anything it would have to
    decide row by row (an unparsable cell, an unknown point, a duplicate, a reading already stored),
    raises ``BulkRefused`` having changed nothing, and the import goes the careful way.
    """

    path: str
    delimiter: str
    header_row: int
    width: int
    point_col: int
    ts_col: int
    value_col: int
    ts_format: str
    timezone: str


class BulkRefused(Exception):
    """A bulk load declined a file; nothing was written (the caller falls back to the row-level path)."""


class FoldBusy(Exception):
    """A ``transaction(fold_optional=True)`` needed to fold the staged rollups while a concurrent fold
    held the fold lock; it was rolled back: run it again in a plain ``transaction()``."""


@runtime_checkable
class Store(Protocol):
    """Tables of the park data model, readings and their rollups.

    One process owns a store for writing, and every write goes through it (the single writer).
    """

    path: str | None

    def query(self, sql: str, params: Params = None) -> pa.Table:
        """Run a trusted query written by ParkBrain itself and return its rows."""

    def query_readonly(self, sql: str, limit: int | None = None) -> pa.Table:
        """Run a user's query after checking that it is one read-only SELECT."""

    def write(self, table: str, data: Any, mode: str = "upsert") -> WriteResult:
        """Write rows into a table of the model: ``append``, ``upsert`` (on the key) or ``replace``."""

    def write_readings(self, data: Any, rollups: bool = True) -> WriteResult:
        """Store readings, skipping any (point_id, ts) already stored, and refresh rollups."""

    def rebuild_rollups(self) -> None:
        """Recompute every rollup and the latest values from raw readings."""

    def readings(self, point_id: str, start: datetime, end: datetime, interval: str) -> pa.Table:
        """Readings of a point between ``start`` (inclusive) and ``end`` (exclusive) at a rollup resolution."""

    def schema_version(self) -> int:
        """The number of the last migration applied."""

    def table_names(self) -> list[str]:
        """The tables in the store."""

    def close(self) -> None:
        """Release the database."""
