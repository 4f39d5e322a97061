"""The learning problem handed to strategies: features, encoded target, test rows and the run's one set of folds."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from agent.competition.dates import expand
from agent.competition.inference import Competition
from agent.competition.metrics import REGRESSION
from agent.competition.split import RANDOM, structured_folds
from agent.competition.tables import CompetitionData
from agent.errors import InputError


@dataclass(frozen=True)
class Dataset:
    """Everything a strategy may see. Strategies never read files or the run directory layout."""

    X: pd.DataFrame
    y: np.ndarray          # class codes 0..K-1 (binary: 1 is positive) or floats
    labels: pd.Series      # the raw target values, for libraries that want them
    X_test: pd.DataFrame
    test_ids: pd.Series
    folds: np.ndarray      # fold index per training row, shared by every strategy (agent/competition/folds.py)
    # the training rows' raw dates and join keys (a competition with side tables only): serving's latency is
    # measured from rows as callers send them, joins included (docs/several-tables.md)
    raw: pd.DataFrame | None = None

    @property
    def n_folds(self) -> int:
        return int(self.folds.max()) + 1


def make_folds(y: np.ndarray, problem_type: str, n_folds: int, seed: int) -> np.ndarray:
    """One seeded split for the whole run, drawn exactly as AutoGluon draws its level-1 bagging folds.

    AutoGluon is fitted without `groups` (they would force every model, random forests included, to bag
    per fold instead of using its cheap out-of-bag predictions); its level-1 models split with
    `Repeated(Stratified)KFold(random_state=learner seed + 1)`, so the same call here gives every strategy
    the very folds AutoGluon uses. tests/strategies/test_autogluon.py checks it against a real fit.
    """
    from sklearn.model_selection import RepeatedKFold, RepeatedStratifiedKFold

    if len(y) < 4:
        raise InputError(f"Train has {len(y)} labelled rows: too few to cross-validate",
                         fix="use a training file with more rows")
    n_folds = max(2, min(n_folds, len(y)))
    folds = np.empty(len(y), dtype=int)
    if problem_type == REGRESSION:
        splitter = RepeatedKFold(n_splits=n_folds, n_repeats=1, random_state=autogluon_split_seed(seed))
    else:
        counts = np.bincount(y)
        smallest = int(counts[counts > 0].min())
        if smallest < 2:
            rare = int(np.flatnonzero(counts == smallest)[0])
            raise InputError(f"Class code {rare} has a single training row: cross-validation needs at least two "
                             "rows of every class", fix="add rows of that class, merge it with another, or drop it")
        if smallest < n_folds:  # stratification needs every class in every fold
            n_folds = max(2, smallest)
        splitter = RepeatedStratifiedKFold(n_splits=n_folds, n_repeats=1, random_state=autogluon_split_seed(seed))
    for fold, (_, valid) in enumerate(splitter.split(np.zeros(len(y)), y)):
        folds[valid] = fold
    return folds


def autogluon_split_seed(seed: int) -> int:
    """The random state AutoGluon splits level 1 with: stack level (1) + the learner's `random_state`."""
    return seed + 1


def build_dataset(competition: Competition, data: CompetitionData, n_folds: int, seed: int,
                  time_folds: str = "forward") -> Dataset:
    """The learning problem: features (date columns expanded into their parts), the encoded target, the test
    rows, and the run's one set of folds, drawn as the test set was (agent/competition/split.py); time blocks
    chain forward unless `time_folds` is "blocks"."""
    train = data.train.dropna(subset=[competition.target]).reset_index(drop=True)
    y = competition.encode_target(train[competition.target])
    features = list(competition.features)
    split = competition.test_split
    if split.kind == RANDOM:
        folds = make_folds(y, competition.problem_type, n_folds, seed)
    else:
        folds = structured_folds(split, train, y, competition.problem_type, n_folds, seed, competition.dates,
                                 forward=time_folds == "forward")
    raw = None
    if competition.relations.get("joins"):
        needed = {c for join in competition.relations["joins"] for pair in join["on"] for c in pair[:1]}
        needed |= {join["time"] for join in competition.relations["joins"] if join.get("time")} | set(competition.dates)
        raw = train[[c for c in train.columns if c in needed]].reset_index(drop=True)
    return Dataset(
        X=expand(train[features], competition.dates),
        y=y,
        labels=train[competition.target],
        X_test=expand(data.test[features], competition.dates).reset_index(drop=True),
        test_ids=data.test[competition.id_column].reset_index(drop=True),
        folds=folds,
        raw=raw,
    )
