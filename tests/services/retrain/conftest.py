"""A parent run made as `podium run` makes one (manifest, config.yaml, production/), and fresh corpus rows."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import yaml

import devcorpus
from agent.config import load_settings
from agent.rundir import Run
from tests.artifacts import make_corpus, quick_leaderboard

ORIGINAL_ROWS = 600  # devcorpus rows the parent run's competition was built from; the rest are fresh
FAST = {"run": {"time_limit": 60}, "production": {"latency_ms": 50.0, "size_mb": 50.0, "search_trials": 4,
                                                  "max_trees": 100, "autogluon_options": False}}


@dataclass
class Parent:
    path: Path
    runs: Path      # the runs/ root: runs/titanic/<run-id>

    def fingerprint(self) -> dict[str, str]:
        """Every file under the run with its hash: a retrain must leave all of them as they were."""
        return {str(p.relative_to(self.path)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(self.path.rglob("*")) if p.is_file()}


def make_parent(task: str, root: Path, rows: int = ORIGINAL_ROWS) -> Parent:
    """A finished run of a corpus competition with its production model (a quick stand-in leaderboard)."""
    from strategies.production import build_production_model

    corpus = make_corpus(task, root, rows=rows)
    settings = load_settings(("test", FAST))
    run = Run.create(root / "runs", task, source=str(corpus.folder), seed=0, time_limit=60)
    run.file("config.yaml").write_text(yaml.safe_dump(settings.dump(), sort_keys=False))
    board = quick_leaderboard(corpus)
    result = build_production_model(corpus.competition, corpus.dataset, [board], board.oof, board.score,
                                    run.file("production"), settings, time_budget_s=10, leaderboard_test=board.test)
    run.update(competition=corpus.competition.to_dict(), production=result.summary())
    run.succeed()
    return Parent(run.path, root / "runs")


@pytest.fixture(scope="session")
def parent(tmp_path_factory) -> Parent:
    return make_parent("titanic", tmp_path_factory.mktemp("retrain"))


@pytest.fixture(scope="session")
def fresh() -> pd.DataFrame:
    """Titanic rows the parent never saw, same distribution, in the original train's columns (no id)."""
    return devcorpus.load("titanic").iloc[ORIGINAL_ROWS:].reset_index(drop=True)


def write(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False)
    return path
