"""Competitions built in memory for the data checks: from corpus tables or from generated frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import devcorpus
from agent.checks.context import CheckContext
from agent.competition.inference import Competition, infer_competition
from agent.competition.tables import CompetitionData
from agent.config import QualitySettings


def split_competition(frame: pd.DataFrame, target: str, *, task: str | None = None, metric: str | None = None,
                      test_fraction: float = 0.25, shuffle: bool = True, seed: int = 0,
                      test: pd.DataFrame | None = None) -> tuple[Competition, CompetitionData]:
    """Add an id, split off a test set (or take `test` as given) and infer the competition like a run would."""
    if test is None:
        frame = frame.dropna(subset=[target])
    if shuffle:
        frame = frame.sample(frac=1.0, random_state=seed)
    frame = frame.reset_index(drop=True)
    if "id" not in frame.columns:
        frame.insert(0, "id", np.arange(len(frame)))
    if test is None:
        n_test = int(len(frame) * test_fraction)
        test, frame = frame.iloc[:n_test].drop(columns=[target]), frame.iloc[n_test:]
    train, test = frame.reset_index(drop=True), test.reset_index(drop=True)
    sample = pd.DataFrame({"id": test["id"], target: train[target].iloc[0]})
    overrides = {"target": target, "task": task, "evaluation_metric": metric}
    if metric and task == "multiclass" and "Log Loss" in metric:
        sample = pd.DataFrame({"id": test["id"], **{str(c): 0.0 for c in sorted(train[target].unique(), key=str)}})
    data = CompetitionData(train, test, sample)
    return infer_competition("test", data, overrides), data


def corpus_competition(name: str, rows: int | None = None, **options) -> tuple[Competition, CompetitionData]:
    task = devcorpus.TASKS[name]
    return split_competition(devcorpus.load(name, rows), task.target, task=task.task, metric=task.metric, **options)


def context(competition: Competition, data: CompetitionData, **settings) -> CheckContext:
    return CheckContext(competition, data.train, data.test, QualitySettings(**settings), seed=0)


def synthetic(n: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Numbers, a category and a binary target that depends on them (none of it leaky)."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    colour = rng.choice(["red", "green", "blue"], size=n)
    score = x1 + 0.5 * x2 + (colour == "red") + rng.normal(scale=1.5, size=n)
    return pd.DataFrame({"x1": x1, "x2": x2, "colour": colour, "target": np.where(score > 0.3, "yes", "no")})


@pytest.fixture(scope="session")
def adult():
    return corpus_competition("adult_income", rows=6000)


@pytest.fixture(scope="session")
def diamonds():
    return corpus_competition("diamonds_price", rows=6000)


@pytest.fixture(scope="session")
def titanic():
    return corpus_competition("titanic")
