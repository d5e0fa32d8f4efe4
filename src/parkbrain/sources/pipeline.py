"""One import, start to finish: find the source, read and check the file, write it all or nothing.

- **Atomic.** The source reads and validates the whole file first; then every table and the lineage
  row are written in one transaction. A bad file changes nothing.
- **Idempotent.** A file whose SHA-256 and options match an earlier import is not read again;
  registry rows are upserted on their key and readings already stored are skipped, so importing
  the same content twice adds nothing.
- **Honest about conflicts.** The same point and time with another value — in the file or against
  what is stored — is counted and shown (the value first stored is kept).
- **Lineage.** Every row written carries the ``import_id``; the ``imports`` table says which file
  (name, hash, size), when, by whom, with which source and options. The audit log gets an
  ``import`` entry after the commit.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa

from parkbrain.errors import BadFile, InvalidInput
from parkbrain.model.tables import table_spec
from parkbrain.sources.base import (
    IMPORT_TABLES,
    Extract,
    ImportContext,
    ImportOptions,
    find_source,
    source_named,
)
from parkbrain.store.base import BulkRefused, CsvReadings

#: The order tables are written in, parents first.
WRITE_ORDER = IMPORT_TABLES
Progress = Callable[[str], None]
#: Checks, before anything is written, that the caller may write these rows (raises ``Forbidden``).
Allow = Callable[[dict[str, pa.Table], str], None]


@dataclass
class ImportResult:
    """What an import did, for the CLI, the API and the tests."""

    import_id: int
    file_name: str
    file_sha256: str
    source: str
    rows_read: dict[str, int]
    rows_written: dict[str, int]
    duplicates: int = 0
    conflicts: int = 0
    conflict_samples: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    source_crs: str | None = None
    encoding: str | None = None
    unchanged: bool = False  # the same file was imported before: nothing was read or written
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return json.loads(json.dumps(asdict(self), default=str))

    def audit_detail(self) -> dict[str, Any]:
        """What the audit log keeps of an import."""
        return {
            "import_id": self.import_id,
            "sha256": self.file_sha256,
            "source": self.source,
            "rows_read": self.rows_read,
            "rows_written": self.rows_written,
            "duplicates": self.duplicates,
            "conflicts": self.conflicts,
            "conflict_samples": json.loads(json.dumps(self.conflict_samples[:5], default=str)),
        }


def ingest(
    store: Any,
    path: str | Path,
    options: ImportOptions,
    actor: str,
    *,
    source: str | None = None,
    allow: Allow | None = None,
    progress: Progress | None = None,
    bulk: bool = True,
) -> ImportResult:
    """Import one file into ``store`` on behalf of ``actor``; see the module docstring for the guarantees.

    ``bulk=False`` keeps a plain readings CSV off the store's bulk loader (row-level checks only).

    The caller records the audit entry (``ImportResult.audit_detail()``) once this returns.
    """
    started = datetime.now(timezone.utc)
    clock = time.perf_counter()
    path = Path(path)
    display = options.name_for(path)
    say = progress or (lambda _text: None)
    if not path.is_file():
        raise BadFile(display, "no such file", expected="the path of a file to import")
    if options.table and options.table not in IMPORT_TABLES:
        raise InvalidInput(
            f"--as: {options.table!r} is not a table files import into; expected one of {', '.join(IMPORT_TABLES)}"
        )
    chosen = source_named(source) if source else find_source(path, display)
    size = path.stat().st_size
    with ThreadPoolExecutor(1) as pool:
        hashing = pool.submit(file_sha256, path)  # beside a bulk load: the hash costs no extra time
        spec = _bulk_spec(chosen, store, path, options, bulk)
        job = _Job(
            store,
            display,
            hashing,
            chosen.name,
            options,
            _option_text(options, chosen.name),
            size,
            started,
            actor,
            clock,
            allow,
            say,
        )
        if spec is None and (previous := job.previous()):
            return job.unchanged(previous)
        say(f"reading {display} ({size:,} bytes) as {chosen.name}")
        if spec is not None:
            try:
                return job.bulk(spec)
            except _AlreadyImported as seen:
                return job.unchanged(seen.previous)
            except BulkRefused as why:
                if previous := job.previous():
                    return job.unchanged(previous)
                say(f"checking row by row ({why})")
        return job.rows(chosen.read(path, options, _context(store)))


def _bulk_spec(source: Any, store: Any, path: Path, options: ImportOptions, bulk: bool) -> CsvReadings | None:
    """The bulk-load description of the file when the source and the store both can do it."""
    if not bulk or not hasattr(source, "bulk_spec") or not hasattr(store, "load_readings_csv"):
        return None
    return source.bulk_spec(path, options, _context(store))


class _AlreadyImported(Exception):
    def __init__(self, previous: dict[str, Any]) -> None:
        self.previous = previous


@dataclass
class _Job:
    """One import's particulars, and its two ways of writing: rows checked in Python, or a bulk load."""

    store: Any
    display: str
    hashing: Future[tuple[str, int]]
    source: str
    options: ImportOptions
    option_text: str
    size: int
    started: datetime
    actor: str
    clock: float
    allow: Allow | None
    say: Progress

    @property
    def digest(self) -> str:
        return self.hashing.result()[0]

    def previous(self) -> dict[str, Any] | None:
        """The earlier import of the same file with the same options, if any."""
        return _previous(self.store, self.digest, self.option_text)

    def unchanged(self, previous: dict[str, Any]) -> ImportResult:
        self.say(f"{self.display} was imported before as import {previous['import_id']}: nothing to do")
        return _unchanged(previous, self.display, self.digest, self.source, time.perf_counter() - self.clock)

    def result(self, extract: Extract) -> ImportResult:
        return ImportResult(
            0,
            self.display,
            "",
            self.source,
            extract.rows(),
            {},
            notes=extract.notes,
            source_crs=extract.source_crs,
            encoding=extract.encoding,
            conflicts=extract.conflict_count,
            conflict_samples=list(extract.conflicts),
        )

    def rows(self, extract: Extract) -> ImportResult:
        if self.allow is not None:
            self.allow(extract.tables, self.display)
        self.say(f"writing {', '.join(f'{n:,} {t}' for t, n in extract.rows().items())}")
        result = self.result(extract)
        with self.store.transaction():
            result.import_id = _next_import_id(self.store)
            _write_tables(self.store, extract, result.import_id, self.display, result)
            self.finish(result)
        return result

    def bulk(self, spec: CsvReadings) -> ImportResult:
        result = self.result(Extract(encoding="UTF-8"))
        with self.store.transaction():
            result.import_id = _next_import_id(self.store)
            written = self.store.load_readings_csv(spec, result.import_id)
            if previous := self.previous():  # the hash was computed beside the load
                raise _AlreadyImported(previous)
            if self.allow is not None:
                points = self.store.query(
                    "SELECT DISTINCT point_id FROM readings WHERE import_id = ?", [result.import_id]
                )
                self.allow({"readings": points}, self.display)
            result.rows_read = result.rows_written = {"readings": written.inserted}
            self.finish(result)
        self.say(
            f"stored {written.inserted:,} readings in {time.perf_counter() - self.clock:.1f} s; rolling them up"
        )
        self.store.refresh_pending_rollups()
        return result

    def finish(self, result: ImportResult) -> None:
        result.file_sha256 = self.digest
        result.seconds = round(time.perf_counter() - self.clock, 3)
        row = _lineage_row(result, self.options, self.option_text, self.size, self.started, self.actor)
        self.store.write("imports", [row], mode="append")


def _next_import_id(store: Any) -> int:
    return store.query_rows("SELECT coalesce(max(import_id), 0) + 1 AS n FROM imports")[0]["n"]


def file_sha256(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _option_text(options: ImportOptions, source: str) -> str:
    """The options that change what a file means, as canonical JSON (the idempotency key with the hash)."""
    chosen = {
        "source": source,
        "table": options.table,
        "crs": options.crs,
        "timezone": options.timezone,
        "park_id": options.park_id,
        "encoding": options.encoding,
        "mapping": options.mapping or None,
    }
    return json.dumps(chosen, sort_keys=True, ensure_ascii=False, default=str)


def _previous(store: Any, digest: str, option_text: str) -> dict[str, Any] | None:
    rows = store.query_rows(
        "SELECT * FROM imports WHERE file_sha256 = ? AND options = ? ORDER BY finished_at DESC LIMIT 1",
        [digest, option_text],
    )
    return rows[0] if rows else None


def _unchanged(
    previous: dict[str, Any], display: str, digest: str, source: str, seconds: float
) -> ImportResult:
    detail = json.loads(previous.get("detail") or "{}")
    return ImportResult(
        previous["import_id"],
        display,
        digest,
        source,
        detail.get("rows_read", {}),
        {},
        notes=[
            f"the same file was imported as import {previous['import_id']} at {previous['finished_at']:%Y-%m-%d %H:%M:%S} UTC; nothing was added"
        ],
        unchanged=True,
        seconds=round(seconds, 3),
    )


def _context(store: Any) -> ImportContext:
    def points() -> dict[str, dict[str, Any]]:
        rows = store.query_rows("SELECT point_id, device_id, quantity, unit, value_kind FROM points")
        return {r.pop("point_id"): r for r in rows}

    def parks() -> dict[str, dict[str, Any]]:
        rows = store.query_rows("SELECT park_id, name, region_code, boundary, lon, lat FROM parks")
        return {r.pop("park_id"): r for r in rows}

    def ids(table: str) -> set[str]:
        key = {"devices": "device_id", "enterprises": "enterprise_id", "buildings": "building_id"}[table]
        return {r[key] for r in store.query_rows(f"SELECT {key} FROM {table}")}

    return ImportContext(points, parks, ids)


def _write_tables(store: Any, extract: Extract, import_id: int, display: str, result: ImportResult) -> None:
    unknown = set(extract.tables) - set(WRITE_ORDER)
    if unknown:
        raise InvalidInput(
            f"the source returned rows for {', '.join(sorted(unknown))}, which imports do not write"
        )
    for table in WRITE_ORDER:
        rows = extract.tables.get(table)
        if rows is None or rows.num_rows == 0:
            continue
        if table == "readings":
            written = store.write_readings(rows.select(["point_id", "ts", "value"]), import_id=import_id)
            result.rows_written[table] = written.inserted
            result.duplicates += written.duplicates
            result.conflicts += written.conflicts
            result.conflict_samples += [{**s, "where": "stored"} for s in written.conflict_samples]
        else:
            stamped = _stamp(rows, table, import_id, f"file:{display}")
            result.rows_written[table] = store.write(table, stamped, mode="upsert").inserted


def _stamp(rows: pa.Table, table: str, import_id: int, data_source: str) -> pa.Table:
    """The rows with the lineage columns set (a source's own data_source is kept)."""
    columns = (
        set(table_spec(table).column_names)
        if table != "zones"
        else set(rows.column_names) | {"import_id", "data_source"}
    )
    rows = rows.select([c for c in rows.column_names if c in columns])
    n = rows.num_rows
    if "data_source" not in rows.column_names:
        rows = rows.append_column("data_source", pa.array([data_source] * n, pa.string()))
    rows = rows.drop_columns(["import_id"]) if "import_id" in rows.column_names else rows
    return rows.append_column("import_id", pa.array([import_id] * n, pa.int32()))


def _lineage_row(
    result: ImportResult, options: ImportOptions, option_text: str, size: int, started: datetime, actor: str
) -> dict[str, Any]:
    return {
        "import_id": result.import_id,
        "file_name": result.file_name,
        "file_sha256": result.file_sha256,
        "size_bytes": size,
        "source": result.source,
        "target": ",".join(result.rows_read) or "-",
        "options": option_text,
        "started_at": started,
        "finished_at": datetime.now(timezone.utc),
        "actor": actor,
        "park_id": options.park_id,
        "source_crs": result.source_crs,
        "encoding": result.encoding,
        "rows_read": sum(result.rows_read.values()),
        "rows_written": sum(result.rows_written.values()),
        "duplicates": result.duplicates,
        "conflicts": result.conflicts,
        "detail": json.dumps(
            result.audit_detail() | {"notes": result.notes}, ensure_ascii=False, default=str
        ),
    }
