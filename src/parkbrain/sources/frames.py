"""Tabular files read into a ``Frame``: every cell as text, with the file line of each row.

CSV/TSV are parsed by DuckDB's CSV reader (in a private in-memory engine, not the park database):
it is the fastest parser at hand and names the line of a malformed row. Excel goes through
openpyxl, JSON Lines through the json module (one object a line). Conversion and validation of the
text cells happen in ``parkbrain.sources.convert``, the same for every format.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from parkbrain.errors import BadFile, missing_extra
from parkbrain.sources.headers import Header, parse_header
from parkbrain.sources.textfile import (
    detect_encoding,
    head_text,
    parse_encoding,
    sniff_delimiter,
    to_utf8_copy,
)

_CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")
_ORIGINAL = re.compile(r"Original Line: (.*)")
_FOUND = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)")


@dataclass
class Frame:
    """A table of text cells read from a file, in an engine the converter queries.

    The rows are the view ``raw`` of ``engine`` (columns ``c0`` … ``cN`` in file order);
    ``line_of(n)`` is the file line of the n-th data row (1-based).
    """

    display: str
    headers: list[Header]
    engine: duckdb.DuckDBPyConnection
    first_line: int  # the line (or sheet row) of the first data row
    unit_word: str = "line"  # "line" for text files, "row" for spreadsheets
    encoding: str | None = None
    row_lines: list[int] | None = None  # when rows do not follow lines one to one (JSON Lines with blanks)
    notes: list[str] = field(default_factory=list)
    cleanup: list[Path] = field(default_factory=list)

    def line_of(self, n: int) -> int:
        if self.row_lines is not None:
            return self.row_lines[n - 1]
        return self.first_line + n - 1

    def column(self, header: Header) -> str:
        return f"c{self.headers.index(header)}"

    def close(self) -> None:
        self.engine.close()
        for path in self.cleanup:
            path.unlink(missing_ok=True)


def new_engine() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET python_enable_replacements = false")
    return con


# -- CSV / TSV -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CsvHeader:
    """What the first lines of a CSV/TSV say: encoding, delimiter, header line and column names."""

    codec: str
    delimiter: str
    header_row: int
    headers: list[Header]
    sample: list[list[str]]  # the data rows found in the file's head (for format checks)

    @property
    def encoding(self) -> str:
        return _encoding_name(self.codec)


def read_csv_header(
    path: Path, head: bytes, display: str, mapping: dict[str, Any], encoding: str | None
) -> CsvHeader:
    import csv

    codec = _codec(mapping.get("encoding") or encoding, head, display)
    lines = head_text(head, codec).splitlines()
    header_row = int(mapping.get("header_row", 1))
    if len(lines) < header_row or not lines[header_row - 1].strip():
        raise BadFile(display, "the file has no header line", line=header_row, expected="a header line")
    delim = mapping.get("delimiter") or sniff_delimiter(
        "\n".join(lines[header_row - 1 :]), path.suffix.lower(), display
    )
    rows = list(csv.reader(lines[header_row - 1 : header_row + 50], delimiter=delim))
    rows[0][0] = rows[0][0].lstrip("\ufeff")
    return CsvHeader(codec, delim, header_row, _headers(rows[0], display, header_row), rows[1:-1] or rows[1:])


def read_csv_frame(path: Path, header: CsvHeader, display: str) -> Frame:
    """A CSV/TSV file as a frame of text cells."""
    source = to_utf8_copy(path, header.codec, display)
    engine = new_engine()
    headers, header_row = header.headers, header.header_row
    frame = Frame(display, headers, engine, header_row + 1, encoding=header.encoding)
    if source != path:
        frame.cleanup.append(source)
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(headers))) + "}"
    try:
        engine.execute(
            f"CREATE TABLE raw AS SELECT * FROM read_csv(?, header = false, skip = ?, delim = ?, quote = '\"', "
            f"escape = '\"', columns = {columns}, auto_detect = false, strict_mode = true, "
            "null_padding = false, all_varchar = true)",
            [str(source), header_row, header.delimiter],
        )
    except duckdb.Error as exc:
        frame.close()
        raise _csv_error(exc, display, header_row, len(headers)) from None
    if engine.execute("SELECT count(*) FROM raw").fetchall()[0][0] == 0:
        frame.close()
        raise BadFile(
            display, "the file has a header but no rows", line=header_row + 1, expected="at least one row"
        )
    return frame


def _codec(name: str | None, head: bytes, display: str) -> str:
    if name:
        try:
            return parse_encoding(name)
        except ValueError as exc:
            raise BadFile(display, str(exc)) from None
    return detect_encoding(head, display)


def _encoding_name(codec: str) -> str:
    return {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 (BOM)", "gb18030": "GBK/GB18030"}.get(codec, codec)


def _headers(names: list[str], display: str, line: int) -> list[Header]:
    headers = [parse_header(n) for n in names]
    seen: dict[str, int] = {}
    for i, header in enumerate(headers):
        if not header.raw.strip():
            raise BadFile(
                display, f"column {i + 1} has no name", line=line, expected="a name for every column"
            )
        if header.raw in seen:
            raise BadFile(
                display, f"the column name {header.raw!r} appears twice", line=line, field=header.raw
            )
        seen[header.raw] = i
    return headers


def _csv_error(exc: Exception, display: str, header_row: int, width: int) -> BadFile:
    text = str(exc)
    line_match = _CSV_LINE.search(text)
    line = int(line_match.group(1)) if line_match else None
    found = _FOUND.search(text)
    if found:
        return BadFile(
            display,
            f"the row has {found.group(2)} columns, the header {found.group(1)}",
            line=line,
            expected=f"{width} columns, like the header on line {header_row} (quote values that hold the delimiter)",
        )
    if "unicode" in text.lower() or "utf-8" in text.lower():
        return BadFile(display, "the text is not valid UTF-8", line=line, expected="UTF-8 or GBK text")
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    original = _ORIGINAL.search(text)
    detail = f" ({original.group(1)[:80]!r})" if original else ""
    return BadFile(display, f"cannot read the CSV: {first}{detail}", line=line, expected="a well-formed CSV")


# -- Excel -----------------------------------------------------------------------------------------


def read_excel_frame(path: Path, display: str, mapping: dict[str, Any]) -> Frame:
    """The first sheet (or ``sheet``) of an .xlsx workbook; the header is row ``header_row``."""
    try:
        import openpyxl
    except ImportError:  # pragma: no cover - a dependency
        raise missing_extra("openpyxl", "excel") from None
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException …
        raise BadFile(
            display,
            f"not a readable .xlsx workbook ({type(exc).__name__}: {exc})",
            expected="an Excel 2007+ .xlsx file",
        ) from None
    try:
        sheet = _sheet(book, mapping.get("sheet"), display)
        header_row = int(mapping.get("header_row", 1))
        rows = [list(r) for r in sheet.iter_rows(min_row=header_row, values_only=True)]
    finally:
        book.close()
    while rows and all(_blank(c) for c in rows[-1]):
        rows.pop()
    if not rows:
        raise BadFile(display, "the sheet is empty", expected="a header row and at least one row")
    names = [str(c).strip() if c is not None else "" for c in rows[0]]
    while names and not names[-1]:
        names.pop()
    headers = _headers(names, display, header_row)
    body = [[_cell_text(c) for c in r[: len(names)]] + [None] * (len(names) - len(r)) for r in rows[1:]]
    for n, row in enumerate(rows[1:], start=header_row + 1):
        if any(not _blank(c) for c in row[len(names) :]):
            raise BadFile(
                display,
                "a value lies right of the last named column",
                line=n,
                expected=f"{len(names)} columns, like the header row {header_row}",
            )
    return _frame_from_rows(display, headers, body, header_row + 1, "row", None)


def _sheet(book: Any, name: str | None, display: str) -> Any:
    if name is None:
        return book.worksheets[0]
    if name not in book.sheetnames:
        raise BadFile(display, f"no sheet named {name!r}", expected=f"one of {', '.join(book.sheetnames)}")
    return book[name]


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _cell_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


# -- JSON Lines ------------------------------------------------------------------------------------


def read_jsonl_frame(path: Path, head: bytes, display: str) -> Frame:
    """One JSON object a line; blank lines are skipped; keys become the columns."""
    detect_encoding(head, display)  # refuses binary files
    rows: list[dict[str, Any]] = []
    lines: list[int] = []
    with open(path, encoding="utf-8-sig") as fh:
        try:
            for number, text in enumerate(fh, start=1):
                if text.strip():
                    rows.append(_json_object(text, display, number))
                    lines.append(number)
        except UnicodeDecodeError:
            raise BadFile(
                display, "the text is not UTF-8", line=len(lines) + 1, expected="UTF-8 JSON"
            ) from None
    if not rows:
        raise BadFile(display, "the file holds no JSON objects", expected="one JSON object a line")
    names = list(dict.fromkeys(k for row in rows for k in row))
    headers = _headers(names, display, lines[0])
    body = [[_json_text(row.get(n)) for n in names] for row in rows]
    frame = _frame_from_rows(display, headers, body, lines[0], "line", "UTF-8")
    frame.row_lines = lines
    return frame


def _json_object(text: str, display: str, number: int) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadFile(
            display,
            f"broken JSON: {exc.msg} at column {exc.colno}",
            line=number,
            expected="one complete JSON object on each line",
        ) from None
    if not isinstance(value, dict):
        raise BadFile(
            display,
            f"a JSON {type(value).__name__}, not an object",
            line=number,
            expected='an object such as {"point_id": …, "ts": …, "value": …}',
        )
    return value


def _json_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _frame_from_rows(
    display: str,
    headers: list[Header],
    body: list[list[str | None]],
    first: int,
    word: str,
    encoding: str | None,
) -> Frame:
    if not body:
        raise BadFile(display, "there is a header but no rows", line=first, expected="at least one row")
    columns = {f"c{i}": pa.array([r[i] for r in body], pa.string()) for i in range(len(headers))}
    engine = new_engine()
    engine.register("_rows", pa.table(columns))
    engine.execute("CREATE TABLE raw AS SELECT * FROM _rows")
    engine.unregister("_rows")
    return Frame(display, headers, engine, first, word, encoding)
