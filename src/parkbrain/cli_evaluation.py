"""``parkbrain`` commands of the park assistant (evaluation), registered on the group in ``parkbrain.cli``.

``parkbrain bench ask`` scores the assistant on the evaluation set (``ai/eval_questions.jsonl``). Parse,
call, format: the rules are in ``parkbrain.ai.evaluation``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from parkbrain.cli import _json_default, _with_db, bench, user_errors
from parkbrain.errors import DatabaseLocked


@bench.command("ask")
@click.option(
    "--db",
    "db",
    default=None,
    type=click.Path(dir_okay=False),
    help="Park database to evaluate on (default: the evaluation demo, built once into "
    "$PARKBRAIN_CACHE or ~/.cache/parkbrain).",
)
@click.option(
    "--questions",
    "questions_file",
    default=None,
    type=click.Path(dir_okay=False, exists=True),
    help="Question set (JSON Lines, the fields of ai/eval_questions.jsonl; default: that file).",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option(
    "--failures",
    default=10,
    show_default=True,
    type=click.IntRange(0),
    help="Failures to list in the text report (the JSON report has all of them).",
)
@user_errors
def bench_ask(db: str | None, questions_file: str | None, fmt: str, failures: int) -> None:
    """Park assistant: execution accuracy on the evaluation set, by category and language, beside the 90 % target."""
    from parkbrain.ai import evaluation as ev

    if db is None:
        if not ev.eval_demo_path().exists():
            click.echo(
                f"Building the evaluation demo into {ev.eval_demo_path()} (once, a few minutes) …", err=True
            )
        db = str(ev.eval_demo_file())
    questions = ev.load_questions(questions_file)
    report = _with_db(db, lambda park: ev.run_eval(park, questions, ev.EVAL_NOW), _served(db))
    if fmt == "json":
        click.echo(json.dumps(report, ensure_ascii=False, indent=2, default=_json_default))
    else:
        click.echo("\n".join(ev.report_lines(report, failures)))


def _served(db: str) -> Any:
    def remote(*_: Any) -> Any:
        raise DatabaseLocked(
            f"{Path(db)} is held by `parkbrain serve`; the evaluation opens the database itself: "
            "stop the server or evaluate a copy of the file"
        )

    return remote
