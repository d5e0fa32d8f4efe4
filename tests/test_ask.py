"""The park assistant's offline engine (issue 9): questions in Chinese and English over the small demo
(7 days ending 2026-11-20) and a hand-made park, answered from the rows with the SQL shown."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from parkbrain import Park
from parkbrain.cli import cli
from parkbrain.errors import InvalidInput
from parkbrain.space.principal import Principal

NOW = "2026-11-20T12:00:00+08:00"
KEYS = {"answer", "query", "sql", "columns", "rows", "sources", "status", "clarify", "engine"}


@pytest.fixture(scope="module")
def small(small_demo_file):
    with Park.open(small_demo_file, read_only=True) as p:
        yield p


def ask(park: Park, question: str, **kw) -> dict:
    result = park.ask(question, now=NOW, **kw)
    assert set(result) >= KEYS
    return result


def numbers_in(text: str) -> list[float]:
    """The numbers of an answer (dates taken out first)."""
    text = re.sub(r"\d{4}-\d{2}(-\d{2})?", " ", text)
    text = re.sub(
        r"\d+月\d+日|\d+日|最近\d+天|前\d+|后\d+|\d+ more rows|last \d+ days|另有 \d+ 行|top \d+|\d+\. ",
        " ",
        text,
    )
    return [float(x.replace(",", "")) for x in re.findall(r"\d[\d,]*(?:\.\d+)?", text)]


def shown(value: float) -> float:
    return round(value, 2) if abs(value) >= 1 else round(value, 4)


def assert_numbers_come_from_rows(result: dict) -> None:
    values = {shown(v) for row in result["rows"] for v in row if isinstance(v, (int, float))}
    for n in numbers_in(result["answer"]):
        assert any(abs(n - v) <= 0.006 * max(1, abs(v)) for v in values), (n, result["answer"])


# -- the acceptance question on the small demo ----------------------------------------------------------


def test_top5_enterprises_of_a_park_by_electricity(small) -> None:
    result = ask(small, "最近7天南宁高新区用电量最高的5家企业是哪些？")
    assert result["status"] == "answered" and result["engine"] == "offline"
    assert result["columns"] == ["enterprise_name", "electricity_kwh"]
    q = result["query"]
    assert q["metric"] == "electricity_kwh" and q["dimensions"] == ["enterprise"]
    assert q["filters"] == [{"dimension": "park", "op": "=", "value": "nanning-hitech"}]
    assert (q["time"]["start"], q["time"]["end"]) == ("2026-11-14", "2026-11-21")
    assert q["order"] == "desc" and q["limit"] == 5
    # the same five, by the energy module's own accounting
    summary = small.energy_summary(
        "2026-11-14T00:00+08:00",
        "2026-11-21T00:00+08:00",
        grain="total",
        by=("enterprise",),
        park_id="nanning-hitech",
    )
    expected = sorted(
        (r for r in summary["rows"] if r["carrier"] == "electricity" and r["enterprise_id"]),
        key=lambda r: -r["amount"],
    )[:5]
    assert [r[0] for r in result["rows"]] == [r["enterprise_name"] for r in expected]
    for row, exp in zip(result["rows"], expected):
        assert row[1] == pytest.approx(exp["amount"], rel=1e-9)
    assert "sem_energy_daily" in result["sql"] and "LIMIT 5" in result["sql"]
    assert result["sources"][0]["kind"] == "sql" and result["sources"][0]["sql"] == result["sql"]
    assert expected[0]["enterprise_name"] in result["answer"] and "千瓦时" in result["answer"]
    assert_numbers_come_from_rows(result)


def test_english_question(small) -> None:
    result = ask(
        small, "Top 3 enterprises by electricity consumption in Nanning High-tech Zone in the last 7 days"
    )
    assert result["status"] == "answered"
    zh = ask(small, "最近7天南宁高新区用电量最高的3家企业")
    assert result["rows"] == zh["rows"] and result["sql"] == zh["sql"]
    assert "kWh" in result["answer"] and "千瓦时" not in result["answer"]
    assert_numbers_come_from_rows(result)


# -- time expressions ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "start", "end"),
    [
        ("今天", "2026-11-20", "2026-11-21"),
        ("昨天", "2026-11-19", "2026-11-20"),
        ("本周", "2026-11-16", "2026-11-21"),
        ("上周", "2026-11-09", "2026-11-16"),
        ("本月", "2026-11-01", "2026-11-21"),
        ("上个月", "2026-10-01", "2026-11-01"),
        ("本季度", "2026-10-01", "2026-11-21"),
        ("上季度", "2026-07-01", "2026-10-01"),
        ("上一季度", "2026-07-01", "2026-10-01"),
        ("第三季度", "2026-07-01", "2026-10-01"),
        ("今年", "2026-01-01", "2026-11-21"),
        ("去年", "2025-01-01", "2026-01-01"),
        ("今年一季度", "2026-01-01", "2026-04-01"),
        ("今年二季度", "2026-04-01", "2026-07-01"),
        ("去年四季度", "2025-10-01", "2026-01-01"),
        ("上半年", "2026-01-01", "2026-07-01"),
        ("下半年", "2026-07-01", "2026-11-21"),
        ("最近7天", "2026-11-14", "2026-11-21"),
        ("近30天", "2026-10-22", "2026-11-21"),
        ("过去两周", "2026-11-07", "2026-11-21"),
        ("最近3个月", "2026-08-21", "2026-11-21"),
        ("2026年10月", "2026-10-01", "2026-11-01"),
        ("10月", "2026-10-01", "2026-11-01"),
        ("10月份", "2026-10-01", "2026-11-01"),
        ("11月15日", "2026-11-15", "2026-11-16"),
        ("today", "2026-11-20", "2026-11-21"),
        ("yesterday", "2026-11-19", "2026-11-20"),
        ("this week", "2026-11-16", "2026-11-21"),
        ("last week", "2026-11-09", "2026-11-16"),
        ("this month", "2026-11-01", "2026-11-21"),
        ("last month", "2026-10-01", "2026-11-01"),
        ("this quarter", "2026-10-01", "2026-11-21"),
        ("last quarter", "2026-07-01", "2026-10-01"),
        ("this year", "2026-01-01", "2026-11-21"),
        ("last year", "2025-01-01", "2026-01-01"),
        ("last 7 days", "2026-11-14", "2026-11-21"),
        ("Q1 2026", "2026-01-01", "2026-04-01"),
        ("October 2026", "2026-10-01", "2026-11-01"),
        ("first half of 2026", "2026-01-01", "2026-07-01"),
    ],
)
def test_time_expressions(words: str, start: str, end: str) -> None:
    from parkbrain.ai.timeexpr import parse_time

    now = datetime(2026, 11, 20, 12, tzinfo=timezone(timedelta(hours=8)))
    t = parse_time(f"{words}的用电量", now).time
    assert (t.start.isoformat(), t.end.isoformat()) == (start, end)


@pytest.mark.parametrize(("words", "compare"), [("同比", "yoy"), ("与去年同期相比", "yoy"), ("比上月", "mom"), ("环比", "mom"),
                                                ("year over year", "yoy"), ("month over month", "mom")])  # fmt: skip
def test_comparison_words(words: str, compare: str) -> None:
    from parkbrain.ai.timeexpr import parse_time

    now = datetime(2026, 11, 20, 12, tzinfo=timezone(timedelta(hours=8)))
    assert parse_time(f"上个月用电量{words}", now).compare == compare


def test_same_period_last_year_alone_moves_the_window() -> None:
    from parkbrain.ai.timeexpr import parse_time

    now = datetime(2026, 11, 20, 12, tzinfo=timezone(timedelta(hours=8)))
    t = parse_time("上个月用电量去年同期是多少", now)
    assert t.shift and t.compare is None


def test_date_ranges() -> None:
    from parkbrain.ai.timeexpr import parse_time

    now = datetime(2026, 11, 20, 12, tzinfo=timezone(timedelta(hours=8)))
    for words, start, end in [
        ("10月1日到10月7日", "2026-10-01", "2026-10-08"),
        ("10月1日至7日", "2026-10-01", "2026-10-08"),
        ("8月到10月", "2026-08-01", "2026-11-01"),
        ("between 2026-10-01 and 2026-10-07", "2026-10-01", "2026-10-08"),
    ]:
        t = parse_time(words, now).time
        assert (t.start.isoformat(), t.end.isoformat()) == (start, end), words


def test_mom_compares_with_the_day_before(small) -> None:
    result = ask(small, "昨天的用电量环比")
    assert result["status"] == "answered" and result["columns"] == ["current", "previous", "change_pct"]
    con = small.store.cursor()
    from parkbrain.ai.views import create_semantic_views

    create_semantic_views(con, small.store, views=["sem_energy_daily"])
    by_day = dict(
        con.execute(
            "SELECT day::VARCHAR, sum(amount) FROM sem_energy_daily WHERE carrier = 'electricity' GROUP BY 1"
        ).fetchall()
    )
    current, previous, pct = result["rows"][0]
    assert current == pytest.approx(by_day["2026-11-19"]) and previous == pytest.approx(by_day["2026-11-18"])
    assert pct == pytest.approx((current - previous) / previous * 100)
    assert "环比" in result["answer"]


def test_yoy_without_last_years_data_says_so(small) -> None:
    result = ask(small, "昨天的用电量同比")
    assert result["status"] == "answered"
    assert result["rows"][0][1] is None and result["rows"][0][2] is None
    assert "去年同期" in result["answer"] and "没有数据" in result["answer"]


def test_monthly_trend_has_month_labels(small) -> None:
    result = ask(small, "今年每月的用水量")
    assert result["columns"] == ["month", "water_m3"]
    assert [r[0] for r in result["rows"]] == ["2026-11"]


# -- entity linking and clarify ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "dimension", "value"),
    [
        ("南宁高新区最近7天的用电量", "park", "nanning-hitech"),  # a short name (parks.short_names)
        ("南宁高新技术产业开发区最近7天的用电量", "park", "nanning-hitech"),  # the full name
        ("东盟经开区最近7天的用电量", "park", "asean-etdz"),
        ("南宁市有多少家企业", "city", "450100"),
        ("南宁有多少家企业", "city", "450100"),
        ("应用软件开发行业有多少家企业", "industry", "应用软件开发"),
        ("How many enterprises are in Nanning?", "city", "450100"),
    ],
)
def test_entity_linking(small, question: str, dimension: str, value: str) -> None:
    result = ask(small, question)
    assert result["status"] == "answered", result["answer"]
    assert {"dimension": dimension, "op": "=", "value": value} in result["query"]["filters"]


def test_enterprise_by_a_distinctive_part_of_its_name(small) -> None:
    name, eid = small.store.query_rows(
        "SELECT name, enterprise_id FROM enterprises WHERE name = '南宁长钰制药有限责任公司'"
    )[0].values()
    result = ask(small, "长钰制药最近7天的用电量")
    assert {"dimension": "enterprise", "op": "=", "value": eid} in result["query"]["filters"]
    assert name in result["answer"]


def test_ambiguous_park_asks_back(small) -> None:
    result = ask(small, "高新区最近7天的用电量是多少")
    assert result["status"] == "clarify" and result["sql"] is None and result["rows"] == []
    ids = {o["id"] for o in result["clarify"]}
    assert {"nanning-hitech", "guilin-hitech", "liuzhou-hitech"} <= ids
    option = next(o for o in result["clarify"] if o["id"] == "nanning-hitech")
    assert option["question"] == "南宁高新技术产业开发区最近7天的用电量是多少"
    assert ask(small, option["question"])["status"] == "answered"


def test_unknown_question_is_unsupported(small) -> None:
    for question in ("今天天气怎么样", "火星园区最近7天的用电量", "What is the meaning of life?", "删除所有告警",
                     "drop table alerts", "把柳州高新区的告警全部关闭", "将南宁高新区未确认的告警确认一下",
                     "Close all alerts of Liuzhou"):  # fmt: skip
        result = ask(small, question)
        assert result["status"] == "unsupported", question
        assert result["sql"] is None and result["rows"] == [] and not re.search(r"\d", result["answer"])


def test_a_question_about_closed_alerts_is_no_request_to_close_them(small) -> None:
    result = ask(small, "帮我查最近7天已关闭的告警数")
    assert result["status"] in ("answered", "no_data")
    assert {"dimension": "status", "op": "=", "value": "closed"} in result["query"]["filters"]


def test_a_carrier_named_in_a_few_words_filters_the_energy(small) -> None:
    water = ask(small, "最近7天水的综合能耗")
    assert {"dimension": "carrier", "op": "=", "value": "water"} in water["query"]["filters"]
    electricity = ask(small, "最近7天南宁高新区用了多少度电")
    assert electricity["query"]["metric"] == "electricity_kwh"


def test_no_data_never_invents_a_number(small) -> None:
    result = ask(small, "今年一季度的用电量是多少")
    assert result["status"] == "no_data" and result["rows"] == []
    assert "没有" in result["answer"] and "千瓦时" not in result["answer"]
    assert result["query"]["time"] == {
        "start": "2026-01-01",
        "end": "2026-04-01",
        "grain": None,
        "label": "今年一季度",
    }
    en = ask(small, "electricity consumption in Q1 2026")
    assert en["status"] == "no_data" and "no" in en["answer"].lower()


# -- metrics, rankings and filters ----------------------------------------------------------------------


def test_rankings_filters_and_groupings(small) -> None:
    top = ask(small, "员工人数最多的3家企业")
    expected = small.store.query_rows(
        "SELECT name, employees FROM enterprises ORDER BY employees DESC, name LIMIT 3"
    )
    assert [r[1] for r in top["rows"]] == [e["employees"] for e in expected]
    low = ask(small, "最近7天用电量最低的园区")
    assert low["query"]["order"] == "asc" and low["query"]["limit"] == 1 and len(low["rows"]) == 1
    parks = ask(small, "最近7天各园区综合能耗排名")
    assert parks["columns"] == ["park_name", "energy_tce"] and len(parks["rows"]) > 10
    values = [r[1] for r in parks["rows"]]
    assert values == sorted(values, reverse=True)
    alerts = ask(small, "最近7天未处理的严重告警有多少")
    n = small.store.query_rows(
        "SELECT count(*) AS n FROM alerts WHERE status = 'open' AND severity = 'critical' "
        "AND ts >= TIMESTAMPTZ '2026-11-14 00:00:00+08' AND ts < TIMESTAMPTZ '2026-11-21 00:00:00+08'"
    )[0]["n"]
    assert alerts["rows"] == [[n]]
    assert_numbers_come_from_rows(alerts)


def test_aqi_by_city_and_the_highest(small) -> None:
    by_city = ask(small, "11月15日各城市的AQI")
    assert by_city["columns"] == ["city_name", "aqi"] and by_city["rows"]
    highest = ask(small, "11月15日AQI最高是多少")
    assert highest["query"]["agg"] == "max"
    assert highest["rows"][0][0] >= max(r[1] for r in by_city["rows"])


def test_a_dimension_a_metric_does_not_have_is_unsupported(small) -> None:
    result = ask(small, "最近7天各企业的AQI")
    assert result["status"] == "unsupported" and result["rows"] == []


# -- a hand-made park (Park(memory=True)) ----------------------------------------------------------------


@pytest.fixture
def hand_made(park: Park) -> Park:
    store = park.store
    store.write("regions", [{"region_code": "450100", "name": "南宁市", "level": "prefecture"}])
    store.write(
        "parks",
        [
            {"park_id": "p1", "name": "甲工业园区", "region_code": "450100", "short_names": '["甲园"]'},
            {"park_id": "p2", "name": "乙工业园区", "region_code": "450100"},
        ],
    )
    store.write(
        "enterprises",
        [
            {"enterprise_id": "e1", "park_id": "p1", "name": "南宁甲一制造有限公司", "industry_name": "铝冶炼",
             "employees": 100, "output_value_10k_cny": 500.0},
            {"enterprise_id": "e2", "park_id": "p1", "name": "南宁甲二电子有限公司", "industry_name": "电子电路制造",
             "employees": 40, "output_value_10k_cny": 300.0},
            {"enterprise_id": "e3", "park_id": "p2", "name": "南宁乙三食品有限公司", "industry_name": "制糖业",
             "employees": 70, "output_value_10k_cny": 200.0},
        ],
    )  # fmt: skip
    store.write(
        "alerts",
        [
            {"alert_id": f"a{i}", "ts": datetime(2026, 11, 19, 2, tzinfo=timezone.utc), "park_id": pk,
             "enterprise_id": e, "rule": "r", "severity": sev, "status": st}
            for i, (pk, e, sev, st) in enumerate(
                [("p1", "e1", "critical", "open"), ("p1", "e1", "warning", "open"), ("p1", "e2", "critical", "closed"),
                 ("p2", "e3", "critical", "open")]
            )
        ],
    )  # fmt: skip
    return park


def test_hand_made_counts(hand_made: Park) -> None:
    assert ask(hand_made, "甲园有多少家企业")["rows"] == [[2]]
    assert ask(hand_made, "各园区的从业人员")["rows"] == [["乙工业园区", 70], ["甲工业园区", 140]]
    assert ask(hand_made, "甲工业园区的产值")["rows"] == [[800.0]]
    # no readings at all: alerts still count (the alerts table is the data)
    open_alerts = ask(hand_made, "昨天各园区未处理的告警数")
    assert open_alerts["status"] in ("answered", "no_data")


def test_enterprise_user_sees_only_its_own_rows(hand_made: Park) -> None:
    me = hand_made.as_principal(
        Principal("token", "t-e1", "e1", "enterprise", park_id="p1", enterprise_id="e1")
    )
    result = me.ask("各企业的从业人员", now=NOW)
    assert result["rows"] == [["南宁甲一制造有限公司", 100]]
    assert me.ask("有多少家企业", now=NOW)["rows"] == [[1]]
    # another enterprise's name does not link (it is not in the caller's catalog)
    other = me.ask("乙三食品的从业人员", now=NOW)
    assert other["status"] != "answered" or other["rows"] in ([[None]], [])
    park_user = hand_made.as_principal(Principal("token", "t-p2", "p2", "park_admin", park_id="p2"))
    assert park_user.ask("各园区的从业人员", now=NOW)["rows"] == [["乙工业园区", 70]]


def test_bad_input(park: Park) -> None:
    with pytest.raises(InvalidInput, match="question"):
        park.ask("   ")
    with pytest.raises(InvalidInput, match="500"):
        park.ask("用电量" * 200)
    with pytest.raises(InvalidInput, match="now"):
        park.ask("今天的用电量", now="yesterday-ish")
    with pytest.raises(InvalidInput, match="lang"):
        park.ask("今天的用电量", lang="fr")


# -- the command line --------------------------------------------------------------------------------------


def test_cli_ask_json_and_text(small_demo_file) -> None:
    runner = CliRunner()
    out = runner.invoke(cli, ["ask", "最近7天各城市的用电量", "--db", str(small_demo_file), "--now", NOW,
                              "--format", "json"])  # fmt: skip
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert (
        set(data) == KEYS
        and data["status"] == "answered"
        and data["columns"] == ["city_name", "electricity_kwh"]
    )
    text = runner.invoke(cli, ["ask", "最近7天各城市的用电量", "--db", str(small_demo_file), "--now", NOW])
    assert text.exit_code == 0 and "SQL:" in text.output and "city_name" in text.output
    bad = runner.invoke(cli, ["ask", "今天的用电量", "--db", str(small_demo_file), "--now", "soon"])
    assert bad.exit_code == 1 and bad.output.startswith("Error:") and "Traceback" not in bad.output


def test_enterprise_user_energy_is_its_own(small) -> None:
    eid = "nanning-hitech-e001"
    me = small.as_principal(
        Principal("token", "t-e", "e", "enterprise", park_id="nanning-hitech", enterprise_id=eid)
    )
    result = me.ask("最近7天各企业的用电量", now=NOW)
    name = small.store.query_rows("SELECT name FROM enterprises WHERE enterprise_id = ?", [eid])[0]["name"]
    assert result["status"] == "answered" and [r[0] for r in result["rows"]] == [name]
    everyone = ask(small, "最近7天南宁高新区各企业的用电量")
    assert len(everyone["rows"]) > 1 and [name, result["rows"][0][1]] in everyone["rows"]
    # the park total an enterprise user gets is its own consumption, never the park's
    total = me.ask("最近7天南宁高新区的用电量", now=NOW)
    assert total["rows"][0][0] == pytest.approx(result["rows"][0][1])


def test_enterprise_counts_without_a_metric_word(small) -> None:
    by_park = ask(small, "哪个园区企业最多")
    assert by_park["query"]["metric"] == "enterprise_count" and by_park["query"]["dimensions"] == ["park"]
    top = small.store.query_rows(
        "SELECT count(*) AS n FROM enterprises GROUP BY park_id ORDER BY n DESC LIMIT 1"
    )[0]["n"]
    assert by_park["rows"][0][1] == top and "最高的是" in by_park["answer"]
    en = ask(small, "Which industry has the most enterprises?")
    assert en["query"]["dimensions"] == ["industry"] and len(en["rows"]) == 1


def test_averages_are_not_made_up(small) -> None:
    result = ask(small, "东盟经开区企业的平均员工数")
    assert result["status"] == "unsupported" and result["rows"] == []


def test_year_prefixed_month_range() -> None:
    from parkbrain.ai.timeexpr import parse_time

    now = datetime(2026, 11, 20, 12, tzinfo=timezone(timedelta(hours=8)))
    t = parse_time("去年7月到9月的用气量", now).time
    assert (t.start.isoformat(), t.end.isoformat()) == ("2025-07-01", "2025-10-01")


def test_compared_with_the_period_before() -> None:
    from parkbrain.ai.timeexpr import parse_time

    now = datetime(2026, 11, 20, 12, tzinfo=timezone(timedelta(hours=8)))
    for words, compare, start in [
        ("本月用电量和上个月比怎么样", "mom", "2026-11-01"),
        ("compare this month's electricity with last month", "mom", "2026-11-01"),
        ("今年碳排放与去年相比", "yoy", "2026-01-01"),
    ]:
        t = parse_time(words, now)
        assert (t.compare, t.time.start.isoformat()) == (compare, start), words


def test_thresholds(small) -> None:
    refused = ask(small, "最近7天哪些企业用电超过100万千瓦时")
    assert refused["status"] == "unsupported" and refused["rows"] == []
    days = ask(small, "最近7天AQI超过100的天数")
    assert days["query"]["metric"] == "aqi_exceed_days"


def test_key_energy_users_counted(small) -> None:
    result = ask(small, "南宁高新区的重点用能单位有几家")
    n = small.store.query_rows(
        "SELECT count(*) AS n FROM enterprises WHERE park_id = 'nanning-hitech' AND key_energy_user"
    )[0]["n"]
    assert result["query"]["metric"] == "enterprise_count" and result["rows"] == [[n]]


def test_policy_questions_go_to_the_policy_corpus(small) -> None:
    result = ask(small, "绿色工厂奖励政策的申报条件是什么")
    assert result["query"] is None and result["sql"] is None
    assert result["status"] in ("answered", "unsupported")
    assert all(s["kind"] == "policy" for s in result["sources"])
    if small.policies():  # the demo's corpus is imported: the answer cites it
        assert result["status"] == "answered" and result["sources"]
