"""Search over the policy corpus: jieba tokens (search mode, stopwords, punctuation dropped) and Okapi BM25
(k1 = 1.5, b = 0.75) in numpy over an inverted index.

English questions are lowercase word tokens; a small bilingual glossary of park-policy terms (data,
below) adds the Chinese words of the English terms it finds, so that an English question reaches the
Chinese documents. The index is built from the tokens stored with each chunk at import and cached per
corpus content (the documents' sha256), so a search tokenises only the question.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

K1 = 1.5
B = 0.75

#: Words of the park-policy domain added to the tokenizer's dictionary (so they are kept whole).
DOMAIN_WORDS: tuple[str, ...] = (
    "四大突破口",
    "突破口",
    "强基行动",
    "创智行动",
    "聚智行动",
    "赋智行动",
    "强基",
    "创智",
    "聚智",
    "赋智",
    "大模型",
    "算力",
    "智算中心",
    "数据要素",
    "可信数据空间",
    "数据空间",
    "一张图",
    "场景清单",
    "目标清单",
    "跟踪清单",
    "重点用能单位",
    "单位产值能耗",
    "综合能耗",
    "标准煤",
    "节能降碳",
    "数字化转型",
    "数字化车间",
    "智能工厂",
    "绿色工厂",
    "一网通办",
    "免证园区",
    "东盟",
    "招商",
    "大数据",
    "数转智改",
    "测评",
    "评测",
)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_STOP_ZH = _words(
    "的 了 是 在 和 与 及 或 等 对 为 以 将 把 被 由 从 中 上 下 个 这 那 哪些 哪 什么 怎么 怎样 如何 吗 呢 吧 啊 "
    "有 有哪些 是否 可以 能 能否 请问 请 我 我们 你 你们 他 它 其 之 而 并 也 都 就 要 会 说 讲 提到 提出 关于 "
    "哪里 多少 几 内容 包括 包含 主要 相关 方面 一下 这个 那个 进行 还 又 所 着 过 么 里 里面 时候 什么样 哪个 "
    "哪家 报告 文件 说了 讲了 怎么办"
)
_STOP_EN = _words(
    "a an the of to in on for and or is are was were be been what which who whom how does do did about say "
    "says said tell me us please this that these those it its with by from as at into can could should would "
    "there their them they we you your our any all some list give document text report paper"
)

#: English terms → the Chinese words they stand for (lowercase, singular; longest phrases first).
GLOSSARY: tuple[tuple[str, str], ...] = (
    ("four breakthrough", "四大突破口 四大突破"),
    ("breakthrough", "突破口 突破"),
    ("strengthen the foundation", "强基行动 强基"),
    ("strengthening foundation", "强基行动 强基"),
    ("foundation", "强基"),
    ("scenario opening", "创智行动 场景开放"),
    ("capability building", "聚智行动"),
    ("empowerment", "赋智行动 赋智"),
    ("large model", "大模型"),
    ("llm", "大模型"),
    ("ai", "人工智能 大模型"),
    ("artificial intelligence", "人工智能"),
    ("computing power", "算力"),
    ("compute", "算力"),
    ("data element", "数据要素"),
    ("data space", "数据空间 可信数据空间"),
    ("data quality", "数据质量"),
    ("data fusion", "数据融合"),
    ("data integration", "数据融合 数据集成"),
    ("public data", "公共数据"),
    ("data", "数据"),
    ("investment attraction", "招商"),
    ("investment", "招商 投资"),
    ("asean", "东盟"),
    ("scenario", "场景"),
    ("challenge", "问题挑战 挑战"),
    ("problem", "问题挑战 问题"),
    ("countermeasure", "对策建议"),
    ("recommend", "对策建议 建议"),
    ("suggestion", "对策建议 建议"),
    ("resource", "资源"),
    ("cost", "成本 投入"),
    ("recommendation", "对策建议"),
    ("park", "园区"),
    ("industrial chain", "产业链"),
    ("manufacturing", "制造"),
    ("fault diagnosis", "故障诊断"),
    ("energy saving", "节能"),
    ("energy consumption", "能耗"),
    ("energy", "能耗 能源"),
    ("carbon", "降碳"),
    ("subsidy", "补贴 奖补"),
    ("reward", "奖励 奖补"),
    ("eligibility", "申报条件"),
    ("condition", "申报条件 条件"),
    ("apply", "申报"),
    ("application", "申报"),
    ("deadline", "申报时间"),
    ("digital transformation", "数字化转型 数字化改造"),
    ("digital", "数字化"),
    ("smart factory", "智能工厂"),
    ("green factory", "绿色工厂"),
    ("key energy", "重点用能单位"),
    ("monitoring", "监测"),
    ("settle", "入驻"),
    ("move into", "入驻"),
    ("registration", "登记"),
    ("evaluation", "测评 评测"),
    ("benchmark", "测评"),
    ("map", "一张图"),
)

#: Question phrasings → the words documents use for them (a question says 什么时候, a notice 申报时间).
PHRASINGS: tuple[tuple[str, str], ...] = (
    ("什么时候", "时间"),
    ("何时", "时间"),
    ("截止", "时间"),
    ("多少钱", "标准 金额"),
    ("多少万", "标准 金额"),
    ("资格", "条件"),
    ("门槛", "条件"),
    ("怎么申请", "申报 程序 流程"),
    ("如何申请", "申报 程序 流程"),
    ("怎么申报", "申报 程序 流程"),
    ("如何申报", "申报 程序 流程"),
    ("要交什么", "材料"),
    ("需要什么材料", "材料"),
)

#: Place names of the province (GB/T 2260 prefectures): a question's place alone does not make a match.
PLACES = _words(
    "广西 广西壮族自治区 自治区 南宁 柳州 桂林 梧州 北海 防城港 钦州 贵港 玉林 百色 贺州 河池 来宾 崇左 "
    "南宁市 柳州市 桂林市 梧州市 北海市 防城港市 钦州市 贵港市 玉林市 百色市 贺州市 河池市 来宾市 崇左市 "
    "guangxi nanning liuzhou guilin wuzhou beihai fangchenggang qinzhou guigang yulin baise hezhou hechi "
    "laibin chongzuo"
)

_PUNCT = re.compile(r"^[\W_]+$", re.UNICODE)
_CJK = re.compile(r"[\u3400-\u9fff]")
_WORD_EN = re.compile(r"[a-z][a-z0-9]*|\d+(?:\.\d+)?")

_tokenizer: Any = None
_tokenizer_lock = threading.Lock()


def _jieba() -> Any:
    """A tokenizer of our own (others' ``jieba.add_word`` on the global one do not change our tokens)."""
    global _tokenizer
    with _tokenizer_lock:
        if _tokenizer is None:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            tok = jieba.Tokenizer()
            tok.initialize()
            for word in DOMAIN_WORDS:
                tok.add_word(word, freq=2000)
            _tokenizer = tok
    return _tokenizer


def tokens_of(text: str) -> list[str]:
    """Search tokens of a text: jieba search mode, lowercased; stopwords, punctuation and single Chinese
    characters dropped; English words singular."""
    out = []
    for raw in _jieba().cut_for_search(text.lower()):
        token = raw.strip()
        if not token or _PUNCT.match(token) or token in _STOP_ZH:
            continue
        if _CJK.search(token):
            if len(token) > 1:
                out.append(token)
            continue
        for word in _WORD_EN.findall(token):
            word = _singular(word)
            if word not in _STOP_EN and (len(word) > 1 or word.isdigit()):
                out.append(word)
    return out


def question_tokens(question: str) -> list[str]:
    """Terms of a question for ranking: its content terms and the documents' words for its phrasings."""
    extra = [t for phrase, words in PHRASINGS if phrase in question for t in tokens_of(words)]
    return content_terms(question, places=True) + extra


def content_terms(question: str, places: bool = False) -> list[str]:
    """What a question asks about: its Chinese tokens, the Chinese words of the glossary's English terms
    in it and its other English words; place names only with ``places`` (they locate, they do not say
    what is asked, so they do not count when judging whether a paragraph answers)."""
    tokens = [t for t in tokens_of(question) if _CJK.search(t)]
    words = [w for w in _WORD_EN.findall(question.lower()) if w not in _STOP_EN]
    text = " " + " ".join(_singular(w) for w in words) + " "
    for english, chinese in GLOSSARY:
        if f" {english} " in text:
            tokens.extend(tokens_of(chinese))
            text = text.replace(f" {english} ", " ")
    terms = tokens + [w for w in text.split() if w not in _STOP_EN and (len(w) > 1 or w.isdigit())]
    return terms if places else [t for t in terms if t not in PLACES]


def _singular(word: str) -> str:
    if len(word) > 3 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


# -- BM25 --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bm25Index:
    """Okapi BM25 over documents given as token lists: an inverted index term → (docs, term counts)."""

    postings: dict[str, tuple[np.ndarray, np.ndarray]]
    lengths: np.ndarray
    k1: float = K1
    b: float = B

    @classmethod
    def build(cls, docs: list[list[str]], k1: float = K1, b: float = B) -> Bm25Index:
        ids: dict[str, list[int]] = {}
        counts: dict[str, list[int]] = {}
        for i, doc in enumerate(docs):
            terms, freq = np.unique(np.asarray(doc, dtype=object), return_counts=True) if doc else ([], [])
            for term, n in zip(terms, freq):
                ids.setdefault(term, []).append(i)
                counts.setdefault(term, []).append(int(n))
        postings = {t: (np.asarray(ids[t]), np.asarray(counts[t], dtype=float)) for t in ids}
        return cls(postings, np.asarray([len(d) for d in docs], dtype=float), k1, b)

    @property
    def size(self) -> int:
        return len(self.lengths)

    def idf(self, term: str) -> float:
        """Lucene's non-negative BM25 idf: ln(1 + (N - n + 0.5) / (n + 0.5))."""
        n = len(self.postings[term][0]) if term in self.postings else 0
        return math.log(1 + (self.size - n + 0.5) / (n + 0.5))

    def scores(self, query: list[str]) -> np.ndarray:
        """The BM25 score of every document for ``query`` (a repeated query term counts once)."""
        scores = np.zeros(self.size)
        if not self.size:
            return scores
        norm = self.k1 * (1 - self.b + self.b * self.lengths / max(self.lengths.mean(), 1.0))
        for term in dict.fromkeys(query):
            if term not in self.postings:
                continue
            docs, tf = self.postings[term]
            scores[docs] += self.idf(term) * tf * (self.k1 + 1) / (tf + norm[docs])
        return scores


@dataclass(frozen=True)
class Corpus:
    """The chunks of the stored corpus in index order, their BM25 index, and one over the documents'
    titles (a title that matches the question lifts every chunk of its document a little)."""

    chunks: list[dict[str, Any]]
    index: Bm25Index
    titles: Bm25Index
    doc_of: np.ndarray  # chunk → its document's row in ``titles``
    terms: list[frozenset[str]]  # chunk → the terms of its text, section and title

    def scores(self, terms: list[str]) -> np.ndarray:
        if not self.chunks:
            return np.zeros(0)
        return self.index.scores(terms) + TITLE_WEIGHT * self.titles.scores(terms)[self.doc_of]

    def idf(self, term: str) -> float:
        return self.index.idf(term)


#: Weight of the title's BM25 score added to each chunk of the document.
TITLE_WEIGHT = 0.3
_CORPORA: dict[str, Corpus] = {}
_CORPORA_LOCK = threading.Lock()

_CHUNKS_SQL = """
SELECT c.chunk_id, c.doc_id, c.seq, c.section, c.text, c.line, c.tokens, d.title, d.issuer, d.published,
       d.kind, d.demo, d.lang
FROM policy_chunks c JOIN policy_documents d USING (doc_id)
ORDER BY c.doc_id, c.seq
"""


def load_corpus(store: Any) -> Corpus:
    """The corpus and its indexes, cached under the stored documents' ids and hashes."""
    rows = store.query_rows("SELECT doc_id, sha256, title FROM policy_documents ORDER BY doc_id")
    key = hashlib.sha256("|".join(f"{r['doc_id']}={r['sha256']}" for r in rows).encode()).hexdigest()
    with _CORPORA_LOCK:
        cached = _CORPORA.get(key)
    if cached is not None:
        return cached
    chunks = store.query_rows(_CHUNKS_SQL)
    position = {r["doc_id"]: i for i, r in enumerate(rows)}
    tokens = [list(c.pop("tokens")) for c in chunks]
    titles = [tokens_of(r["title"]) for r in rows]
    doc_of = np.asarray([position[c["doc_id"]] for c in chunks], dtype=int)
    corpus = Corpus(
        chunks,
        Bm25Index.build(tokens),
        Bm25Index.build(titles),
        doc_of,
        [frozenset(t) | frozenset(titles[d]) for t, d in zip(tokens, doc_of)],
    )
    with _CORPORA_LOCK:
        if len(_CORPORA) > 16:
            _CORPORA.clear()
        _CORPORA[key] = corpus
    return corpus


def search_chunks(store: Any, question: str, k: int = 5, doc_id: str | None = None) -> list[dict[str, Any]]:
    """The ``k`` chunks that best match ``question`` (score > 0), best first, with ``score``, ``rank`` and
    ``coverage`` (the idf-weighted share of the question's content terms that the chunk holds)."""
    corpus = load_corpus(store)
    terms = list(dict.fromkeys(question_tokens(question)))
    content = list(dict.fromkeys(content_terms(question)))
    scores = corpus.scores(terms)
    if doc_id is not None:
        scores = np.where([c["doc_id"] == doc_id for c in corpus.chunks], scores, 0.0)
    order = np.argsort(-scores, kind="stable")[:k]
    out = []
    for rank, i in enumerate(order, start=1):
        if scores[i] <= 0:
            break
        chunk = corpus.chunks[i]
        out.append(
            {
                **chunk,
                "score": round(float(scores[i]), 3),
                "rank": rank,
                "coverage": round(_coverage(corpus, content, corpus.terms[i]), 3),
            }
        )
    return out


def _coverage(corpus: Corpus, terms: list[str], have: frozenset[str]) -> float:
    """idf-weighted share of the question's terms found in the chunk, its section or its title (a term
    the corpus never uses weighs as much as the rarest)."""
    if not terms:
        return 0.0
    weights = {t: corpus.idf(t) for t in terms}
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in have) / total if total else 0.0
