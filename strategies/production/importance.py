"""Permutation importance of the chosen model on validation data, in the competition metric.

Computed with the fold models of the chosen recipe, each on the rows it never saw, by shuffling one encoded
column at a time (encoding is per column, so this equals shuffling the raw column).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from agent.competition.folds import fitted_on
from agent.deadline import Deadline
from strategies.production.candidate import ProductionCandidate
from strategies.production.problem import Problem

log = logging.getLogger("podium.production")
MAX_ROWS_PER_FOLD = 2000
ALWAYS_SCORED = 100  # features the first fold scores even past the deadline (within LATE_SECONDS of it)
LATE_SECONDS = 1.0  # how far past its deadline the first fold may go on: a 1,344-tree model took 7 s past it


def validation_models(problem: Problem, candidate: ProductionCandidate,
                      teacher_oof: np.ndarray | None) -> Iterator[tuple[Any, np.ndarray]] | None:
    """(fold model, rows it is validated on) for the chosen recipe; None when the family has no fold refit.

    Lazy: each fold model is fitted only when the importance reaches it, so a deadline also saves the refits.
    """
    from strategies.production.distill import validation_fits
    from strategies.production.gbm import fit_booster, hard_target
    from strategies.production.linear import fit_linear_runtime

    folds = [(np.flatnonzero(fitted_on(problem.folds, f)), problem.folds == f) for f in range(problem.n_folds)]
    if candidate.family == "lightgbm":
        target = hard_target(problem)
        return ((fit_booster(problem, candidate.params, fit, target), v) for fit, v in folds)
    if candidate.family == "linear":
        strength = candidate.params.get("C", 1.0)
        return ((fit_linear_runtime(problem, fit, strength), v) for fit, v in folds)
    if candidate.family == "distilled" and teacher_oof is not None:
        return validation_fits(problem, candidate.params, teacher_oof)
    return None


def permutation_importance(problem: Problem, models: Iterable[tuple[Any, np.ndarray]], names: list[str],
                           repeats: int = 3, deadline: Deadline | None = None) -> list[dict[str, Any]]:
    """Mean drop in the (higher-is-better) signed score when a feature is shuffled, over folds and repeats.

    Past `deadline` it stops, even inside a fold, once the first fold has scored ALWAYS_SCORED features (all of
    an ordinary table: a card without top features is not worth the second saved), and in any case LATE_SECONDS
    past it (the run's limit holds; a large model's first fold took seconds); more than that past it, it fits
    nothing. Features are visited in a random order, so the ones scored are a random sample, not the first
    columns.
    """
    if deadline is not None and deadline.remaining() < -LATE_SECONDS:
        log.info("Permutation importance skipped: its deadline had passed")
        return []
    rng = np.random.default_rng(problem.seed)
    drops: list[list[float]] = [[] for _ in names]
    order = rng.permutation(len(names))
    for runtime, rows in models:
        index = np.flatnonzero(rows)
        if len(index) > MAX_ROWS_PER_FOLD:
            index = rng.choice(index, MAX_ROWS_PER_FOLD, replace=False)
        X, y = problem.X[index], problem.y[index]
        base = problem.signed(_score(problem, y, runtime.raw(X)))
        for visited, j in enumerate(order):
            if deadline is not None and deadline.passed() and (
                    drops[j] or visited >= ALWAYS_SCORED or deadline.remaining() < -LATE_SECONDS):
                break
            column = X[:, j].copy()
            for _ in range(repeats):
                X[:, j] = rng.permutation(column)
                drops[j].append(base - problem.signed(_score(problem, y, runtime.raw(X))))
            X[:, j] = column
        if deadline is not None and deadline.passed():
            log.info("Permutation importance stopped early at the time budget")
            break
    table = [{"feature": name, "importance": float(np.nanmean(d)), "std": float(np.nanstd(d))}
             for name, d in zip(names, drops, strict=True) if d]
    return sorted(table, key=lambda row: -row["importance"])


def _score(problem: Problem, y: np.ndarray, prediction: np.ndarray) -> float:
    from agent.competition.metrics import score_prediction

    try:
        return score_prediction(problem.metric, y, prediction)
    except ValueError:  # e.g. AUC on a subsample with one class
        return float("nan")
