"""``parkbrain policy …`` commands: the policy corpus, search, Q&A with citations and 惠企政策匹配
(registered on the group in ``parkbrain.cli``).

Each command runs one operation of ``facets.policy.POLICY_OPS`` through ``_admin`` — on the database
file, or through the server that holds it. Parse, call ``Park``, format: the rules are in
``parkbrain.ai.policy*``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from parkbrain.cli import DB_OPTION, FORMAT_OPTION, _admin, _json_default, _print_rows, cli, user_errors

DEMO_MARK = "演示 demo"


@cli.group()
def policy() -> None:
    """Policy documents: import, list, search, ask (answers quote the paragraphs they use) and match
    an enterprise against the subsidy notices' conditions (惠企政策匹配)."""


@policy.command("import")
@click.argument("path", type=click.Path(exists=True))
@DB_OPTION
@FORMAT_OPTION
@user_errors
def policy_import(path: str, db: str, fmt: str) -> None:
    """Import a policy file or a folder of them (Markdown or text, optional front matter); the same file
    again changes nothing, and a bad file stores nothing (the error names its file and line)."""
    rows = _admin(db, "policy_import", path=str(Path(path).resolve()))
    _print_rows(rows, ["doc_id", "action", "chunks", "conditions", "demo", "title"], fmt)


@policy.command("list")
@DB_OPTION
@FORMAT_OPTION
@user_errors
def policy_list(db: str, fmt: str) -> None:
    """The documents of the policy corpus (demo documents are marked)."""
    rows = _admin(db, "policy_list")
    _print_rows(
        _marked(rows), ["doc_id", "title", "issuer", "published", "kind", "chunks", "conditions", "demo"], fmt
    )


@policy.command("search")
@click.argument("query")
@click.option(
    "-k", "k", default=5, show_default=True, type=click.IntRange(1, 50), help="How many paragraphs."
)
@DB_OPTION
@FORMAT_OPTION
@user_errors
def policy_search(query: str, k: int, db: str, fmt: str) -> None:
    """The paragraphs that best match QUERY (jieba + BM25), ranked, with document, section and score."""
    rows = _admin(db, "policy_search", q=query, k=k)
    if fmt == "json":
        _print_rows(rows, [], fmt)
        return
    if not rows:
        click.echo("No matching paragraph. 没有匹配的段落。")
    for row in _marked(rows):
        demo = f" [{DEMO_MARK}]" if row["demo"] else ""
        click.echo(f"{row['rank']}. {row['score']:.2f}  《{row['title']}》{demo}  {row['section']}")
        click.echo(f"   {row['text']}\n")


@policy.command("ask")
@click.argument("question")
@click.option(
    "--lang", type=click.Choice(["zh", "en"]), default=None, help="Answer language [the question's]."
)
@DB_OPTION
@FORMAT_OPTION
@user_errors
def policy_ask(question: str, lang: str | None, db: str, fmt: str) -> None:
    """Answer a policy question by quoting the paragraphs that answer it, with their citations; says so
    when no policy matches."""
    result = _admin(db, "policy_ask", question=question, lang=lang)
    if fmt == "json":
        click.echo(json.dumps(result, ensure_ascii=False, indent=2, default=_json_default))
        return
    click.echo(result["answer"])


@policy.command("match")
@click.argument("enterprise_id")
@click.option("--now", default=None, help="The time the last 12 months of energy end (ISO 8601) [now].")
@DB_OPTION
@FORMAT_OPTION
@user_errors
def policy_match(enterprise_id: str, now: str | None, db: str, fmt: str) -> None:
    """The policies ENTERPRISE_ID qualifies for, nearly qualifies for (what is missing, by how much) and
    does not."""
    result = _admin(db, "policy_match", enterprise_id=enterprise_id, now=now)
    if fmt == "json":
        click.echo(json.dumps(result, ensure_ascii=False, indent=2, default=_json_default))
        return
    click.echo("\n".join(match_lines(result)))


def match_lines(result: dict[str, Any]) -> list[str]:
    """The match result as text lines, in Chinese with the English beside."""
    e = result["enterprise"]
    lines = [f"{e['name']} ({e['enterprise_id']}, {e.get('park_name') or e['park_id']})"]
    if e.get("energy_basis"):
        lines.append(f"  能耗 energy: {e['energy_basis']['zh']} / {e['energy_basis']['en']}")
    titles = {"qualifies": "符合 qualifies", "nearly": "接近符合 nearly", "not": "不符合 not"}
    for key, title in titles.items():
        lines.append(f"\n{title} ({len(result[key])})")
        for p in result[key]:
            demo = f" [{DEMO_MARK}]" if p["demo"] else ""
            lines.append(f"  《{p['title']}》{demo}")
            if key == "not":
                lines.append(f"    {p['unmet']}/{p['of']} 项不符合 unmet: {'; '.join(p['reasons_zh'])}")
                continue
            for c in p["missing"]:
                lines.append(f"    ✗ {c['reason_zh']}")
            for c in p["met"]:
                lines.append(f"    ✓ {c['reason_zh']}")
    for note in result.get("notes", []):
        lines.append(f"\nnote: {note['zh']} / {note['en']}")
    return lines


def _marked(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**r, "demo": DEMO_MARK if r.get("demo") else ""} for r in rows]
