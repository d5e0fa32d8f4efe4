"""Table-shaped sources: CSV/TSV, Excel (.xlsx) and JSON Lines.

Each reads its file into a ``Frame`` of text cells (``frames.py``) and hands it to the one
converter (``convert.py``), so every format recognises the same headers, follows the same mapping
file and reports bad cells the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from parkbrain.sources.base import Extract, ImportContext, ImportOptions, file_head, looks_binary
from parkbrain.sources.convert import bulk_readings, convert_frame
from parkbrain.sources.frames import (
    Frame,
    read_csv_frame,
    read_csv_header,
    read_excel_frame,
    read_jsonl_frame,
)
from parkbrain.store.base import CsvReadings


def _convert(frame: Frame, options: ImportOptions, context: ImportContext) -> Extract:
    try:
        return convert_frame(frame, options, dict(options.mapping or {}), context)
    finally:
        frame.close()


@dataclass(frozen=True)
class CsvSource:
    name: str = "csv"
    title: str = "CSV/TSV registries (enterprises, buildings, devices, points) and readings, long or wide"
    suffixes: tuple[str, ...] = (".csv", ".tsv", ".txt")

    def sniff(self, path: Path, head: bytes) -> bool:
        return not looks_binary(head) and not head.lstrip().startswith((b"{", b"[", b"ISO-10303"))

    def read(self, path: Path, options: ImportOptions, context: ImportContext) -> Extract:
        mapping, display = dict(options.mapping or {}), options.name_for(path)
        head = file_head(path)
        header = read_csv_header(path, head, display, mapping, options.encoding)
        return _convert(read_csv_frame(path, header, display), options, context)

    def bulk_spec(self, path: Path, options: ImportOptions, context: ImportContext) -> CsvReadings | None:
        """A plain long-form readings file, described for the store's bulk loader (else None)."""
        mapping, display = dict(options.mapping or {}), options.name_for(path)
        head = file_head(path)
        header = read_csv_header(path, head, display, mapping, options.encoding)
        return bulk_readings(path, header, display, options, mapping, context)


@dataclass(frozen=True)
class ExcelSource:
    name: str = "excel"
    title: str = "Excel workbooks (.xlsx): the first sheet (or `sheet` of the mapping), same columns as CSV"
    suffixes: tuple[str, ...] = (".xlsx", ".xlsm")

    def sniff(self, path: Path, head: bytes) -> bool:
        return head.startswith(b"PK\x03\x04") and path.suffix.lower() in self.suffixes

    def read(self, path: Path, options: ImportOptions, context: ImportContext) -> Extract:
        frame = read_excel_frame(path, options.name_for(path), dict(options.mapping or {}))
        return _convert(frame, options, context)


@dataclass(frozen=True)
class JsonLinesSource:
    name: str = "jsonl"
    title: str = 'JSON Lines: one object a line, e.g. readings {"point_id", "ts", "value"}'
    suffixes: tuple[str, ...] = (".jsonl", ".ndjson")

    def sniff(self, path: Path, head: bytes) -> bool:
        first = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        return first.startswith(b"{") and b"\n" in head and b'"type"' not in head[:200]

    def read(self, path: Path, options: ImportOptions, context: ImportContext) -> Extract:
        head = file_head(path)
        frame = read_jsonl_frame(path, head, options.name_for(path))
        return _convert(frame, options, context)


CSV_SOURCE = CsvSource()
EXCEL_SOURCE = ExcelSource()
JSONL_SOURCE = JsonLinesSource()
