"""``parkbrain`` commands of the park assistant (assistant), registered on the group in ``parkbrain.cli``.

Parse, call ``Park``, format: the rules are in ``parkbrain.ai``.
"""

from __future__ import annotations

import json
from typing import Any

import click

from parkbrain.cli import DB_OPTION, _admin, cli, format_table, user_errors

ANSWER_KEYS = ("answer", "query", "sql", "columns", "rows", "sources", "status", "clarify", "engine")


@cli.command()
@click.argument("question")
@DB_OPTION
@click.option(
    "--now", default=None, help="When the question is asked (ISO time; 上个月 is the month before it)."
)
@click.option(
    "--lang", type=click.Choice(["zh", "en"]), default=None, help="Answer language [the question's]."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: the answer, the SQL and the table; json: the answer's keys.",
)
@user_errors
def ask(question: str, db: str, now: str | None, lang: str | None, fmt: str) -> None:
    """Ask the park assistant a question in Chinese or English (offline unless an LLM is configured)."""
    result = _admin(db, "ask", question=question, now=now, lang=lang)
    if fmt == "json":
        click.echo(json.dumps({k: result.get(k) for k in ANSWER_KEYS}, ensure_ascii=False, indent=2))
        return
    click.echo(format_answer(result))


def format_answer(result: dict[str, Any]) -> str:
    """The answer as text: the sentence, the options of a clarify, the SQL, the rows, the sources."""
    lines = [str(result.get("answer") or "")]
    for i, option in enumerate(result.get("clarify") or [], 1):
        lines.append(f"  {i}. {option.get('name')}: {option.get('question')}")
    if result.get("sql"):
        lines += ["", "SQL:", result["sql"]]
    columns, rows = result.get("columns") or [], result.get("rows") or []
    if rows:
        shown = [
            [round(v, 3) if isinstance(v, float) else v for v in r] for r in rows
        ]  # JSON keeps all digits
        lines += ["", format_table(columns, [dict(zip(columns, r)) for r in shown])]
    policy = [s for s in result.get("sources") or [] if s.get("kind") == "policy"]
    for s in policy:
        lines.append(f"[{s.get('title')} · {s.get('section')}]")
    lines.append(f"({result.get('status')}, {result.get('engine')})")
    return "\n".join(lines)
