"""The structured query and the semantic layer of the park assistant (issue 9)."""

from __future__ import annotations

import json
from datetime import date

import pytest

from parkbrain.ai.query import Filter, StructuredQuery, TimeRange, query_json_schema
from parkbrain.ai.semantic import load_layer, parse_layer
from parkbrain.errors import ConfigError, InvalidInput

CONTRACT_METRICS = {
    "enterprise_count",
    "employees",
    "output_value",
    "electricity_kwh",
    "water_m3",
    "gas_m3",
    "steam_t",
    "energy_tce",
    "carbon_tco2",
    "energy_intensity",
    "aqi",
    "aqi_exceed_days",
    "alert_count",
}


def _top5() -> dict:
    return {
        "metric": "electricity_kwh",
        "dimensions": ["enterprise"],
        "filters": [{"dimension": "park", "op": "=", "value": "nanning-hitech"}],
        "time": {"start": "2026-10-01", "end": "2026-11-01", "grain": None, "label": "上个月"},
        "order": "desc",
        "limit": 5,
    }


def test_layer_declares_every_contract_metric_with_units_and_words() -> None:
    layer = load_layer()
    assert set(layer.metrics) == CONTRACT_METRICS
    for m in layer.metrics.values():
        assert m.zh and m.en and m.synonyms_zh and m.synonyms_en
    assert layer.metrics["electricity_kwh"].unit == "kWh"
    assert layer.metrics["energy_tce"].unit == "tce"
    assert set(layer.dimensions) == {"city", "park", "enterprise", "industry", "building", "device"}
    assert layer.value_words["status"]["未处理"] == "open"
    assert layer.time_words["上个月"].offset == -1


def test_longest_metric_word_first() -> None:
    words = [w for w, _ in load_layer().metric_words()]
    assert words.index("综合能耗") < words.index("能耗")


def test_round_trip_and_json_safe() -> None:
    q = StructuredQuery.from_dict(_top5())
    assert q.time == TimeRange(date(2026, 10, 1), date(2026, 11, 1), None, "上个月")
    assert q.filters == (Filter("park", "=", "nanning-hitech"),)
    d = q.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert StructuredQuery.from_dict(d) == q


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"metric": "happiness"}, "metric"),
        ({"dimensions": ["galaxy"]}, "dimensions[0]"),
        ({"filters": [{"dimension": "park", "op": "like", "value": "x"}]}, "filters[0].op"),
        ({"filters": [{"dimension": "park", "op": "in", "value": "x"}]}, "filters[0].value"),
        ({"time": {"start": "2026-11-01", "end": "2026-10-01"}}, "time"),
        ({"time": {"start": "yesterday", "end": "2026-10-01"}}, "time.start"),
        ({"compare": "wow"}, "compare"),
        ({"order": "up"}, "order"),
        ({"limit": 0}, "limit"),
        ({"limit": True}, "limit"),
        ({"sql": "DROP TABLE parks"}, "unknown field"),
        ({"agg": "max"}, "agg"),
    ],
)
def test_from_dict_names_the_bad_field(patch: dict, field: str) -> None:
    with pytest.raises(InvalidInput, match=field.replace("[", r"\[").replace("]", r"\]")):
        StructuredQuery.from_dict({**_top5(), **patch})


def test_time_dimension_is_the_grain() -> None:
    d = {
        **_top5(),
        "dimensions": ["time"],
        "time": {"start": "2026-01-01", "end": "2026-11-21", "grain": "month"},
    }
    q = StructuredQuery.from_dict(d)
    assert q.dimensions == () and q.time.grain == "month"
    with pytest.raises(InvalidInput, match="time.grain"):
        StructuredQuery.from_dict({**_top5(), "dimensions": ["time"]})


def test_aqi_max_variant() -> None:
    q = StructuredQuery.from_dict({"metric": "aqi", "agg": "max"})
    assert q.agg == "max"


def test_json_schema_enumerates_the_layer() -> None:
    schema = query_json_schema()
    assert set(schema["properties"]["metric"]["enum"]) == CONTRACT_METRICS
    assert "time" in schema["properties"]["dimensions"]["items"]["enum"]
    json.dumps(schema)


def test_bad_layer_file_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"metrics.x.view"):
        parse_layer({"version": "t", "metrics": {"x": {"zh": "x", "en": "x", "view": "nope", "expr": "1"}}})
