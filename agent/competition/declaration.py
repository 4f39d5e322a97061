"""What competition.yaml may hold: the one list of its keys, and the check that refuses any other.

A key podium does not know is a typo more often than not (`evalution_metric`), and ignoring it silently runs
the wrong competition; so it stops the run, naming the nearest known key. A new key is one line in KEYS.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from agent.competition.inference import OVERRIDABLE
from agent.errors import InputError

# Other names accepted for the fields of inference (agent/competition/inference.py OVERRIDABLE).
ALIASES = {"metric": "evaluation_metric", "problem_type": "task", "id": "id_column", "label": "target"}

# Every key competition.yaml may hold besides those fields, one per line.
KEYS: tuple[str, ...] = (
    *OVERRIDABLE,
    *ALIASES,
    "slug",                   # the run's folder name under --out (default: the folder's name)
    "title",                  # shown by the report and the arena
    "description",
    "deadline",
    "max_daily_submissions",
    "max_team_size",
    "public_fraction",        # the arena: share of the test rows on the public leaderboard
    "category",
    "reward",
    "rules",
    "grading",                # the arena's grader only: id_column, target, task of the hidden answers
    "database",               # a database URL holding the tables (postgresql://, sqlite:///, duckdb:///)
    "train",                  # the train table: a file in the folder, or with `database:` a table name or a SELECT
    "test",                   # the test table, likewise
    "sample_submission",      # optional with `database:` (built from the test ids and the target, as Kaggle's is)
    "tables",                 # side tables by name (besides the table files found beside train)
    "relations",              # how side tables join: stated, or `false` to leave one out (docs/several-tables.md)
)
FIELDS: tuple[str, ...] = (*OVERRIDABLE, *ALIASES)  # what a `competition:` section of the settings may hold


def check_keys(data: dict[str, Any], where: str, known: Iterable[str] = KEYS, what: str = "competition.yaml",
               fix: str | None = None) -> None:
    """Refuse the first key of `data` that is not in `known`, naming the nearest known one."""
    known = tuple(known)
    unknown = [key for key in data if key not in known]
    if not unknown:
        return
    key = str(unknown[0])
    nearest = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    hint = f" (the nearest known key is '{nearest[0]}')" if nearest else ""
    raise InputError(f"Unknown key '{key}' in {what}{hint}", where=where,
                     fix=fix or f"correct or remove it; the known keys are {', '.join(known)}")
