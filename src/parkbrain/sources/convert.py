"""Text cells of a ``Frame`` into canonical rows: types, units, time zones, CRS, checks.

The work is SQL in the frame's private DuckDB engine, so ten million readings convert in seconds;
the first bad cell is then looked up with its row number to name the line, the field and what was
expected. Nothing is guessed: an unknown point, a unit that does not convert to the point's unit,
a number or date that does not parse, a row without its park — each stops the import.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pyarrow as pa

from parkbrain.errors import BadFile
from parkbrain.model import units
from parkbrain.model.tables import BRICK_POINT_CLASS, table_spec
from parkbrain.sources.base import Extract, ImportContext, ImportOptions
from parkbrain.sources.frames import CsvHeader, Frame
from parkbrain.sources.headers import IDENTIFYING, REQUIRED, Header, column_unit, normal_key, recognise
from parkbrain.sources.mapping import mapping_defaults
from parkbrain.store.base import CsvReadings

DEFAULT_TZ = "Asia/Shanghai"
#: Time formats tried after ISO 8601 (DuckDB strptime), year first; day-first ones are chosen from the data.
TIME_FORMATS = (
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日 %H时%M分",
    "%Y年%m月%d日",
    "%Y%m%d%H%M%S",
    "%Y%m%d",
)
DAY_FIRST = (
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
)
MONTH_FIRST = ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y")
_OFFSET = r"\d:\d\d(:\d\d(\.\d+)?)?\s*(Z|z|[+-]\d\d(:?\d\d)?)$"
_TRUE = ("1", "true", "t", "yes", "y", "是", "√", "✓", "对")
_FALSE = ("0", "false", "f", "no", "n", "否", "×", "")
#: China's extent (WGS84), to catch swapped coordinates; wider than the border on purpose.
CHINA_LON, CHINA_LAT = (73.0, 136.0), (3.0, 54.0)


@dataclass(frozen=True)
class Settings:
    """Options and mapping merged: what the converter obeys."""

    display: str
    table: str | None
    columns: dict[str, str]  # file header (raw) → canonical column
    points: dict[str, str]  # wide readings: file header → point_id
    units: dict[str, str]  # file header → unit
    defaults: dict[str, Any]
    layout: str | None
    tz: str
    time_format: str | None
    crs: str | None

    @classmethod
    def build(cls, display: str, options: ImportOptions, mapping: dict[str, Any]) -> Settings:
        tz = options.timezone or mapping.get("timezone") or DEFAULT_TZ
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise BadFile(
                display,
                f"unknown time zone {tz!r}",
                field="timezone",
                expected="an IANA name such as Asia/Shanghai",
            ) from None
        defaults = mapping_defaults(mapping, options.park_id)
        return cls(
            display,
            options.table or mapping.get("table"),
            dict(mapping.get("columns", {})),
            dict(mapping.get("points", {})),
            dict(mapping.get("units", {})),
            defaults,
            mapping.get("layout"),
            tz,
            mapping.get("time_format"),
            options.crs or mapping.get("crs"),
        )


def convert_frame(
    frame: Frame, options: ImportOptions, mapping: dict[str, Any], context: ImportContext
) -> Extract:
    """The canonical rows held by a frame."""
    settings = Settings.build(frame.display, options, mapping)
    _check_mapping_columns(frame.display, frame.headers, frame.first_line - 1, settings)
    table, found = choose_table(frame.display, frame.headers, settings, context)
    extract = Extract(encoding=frame.encoding, notes=list(frame.notes))
    if table == "readings":
        ReadingsConverter(frame, settings, context, found, extract).run()
    else:
        RegistryConverter(frame, settings, context, table, found, extract).run()
    return extract


def _check_mapping_columns(display: str, headers: list[Header], header_line: int, settings: Settings) -> None:
    """Every file column a mapping names must be in the file: a typo is an error, not a silent skip."""
    present = {h.raw for h in headers}
    for section in ("columns", "points", "units"):
        for name in getattr(settings, section):
            if name not in present:
                raise BadFile(
                    display,
                    f"the mapping's [{section}] names a column {name!r} the file does not have",
                    line=header_line,
                    field=name,
                    expected=f"one of the file's columns: {', '.join(sorted(present))}",
                )


#: Naive ISO 8601 layouts the bulk loader parses strictly (a later row with an offset or another
#: layout then fails the load, and the file goes the row-level way, which honours it).
BULK_TIME_FORMATS = {
    r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}": "%Y-%m-%d %H:%M:%S",
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}": "%Y-%m-%dT%H:%M:%S",
    r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}": "%Y-%m-%d %H:%M",
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}": "%Y-%m-%dT%H:%M",
}


def bulk_readings(
    path: Path,
    header: CsvHeader,
    display: str,
    options: ImportOptions,
    mapping: dict[str, Any],
    context: ImportContext,
) -> CsvReadings | None:
    """The bulk-load description of a plain long-form readings CSV, or None when it needs row-level care.

    Plain means: UTF-8, point_id/ts/value columns and no unit column or unit mapping, and naive
    ISO 8601 times of one layout in the rows of the file's head.
    """
    if header.codec not in ("utf-8", "utf-8-sig"):
        return None
    settings = Settings.build(display, options, mapping)
    _check_mapping_columns(display, header.headers, header.header_row, settings)
    try:
        table, found = choose_table(display, header.headers, settings, context)
    except BadFile:
        return None
    if table != "readings" or settings.layout == "wide" or settings.time_format or settings.units:
        return None
    if set(found) != {"point_id", "ts", "value"} or found["value"].unit:
        return None
    ts_col = header.headers.index(found["ts"])
    times = [row[ts_col].strip() for row in header.sample if len(row) > ts_col]
    layouts = [
        fmt
        for pattern, fmt in BULK_TIME_FORMATS.items()
        if times and all(re.fullmatch(pattern, t) for t in times)
    ]
    if not layouts:
        return None
    return CsvReadings(
        str(path),
        header.delimiter,
        header.header_row,
        len(header.headers),
        header.headers.index(found["point_id"]),
        ts_col,
        header.headers.index(found["value"]),
        layouts[0],
        settings.tz,
    )


# -- which table -----------------------------------------------------------------------------------


def choose_table(
    display: str, headers: list[Header], settings: Settings, context: ImportContext
) -> tuple[str, dict[str, Header]]:
    """The target table and its columns found in the file (mapping first, then the aliases)."""
    candidates = [settings.table] if settings.table else list(REQUIRED)
    if settings.table and settings.table not in REQUIRED:
        raise BadFile(
            display,
            f"a table file cannot be imported as {settings.table!r}",
            field="--as",
            expected=f"one of {', '.join(REQUIRED)}",
        )
    scored = []
    for table in candidates:
        found = _found_columns(headers, settings, table)
        score = len(found) + (5 if any(c in found for c in IDENTIFYING[table]) else 0)
        if (
            table == "readings"
            and "ts" in found
            and ("value" not in found and _wide_columns(headers, settings, context, found))
        ):
            score += 5
        scored.append((score, table, found))
    scored.sort(key=lambda s: -s[0])
    if settings.table:
        return scored[0][1], scored[0][2]
    if not scored or scored[0][0] < 6 or (len(scored) > 1 and scored[1][0] == scored[0][0]):
        raise BadFile(
            display,
            "cannot tell which table this file is for",
            expected=f"--as one of {', '.join(REQUIRED)}, or recognised column names (see the README)",
        )
    return scored[0][1], scored[0][2]


def _found_columns(headers: list[Header], settings: Settings, table: str) -> dict[str, Header]:
    spec_columns = set(table_spec(table).column_names) | ({"unit"} if table == "readings" else set())
    found = {}
    for header in headers:
        target = settings.columns.get(header.raw)
        if target in spec_columns:
            found[target] = header
    mapped = set(settings.columns)
    rest = [h for h in headers if h.raw not in mapped]
    for column, header in recognise(rest, table).items():
        found.setdefault(column, header)
    return found


def _wide_columns(
    headers: list[Header], settings: Settings, context: ImportContext, found: dict[str, Header]
) -> dict[Header, str]:
    """Wide readings: header → point_id, from [points] of the mapping or headers that are point ids."""
    used = set(found.values())
    known = {normal_key(p): p for p in context.points} if not settings.points else {}
    out = {}
    for header in headers:
        if header in used:
            continue
        if header.raw in settings.points:
            out[header] = settings.points[header.raw]
        elif not settings.points and header.raw in context.points:
            out[header] = header.raw
        elif not settings.points and header.key in known:
            out[header] = known[header.key]
    return out


# -- shared SQL helpers ----------------------------------------------------------------------------


def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _text(col: str) -> str:
    return f"nullif(trim({col}), '')"


def _number(col: str) -> str:
    return f"TRY_CAST(replace(replace(trim({col}), ',', ''), ' ', '') AS DOUBLE)"


def _bad(expr: str, col: str) -> str:
    return f"({_text(col)} IS NOT NULL AND ({expr}) IS NULL)"


class _Base:
    frame: Frame
    settings: Settings

    def first_bad(self, condition: str, column: str | None = None) -> tuple[int, str | None] | None:
        """(line, text) of the first row where ``condition`` holds, or None."""
        engine = self.frame.engine
        exists = engine.execute(f"SELECT 1 FROM raw WHERE {condition} LIMIT 1").fetchall()
        if not exists:
            return None
        value = column or "NULL"
        row = engine.execute(
            f"SELECT rn, v FROM (SELECT row_number() OVER () AS rn, {condition} AS bad, {value} AS v FROM raw) "
            "WHERE bad ORDER BY rn LIMIT 1"
        ).fetchall()[0]
        return self.frame.line_of(row[0]), row[1]

    def fail(self, problem: str, line: int | None, field: str | None, expected: str | None) -> BadFile:
        return BadFile(self.frame.display, problem, line=line, field=field, expected=expected)

    def check(self, expr: str, col: str, header: str, expected: str) -> None:
        bad = self.first_bad(_bad(expr, col), col)
        if bad:
            raise self.fail(f"{bad[1]!r} is not valid", bad[0], header, expected)

    def ts_expr(self, col: str) -> str:
        """SQL turning the text column into a UTC TIMESTAMPTZ (NULL where it does not parse)."""
        text = _text(col)
        tz = _q(self.settings.tz)
        formats = (
            [self.settings.time_format]
            if self.settings.time_format
            else list(TIME_FORMATS) + self._slash_formats(col)
        )
        fmts = "[" + ", ".join(_q(f) for f in formats) + "]"
        epoch = (
            f"CASE WHEN regexp_full_match({text}, '\\d{{13}}(\\.\\d+)?') THEN to_timestamp({text}::DOUBLE / 1000) "
            f"WHEN regexp_full_match({text}, '\\d{{10}}(\\.\\d+)?') THEN to_timestamp({text}::DOUBLE) END"
        )
        naive = f"coalesce(TRY_CAST({text} AS TIMESTAMP), try_strptime({text}, {fmts}))"
        if self.settings.time_format:
            naive = f"try_strptime({text}, {fmts})"
        return (
            f"CASE WHEN {text} IS NULL THEN NULL WHEN regexp_matches({text}, '{_OFFSET}') "
            f"THEN TRY_CAST({text} AS TIMESTAMPTZ) "
            f"ELSE coalesce({epoch}, timezone({tz}, {naive})) END"
        )

    def _slash_formats(self, col: str) -> list[str]:
        """Day-first or month-first, decided from the data (a first part above 12 is a day)."""
        row = self.frame.engine.execute(
            f"SELECT max(TRY_CAST(regexp_extract({col}, '^\\s*(\\d{{1,2}})[/.](\\d{{1,2}})[/.]\\d{{4}}', 1) AS INT)), "
            f"max(TRY_CAST(regexp_extract({col}, '^\\s*(\\d{{1,2}})[/.](\\d{{1,2}})[/.]\\d{{4}}', 2) AS INT)) FROM raw"
        ).fetchall()[0]
        first, second = row
        if first is None:
            return []
        if first > 12:
            return list(DAY_FIRST)
        if second is not None and second > 12:
            return list(MONTH_FIRST)
        return list(DAY_FIRST)  # ambiguous throughout: the international (and Chinese) reading

    def time_expected(self) -> str:
        if self.settings.time_format:
            return f"a time in the format {self.settings.time_format!r}"
        return "ISO 8601 such as 2026-11-24 08:00:00 (+08:00 optional), 2026/11/24 08:00 or epoch seconds/ms"


# -- readings --------------------------------------------------------------------------------------


class ReadingsConverter(_Base):
    """Long (point_id, ts, value[, unit]) or wide (time + a column per point) readings."""

    def __init__(
        self,
        frame: Frame,
        settings: Settings,
        context: ImportContext,
        found: dict[str, Header],
        extract: Extract,
    ) -> None:
        self.frame, self.settings, self.context, self.found, self.extract = (
            frame,
            settings,
            context,
            found,
            extract,
        )

    def run(self) -> None:
        if "ts" not in self.found:
            raise self.fail(
                "no time column",
                self.frame.first_line - 1,
                "ts",
                "a column named 时间/ts/time/datetime, or a [columns] entry mapping one to ts",
            )
        wide = _wide_columns(self.frame.headers, self.settings, self.context, self.found)
        layout = self.settings.layout or (
            "long" if "point_id" in self.found and "value" in self.found else "wide"
        )
        if layout == "long":
            self._long()
        else:
            if not wide:
                raise self.fail(
                    "no column is a known point",
                    self.frame.first_line - 1,
                    None,
                    "point_id, ts and value columns (long form), or columns named after point ids "
                    "or mapped in [points] of a mapping file (wide form)",
                )
            skipped = [h.raw for h in self.frame.headers if h not in wide and h not in self.found.values()]
            if skipped:
                self.extract.notes.append(f"columns not imported (no point mapped): {', '.join(skipped)}")
            self._wide(wide)
        self._finish()

    def _long(self) -> None:
        engine, col = self.frame.engine, self.frame.column
        point, ts, value = col(self.found["point_id"]), col(self.found["ts"]), col(self.found["value"])
        self._register_points()
        missing = self.first_bad(f"{_text(point)} IS NULL")
        if missing:
            raise self.fail(
                "no point_id", missing[0], self.found["point_id"].raw, "the point the value belongs to"
            )
        unknown = self.first_bad(f"{_text(point)} NOT IN (SELECT point_id FROM known)", point)
        if unknown:
            raise self.fail(
                f"unknown point {unknown[1]!r}",
                unknown[0],
                self.found["point_id"].raw,
                "a point_id already in the park (import the points first)",
            )
        self._check_ts(ts)
        self._check_values(value, self.found["value"].raw)
        unit = self._unit_expr(self.found["value"], col(self.found["unit"]) if "unit" in self.found else None)
        engine.execute(
            f"CREATE TABLE r AS SELECT {_text(point)} AS point_id, {self.ts_expr(ts)} AS ts, "
            f"{_number(value)} AS value, {unit} AS unit, row_number() OVER () AS rn FROM raw "
            f"WHERE {_text(value)} IS NOT NULL"
        )

    def _wide(self, wide: dict[Header, str]) -> None:
        engine, col = self.frame.engine, self.frame.column
        ts = col(self.found["ts"])
        self._register_points()
        for header, point_id in wide.items():
            if point_id not in self.context.points:
                raise self.fail(
                    f"unknown point {point_id!r}",
                    self.frame.first_line - 1,
                    header.raw,
                    "a point_id already in the park (import the points first)",
                )
        self._check_ts(ts)
        for header in wide:
            self._check_values(col(header), header.raw)
        selects = [
            f"SELECT {_q(point_id)} AS point_id, {self.ts_expr(ts)} AS ts, {_number(col(h))} AS value, "
            f"{self._unit_expr(h, None)} AS unit, row_number() OVER () AS rn FROM raw WHERE {_text(col(h))} IS NOT NULL"
            for h, point_id in wide.items()
        ]
        engine.execute("CREATE TABLE r AS " + " UNION ALL ".join(selects))

    def _register_points(self) -> None:
        points = self.context.points
        self.frame.engine.register(
            "_known",
            pa.table(
                {
                    "point_id": pa.array(list(points), pa.string()),
                    "unit": pa.array([p.get("unit") for p in points.values()], pa.string()),
                }
            ),
        )
        self.frame.engine.execute("CREATE OR REPLACE TABLE known AS SELECT * FROM _known")
        self.frame.engine.unregister("_known")

    def _check_ts(self, ts: str) -> None:
        missing = self.first_bad(f"{_text(ts)} IS NULL")
        if missing:
            raise self.fail("no time", missing[0], self._name(ts), self.time_expected())
        self.check(self.ts_expr(ts), ts, self._name(ts), self.time_expected())

    def _check_values(self, col: str, header: str) -> None:
        self.check(_number(col), col, header, "a number such as 12.5 (an empty cell means no reading)")
        bad = self.first_bad(f"NOT isfinite({_number(col)})", col)
        if bad:
            raise self.fail(f"{bad[1]!r} is not a finite number", bad[0], header, "a finite number")

    def _name(self, col: str) -> str:
        return self.frame.headers[int(col[1:])].raw

    def _unit_expr(self, header: Header, unit_col: str | None) -> str:
        given = self.settings.units.get(header.raw) or header.unit
        if unit_col:
            return f"coalesce({_text(unit_col)}, {_q(given) if given else 'NULL'})"
        return _q(given) if given else "NULL"

    def _finish(self) -> None:
        engine = self.frame.engine
        self._convert_units()
        dupes = engine.sql(
            "SELECT point_id, ts, list(DISTINCT value ORDER BY value) AS values, count(*) AS n FROM r "
            "GROUP BY point_id, ts HAVING count(DISTINCT value) > 1 ORDER BY point_id, ts"
        ).to_arrow_table()
        self.extract.conflict_count = dupes.num_rows
        self.extract.conflicts = [
            {"point_id": d["point_id"], "ts": d["ts"].isoformat(), "values": d["values"], "where": "file"}
            for d in dupes.slice(0, 20).to_pylist()
        ]
        table = engine.sql(
            "SELECT point_id, ts, arg_min(value, rn) AS value FROM r GROUP BY point_id, ts"
            if dupes.num_rows or self._has_repeats()
            else "SELECT point_id, ts, value FROM r"
        ).to_arrow_table()
        self.extract.tables["readings"] = table

    def _has_repeats(self) -> bool:
        return self.frame.engine.execute(
            "SELECT count(*) <> (SELECT count(*) FROM (SELECT DISTINCT point_id, ts FROM r)) FROM r"
        ).fetchall()[0][0]

    def _convert_units(self) -> None:
        engine = self.frame.engine
        pairs = engine.execute(
            "SELECT DISTINCT r.unit, k.unit FROM r JOIN known k USING (point_id) "
            "WHERE r.unit IS NOT NULL AND r.unit <> k.unit"
        ).fetchall()
        if not pairs:
            return
        scales = []
        for given, target in pairs:
            try:
                scale, offset = units.conversion(given, target)
            except units.UnitError as exc:
                line = self.first_unit_line(given, target)
                raise self.fail(
                    str(exc), line, "unit", f"a unit convertible to the point's unit {target!r}"
                ) from None
            scales.append((given, target, scale, offset))
        engine.register(
            "_scales", pa.table(list(map(list, zip(*scales))), names=["given", "target", "scale", "offset"])
        )
        engine.execute(
            "UPDATE r SET value = r.value * s.scale + s.offset FROM known k, _scales s "
            "WHERE k.point_id = r.point_id AND s.given = r.unit AND s.target = k.unit"
        )
        engine.unregister("_scales")

    def first_unit_line(self, given: str, target: str) -> int | None:
        row = self.frame.engine.execute(
            "SELECT min(rn) FROM r JOIN known k USING (point_id) WHERE r.unit = ? AND k.unit = ?",
            [given, target],
        ).fetchall()[0]
        return self.frame.line_of(row[0]) if row and row[0] else None


# -- registries (enterprises, buildings, devices, points) -----------------------------------------


class RegistryConverter(_Base):
    """Business records: one row per enterprise, building, device or point."""

    def __init__(
        self,
        frame: Frame,
        settings: Settings,
        context: ImportContext,
        table: str,
        found: dict[str, Header],
        extract: Extract,
    ) -> None:
        self.frame, self.settings, self.context, self.table, self.found = (
            frame,
            settings,
            context,
            table,
            found,
        )
        self.extract = extract
        self.spec = table_spec(table)

    def run(self) -> None:
        selects = ["row_number() OVER () AS __rn"]
        for column in self.spec.columns:
            expr = self._column_expr(column.name, column.type)
            if expr is not None:
                selects.append(f"{expr} AS {column.name}")
        rows = self.frame.engine.sql(f"SELECT {', '.join(selects)} FROM raw").to_arrow_table().to_pylist()
        for row in rows:
            self._complete(row)
        self._coordinates(rows)
        if self.table == "points":
            self._devices(rows)
        self.extract.tables[self.table] = pa.Table.from_pylist(
            [{k: v for k, v in r.items() if k != "__rn"} for r in rows]
        )

    def _column_expr(self, name: str, type_: str) -> str | None:
        header = self.found.get(name)
        if header is None:
            default = self.settings.defaults.get(name)
            return None if default is None else _literal(default)
        col = self.frame.column(header)
        expr, expected = self._typed(col, type_, header, name)
        self.check(expr, col, header.raw, expected)
        return expr

    def _typed(self, col: str, type_: str, header: Header, name: str) -> tuple[str, str]:
        if type_ in ("double", "int"):
            expr = _number(col)
            unit = self.settings.units.get(header.raw) or header.unit
            target = column_unit(self.table, name)
            if unit and target:
                try:
                    scale, offset = units.conversion(unit, target)
                except units.UnitError as exc:
                    raise self.fail(
                        str(exc), self.frame.first_line - 1, header.raw, f"a unit convertible to {target}"
                    ) from None
                expr = f"({expr} * {scale!r} + {offset!r})"
            if type_ == "int":
                return f"CASE WHEN {expr} = round({expr}) THEN {expr}::BIGINT END", "a whole number"
            return expr, "a number"
        if type_ == "bool":
            t = ", ".join(_q(v) for v in _TRUE)
            f = ", ".join(_q(v) for v in _FALSE)
            low = f"lower(trim({col}))"
            return (
                f"CASE WHEN {low} IN ({t}) THEN true WHEN {low} IN ({f}) THEN false END",
                "是/否, yes/no, true/false or 1/0",
            )
        if type_ == "timestamp":
            return self.ts_expr(col), self.time_expected()
        return _text(col), "text"

    def _complete(self, row: dict[str, Any]) -> None:
        line = self.frame.line_of(row["__rn"])
        key = self.spec.key[0]
        if row.get(key) is None:
            row[key] = self._derived_id(row, line)
        for column in REQUIRED[self.table]:
            if row.get(column) is None and column != "park_id":
                raise self.fail(f"no {column}", line, self._header_name(column), f"a value for {column}")
        if self.table == "points" and row.get("value_kind") not in ("cumulative", "interval", "instant"):
            raise self.fail(
                f"{row.get('value_kind')!r} is not a value kind",
                line,
                self._header_name("value_kind"),
                "cumulative, interval or instant",
            )
        if self.table == "points" and not row.get("brick_class"):
            row["brick_class"] = BRICK_POINT_CLASS.get(row["quantity"])
        if self.table == "points" and not units.is_known_unit(row["unit"]):
            raise self.fail(
                f"unknown unit {row['unit']!r}",
                line,
                self._header_name("unit"),
                "a unit pint knows, e.g. kWh, m3, 万千瓦时",
            )

    def _derived_id(self, row: dict[str, Any], line: int) -> str:
        if self.table == "enterprises" and row.get("uscc"):
            return f"e-{row['uscc'].upper()}"
        if self.table == "points" and row.get("device_id") and row.get("quantity"):
            return f"{row['device_id']}-{row['quantity']}"
        if self.table in ("enterprises", "buildings") and row.get("name"):
            digest = hashlib.sha1(f"{row.get('park_id')}|{row['name']}".encode()).hexdigest()[:10]
            return f"{self.table[0]}-{digest}"
        key = self.spec.key[0]
        raise self.fail(f"no {key}", line, self._header_name(key), f"a {key} for every row")

    def _header_name(self, column: str) -> str:
        header = self.found.get(column)
        return header.raw if header else column

    def _coordinates(self, rows: list[dict[str, Any]]) -> None:
        if "lon" not in self.spec.column_names:
            self._parks(rows)
            return
        have = [r for r in rows if r.get("lon") is not None or r.get("lat") is not None]
        for row in have:
            if row.get("lon") is None or row.get("lat") is None:
                raise self.fail(
                    "a longitude without a latitude (or the reverse)",
                    self.frame.line_of(row["__rn"]),
                    self._header_name("lat" if row.get("lat") is None else "lon"),
                    "both or neither",
                )
        if have:
            self._to_wgs84(have)
        self._parks(rows)

    def _to_wgs84(self, rows: list[dict[str, Any]]) -> None:
        from parkbrain.model import crs as crs_mod

        crs = crs_mod.parse_crs(self.settings.crs or "WGS84")
        xs = np.array([r["lon"] for r in rows], dtype="float64")
        ys = np.array([r["lat"] for r in rows], dtype="float64")
        geographic = crs in ("WGS84", "CGCS2000", "GCJ02", "BD09")
        if geographic:
            for row, x, y in zip(rows, xs, ys):
                self._check_lon_lat(row, x, y)
        lon, lat = crs_mod.to_wgs84(xs, ys, crs)
        for row, x, y in zip(rows, lon, lat):
            if not geographic:
                self._check_lon_lat(row, x, y)
            row["lon"], row["lat"] = round(float(x), 7), round(float(y), 7)
            row["source_crs"] = crs
        self.extract.source_crs = crs

    def _check_lon_lat(self, row: dict[str, Any], x: float, y: float) -> None:
        line = self.frame.line_of(row["__rn"])
        in_china = CHINA_LON[0] <= x <= CHINA_LON[1] and CHINA_LAT[0] <= y <= CHINA_LAT[1]
        swapped = CHINA_LON[0] <= y <= CHINA_LON[1] and CHINA_LAT[0] <= x <= CHINA_LAT[1]
        if swapped and not in_china:
            raise self.fail(
                f"longitude {x} and latitude {y} look swapped",
                line,
                self._header_name("lon"),
                "longitude (经度, 73–136 in China) in the longitude column and latitude (纬度, 3–54) in the latitude column",
            )
        if not (-180 <= x <= 180 and -90 <= y <= 90):
            raise self.fail(
                f"({x}, {y}) is not a longitude/latitude",
                line,
                self._header_name("lon"),
                "longitude −180…180 and latitude −90…90 (or give --crs for projected coordinates)",
            )

    def _parks(self, rows: list[dict[str, Any]]) -> None:
        if "park_id" not in self.spec.column_names:
            return
        parks = self.context.parks
        for row in rows:
            line = self.frame.line_of(row["__rn"])
            if row.get("park_id") is None:
                row["park_id"] = self._park_at(row, parks, line)
            elif row["park_id"] not in parks:
                raise self.fail(
                    f"unknown park {row['park_id']!r}",
                    line,
                    self._header_name("park_id"),
                    'a park_id of the province (see `parkbrain sql "SELECT park_id, name FROM parks"`)',
                )

    def _devices(self, rows: list[dict[str, Any]]) -> None:
        """A point's device must be stored already (import devices first)."""
        known = self.context.ids("devices")
        for row in rows:
            if row["device_id"] not in known:
                raise self.fail(
                    f"unknown device {row['device_id']!r}",
                    self.frame.line_of(row["__rn"]),
                    self._header_name("device_id"),
                    "a device_id already in the park (import the devices first)",
                )

    def _park_at(self, row: dict[str, Any], parks: dict[str, dict[str, Any]], line: int) -> str:
        """The park whose boundary holds the row's coordinates, when exactly one does."""
        if row.get("lon") is not None:
            from shapely import contains_xy

            from parkbrain.model.geo import from_geojson

            inside = [
                pid
                for pid, p in parks.items()
                if p.get("boundary") and contains_xy(from_geojson(p["boundary"]), row["lon"], row["lat"])
            ]
            if len(inside) == 1:
                return inside[0]
        raise self.fail(
            "no park_id",
            line,
            "park_id",
            "a park_id column, --park PARK_ID, [defaults] park_id, or coordinates inside one park's boundary",
        )


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return _q(str(value))
