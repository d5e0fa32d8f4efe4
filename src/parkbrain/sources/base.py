"""The interface every file source implements, and the registry that finds them.

A source reads one file and returns an ``Extract``: rows for canonical tables (see
``parkbrain.model.tables``), already in the model's conventions — WGS84 longitude/latitude, UTC
timestamps, values in the point's unit. It never touches the database: what it needs to know about
the park (points and their units, parks and their boundaries) comes in an ``ImportContext``.
A source validates as it reads and raises ``BadFile`` naming the file, the line or feature, the
field and what was expected. Writing, lineage and audit are the pipeline's job
(``parkbrain.sources.pipeline``).

Sources register under the entry-point group ``parkbrain.sources`` — the built-in ones too (see
``pyproject.toml``); an outside package adds a format the same way.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import pyarrow as pa

from parkbrain.errors import BadFile, ConfigError

ENTRY_POINT_GROUP = "parkbrain.sources"
#: Tables an import may write (the canonical ones that hold data, plus zones).
IMPORT_TABLES = ("regions", "parks", "zones", "buildings", "enterprises", "devices", "points", "readings")
#: Bytes of the file's start handed to ``sniff``.
HEAD_BYTES = 64 * 1024


@dataclass(frozen=True)
class ImportOptions:
    """What the caller said about a file (CLI flags, API form fields, ``Park.ingest`` arguments)."""

    table: str | None = None  # --as: the canonical table, detected when None
    mapping: Mapping[str, Any] | None = None  # a parsed mapping file (see sources/mapping.py)
    crs: str | None = None  # --crs: the source CRS, when the file does not say
    timezone: str | None = None  # --tz: for naive timestamps (default Asia/Shanghai)
    park_id: str | None = None  # --park: for rows that do not name their park
    encoding: str | None = None  # --encoding: when detection should be overridden
    display_name: str | None = None  # the name errors and lineage use (an upload's original name)

    def name_for(self, path: Path) -> str:
        """The name errors, notes and lineage give the file: the upload's name, else its own."""
        return self.display_name or path.name


@dataclass
class ImportContext:
    """Read-only facts about the park that a source may need, loaded on first use."""

    load_points: Callable[[], dict[str, dict[str, Any]]]
    load_parks: Callable[[], dict[str, dict[str, Any]]]
    load_ids: Callable[[str], set[str]] = lambda _table: set()
    _points: dict[str, dict[str, Any]] | None = None
    _parks: dict[str, dict[str, Any]] | None = None
    _ids: dict[str, set[str]] = field(default_factory=dict)

    def ids(self, table: str) -> set[str]:
        """The keys already stored in a registry table (devices, enterprises, buildings)."""
        if table not in self._ids:
            self._ids[table] = self.load_ids(table)
        return self._ids[table]

    @property
    def points(self) -> dict[str, dict[str, Any]]:
        """point_id → {unit, quantity, device_id, value_kind} of every known point."""
        if self._points is None:
            self._points = self.load_points()
        return self._points

    @property
    def parks(self) -> dict[str, dict[str, Any]]:
        """park_id → {name, region_code, boundary (GeoJSON text or None), lon, lat}."""
        if self._parks is None:
            self._parks = self.load_parks()
        return self._parks

    @classmethod
    def empty(cls) -> ImportContext:
        return cls(dict, dict)


@dataclass
class Extract:
    """What a source read from one file."""

    tables: dict[str, pa.Table] = field(default_factory=dict)  # canonical table → rows
    source_crs: str | None = None  # the CRS coordinates were converted from
    encoding: str | None = None  # the text encoding the file was read in
    conflicts: list[dict[str, Any]] = field(default_factory=list)  # same key, different values, in the file
    conflict_count: int = 0
    notes: list[str] = field(default_factory=list)  # what a person should know (repairs, skipped parts)

    def rows(self) -> dict[str, int]:
        return {name: table.num_rows for name, table in self.tables.items()}


@runtime_checkable
class Source(Protocol):
    """A file format ParkBrain can import."""

    name: str  # short id, e.g. 'csv'
    title: str  # one line for `parkbrain import --help` and the docs
    suffixes: tuple[str, ...]  # file name endings it reads, lower case, with the dot

    def sniff(self, path: Path, head: bytes) -> bool:
        """Whether this source reads the file (``head`` is its first bytes)."""

    def read(self, path: Path, options: ImportOptions, context: ImportContext) -> Extract:
        """Read and validate the whole file; raise ``BadFile`` on the first thing wrong."""

    # Optional capability: ``bulk_spec(path, options, context) -> CsvReadings | None`` describes a
    # plain readings file that a store with ``load_readings_csv`` may load natively (see tabular.py).


@cache
def registered_sources() -> tuple[Source, ...]:
    """Every source registered under the ``parkbrain.sources`` entry-point group, by name."""
    found = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            source = ep.load()
        except Exception as exc:  # a plugin that fails to load must not break the other formats
            warnings.warn(f"the source plugin {ep.name!r} ({ep.value}) failed to load: {exc}", stacklevel=2)
            continue
        found.append(source() if isinstance(source, type) else source)
    if not found:
        raise ConfigError(
            "no file sources are registered: ParkBrain is not installed as a package "
            "(run `pip install -e .` in the source tree)"
        )
    return tuple(sorted(found, key=lambda s: s.name))


def source_named(name: str) -> Source:
    for source in registered_sources():
        if source.name == name:
            return source
    names = ", ".join(s.name for s in registered_sources())
    raise ConfigError(f"no source named {name!r}; registered: {names}")


def find_source(path: Path, display: str) -> Source:
    """The source for a file: by its name ending, else the first whose ``sniff`` accepts it."""
    head = read_head(path, display)
    lower = path.name.lower()
    by_suffix = [s for s in registered_sources() if any(lower.endswith(x) for x in s.suffixes)]
    for source in by_suffix or registered_sources():
        if source.sniff(path, head):
            return source
    if by_suffix:
        return by_suffix[0]  # let the source name what is wrong with the content
    known = sorted({x for s in registered_sources() for x in s.suffixes})
    raise BadFile(display, "this is not a file format ParkBrain imports", expected=" or ".join(known))


def file_head(path: Path) -> bytes:
    """The first ``HEAD_BYTES`` bytes of a file."""
    with open(path, "rb") as fh:
        return fh.read(HEAD_BYTES)


def read_head(path: Path, display: str) -> bytes:
    """The first bytes of a file; an empty or binary file is refused here, for every source."""
    head = file_head(path)
    if not head.strip():
        raise BadFile(display, "the file is empty", expected="a header line and at least one row")
    return head


def looks_binary(head: bytes) -> bool:
    """NUL bytes in a text file's head mean it is binary (UTF-16 is not a format we accept)."""
    return b"\x00" in head
