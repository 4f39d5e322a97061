"""Fold bags: the leaderboard's own LightGBM fold models, averaged and served as a production candidate.

The Optuna study fits one LightGBM per fold of the run's folds to score a trial; its best trials keep those
models (strategies/optuna_search.py). Averaged, they are a model whose out-of-fold score is exactly the one its
folds produced (each training row was predicted by the fold model that never saw it), with the leaderboard's
tuning and no refit, and eight compact boosters often fit a 1 ms budget. They read the study's features
(strategies/learners.py: prepare_features), so the bag carries its own schema and encoder: each categorical
column's codes are the study's category order, an unseen category is -1 (LightGBM's missing), booleans are
0/1. Before it counts, the bag must predict the test set as the study's trial did (the average of its folds'
test predictions); any difference in encoding fails it there, with the reason.
"""

from __future__ import annotations

import gzip
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from agent.competition.dataset import Dataset
from agent.competition.inference import Competition
from agent.deadline import Deadline
from agent.runtime.blend import BlendRuntime
from agent.runtime.encoder import Encoder
from agent.runtime.runtimes import LightGBMRuntime
from agent.runtime.schema import CATEGORICAL, Schema, category_key
from strategies.base import Candidate
from strategies.learners import prepare_features
from strategies.production.candidate import FAILED, ProductionCandidate
from strategies.production.gbm import link_for
from strategies.production.measure import package
from strategies.production.problem import Problem, serving_rows

log = logging.getLogger("podium.production")
FAMILY = "fold-bag"
MOST_BAGS = 2
UNSEEN = -1  # LightGBM reads a negative category as missing, as pandas' code for an unknown category is
AGREEMENT = 1e-6  # relative: the bag's test predictions against the trial's own
CHECK_ROWS = 1000  # test rows a served model is checked on: AutoGluon predicting 75,000 rows took minutes


def disagreement(predicted: np.ndarray, expected: np.ndarray) -> float:
    """The largest difference between two predictions of a table, relative to the prediction's own size and
    never to less than its typical size: a probability of 1e-9 stored in float32 is no disagreement."""
    predicted, expected = np.asarray(predicted, dtype=float), np.asarray(expected, dtype=float)
    scale = np.maximum(np.abs(expected), max(float(np.mean(np.abs(expected))), 1e-12))
    return float(np.max(np.abs(predicted - expected) / scale))


def checked_rows(X_test: pd.DataFrame, seed: int = 0) -> np.ndarray:
    """The test rows (positions, in order) a served model is checked on: all of a small test set, a seeded
    sample of CHECK_ROWS of a large one, so the check costs seconds whatever the test set's size."""
    if len(X_test) <= CHECK_ROWS:
        return np.arange(len(X_test))
    return np.sort(np.random.default_rng(seed).choice(len(X_test), CHECK_ROWS, replace=False))


def check_served(runtime, encoder: Encoder, X_test: pd.DataFrame, expected, *, what: str, against: str,
                 tolerance: float = AGREEMENT, error: type[Exception] = ValueError) -> None:
    """A served model must predict the test set from raw rows as the model it was made from did: the one check
    that the encoding in front of it was reproduced, not assumed."""
    matrix, _ = encoder.encode_frame(encoder.schema.read_texts(X_test))  # text columns' parts added
    worst = disagreement(runtime.raw(matrix), np.asarray(expected, dtype=float))
    if not worst <= tolerance:
        raise error(f"served from raw rows, {what} predicts the test set differently from {against} (relative "
                    f"difference {worst:.3g})")


def fold_bag_candidates(competition: Competition, dataset: Dataset, problem: Problem,
                        leaderboard: list[Candidate], work: Path, calls: int,
                        deadline: Deadline) -> list[ProductionCandidate]:
    """A candidate for each of the best leaderboard trials whose fold models were kept (at most MOST_BAGS)."""
    kept = [c for c in leaderboard if c.fold_models and Path(c.fold_models).is_file() and c.family == "lightgbm"]
    kept.sort(key=lambda c: -competition.metric.signed(problem.score(np.asarray(c.oof))))
    out: list[ProductionCandidate] = []
    encoding = None  # the study's encoding, the same for every bag of the run: built once, when first needed
    for trial in kept[:MOST_BAGS]:
        if deadline.passed():
            break
        try:
            encoding = encoding or _StudyEncoding.of(competition, dataset, problem)
            out.append(_bag(dataset, problem, encoding, trial, work, calls))
        except Exception as error:  # noqa: BLE001 - a bag that cannot be served is one candidate less
            log.warning("Fold bag of %s failed: %s", trial.name, error)
            out.append(ProductionCandidate(f"{FAMILY}/{trial.name}", FAMILY, status=FAILED,
                                           note=f"{type(error).__name__}: {error}"))
    return out


@dataclass(frozen=True)
class _StudyEncoding:
    """The study's features as a served model reads them: its schema, its encoder, and rows to time it on."""

    schema: Schema
    encoder: Encoder
    rows: pd.DataFrame

    @classmethod
    def of(cls, competition: Competition, dataset: Dataset, problem: Problem) -> _StudyEncoding:
        prepared, _ = prepare_features(dataset.X, dataset.X_test)  # the study's vocabulary spans train and test
        schema = Schema.infer(dataset.X[list(prepared.columns)], unseen=problem.schema.unseen,
                              dates=competition.dates, relations=competition.relations)
        return cls(schema, Encoder(schema, *_codes(schema, prepared)), serving_rows(dataset, schema, problem.seed))


def _bag(dataset: Dataset, problem: Problem, encoding: _StudyEncoding, trial: Candidate, work: Path,
         calls: int) -> ProductionCandidate:
    texts = json.loads(gzip.decompress(Path(trial.fold_models).read_bytes()))
    members = [LightGBMRuntime.from_text(text, link_for(problem), [0.0], problem.log_target) for text in texts]
    features = len(encoding.schema.columns)
    if any(m.booster.num_feature() != features for m in members):
        raise ValueError(f"the fold models read {members[0].booster.num_feature()} features, the study's table "
                         f"has {features}")
    runtime = BlendRuntime(members, [1.0] * len(members))
    if trial.test is not None and len(dataset.X_test):  # the trial's test predictions: its fold models' mean
        rows = checked_rows(dataset.X_test)
        check_served(runtime, encoding.encoder, dataset.X_test.iloc[rows], np.asarray(trial.test)[rows],
                     what="the bag", against="its trial")
    oof = np.asarray(trial.oof, dtype=float)
    candidate = ProductionCandidate(
        name=f"{FAMILY}/{trial.name}", family=FAMILY,
        params={"folds": len(members), "trees": trial.trees, **(trial.params or {})},
        score=problem.score(oof), oof=oof, fit_seconds=trial.fit_seconds,
        score_source="out-of-fold: each training row predicted by the bag's fold model that never saw it (the "
                     "leaderboard study's own trial, on the run's folds)")
    return package(problem, runtime, candidate, work, encoding.rows, calls, schema=encoding.schema,
                   encoder=encoding.encoder)


def _codes(schema: Schema, prepared: pd.DataFrame) -> tuple[dict[str, list[str]], dict[str, int]]:
    """The study's codes as an encoder's: its category order for categories, 0/1 for booleans."""
    codes = {}
    for column in schema.columns:
        if column.kind != CATEGORICAL:
            continue
        dtype = prepared[column.name].dtype
        if isinstance(dtype, pd.CategoricalDtype):
            keys = [category_key(value) for value in dtype.categories]
        else:  # a boolean column, which the study reads as 0.0 / 1.0
            keys = [category_key(False), category_key(True)]
        if len(set(keys)) != len(keys):
            raise ValueError(f"column {column.name!r} has categories podium's serving reads as one (e.g. with "
                             "spaces around them): the study's codes cannot be reproduced")
        codes[column.name] = keys
    return codes, {name: UNSEEN for name in codes}

