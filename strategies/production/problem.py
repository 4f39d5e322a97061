"""The production search's view of a run: the encoded training matrix, targets, the run's folds, the metric.

Built once per run and shipped to every trial (it pickles: numpy arrays and small objects only).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from agent.competition.dataset import Dataset
from agent.competition.folds import oof_score
from agent.competition.inference import Competition
from agent.competition.metrics import MULTICLASS, REGRESSION, Metric, get_metric, score_prediction
from agent.competition.texts import detect_texts, expand_texts
from agent.runtime.encoder import Encoder
from agent.runtime.output import OutputSpec
from agent.runtime.schema import Schema

LATENCY_SAMPLE_ROWS = 1000
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

    def score(self, prediction: np.ndarray) -> float:
        """The out-of-fold score, over the rows the folds score (agent/competition/folds.py)."""
        return oof_score(self.metric, self.y, prediction, self.folds)

    def score_rows(self, y: np.ndarray, prediction: np.ndarray) -> float:
        """The metric on some rows (`y` is a slice of this problem's target)."""
        return score_prediction(self.metric, y, prediction)

    def encode(self, frame: pd.DataFrame) -> np.ndarray:
        """Rows of the run's tables (test rows, say) as the compact models read them: text parts added, encoded."""
        matrix, _ = self.encoder.encode_frame(self.schema.read_texts(frame))
        return matrix

    def signed(self, score: float) -> float:
        return self.metric.signed(score)

    def regression_target(self, values: np.ndarray) -> np.ndarray:
        values = np.asarray(values, dtype=float)
        return np.log1p(np.maximum(values, 0.0)) if self.log_target else values


def make_problem(competition: Competition, dataset: Dataset, seed: int = 0, unseen: str = "other",
                 threads: int = 1, max_features: int | None = None, read_texts: bool = True) -> Problem:
    """The encoded problem; on a table wider than `max_features`, only the columns the screen ranks first.

    Serving a model costs at least a pass over every column of a row, so on very wide tables the production
    models see a screened subset (the schema lists it; serving ignores the other columns). Free-text columns
    add the words that recur in them (agent/competition/texts.py) unless `read_texts` is off (an ONNX graph
    cannot read words).
    """
    columns = screen_features(dataset, max_features) if max_features else list(dataset.X.columns)
    texts = detect_texts(dataset.X, columns) if read_texts else {}
    frame = expand_texts(dataset.X[columns], texts)
    schema = Schema.infer(frame, unseen=unseen, dates=competition.dates, relations=competition.relations,
                          texts=texts)
    encoder = Encoder.fit(frame, schema)
    matrix, _ = encoder.encode_frame(frame)
    return Problem(output=OutputSpec.from_competition(competition), schema=schema, encoder=encoder, X=matrix,
                   y=np.asarray(dataset.y), folds=np.asarray(dataset.folds), seed=seed, threads=threads)


def screen_features(dataset: Dataset, keep: int) -> list[str]:
    """At most `keep` columns, in table order, ranked by univariate association with the target.

    |correlation| for numeric columns, the correlation ratio for the others, each the largest over the
    class indicators for classes: vectorised over columns, so it costs seconds on 50,000 of them.
    """
    X = dataset.X
    if len(X.columns) <= keep:
        return list(X.columns)
    y = np.asarray(dataset.y)
    targets = y.astype(float).reshape(-1, 1) if y.dtype.kind == "f" or len(np.unique(y)) <= 2 else \
        (y.reshape(-1, 1) == np.unique(y)).astype(float)
    targets = (targets - targets.mean(axis=0)) / np.maximum(targets.std(axis=0), 1e-12)
    scores = pd.Series(0.0, index=X.columns)
    numeric = [c for c in X.columns if pd.api.types.is_numeric_dtype(X[c]) and not pd.api.types.is_bool_dtype(X[c])]
    if numeric:
        values = X[numeric].to_numpy(dtype=float)
        values = np.where(np.isnan(values), np.nanmean(values, axis=0, keepdims=True), values)
        values = np.nan_to_num(values - values.mean(axis=0))
        values /= np.maximum(values.std(axis=0), 1e-12)
        scores[numeric] = np.abs(values.T @ targets / len(values)).max(axis=1)
    for column in X.columns.difference(numeric):
        codes = pd.Series(pd.factorize(X[column].astype(object), use_na_sentinel=False)[0])
        means = pd.DataFrame(targets).groupby(codes.to_numpy()).transform("mean").to_numpy()
        scores[column] = float(np.sqrt(np.clip((means ** 2).mean(axis=0), 0, 1)).max())
    kept = set(scores.sort_values(ascending=False, kind="stable").index[:keep])
    return [c for c in X.columns if c in kept]


def serving_rows(dataset: Dataset, schema: Schema, seed: int = 0) -> pd.DataFrame:
    """Training rows as a caller sends them to the production model: its input columns, with raw dates and
    the keys its joins read (so a latency measured on them includes the joins), in the schema's input order."""
    if not schema.relations or dataset.raw is None:
        return latency_rows(dataset, seed)[schema.table_names]
    n = min(LATENCY_SAMPLE_ROWS, len(dataset.X))
    picked = dataset.X.sample(n, random_state=seed).index
    raw = dataset.raw.loc[picked]
    kept = [c for c in dataset.X.columns if c in set(schema.input_names) and c not in raw.columns]
    rows = pd.concat([dataset.X.loc[picked, kept], raw], axis=1).reset_index(drop=True)
    return rows[[c for c in schema.input_names if c in rows.columns]]


def latency_rows(dataset: Dataset, seed: int = 0) -> pd.DataFrame:
    """Raw training rows for latency measurement: real values, strings and missing values included."""
    n = min(LATENCY_SAMPLE_ROWS, len(dataset.X))
    return dataset.X.sample(n, random_state=seed).reset_index(drop=True)
