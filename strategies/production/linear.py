"""The floor: a regularised linear model on the same encoder, validated on the run's folds.

Fitted with scikit-learn; served as a coefficient matrix and numpy (agent/runtime/runtimes.LinearRuntime).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np

from agent.competition.folds import fitted_on
from agent.competition.metrics import BINARY, MULTICLASS
from agent.runtime.runtimes import IDENTITY, SIGMOID, SOFTMAX, LinearDesign, LinearRuntime
from agent.runtime.schema import NUMERIC
from strategies.production.problem import Problem


@dataclass
class LinearFit:
    runtime: LinearRuntime
    oof: np.ndarray
    score: float
    fit_seconds: float
    oof_seconds: float


MAX_ROWS = 10_000  # a few hundred coefficients need no more; 10 classes on 20,400 rows took 4 s a fold here


def fitting_rows(rows: np.ndarray, seed: int) -> np.ndarray:
    """At most MAX_ROWS of `rows`, drawn at random (the same for the same rows and seed), in order: the floor
    is the first model of every run and must take seconds, not the production search's whole piece (the
    floor's 9 fits took 37 s of a 21 s piece on a 23,000-row, 10-class table)."""
    rows = np.asarray(rows)
    if len(rows) <= MAX_ROWS:
        return rows
    return np.sort(np.random.default_rng(seed).choice(rows, MAX_ROWS, replace=False))


def fit_linear_runtime(problem: Problem, rows: np.ndarray, strength: float = 1.0) -> LinearRuntime:
    """Fit the design (imputation, scaling) and the coefficients on `rows` only (at most MAX_ROWS of them)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression, Ridge

    rows = fitting_rows(rows, problem.seed)
    columns = problem.schema.columns
    numeric = [i for i, c in enumerate(columns) if c.kind == NUMERIC]
    categorical = problem.encoder.categorical_indices
    n_codes = [len(problem.encoder.codes.get(columns[i].name, [])) for i in categorical]
    design = LinearDesign.fit(problem.X[rows], numeric, categorical, n_codes)
    features = design.transform(problem.X[rows])
    y = problem.y[rows]
    if problem.problem_type in (BINARY, MULTICLASS):
        model = LogisticRegression(C=strength, max_iter=300)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(features, y)
        coef, intercept = model.coef_, model.intercept_
        if problem.problem_type == MULTICLASS and len(model.classes_) < problem.n_classes:
            coef, intercept = _all_classes(model, problem.n_classes)
        link = SIGMOID if problem.problem_type == BINARY else SOFTMAX
    else:
        model = Ridge(alpha=1.0 / strength).fit(features, problem.regression_target(y))
        coef, intercept, link = model.coef_, np.atleast_1d(model.intercept_), IDENTITY
    return LinearRuntime(design, coef, intercept, link, problem.log_target)


def _all_classes(model, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """A class absent from the training rows gets a very low score rather than shifting the others."""
    coef = np.zeros((n_classes, model.coef_.shape[1]))
    intercept = np.full(n_classes, -30.0)
    coef[model.classes_] = model.coef_
    intercept[model.classes_] = model.intercept_
    return coef, intercept


def fit_linear(problem: Problem, strength: float = 1.0) -> LinearFit:
    started = time.monotonic()
    oof: np.ndarray | None = None
    for fold in range(problem.n_folds):
        valid = problem.folds == fold
        prediction = fit_linear_runtime(problem, np.flatnonzero(fitted_on(problem.folds, fold)),
                                        strength).raw(problem.X[valid])
        if oof is None:
            oof = np.full((len(problem.y),) + prediction.shape[1:], np.nan)
        oof[valid] = prediction
    oof_seconds = time.monotonic() - started
    started = time.monotonic()
    runtime = fit_linear_runtime(problem, np.arange(len(problem.y)), strength)
    return LinearFit(runtime, oof, problem.score(oof), time.monotonic() - started, oof_seconds)
