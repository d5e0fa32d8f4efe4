"""The policy corpus: documents read from Markdown or plain text, chunked by heading and paragraph, and
imported into ``policy_documents`` / ``policy_chunks`` / ``policy_conditions`` (idempotent by sha256).

A file may start with a small front matter between ``---`` lines::

    ---
    doc_id: demo-nnhitech-digital-2026
    title: 南宁高新区企业数字化转型补贴申报指南（2026年度）
    issuer: 南宁高新技术产业开发区管理委员会（演示）
    date: 2026-03-15
    demo: true
    lang: zh
    kind: subsidy
    conditions:
      - {"id": "employees", "field": "employees", "op": ">=", "value": 50, "zh": "…", "en": "…"}
    ---

Conditions (one JSON object a line) are the machine-readable eligibility rules of a subsidy notice; their
fields and operators are declared in ``policy_match.FIELDS``. A real document published without front
matter gets its metadata from ``KNOWN_DOCUMENTS`` (by file name), else from its first heading.

Chunks keep their heading path as ``section`` (e.g. ``二、对策建议/（一）强基行动：…``): headings are
Markdown ``#`` lines or, in plain text too, short lines numbered the Chinese official way (``一、``,
``（一）``). Paragraphs broken by a page (a line that does not end a sentence) are joined again, tiny
paragraphs are merged with the next one of the same section, huge ones split at sentence ends.
Tokens for search are in ``policy_search``.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from parkbrain.errors import BadFile, InvalidInput, NotFound

#: File types read as policy documents (Markdown and plain text).
SUFFIXES = (".md", ".markdown", ".txt")
#: Chunk sizes in characters: paragraphs shorter than MIN_CHARS merge with the next one of their section,
#: longer than MAX_CHARS split at sentence ends.
MIN_CHARS = 40
MAX_CHARS = 320
#: How many times a chunk's heading path counts in its search tokens (headings say what a section is about).
SECTION_WEIGHT = 2
KINDS = ("subsidy", "regulation", "guide", "report")
META_KEYS = ("doc_id", "title", "issuer", "date", "demo", "lang", "kind", "conditions")
DEMO_LABEL = "「演示内容（demo content）」"


@dataclass(frozen=True)
class KnownDocument:
    """Metadata of a real document that is published without front matter."""

    file_name: str
    doc_id: str
    title: str
    issuer: str
    published: date
    kind: str
    citation: str


#: Real documents of the corpus (read in place from the shared data; never copied into the package).
KNOWN_DOCUMENTS: tuple[KnownDocument, ...] = (
    KnownDocument(
        "gxxxzx-2024-51-park-ai-breakthroughs.md",
        "gxxxzx-2024-51",
        "产业园区数智化发展的四大突破口",
        "广西壮族自治区信息中心（广西壮族自治区大数据研究院）",
        date(2024, 10, 23),
        "report",
        "《大数据与决策研究》2024年第51期（总第271期），广西壮族自治区信息中心，2024-10-23",
    ),
)


@dataclass(frozen=True)
class Condition:
    """One eligibility rule of a document (checked by ``policy_match``)."""

    condition_id: str
    field: str
    op: str
    value: Any
    label_zh: str
    label_en: str | None = None


@dataclass(frozen=True)
class Chunk:
    seq: int
    section: str
    text: str
    line: int


@dataclass(frozen=True)
class PolicyDocument:
    doc_id: str
    title: str
    issuer: str | None
    published: date | None
    kind: str | None
    demo: bool
    lang: str
    source_path: str
    sha256: str
    chunks: tuple[Chunk, ...]
    conditions: tuple[Condition, ...] = field(default=())


# -- reading -----------------------------------------------------------------------------------------


def policy_files(path: str | Path) -> list[Path]:
    """The policy files at ``path``: the file itself, or the Markdown/text files of a folder (sorted)."""
    p = Path(path)
    if p.is_dir():
        files = sorted(f for f in p.iterdir() if f.suffix.lower() in SUFFIXES and f.is_file())
        return [f for f in files if f.name.lower() != "readme.md"]
    if not p.is_file():
        raise NotFound(f"{path}: no such file or folder")
    if p.suffix.lower() not in SUFFIXES:
        raise BadFile(str(path), "not a policy document", expected="a Markdown (.md) or text (.txt) file")
    return [p]


def read_policy_file(path: str | Path) -> PolicyDocument:
    """Parse one policy file; ``BadFile`` names the file, line and field of anything wrong."""
    p = Path(path)
    raw = p.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError:
            raise BadFile(p.name, "cannot decode the text", expected="UTF-8 or GB18030") from None
    return parse_policy_text(text, p.name, str(p.resolve()), hashlib.sha256(raw).hexdigest())


def parse_policy_text(
    text: str, name: str, source_path: str = "", sha256: str | None = None
) -> PolicyDocument:
    """A document from its text; ``name`` (the file name) is used in errors and for known documents."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    meta, conditions, body_start = _front_matter(lines, name)
    chunks = chunk_lines(lines[body_start:], body_start + 1)
    if not chunks:
        raise BadFile(name, "no text after the front matter", line=body_start + 1, expected="paragraphs")
    known = next((k for k in KNOWN_DOCUMENTS if k.file_name == name), None)
    title = meta.get("title") or (
        known.title if known else _first_heading(lines[body_start:]) or Path(name).stem
    )
    return PolicyDocument(
        doc_id=meta.get("doc_id") or (known.doc_id if known else _slug(Path(name).stem)),
        title=title,
        issuer=meta.get("issuer") or (known.issuer if known else None),
        published=meta.get("date") or (known.published if known else None),
        kind=meta.get("kind") or (known.kind if known else None),
        demo=bool(meta.get("demo", False)),
        lang=meta.get("lang") or "zh",
        source_path=source_path or name,
        sha256=sha256 or hashlib.sha256(text.encode("utf-8")).hexdigest(),
        chunks=tuple(chunks),
        conditions=tuple(conditions),
    )


def _front_matter(lines: list[str], name: str) -> tuple[dict[str, Any], list[Condition], int]:
    """(metadata, conditions, index of the first body line); no front matter → empty, 0."""
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None or lines[first].strip() != "---":
        return {}, [], 0
    meta: dict[str, Any] = {}
    conditions: list[Condition] = []
    in_conditions = False
    for i in range(first + 1, len(lines)):
        line, lineno = lines[i], i + 1
        if line.strip() == "---":
            _check_meta(meta, name, first + 1)
            return meta, conditions, i + 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if in_conditions and line.lstrip().startswith("- "):
            conditions.append(_condition(line.lstrip()[2:], name, lineno, conditions))
            continue
        key, sep, value = line.partition(":")
        key = key.strip()
        if not sep or line[:1].isspace():
            raise BadFile(
                name,
                f"cannot read the front-matter line {line.strip()!r}",
                line=lineno,
                expected="'key: value', or '  - {…}' under conditions:",
            )
        if key not in META_KEYS:
            raise BadFile(
                name,
                f"unknown front-matter key {key!r}",
                line=lineno,
                field=key,
                expected=f"one of {', '.join(META_KEYS)}",
            )
        in_conditions = key == "conditions"
        if not in_conditions:
            meta[key] = _meta_value(key, value.strip(), name, lineno)
    raise BadFile(name, "the front matter is not closed", line=first + 1, expected="a closing '---' line")


def _meta_value(key: str, value: str, name: str, lineno: int) -> Any:
    if key == "demo":
        if value.lower() not in ("true", "false"):
            raise BadFile(name, f"demo is {value!r}", line=lineno, field="demo", expected="true or false")
        return value.lower() == "true"
    if key == "date":
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise BadFile(
                name,
                f"date is {value!r}",
                line=lineno,
                field="date",
                expected="an ISO date such as 2026-03-15",
            ) from None
    if key == "kind" and value not in KINDS:
        raise BadFile(
            name, f"kind is {value!r}", line=lineno, field="kind", expected=f"one of {', '.join(KINDS)}"
        )
    if key == "lang" and value not in ("zh", "en"):
        raise BadFile(name, f"lang is {value!r}", line=lineno, field="lang", expected="zh or en")
    if key == "doc_id" and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,79}", value):
        raise BadFile(
            name,
            f"doc_id is {value!r}",
            line=lineno,
            field="doc_id",
            expected="letters, digits, '-', '_' or '.' (at most 80)",
        )
    if not value:
        raise BadFile(name, f"{key} is empty", line=lineno, field=key, expected="a value")
    return value


def _check_meta(meta: dict[str, Any], name: str, line: int) -> None:
    for key in ("doc_id", "title"):
        if key not in meta:
            raise BadFile(
                name, f"the front matter has no {key}", line=line, field=key, expected=f"a {key}: line"
            )


def _condition(text: str, name: str, lineno: int, before: list[Condition]) -> Condition:
    from parkbrain.ai.policy_match import check_condition

    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadFile(
            name,
            f"the condition is not JSON ({exc.msg})",
            line=lineno,
            field="conditions",
            expected='{"id", "field", "op", "value", "zh", "en"}',
        ) from None
    if not isinstance(obj, dict) or not {"id", "field", "op", "value", "zh"} <= set(obj):
        raise BadFile(
            name,
            "the condition lacks keys",
            line=lineno,
            field="conditions",
            expected='an object with "id", "field", "op", "value", "zh" (and "en")',
        )
    cond = Condition(
        str(obj["id"]),
        str(obj["field"]),
        str(obj["op"]),
        obj["value"],
        str(obj["zh"]),
        None if obj.get("en") is None else str(obj["en"]),
    )
    if any(c.condition_id == cond.condition_id for c in before):
        raise BadFile(
            name,
            f"condition id {cond.condition_id!r} is used twice",
            line=lineno,
            field="id",
            expected="ids unique within the document",
        )
    try:
        check_condition(cond.field, cond.op, cond.value)
    except InvalidInput as exc:
        raise BadFile(name, exc.message, line=lineno, field=cond.field) from None
    return cond


# -- chunking ----------------------------------------------------------------------------------------

_CN = "[一二三四五六七八九十百零〇]+"
#: Heading numbering of Chinese official documents → its rank in the section path.
_NUMBERING: tuple[tuple[int, re.Pattern[str]], ...] = (
    (1, re.compile(rf"^(第{_CN}[章编部]|{_CN}、)")),
    (2, re.compile(rf"^(（{_CN}）|\({_CN}\)|第{_CN}节)")),
    (3, re.compile(rf"^(\d{{1,2}}[\.、．](?!\d)|第{_CN}条)")),
    (4, re.compile(r"^(（\d{1,2}）|\(\d{1,2}\))")),
)
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FOOTNOTE = re.compile(r"^(<sup>\s*(\d+)\s*</sup>|\[\^(\d+)\]:)\s*")
_SENTENCE_END = "。！？；!?;…"
_CLOSERS = "”’」』）)】》"
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
OTHER_SECTION = "其他 (other)"


@dataclass
class _Block:
    kind: str  # heading | para | note | break
    text: str
    line: int
    rank: int = 0  # numbering rank (0: not numbered)
    level: int = 0  # Markdown heading level


def chunk_lines(lines: list[str], first_line: int = 1) -> list[Chunk]:
    """Chunks of a document body (``first_line``: the number of its first line in the file)."""
    blocks = _join_broken(_blocks(lines, first_line))
    numbered = any(b.kind == "heading" and b.rank > 0 for b in blocks)
    path: list[tuple[int, str]] = []
    pieces: list[tuple[str, str, int]] = []  # (section, text, line)
    for b in blocks:
        if b.kind == "break":
            path = [(0, OTHER_SECTION)]
        elif b.kind == "heading":
            rank = b.rank or (0 if numbered else b.level)
            path = [(r, t) for r, t in path if r < rank] + [(rank, b.text)] if rank else [(0, b.text)]
        else:
            pieces.extend((_section(path), part, b.line) for part in _split(b.text))
    merged = _merge_tiny(pieces)
    return [Chunk(i, s, t, line) for i, (s, t, line) in enumerate(merged)]


def _blocks(lines: list[str], first_line: int) -> list[_Block]:
    blocks: list[_Block] = []
    buf: list[str] = []
    start = first_line

    def flush() -> None:
        if buf:
            blocks.append(_classify(buf, start))
            buf.clear()

    for i, raw in enumerate(lines):
        line = raw.rstrip()
        if not line.strip():
            flush()
            continue
        if _MD_HEADING.match(line.strip()) or re.fullmatch(r"\s*(-{3,}|\*{3,}|_{3,})\s*", line):
            flush()
            blocks.append(_classify([line], first_line + i))
            continue
        if not buf:
            start = first_line + i
        buf.append(line.strip())
    flush()
    return [b for b in blocks if b.text or b.kind == "break"]


def _classify(lines: list[str], line: int) -> _Block:
    first = lines[0].strip()
    if re.fullmatch(r"(-{3,}|\*{3,}|_{3,})", first):
        return _Block("break", "", line)
    md = _MD_HEADING.match(first)
    if md:
        text = _clean(md.group(2))
        return _Block("heading", text, line, _rank(text), len(md.group(1)))
    note = _FOOTNOTE.match(first)
    text = _clean(_join(lines))
    if note:
        return _Block(
            "note", f"注{note.group(2) or note.group(3)}：{_clean(_FOOTNOTE.sub('', _join(lines)))}", line
        )
    rank = _rank(text)
    if len(lines) == 1 and 0 < rank <= 2 and len(text) <= 40 and text[-1] not in _SENTENCE_END + "，,":
        return _Block("heading", text, line, rank)
    return _Block("para", text, line)


def _rank(text: str) -> int:
    return next((rank for rank, pattern in _NUMBERING if pattern.match(text)), 0)


def _join(lines: list[str]) -> str:
    out = lines[0].strip()
    for nxt in lines[1:]:
        nxt = nxt.strip()
        glue = "" if _CJK.match(out[-1:]) or _CJK.match(nxt[:1]) else " "
        out += glue + nxt
    return out


def _clean(text: str) -> str:
    text = re.sub(r"<sup>\s*\d+\s*</sup>|\[\^\d+\]", "", text)
    text = re.sub(r"\*\*(.+?)\*\*|__(.+?)__", lambda m: m.group(1) or m.group(2), text)
    text = re.sub(r"<(https?://[^>]+)>", r"\1", text)
    return re.sub(r"[ \t]{2,}", " ", text).strip()


def _join_broken(blocks: list[_Block]) -> list[_Block]:
    """Join a paragraph cut by a page break (it does not end a sentence) with the next paragraph;
    footnotes met in between follow the joined paragraph."""
    out: list[_Block] = []
    notes: list[_Block] = []
    for b in blocks:
        last = out[-1] if out else None
        broken = last is not None and last.kind == "para" and not _ends(last.text)
        if broken and b.kind == "note":
            notes.append(b)
            continue
        if broken and b.kind == "para":
            last.text += ("" if _CJK.match(b.text[:1]) else " ") + b.text
            if _ends(last.text):
                out.extend(notes)
                notes = []
            continue
        out.extend(notes)
        notes = []
        out.append(b)
    return out + notes


def _ends(text: str) -> bool:
    stripped = text.rstrip(_CLOSERS)
    return not stripped or stripped[-1] in _SENTENCE_END or text[-1] in ")）"


def _section(path: list[tuple[int, str]]) -> str:
    numbered = [t for r, t in path if r > 0]
    if numbered:
        return "/".join(numbered)
    return path[-1][1] if path else ""


def _split(text: str) -> list[str]:
    """A paragraph in pieces of at most MAX_CHARS, cut after sentence ends (or commas, for one long
    sentence)."""
    if len(text) <= MAX_CHARS:
        return [text]
    sentences = re.findall(rf"[^{_SENTENCE_END}]+[{_SENTENCE_END}]+[{_CLOSERS}]*|[^{_SENTENCE_END}]+$", text)
    pieces: list[str] = []
    cur = ""
    for sentence in sentences:
        for part in _hard_split(sentence):
            if cur and len(cur) + len(part) > MAX_CHARS:
                pieces.append(cur)
                cur = ""
            cur += part
    return pieces + ([cur] if cur else [])


def _hard_split(sentence: str) -> list[str]:
    if len(sentence) <= MAX_CHARS:
        return [sentence]
    parts = re.findall(r"[^，,、]+[，,、]?", sentence)
    out, cur = [], ""
    for part in parts:
        while len(part) > MAX_CHARS:
            out.append(part[:MAX_CHARS])
            part = part[MAX_CHARS:]
        if cur and len(cur) + len(part) > MAX_CHARS:
            out.append(cur)
            cur = ""
        cur += part
    return out + ([cur] if cur else [])


def _merge_tiny(pieces: list[tuple[str, str, int]]) -> list[tuple[str, str, int]]:
    """A piece shorter than MIN_CHARS joins the next piece of its section (or the previous one)."""
    out: list[tuple[str, str, int]] = []
    carry: tuple[str, str, int] | None = None
    for section, text, line in pieces:
        if carry is not None:
            if carry[0] == section:
                text, line = carry[1] + " " + text, carry[2]
            else:
                _append_to_last(out, carry)
            carry = None
        if len(text) < MIN_CHARS:
            carry = (section, text, line)
            continue
        out.append((section, text, line))
    if carry is not None:
        _append_to_last(out, carry)
    return out


def _append_to_last(out: list[tuple[str, str, int]], piece: tuple[str, str, int]) -> None:
    """A tiny piece at the end of its section: joins the section's last piece, or stands alone."""
    if out and out[-1][0] == piece[0]:
        section, text, line = out[-1]
        out[-1] = (section, text + " " + piece[1], line)
    else:
        out.append(piece)


def _first_heading(lines: list[str]) -> str | None:
    for line in lines:
        md = _MD_HEADING.match(line.strip())
        if md:
            return _clean(md.group(2))
    return None


def _slug(stem: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", stem).strip("-")[:80]
    return slug or "doc-" + hashlib.sha256(stem.encode()).hexdigest()[:12]


# -- import ------------------------------------------------------------------------------------------


def import_policies(store: Any, path: str | Path, actor: str = "system") -> list[dict[str, Any]]:
    """Import the policy file or folder at ``path``: all files are read first (a bad one stores
    nothing), then each document is added, replaced (its content changed), reindexed (same sha256, but
    this version chunks or tokenises it differently) or left as it is. Returns one row per document with
    ``action`` added | replaced | reindexed | unchanged."""
    from parkbrain.ai.policy_search import tokens_of

    docs = [read_policy_file(f) for f in policy_files(path)]
    if not docs:
        raise NotFound(f"{path}: no policy documents (.md or .txt) there")
    _check_unique(docs)
    stored = {
        r["doc_id"]: r["sha256"] for r in store.query_rows("SELECT doc_id, sha256 FROM policy_documents")
    }
    now = datetime.now(timezone.utc)
    results = []
    with store.transaction() as con:
        for doc in docs:
            action = _action(store, doc, stored, tokens_of)
            if action != "unchanged":
                _replace(con, doc, now, tokens_of)
            results.append(
                {
                    "doc_id": doc.doc_id,
                    "title": doc.title,
                    "demo": doc.demo,
                    "action": action,
                    "chunks": len(doc.chunks),
                    "conditions": len(doc.conditions),
                    "actor": actor,
                }
            )
    return results


def list_documents(store: Any) -> list[dict[str, Any]]:
    """The stored documents with their chunk and condition counts: real ones first, newest first."""
    return store.query_rows(
        "SELECT d.doc_id, d.title, d.issuer, d.published, d.kind, d.demo, d.lang, d.sha256, d.imported_at, "
        "(SELECT count(*) FROM policy_chunks c WHERE c.doc_id = d.doc_id) AS chunks, "
        "(SELECT count(*) FROM policy_conditions c WHERE c.doc_id = d.doc_id) AS conditions "
        "FROM policy_documents d ORDER BY d.demo, d.published DESC NULLS LAST, d.doc_id"
    )


def _check_unique(docs: list[PolicyDocument]) -> None:
    seen: dict[str, str] = {}
    for doc in docs:
        if doc.doc_id in seen:
            raise BadFile(
                doc.source_path,
                f"doc_id {doc.doc_id!r} is also the doc_id of {seen[doc.doc_id]}",
                field="doc_id",
                expected="one document per doc_id",
            )
        seen[doc.doc_id] = doc.source_path


def _action(store: Any, doc: PolicyDocument, stored: dict[str, str], tokens_of: Any) -> str:
    """added | replaced (the file changed) | reindexed (same file, chunked or tokenised differently by
    this version) | unchanged."""
    if doc.doc_id not in stored:
        return "added"
    if stored[doc.doc_id] != doc.sha256:
        return "replaced"
    rows = store.query_rows(
        "SELECT section, text, tokens FROM policy_chunks WHERE doc_id = ? ORDER BY seq", [doc.doc_id]
    )
    now = [{"section": c.section, "text": c.text, "tokens": _search_tokens(c, tokens_of)} for c in doc.chunks]
    return "unchanged" if rows == now else "reindexed"


def _replace(con: Any, doc: PolicyDocument, now: datetime, tokens_of: Any) -> None:
    for table in ("policy_chunks", "policy_conditions", "policy_documents"):
        con.execute(f"DELETE FROM {table} WHERE doc_id = ?", [doc.doc_id])
    con.execute(
        "INSERT INTO policy_documents (doc_id, title, issuer, published, kind, source_path, sha256, demo, lang, "
        "imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            doc.doc_id,
            doc.title,
            doc.issuer,
            doc.published,
            doc.kind,
            doc.source_path,
            doc.sha256,
            doc.demo,
            doc.lang,
            now,
        ],
    )
    con.executemany(
        "INSERT INTO policy_chunks (chunk_id, doc_id, seq, section, text, line, tokens) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            [
                f"{doc.doc_id}:{c.seq}",
                doc.doc_id,
                c.seq,
                c.section,
                c.text,
                c.line,
                _search_tokens(c, tokens_of),
            ]
            for c in doc.chunks
        ],
    )
    if doc.conditions:
        con.executemany(
            "INSERT INTO policy_conditions (doc_id, condition_id, seq, field, op, value, label_zh, label_en) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                [
                    doc.doc_id,
                    c.condition_id,
                    i,
                    c.field,
                    c.op,
                    json.dumps(c.value, ensure_ascii=False),
                    c.label_zh,
                    c.label_en,
                ]
                for i, c in enumerate(doc.conditions)
            ],
        )


def _search_tokens(chunk: Chunk, tokens_of: Any) -> list[str]:
    """Search tokens of a chunk; the demo label paragraph is not searchable (it answers nothing)."""
    if chunk.text.startswith(DEMO_LABEL):
        return []
    return tokens_of(chunk.section) * SECTION_WEIGHT + tokens_of(chunk.text)


def demo_policy_paths(shared: Path | None) -> list[Path]:
    """The demo corpus: the package's demo documents, and the real policy when the shared data is there."""
    from importlib import resources

    paths = [Path(str(resources.files("parkbrain") / "data" / "policies"))]
    if shared is not None:
        real = Path(shared) / "policies" / KNOWN_DOCUMENTS[0].file_name
        if real.is_file():
            paths.append(real)
    return paths
