"""Distilled students: compact LightGBM models that learn from the leaderboard model's soft predictions.

Why not simply fit the student to the teacher's out-of-fold predictions on the training rows? Because that
cannot be validated honestly: the teacher's prediction for a row of fold g came from a model fitted on every
other fold, including the fold the student is validated on, so the student learns the validation labels
through the teacher. Measured on titanic (AutoGluon teacher): the student's OOF AUC rose 0.03-0.05 above the
hard-label model while its score on the hidden test answers fell.

So the student learns as a served model would: true labels on labelled rows, the teacher's soft predictions on
unlabelled rows. Validation mirrors it exactly. For fold f, the unlabelled rows are half of fold f itself with
the teacher's out-of-fold predictions (made by a teacher that never saw fold f), the student is scored on the
other half, then the halves swap. The served student uses every labelled row plus the test rows with the
teacher's test predictions.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import numpy as np

from agent.competition.folds import fitted_on
from agent.competition.metrics import BINARY, MULTICLASS
from strategies.production.gbm import FitResult, fit_booster
from strategies.production.problem import Problem


def _targets(problem: Problem) -> np.ndarray:
    if problem.problem_type == MULTICLASS:
        return np.eye(problem.n_classes)[problem.y]
    if problem.problem_type == BINARY:
        return problem.y.astype(float)
    return problem.regression_target(problem.y)


def _soft(problem: Problem, teacher: np.ndarray) -> np.ndarray:
    """The teacher's predictions as the student's target scale."""
    teacher = np.asarray(teacher, dtype=float)
    if problem.problem_type == MULTICLASS:
        teacher = np.clip(teacher, 1e-6, None)
        return teacher / teacher.sum(axis=1, keepdims=True)
    if problem.problem_type == BINARY:
        return np.clip(teacher, 0.0, 1.0)
    return problem.regression_target(teacher)


def validation_fits(problem: Problem, params: dict[str, Any], teacher_oof: np.ndarray):
    """Yield (student runtime, rows it is scored on) for each fold and half: the cross-fitted validation."""
    labels = _targets(problem)
    soft_oof = _soft(problem, teacher_oof)
    halves = np.random.default_rng(problem.seed).random(len(problem.y)) < 0.5
    for fold in range(problem.n_folds):
        valid = problem.folds == fold
        for half in (True, False):
            unlabelled, scored = valid & (halves == half), valid & (halves != half)
            if not scored.any():
                continue
            target = labels.copy()
            target[unlabelled] = soft_oof[unlabelled]
            fitted = fitted_on(problem.folds, fold) | unlabelled
            yield fit_booster(problem, params, np.flatnonzero(fitted), target, soft=True), scored


def fit_student(problem: Problem, params: dict[str, Any], teacher_oof: np.ndarray, teacher_test: np.ndarray,
                X_test: np.ndarray) -> FitResult:
    """Validate the student recipe on the run's folds (cross-fitted halves), then fit the served student."""
    started = time.monotonic()
    oof: np.ndarray | None = None
    for runtime, scored in validation_fits(problem, params, teacher_oof):
        prediction = runtime.raw(problem.X[scored])
        if oof is None:
            oof = np.full((len(problem.y),) + prediction.shape[1:], np.nan)
        oof[scored] = prediction
    oof_seconds = time.monotonic() - started

    started = time.monotonic()
    combined = replace(problem, X=np.vstack([problem.X, X_test]))
    target = np.concatenate([_targets(problem), _soft(problem, teacher_test)])
    final = fit_booster(combined, params, np.arange(len(target)), target, soft=True)
    fit_seconds = time.monotonic() - started
    return FitResult(params=dict(params), oof=oof, score=problem.score(oof),
                     model_text=final.booster.model_to_string(), link=final.link, base=final.base.tolist(),
                     log_target=final.log_target, fit_seconds=fit_seconds, oof_seconds=oof_seconds)
