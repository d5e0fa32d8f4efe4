"""The semantic layer of the park assistant, loaded from ``semantic_layer.toml`` and checked.

Metrics, dimensions, filter-only dimensions, time words and value words are declared as data (small frozen
dataclasses built from the TOML file, which cites its sources); the parser, the compiler, the JSON schema
of the LLM tool call and the docs all read this one ``SemanticLayer``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

try:  # pragma: no cover - depends on the Python version
    import tomllib
except ModuleNotFoundError:  # pragma: no cover
    import tomli as tomllib

from parkbrain.errors import ConfigError

LAYER_FILE = "semantic_layer.toml"
VIEWS: tuple[str, ...] = (
    "sem_enterprises",
    "sem_parks",
    "sem_energy_daily",
    "sem_alerts",
    "sem_aqi_daily",
    "sem_buildings",
    "sem_devices",
)
TIME_UNITS: tuple[str, ...] = ("day", "week", "month", "quarter", "year")
_IDENT = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Metric:
    """One metric: its id (the result column), view, SQL aggregate (``{f}`` = the fact alias), unit, words."""

    id: str
    zh: str
    en: str
    unit: str
    unit_zh: str
    view: str
    expr: str
    timed: bool
    synonyms_zh: tuple[str, ...]
    synonyms_en: tuple[str, ...]
    carrier: str | None = None
    composite: bool = False
    aggs: dict[str, str] = field(default_factory=dict, hash=False, compare=False)

    def name(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    def unit_text(self, lang: str) -> str:
        return self.unit_zh if lang == "zh" else self.unit


@dataclass(frozen=True)
class Dimension:
    """A group-by dimension: id column ``key``, name column ``label``, and where the name comes from."""

    id: str
    zh: str
    en: str
    key: str
    label: str
    lookup: str
    on: str
    group_words_zh: tuple[str, ...]
    group_words_en: tuple[str, ...]


@dataclass(frozen=True)
class FilterColumn:
    """A filter-only dimension (status, severity, carrier …): a column of one view and its known values."""

    id: str
    view: str
    column: str
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class TimeWord:
    """A relative window word: ``unit`` (day … year) and ``offset`` from the current one (上个月 = -1)."""

    word: str
    unit: str
    offset: int


@dataclass(frozen=True)
class SemanticLayer:
    """Everything the assistant can be asked, as data."""

    version: str
    metrics: dict[str, Metric]
    dimensions: dict[str, Dimension]
    filter_columns: dict[str, FilterColumn]
    time_words: dict[str, TimeWord]
    grain_words: dict[str, str]  # word -> grain
    value_words: dict[str, dict[str, str]]  # filter id -> word -> value

    @property
    def filter_dimensions(self) -> set[str]:
        """Ids a ``Filter`` may name: every dimension plus the filter-only ones."""
        return set(self.dimensions) | set(self.filter_columns)

    def metric_help(self) -> str:
        return "; ".join(f"{m.id}: {m.zh} / {m.en} ({m.unit or 'count'})" for m in self.metrics.values())

    def metric_words(self) -> list[tuple[str, str]]:
        """(word, metric id) pairs, longest word first (so 综合能耗 beats 能耗)."""
        pairs = {
            (w.lower(), m.id)
            for m in self.metrics.values()
            for w in (*m.synonyms_zh, *m.synonyms_en, m.zh, m.en)
        }
        return sorted(pairs, key=lambda p: (-len(p[0]), p[0]))


def _strings(raw: dict, key: str, where: str) -> tuple[str, ...]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{LAYER_FILE} {where}.{key}: expected a list of non-empty strings")
    return tuple(value)


def _required(raw: dict, key: str, where: str) -> Any:
    if key not in raw:
        raise ConfigError(f"{LAYER_FILE} {where}: missing field {key!r}")
    return raw[key]


def _metric(mid: str, raw: dict) -> Metric:
    where = f"metrics.{mid}"
    view = _required(raw, "view", where)
    if view not in VIEWS:
        raise ConfigError(f"{LAYER_FILE} {where}.view: expected one of {list(VIEWS)}; got {view!r}")
    expr = _required(raw, "expr", where)
    if "{f}" not in expr and expr != "count(*)":
        raise ConfigError(f"{LAYER_FILE} {where}.expr: expected an aggregate over the fact alias {{f}}")
    aggs = raw.get("aggs", {})
    return Metric(
        id=mid,
        zh=_required(raw, "zh", where),
        en=_required(raw, "en", where),
        unit=raw.get("unit", ""),
        unit_zh=raw.get("unit_zh", raw.get("unit", "")),
        view=view,
        expr=expr,
        timed=bool(_required(raw, "timed", where)),
        synonyms_zh=_strings(raw, "synonyms_zh", where),
        synonyms_en=_strings(raw, "synonyms_en", where),
        carrier=raw.get("carrier"),
        composite=bool(raw.get("composite", False)),
        aggs=dict(aggs),
    )


def _dimension(did: str, raw: dict) -> Dimension:
    where = f"dimensions.{did}"
    lookup = _required(raw, "lookup", where)
    if lookup not in VIEWS:
        raise ConfigError(f"{LAYER_FILE} {where}.lookup: expected one of {list(VIEWS)}; got {lookup!r}")
    for col in ("key", "label", "on"):
        if not _IDENT.match(str(_required(raw, col, where))):
            raise ConfigError(f"{LAYER_FILE} {where}.{col}: expected a column name")
    return Dimension(
        id=did,
        zh=_required(raw, "zh", where),
        en=_required(raw, "en", where),
        key=raw["key"],
        label=raw["label"],
        lookup=lookup,
        on=raw["on"],
        group_words_zh=_strings(raw, "group_words_zh", where),
        group_words_en=_strings(raw, "group_words_en", where),
    )


def _time_words(raw: dict) -> dict[str, TimeWord]:
    words = {}
    for word, spec in raw.get("words", {}).items():
        unit = spec.get("unit")
        if unit not in TIME_UNITS or not isinstance(spec.get("offset"), int):
            raise ConfigError(
                f"{LAYER_FILE} time.words.{word}: expected unit in {list(TIME_UNITS)} and an offset"
            )
        words[word.lower()] = TimeWord(word.lower(), unit, spec["offset"])
    return words


def _grain_words(raw: dict) -> dict[str, str]:
    out = {}
    for grain, words in raw.get("grains", {}).items():
        if grain not in TIME_UNITS:
            raise ConfigError(f"{LAYER_FILE} time.grains.{grain}: expected one of {list(TIME_UNITS)}")
        for w in words:
            out[w.lower()] = grain
    return out


def parse_layer(data: dict) -> SemanticLayer:
    """Build and check a ``SemanticLayer`` from the parsed TOML ``data``; ``ConfigError`` names the field."""
    metrics = {mid: _metric(mid, raw) for mid, raw in _required(data, "metrics", "").items()}
    dimensions = {did: _dimension(did, raw) for did, raw in _required(data, "dimensions", "").items()}
    filter_columns = {
        fid: FilterColumn(fid, raw["view"], raw["column"], tuple(raw.get("values", ())))
        for fid, raw in data.get("filters", {}).items()
    }
    value_words: dict[str, dict[str, str]] = {}
    for fid, table in data.get("values", {}).items():
        if fid not in filter_columns:
            raise ConfigError(
                f"{LAYER_FILE} values.{fid}: not a filter; expected one of {sorted(filter_columns)}"
            )
        value_words[fid] = {w.lower(): value for value, words in table.items() for w in words}
    time = data.get("time", {})
    return SemanticLayer(
        version=str(_required(data, "version", "")),
        metrics=metrics,
        dimensions=dimensions,
        filter_columns=filter_columns,
        time_words=_time_words(time),
        grain_words=_grain_words(time),
        value_words=value_words,
    )


@lru_cache(maxsize=1)
def load_layer() -> SemanticLayer:
    """The semantic layer shipped with the package (parsed once)."""
    text = resources.files("parkbrain.ai").joinpath(LAYER_FILE).read_text(encoding="utf-8")
    return parse_layer(tomllib.loads(text))
