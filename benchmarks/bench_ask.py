"""The park assistant's execution accuracy on the evaluation set, by category, beside the 90 % target.

Builds the evaluation demo once into the cache (``$PARKBRAIN_CACHE`` or ``~/.cache/parkbrain``: seed 42,
240 days ending 2026-11-20 12:00 +08:00), asks every question of ``ai/eval_questions.jsonl`` at that
time with the engine configured (offline when no LLM is), and compares the rows with the gold SQL's.
Run: ``make bench`` or ``.venv/bin/python benchmarks/bench_ask.py [--failures N] [--json FILE]``
(the same as ``parkbrain bench ask``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from parkbrain import Park
from parkbrain.ai.evaluation import EVAL_NOW, eval_demo_file, load_questions, report_lines, run_eval


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--failures", type=int, default=10, help="failures to list")
    parser.add_argument("--json", type=Path, default=None, help="also write the full report here")
    args = parser.parse_args()
    with Park.open(eval_demo_file(), read_only=True) as park:
        report = run_eval(park, load_questions(), EVAL_NOW)
    print("\n".join(report_lines(report, args.failures)))
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
