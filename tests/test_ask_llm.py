"""The LLM path of the park assistant against the scripted fake endpoint (the one allowed fake), and the
free-SQL guard against hostile SQL on the real small demo database."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from parkbrain import Park
from parkbrain.ai.fake_llm import FakeLLM, error_reply, text_reply, tool_reply
from parkbrain.ai.llm import LLMClient, LLMConfig, load_llm_config
from parkbrain.ai.llm_query import FreeSQL, Refusal, llm_policy_answer, llm_structured_query
from parkbrain.ai.query import StructuredQuery
from parkbrain.ai.semantic import load_layer
from parkbrain.ai.sqlsafe import DEFAULT_LIMIT, check_sql, make_safe, run_safe_sql
from parkbrain.ai.views import create_semantic_views
from parkbrain.errors import ConfigError, QueryError, UpstreamError
from parkbrain.model.timeutil import PARK_TZ
from parkbrain.space import Principal
from tests.conftest import top5_query

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=PARK_TZ)
QUESTION = "上个月南宁高新区用电量最高的5家企业是哪些？"
GOOD = top5_query()


def ask(fake: FakeLLM, question: str = QUESTION, **config: object):
    with LLMClient(fake.config(**config)) as client:
        return llm_structured_query(client, question, NOW, load_layer()), client


# -- configuration ------------------------------------------------------------------------------------------


def test_config_from_the_environment_and_none_without_an_endpoint():
    env = {
        "PARKBRAIN_LLM_BASE_URL": "http://127.0.0.1:9/v1",
        "PARKBRAIN_LLM_API_KEY": "sk-secret-123456",
        "PARKBRAIN_LLM_MODEL": "qwen2.5",
        "PARKBRAIN_LLM_TIMEOUT_S": "7.5",
    }
    config = load_llm_config(env=env)
    assert (config.base_url, config.model, config.api_key, config.timeout_s) == (
        "http://127.0.0.1:9/v1",
        "qwen2.5",
        "sk-secret-123456",
        7.5,
    )
    assert config.endpoint == "http://127.0.0.1:9/v1/chat/completions"
    assert "sk-secret" not in repr(config)
    assert load_llm_config(env={}) is None


def test_config_file_wins_and_reads_the_key_from_a_named_variable(tmp_path):
    path = tmp_path / "llm.toml"
    path.write_text(
        '[llm]\nbase_url = "http://10.0.0.5:8000/v1"\nmodel = "deepseek-chat"\n'
        'api_key_env = "MY_KEY"\ntimeout_s = 20\ntools = false\n',
        encoding="utf-8",
    )
    config = load_llm_config(path, env={"MY_KEY": "k-1", "PARKBRAIN_LLM_MODEL": "other"})
    assert (config.base_url, config.model, config.api_key, config.timeout_s, config.tools) == (
        "http://10.0.0.5:8000/v1",
        "deepseek-chat",
        "k-1",
        20.0,
        False,
    )


def test_config_file_named_by_the_environment(tmp_path):
    path = tmp_path / "llm.toml"
    path.write_text('[llm]\nbase_url = "http://10.0.0.5:8000/v1"\nmodel = "glm-4"\n', encoding="utf-8")
    config = load_llm_config(env={"PARKBRAIN_LLM_CONFIG": str(path), "PARKBRAIN_LLM_API_KEY": "k-2"})
    assert (config.model, config.api_key) == ("glm-4", "k-2")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[llm]\nmodel = "m"\n', "missing base_url"),
        ('[llm]\nbase_url = "ftp://x"\nmodel = "m"\n', "expected an http(s) URL"),
        ('[llm]\nbase_url = "http://x/v1"\n', "llm model: missing"),
        (
            '[llm]\nbase_url = "http://x/v1"\nmodel = "m"\ntimeout_s = "soon"\n',
            "timeout_s: expected a number",
        ),
        ('[llm]\nbase_url = "http://x/v1"\nmodel = "m"\nurl = "y"\n', "unknown key(s) ['url']"),
        ("[llm\n", "not valid TOML"),
        ("[other]\n", "expected an [llm] table"),
    ],
)
def test_bad_config_files_name_the_file_and_field(tmp_path, text, expected):
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_llm_config(path, env={})
    assert str(path) in err.value.message and expected in err.value.message


# -- structured queries -----------------------------------------------------------------------------------


def test_a_good_structured_answer_is_the_validated_query_with_usage_recorded():
    with FakeLLM([tool_reply("structured_query", GOOD)]) as fake:
        result, client = ask(fake)
    assert isinstance(result, StructuredQuery)
    assert result.to_dict() == {**GOOD, "compare": None, "agg": None}
    request = fake.requests[0]
    assert [t["function"]["name"] for t in request["tools"]] == [
        "structured_query",
        "free_sql",
        "cannot_answer",
    ]
    assert request["tools"][0]["function"]["parameters"]["properties"]["metric"]["enum"]
    system = request["messages"][0]["content"]
    assert "2026-11-20" in system and "electricity_kwh" in system and "sem_energy_daily(" in system
    assert request["messages"][1] == {"role": "user", "content": QUESTION}
    (call,) = client.calls
    assert call.prompt_tokens > 0 and call.completion_tokens > 0 and call.latency_s > 0 and call.attempts == 1


def test_invalid_json_then_a_good_answer_is_retried_with_the_error_fed_back():
    script = [
        tool_reply("structured_query", '{"metric": "electricity_kwh", '),
        tool_reply("structured_query", GOOD),
    ]
    with FakeLLM(script) as fake:
        result, client = ask(fake)
    assert isinstance(result, StructuredQuery) and result.limit == 5
    assert len(fake.requests) == 2 and len(client.calls) == 2
    feedback = fake.requests[1]["messages"][-1]
    assert feedback["role"] == "tool" and "not valid JSON" in feedback["content"]
    assert fake.requests[1]["messages"][-2]["tool_calls"][0]["function"]["name"] == "structured_query"


def test_a_query_outside_the_layer_is_fed_back_naming_the_field():
    bad = {**GOOD, "metric": "profit"}
    with FakeLLM([tool_reply("structured_query", bad), tool_reply("structured_query", GOOD)]) as fake:
        result, _ = ask(fake)
    assert isinstance(result, StructuredQuery)
    assert "query metric: expected one of" in fake.requests[1]["messages"][-1]["content"]


def test_always_invalid_output_is_refused_after_two_retries():
    script = [tool_reply("structured_query", {"metric": "profit"})] * 3 + [
        tool_reply("structured_query", GOOD)
    ]
    with FakeLLM(script) as fake:
        result, _ = ask(fake)
    assert isinstance(result, Refusal)
    assert "after 3 tries" in result.reason and "profit" in result.reason
    assert len(fake.requests) == 3 and len(result.calls) == 3


def test_the_model_may_decline():
    with FakeLLM([tool_reply("cannot_answer", {"reason": "天气预报不在园区数据里"})]) as fake:
        result, _ = ask(fake, "明天会下雨吗？")
    assert isinstance(result, Refusal) and "天气预报不在园区数据里" in result.reason


def test_a_server_without_tools_gets_json_in_the_content():
    content = "好的：\n```json\n" + json.dumps({"tool": "structured_query", "arguments": GOOD}) + "\n```"
    with (
        FakeLLM([text_reply(content), text_reply(content)], tools=False) as fake,
        LLMClient(fake.config()) as client,
    ):
        first = llm_structured_query(client, QUESTION, NOW, load_layer())
        second = llm_structured_query(client, QUESTION, NOW, load_layer())
        assert not client.uses_tools
    assert isinstance(first, StructuredQuery) and first == second
    # the first request offered tools and was refused (HTTP 400); the others described them as text
    assert "tools" in fake.requests[0] and all("tools" not in r for r in fake.requests[1:])
    assert len(fake.requests) == 3
    assert '"tool": "<name>"' in fake.requests[1]["messages"][0]["content"]


def test_a_reasoning_models_think_block_and_arguments_as_text_are_understood():
    reply = {"tool": "structured_query", "arguments": json.dumps(GOOD)}
    content = "<think>用户问上个月 {metric?} 的排名……</think>\n" + json.dumps(reply)
    with FakeLLM([text_reply(content)]) as fake:
        result, _ = ask(fake, tools=False)
    assert isinstance(result, StructuredQuery) and result.limit == 5


def test_tools_off_in_the_config_sends_no_tools_and_reads_bare_arguments_of_the_only_tool():
    with FakeLLM([text_reply(json.dumps({"tool": "structured_query", "arguments": GOOD}))]) as fake:
        result, _ = ask(fake, tools=False)
    assert isinstance(result, StructuredQuery)
    assert "tools" not in fake.requests[0]


def test_free_sql_that_passes_the_checks_is_returned_for_the_platform_to_run():
    sql = "SELECT park_id, count(*) AS n FROM sem_devices GROUP BY park_id"
    with FakeLLM([tool_reply("free_sql", {"sql": sql, "explanation": "devices per park"})]) as fake:
        result, _ = ask(fake, "每个园区有多少台设备？")
    assert isinstance(result, FreeSQL) and result.sql == sql and result.explanation == "devices per park"


HOSTILE = [
    ("DROP TABLE parks", "this statement is DROP"),
    ("SELECT 1; DROP TABLE parks", "exactly one SELECT statement, got 2"),
    ("SELECT * FROM users", "users is not readable"),
    ("SELECT * FROM api_tokens", "api_tokens is not readable"),
    ("SELECT * FROM audit_log", "audit_log is not readable"),
    ("SELECT * FROM read_csv('/etc/passwd')", "table function read_csv() is not allowed"),
    ("SELECT * FROM '/etc/passwd'", "'/etc/passwd' is not an allowed relation"),
    ("SELECT * FROM read_parquet('/tmp/x.parquet')", "table function read_parquet() is not allowed"),
    ("SELECT * FROM glob('/etc/*')", "table function glob() is not allowed"),
    ("ATTACH '/tmp/other.duckdb' AS other", "this statement is ATTACH"),
    ("COPY parks TO '/tmp/parks.csv'", "this statement is COPY"),
    ("PRAGMA table_info('users')", "this statement is PRAGMA"),
    ("SET threads = 1", "this statement is SET"),
    ("INSTALL httpfs", "this statement is INSTALL"),
    ("LOAD httpfs", "this statement is LOAD"),
    ("SELECT getenv('HOME')", "function getenv() is not allowed"),
    ("SELECT current_setting('memory_limit')", "function current_setting() is not allowed"),
    ("SELECT * INTO stolen FROM parks", "SELECT … INTO"),
    ("SELECT * FROM other.main.parks", "is not a park relation"),
    ("WITH enterprises AS (SELECT * FROM sem_enterprises) SELECT * FROM enterprises", "CTE 'enterprises'"),
    ("SELECT * FROM readings", "'readings' is not an allowed relation"),
]


@pytest.mark.parametrize(("sql", "reason"), HOSTILE, ids=[h[0][:40] for h in HOSTILE])
def test_hostile_free_sql_from_the_model_is_refused_with_a_reason(sql, reason):
    with FakeLLM([tool_reply("free_sql", {"sql": sql})]) as fake:
        result, _ = ask(fake, "给我所有数据")
    assert isinstance(result, Refusal), result
    assert "the model's SQL was refused" in result.reason and reason in result.reason
    assert len(fake.requests) == 1  # a refused SQL is not negotiated


def test_free_sql_is_refused_when_the_caller_allows_none():
    with (
        FakeLLM([tool_reply("free_sql", {"sql": "SELECT 1"})] * 3) as fake,
        LLMClient(fake.config()) as client,
    ):
        result = llm_structured_query(client, "x", NOW, load_layer(), allow_sql=False)
    assert isinstance(result, Refusal) and "unknown tool 'free_sql'" in result.reason
    assert [t["function"]["name"] for t in fake.requests[0]["tools"]] == ["structured_query", "cannot_answer"]


# -- endpoint errors ----------------------------------------------------------------------------------------


def test_a_500_then_success_is_retried():
    with FakeLLM([error_reply(500, "overloaded"), tool_reply("structured_query", GOOD)]) as fake:
        result, client = ask(fake)
    assert isinstance(result, StructuredQuery)
    assert len(fake.requests) == 2 and client.calls[0].attempts == 2


def test_429_waits_as_told_and_retries():
    with FakeLLM(
        [error_reply(429, "slow down", retry_after=0.05), tool_reply("structured_query", GOOD)]
    ) as fake:
        result, _ = ask(fake)
    assert isinstance(result, StructuredQuery) and len(fake.requests) == 2


def test_persistent_5xx_is_an_upstream_error_after_the_retries():
    with FakeLLM([error_reply(503, "down")] * 5) as fake, pytest.raises(UpstreamError) as err:
        ask(fake, max_retries=1)
    assert len(fake.requests) == 2
    assert (
        fake.base_url in err.value.message
        and "HTTP 503" in err.value.message
        and "2 tries" in err.value.message
    )


def test_401_is_a_clear_error_that_does_not_leak_the_key():
    with (
        FakeLLM([tool_reply("structured_query", GOOD)], api_key="sk-right-key-000") as fake,
        pytest.raises(UpstreamError) as err,
    ):
        ask(fake, api_key="sk-wrong-key-123456")
    message = err.value.message
    assert "HTTP 401" in message and "check the API key" in message and fake.base_url in message
    assert "sk-wrong-key-123456" not in message and "sk-right" not in message
    assert len(fake.requests) == 1  # an auth failure is not retried
    assert fake.headers[0]["authorization"] == "Bearer sk-wrong-key-123456"


def test_an_endpoint_that_does_not_answer_in_time_is_an_upstream_error():
    with (
        FakeLLM([tool_reply("structured_query", GOOD, delay_s=1.0)] * 2) as fake,
        pytest.raises(UpstreamError) as err,
    ):
        ask(fake, timeout_s=0.2, max_retries=0)
    assert "did not answer within 0.2 s" in err.value.message


def test_an_endpoint_that_is_down_names_the_url():
    config = LLMConfig(base_url="http://127.0.0.1:9/v1", model="m", max_retries=1, backoff_s=0.01)
    with LLMClient(config) as client, pytest.raises(UpstreamError) as err:
        llm_structured_query(client, QUESTION, NOW, load_layer())
    assert "http://127.0.0.1:9/v1/chat/completions cannot be reached" in err.value.message


# -- policy answers -----------------------------------------------------------------------------------------

PARAGRAPHS = [
    {
        "doc_id": "gx-2024-1",
        "title": "广西工业园区扶持办法",
        "section": "第三条",
        "text": "年产值超过1亿元的企业可申请奖励。",
    },
    {
        "doc_id": "gx-2024-1",
        "title": "广西工业园区扶持办法",
        "section": "第五条",
        "text": "申报材料于每年3月提交。",
    },
]


def test_a_policy_answer_keeps_valid_citations_renumbered_and_drops_invented_ones():
    text = "<think>段落[1]和[2]有关</think>材料3月提交【2】，年产值超过1亿元可申请奖励[1]。另见[7]。"
    with FakeLLM([text_reply(text)]) as fake, LLMClient(fake.config()) as client:
        answer = llm_policy_answer(client, "怎么申报奖励？", PARAGRAPHS)
    assert answer["status"] == "answered" and answer["engine"] == "llm"
    assert answer["answer"] == "材料3月提交[1]，年产值超过1亿元可申请奖励[2]。另见。"
    assert [s["section"] for s in answer["sources"]] == ["第五条", "第三条"]
    assert all(s["kind"] == "policy" for s in answer["sources"])
    prompt = fake.requests[0]["messages"][1]["content"]
    assert "[1] 《广西工业园区扶持办法》 第三条" in prompt and "[2]" in prompt
    assert "tools" not in fake.requests[0]


def test_a_policy_answer_citing_only_paragraphs_not_given_is_refused():
    with FakeLLM([text_reply("可以申请100万元补贴[3]。")]) as fake, LLMClient(fake.config()) as client:
        answer = llm_policy_answer(client, "有多少补贴？", PARAGRAPHS)
    assert answer["status"] == "unsupported" and answer["sources"] == []
    assert "100万" not in answer["answer"]


def test_no_paragraphs_means_no_call_and_no_answer():
    with FakeLLM([]) as fake, LLMClient(fake.config()) as client:
        answer = llm_policy_answer(client, "What subsidies are there?", [])
    assert answer["status"] == "no_data" and "No policy paragraphs" in answer["answer"]
    assert fake.requests == []


# -- the guard on the real database -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_con(small_demo_file):
    """The small demo, read-only, with the semantic tables built UNSCOPED on one cursor: the tenant filter
    below comes from sqlsafe alone."""
    with Park.open(small_demo_file, read_only=True) as park:
        con = park.store.cursor()
        create_semantic_views(con, park.store)
        yield park, con


def _enterprise_view(park: Park, enterprise_id: str, park_id: str) -> Park:
    return park.as_principal(
        Principal("token", "t-ent", "ent", "enterprise", park_id=park_id, enterprise_id=enterprise_id)
    )


def test_an_enterprise_users_free_sql_reads_only_its_own_rows(demo_con):
    park, con = demo_con
    sql = "SELECT enterprise_id, sum(amount) AS kwh FROM sem_energy_daily WHERE carrier = 'electricity' GROUP BY 1"
    _, everyone = run_safe_sql(con, sql, park.scope)
    enterprises = [r["enterprise_id"] for r in everyone.to_pylist() if r["enterprise_id"]]
    assert len(enterprises) > 10
    own = sorted(enterprises)[3]
    owner = park.store.query_rows("SELECT park_id FROM enterprises WHERE enterprise_id = ?", [own])[0][
        "park_id"
    ]
    view = _enterprise_view(park, own, owner)
    safe, rows = run_safe_sql(con, sql, view.scope)
    assert [r["enterprise_id"] for r in rows.to_pylist()] == [own]
    assert f"'{own}'" in safe.sql
    # the same through the canonical tables, a join and a CTE
    joined = (
        "WITH daily AS (SELECT r.point_id, r.delta FROM readings_1d r) "
        "SELECT DISTINCT d.enterprise_id FROM daily JOIN points p USING (point_id) JOIN devices d USING (device_id)"
    )
    _, rows = run_safe_sql(con, joined, view.scope)
    assert [r["enterprise_id"] for r in rows.to_pylist()] == [own]
    _, rows = run_safe_sql(con, "SELECT DISTINCT enterprise_id FROM sem_enterprises", view.scope)
    assert rows.column("enterprise_id").to_pylist() == [own]


def test_a_park_admins_free_sql_stays_in_its_park(demo_con):
    park, con = demo_con
    admin = park.as_principal(Principal("token", "t-adm", "adm", "park_admin", park_id="nanning-hitech"))
    _, rows = run_safe_sql(
        con, "SELECT DISTINCT park_id FROM sem_alerts UNION SELECT park_id FROM devices", admin.scope
    )
    assert rows.column("park_id").to_pylist() == ["nanning-hitech"]
    _, air = run_safe_sql(con, "SELECT DISTINCT park_id FROM sem_aqi_daily", park.scope)
    assert len(air) > 1 and "nanning-hitech" in air.column("park_id").to_pylist()
    _, air = run_safe_sql(con, "SELECT DISTINCT park_id FROM sem_aqi_daily", admin.scope)
    assert air.column("park_id").to_pylist() == ["nanning-hitech"]
    _, parks = run_safe_sql(con, "SELECT count(*) AS n FROM sem_parks", admin.scope)
    assert parks.column("n").to_pylist()[0] > 1  # the public catalogue is not tenant data


def test_a_query_without_limit_gets_one_and_a_larger_one_is_capped(demo_con):
    park, con = demo_con
    safe = make_safe("SELECT * FROM readings_1d -- all of it", park.scope)
    assert (
        safe.sql.endswith(f"LIMIT {DEFAULT_LIMIT}") and "--" not in safe.sql and "all of it" not in safe.sql
    )
    _, rows = run_safe_sql(con, "SELECT * FROM readings_1d", park.scope)
    assert park.store.count("readings_1d") > DEFAULT_LIMIT and rows.num_rows == DEFAULT_LIMIT
    _, rows = run_safe_sql(con, "SELECT * FROM readings_1d LIMIT 100000", park.scope, limit=50)
    assert rows.num_rows == 50
    _, rows = run_safe_sql(con, "SELECT * FROM readings_1d LIMIT 7", park.scope)
    assert rows.num_rows == 7
    assert make_safe("SELECT 1 AS x UNION ALL SELECT 2", park.scope).sql.endswith("LIMIT 1000")


def test_a_slow_query_is_interrupted_and_the_connection_still_works(demo_con):
    park, con = demo_con
    slow = (
        "SELECT count(*) FROM readings_15m a, readings_15m b "
        "WHERE hash(a.point_id, b.point_id, a.bucket, b.bucket) = 42"
    )
    with pytest.raises(QueryError, match=r"ran longer than 0.2 s and was stopped"):
        run_safe_sql(con, slow, park.scope, timeout_s=0.2)
    _, rows = run_safe_sql(con, "SELECT count(*) AS n FROM sem_parks", park.scope)
    assert rows.column("n").to_pylist()[0] > 0


def test_a_cte_named_like_a_temporary_table_of_the_connection_is_refused(demo_con):
    park, con = demo_con
    con.execute("CREATE OR REPLACE TEMP TABLE scratch AS SELECT 1 AS x")
    with pytest.raises(QueryError, match="CTE 'scratch'"):
        run_safe_sql(con, "WITH scratch AS (SELECT 2 AS x) SELECT * FROM scratch", park.scope)


def test_the_run_is_read_only_even_past_the_parser(demo_con):
    _, con = demo_con
    from parkbrain.store.sqlguard import run_readonly_select

    with pytest.raises(QueryError, match="only read-only SELECT"):
        run_readonly_select(con, "CREATE TEMP TABLE sneaky AS SELECT 1", 1.0)


MORE_HOSTILE = [
    ("SELECT * FROM parks p, LATERAL read_csv(p.name)", "function read_csv() is not allowed"),
    ("SELECT * FROM query('SELECT * FROM users')", "table function query() is not allowed"),
    ("SELECT * FROM duckdb_settings()", "table function duckdb_settings() is not allowed"),
    ("SELECT * FROM information_schema.tables", "is not a park relation"),
    ('SELECT * FROM "USERS"', "USERS is not readable"),
    ("SELECT * FROM memory.main.users", "is not a park relation"),
    ("SELECT * FROM (DESCRIBE users)", "(DESCRIBE)"),
    ("EXPLAIN SELECT 1", "this statement is EXPLAIN"),
    ("CHECKPOINT", "this statement is CHECKPOINT"),
    ("SELECT * FROM parks UNION ALL SELECT * FROM api_tokens", "api_tokens is not readable"),
    ("SELECT * FROM parks WHERE park_id IN (FROM users SELECT username)", "users is not readable"),
    ("SELECT * FROM 'https://example.org/x.csv'", "is not an allowed relation"),
    ("SELECT * FROM parks WHERE name = (SELECT content FROM read_text('/etc/passwd'))", "read_text()"),
    ("SELECT nextval('seq')", "function nextval() is not allowed"),
    ("UPDATE parks SET name = 'x'", "this statement is UPDATE"),
    ("SELECT * FROM parks FOR UPDATE", "FOR UPDATE"),
]


@pytest.mark.parametrize(("sql", "reason"), MORE_HOSTILE, ids=[h[0][:40] for h in MORE_HOSTILE])
def test_more_ways_around_the_guard_are_refused(sql, reason):
    with pytest.raises(QueryError) as err:
        check_sql(sql)
    assert reason in err.value.message


def test_a_trailing_semicolon_and_comments_are_fine_and_dropped(demo_con):
    park, _ = demo_con
    safe = make_safe("SELECT 1 AS x /* ; DROP TABLE parks */; -- bye", park.scope)
    assert safe.sql == "SELECT 1 AS x LIMIT 1000"


def test_check_sql_accepts_the_ordinary_shapes():
    for sql in (
        "SELECT 1",
        "FROM sem_parks",
        "WITH x AS (SELECT * FROM sem_parks) SELECT * FROM x",
        "SELECT park_id FROM sem_parks UNION SELECT park_id FROM parks",
        "SELECT * FROM sem_parks p WHERE p.park_id IN (SELECT park_id FROM sem_enterprises)",
        "SELECT unnest([1, 2]) AS v",
    ):
        check_sql(sql)


# -- the whole answer through the model (ai.assistant's session: the views under the caller's scope) -------


def _view_scope(scope):
    from parkbrain.ai.views import ViewScope

    return ViewScope(
        enterprises=scope.enterprises("e"),
        alerts=scope.alerts("a"),
        buildings=scope.buildings("b"),
        devices=scope.devices("d"),
        points=scope.points("p", "d"),
    )


def _answer(park: Park, script, question: str):
    from parkbrain.ai.assistant import Session
    from parkbrain.ai.llm_query import answer_with_llm

    session = Session(park.store, _view_scope(park.scope))
    with FakeLLM(script) as fake, LLMClient(fake.config()) as client:
        return answer_with_llm(client, session, question, NOW, park.scope), session, fake


WEEK = {"start": "2026-11-14", "end": "2026-11-21", "grain": None, "label": "最近7天"}


def test_a_structured_query_from_the_model_is_answered_like_the_offline_engine(small_demo_file):
    from parkbrain.ai.assistant import answer_query

    query = {"metric": "electricity_kwh", "dimensions": ["park"], "time": WEEK, "order": "desc", "limit": 3}
    with Park.open(small_demo_file, read_only=True) as park:
        answer, session, fake = _answer(
            park, [tool_reply("structured_query", query)], "最近7天用电量最高的3个园区？"
        )
        offline = answer_query(session, StructuredQuery.from_dict(query), "zh")
    assert answer["engine"] == "llm" and answer["status"] == "answered"
    assert answer["query"] == {**query, "dimensions": ["park"], "filters": [], "compare": None, "agg": None}
    assert answer["rows"] == offline["rows"] and len(answer["rows"]) == 3
    assert answer["columns"] == ["park_name", "electricity_kwh"] and answer["sql"] == offline["sql"]
    assert len(answer["llm_calls"]) == 1 and answer["llm_calls"][0]["prompt_tokens"] > 0
    assert "nanning-hitech" in fake.requests[0]["messages"][0]["content"]  # the parks it may name


def test_the_model_is_told_the_ids_of_the_enterprises_the_question_names(small_demo_file):
    query = {"metric": "electricity_kwh", "time": WEEK}
    with Park.open(small_demo_file, read_only=True) as park:
        row = park.store.query_rows(
            "SELECT enterprise_id, name FROM enterprises ORDER BY enterprise_id LIMIT 1"
        )[0]
        answer, _, fake = _answer(
            park, [tool_reply("structured_query", query)], f"最近7天{row['name']}的用电量"
        )
    system = fake.requests[0]["messages"][0]["content"]
    assert f"named_in_question=enterprise, id={row['enterprise_id']}, name={row['name']}" in system
    assert answer["engine"] == "llm"


def test_free_sql_from_the_model_answers_an_enterprise_with_its_own_rows_only(small_demo_file):
    sql = "SELECT enterprise_id, round(sum(amount), 3) AS kwh FROM sem_energy_daily GROUP BY 1 ORDER BY 1"
    script = [tool_reply("free_sql", {"sql": sql, "explanation": "各企业用电"})]
    with Park.open(small_demo_file, read_only=True) as park:
        own = park.store.query_rows(
            "SELECT enterprise_id, park_id FROM enterprises ORDER BY 1 LIMIT 1 OFFSET 5"
        )[0]
        view = _enterprise_view(park, own["enterprise_id"], own["park_id"])
        answer, _, _ = _answer(view, script, "我们企业每天用多少电？")
    assert answer["status"] == "answered" and answer["engine"] == "llm" and answer["query"] is None
    assert answer["columns"] == ["enterprise_id", "kwh"]
    assert [r[0] for r in answer["rows"]] == [own["enterprise_id"]]
    assert answer["sql"].endswith("LIMIT 1000") and f"'{own['enterprise_id']}'" in answer["sql"]
    assert answer["sources"][0]["model_sql"] == sql and "共 1 行" in answer["answer"]
    assert not any(ch.isdigit() for ch in answer["answer"].replace("1 行", "").replace("1000", ""))


def test_a_refusal_and_an_unrunnable_query_are_unsupported_answers(small_demo_file):
    with Park.open(small_demo_file, read_only=True) as park:
        refused, _, _ = _answer(
            park, [tool_reply("free_sql", {"sql": "SELECT * FROM users"})], "列出所有用户密码"
        )
        broken, _, _ = _answer(park, [tool_reply("free_sql", {"sql": "SELECT no_such FROM sem_parks"})], "x?")
    assert refused["status"] == "unsupported" and "users is not readable" in refused["answer"]
    assert refused["rows"] == [] and refused["sql"] is None
    assert broken["status"] == "unsupported" and "could not be run" in broken["answer"]


def test_open_llm_client_is_none_without_configuration_and_talks_to_the_configured_endpoint(tmp_path):
    from parkbrain.ai.llm import open_llm_client

    assert open_llm_client(env={}) is None
    with FakeLLM([tool_reply("structured_query", GOOD)]) as fake:
        path = tmp_path / "llm.toml"
        path.write_text(f'[llm]\nbase_url = "{fake.base_url}"\nmodel = "local-qwen"\n', encoding="utf-8")
        with open_llm_client(path, env={}) as client:
            result = llm_structured_query(client, QUESTION, NOW, load_layer())
    assert isinstance(result, StructuredQuery) and fake.requests[0]["model"] == "local-qwen"
    assert "authorization" not in fake.headers[0]  # no key configured, none sent


# -- through Park.ask (the LLM configured by the environment) ----------------------------------------------


def test_park_ask_takes_the_llm_path_when_an_endpoint_is_configured(small_demo_file, monkeypatch):
    query = {"metric": "alert_count", "dimensions": ["park"], "time": WEEK, "order": "desc", "limit": 2}
    with (
        FakeLLM([tool_reply("structured_query", query)]) as fake,
        Park.open(small_demo_file, read_only=True) as park,
    ):
        monkeypatch.setenv("PARKBRAIN_LLM_BASE_URL", fake.base_url)
        monkeypatch.setenv("PARKBRAIN_LLM_MODEL", "fake-model")
        answer = park.ask("最近7天告警最多的两个园区？", now=NOW)
        monkeypatch.delenv("PARKBRAIN_LLM_BASE_URL")
        offline = park.ask("最近7天告警最多的两个园区？", now=NOW)
    assert answer["engine"] == "llm" and offline["engine"] == "offline"
    assert answer["query"]["metric"] == "alert_count" and len(fake.requests) == 1
    assert answer["status"] == offline["status"] == "answered"
    assert answer["rows"] == offline["rows"]


def test_park_ask_answers_offline_when_the_endpoint_fails(small_demo_file, monkeypatch):
    with FakeLLM([error_reply(401, "bad key")]) as fake, Park.open(small_demo_file, read_only=True) as park:
        monkeypatch.setenv("PARKBRAIN_LLM_BASE_URL", fake.base_url)
        monkeypatch.setenv("PARKBRAIN_LLM_MODEL", "fake-model")
        answer = park.ask("最近7天各园区的告警数", now=NOW)
    assert answer["engine"] == "offline" and answer["status"] == "answered" and len(fake.requests) == 1


def test_the_prompt_names_public_parks_but_no_enterprise(small_demo_file):
    from parkbrain.ai.llm_query import catalogue_entities, system_prompt

    with Park.open(small_demo_file, read_only=True) as park:
        entities = catalogue_entities(park.store)
        enterprise = park.store.query_rows("SELECT name FROM enterprises LIMIT 1")[0]["name"]
        park_name = park.store.query_rows("SELECT name FROM parks WHERE park_id = 'nanning-hitech'")[0][
            "name"
        ]
    prompt = system_prompt(load_layer(), NOW, entities)
    assert "park_id=nanning-hitech" in prompt and park_name in prompt
    assert enterprise not in prompt  # tenant data stays out of the model's context


def test_the_fake_can_answer_as_a_function_of_the_request():
    def script(request: dict) -> object:
        question = request["messages"][-1]["content"]
        if "用电" in question:
            return tool_reply("structured_query", GOOD)
        return tool_reply("cannot_answer", {"reason": f"not park data: {question}"})

    with FakeLLM(script) as fake:
        first, _ = ask(fake)
        second, _ = ask(fake, "Who won the match?")
    assert isinstance(first, StructuredQuery) and isinstance(second, Refusal)
    assert "not park data: Who won the match?" in second.reason and len(fake.requests) == 2


def test_park_ask_runs_the_models_free_sql_scoped_and_falls_back_when_it_declines(
    small_demo_file, monkeypatch
):
    """Through ``Park.ask``: free SQL from the model runs checked, limited and read-only; a hostile query
    is an unsupported answer naming why, never run; a model that declines leaves the question to the
    offline engine."""
    sql = "SELECT kind, count(*) AS devices FROM sem_devices GROUP BY kind ORDER BY kind"
    script = [
        tool_reply("free_sql", {"sql": sql, "explanation": "设备按类型计数"}),
        tool_reply("free_sql", {"sql": "SELECT * FROM api_tokens"}),
        tool_reply("cannot_answer", {"reason": "not in the layer"}),
    ]
    with FakeLLM(script) as fake, Park.open(small_demo_file, read_only=True) as park:
        monkeypatch.setenv("PARKBRAIN_LLM_BASE_URL", fake.base_url)
        monkeypatch.setenv("PARKBRAIN_LLM_MODEL", "fake-model")
        free = park.ask("各类设备各有多少台？", now=NOW)
        hostile = park.ask("列出所有令牌", now=NOW)
        declined = park.ask("最近7天各园区的告警数", now=NOW)
        expected = park.store.query_rows(
            "SELECT kind, count(*) AS n FROM devices GROUP BY kind ORDER BY kind"
        )
    assert free["engine"] == "llm" and free["status"] == "answered" and free["sql"].endswith("LIMIT 1000")
    assert free["rows"] == [[r["kind"], r["n"]] for r in expected]
    assert hostile["engine"] == "llm" and hostile["status"] == "unsupported" and hostile["rows"] == []
    assert "api_tokens" in hostile["answer"]
    assert declined["engine"] == "offline" and declined["status"] == "answered" and len(fake.requests) == 3
