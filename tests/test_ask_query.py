"""The structured query and the semantic layer of the park assistant (issue 9)."""

from __future__ import annotations

import json
from datetime import date

import pytest

from parkbrain.ai.query import Filter, StructuredQuery, TimeRange, query_json_schema
from parkbrain.ai.semantic import load_layer, parse_layer
from parkbrain.errors import ConfigError, InvalidInput
from tests.conftest import CONTRACT_METRICS, top5_query


def test_layer_declares_every_contract_metric_with_units_and_words() -> None:
    layer = load_layer()
    assert set(layer.metrics) == set(CONTRACT_METRICS)
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
    q = StructuredQuery.from_dict(top5_query())
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
        StructuredQuery.from_dict({**top5_query(), **patch})


def test_time_dimension_is_the_grain() -> None:
    d = {
        **top5_query(),
        "dimensions": ["time"],
        "time": {"start": "2026-01-01", "end": "2026-11-21", "grain": "month"},
    }
    q = StructuredQuery.from_dict(d)
    assert q.dimensions == () and q.time.grain == "month"
    with pytest.raises(InvalidInput, match="time.grain"):
        StructuredQuery.from_dict({**top5_query(), "dimensions": ["time"]})


def test_aqi_max_variant() -> None:
    q = StructuredQuery.from_dict({"metric": "aqi", "agg": "max"})
    assert q.agg == "max"


def test_json_schema_enumerates_the_layer() -> None:
    schema = query_json_schema()
    assert set(schema["properties"]["metric"]["enum"]) == set(CONTRACT_METRICS)
    assert "time" in schema["properties"]["dimensions"]["items"]["enum"]
    json.dumps(schema)


def test_bad_layer_file_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"metrics.x.view"):
        parse_layer({"version": "t", "metrics": {"x": {"zh": "x", "en": "x", "view": "nope", "expr": "1"}}})


# -- compiling ------------------------------------------------------------------------------------------


def test_compiled_sql_of_the_top5_question() -> None:
    from parkbrain.ai.compile import compile_query

    compiled = compile_query(StructuredQuery.from_dict(top5_query()))
    assert compiled.sql == (
        "SELECT e.enterprise_name AS enterprise_name, sum(f.amount) AS electricity_kwh\n"
        "FROM sem_energy_daily f\n"
        "    JOIN sem_enterprises e ON e.enterprise_id = f.enterprise_id\n"
        "WHERE f.enterprise_id IS NOT NULL AND f.carrier = 'electricity' AND f.park_id = 'nanning-hitech' "
        "AND f.day >= DATE '2026-10-01' AND f.day < DATE '2026-11-01'\n"
        "GROUP BY f.enterprise_id, e.enterprise_name\n"
        "ORDER BY electricity_kwh DESC NULLS LAST, enterprise_name\n"
        "LIMIT 5"
    )
    assert compiled.columns == ("enterprise_name", "electricity_kwh")
    assert compiled.views == ("sem_energy_daily", "sem_enterprises")


def test_values_are_quoted_never_spliced() -> None:
    from parkbrain.ai.compile import compile_query

    q = StructuredQuery.from_dict(
        {"metric": "alert_count", "filters": [{"dimension": "park", "op": "=", "value": "x' OR '1'='1"}]}
    )
    assert "f.park_id = 'x'' OR ''1''=''1'" in compile_query(q).sql


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"metric": "aqi", "dimensions": ["enterprise"]}, "not available"),
        (
            {
                "metric": "output_value",
                "compare": "yoy",
                "time": {"start": "2026-10-01", "end": "2026-11-01"},
            },
            "compare",
        ),
        (
            {"metric": "alert_count", "filters": [{"dimension": "carrier", "op": "=", "value": "water"}]},
            "carrier",
        ),
        ({"metric": "energy_intensity", "dimensions": ["device"]}, "energy_intensity"),
    ],
)
def test_combinations_a_metric_does_not_have(query: dict, field: str) -> None:
    from parkbrain.ai.compile import compile_query

    with pytest.raises(InvalidInput, match=field):
        compile_query(StructuredQuery.from_dict(query))


def test_comparison_and_intensity_sql_run(park) -> None:
    from parkbrain.ai.compile import compile_query
    from parkbrain.ai.views import create_semantic_views

    con = park.store.cursor()
    create_semantic_views(con, park.store)
    window = {"start": "2026-10-01", "end": "2026-11-01"}
    for d in (
        {
            "metric": "electricity_kwh",
            "dimensions": ["park"],
            "time": window,
            "compare": "yoy",
            "order": "desc",
        },
        {"metric": "energy_intensity", "dimensions": ["industry"], "time": window},
        {"metric": "water_m3", "time": {**window, "grain": "week"}},
        {"metric": "aqi", "agg": "max", "dimensions": ["city"], "time": window},
    ):
        compiled = compile_query(StructuredQuery.from_dict(d))
        assert [c[0] for c in con.execute(compiled.sql).description] == list(compiled.columns)
