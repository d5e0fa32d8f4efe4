"""Checks on the rows of the model: completeness, validity of fields, codes and units, duplicates.

Each ``*_checks(ctx)`` returns the ``CheckSpec`` list of one family, built from the tables of
``quality_rules``; checks whose table or columns are missing from the store are left out.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from typing import Any

from parkbrain.analytics.quality_context import CheckSpec, Context, key_of, keyed_spec
from parkbrain.analytics.quality_rules import (
    CHINA_EXTENT,
    CODE_SHAPES,
    DUPLICATE_KEYS,
    FIELD_RANGES,
    LONLAT_TABLES,
    NAME_VARIANTS,
    QUANTITIES,
    REQUIRED_FIELDS,
    CodeShape,
    DuplicateKey,
    FieldRange,
    FieldRule,
)
from parkbrain.model.units import UnitError, conversion, is_known_unit
from parkbrain.model.uscc import USCC_CHARSET, is_valid_uscc, uscc_check_digit

_CANONICAL = {rule.quantity: rule for rule in QUANTITIES}


def _missing(column: str) -> str:
    return f"(\"{column}\" IS NULL OR trim(CAST(\"{column}\" AS VARCHAR)) IN ('', 'null'))"


def _and(where: str | None) -> str:
    return f" AND ({where})" if where else ""


def _counted(table: str, where: str) -> str:
    return f"SELECT data_source, import_id, count(*) AS n FROM s_{table} WHERE {where} GROUP BY ALL"


# -- completeness ------------------------------------------------------------------------------


def completeness_checks(ctx: Context) -> list[CheckSpec]:
    """One check per required or important field of ``REQUIRED_FIELDS``."""
    return [_filled(rule) for rule in REQUIRED_FIELDS if ctx.has(rule.table, rule.column)]


def _filled(rule: FieldRule) -> CheckSpec:
    key = key_of(rule.table)
    return CheckSpec(
        check=f"filled_{rule.column}",
        table=rule.table,
        dimension="completeness",
        description=f"{rule.zh}已填 {rule.column} filled" + (f" (where {rule.where})" if rule.where else ""),
        failed_sql=f"SELECT data_source, import_id, {key} FROM s_{rule.table} "
        f"WHERE {_missing(rule.column)}{_and(rule.where)}",
        total_sql=_counted(rule.table, rule.where or "TRUE"),
        order_by=key,
    )


# -- validity of fields ---------------------------------------------------------------------------


def field_checks(ctx: Context) -> list[CheckSpec]:
    """Numeric ranges, code shapes and lon/lat inside China."""
    specs = [_field_range(r) for r in FIELD_RANGES if ctx.has(r.table, r.column)]
    specs += [_code_shape(s) for s in CODE_SHAPES if ctx.has(s.table, s.column)]
    specs += [_in_china(t) for t in LONLAT_TABLES if ctx.has(t, "lon", "lat")]
    return specs


def _field_range(rule: FieldRange) -> CheckSpec:
    key, col = key_of(rule.table), rule.column
    tests = [
        f'"{col}" < {rule.low}' if rule.low is not None else "",
        f'"{col}" > {rule.high}' if rule.high is not None else "",
    ]
    return CheckSpec(
        check=f"range_{col}",
        table=rule.table,
        dimension="validity",
        description=f"{col} 在合理范围 in range [{_bound(rule.low)}, {_bound(rule.high)}]",
        failed_sql=f'SELECT data_source, import_id, {key}, "{col}" AS value FROM s_{rule.table} '
        f"WHERE {' OR '.join(t for t in tests if t)}",
        total_sql=_counted(rule.table, f'"{col}" IS NOT NULL'),
        order_by=key,
        reference=rule.source,
    )


def _bound(value: float | None) -> str:
    return "…" if value is None else f"{value:g}"


def _code_shape(shape: CodeShape) -> CheckSpec:
    key, col = key_of(shape.table), shape.column
    return CheckSpec(
        check=shape.check,
        table=shape.table,
        dimension="validity",
        description=shape.description,
        failed_sql=f'SELECT data_source, import_id, {key}, "{col}" AS value FROM s_{shape.table} '
        f"WHERE NOT {_missing(col)} AND NOT regexp_full_match(trim(\"{col}\"), '{shape.pattern}')",
        total_sql=_counted(shape.table, f"NOT {_missing(col)}"),
        order_by=key,
        reference=shape.source,
    )


def _in_china(table: str) -> CheckSpec:
    e, key = CHINA_EXTENT, key_of(table)
    outside = f"NOT (lon BETWEEN {e.min_lon} AND {e.max_lon} AND lat BETWEEN {e.min_lat} AND {e.max_lat})"
    swapped = f"lat BETWEEN {e.min_lon} AND {e.max_lon} AND lon BETWEEN {e.min_lat} AND {e.max_lat}"
    return CheckSpec(
        check="lonlat_in_china",
        table=table,
        dimension="validity",
        description="经纬度在中国范围内 lon/lat inside China's extent",
        failed_sql=f"SELECT data_source, import_id, {key}, lon, lat, "
        f"CASE WHEN {swapped} THEN 'lon/lat swapped' END AS hint FROM s_{table} "
        f"WHERE lon IS NOT NULL AND lat IS NOT NULL AND {outside}",
        total_sql=_counted(table, "lon IS NOT NULL AND lat IS NOT NULL"),
        order_by=key,
        reference=e.source,
    )


def uscc_checks(ctx: Context) -> list[CheckSpec]:
    """The GB 32100 check character of every enterprise's USCC."""
    if not ctx.has("enterprises", "uscc"):
        return []
    rows = ctx.rows(f"SELECT enterprise_id, uscc FROM s_enterprises WHERE NOT {_missing('uscc')}")
    bad = {
        r["enterprise_id"]: {"uscc": r["uscc"], "expected": _expected_check(r["uscc"])}
        for r in rows
        if not is_valid_uscc(r["uscc"].strip())
    }
    base = CheckSpec(
        "uscc_check_digit",
        "enterprises",
        "validity",
        "统一社会信用代码校验 USCC: 18 characters with a correct check character",
        None,
        "",
        "enterprise_id",
        reference="GB 32100-2015 §5",
    )
    return [keyed_spec(ctx, base, [r["enterprise_id"] for r in rows], bad, ("name",))]


def _expected_check(code: str) -> str | None:
    """The check character the first 17 characters call for, or ``None`` when they cannot be read."""
    head = code.strip().upper()[:17]
    if len(head) != 17 or any(ch not in USCC_CHARSET for ch in head):
        return None
    return uscc_check_digit(head)


# -- units and readings ------------------------------------------------------------------------------


def unit_checks(ctx: Context) -> list[CheckSpec]:
    """Units known to pint, quantities declared, and each unit convertible to its quantity's canonical unit."""
    if not ctx.has("points", "unit", "quantity"):
        return []
    rows = ctx.rows("SELECT point_id, quantity, unit FROM s_points")
    checked = [r["point_id"] for r in rows]
    declared = [r for r in rows if r["quantity"] in _CANONICAL]
    convertible = [r for r in declared if _known(r["unit"])]
    return [
        keyed_spec(
            ctx,
            _points_base("unit_known", "单位可识别 unit known (pint + Chinese units)"),
            checked,
            _bad_units(rows),
        ),
        keyed_spec(
            ctx,
            _points_base("quantity_declared", "物理量已登记 quantity declared (quality rules)"),
            checked,
            _undeclared(rows),
        ),
        keyed_spec(
            ctx,
            _points_base(
                "unit_convertible", "单位可换算为标准单位 unit convertible to the quantity's canonical unit"
            ),
            [r["point_id"] for r in convertible],
            _not_convertible(convertible),
        ),
    ]


def _points_base(check: str, description: str) -> CheckSpec:
    return CheckSpec(check, "points", "validity", description, None, "", "point_id")


def _known(unit: str | None) -> bool:
    return bool(unit) and is_known_unit(unit)


def _bad_units(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        r["point_id"]: {"unit": r["unit"], "quantity": r["quantity"]} for r in rows if not _known(r["unit"])
    }


def _undeclared(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        r["point_id"]: {"quantity": r["quantity"], "unit": r["unit"]}
        for r in rows
        if r["quantity"] not in _CANONICAL
    }


def _not_convertible(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    bad = {}
    for r in rows:
        canonical = _CANONICAL[r["quantity"]].unit
        if _scale(r["unit"], canonical) is None:
            bad[r["point_id"]] = {"quantity": r["quantity"], "unit": r["unit"], "canonical_unit": canonical}
    return bad


def _scale(unit: str, canonical: str) -> tuple[float, float] | None:
    try:
        return conversion(unit, canonical)
    except UnitError:
        return None


def readings_range_checks(ctx: Context) -> list[CheckSpec]:
    """Readings that are NaN or infinite, or outside their quantity's range (converted to the point's unit)."""
    if not ctx.has("points", "unit", "quantity") or "readings" not in ctx.schema:
        return []
    points = ctx.rows("SELECT point_id, quantity, unit FROM s_points")
    bounds = [(p["point_id"], *_point_bounds(p)) for p in points]
    ids, lows, highs = (list(column) for column in zip(*bounds)) if bounds else ([], [], [])
    failed = (
        "SELECT p.data_source, r.import_id, r.point_id, r.ts, r.value, b.low, b.high, p.unit "
        f"FROM {ctx.readings_sql()} r JOIN (SELECT unnest($ids::VARCHAR[]) AS point_id, unnest($lows::DOUBLE[]) AS low, "
        "unnest($highs::DOUBLE[]) AS high) b USING (point_id) JOIN s_points p USING (point_id) "
        "WHERE isnan(r.value) OR isinf(r.value) OR r.value < b.low OR r.value > b.high"
    )
    return [
        CheckSpec(
            "value_in_range",
            "readings",
            "validity",
            "读数在合理范围 reading finite and inside its quantity's range",
            failed,
            readings_total(ctx),
            "point_id, ts",
            {"ids": ids, "lows": lows, "highs": highs},
            reference="quality_rules.QUANTITIES (HJ 633 caps for air pollutants; non-negative totals)",
        )
    ]


def _point_bounds(point: dict[str, Any]) -> tuple[float | None, float | None]:
    rule = _CANONICAL.get(point["quantity"])
    scale = _scale(point["unit"], rule.unit) if rule and _known(point["unit"]) else None
    if rule is None or scale is None:
        return None, None
    factor, offset = scale
    ends = [None if v is None else (v - offset) / factor for v in (rule.low, rule.high)]
    return (ends[0], ends[1]) if factor > 0 else (ends[1], ends[0])


def readings_total(ctx: Context, points_where: str = "") -> str:
    """SQL counting the scoped readings (of points matching ``points_where``) per source."""
    return (
        f"SELECT p.data_source, r.import_id, count(*) AS n FROM {ctx.readings_sql(points_where)} r "
        "JOIN s_points p USING (point_id) GROUP BY ALL"
    )


# -- duplicates ---------------------------------------------------------------------------------


def duplicate_checks(ctx: Context) -> list[CheckSpec]:
    """Rows sharing a key column (``DUPLICATE_KEYS``) and enterprises sharing a normalised name."""
    specs = [_shared(d) for d in DUPLICATE_KEYS if ctx.has(d.table, d.column)]
    return specs + _shared_names(ctx)


def _shared(dup: DuplicateKey) -> CheckSpec:
    norm, key = f'upper(trim("{dup.column}"))', key_of(dup.table)
    return CheckSpec(
        dup.check,
        dup.table,
        "duplicates",
        dup.description,
        f'SELECT data_source, import_id, {key}, "{dup.column}" AS value, '
        f"list({key}) OVER (PARTITION BY {norm}) AS same FROM s_{dup.table} "
        f"WHERE NOT {_missing(dup.column)} QUALIFY count(*) OVER (PARTITION BY {norm}) > 1",
        _counted(dup.table, f"NOT {_missing(dup.column)}"),
        f"value, {key}",
    )


def normalise_name(name: str) -> str:
    """A company name compared for duplicates: NFKC (full-width → half-width), no spaces, one suffix form."""
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", name))
    for variant, canonical in NAME_VARIANTS:
        text = text.replace(variant, canonical)
    return text


def _shared_names(ctx: Context) -> list[CheckSpec]:
    if not ctx.has("enterprises", "name"):
        return []
    rows = ctx.rows(f"SELECT enterprise_id, name FROM s_enterprises WHERE NOT {_missing('name')}")
    groups: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        groups[normalise_name(r["name"])].append(r["enterprise_id"])
    bad = {
        i: {"normalised": n, "same": ", ".join(ids)} for n, ids in groups.items() if len(ids) > 1 for i in ids
    }
    base = CheckSpec(
        "name_shared",
        "enterprises",
        "duplicates",
        "企业名称重复 enterprises sharing a normalised name (全角/半角, spaces, 有限责任公司 = 有限公司)",
        None,
        "",
        "normalised, enterprise_id",
    )
    return [keyed_spec(ctx, base, [r["enterprise_id"] for r in rows], bad, ("name",))]
