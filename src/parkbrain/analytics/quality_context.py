"""What every quality check reads through: the store, its schema, the park scope, and the check runner.

A check is a ``CheckSpec``: SQL listing the failing rows (each with ``data_source`` and ``import_id``)
and SQL counting the rows checked per source. The runner wraps both so that DuckDB does the counting,
the per-source split and the choice of samples in one pass; Python only receives small results.

Scoped relations ``s_<table>`` (``s_parks``, ``s_points`` …) are CTEs prefixed to a check's SQL on
demand: the table limited to the park when one is asked for, with ``data_source`` and ``import_id``
present even on databases written before those columns existed. Readings are never a CTE (DuckDB
would materialise a CTE used twice); checks read them through ``Context.readings_sql``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from parkbrain.model.tables import table_spec
from parkbrain.store.base import Store

SourceKey = tuple[str | None, int | str | None]  # (data_source, import_id)
LINEAGE = ("data_source", "import_id")
_NULLS = {"data_source": "NULL::VARCHAR", "import_id": "NULL"}  # import_id: whatever type the store uses
_PARAM = re.compile(r"\$([A-Za-z_]\w*)")
_PARK_TABLES = ("parks", "zones", "buildings", "enterprises", "devices")
_REGIONS_OF_PARK = (
    "region_code IN (SELECT region_code FROM parks WHERE park_id = $park "
    "UNION SELECT r.parent_code FROM regions r JOIN parks p USING (region_code) WHERE p.park_id = $park)"
)


@dataclass(frozen=True)
class CheckSpec:
    """One check as the runner executes it.

    ``failed_sql`` selects the failing rows (``None`` when Python already knows none failed);
    ``total_sql`` selects ``data_source, import_id, n`` — the rows checked per source;
    ``order_by`` orders the samples (worst or first first); ``breakdown`` names a column whose
    values are counted (e.g. the kind of a register drop). ``shared``: ``failed_sql`` serves several
    checks in one pass and names the check of each row in a ``_check`` column; ``columns`` then
    says which of its columns this check's samples keep.
    """

    check: str
    table: str
    dimension: str
    description: str
    failed_sql: str | None
    total_sql: str
    order_by: str
    params: Mapping[str, Any] = field(default_factory=dict)
    breakdown: str | None = None
    reference: str | None = None
    shared: bool = False
    columns: tuple[str, ...] = ()


@dataclass
class Outcome:
    """What the runner found for one check: counts per source, samples and the breakdown."""

    failed: dict[SourceKey, int]
    total: dict[SourceKey, int]
    samples: list[dict[str, Any]]
    breakdown: dict[str, int]


@dataclass
class Context:
    """The store, its schema and the scope of one report."""

    store: Store
    park_id: str | None
    now: datetime
    sample: int
    schema: dict[str, set[str]] = field(default_factory=dict)
    _counts: dict[str, dict[SourceKey, int]] = field(default_factory=dict)

    @classmethod
    def open(cls, store: Store, park_id: str | None, now: datetime, sample: int) -> Context:
        ctx = cls(store, park_id, now, sample)
        rows = store.query(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'main'"
        ).to_pylist()
        for row in rows:
            ctx.schema.setdefault(row["table_name"], set()).add(row["column_name"])
        return ctx

    def has(self, table: str, *columns: str) -> bool:
        """True when ``table`` exists with all ``columns``."""
        return table in self.schema and all(c in self.schema[table] for c in columns)

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run ``sql`` with the scope CTEs it uses, binding only the parameters it names."""
        text = self._with_scope(sql)
        values = {"park": self.park_id, "now": self.now, "sample": self.sample, **(params or {})}
        used = {name: values[name] for name in dict.fromkeys(_PARAM.findall(text))}
        return self.store.query(text, used or None).to_pylist()

    def counts(self, sql: str, params: Mapping[str, Any] | None = None) -> dict[SourceKey, int]:
        """``data_source, import_id, n`` rows as a dict; cached when there are no parameters of its own."""
        if not params and sql in self._counts:
            return self._counts[sql]
        found = {(r["data_source"], r["import_id"]): int(r["n"]) for r in self.rows(sql, params)}
        if not params:
            self._counts[sql] = found
        return found

    def run(self, specs: list[CheckSpec]) -> list[Outcome]:
        """The outcome of each spec, in order; shared specs with the same ``failed_sql`` run as one pass."""
        passes: dict[str, list[CheckSpec]] = {}
        for spec in specs:
            if spec.shared and spec.failed_sql:
                passes.setdefault(spec.failed_sql, []).append(spec)
        found = {
            sql: self.rows(_aggregate_sql(members), members[0].params) for sql, members in passes.items()
        }
        return [self._outcome(spec, found.get(spec.failed_sql or "")) for spec in specs]

    def _outcome(self, spec: CheckSpec, shared: list[dict[str, Any]] | None) -> Outcome:
        total = self.counts(spec.total_sql, spec.params)
        if shared is not None:
            groups = [g for g in shared if g["_check"] == spec.check]
        elif spec.failed_sql is None or not total:
            return Outcome({}, total, [], {})
        else:
            groups = self.rows(_aggregate_sql([spec]), spec.params)
        failed = {(g["data_source"], g["import_id"]): int(g["n"]) for g in groups}
        samples = _merge_samples(groups, self.sample, spec.columns)
        return Outcome(failed, total, samples, _merge_breakdown(groups))

    def source_counts(self, table: str) -> str:
        """SQL counting the scoped rows of ``table`` per source."""
        return f"SELECT data_source, import_id, count(*) AS n FROM s_{table} GROUP BY ALL"

    def readings_sql(self, points_where: str = "") -> str:
        """A subquery of readings (point_id, ts, value, import_id) of the scoped points matching ``points_where``."""
        lineage = "import_id" if self.has("readings", "import_id") else "NULL AS import_id"
        where = ""
        if points_where or self.park_id is not None:
            extra = f" WHERE {points_where}" if points_where else ""
            where = f" WHERE point_id IN (SELECT point_id FROM s_points{extra})"
        return f"(SELECT point_id, ts, value, {lineage} FROM readings{where})"

    def _with_scope(self, sql: str) -> str:
        ctes = [f"s_{t} AS ({self._scoped(t)})" for t in self.schema if re.search(rf"\bs_{t}\b", sql)]
        return f"WITH {', '.join(ctes)} {sql}" if ctes else sql

    def _scoped(self, table: str) -> str:
        extra = "".join(f", {_NULLS[c]} AS {c}" for c in LINEAGE if c not in self.schema[table])
        return f'SELECT *{extra} FROM "{table}"{self._scope_where(table)}'

    def _scope_where(self, table: str) -> str:
        if self.park_id is None:
            return ""
        if table in _PARK_TABLES:
            return " WHERE park_id = $park"
        if table == "points":
            return " WHERE device_id IN (SELECT device_id FROM devices WHERE park_id = $park)"
        if table == "regions":
            return f" WHERE {_REGIONS_OF_PARK}"
        return ""


def _aggregate_sql(specs: list[CheckSpec]) -> str:
    """Failing rows counted per source (and per check when shared), with the first samples of each."""
    first = specs[0]
    group = "_check, " if first.shared else ""
    rank = f"row_number() OVER (ORDER BY {first.order_by})"
    if first.shared:
        cases = " ".join(
            f"WHEN '{s.check}' THEN row_number() OVER (PARTITION BY _check ORDER BY {s.order_by})"
            for s in specs
        )
        rank = f"CASE _check {cases} END"
    counted = next((s.breakdown for s in specs if s.breakdown), None)
    breakdown = f", histogram({counted}) AS breakdown" if counted else ""
    return (
        f"SELECT {group}data_source, import_id, count(*) AS n, "
        f"list(f ORDER BY _rk) FILTER (WHERE _rk <= $sample) AS samples{breakdown} "
        f"FROM (SELECT *, {rank} AS _rk FROM ({first.failed_sql})) f "
        f"GROUP BY {group}data_source, import_id"
    )


def _merge_samples(
    groups: list[dict[str, Any]], limit: int, columns: tuple[str, ...]
) -> list[dict[str, Any]]:
    rows = [row for g in groups for row in (g["samples"] or [])]
    rows.sort(key=lambda row: row["_rk"])
    keep = set(columns or rows[0]) - {"_rk", "_check"} if rows else set()
    return [{k: v for k, v in row.items() if k in keep} for row in rows[:limit]]


def _merge_breakdown(groups: list[dict[str, Any]]) -> dict[str, int]:
    merged: dict[str, int] = {}
    for group in groups:
        histogram = group.get("breakdown") or {}
        items = histogram.items() if isinstance(histogram, dict) else histogram
        for key, count in items:
            merged[str(key)] = merged.get(str(key), 0) + int(count)
    return dict(sorted(merged.items()))


def key_of(table: str) -> str:
    """The first key column of a canonical table."""
    return table_spec(table).key[0]


def keyed_spec(
    ctx: Context,
    base: CheckSpec,
    checked: list[str],
    bad: Mapping[str, Mapping[str, Any]],
    show: tuple[str, ...] = (),
) -> CheckSpec:
    """A check decided in Python: ``checked`` keys were examined, ``bad`` maps failing keys to details.

    ``base`` gives the names and description; its SQL is replaced. Details become sample columns
    beside the key, the lineage and the ``show`` columns of the row.
    """
    table, key = base.table, key_of(base.table)
    total = (
        f"SELECT data_source, import_id, count(*) AS n FROM s_{table} "
        f"WHERE {key} IN (SELECT unnest($checked::VARCHAR[])) GROUP BY ALL"
    )
    params: dict[str, Any] = {"checked": list(checked)}
    failed = None
    if bad:
        failed, detail_params = _keyed_failed(table, key, bad, show)
        params.update(detail_params)
    return replace(base, failed_sql=failed, total_sql=total, params=params, order_by=base.order_by or key)


def _keyed_failed(
    table: str, key: str, bad: Mapping[str, Mapping[str, Any]], show: tuple[str, ...]
) -> tuple[str, dict[str, Any]]:
    names = list(next(iter(bad.values())))
    params: dict[str, Any] = {"bad_key": list(bad)}
    columns = ["unnest($bad_key::VARCHAR[]) AS _key"]
    for i, name in enumerate(names):
        params[f"bad_{i}"] = [detail.get(name) for detail in bad.values()]
        columns.append(f'unnest($bad_{i}) AS "{name}"')
    shown = "".join(f', t."{c}"' for c in show)
    sql = (
        f"SELECT t.data_source, t.import_id, t.{key}{shown}, b.* EXCLUDE (_key) FROM s_{table} t "
        f"JOIN (SELECT {', '.join(columns)}) b ON t.{key} = b._key"
    )
    return sql, params
