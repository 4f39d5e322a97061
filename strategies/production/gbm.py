"""Compact LightGBM models: bounded trees and leaves, fitted on the encoded matrix, validated on the run's folds.

The same code fits hard targets (the true labels) and soft ones (a teacher's out-of-fold predictions, for
distillation). Soft multiclass targets need a custom softmax cross-entropy objective; LightGBM's own
multiclass objective only takes labels.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from agent.competition.folds import fitted_on
from agent.competition.metrics import BINARY, MULTICLASS
from agent.deadline import Deadline
from agent.runtime.runtimes import IDENTITY, SIGMOID, SOFTMAX, LightGBMRuntime
from strategies.lightgbm_fit import objective_for, train
from strategies.production.problem import Problem

# Cheap to rich, tried first (FLAML's lesson: a search that starts cheap finds the small good models early).
SEED_PARAMS: list[dict[str, Any]] = [
    {"num_leaves": 7, "n_estimators": 40, "learning_rate": 0.15, "min_child_samples": 20},
    {"num_leaves": 15, "n_estimators": 100, "learning_rate": 0.08, "min_child_samples": 20},
    {"num_leaves": 31, "n_estimators": 200, "learning_rate": 0.05, "min_child_samples": 20},
    {"num_leaves": 31, "n_estimators": 400, "learning_rate": 0.03, "min_child_samples": 10},
]
DEFAULTS = {"feature_fraction": 0.9, "lambda_l2": 1.0}


@dataclass
class FitResult:
    """What a trial sends back to the driver: everything but the live booster (text pickles cheaply)."""

    params: dict[str, Any]
    oof: np.ndarray
    score: float
    model_text: str
    link: str
    base: list[float]
    log_target: bool
    fit_seconds: float
    oof_seconds: float
    fold_runtimes: list[LightGBMRuntime] = field(default_factory=list, repr=False)

    def runtime(self) -> LightGBMRuntime:
        return LightGBMRuntime.from_text(self.model_text, self.link, self.base, self.log_target)


def lightgbm_params(problem: Problem, params: dict[str, Any], soft: bool) -> tuple[dict[str, Any], int]:
    """LightGBM's parameter dict and the number of boosting rounds, from a search point."""
    params = {**DEFAULTS, **params}
    rounds = int(params.pop("n_estimators"))
    out = {"verbose": -1, "seed": problem.seed, "num_threads": problem.threads, "deterministic": True,
           "force_row_wise": True, "max_bin": 127, "max_cat_to_onehot": 8, "cat_smooth": 10.0,
           "min_data_per_group": 20, **params}
    objective = objective_for(problem.problem_type, problem.output.metric)
    if soft and problem.problem_type == BINARY:
        objective = "cross_entropy"
    if problem.problem_type == MULTICLASS:
        out["num_class"] = problem.n_classes
        if soft:
            objective = _SoftmaxObjective()
    out["objective"] = objective
    return out, rounds


class _SoftmaxObjective:
    """Softmax cross-entropy against a probability matrix (LightGBM's multiclass gradient, soft labels)."""

    def __init__(self):
        self.targets: np.ndarray | None = None

    def __call__(self, preds: np.ndarray, data) -> tuple[np.ndarray, np.ndarray]:
        shifted = np.exp(preds - preds.max(axis=1, keepdims=True))
        p = shifted / shifted.sum(axis=1, keepdims=True)
        k = p.shape[1]
        return p - self.targets, k / (k - 1) * p * (1 - p)


def link_for(problem: Problem) -> str:
    """The link from a booster's raw score to podium's convention, by problem type."""
    return {BINARY: SIGMOID, MULTICLASS: SOFTMAX}.get(problem.problem_type, IDENTITY)


def fit_booster(problem: Problem, params: dict[str, Any], rows: np.ndarray, target: np.ndarray,
                soft: bool = False, deadline: Deadline | None = None) -> LightGBMRuntime:
    """Fit one booster on `rows` of the encoded matrix; `target` is indexed like the full training set. Past
    `deadline` it stops itself (PastDeadline)."""
    lgb_params, rounds = lightgbm_params(problem, params, soft)
    label = target[rows]
    base = [0.0]
    init_score = None
    if soft and problem.problem_type == MULTICLASS:
        lgb_params["objective"].targets = label
        prior = np.log(np.clip(label.mean(axis=0), 1e-6, None))
        base = (prior - prior.mean()).tolist()
        init_score = np.tile(base, (len(label), 1))
        label = label.argmax(axis=1).astype(float)  # unused by the custom objective, but LightGBM wants one
    booster = train(lgb_params, problem.X[rows], label, rounds,
                    categorical=problem.encoder.categorical_indices or "auto", init_score=init_score,
                    dataset_params={"verbose": -1, "max_bin": lgb_params["max_bin"]}, deadline=deadline)
    return LightGBMRuntime(booster, link_for(problem), base, problem.log_target)


def fit_and_validate(problem: Problem, params: dict[str, Any], target: np.ndarray, soft: bool = False,
                     keep_fold_models: bool = False, deadline: Deadline | None = None) -> FitResult:
    """Out-of-fold predictions on the run's folds, scored against the true target, then a fit on every row."""
    started = time.monotonic()
    oof: np.ndarray | None = None
    fold_runtimes = []
    for fold in range(problem.n_folds):
        valid = problem.folds == fold
        runtime = fit_booster(problem, params, np.flatnonzero(fitted_on(problem.folds, fold)), target, soft,
                              deadline)
        prediction = runtime.raw(problem.X[valid])
        if oof is None:
            oof = np.full((len(problem.y),) + prediction.shape[1:], np.nan)
        oof[valid] = prediction
        if keep_fold_models:
            fold_runtimes.append(runtime)
    oof_seconds = time.monotonic() - started
    started = time.monotonic()
    final = fit_booster(problem, params, np.arange(len(problem.y)), target, soft, deadline)
    fit_seconds = time.monotonic() - started
    return FitResult(params=dict(params), oof=oof, score=problem.score(oof),
                     model_text=final.booster.model_to_string(), link=final.link, base=final.base.tolist(),
                     log_target=final.log_target, fit_seconds=fit_seconds, oof_seconds=oof_seconds,
                     fold_runtimes=fold_runtimes)


def hard_target(problem: Problem) -> np.ndarray:
    """The true target as the booster learns it (log1p for RMSLE)."""
    if problem.problem_type in (BINARY, MULTICLASS):
        return problem.y.astype(float)
    return problem.regression_target(problem.y)


def run_trial(problem: Problem, params: dict[str, Any], deadline: Deadline | None = None) -> FitResult:
    """One search trial (module level so Ray can ship it); past `deadline` it stops itself."""
    return fit_and_validate(problem, params, hard_target(problem), deadline=deadline)
