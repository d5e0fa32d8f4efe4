"""The DuckDB backend: one file, zero set-up, the embedded default.

Concurrency: DuckDB lets one process open a file for writing. Inside that process, reads run on
their own cursors (safe across threads) and every write goes through one lock — the single writer.
"""

from __future__ import annotations

import re
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from parkbrain.errors import DatabaseLocked, InvalidInput, NotFound, QueryError, SchemaError, StoreError
from parkbrain.store.base import INTERVALS, BulkRefused, CsvReadings, FoldBusy, Params, WriteResult
from parkbrain.store.sqlguard import check_readonly_select

#: Day buckets follow the park's calendar: Asia/Shanghai midnight (UTC+8, no daylight saving).
DAY_ORIGIN = "TIMESTAMPTZ '2000-01-01 00:00:00+08'"
#: Time zones without daylight saving since 1992, as fixed offsets (faster than a zone lookup per row).
FIXED_OFFSET_HOURS = {
    "Asia/Shanghai": 8,
    "Asia/Chongqing": 8,
    "Asia/Hong_Kong": 8,
    "Asia/Taipei": 8,
    "Asia/Seoul": 9,
    "Asia/Tokyo": 9,
    "UTC": 0,
    "Etc/UTC": 0,
}
#: How far back the rollup refresh looks for the reading before the first new one.
ROLLUPS_MIGRATION = 2
_MIGRATION_RE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) of every migration shipped with the package, in order."""
    found = []
    for entry in resources.files("parkbrain.store.migrations").iterdir():
        match = _MIGRATION_RE.match(entry.name)
        if match:
            found.append((int(match.group(1)), match.group(2), entry.read_text(encoding="utf-8")))
    return sorted(found)


class DuckDBStore:
    """A park database in a DuckDB file (or in memory when ``path`` is None)."""

    def __init__(self, path: str | Path | None = None, read_only: bool = False, migrate: bool = True) -> None:
        self.path = str(path) if path is not None else None
        self.read_only = read_only
        self._write_lock = threading.RLock()
        self._fold_lock = threading.Lock()  # one fold of the staged rollups at a time (see transaction)
        self._tx_depth = 0
        self._tx_thread: int | None = None
        self._con = self._connect()
        try:
            if migrate and not read_only:
                self.migrate()
                if "rollups_pending" in self.table_names() and self.count("rollups_pending"):
                    self.refresh_pending_rollups()  # a bulk import stopped before its rollups
                self.fold_rollups()  # a live stream stopped before its hours and days were folded
            else:
                self._check_not_newer()
        except BaseException:
            self._con.close()
            raise

    # -- connection -------------------------------------------------------------------------

    def _connect(self) -> duckdb.DuckDBPyConnection:
        target = self.path or ":memory:"
        if self.path and self.read_only and not Path(self.path).exists():
            raise NotFound(f"no database at {self.path}; build one with `parkbrain demo --db {self.path}`")
        try:
            con = duckdb.connect(target, read_only=self.read_only)
        except duckdb.IOException as exc:
            text = str(exc)
            if "lock" in text.lower():
                raise DatabaseLocked(
                    f"the database {self.path} is in use by another process "
                    "(is `parkbrain serve` running on it?)"
                ) from None
            raise StoreError(f"cannot open the database {target}: {text}") from None
        except duckdb.Error as exc:
            raise StoreError(f"cannot open the database {target}: {exc}") from None
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET python_enable_replacements = false")  # no reading Python variables by name
        return con

    @property
    def write_lock(self) -> threading.RLock:
        """The single writer's lock (re-entrant), for work that must follow a commit in order."""
        return self._write_lock

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor for one thread's reads; inside the writer's transaction, its own connection
        (so that the writer reads what it has written but not yet committed)."""
        if self._tx_depth and self._tx_thread == threading.get_ident():
            return self._con
        return self._con.cursor()

    def close(self) -> None:
        with self._write_lock:
            self._con.close()

    @contextmanager
    def transaction(self, fold_optional: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """The writer's connection inside a transaction: all of it is stored, or none.

        Nested use (a ``write`` inside an import's transaction) joins the outer transaction.
        A transaction holds the fold lock (``fold_rollups(concurrent=True)`` runs on its own
        connection beside the writer), taken before it begins so that it sees any fold committed;
        with ``fold_optional`` (a live batch, which only stages hours and days) it goes ahead while a
        fold runs, and raises ``FoldBusy`` — rolled back — if it turns out to need to fold after all.
        """
        if self.read_only:
            raise StoreError(f"the database {self.path} is open read-only")
        with self._write_lock:
            con = self._con
            if self._tx_depth:  # inside the writer's open transaction: part of it
                self._tx_depth += 1
                try:
                    yield con
                finally:
                    self._tx_depth -= 1
                return
            held = self._fold_lock.acquire(blocking=not fold_optional)
            _FOLD.held = held
            con.execute("BEGIN TRANSACTION")
            self._tx_depth, self._tx_thread = 1, threading.get_ident()
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                con.execute("RESET preserve_insertion_order")  # a bulk load may have stopped with it off
                raise
            else:
                con.execute("COMMIT")
            finally:
                self._tx_depth = 0
                _FOLD.held = True
                if held:
                    self._fold_lock.release()

    # -- migrations -------------------------------------------------------------------------

    def schema_version(self) -> int:
        cur = self.cursor()
        exists = cur.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'"
        ).fetchone()[0]
        if not exists:
            return 0
        return cur.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()[0]

    def _check_not_newer(self) -> None:
        known = migrations()[-1][0]
        current = self.schema_version()
        if current > known:
            raise SchemaError(
                f"the database {self.path} has schema version {current}, newer than this "
                f"ParkBrain knows ({known}); upgrade ParkBrain"
            )

    def migrate(self, upto: int | None = None) -> list[int]:
        """Apply the migrations not yet applied (up to ``upto``); returns the versions applied."""
        self._check_not_newer()
        with self._write_lock:
            self._con.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                "version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, "
                "applied_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)"
            )
            current = self.schema_version()
            applied = []
            for version, name, sql in migrations():
                if version <= current or (upto is not None and version > upto):
                    continue
                with self.transaction() as con:
                    con.execute(sql)
                    con.execute(
                        "INSERT INTO schema_migrations (version, name) VALUES (?, ?)", [version, name]
                    )
                applied.append(version)
            if ROLLUPS_MIGRATION in applied and self.count("readings"):
                self.rebuild_rollups()  # readings stored before rollups existed
            return applied

    # -- reading ----------------------------------------------------------------------------

    def query(self, sql: str, params: Params = None) -> pa.Table:
        try:
            return _arrow(self.cursor().sql(sql, params=params))
        except duckdb.Error as exc:
            raise QueryError(_clean(exc)) from None

    def query_rows(self, sql: str, params: Params = None) -> list[dict[str, Any]]:
        return self.query(sql, params).to_pylist()

    def query_readonly(self, sql: str, limit: int | None = None) -> pa.Table:
        cur = self.cursor()
        check_readonly_select(cur, sql)
        try:
            result = cur.execute(sql)  # executes the text as given: trailing ';' and comments are fine
            return _first_rows(result, int(limit) if limit is not None else 2**62)
        except duckdb.Error as exc:
            raise QueryError(_clean(exc)) from None

    def table_names(self) -> list[str]:
        rows = (
            self.cursor()
            .execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1"
            )
            .fetchall()
        )
        return [r[0] for r in rows]

    def columns(self, table: str) -> dict[str, str]:
        rows = (
            self.cursor()
            .execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'main' AND table_name = ? ORDER BY ordinal_position",
                [table],
            )
            .fetchall()
        )
        return dict(rows)

    def count(self, table: str) -> int:
        _check_ident(table)
        return self.cursor().execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]

    def readings(self, point_id: str, start: datetime, end: datetime, interval: str) -> pa.Table:
        if interval not in INTERVALS:
            raise QueryError(f"interval must be one of {', '.join(INTERVALS)}; got {interval!r}")
        return self.query(
            f"SELECT bucket AS ts, sum / n AS value, min, max, n, last, delta "
            f"FROM readings_{interval} WHERE point_id = ? AND bucket >= ? AND bucket < ? ORDER BY bucket",
            [point_id, start, end],
        )

    def readings_span(self) -> tuple[datetime | None, datetime | None]:
        return self.cursor().execute("SELECT min(ts), max(ts) FROM readings").fetchone()

    # -- writing ----------------------------------------------------------------------------

    def write(self, table: str, data: Any, mode: str = "upsert") -> WriteResult:
        """Write rows (Arrow table, pandas DataFrame or list of dicts) into ``table``.

        ``inserted`` counts the rows written (new or replacing a row with the same key). Rows of a
        list that leave out a column get its default, as if written alone.
        """
        if mode not in ("append", "upsert", "replace"):
            raise ValueError(f"mode must be append, upsert or replace; got {mode!r}")
        parts = _to_arrow_parts(data)
        columns = self.columns(table)
        if not columns:
            raise InvalidInput(f"there is no table {table!r}")
        for arrow in parts:
            unknown = [c for c in arrow.column_names if c not in columns]
            if unknown:
                raise InvalidInput(
                    f"table {table}: unknown column(s) {', '.join(unknown)}; expected some of {', '.join(columns)}"
                )
        verb = "INSERT OR REPLACE" if mode == "upsert" else "INSERT"
        with self.transaction() as con:
            if mode == "replace":
                con.execute(f'DELETE FROM "{table}"')
            for arrow in parts:
                names = ", ".join(f'"{c}"' for c in arrow.column_names)
                con.register("_incoming", arrow)
                try:
                    con.execute(f'{verb} INTO "{table}" ({names}) SELECT {names} FROM _incoming')
                except (duckdb.ConstraintException, duckdb.ConversionException) as exc:
                    raise InvalidInput(f"table {table}: {_clean(exc)}") from None
                finally:
                    _unregister(con, "_incoming")
        return WriteResult(sum(a.num_rows for a in parts))

    def write_readings(
        self, data: Any, rollups: bool = True, import_id: str | None = None, stage_coarse: bool = False
    ) -> WriteResult:
        """Store readings, skipping (point_id, ts) pairs already stored; rollups refreshed in the same
        transaction. ``stage_coarse`` (a live stream's writer): hours and days of in-order data are
        staged for ``fold_rollups`` instead of merged now; 15-minute rows and latest values are current."""
        arrow = _readings_arrow(data)
        if arrow.num_rows == 0:
            return WriteResult(0)
        with self.transaction() as con:
            con.register("_batch_raw", arrow)
            try:
                _check_points_known(con)
                con.execute(
                    "CREATE OR REPLACE TEMP TABLE _batch AS "
                    "SELECT point_id, ts, arg_min(value, rn) AS value FROM "
                    "(SELECT *, row_number() OVER () AS rn FROM _batch_raw) GROUP BY point_id, ts"
                )
                con.execute(
                    "CREATE OR REPLACE TEMP TABLE _existing AS SELECT r.point_id, r.ts, r.value FROM readings r "
                    "WHERE r.point_id IN (SELECT DISTINCT point_id FROM _batch) "
                    "AND r.ts BETWEEN (SELECT min(ts) FROM _batch) AND (SELECT max(ts) FROM _batch)"
                )
                con.execute(
                    "CREATE OR REPLACE TEMP TABLE _new AS SELECT b.* FROM _batch b "
                    "ANTI JOIN _existing e ON b.point_id = e.point_id AND b.ts = e.ts"
                )
                conflicts = _conflicts(con)
                con.execute("DROP TABLE IF EXISTS _existing")
                inserted = con.execute("SELECT count(*) FROM _new").fetchone()[0]
                if import_id is None:  # a live batch: about one reading a point, nothing to gain by sorting
                    con.execute("INSERT INTO readings (point_id, ts, value) SELECT * FROM _new")
                else:
                    con.execute(
                        "INSERT INTO readings (point_id, ts, value, import_id) "
                        "SELECT point_id, ts, value, ? FROM _new ORDER BY point_id, ts",
                        [import_id],
                    )
                if inserted and rollups:
                    _refresh_rollups(con, stage_coarse)
                con.execute("DROP TABLE IF EXISTS _new")
                con.execute("DROP TABLE IF EXISTS _batch")
            finally:
                _unregister(con, "_batch_raw")
        return WriteResult(inserted, arrow.num_rows - inserted, *conflicts)

    def load_readings_csv(self, spec: CsvReadings, import_id: int) -> WriteResult:
        """Bulk-load a long-form readings CSV inside the caller's transaction, or raise ``BulkRefused``.

        One pass of DuckDB's CSV reader straight into ``readings``; then set-wise checks on the new
        rows (known points, finite values, no duplicate in the file, nothing already stored in their
        span). Rollups are queued in ``rollups_pending`` for ``refresh_pending_rollups``.
        """
        types = {i: "VARCHAR" for i in range(spec.width)} | {
            spec.ts_col: "TIMESTAMP",
            spec.value_col: "DOUBLE",
        }
        columns = "{" + ", ".join(f"'c{i}': '{t}'" for i, t in types.items()) + "}"
        hours = FIXED_OFFSET_HOURS.get(spec.timezone)
        ts = f"c{spec.ts_col}"
        ts = f"({ts} - INTERVAL {hours} HOUR)::TIMESTAMPTZ" if hours is not None else f"timezone(?, {ts})"
        params = [spec.timezone] if hours is None else []
        with self.transaction() as con:
            con.execute("SET preserve_insertion_order = false")  # file order is not needed: 2x faster
            try:
                con.execute(
                    f"INSERT INTO readings (point_id, ts, value, import_id) "
                    f"SELECT c{spec.point_col}, {ts}, c{spec.value_col}, ? FROM read_csv(?, header = false, "
                    f"skip = ?, delim = ?, quote = '\"', escape = '\"', columns = {columns}, auto_detect = false, "
                    "strict_mode = true, timestampformat = ?)",
                    [*params, import_id, spec.path, spec.header_row, spec.delimiter, spec.ts_format],
                )
            except duckdb.Error as exc:
                raise BulkRefused(_clean(exc)) from None
            con.execute("RESET preserve_insertion_order")
            return _check_bulk(con, import_id)

    def set_checkpoint_threshold(self, size: str | None) -> None:
        """DuckDB's WAL size that triggers an automatic checkpoint at a commit (None: its default).
        A live stream raises it (``telemetry.pipeline.CHECKPOINT_THRESHOLD``): each checkpoint then
        writes the row groups that many batches updated (15-minute rows, latest values) once."""
        if self.read_only:
            return
        if size is None:
            self._con.execute("RESET checkpoint_threshold")
        elif not re.fullmatch(r"\d+\s*[KMG]i?B", size):
            raise InvalidInput(f"checkpoint threshold {size!r}: expected a size such as 64MB")
        else:
            self._con.execute(f"SET checkpoint_threshold = '{size}'")

    def fold_rollups(self, concurrent: bool = False) -> int:
        """Fold the staged hours and days of a live stream (``write_readings(stage_coarse=True)``) into
        ``readings_1h`` and ``readings_1d``; returns the number of staged rows folded.

        ``concurrent`` (the live writer's background fold): on a connection of its own, so that live
        batches keep committing meanwhile. It holds the fold lock: a batch that began before it
        commits only appends to the stage (rows its snapshot does not see, so it neither folds nor
        deletes them), and a transaction that folds waits for it (``transaction``).
        """
        if self.read_only:
            return 0
        if not concurrent:
            with self.transaction() as con:
                return _fold_staged(con)
        with self._fold_lock:
            cur = self._con.cursor()
            try:
                cur.execute("SET TimeZone = 'UTC'")
                cur.execute("BEGIN TRANSACTION")
                try:
                    folded = _fold_staged(cur)
                except BaseException:
                    cur.execute("ROLLBACK")
                    raise
                cur.execute("COMMIT")
                return folded
            finally:
                cur.close()

    def refresh_pending_rollups(self) -> int:
        """Roll up the readings queued by bulk loads; returns the number of points refreshed."""
        with self.transaction() as con:
            con.execute(
                "CREATE OR REPLACE TEMP TABLE _affected AS "
                "SELECT point_id, min(lo) AS lo FROM rollups_pending GROUP BY point_id"
            )
            points = _arrow(con.sql("SELECT count(*) AS n FROM _affected")).to_pylist()[0]["n"]
            if points:
                _compute_rollups(con, full=False)
                con.execute(
                    "INSERT OR REPLACE INTO latest_readings SELECT point_id, max(ts), arg_max(value, ts) "
                    "FROM readings WHERE point_id IN (SELECT point_id FROM _affected) GROUP BY point_id"
                )
                con.execute("DELETE FROM rollups_pending")
            con.execute("DROP TABLE IF EXISTS _affected")
        return points

    def rebuild_rollups(self) -> None:
        with self.transaction() as con:
            con.execute("DELETE FROM readings_15m; DELETE FROM readings_1h; DELETE FROM readings_1d;")
            if "rollups_staged" in self.table_names():
                con.execute("DELETE FROM rollups_staged; DELETE FROM rollups_staged_bridges;")
            con.execute("DELETE FROM latest_readings")
            con.execute(
                "CREATE OR REPLACE TEMP TABLE _affected AS SELECT NULL::TIMESTAMPTZ AS lo, point_id FROM points"
            )
            _compute_rollups(con, full=True)
            con.execute(
                "INSERT INTO latest_readings SELECT point_id, max(ts), arg_max(value, ts) FROM readings GROUP BY point_id"
            )

    def checkpoint(self) -> None:
        with self._write_lock:
            self._con.execute("CHECKPOINT")


# -- helpers ---------------------------------------------------------------------------------


#: Memory the exact duplicate check may use for its per-point bitmaps (bits), before it hashes instead.
BITMAP_BUDGET_BITS = 800_000_000


def _check_bulk(con: duckdb.DuckDBPyConnection, import_id: int) -> WriteResult:
    """The set-wise checks of a bulk load; queues its rollups. Raises ``BulkRefused``."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _spans AS SELECT point_id, min(ts) AS lo, max(ts) AS hi, count(*) AS n, "
        "bool_or(NOT isfinite(value)) AS odd, bool_and(epoch_us(ts) % 60000000 = 0) AS minutes, "
        "bool_and(epoch_us(ts) % 1000000 = 0) AS seconds FROM readings WHERE import_id = ? GROUP BY point_id",
        [import_id],
    )
    checks = {
        "an unknown point": "SELECT 1 FROM _spans WHERE point_id NOT IN (SELECT point_id FROM points) LIMIT 1",
        "a value that is not finite": "SELECT 1 FROM _spans WHERE odd LIMIT 1",
        "readings already stored": "SELECT 1 FROM readings r JOIN _spans s USING (point_id) "
        f"WHERE r.import_id IS DISTINCT FROM {int(import_id)} AND r.ts BETWEEN s.lo AND s.hi LIMIT 1",
        "a duplicate (point, time)": _duplicates_sql(con, int(import_id)),
    }
    for what, sql in checks.items():
        if _arrow(con.sql(sql)).num_rows:
            raise BulkRefused(f"the file has {what}")
    con.execute(
        f"""INSERT INTO rollups_pending SELECT s.point_id, time_bucket(INTERVAL 1 DAY, coalesce(
               (SELECT max(r.ts) FROM readings r WHERE r.point_id = s.point_id AND r.ts < s.lo), s.lo),
               {DAY_ORIGIN}) FROM _spans s"""
    )
    inserted = _arrow(con.sql("SELECT coalesce(sum(n), 0)::BIGINT AS n FROM _spans")).to_pylist()[0]["n"]
    con.execute("DROP TABLE _spans")
    return WriteResult(inserted)


def _duplicates_sql(con: duckdb.DuckDBPyConnection, import_id: int) -> str:
    """A query with a row when a (point, ts) of the load repeats.

    Exact either way: per point, a bitmap of its times (in whole minutes or seconds, when they all
    are) has as many bits set as distinct times — 4x faster than hashing ten million keys; when the
    bitmaps would be too large, distinct hashes are counted (a collision only costs a fallback).
    """
    span = _arrow(
        con.sql(
            "SELECT epoch_us(min(lo)) AS lo, epoch_us(max(hi)) AS hi, count(*) AS points, "
            "bool_and(minutes) AS minutes, bool_and(seconds) AS seconds FROM _spans"
        )
    ).to_pylist()[0]
    unit = 60_000_000 if span["minutes"] else 1_000_000 if span["seconds"] else None
    if span["points"] and unit:
        bits = (span["hi"] - span["lo"]) // unit + 1
        if bits * span["points"] <= BITMAP_BUDGET_BITS:
            slot = f"((epoch_us(ts) - {span['lo']}) // {unit})::BIGINT"
            return (
                f"SELECT 1 FROM (SELECT count(*) AS n, bit_count(bitstring_agg({slot}, 0, {bits - 1})) AS d "
                f"FROM readings WHERE import_id = {import_id} GROUP BY point_id) WHERE n <> d LIMIT 1"
            )
    return (
        "SELECT 1 FROM (SELECT count(*) - count(DISTINCT hash(point_id, ts)) AS d "
        f"FROM readings WHERE import_id = {import_id}) WHERE d > 0"
    )


def _conflicts(con: duckdb.DuckDBPyConnection, samples: int = 20) -> tuple[int, tuple[dict[str, Any], ...]]:
    """Readings of ``_batch`` already stored with another value: their count and the first few."""
    rows = _arrow(
        con.sql(
            "SELECT b.point_id, b.ts, e.value AS stored_value, b.value AS new_value, count(*) OVER () AS n "
            "FROM _batch b JOIN _existing e ON b.point_id = e.point_id AND b.ts = e.ts "
            f"WHERE b.value IS DISTINCT FROM e.value ORDER BY b.point_id, b.ts LIMIT {int(samples)}"
        )
    ).to_pylist()
    if not rows:
        return 0, ()
    count = rows[0]["n"]
    return count, tuple({k: v for k, v in r.items() if k != "n"} for r in rows)


def _refresh_rollups(con: duckdb.DuckDBPyConnection, stage_coarse: bool = False) -> None:
    """Bring the rollups up to date with the rows in ``_new`` (incremental, late data included).

    ``_pts`` summarises the batch per point (first and last new reading, the stored latest one).
    ``latest_readings`` is the authority on what is stored: a point without a latest value has no
    rolled-up readings (every write with rollups, a bulk load's refresh and a rebuild keep it so), so
    its first batch is in order too and takes the merge path without looking through history.
    In-order data (every new reading of a point after its latest stored one — a live stream) is
    merged into the 15-minute rows: counts, sums, extremes and last values add up, and the delta of
    the stored latest reading to the first new one is added to its bucket; hours and days are
    merged the same way, or staged for ``_fold_staged`` (``stage_coarse``). Points with late
    readings recompute from the 15-minute bucket of the reading before their first new one (deltas
    look forward to the next one). Staged rows are folded first unless this batch stages too and is
    all in order, so that merges always apply in time order.
    """
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _pts AS
        SELECT n.point_id, n.first_ts, n.first_value, n.last_ts, n.last_value,
               l.ts AS stored_ts, l.value AS stored_value, p.value_kind = 'cumulative' AS cumulative,
               l.ts IS NULL OR l.ts < n.first_ts AS in_order
        FROM (SELECT point_id, min(ts) AS first_ts, arg_min(value, ts) AS first_value,
                     max(ts) AS last_ts, arg_max(value, ts) AS last_value
              FROM _new GROUP BY point_id) n
        JOIN points p USING (point_id)
        LEFT JOIN latest_readings l USING (point_id)"""
    )
    late = con.execute(
        "SELECT count(*) FILTER (NOT in_order), count(*) FILTER (in_order) FROM _pts"
    ).fetchall()[0]
    if not stage_coarse:
        _fold_staged(con)
    if late[0]:
        con.execute(
            """CREATE OR REPLACE TEMP TABLE _affected AS
            SELECT f.point_id, time_bucket(INTERVAL 15 MINUTE, coalesce(
                       (SELECT max(r.ts) FROM readings r WHERE r.point_id = f.point_id AND r.ts < f.first_ts),
                       f.first_ts)) AS lo
            FROM _pts f WHERE NOT f.in_order"""
        )
        _compute_rollups(con, full=False)
        con.execute("DROP TABLE _affected")
    if late[1]:
        _merge_in_order(con, stage_coarse and not late[0])
    con.execute(
        "UPDATE latest_readings l SET ts = n.last_ts, value = n.last_value FROM _pts n "
        "WHERE l.point_id = n.point_id AND n.last_ts >= l.ts"
    )
    con.execute(
        "INSERT INTO latest_readings SELECT point_id, last_ts, last_value FROM _pts WHERE stored_ts IS NULL"
    )
    con.execute("DROP TABLE _pts")


_PAIR_DELTA = "CASE WHEN {nxt} IS NULL THEN NULL WHEN {nxt} >= {cur} THEN {nxt} - {cur} ELSE {nxt} END"


#: Rollup tables, their bucket width and the time_bucket origin of each (days: Asia/Shanghai).
_LEVELS = (
    ("readings_15m", "INTERVAL 15 MINUTE", ""),
    ("readings_1h", "INTERVAL 1 HOUR", ""),
    ("readings_1d", "INTERVAL 1 DAY", f", {DAY_ORIGIN}"),
)


def _bucket(table: str, expr: str) -> str:
    """The start of ``expr``'s bucket in a rollup table, by epoch arithmetic: the same instants as
    ``time_bucket`` (15 minutes and hours in UTC, days at Asia/Shanghai midnight, which has had no
    daylight saving since 1992) for times after 1970, at a fraction of its calendar arithmetic per row."""
    width, offset = _BUCKET_US[table]
    return f"make_timestamptz((epoch_us({expr}) + {offset}) // {width} * {width} - {offset})"


#: Width and offset in microseconds of each rollup table's buckets (see ``_bucket``).
_BUCKET_US = {
    "readings_15m": (900_000_000, 0),
    "readings_1h": (3_600_000_000, 0),
    "readings_1d": (86_400_000_000, 8 * 3_600_000_000),
}


def _merge_in_order(con: duckdb.DuckDBPyConnection, stage_coarse: bool = False) -> None:
    """Merge the new readings of the in-order points of ``_pts`` into their 15-minute, hourly and
    daily rows.

    Every row touched is in or after the bucket of the earliest stored latest reading of these
    points, so each level's statements are bounded below by that bucket as a constant: DuckDB then
    skips the row groups of older rollups (zone maps) instead of scanning a day of 15-minute rows,
    or the whole history, for every batch. Consumption (delta) needs each reading's next one: only
    cumulative points go through that window. With ``stage_coarse`` the hour and day levels are
    staged in ``rollups_staged`` for ``_fold_staged``.
    """
    delta = _PAIR_DELTA.format(nxt="next_value", cur="value")
    b15 = _bucket("readings_15m", "ts")
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _agg_readings_15m AS
        WITH a AS (
            SELECT n.point_id, {b15} AS bucket, count(*) AS n, sum(n.value) AS sum, min(n.value) AS min,
                   max(n.value) AS max, arg_min(n.value, n.ts) AS first, arg_max(n.value, n.ts) AS last
            FROM _new n SEMI JOIN (SELECT point_id FROM _pts WHERE in_order) USING (point_id)
            GROUP BY ALL
        ), c AS (
            SELECT n.point_id, n.ts, n.value, lead(n.value) OVER (PARTITION BY n.point_id ORDER BY n.ts) AS next_value
            FROM _new n SEMI JOIN (SELECT point_id FROM _pts WHERE in_order AND cumulative) USING (point_id)
        ), d AS (
            SELECT point_id, {b15} AS bucket, sum({delta}) AS delta FROM c GROUP BY ALL
        )
        SELECT a.*, d.delta FROM a LEFT JOIN d USING (point_id, bucket)"""
    )
    bridge = _PAIR_DELTA.format(nxt="first_value", cur="stored_value")
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _bridge AS
        SELECT point_id, stored_ts AS last_ts, {bridge} AS delta FROM _pts
        WHERE in_order AND cumulative AND stored_ts IS NOT NULL"""
    )
    earliest = con.execute(
        "SELECT epoch_us(coalesce(min(stored_ts), min(first_ts))) FROM _pts WHERE in_order"
    ).fetchall()[0][0]
    if stage_coarse:
        con.execute(
            "INSERT INTO rollups_staged SELECT (SELECT nextval('rollups_staged_seq')) AS seq, a.* "
            "FROM _agg_readings_15m a"
        )
        con.execute("INSERT INTO rollups_staged_bridges SELECT * FROM _bridge")
        levels = _LEVELS[:1]
    else:
        _aggregate_coarse(con)
        levels = _LEVELS
    for table, _, _ in levels:
        _merge_level(con, table, _bucket(table, f"make_timestamptz({int(earliest)})"))
    con.execute("DROP TABLE _bridge")


def _aggregate_coarse(con: duckdb.DuckDBPyConnection) -> None:
    """``_agg_readings_1h`` and ``_agg_readings_1d`` from ``_agg_readings_15m``."""
    finer = "_agg_readings_15m"
    for table, _, _ in _LEVELS[1:]:
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _agg_{table} AS
            SELECT point_id, {_bucket(table, "bucket")} AS bucket, sum(n)::BIGINT AS n, sum(sum) AS sum,
                   min(min) AS min, max(max) AS max, arg_min(first, bucket) AS first, arg_max(last, bucket) AS last,
                   sum(delta) AS delta
            FROM {finer} GROUP BY ALL"""
        )
        finer = f"_agg_{table}"


#: Whether the current thread's transaction holds the fold lock (``DuckDBStore.transaction``).
_FOLD = threading.local()


def _fold_staged(con: duckdb.DuckDBPyConnection) -> int:
    """Merge the staged 15-minute aggregates of a live stream into the hour and day rows (in batch
    order: first and last values by ``seq``), add the staged bridges, and empty the stage."""
    if not getattr(_FOLD, "held", True):
        raise FoldBusy("the staged rollups are being folded concurrently")
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'rollups_staged' AND NOT temporary"
    ).fetchall()[0][0]
    if not exists:  # a store kept at an older schema (migrate(upto=...)) has no stage
        return 0
    staged = con.execute("SELECT count(*), epoch_us(min(bucket)) FROM rollups_staged").fetchall()[0]
    if not staged[0]:
        return 0
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _agg_readings_15m AS
        SELECT point_id, bucket, sum(n)::BIGINT AS n, sum(sum) AS sum, min(min) AS min, max(max) AS max,
               arg_min(first, seq) AS first, arg_max(last, seq) AS last, sum(delta) AS delta
        FROM rollups_staged GROUP BY point_id, bucket"""
    )
    _aggregate_coarse(con)
    con.execute("CREATE OR REPLACE TEMP TABLE _bridge AS SELECT * FROM rollups_staged_bridges")
    earliest = con.execute("SELECT epoch_us(min(last_ts)) FROM rollups_staged_bridges").fetchall()[0][0]
    floor = f"make_timestamptz({int(min(staged[1], earliest if earliest is not None else staged[1]))})"
    for table, _, _ in _LEVELS[1:]:
        _merge_level(con, table, _bucket(table, floor))
    con.execute("DROP TABLE _bridge")
    con.execute("DROP TABLE _agg_readings_15m")
    con.execute("DELETE FROM rollups_staged; DELETE FROM rollups_staged_bridges;")
    return int(staged[0])


def _merge_level(con: duckdb.DuckDBPyConnection, table: str, floor: str) -> None:
    """Add one level's new aggregates to its rows, insert its new buckets, bridge the deltas."""
    agg = f"_agg_{table}"
    con.execute(
        f"""UPDATE {table} r SET n = r.n + a.n, sum = r.sum + a.sum, min = least(r.min, a.min),
               max = greatest(r.max, a.max), last = a.last,
               delta = CASE WHEN r.delta IS NULL AND a.delta IS NULL THEN NULL
                            ELSE coalesce(r.delta, 0) + coalesce(a.delta, 0) END
        FROM {agg} a WHERE r.point_id = a.point_id AND r.bucket = a.bucket AND r.bucket >= {floor}"""
    )
    con.execute(
        f"INSERT INTO {table} SELECT a.* FROM {agg} a ANTI JOIN "
        f"(SELECT point_id, bucket FROM {table} WHERE bucket >= {floor}) r "
        "ON r.point_id = a.point_id AND r.bucket = a.bucket"
    )
    con.execute(
        f"""UPDATE {table} r SET delta = coalesce(r.delta, 0) + b.delta
        FROM (SELECT point_id, {_bucket(table, "last_ts")} AS bucket, sum(delta) AS delta
              FROM _bridge GROUP BY ALL) b
        WHERE r.point_id = b.point_id AND r.bucket = b.bucket AND r.bucket >= {floor}"""
    )
    con.execute(f"DROP TABLE {agg}")


def _floor_literal(con: duckdb.DuckDBPyConnection) -> str:
    """The earliest ``lo`` of ``_affected`` as a TIMESTAMPTZ literal (epoch 0 when there is none)."""
    micros = _arrow(con.sql("SELECT coalesce(epoch_us(min(lo)), 0) AS us FROM _affected")).to_pylist()[0][
        "us"
    ]
    return f"make_timestamptz({int(micros)})"


def _compute_rollups(con: duckdb.DuckDBPyConnection, full: bool) -> None:
    """(Re)build rollup rows for the points in ``_affected`` from their ``lo`` (a 15-minute bucket
    start, or any earlier instant) onward: 15-minute buckets from raw readings, hours from the
    15-minute rows of ``lo``'s hour on, days from the hourly rows of ``lo``'s day on."""
    # The earliest start as a constant too, so that DuckDB skips older row groups (zone maps)
    # instead of scanning all history for every batch of a live stream.
    if not full:
        _fold_staged(con)  # hours and days are recomputed from 15-minute rows that include the stage
    floor = "" if full else _floor_literal(con)
    window = "" if full else f"AND r.ts >= a.lo AND r.ts >= {floor}"
    keep = "" if full else "AND bucket >= a.lo"
    # A full rebuild (the demo, a bulk load) writes the rollups in time order, as a live stream
    # appends them: each row group then spans a short time, and time-bounded reads skip the others.
    order = "ORDER BY 2, 1" if full else ""
    starts = {
        "readings_15m": "time_bucket(INTERVAL 15 MINUTE, a.lo)",
        "readings_1h": "time_bucket(INTERVAL 1 HOUR, a.lo)",
        "readings_1d": f"time_bucket(INTERVAL 1 DAY, a.lo, {DAY_ORIGIN})",
    }
    day_floor = "" if full else f"time_bucket(INTERVAL 1 DAY, {floor}, {DAY_ORIGIN})"
    if not full:
        for table, start in starts.items():
            con.execute(
                f"DELETE FROM {table} t USING _affected a WHERE t.point_id = a.point_id AND t.bucket >= {start} "
                f"AND t.bucket >= {day_floor}"
            )
    con.execute(
        f"""INSERT INTO readings_15m
        WITH src AS (
            SELECT r.point_id, r.ts, r.value, p.value_kind = 'cumulative' AS cumulative,
                   lead(r.value) OVER w AS next_value, lead(r.ts) OVER w AS next_ts
            FROM readings r JOIN _affected a USING (point_id) JOIN points p USING (point_id)
            WHERE true {window}
            WINDOW w AS (PARTITION BY r.point_id ORDER BY r.ts)
        ), bucketed AS (
            SELECT *, time_bucket(INTERVAL 15 MINUTE, ts) AS bucket FROM src
        )
        SELECT b.point_id, b.bucket, count(*), sum(value), min(value), max(value),
               arg_min(value, ts), arg_max(value, ts),
               CASE WHEN bool_or(cumulative) THEN sum(
                   CASE WHEN next_value IS NULL THEN NULL
                        WHEN next_value >= value THEN next_value - value
                        ELSE next_value END) END
        FROM bucketed b JOIN _affected a USING (point_id)
        WHERE true {keep}
        GROUP BY b.point_id, b.bucket {order}"""
    )
    for table, width, origin, source in (
        ("readings_1h", "INTERVAL 1 HOUR", "", "readings_15m"),
        ("readings_1d", "INTERVAL 1 DAY", f", {DAY_ORIGIN}", "readings_1h"),
    ):
        con.execute(
            f"""INSERT INTO {table}
            SELECT s.point_id, time_bucket({width}, s.bucket{origin}) AS b, sum(n)::BIGINT, sum(sum), min(min), max(max),
                   arg_min(first, s.bucket), arg_max(last, s.bucket), sum(delta)
            FROM {source} s JOIN _affected a USING (point_id)
            WHERE {"true" if full else f"s.bucket >= {starts[table]} AND s.bucket >= {day_floor}"}
            GROUP BY s.point_id, b {order}"""
        )


def _unregister(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Drop a registered Arrow view, even on a connection whose transaction has failed."""
    with suppress(duckdb.Error):
        con.unregister(name)


def _check_points_known(con: duckdb.DuckDBPyConnection) -> None:
    unknown = con.execute(
        "SELECT DISTINCT point_id FROM _batch_raw WHERE point_id NOT IN (SELECT point_id FROM points) LIMIT 6"
    ).fetchall()
    if unknown:
        names = ", ".join(repr(r[0]) for r in unknown[:5])
        more = " …" if len(unknown) > 5 else ""
        raise InvalidInput(f"readings: unknown point_id {names}{more}; add the points before their readings")


def _readings_arrow(data: Any) -> pa.Table:
    try:
        arrow = _to_arrow(data)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise InvalidInput(
            f"readings: {exc}; expected point_id text, ts a UTC timestamp, value a number"
        ) from None
    missing = [c for c in ("point_id", "ts", "value") if c not in arrow.column_names]
    if missing:
        raise InvalidInput(f"readings: missing column(s) {', '.join(missing)}; expected point_id, ts, value")
    arrow = arrow.select(["point_id", "ts", "value"])
    try:
        arrow = arrow.cast(
            pa.schema(
                [("point_id", pa.string()), ("ts", pa.timestamp("us", tz="UTC")), ("value", pa.float64())]
            )
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise InvalidInput(
            f"readings: {exc}; expected point_id text, ts a UTC timestamp, value a number"
        ) from None
    for name in ("point_id", "ts", "value"):
        column = arrow.column(name)
        bad = column.null_count
        if name == "value":
            bad += pa.compute.sum(pa.compute.is_nan(column)).as_py() or 0
        if bad:
            raise InvalidInput(f"readings: {bad} row(s) with an empty or non-numeric {name}")
    return arrow


def _to_arrow_parts(data: Any) -> list[pa.Table]:
    """Arrow tables to write; a list of dicts is split into runs of rows with the same keys."""
    if not isinstance(data, list):
        return [_to_arrow(data)]
    parts: list[pa.Table] = []
    run: list[dict[str, Any]] = []
    for row in data:
        if run and row.keys() != run[0].keys():
            parts.append(pa.Table.from_pylist(run))
            run = []
        run.append(row)
    if run:
        parts.append(pa.Table.from_pylist(run))
    return parts


def _to_arrow(data: Any) -> pa.Table:
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, list):
        # Columns are the union of every row's keys (from_pylist alone would take the first row's).
        keys = list(dict.fromkeys(k for row in data for k in row))
        return pa.Table.from_pylist([{k: row.get(k) for k in keys} for row in data])
    if hasattr(data, "to_arrow"):
        return data.to_arrow()
    try:
        import pandas as pd

        if isinstance(data, pd.DataFrame):
            return pa.Table.from_pandas(data, preserve_index=False)
    except ImportError:  # pragma: no cover - pandas is a dependency
        pass
    raise TypeError(f"cannot write {type(data).__name__}; pass an Arrow table, DataFrame or list of dicts")


def _arrow(relation: duckdb.DuckDBPyRelation) -> pa.Table:
    """The result as an Arrow table (``to_arrow_table`` since DuckDB 1.4, ``arrow`` before)."""
    fetch = getattr(relation, "to_arrow_table", None) or relation.arrow
    return fetch()


def _first_rows(result: duckdb.DuckDBPyConnection, limit: int) -> pa.Table:
    """At most ``limit`` rows of an executed query, streamed in batches."""
    with warnings.catch_warnings():  # DuckDB 2 notes that a DB-API result is copied once; that is fine here
        warnings.simplefilter("ignore", UserWarning)
        reader = (
            result.to_arrow_reader(min(limit, 100_000))
            if hasattr(result, "to_arrow_reader")
            else result.fetch_record_batch(min(limit, 100_000))
        )
    batches, count = [], 0
    for batch in reader:
        batches.append(batch.slice(0, limit - count))
        count += batches[-1].num_rows
        if count >= limit:
            break
    return pa.Table.from_batches(batches, schema=reader.schema)


def _check_ident(name: str) -> None:
    if not _IDENT_RE.match(name):
        raise QueryError(f"{name!r} is not a table name")


def _clean(exc: Exception) -> str:
    """The first line of a DuckDB error, without its class prefix."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text
