"""Policy corpus: chunking with section paths, idempotent import, retrieval on the real GXXXZX 2024-51 report
(questions whose answer paragraph is known), cited answers and the honest "no matching policy"."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from parkbrain import Park
from parkbrain.ai.policy_docs import (
    KNOWN_DOCUMENTS,
    MAX_CHARS,
    MIN_CHARS,
    parse_policy_text,
    read_policy_file,
)
from parkbrain.ai.policy_search import Bm25Index, question_tokens, tokens_of
from parkbrain.cli import cli
from parkbrain.errors import BadFile, Forbidden, InvalidInput
from parkbrain.space import Principal
from tests.conftest import ARTIFACTS, SHARED_DATA

REAL = SHARED_DATA / "policies" / KNOWN_DOCUMENTS[0].file_name
DEMO_DIR = Path(__file__).resolve().parents[1] / "src" / "parkbrain" / "data" / "policies"
REAL_ID = KNOWN_DOCUMENTS[0].doc_id
DIGITAL_ID = "demo-nnhitech-digital-2026"
pytestmark = pytest.mark.skipif(not REAL.is_file(), reason="the shared policy document is not there")

#: (question, the section the answer is in) — all in the real report; read off the document by hand.
RETRIEVAL_CASES = [
    ("四大突破口是什么", "产业园区数智化发展的四大突破口"),
    ("强基行动包括哪些内容", "二、对策建议/（一）强基行动：加强园区大模型场景创新要素供给"),
    ("报告对数据要素说了什么", "二、对策建议/（一）强基行动：加强园区大模型场景创新要素供给"),
    ("可信数据空间建设有哪些建议", "二、对策建议/（一）强基行动：加强园区大模型场景创新要素供给"),
    ("大模型评测服务平台", "二、对策建议/（三）聚智行动，大力提升园区大模型场景创新能力"),
    ("招商目标清单和跟踪清单", "二、对策建议/（三）聚智行动，大力提升园区大模型场景创新能力"),
    ("园区大模型场景清单怎么发布", "二、对策建议/（二）创智行动：加快推动园区大模型应用场景开放"),
    ("广西产业园区一张图", "二、对策建议/（四）赋智行动：着力打造园区大模型多维场景应用"),
    (
        "广西有多少款大模型通过备案",
        "一、人工智能大模型赋能产业园区数智化改造的问题挑战/（一）“基础发展弱+产业链条短”限制园区大模型发展潜力",
    ),
    (
        "算力成本高的问题",
        "一、人工智能大模型赋能产业园区数智化改造的问题挑战/（二）“算力刚需大+成本投入高”拔高园区大模型进入门槛",
    ),
    (
        "公共数据开放利用指数",
        "一、人工智能大模型赋能产业园区数智化改造的问题挑战/（三）“数据融合难+数据质量低”制约园区大模型创新应用",
    ),
    ("What are the four breakthroughs?", "产业园区数智化发展的四大突破口"),
    (
        "What does the report say about computing power costs?",
        "一、人工智能大模型赋能产业园区数智化改造的问题挑战/（二）“算力刚需大+成本投入高”拔高园区大模型进入门槛",
    ),
    (
        "How should parks use large models for investment attraction?",
        "二、对策建议/（三）聚智行动，大力提升园区大模型场景创新能力",
    ),
]


#: Written after the retrieval was tuned on RETRIEVAL_CASES and measured once, untuned: hit@1 9/12, hit@3 11/12.
HELD_OUT_CASES = [
    ("梧州钢铁公司5G工业互联网建设成本", RETRIEVAL_CASES[9][1]),
    ("医疗金融糖业缺乏高质量知识库", RETRIEVAL_CASES[10][1]),
    ("跨境电商跨境金融场景", RETRIEVAL_CASES[6][1]),
    ("智算中心建设", RETRIEVAL_CASES[1][1]),
    ("联合实验室和创新中心", RETRIEVAL_CASES[4][1]),
    ("嗦粉经济 茶饮产业", RETRIEVAL_CASES[7][1]),
    ("东盟语料库", RETRIEVAL_CASES[1][1]),
    ("产业链条短的问题", RETRIEVAL_CASES[8][1]),
    ("What challenges do parks face with data quality?", RETRIEVAL_CASES[10][1]),
    ("What does the report recommend on the ASEAN computing hub?", RETRIEVAL_CASES[1][1]),
    ("How can large models help equipment fault diagnosis?", RETRIEVAL_CASES[7][1]),
    ("免证园区", RETRIEVAL_CASES[7][1]),
]


@pytest.fixture(scope="module")
def corpus_park():
    """An in-memory park holding the demo documents and the real report."""
    with Park(memory=True) as park:
        park.import_demo_policies(SHARED_DATA)
        yield park


# -- chunking ------------------------------------------------------------------------------------


def test_real_report_chunks_keep_their_section_paths():
    doc = read_policy_file(REAL)
    assert (doc.doc_id, doc.title, doc.published.isoformat(), doc.demo) == (
        REAL_ID,
        "产业园区数智化发展的四大突破口",
        "2024-10-23",
        False,
    )
    sections = {c.section for c in doc.chunks}
    # Markdown headings, a numbered plain-text line (（一）强基行动) and a level-4 heading all nest under 二、
    for action in ("（一）强基行动", "（二）创智行动", "（三）聚智行动", "（四）赋智行动"):
        assert any(s.startswith("二、对策建议/" + action) for s in sections), action
    assert any(s.startswith("一、人工智能大模型赋能产业园区数智化改造的问题挑战/（二）") for s in sections)
    for chunk in doc.chunks:
        assert len(chunk.text) <= MAX_CHARS + MIN_CHARS + 1, chunk
        assert "<sup>" not in chunk.text and "**" not in chunk.text
    # a paragraph broken by a page (and a footnote) is joined again
    intro = next(c for c in doc.chunks if c.text.startswith("当前，自治区党委"))
    assert "抢抓人工智能引领产业变革的新机遇" in intro.text
    assert any("支撑园区人工智能大模型应用落地" in c.text for c in doc.chunks)


def test_chunking_merges_tiny_paragraphs_and_splits_huge_ones_at_sentence_ends():
    sentence = "这是一个用于测试切分的较长句子，内容没有实际意义但足够长。"
    text = (
        "# 标题\n\n## 一、总则\n\n短段。\n\n"
        + sentence * 30
        + "\n\n## 二、附则\n\n第二节内容足够长，"
        + "补充说明。" * 10
    )
    doc = parse_policy_text(text, "t.md")
    first = [c for c in doc.chunks if c.section == "一、总则"]
    assert first[0].text.startswith("短段。 这是")  # the tiny paragraph joined the next one
    assert len(first) > 1 and all(len(c.text) <= MAX_CHARS + MIN_CHARS for c in first)
    assert all(c.text.endswith("。") for c in first)  # cut after sentence ends
    assert [c.section for c in doc.chunks][-1] == "二、附则"
    assert doc.chunks[0].line == 5


def test_plain_text_headings_and_unnumbered_markdown():
    plain = parse_policy_text(
        "一、总则\n\n为了测试纯文本文件的标题识别，写一段足够长的正文内容。\n\n（一）适用范围\n\n本办法适用于园区内的全部企业和单位，以及入驻服务机构。",
        "p.txt",
    )
    assert [c.section for c in plain.chunks] == ["一、总则", "一、总则/（一）适用范围"]
    english = parse_policy_text(
        "# Guide\n\n## Eligibility\n\nEnterprises registered in the park with at least fifty employees qualify.\n",
        "g.md",
    )
    assert english.chunks[0].section == "Guide/Eligibility"


def test_tokens_drop_stopwords_and_punctuation_and_translate_english_terms():
    tokens = tokens_of("强基行动包括哪些内容？")
    assert "强基行动" in tokens and "哪些" not in tokens and "？" not in tokens
    assert "算力" in question_tokens("What about computing power?")
    assert "the" not in question_tokens("What about the data?")


def test_bm25_matches_a_hand_computed_score():
    index = Bm25Index.build([["a", "b"], ["b", "c", "c"], ["d"]])
    # idf(c) = ln(1 + (3 - 1 + 0.5) / (1 + 0.5)); avgdl = 2; doc 1: tf 2, dl 3
    idf = 0.9808292530117262
    expected = idf * 2 * 2.5 / (2 + 1.5 * (1 - 0.75 + 0.75 * 3 / 2))
    assert index.scores(["c"])[1] == pytest.approx(expected)
    assert list(index.scores(["c"])[[0, 2]]) == [0, 0]
    assert index.scores(["zzz"]).sum() == 0


# -- import --------------------------------------------------------------------------------------


def test_import_is_idempotent_and_a_changed_file_replaces_its_chunks(tmp_path):
    with Park(memory=True) as park:
        first = park.import_policies(DEMO_DIR)
        assert {r["action"] for r in first} == {"added"} and len(first) == 5
        n = park.store.count("policy_chunks")
        assert {r["action"] for r in park.import_policies(DEMO_DIR)} == {"unchanged"}
        assert park.store.count("policy_chunks") == n
        # chunks indexed by an older version are indexed again, though the file is the same
        park.store.query(
            "UPDATE policy_chunks SET tokens = ['旧'] WHERE doc_id = 'demo-park-settlement-guide'"
        )
        again = {r["doc_id"]: r["action"] for r in park.import_policies(DEMO_DIR)}
        assert again["demo-park-settlement-guide"] == "reindexed" and again[DIGITAL_ID] == "unchanged"
        assert park.store.count("policy_chunks") == n
        assert "旧" not in str(park.store.query_rows("SELECT tokens FROM policy_chunks"))
        changed = tmp_path / "guide.md"
        source = (DEMO_DIR / "park-enterprise-settlement-guide.md").read_text(encoding="utf-8")
        changed.write_text(
            source + "\n## 五、附则\n\n本指南自发布之日起施行，由园区管理服务中心负责解释。\n", "utf-8"
        )
        assert park.import_policies(changed)[0]["action"] == "replaced"
        sections = park.store.query_rows(
            "SELECT section FROM policy_chunks WHERE doc_id = 'demo-park-settlement-guide' ORDER BY seq"
        )
        assert sections[-1]["section"] == "五、附则"
        assert park.store.count("policy_documents") == 5


@pytest.mark.parametrize(
    ("front", "expected"),
    [
        ("doc_id: x\ntitle: T\ndate: 2026-13-01\n", "line 4, field 'date'"),
        ("doc_id: x\ntitle: T\ncolour: red\n", "line 4, field 'colour'"),
        ("title: T\n", "field 'doc_id'"),
        (
            'doc_id: x\ntitle: T\nconditions:\n  - {"id": "a", "field": "employees", "op": ">=", "value": "many", "zh": "多"}\n',
            "line 5, field 'employees'",
        ),
        (
            'doc_id: x\ntitle: T\nconditions:\n  - {"id": "a", "field": "shoe_size", "op": ">=", "value": 1, "zh": "鞋"}\n',
            "line 5, field 'shoe_size'",
        ),
        ('doc_id: x\ntitle: T\nconditions:\n  - {"id": "a", \n', "line 5, field 'conditions'"),
    ],
)
def test_bad_front_matter_names_file_line_and_field_and_stores_nothing(tmp_path, front, expected):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a-good.md").write_text(
        "---\ndoc_id: good\ntitle: 好\n---\n\n# 好\n\n一段足够长的正文，用来确认坏文件旁边的好文件也不会被导入。\n",
        "utf-8",
    )
    (folder / "b-bad.md").write_text(f"---\n{front}---\n\n# 坏\n\n正文。\n", "utf-8")
    with Park(memory=True) as park:
        with pytest.raises(BadFile) as err:
            park.import_policies(folder)
        assert err.value.message.startswith("b-bad.md, ") and expected in err.value.message
        assert park.store.count("policy_documents") == 0 and park.store.count("policy_chunks") == 0


def test_only_the_province_imports(tmp_path):
    with Park(memory=True) as park:
        admin = park.as_principal(Principal("token", "t1", "t1", "park_admin", park_id="p1"))
        with pytest.raises(Forbidden):
            admin.import_policies(DEMO_DIR)
        assert park.store.count("policy_documents") == 0


# -- retrieval and answers -----------------------------------------------------------------------


def test_retrieval_on_the_real_report_ranks_the_right_section_first(corpus_park):
    hit1 = hit3 = 0
    misses = []
    for question, section in RETRIEVAL_CASES:
        hits = corpus_park.search_policies(question, k=3)
        ranked = [(h["doc_id"], h["section"]) for h in hits]
        hit1 += ranked[:1] == [(REAL_ID, section)]
        hit3 += (REAL_ID, section) in ranked
        if ranked[:1] != [(REAL_ID, section)]:
            misses.append((question, ranked))
    n = len(RETRIEVAL_CASES)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "policy-retrieval.txt").write_text(
        f"questions {n}\nhit@1 {hit1 / n:.3f}\nhit@3 {hit3 / n:.3f}\n", encoding="utf-8"
    )
    print(f"policy retrieval: {n} questions, hit@1 {hit1}/{n}, hit@3 {hit3}/{n}")
    assert not misses, misses
    assert sum(1 for q, _ in RETRIEVAL_CASES if q.isascii()) >= 2 and n >= 10


def test_retrieval_on_held_out_questions(corpus_park):
    """Questions not used for tuning: the figures are measured and kept, with a floor."""
    ranked = [
        [(h["doc_id"], h["section"]) for h in corpus_park.search_policies(q, k=3)] for q, _ in HELD_OUT_CASES
    ]
    hit1 = sum(r[:1] == [(REAL_ID, s)] for r, (_, s) in zip(ranked, HELD_OUT_CASES))
    hit3 = sum((REAL_ID, s) in r for r, (_, s) in zip(ranked, HELD_OUT_CASES))
    n = len(HELD_OUT_CASES)
    ARTIFACTS.mkdir(exist_ok=True)
    with (ARTIFACTS / "policy-retrieval.txt").open("a", encoding="utf-8") as out:
        out.write(f"held_out {n}\nheld_out_hit@1 {hit1 / n:.3f}\nheld_out_hit@3 {hit3 / n:.3f}\n")
    print(f"policy retrieval, held out: {n} questions, hit@1 {hit1}/{n}, hit@3 {hit3}/{n}")
    assert hit1 >= 9 and hit3 >= 11


def test_answer_quotes_the_paragraphs_with_citations(corpus_park):
    result = corpus_park.policy_answer("强基行动包括哪些内容")
    assert set(result) >= {
        "answer",
        "query",
        "sql",
        "columns",
        "rows",
        "sources",
        "status",
        "clarify",
        "engine",
    }
    assert result["status"] == "answered" and result["query"] is None and result["sql"] is None
    top = result["sources"][0]
    assert top["kind"] == "policy" and top["doc_id"] == REAL_ID and top["demo"] is False
    assert top["section"].startswith("二、对策建议/（一）强基行动")
    assert "《产业园区数智化发展的四大突破口》" in result["answer"] and top["text"] in result["answer"]
    english = corpus_park.policy_answer("What are the four breakthroughs?")
    assert english["answer"].startswith("From the policy documents") and "四大突破" in english["answer"]


def test_demo_documents_are_labelled_in_answers(corpus_park):
    result = corpus_park.policy_answer("绿色工厂奖励标准是多少")
    assert result["status"] == "answered"
    assert result["sources"][0]["doc_id"] == "demo-gx-green-factory-2026" and result["sources"][0]["demo"]
    assert "演示内容（demo content）" in result["answer"]


@pytest.mark.parametrize(
    "question", ["今天天气怎么样", "how do I cook rice", "上个月用电量最高的企业", "南宁到桂林的高铁票多少钱"]
)
def test_no_matching_policy_is_said_honestly(corpus_park, question):
    result = corpus_park.policy_answer(question)
    assert result["status"] == "unsupported" and result["sources"] == [] and result["rows"] == []
    assert "没有找到" in result["answer"] or "No matching policy" in result["answer"]


def test_question_length_is_checked(corpus_park):
    with pytest.raises(InvalidInput, match="question"):
        corpus_park.policy_answer("  ")
    with pytest.raises(InvalidInput, match="question"):
        corpus_park.search_policies("政" * 501)


def test_cli_import_list_search_ask(tmp_path):
    db = str(tmp_path / "p.duckdb")
    runner = CliRunner()
    first = runner.invoke(cli, ["policy", "import", str(DEMO_DIR), "--db", db])
    assert first.exit_code == 0, first.output
    assert "added" in first.output
    assert "unchanged" in runner.invoke(cli, ["policy", "import", str(DEMO_DIR), "--db", db]).output
    assert runner.invoke(cli, ["policy", "import", str(REAL), "--db", db]).exit_code == 0
    listing = runner.invoke(cli, ["policy", "list", "--db", db]).output
    assert REAL_ID in listing and "演示 demo" in listing
    search = runner.invoke(cli, ["policy", "search", "强基行动", "-k", "2", "--db", db]).output
    assert search.startswith("1. ") and "（一）强基行动" in search
    ask = runner.invoke(cli, ["policy", "ask", "四大突破口是什么", "--db", db])
    assert ask.exit_code == 0 and "四大突破" in ask.output
    bad = tmp_path / "bad.md"
    bad.write_text("---\ndoc_id: x\n", "utf-8")
    failed = runner.invoke(cli, ["policy", "import", str(bad), "--db", db])
    assert failed.exit_code == 1 and "bad.md, line 1" in failed.output and "Traceback" not in failed.output


# -- with an LLM configured (the scripted fake endpoint) -------------------------------------------------


def _configure(monkeypatch, fake) -> None:
    monkeypatch.setenv("PARKBRAIN_LLM_BASE_URL", fake.base_url)
    monkeypatch.setenv("PARKBRAIN_LLM_MODEL", "fake-model")


def test_with_an_llm_the_answer_is_written_from_the_same_paragraphs(corpus_park, monkeypatch):
    from parkbrain.ai.fake_llm import FakeLLM, text_reply

    offline = corpus_park.policy_answer("强基行动包括哪些内容")
    with FakeLLM(
        [text_reply("强基行动包括提升算力设施、集聚数据资源和打造多模态大模型赋能平台[1]。")]
    ) as fake:
        _configure(monkeypatch, fake)
        written = corpus_park.policy_answer("强基行动包括哪些内容")
    assert written["engine"] == "llm" and written["status"] == "answered"
    assert written["sources"][0]["chunk_id"] == offline["sources"][0]["chunk_id"]
    sent = fake.requests[0]["messages"][-1]["content"]
    assert offline["sources"][0]["text"] in sent  # the model got the retrieved paragraphs


def test_with_an_llm_an_uncited_or_failed_answer_falls_back_to_the_quotes(corpus_park, monkeypatch):
    from parkbrain.ai.fake_llm import FakeLLM, error_reply, text_reply

    for reply in (text_reply("强基行动很重要。"), error_reply(401, "bad key")):
        with FakeLLM([reply]) as fake:
            _configure(monkeypatch, fake)
            result = corpus_park.policy_answer("强基行动包括哪些内容")
        assert result["engine"] == "offline" and result["status"] == "answered" and len(fake.requests) == 1
    with FakeLLM([text_reply("不会被问到")]) as fake:
        _configure(monkeypatch, fake)
        assert corpus_park.policy_answer("今天天气怎么样")["status"] == "unsupported"
    assert fake.requests == []  # no paragraph: the model is not asked
