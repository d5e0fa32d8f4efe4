"""The structured query of the park assistant: what a question asks, independent of how it was parsed.

The offline parser (``ai.parse``) and the LLM path (``ai.llm_query``) both produce a ``StructuredQuery``;
``ai.compile`` turns it into SQL over the semantic views (``ai.views``). ``from_dict`` validates a plain
dict (e.g. an LLM tool call) against the semantic layer (``ai.semantic``) and raises ``InvalidInput``
naming the field and what was expected; ``to_dict`` is the JSON-safe ``query`` key of an answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from parkbrain.errors import InvalidInput

FILTER_OPS: tuple[str, ...] = ("=", "!=", "in")
COMPARES: tuple[str, ...] = ("yoy", "mom")
ORDERS: tuple[str, ...] = ("desc", "asc")
GRAINS: tuple[str, ...] = ("day", "week", "month", "quarter", "year")
MAX_LIMIT = 1000


def _layer():  # noqa: ANN202 - imported lazily: semantic imports nothing from here, but keep it one-way
    from parkbrain.ai.semantic import load_layer

    return load_layer()


@dataclass(frozen=True)
class Filter:
    """One filter: ``dimension`` (a filterable dimension id), ``op`` and ``value`` (ids, not names)."""

    dimension: str
    op: str
    value: str | tuple[str, ...]

    @classmethod
    def from_dict(cls, d: Any, where: str = "filters[0]") -> Filter:
        if not isinstance(d, dict):
            raise InvalidInput(f"query {where}: expected an object with dimension, op, value; got {d!r}")
        _no_extra(d, {"dimension", "op", "value"}, where)
        layer = _layer()
        dim = d.get("dimension")
        if dim not in layer.filter_dimensions:
            raise InvalidInput(
                f"query {where}.dimension: expected one of {sorted(layer.filter_dimensions)}; got {dim!r}"
            )
        op = d.get("op", "=")
        if op not in FILTER_OPS:
            raise InvalidInput(f"query {where}.op: expected one of {list(FILTER_OPS)}; got {op!r}")
        value = d.get("value")
        if op == "in":
            if (
                not isinstance(value, (list, tuple))
                or not value
                or not all(isinstance(v, str) for v in value)
            ):
                raise InvalidInput(f"query {where}.value: expected a non-empty list of strings for 'in'")
            return cls(dim, op, tuple(value))
        if not isinstance(value, str) or not value:
            raise InvalidInput(f"query {where}.value: expected a non-empty string; got {value!r}")
        return cls(dim, op, value)

    def values(self) -> tuple[str, ...]:
        return self.value if isinstance(self.value, tuple) else (self.value,)

    def to_dict(self) -> dict[str, Any]:
        value = list(self.value) if isinstance(self.value, tuple) else self.value
        return {"dimension": self.dimension, "op": self.op, "value": value}


@dataclass(frozen=True)
class TimeRange:
    """A half-open window of Asia/Shanghai calendar days ``[start, end)``, an optional grain, a label."""

    start: date
    end: date
    grain: str | None = None
    label: str = ""

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise InvalidInput(f"query time: end {self.end} must be after start {self.start}")
        if self.grain is not None and self.grain not in GRAINS:
            raise InvalidInput(
                f"query time.grain: expected one of {list(GRAINS)} or null; got {self.grain!r}"
            )

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @classmethod
    def from_dict(cls, d: Any) -> TimeRange:
        if not isinstance(d, dict):
            raise InvalidInput(f"query time: expected an object with start, end, grain, label; got {d!r}")
        _no_extra(d, {"start", "end", "grain", "label"}, "time")
        start = _iso_date(d.get("start"), "time.start")
        end = _iso_date(d.get("end"), "time.end")
        label = d.get("label") or ""
        if not isinstance(label, str):
            raise InvalidInput(f"query time.label: expected a string; got {label!r}")
        return cls(start, end, d.get("grain"), label)

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "grain": self.grain,
            "label": self.label,
        }


@dataclass(frozen=True)
class StructuredQuery:
    """What a question asks: a metric, group-by dimensions, filters, a window, a comparison, a ranking."""

    metric: str
    dimensions: tuple[str, ...] = ()
    filters: tuple[Filter, ...] = ()
    time: TimeRange | None = None
    compare: str | None = None
    order: str | None = None
    limit: int | None = None
    # a variant of the metric's aggregate ("max" for 最高AQI); None is the metric's own aggregate
    agg: str | None = field(default=None)

    @classmethod
    def from_dict(cls, d: Any) -> StructuredQuery:
        """Validate ``d`` against the semantic layer; ``InvalidInput`` names the field and what was expected."""
        if not isinstance(d, dict):
            raise InvalidInput(f"query: expected an object; got {type(d).__name__}")
        _no_extra(d, {"metric", "dimensions", "filters", "time", "compare", "order", "limit", "agg"}, "query")
        layer = _layer()
        metric = d.get("metric")
        if metric not in layer.metrics:
            raise InvalidInput(f"query metric: expected one of {sorted(layer.metrics)}; got {metric!r}")
        dims = d.get("dimensions") or []
        if not isinstance(dims, (list, tuple)) or not all(isinstance(x, str) for x in dims):
            raise InvalidInput(f"query dimensions: expected a list of dimension ids; got {dims!r}")
        time = TimeRange.from_dict(d["time"]) if d.get("time") is not None else None
        if "time" in dims:  # the time dimension is the window's grain
            if time is None or time.grain is None:
                raise InvalidInput("query dimensions: 'time' needs time.grain (day/week/month/quarter/year)")
            dims = [x for x in dims if x != "time"]
        for i, dim in enumerate(dims):
            if dim not in layer.dimensions:
                raise InvalidInput(
                    f"query dimensions[{i}]: expected one of {sorted(layer.dimensions)}; got {dim!r}"
                )
        raw_filters = d.get("filters") or []
        if not isinstance(raw_filters, (list, tuple)):
            raise InvalidInput(f"query filters: expected a list of filters; got {raw_filters!r}")
        filters = tuple(Filter.from_dict(f, f"filters[{i}]") for i, f in enumerate(raw_filters))
        compare = d.get("compare")
        if compare is not None and compare not in COMPARES:
            raise InvalidInput(f"query compare: expected one of {list(COMPARES)} or null; got {compare!r}")
        order = d.get("order")
        if order is not None and order not in ORDERS:
            raise InvalidInput(f"query order: expected one of {list(ORDERS)} or null; got {order!r}")
        limit = d.get("limit")
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT
        ):
            raise InvalidInput(f"query limit: expected an integer 1..{MAX_LIMIT} or null; got {limit!r}")
        agg = d.get("agg")
        if agg is not None and agg not in layer.metrics[metric].aggs:
            raise InvalidInput(
                f"query agg: expected one of {list(layer.metrics[metric].aggs)} for {metric} or null; got {agg!r}"
            )
        return cls(metric, tuple(dims), filters, time, compare, order, limit, agg)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-safe form (dates ISO): the ``query`` key of an answer."""
        return {
            "metric": self.metric,
            "dimensions": list(self.dimensions),
            "filters": [f.to_dict() for f in self.filters],
            "time": self.time.to_dict() if self.time else None,
            "compare": self.compare,
            "order": self.order,
            "limit": self.limit,
            "agg": self.agg,
        }


def query_json_schema() -> dict[str, Any]:
    """JSON schema of ``StructuredQuery.to_dict()`` (for LLM tool calls), enums from the semantic layer."""
    layer = _layer()
    nullable_str = {"type": ["string", "null"]}
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["metric"],
        "properties": {
            "metric": {"type": "string", "enum": sorted(layer.metrics), "description": layer.metric_help()},
            "dimensions": {
                "type": "array",
                "items": {"type": "string", "enum": [*sorted(layer.dimensions), "time"]},
                "description": "group-by dimensions; 'time' groups by time.grain",
            },
            "filters": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["dimension", "op", "value"],
                    "properties": {
                        "dimension": {"type": "string", "enum": sorted(layer.filter_dimensions)},
                        "op": {"type": "string", "enum": list(FILTER_OPS)},
                        "value": {
                            "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
                            "description": "ids: park_id, enterprise_id, city_code, industry_name, status, "
                            "severity, carrier …",
                        },
                    },
                },
            },
            "time": {
                "type": ["object", "null"],
                "additionalProperties": False,
                "required": ["start", "end"],
                "properties": {
                    "start": {"type": "string", "format": "date"},
                    "end": {"type": "string", "format": "date", "description": "exclusive"},
                    "grain": {"type": ["string", "null"], "enum": [*GRAINS, None]},
                    "label": {"type": "string"},
                },
            },
            "compare": {"type": ["string", "null"], "enum": [*COMPARES, None]},
            "order": {"type": ["string", "null"], "enum": [*ORDERS, None]},
            "limit": {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_LIMIT},
            "agg": {**nullable_str, "description": "an aggregate variant, e.g. 'max' for the highest AQI"},
        },
    }


def _no_extra(d: dict, allowed: set[str], where: str) -> None:
    extra = sorted(set(d) - allowed)
    if extra:
        raise InvalidInput(f"query {where}: unknown field(s) {extra}; expected only {sorted(allowed)}")


def _iso_date(value: Any, where: str) -> date:
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise InvalidInput(f"query {where}: expected an ISO date YYYY-MM-DD; got {value!r}")
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise InvalidInput(f"query {where}: expected an ISO date YYYY-MM-DD; got {value!r}") from None
