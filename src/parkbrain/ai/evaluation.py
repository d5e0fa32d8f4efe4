"""The park assistant's evaluation: a fixed demo province, a hand-written question set with gold SQL,
and execution accuracy (the answer's rows equal the gold SQL's rows).

    path = eval_demo_file()                         # built once into the cache, then reused
    with Park.open(path, read_only=True) as park:
        report = run_eval(park, load_questions(), EVAL_NOW)

The question set (``eval_questions.jsonl``) is the independent yardstick of issue 9: it is written by hand
over the semantic views of the contract, never adapted to the offline parser.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

EVAL_SEED = 42
EVAL_DAYS = 240
EVAL_NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone(timedelta(hours=8)))
"""The question time of the evaluation: 今天 = 2026-11-20 (Asia/Shanghai); the demo ends at the same time."""


def cache_dir() -> Path:
    """Where built evaluation demos are kept: ``$PARKBRAIN_CACHE`` or ``~/.cache/parkbrain``."""
    env = os.environ.get("PARKBRAIN_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "parkbrain"


def eval_demo_file(cache: str | Path | None = None) -> Path:
    """The evaluation demo (seed 42, 240 days ending 2026-11-20 12:00 +08:00), built into ``cache`` once."""
    from parkbrain.demo import build_demo_file

    folder = Path(cache) if cache is not None else cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"eval-demo-s{EVAL_SEED}-{EVAL_NOW:%Y%m%dT%H%M}-{EVAL_DAYS}d.duckdb"
    if not path.exists():
        build_demo_file(path, seed=EVAL_SEED, end=EVAL_NOW, days=EVAL_DAYS)
    return path
