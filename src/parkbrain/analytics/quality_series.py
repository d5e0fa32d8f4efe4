"""Checks on telemetry and references: gaps, stale and silent points, register drops, unknown references.

Gaps and register drops come from one DuckDB pass with window functions (``lag`` over each point's
readings in time order); only the failing rows leave the database.
"""

from __future__ import annotations

from parkbrain.analytics.quality_checks import readings_total
from parkbrain.analytics.quality_context import CheckSpec, Context, key_of
from parkbrain.analytics.quality_rules import REFERENCES, REGISTER_DROPS, TIMELINESS, Reference

_STALE_AFTER_S = f"greatest({TIMELINESS.stale_factor} * coalesce(p.interval_s, 0), {TIMELINESS.stale_min_s})"


def _has_series(ctx: Context) -> bool:
    return "readings" in ctx.schema and ctx.has("points", "interval_s", "value_kind")


# -- timeliness ------------------------------------------------------------------------------------


def timeliness_checks(ctx: Context) -> list[CheckSpec]:
    """Gaps longer than ``gap_factor`` × interval, stale points, points without readings."""
    if not _has_series(ctx):
        return []
    return [_gaps(ctx), _stale(ctx), _silent(ctx)]


def transitions_sql(ctx: Context) -> str:
    """One window pass over each point's readings in time order, keeping the steps that are gaps or drops.

    Serves the ``gaps`` and ``register_drop`` checks (``_check`` says which; a step can be both).
    """
    windowed = (
        "SELECT point_id, import_id, ts, value, lag(ts) OVER w AS previous_ts, lag(value) OVER w AS previous "
        f"FROM {ctx.readings_sql()} WINDOW w AS (PARTITION BY point_id ORDER BY ts)"
    )
    gap_s = "(epoch(d.ts) - epoch(d.previous_ts))"
    is_gap = f"{gap_s} > {TIMELINESS.gap_factor} * p.interval_s"
    is_drop = (
        f"p.value_kind = 'cumulative' AND d.value < d.previous - {REGISTER_DROPS.tolerance} * abs(d.previous)"
    )
    steps = (
        f"SELECT unnest([CASE WHEN {is_gap} THEN 'gaps' END, CASE WHEN {is_drop} THEN 'register_drop' END]) "
        "AS _check, p.data_source, d.import_id, d.point_id, d.previous_ts AS gap_start, d.ts AS gap_end, "
        f"round({gap_s} / 3600.0, 2) AS gap_hours, p.interval_s, {gap_s} AS gap_s, d.ts, d.previous, d.value, "
        f"{_drop_kind()} AS kind FROM ({windowed}) d JOIN s_points p USING (point_id) "
        f"WHERE ({is_gap}) OR ({is_drop})"
    )
    return (
        "SELECT * REPLACE (CASE WHEN _check = 'register_drop' THEN kind END AS kind) "
        f"FROM ({steps}) WHERE _check IS NOT NULL"
    )


def _gaps(ctx: Context) -> CheckSpec:
    return CheckSpec(
        "gaps",
        "readings",
        "timeliness",
        f"读数间隔过长 gaps longer than {TIMELINESS.gap_factor:g} × interval_s (largest first)",
        transitions_sql(ctx),
        readings_total(ctx),
        "gap_s DESC, point_id, gap_end",
        shared=True,
        columns=(
            "data_source",
            "import_id",
            "point_id",
            "gap_start",
            "gap_end",
            "gap_hours",
            "interval_s",
            "gap_s",
        ),
    )


def _stale(ctx: Context) -> CheckSpec:
    latest = f"SELECT point_id, max(ts) AS last_ts FROM {ctx.readings_sql()} GROUP BY point_id"
    age_s = "(epoch($now) - epoch(l.last_ts))"
    return CheckSpec(
        "stale",
        "points",
        "timeliness",
        f"测点数据过时 stale: latest reading older than max({TIMELINESS.stale_factor:g} × interval_s, "
        f"{TIMELINESS.stale_min_s // 3600} h)",
        "SELECT p.data_source, p.import_id, p.point_id, l.last_ts, p.interval_s, "
        f"round({age_s} / 3600.0, 1) AS age_hours FROM s_points p JOIN ({latest}) l USING (point_id) "
        f"WHERE {age_s} > {_STALE_AFTER_S}",
        "SELECT data_source, import_id, count(*) AS n FROM s_points "
        "WHERE point_id IN (SELECT point_id FROM readings) GROUP BY ALL",
        "last_ts, point_id",
    )


def _silent(ctx: Context) -> CheckSpec:
    return CheckSpec(
        "no_readings",
        "points",
        "timeliness",
        "测点无读数 points with no readings at all",
        "SELECT data_source, import_id, point_id, device_id, quantity FROM s_points "
        "WHERE point_id NOT IN (SELECT DISTINCT point_id FROM readings)",
        ctx.source_counts("points"),
        "point_id",
    )


# -- consistency -------------------------------------------------------------------------------------


def consistency_checks(ctx: Context) -> list[CheckSpec]:
    """Unknown references (``REFERENCES``), readings of unknown points, cumulative registers going backwards."""
    specs = [
        _reference(r) for r in REFERENCES if ctx.has(r.table, r.column) and ctx.has(r.ref_table, r.column)
    ]
    if _has_series(ctx):
        specs.append(_register_drops(ctx))
        if ctx.park_id is None:  # readings of an unknown point belong to no park
            specs.append(_orphan_readings(ctx))
    return specs


def _reference(ref: Reference) -> CheckSpec:
    key = key_of(ref.table)
    return CheckSpec(
        ref.check,
        ref.table,
        "consistency",
        ref.description,
        f'SELECT data_source, import_id, {key}, "{ref.column}" AS value FROM s_{ref.table} '
        f'WHERE "{ref.column}" IS NOT NULL AND "{ref.column}" NOT IN '
        f'(SELECT "{ref.column}" FROM "{ref.ref_table}" WHERE "{ref.column}" IS NOT NULL)',
        f'SELECT data_source, import_id, count(*) AS n FROM s_{ref.table} WHERE "{ref.column}" IS NOT NULL GROUP BY ALL',
        key,
        reference=f"{ref.table}.{ref.column} → {ref.ref_table}.{ref.column}",
    )


def _drop_kind() -> str:
    d = REGISTER_DROPS
    power = "power(10, ceil(log10(d.previous)))"
    return (
        f"CASE WHEN d.previous > 0 AND d.previous >= {d.rollover_near} * {power} "
        f"AND d.value <= {d.rollover_small} * {power} THEN 'rollover' "
        f"WHEN abs(d.value) <= {d.reset_share} * abs(d.previous) THEN 'reset' ELSE 'decrease' END"
    )


def _register_drops(ctx: Context) -> CheckSpec:
    return CheckSpec(
        "register_drop",
        "readings",
        "consistency",
        "累计量回退 cumulative register goes backwards (rollover 翻转 / reset 清零 / decrease 减少)",
        transitions_sql(ctx),
        readings_total(ctx, "value_kind = 'cumulative'"),
        "point_id, ts",
        breakdown="kind",
        reference="quality_rules.RegisterDrops",
        shared=True,
        columns=("data_source", "import_id", "point_id", "ts", "previous", "value", "kind"),
    )


def _orphan_readings(ctx: Context) -> CheckSpec:
    readings = ctx.readings_sql()
    return CheckSpec(
        "point_known",
        "readings",
        "consistency",
        "读数引用的测点不存在 readings of unknown points (one row per point id)",
        "SELECT NULL::VARCHAR AS data_source, import_id, point_id, count(*) AS readings, "
        f"min(ts) AS first_ts, max(ts) AS last_ts FROM {readings} r "
        "WHERE point_id NOT IN (SELECT point_id FROM points) GROUP BY point_id, import_id",
        "SELECT p.data_source, r.import_id, count(DISTINCT r.point_id) AS n "
        f"FROM {readings} r LEFT JOIN points p USING (point_id) GROUP BY ALL",
        "point_id",
    )
