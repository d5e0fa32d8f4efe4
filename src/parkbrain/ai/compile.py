"""``StructuredQuery`` → one read-only SQL SELECT over the semantic views (``ai.views``).

The platform, not a model, writes this SQL: column names come from the semantic layer (never from the
question) and values are quoted literals (strings with quotes doubled, dates from ``date`` objects,
integers), so the text that ran is the text shown. Tenant scope is in the views themselves: they are
built on the answering connection under the caller's scope, so this SQL cannot reach other tenants' rows.

Result columns: the group-by dimensions as names (``park_name``, ``city_name``, ``enterprise_name``,
``industry_name``, ``building_name``, ``device_name``), then the time bucket (``day``, ``week``, ``month``
'YYYY-MM', ``quarter`` 'YYYY-Qn', ``year``), then the metric id; comparisons give ``current``,
``previous`` and ``change_pct`` (percent) instead of the metric.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from parkbrain.ai.query import StructuredQuery, TimeRange
from parkbrain.ai.semantic import SemanticLayer, load_layer
from parkbrain.ai.timeexpr import previous_range
from parkbrain.errors import InvalidInput
from parkbrain.store.base import sql_string

# The columns of each fact view (the contract of ai.views), to know what a view has itself.
FACT_COLUMNS: dict[str, frozenset[str]] = {
    "sem_enterprises": frozenset({"enterprise_id", "enterprise_name", "park_id", "park_name", "city_code",
                                  "city_name", "industry_code", "industry_name", "employees", "output_value_10k_cny",
                                  "key_energy_user", "building_id"}),
    "sem_energy_daily": frozenset({"day", "point_id", "device_id", "enterprise_id", "building_id", "park_id",
                                   "city_code", "carrier", "unit", "amount", "tce", "tco2"}),
    "sem_alerts": frozenset({"alert_id", "ts", "day", "park_id", "enterprise_id", "device_id", "rule", "severity",
                             "status"}),
    "sem_aqi_daily": frozenset({"day", "device_id", "park_id", "city_code", "aqi", "primary_pollutant", "level"}),
}  # fmt: skip
# Lookup views: alias and the fact column they join on.
LOOKUPS: dict[str, tuple[str, str]] = {
    "sem_parks": ("p", "park_id"),
    "sem_enterprises": ("e", "enterprise_id"),
    "sem_buildings": ("b", "building_id"),
    "sem_devices": ("d", "device_id"),
}
TIME_LABELS: dict[str, str] = {
    "day": "{d}",
    "week": "strftime({d}, '%G-W%V')",
    "month": "strftime({d}, '%Y-%m')",
    "quarter": "CAST(year({d}) AS VARCHAR) || '-Q' || CAST(quarter({d}) AS VARCHAR)",
    "year": "CAST(year({d}) AS VARCHAR)",
}


@dataclass(frozen=True)
class Compiled:
    """The SQL of a query, the views it reads and the windows it needs data for."""

    sql: str
    views: tuple[str, ...]
    windows: tuple[TimeRange, ...]
    columns: tuple[str, ...]


def sql_date(value: date) -> str:
    return f"DATE '{date.fromordinal(value.toordinal()).isoformat()}'"


class _Builder:
    """The FROM/WHERE/GROUP BY of one aggregate over one fact view."""

    def __init__(self, q: StructuredQuery, layer: SemanticLayer, view: str) -> None:
        self.q, self.layer, self.view = q, layer, view
        self.cols = FACT_COLUMNS[view]
        self.joins: dict[str, str] = {}
        self.where: list[str] = []

    def column(self, name: str, lookup: str | None = None) -> str:
        """``name`` from the fact view, or from the lookup view that has it (joined once)."""
        if name in self.cols:
            return f"f.{name}"
        lookup = lookup or _lookup_of(name)
        alias, on = LOOKUPS[lookup]
        if on not in self.cols:  # e.g. AQI by enterprise: the stations have no enterprise
            raise InvalidInput(f"query: {name} is not available for {self.q.metric} ({self.view})")
        self.joins.setdefault(alias, f"JOIN {lookup} {alias} ON {alias}.{on} = f.{on}")
        return f"{alias}.{name}"

    def dimension(self, did: str) -> tuple[str, str]:
        """(key expression, label expression) of a group-by dimension."""
        dim = self.layer.dimensions[did]
        if did == "city" and "city_code" not in self.cols:
            return self.column("city_code", "sem_parks"), self.column("city_name", "sem_parks")
        key = self.column(dim.key, dim.lookup)
        label = self.column(dim.label, dim.lookup)
        self.where.append(f"{key} IS NOT NULL")
        return key, label

    def filters(self) -> None:
        metric = self.layer.metrics[self.q.metric]
        if metric.carrier and "carrier" in self.cols:
            self.where.append(f"f.carrier = {sql_string(metric.carrier)}")
        for f in self.q.filters:
            if f.dimension in self.layer.dimensions:
                dim = self.layer.dimensions[f.dimension]
                col = self.column(dim.key, dim.lookup if f.dimension != "city" else "sem_parks")
            else:
                fc = self.layer.filter_columns[f.dimension]
                if fc.view != self.view and not (
                    fc.view == "sem_enterprises" and "enterprise_id" in self.cols
                ):
                    raise InvalidInput(f"query filters: {f.dimension} does not apply to {self.q.metric}")
                col = self.column(fc.column, fc.view)
            self.where.append(_predicate(col, f.op, f.values(), f.dimension))

    def window(self, t: TimeRange | None) -> None:
        if t is not None and "day" in self.cols:
            self.where.append(f"f.day >= {sql_date(t.start)} AND f.day < {sql_date(t.end)}")

    def from_where(self) -> str:
        joins = "".join(f"\n    {j}" for j in self.joins.values())
        where = f"\nWHERE {' AND '.join(self.where)}" if self.where else ""
        return f"FROM {self.view} f{joins}{where}"


def _lookup_of(column: str) -> str:
    if column in ("park_name", "city_name", "city_code"):
        return "sem_parks"
    if column in ("building_name",):
        return "sem_buildings"
    if column in ("device_name",):
        return "sem_devices"
    return "sem_enterprises"


def _predicate(col: str, op: str, values: tuple[str, ...], dimension: str) -> str:
    if dimension == "key_energy_user":
        literal = [("TRUE" if v.lower() in ("true", "1", "yes") else "FALSE") for v in values]
    else:
        literal = [sql_string(v) for v in values]
    if op == "in":
        return f"{col} IN ({', '.join(literal)})"
    return f"{col} {'<>' if op == '!=' else '='} {literal[0]}"


def _check(q: StructuredQuery, layer: SemanticLayer) -> None:
    metric = layer.metrics[q.metric]
    if q.compare and q.time is None:
        raise InvalidInput("query compare: a comparison needs a time window")
    if q.compare and not metric.timed:
        raise InvalidInput(f"query compare: {q.metric} is an annual figure; it has no 同比/环比")
    if q.agg and q.agg not in metric.aggs:
        raise InvalidInput(f"query agg: {q.agg} does not apply to {q.metric}")


def compile_query(q: StructuredQuery, layer: SemanticLayer | None = None) -> Compiled:
    """The SQL of ``q`` over the semantic views; ``InvalidInput`` when a dimension or filter does not
    apply to the metric (e.g. AQI by enterprise)."""
    layer = layer or load_layer()
    _check(q, layer)
    if q.metric == "energy_intensity":
        return _intensity(q, layer)
    if q.compare:
        return _compare(q, layer)
    return _simple(q, layer)


def _aggregate(q: StructuredQuery, layer: SemanticLayer) -> str:
    metric = layer.metrics[q.metric]
    expr = metric.aggs[q.agg] if q.agg else metric.expr
    return expr.replace("{f}", "f")


def _grouped(b: _Builder, q: StructuredQuery, grain: str | None) -> tuple[list[str], list[str], list[str]]:
    """(select items, group-by expressions, label column names) of the dimensions and the time bucket."""
    select, group, names = [], [], []
    for did in q.dimensions:
        key, label = b.dimension(did)
        name = b.layer.dimensions[did].label
        select.append(f"{label} AS {name}")
        group += [key, label]
        names.append(name)
    if grain and "day" in b.cols:
        bucket = TIME_LABELS[grain].format(d="f.day")
        select.append(f"{bucket} AS {grain}")
        group.append(bucket)
        names.append(grain)
    return select, group, names


def _simple(q: StructuredQuery, layer: SemanticLayer) -> Compiled:
    view = layer.metrics[q.metric].view
    b = _Builder(q, layer, view)
    grain = q.time.grain if q.time else None
    select, group, names = _grouped(b, q, grain)
    b.filters()
    b.window(q.time if layer.metrics[q.metric].timed else None)
    select.append(f"{_aggregate(q, layer)} AS {q.metric}")
    sql = f"SELECT {', '.join(select)}\n{b.from_where()}"
    if group:
        sql += f"\nGROUP BY {', '.join(dict.fromkeys(group))}"
    sql += _order_limit(q, names, q.metric, grain)
    views = (view, *[v for v, (a, _) in LOOKUPS.items() if a in b.joins])
    windows = (q.time,) if q.time and layer.metrics[q.metric].timed else ()
    return Compiled(sql, views, windows, (*names, q.metric))


def _order_limit(q: StructuredQuery, names: list[str], value: str, grain: str | None) -> str:
    order = []
    if q.order:
        order.append(f"{value} {'ASC' if q.order == 'asc' else 'DESC'} NULLS LAST")
    elif grain:
        order.append(grain)
    order += [n for n in names if n not in order]
    sql = f"\nORDER BY {', '.join(order)}" if order else ""
    if q.limit is not None:
        sql += f"\nLIMIT {int(q.limit)}"
    return sql


def _compare(q: StructuredQuery, layer: SemanticLayer) -> Compiled:
    assert q.time is not None and q.compare is not None
    prev = previous_range(q.time, q.compare)
    parts: list[str] = []
    names: list[str] = []
    views: list[str] = []
    for name, window in (("cur", q.time), ("prev", prev)):
        b = _Builder(q, layer, layer.metrics[q.metric].view)
        select, group, names = _grouped(b, q, None)
        b.filters()
        b.window(window)
        select.append(f"{_aggregate(q, layer)} AS v")
        sql = f"SELECT {', '.join(select)}\n{b.from_where()}"
        if group:
            sql += f"\nGROUP BY {', '.join(dict.fromkeys(group))}"
        parts.append(f"{name} AS (\n{sql}\n)")
        views = [b.view, *[v for v, (a, _) in LOOKUPS.items() if a in b.joins]]
    labels = [f"cur.{n}" for n in names]
    join = f"cur LEFT JOIN prev USING ({', '.join(names)})" if names else "cur CROSS JOIN prev"
    sql = (
        f"WITH {', '.join(parts)}\n"
        f"SELECT {''.join(x + ', ' for x in labels)}cur.v AS current, prev.v AS previous,\n"
        f"       (cur.v - prev.v) / nullif(prev.v, 0) * 100 AS change_pct\nFROM {join}"
    )
    sql += _order_limit(q, [f"cur.{n}" for n in names], "current", None)
    return Compiled(sql, tuple(views), (q.time, prev), (*names, "current", "previous", "change_pct"))


def _intensity(q: StructuredQuery, layer: SemanticLayer) -> Compiled:
    """tce of the window over the annual output of the same group (park, city, industry, enterprise)."""
    allowed = {"park", "city", "industry", "enterprise"}
    if set(q.dimensions) - allowed:
        raise InvalidInput(f"query dimensions: energy_intensity groups by {sorted(allowed)} only")
    grain = q.time.grain if q.time else None
    en = _Builder(q, layer, "sem_energy_daily")
    en_select, en_group, names = _grouped(en, q, grain)
    en.filters()
    en.window(q.time)
    out_q = StructuredQuery(
        "output_value", q.dimensions, tuple(f for f in q.filters if f.dimension != "carrier")
    )
    out = _Builder(out_q, layer, "sem_enterprises")
    out_select, out_group, out_names = _grouped(out, out_q, None)
    out.filters()
    energy = f"SELECT {', '.join([*en_select, 'sum(f.tce) AS tce'])}\n{en.from_where()}"
    energy += f"\nGROUP BY {', '.join(dict.fromkeys(en_group))}" if en_group else ""
    output = f"SELECT {', '.join([*out_select, 'sum(f.output_value_10k_cny) AS output_10k_cny'])}\n{out.from_where()}"
    output += f"\nGROUP BY {', '.join(dict.fromkeys(out_group))}" if out_group else ""
    join = f"en JOIN o USING ({', '.join(out_names)})" if out_names else "en CROSS JOIN o"
    labels = "".join(f"en.{n}, " for n in names)
    sql = (
        f"WITH en AS (\n{energy}\n), o AS (\n{output}\n)\n"
        f"SELECT {labels}en.tce / nullif(o.output_10k_cny, 0) AS energy_intensity\nFROM {join}"
    )
    sql += _order_limit(q, [f"en.{n}" for n in names], "energy_intensity", f"en.{grain}" if grain else None)
    views = ("sem_energy_daily", "sem_enterprises", *[v for v, (a, _) in LOOKUPS.items() if a in en.joins])
    return Compiled(
        sql, tuple(dict.fromkeys(views)), (q.time,) if q.time else (), (*names, "energy_intensity")
    )
