"""An Optuna multi-objective study of compact LightGBM models: validation score vs. latency vs. size.

Trials fit on the RayExecutor when one is passed (several side by side) or on the LocalExecutor (in this
process), through the runner every study shares (strategies/trials.py); either way the driver packages and
measures every returned model itself, so latency is measured where it will be served.
Trials outside the budgets are infeasible for the sampler (Optuna's trial constraints), which steers it
towards the part of the frontier that can ship.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd

from agent.deadline import Deadline
from agent.executor import LocalExecutor
from strategies.production.candidate import MB, Budgets, ProductionCandidate
from strategies.production.gbm import SEED_PARAMS, FitResult, run_trial
from strategies.production.measure import package
from strategies.production.problem import Problem
from strategies.trials import Cancelled, Job, JobFailed, TrialSteps, run_trials

log = logging.getLogger("podium.production")


def suggest(trial, max_trees: int, max_leaves: int) -> dict[str, Any]:
    """The search space: bounded trees and leaves (the latency and size knobs) and the usual regularisers."""
    return {
        "num_leaves": trial.suggest_int("num_leaves", 4, max_leaves, log=True),
        "n_estimators": trial.suggest_int("n_estimators", 10, max_trees, log=True),
        "learning_rate": trial.suggest_float("learning_rate", 0.02, 0.3, log=True),
        "min_child_samples": trial.suggest_int("min_child_samples", 3, 100, log=True),
        "feature_fraction": trial.suggest_float("feature_fraction", 0.5, 1.0),
        "lambda_l2": trial.suggest_float("lambda_l2", 1e-3, 10.0, log=True),
    }


def _constraints(frozen) -> list[float]:
    return frozen.user_attrs.get("constraints", [1.0, 1.0])


def search_compact(problem: Problem, budgets: Budgets, rows: pd.DataFrame, work: Path, deadline: Deadline,
                   max_trials: int, max_trees: int, max_leaves: int, executor=None, calls: int = 200,
                   seeds: list[dict[str, Any]] | None = None) -> list[ProductionCandidate]:
    """Run the study until `max_trials` or `deadline`; return every measured trial.

    `seeds` are the points tried first (default SEED_PARAMS, cheap to rich).
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    native = hasattr(optuna.trial.Trial, "set_constraint")  # Optuna >= 5; 4.x takes a constraints_func
    sampler = optuna.samplers.TPESampler(seed=problem.seed, n_startup_trials=min(8, max_trials),
                                         **({} if native else {"constraints_func": _constraints}))
    study = optuna.create_study(directions=["maximize", "minimize", "minimize"], sampler=sampler)
    for params in SEED_PARAMS if seeds is None else seeds:
        study.enqueue_trial({k: min(v, max_trees) if k == "n_estimators" else min(v, max_leaves)
                             if k == "num_leaves" else v for k, v in params.items()})
    executor = executor or LocalExecutor()
    payload = executor.put(problem)
    candidates: list[ProductionCandidate] = []
    asked = 0

    def trial_steps() -> TrialSteps:
        trial = study.ask()
        try:
            result = yield Job(run_trial, (payload, suggest(trial, max_trees, max_leaves), deadline),
                               name="production-trial")
        except JobFailed as failed:
            log.warning("Trial %d failed: %s", trial.number, failed.error)
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            return
        except Cancelled:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            return
        candidate = _measure(problem, result, trial.number, work, rows, calls)
        if not candidate.measured:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            return
        latency, size = candidate.latency.p99_ms, candidate.size_bytes
        limits = {"latency": latency - budgets.latency_ms, "size": (size - budgets.size_bytes) / MB}
        if native:
            for key, value in limits.items():
                trial.set_constraint(key, value)
        else:
            trial.set_user_attr("constraints", list(limits.values()))
        study.tell(trial, [problem.signed(result.score), latency, size / MB])
        candidates.append(candidate)

    def start() -> TrialSteps | None:
        nonlocal asked
        if asked >= max_trials:
            return None
        asked += 1
        return trial_steps()

    run_trials(executor, [start], max(1, int(executor.total_cpus())), deadline)
    if asked < max_trials:
        log.info("The production search reached its time budget after %d trials", asked)
    return candidates


def quick_candidate(problem: Problem, work: Path, rows: pd.DataFrame, calls: int = 200) -> ProductionCandidate:
    """The cheapest seed point, fitted in this process: a compact GBM in seconds, before any Ray worker is warm."""
    return _measure(problem, run_trial(problem, SEED_PARAMS[0]), "quick", work, rows, calls)


def _measure(problem: Problem, result: FitResult, number: int | str, work: Path, rows: pd.DataFrame,
             calls: int) -> ProductionCandidate:
    params = result.params
    label = f"t{number:02d}" if isinstance(number, int) else number
    candidate = ProductionCandidate(
        name=f"lightgbm/{label}-L{params['num_leaves']}-T{params['n_estimators']}", family="lightgbm",
        params=params, score=result.score, oof=result.oof, fit_seconds=result.fit_seconds,
        oof_seconds=result.oof_seconds)
    return package(problem, result.runtime(), candidate, work, rows, calls)
