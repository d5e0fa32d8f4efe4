"""The data-quality report: ``compute_quality(store)`` scores every table and every source.

Five dimensions (``quality_rules.DIMENSIONS``): completeness, validity, duplicates, timeliness and
consistency. A check counts the rows it examined (``total``) and those that failed (``failed``) and
keeps up to ``sample`` failing rows with their key and the bad value; its score is
``100 × (1 − failed / total)``. A dimension scores the mean of its checks, a table (or a source, or
the whole report) the weighted mean of its dimensions. Checks with nothing to examine are not scored.

The heavy work runs in DuckDB (see ``quality_context``); Python sees only failing rows and counts.
``QualityReport.as_dict()`` is JSON-ready (API, ``--format json``); ``to_text()`` is the CLI summary,
Chinese first with the English terms.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from parkbrain.analytics import quality_checks as rows_checks
from parkbrain.analytics import quality_series as series_checks
from parkbrain.analytics.quality_context import CheckSpec, Context, Outcome, SourceKey
from parkbrain.analytics.quality_geo import geo_checks
from parkbrain.analytics.quality_rules import DIMENSIONS, TABLES_ZH
from parkbrain.analytics.quality_text import display_score, render_text
from parkbrain.errors import NotFound
from parkbrain.store.base import Store

__all__ = ["CheckResult", "QualityReport", "SourceQuality", "compute_quality"]

#: Every family of checks, in report order; each returns the specs that apply to the store.
CHECK_FAMILIES: tuple[Callable[[Context], list[CheckSpec]], ...] = (
    rows_checks.completeness_checks,
    rows_checks.field_checks,
    rows_checks.uscc_checks,
    geo_checks,
    rows_checks.unit_checks,
    rows_checks.readings_range_checks,
    rows_checks.duplicate_checks,
    series_checks.timeliness_checks,
    series_checks.consistency_checks,
)
_WEIGHTS = {d.name: d.weight for d in DIMENSIONS}


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check on one table."""

    check: str
    table: str
    dimension: str
    description: str
    failed: int
    total: int
    samples: tuple[dict[str, Any], ...]
    by_source: dict[SourceKey, tuple[int, int]]
    breakdown: dict[str, int]
    reference: str | None = None

    @property
    def score(self) -> float | None:
        """``100 × (1 − failed / total)``; ``None`` when nothing was examined."""
        return _ratio_score(self.failed, self.total)

    def as_dict(self) -> dict[str, Any]:
        out = {
            "check": self.check,
            "description": self.description,
            "failed": self.failed,
            "total": self.total,
            "score": display_score(self.score),
            "samples": [_jsonable(s) for s in self.samples],
        }
        if self.breakdown:
            out["breakdown"] = dict(self.breakdown)
        if self.reference:
            out["reference"] = self.reference
        return out


@dataclass(frozen=True)
class SourceQuality:
    """Rows and score of one source: a ``data_source`` and, for imported rows, the ``import_id``."""

    data_source: str | None
    import_id: int | str | None
    file_name: str | None
    rows: int
    score: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "data_source": self.data_source,
            "import_id": self.import_id,
            "file_name": self.file_name,
            "rows": self.rows,
            "score": display_score(self.score),
        }


@dataclass(frozen=True)
class QualityReport:
    """Every check's result, the rows per table and the score of each source."""

    generated_at: datetime
    park_id: str | None
    checks: tuple[CheckResult, ...]
    table_rows: dict[str, int]
    sources: tuple[SourceQuality, ...]

    @property
    def score(self) -> float | None:
        """The weighted mean of the dimension scores over all tables."""
        return _weighted(self.dimension_scores())

    def dimension_scores(self, table: str | None = None) -> dict[str, float | None]:
        """Mean check score per dimension, for one table or all of them."""
        chosen = [c for c in self.checks if table is None or c.table == table]
        return {d.name: _mean(c.score for c in chosen if c.dimension == d.name) for d in DIMENSIONS}

    def table_score(self, table: str) -> float | None:
        return _weighted(self.dimension_scores(table))

    def failures(self) -> list[CheckResult]:
        """The checks that found something, worst score first."""
        return sorted((c for c in self.checks if c.failed), key=lambda c: (c.score or 0.0, c.table, c.check))

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: overall and per-dimension scores, tables with their checks, sources."""
        return {
            "generated_at": self.generated_at.isoformat(),
            "park_id": self.park_id,
            "score": display_score(self.score),
            "dimensions": {k: display_score(v) for k, v in self.dimension_scores().items()},
            "tables": {t: self._table_dict(t) for t in self.table_rows},
            "sources": [s.as_dict() for s in self.sources],
        }

    def _table_dict(self, table: str) -> dict[str, Any]:
        dims = {}
        for name, score in self.dimension_scores(table).items():
            checks = [c.as_dict() for c in self.checks if c.table == table and c.dimension == name]
            if checks:
                dims[name] = {"score": display_score(score), "checks": checks}
        return {
            "rows": self.table_rows[table],
            "score": display_score(self.table_score(table)),
            "dimensions": dims,
        }

    def to_text(self, issues: int = 30) -> str:
        """A readable summary: scores, tables, the worst ``issues`` checks with examples, sources."""
        return render_text(self, issues)


def compute_quality(
    store: Store, park_id: str | None = None, now: datetime | None = None, sample: int = 20
) -> QualityReport:
    """Check the data of one park (or all) for completeness, validity, duplicates, timeliness, consistency.

    ``now`` (default: the current UTC time) decides which points are stale; ``sample`` caps the
    failing rows kept per check. Raises ``NotFound`` for an unknown ``park_id``.
    """
    now = _utc(now or datetime.now(timezone.utc))
    ctx = Context.open(store, park_id, now, max(0, int(sample)))
    if park_id is not None and not ctx.rows("SELECT 1 FROM parks WHERE park_id = $park"):
        raise NotFound(f"park {park_id!r} does not exist")
    specs = [spec for family in CHECK_FAMILIES for spec in family(ctx)]
    checks = tuple(_result(spec, outcome) for spec, outcome in zip(specs, ctx.run(specs)))
    rows = _rows_per_source(ctx)
    return QualityReport(
        generated_at=datetime.now(timezone.utc),
        park_id=park_id,
        checks=checks,
        table_rows=_table_rows(rows),
        sources=_sources(ctx, rows, checks),
    )


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _result(spec: CheckSpec, outcome: Outcome) -> CheckResult:
    keys = set(outcome.failed) | set(outcome.total)
    by_source = {k: (outcome.failed.get(k, 0), outcome.total.get(k, 0)) for k in keys}
    return CheckResult(
        check=spec.check,
        table=spec.table,
        dimension=spec.dimension,
        description=spec.description,
        failed=sum(outcome.failed.values()),
        total=sum(outcome.total.values()),
        samples=tuple(outcome.samples),
        by_source=by_source,
        breakdown=outcome.breakdown,
        reference=spec.reference,
    )


# -- rows, tables and sources -------------------------------------------------------------------------


def _rows_per_source(ctx: Context) -> dict[str, dict[SourceKey, int]]:
    """Scoped rows of every reported table, per source."""
    rows = {}
    for table in TABLES_ZH:
        if table == "readings":
            if "readings" in ctx.schema and ctx.has("points", "point_id"):
                rows[table] = ctx.counts(rows_checks.readings_total(ctx))
        elif table in ctx.schema:
            rows[table] = ctx.counts(ctx.source_counts(table))
    return rows


def _table_rows(rows: dict[str, dict[SourceKey, int]]) -> dict[str, int]:
    return {table: sum(counts.values()) for table, counts in rows.items()}


def _sources(
    ctx: Context, rows: dict[str, dict[SourceKey, int]], checks: tuple[CheckResult, ...]
) -> tuple[SourceQuality, ...]:
    totals: dict[SourceKey, int] = {}
    for counts in rows.values():
        for key, n in counts.items():
            totals[key] = totals.get(key, 0) + n
    names = _file_names(ctx)
    found = [
        SourceQuality(ds, imp, names.get(imp), n, _source_score((ds, imp), checks))
        for (ds, imp), n in totals.items()
    ]
    return tuple(sorted(found, key=lambda s: (-s.rows, s.data_source or "", str(s.import_id or ""))))


def _source_score(key: SourceKey, checks: Iterable[CheckResult]) -> float | None:
    scores: dict[str, list[float]] = {d.name: [] for d in DIMENSIONS}
    for check in checks:
        failed, total = check.by_source.get(key, (0, 0))
        score = _ratio_score(failed, total)
        if score is not None:
            scores[check.dimension].append(score)
    return _weighted({name: _mean(values) for name, values in scores.items()})


def _file_names(ctx: Context) -> dict[int | str | None, str]:
    if not ctx.has("imports", "import_id", "file_name"):
        return {}
    return {r["import_id"]: r["file_name"] for r in ctx.rows("SELECT import_id, file_name FROM imports")}


# -- scores and JSON ---------------------------------------------------------------------------------


def _ratio_score(failed: int, total: int) -> float | None:
    if total <= 0:
        return None
    return max(0.0, 100.0 * (1.0 - failed / total))


def _mean(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def _weighted(scores: dict[str, float | None]) -> float | None:
    present = {name: s for name, s in scores.items() if s is not None}
    weight = sum(_WEIGHTS[name] for name in present)
    return sum(_WEIGHTS[name] * s for name, s in present.items()) / weight if weight else None


def _jsonable(value: Any) -> Any:
    """``value`` with datetimes as ISO text, non-finite floats as text and containers walked."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value
