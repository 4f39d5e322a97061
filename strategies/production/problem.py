"""The production search's view of a run: the encoded training matrix, targets, the run's folds, the metric.

Built once per run and shipped to every trial (it pickles: numpy arrays and small objects only).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from agent.competition import Competition
from agent.dataset import Dataset
from agent.metrics import BINARY, MULTICLASS, REGRESSION, Metric, get_metric, score_prediction
from agent.production.encoder import Encoder
from agent.production.output import OutputSpec
from agent.production.schema import Schema

LATENCY_SAMPLE_ROWS = 1000
REGRESSION_OBJECTIVES = {"Mean Absolute Error": "l1", "Mean Absolute Percentage Error": "mape"}


@dataclass
class Problem:
    """Everything a compact model needs to be fitted and scored out-of-fold on the run's folds."""

    output: OutputSpec
    schema: Schema
    encoder: Encoder
    X: np.ndarray           # encoded training features (rows in Dataset order)
    y: np.ndarray           # class codes or floats, as in Dataset
    folds: np.ndarray       # the run's folds: the same validation as the leaderboard model
    seed: int = 0
    threads: int = 1

    @property
    def metric(self) -> Metric:
        return get_metric(self.output.metric)

    @property
    def problem_type(self) -> str:
        return self.output.problem_type

    @property
    def n_classes(self) -> int:
        return len(self.output.classes) if self.problem_type == MULTICLASS else 1

    @property
    def log_target(self) -> bool:
        """RMSLE is RMSE on log1p: train on log1p(y) and serve expm1 of the prediction."""
        return self.problem_type == REGRESSION and self.metric.floor is not None

    @property
    def n_folds(self) -> int:
        return int(self.folds.max()) + 1

    def objective(self) -> str:
        if self.problem_type == BINARY:
            return "binary"
        if self.problem_type == MULTICLASS:
            return "multiclass"
        return REGRESSION_OBJECTIVES.get(self.output.metric, "l2")

    def score(self, prediction: np.ndarray) -> float:
        return score_prediction(self.metric, self.y, prediction)

    def signed(self, score: float) -> float:
        return self.metric.signed(score)

    def regression_target(self, values: np.ndarray) -> np.ndarray:
        values = np.asarray(values, dtype=float)
        return np.log1p(np.maximum(values, 0.0)) if self.log_target else values


def make_problem(competition: Competition, dataset: Dataset, seed: int = 0, unseen: str = "other",
                 threads: int = 1) -> Problem:
    schema = Schema.infer(dataset.X, unseen=unseen)
    encoder = Encoder.fit(dataset.X, schema)
    matrix, _ = encoder.encode_frame(dataset.X)
    return Problem(output=OutputSpec.from_competition(competition), schema=schema, encoder=encoder, X=matrix,
                   y=np.asarray(dataset.y), folds=np.asarray(dataset.folds), seed=seed, threads=threads)


def latency_rows(dataset: Dataset, seed: int = 0) -> pd.DataFrame:
    """Raw training rows for latency measurement: real values, strings and missing values included."""
    n = min(LATENCY_SAMPLE_ROWS, len(dataset.X))
    return dataset.X.sample(n, random_state=seed).reset_index(drop=True)
