"""The learning problem handed to strategies: features, encoded target, test rows and the run's one set of folds."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from agent.competition import Competition
from agent.data import CompetitionData
from agent.errors import InputError
from agent.metrics import REGRESSION


@dataclass(frozen=True)
class Dataset:
    """Everything a strategy may see. Strategies never read files or the run directory layout."""

    X: pd.DataFrame
    y: np.ndarray          # class codes 0..K-1 (binary: 1 is positive) or floats
    labels: pd.Series      # the raw target values, for libraries that want them
    X_test: pd.DataFrame
    test_ids: pd.Series
    folds: np.ndarray      # fold index per training row, shared by every strategy

    @property
    def n_folds(self) -> int:
        return int(self.folds.max()) + 1


def make_folds(y: np.ndarray, problem_type: str, n_folds: int, seed: int) -> np.ndarray:
    """One seeded split for the whole run: stratified for classes, so OOF predictions are comparable."""
    from sklearn.model_selection import KFold, StratifiedKFold

    if len(y) < 4:
        raise InputError(f"Train has {len(y)} labelled rows: too few to cross-validate",
                         fix="use a training file with more rows")
    n_folds = max(2, min(n_folds, len(y)))
    folds = np.empty(len(y), dtype=int)
    if problem_type == REGRESSION:
        splitter = KFold(n_folds, shuffle=True, random_state=seed)
    else:
        counts = np.bincount(y)
        smallest = int(counts[counts > 0].min())
        if smallest < 2:
            rare = int(np.flatnonzero(counts == smallest)[0])
            raise InputError(f"Class code {rare} has a single training row: cross-validation needs at least two "
                             "rows of every class", fix="add rows of that class, merge it with another, or drop it")
        if smallest < n_folds:  # stratification needs every class in every fold
            n_folds = max(2, smallest)
        splitter = StratifiedKFold(n_folds, shuffle=True, random_state=seed)
    for fold, (_, valid) in enumerate(splitter.split(np.zeros(len(y)), y)):
        folds[valid] = fold
    return folds


def build_dataset(competition: Competition, data: CompetitionData, n_folds: int, seed: int) -> Dataset:
    train = data.train.dropna(subset=[competition.target]).reset_index(drop=True)
    y = competition.encode_target(train[competition.target])
    features = list(competition.features)
    return Dataset(
        X=train[features],
        y=y,
        labels=train[competition.target],
        X_test=data.test[features].reset_index(drop=True),
        test_ids=data.test[competition.id_column].reset_index(drop=True),
        folds=make_folds(y, competition.problem_type, n_folds, seed),
    )
