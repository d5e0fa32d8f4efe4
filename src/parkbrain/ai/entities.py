"""Entity linking: the names of parks, cities, enterprises and industries in a question → ids.

The ``Catalog`` is read from the caller's semantic views (``sem_parks``, ``sem_enterprises``), so an
enterprise user links only what it may see. Each entity gets aliases: its full name, the park's
``short_names``, abbreviations built by rule (…高新技术产业开发区 → …高新区, 经济技术开发区 → 经开区),
the English name, an enterprise's name without its legal suffix and city prefix, and its brand (the two
characters after the city: 隆盛). Matching is longest alias first; an alias of several entities (高新区
alone, a brand two enterprises share) is ambiguous and becomes a clarify with the options. Longer names
also enter a jieba user dictionary so that they segment as one token; a jieba token that is a distinctive
piece of exactly one enterprise's name links it too.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from parkbrain.ai.query import Filter
from parkbrain.ai.semantic import SemanticLayer

# Rule-made abbreviations of park names (the usual short forms in Guangxi documents).
PARK_ABBREVIATIONS: tuple[tuple[str, str], ...] = (
    ("高新技术产业开发区", "高新区"),
    ("经济技术开发区", "经开区"),
    ("经济开发区", "经开区"),
    ("综合保税区", "综保区"),
    ("工业园区", "工业园"),
    ("产业园区", "产业园"),
)
PARK_ABBREVIATIONS_EN: tuple[tuple[str, str], ...] = (
    ("high-tech industrial development zone", "high-tech zone"),
    ("high-tech industrial development zone", "hi-tech zone"),
    ("high-tech industrial development zone", "hitech zone"),
    ("economic and technological development zone", "etdz"),
    ("economic and technological development zone", "development zone"),
    ("industrial park", "park"),
)
# Park kinds that, alone, name no one park: asked alone they need a clarify.
GENERIC_PARK_WORDS: tuple[str, ...] = ("高新区", "经开区", "开发区", "工业园区", "工业园", "产业园", "工业区",
                                       "high-tech zone", "development zone")  # fmt: skip
LEGAL_SUFFIXES: tuple[str, ...] = ("股份有限公司", "有限责任公司", "集团有限公司", "有限公司", "集团", "公司")
PROVINCE_PREFIXES: tuple[str, ...] = ("广西壮族自治区", "广西")
_MIN_TOKEN = 3  # a jieba token links an enterprise when it is this long and in one name only


@dataclass(frozen=True)
class Entity:
    kind: str  # park | city | enterprise | industry
    id: str
    name: str


@dataclass
class Links:
    """What the entity names of a question resolve to."""

    filters: list[Filter] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)
    ambiguous: list[tuple[str, list[Entity]]] = field(default_factory=list)  # (word, options)
    hidden: list[str] = field(default_factory=list)  # names of enterprises the caller may not see
    rest: str = ""


@dataclass
class Catalog:
    """The linkable names of one caller: alias (lower case) → the entities it names."""

    aliases: dict[str, list[Entity]]
    enterprise_names: dict[str, str]  # enterprise_id -> name
    words: tuple[str, ...] = ()  # for jieba
    hidden: frozenset[str] = frozenset()  # aliases of enterprises outside the caller's scope

    @classmethod
    def read(cls, con: Any, everything: bool = True) -> Catalog:
        """From the semantic views on ``con`` (created under the caller's scope). Unless the caller sees
        ``everything``, the names of the other enterprises are kept too, only to recognise a question
        about one (answered as "not one you can see", never with its data)."""
        parks = con.execute(
            "SELECT p.park_id, p.park_name, p.city_code, p.city_name, pk.short_names, pk.name_en, r.name_en "
            "FROM sem_parks p LEFT JOIN parks pk USING (park_id) "
            "LEFT JOIN regions r ON r.region_code = p.city_code ORDER BY p.park_id"
        ).fetchall()
        enterprises = con.execute(
            "SELECT enterprise_id, enterprise_name FROM sem_enterprises ORDER BY enterprise_id"
        ).fetchall()
        industries = con.execute(
            "SELECT DISTINCT industry_name FROM sem_enterprises WHERE industry_name IS NOT NULL ORDER BY 1"
        ).fetchall()
        catalog = build_catalog(parks, enterprises, [r[0] for r in industries])
        if not everything:
            seen = set(catalog.enterprise_names)
            others = con.execute(
                "SELECT enterprise_id, name FROM enterprises ORDER BY enterprise_id"
            ).fetchall()
            hidden = {
                alias.lower()
                for eid, name in others
                if eid not in seen
                for alias in _enterprise_aliases(eid, name, _city_words(parks))
                if len(alias) >= 3 and not alias.isascii()
            }
            catalog.hidden = frozenset(hidden - set(catalog.aliases))
        return catalog


def build_catalog(parks: list[tuple], enterprises: list[tuple[str, str]], industries: list[str]) -> Catalog:
    """A catalog from park rows (id, name, city_code, city_name, short_names JSON, name_en, city name_en),
    enterprise rows (id, name) and industry names."""
    aliases: dict[str, list[Entity]] = {}

    def add(alias: str | None, entity: Entity) -> None:
        if alias and len(alias) >= 2:
            bucket = aliases.setdefault(alias.lower(), [])
            if entity not in bucket:
                bucket.append(entity)

    cities = {}
    for park_id, name, city_code, city_name, short_names, name_en, city_en in parks:
        park = Entity("park", park_id, name)
        for alias in _park_aliases(park_id, name, short_names, name_en):
            add(alias, park)
        if city_code and city_name:
            cities[city_code] = (city_name, city_en)
    for code, (name, name_en) in cities.items():
        city = Entity("city", code, name)
        for alias in {name, name.removesuffix("市"), name_en, code}:
            add(alias, city)
    for industry in industries:
        ind = Entity("industry", industry, industry)
        add(industry, ind)
        core = re.sub(r"(制造|加工|生产|制品制造)$", "", industry)
        if len(core) >= 3:
            add(core, ind)
    city_words = _city_words(parks)
    for eid, name in enterprises:
        ent = Entity("enterprise", eid, name)
        for alias in _enterprise_aliases(eid, name, city_words):
            add(alias, ent)
    words = tuple(sorted({a for a in aliases if not a.isascii() and len(a) >= 3}))
    return Catalog(aliases, dict(enterprises), words)


def _city_words(parks: list[tuple]) -> list[str]:
    """City names without 市 (prefixes stripped from enterprise names)."""
    return sorted({str(p[3]).removesuffix("市") for p in parks if p[3]}, key=len)


def _park_aliases(park_id: str, name: str, short_names: str | None, name_en: str | None) -> set[str]:
    out = {park_id, name}
    with contextlib.suppress(ValueError):
        out |= set(json.loads(short_names or "[]"))
    for full in list(out):
        for long, short in PARK_ABBREVIATIONS:
            if long in full:
                out.add(full.replace(long, short))
    for full in list(out):
        for prefix in PROVINCE_PREFIXES:
            if full.startswith(prefix) and len(full) > len(prefix) + 3:
                out.add(full.removeprefix(prefix).lstrip("—-"))
        if "市" in full[:4]:
            out.add(full.replace("市", "", 1))
    if name_en:
        en = name_en.lower()
        out |= {en, en.removeprefix("guangxi ")}
        for long, short in PARK_ABBREVIATIONS_EN:
            if long in en:
                out |= {en.replace(long, short), en.removeprefix("guangxi ").replace(long, short)}
    return {a for a in out if a and a.lower() not in GENERIC_PARK_WORDS}


def _enterprise_aliases(eid: str, name: str, city_words: list[str]) -> set[str]:
    base = name
    for suffix in LEGAL_SUFFIXES:
        if base.endswith(suffix):
            base = base.removesuffix(suffix)
            break
    core = base
    for prefix in PROVINCE_PREFIXES:
        core = core.removeprefix(prefix)
    for city in sorted(city_words, key=len, reverse=True):
        if core.startswith(city) and len(core) > len(city) + 1:
            core = core.removeprefix(city)
            break
    out = {eid, name, base}
    if len(core) >= 3:
        out.add(core)
    if len(core) >= 4:
        out.add(core[:2])  # the brand: 隆盛, 明远
    return out


# -- linking ----------------------------------------------------------------------------------------------


def link_entities(text: str, catalog: Catalog, layer: SemanticLayer) -> Links:
    """Entities named in ``text`` (already lower-cased, time words blanked), as filters; ambiguous names
    with their options; ``rest`` is the text with the linked names blanked. Value words (未处理, 严重 …)
    are ``link_values``'s."""
    links = Links()
    work = text
    for alias in sorted(catalog.aliases, key=len, reverse=True):
        i = find_word(work, alias)
        if i < 0:
            continue
        options = catalog.aliases[alias]
        if len(options) == 1:
            links.entities.append(options[0])
        else:
            links.ambiguous.append((alias, options))
        work = blank(work, i, alias)
    for alias in sorted(catalog.hidden, key=len, reverse=True):
        i = find_word(work, alias)
        if i >= 0:
            links.hidden.append(alias)
            work = blank(work, i, alias)
    work = _generic_parks(work, catalog, links)
    work = _tokens(work, catalog, links)
    links.filters = _filters(links.entities)
    links.rest = work
    return links


def find_word(text: str, word: str, joiners: str = "a-z0-9-") -> int:
    """Where ``word`` first stands in ``text`` (-1: nowhere); an ASCII word only as a whole word, not
    next to a character of ``joiners`` (a regex class body)."""
    if word.isascii():
        m = re.search(rf"(?<![{joiners}]){re.escape(word)}(?![{joiners}])", text)
        return m.start() if m else -1
    return text.find(word)


def blank(text: str, i: int, word: str) -> str:
    """``text`` with ``word`` at ``i`` replaced by spaces (positions of the rest unchanged)."""
    return text[:i] + " " * len(word) + text[i + len(word) :]


def _generic_parks(work: str, catalog: Catalog, links: Links) -> str:
    """高新区 alone: every park whose name has that kind is an option (when no park is linked)."""
    if any(e.kind == "park" for e in links.entities):
        return work
    kinds = {"高新区": "高新技术产业开发区", "经开区": "经济技术开发区", "high-tech zone": "high-tech",
             "development zone": "development zone"}  # fmt: skip
    for word, marker in kinds.items():
        i = find_word(work, word)
        if i < 0:
            continue
        parks = {
            e.id: e
            for alias, ents in catalog.aliases.items()
            for e in ents
            if e.kind == "park" and (marker in e.name or marker in alias)
        }
        if parks:
            links.ambiguous.append((word, sorted(parks.values(), key=lambda e: e.id)))
            return blank(work, i, word)
    return work


def _tokens(work: str, catalog: Catalog, links: Links) -> str:
    """A jieba token that is a distinctive piece of exactly one enterprise name links it."""
    if not any("\u4e00" <= c <= "\u9fff" for c in work):
        return work
    tokenizer = _tokenizer(catalog.words)
    for token in tokenizer.lcut(work):
        if len(token) < _MIN_TOKEN or not all("\u4e00" <= c <= "\u9fff" for c in token):
            continue
        owners = [eid for eid, name in catalog.enterprise_names.items() if token in name]
        if len(owners) == 1:
            eid = owners[0]
            links.entities.append(Entity("enterprise", eid, catalog.enterprise_names[eid]))
            work = work.replace(token, " " * len(token), 1)
    return work


@lru_cache(maxsize=4)
def _tokenizer(words: tuple[str, ...]) -> Any:
    """A jieba tokenizer whose dictionary knows the park's own names (each one token)."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    for w in words:
        tok.add_word(w, freq=2_000_000)
    return tok


def segment(text: str, catalog: Catalog) -> list[str]:
    """``text`` in jieba tokens, the park's names kept whole."""
    return [t for t in _tokenizer(catalog.words).lcut(text) if t.strip()]


def link_values(work: str, layer: SemanticLayer, links: Links, only: tuple[str, ...] | None = None) -> str:
    """Status, severity, carrier and key-energy-user words → filters on those columns (run after the
    metric words are taken out: 天然气 is a metric before it is a carrier)."""
    for fid, words in layer.value_words.items():
        if only is not None and fid not in only:
            continue
        for word in sorted(words, key=len, reverse=True):
            i = find_word(work, word)
            if i >= 0:
                value = words[word]
                op = "!=" if value.startswith("!") else "="
                links.filters.append(Filter(fid, op, value.removeprefix("!")))
                work = blank(work, i, word)
                break
    return work


def _filters(entities: list[Entity]) -> list[Filter]:
    by_kind: dict[str, list[str]] = {}
    for e in entities:
        ids = by_kind.setdefault(e.kind, [])
        if e.id not in ids:
            ids.append(e.id)
    return [
        Filter(kind, "=", ids[0]) if len(ids) == 1 else Filter(kind, "in", tuple(ids))
        for kind, ids in by_kind.items()
    ]
