"""The leaderboard phase: AutoGluon and the Optuna studies as Ray tasks, then one greedy blend of everything.

Every deadline comes from the run's plan (agent/planner.py): AutoGluon fits until its hard deadline (a
callback stops it between models) with all CPUs of a node; the Optuna studies share what it leaves, trials
side by side; the blend chooses on out-of-fold predictions, and only then are the chosen AutoGluon models
asked for their test predictions, before the predict deadline. Each piece is a Ray task declaring its
CPUs and memory, so the same code runs on a laptop and on a cluster.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from agent.competition import Competition
from agent.config import Settings
from agent.dataset import Dataset
from agent.logs import run_log
from agent.planner import AUTOGLUON, LEADERBOARD_PREDICT, OPTUNA, Plan, autogluon_limits
from strategies.base import Blend, Budget, Candidate, SearchResult
from strategies.ensemble import blend_pool, blend_test, greedy_ensemble, guarded_ensemble

log = logging.getLogger("podium.leaderboard")
PREDICT_MARGIN = 1.0  # seconds between AutoGluon's test predictions and the end of its piece (handing them back)


@dataclass
class LeaderboardResult:
    """Every candidate, the blend that predicts the submission, and what each search did."""

    candidates: list[Candidate]
    ensemble: Blend
    studies: list[dict[str, Any]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    costs: dict[str, float] = field(default_factory=dict)  # CPU-seconds of each search
    cost_notes: dict[str, str] = field(default_factory=dict)  # how each CPU figure was obtained


def autogluon_task(models: str, competition: dict, data: Dataset, budget: Budget, settings: dict,
                   log_path: str) -> SearchResult:
    """AutoGluon's search inside a Ray task, logging to the run's log (it resumes a finished fit itself)."""
    from strategies.autogluon import AutoGluonStrategy

    board = settings["leaderboard"]
    with run_log(Path(log_path)):
        strategy = AutoGluonStrategy(Path(models), presets=board["presets"], num_stack_levels=board["num_stack_levels"],
                                     excluded_model_types=board["excluded_model_types"],
                                     fold_fitting=_fold_fitting(board["fold_fitting"], budget.cpus),
                                     seed=settings["run"]["seed"], test_models="best")
        return strategy.search(Competition.from_dict(competition), data, budget)


def _fold_fitting(configured: str, cpus: int) -> str:
    """Parallel folds only where they help and are safe: 2+ CPUs and not inside a batch's placement group.

    Inside a placement group, AutoGluon's fold tasks compete with their parent for the group's CPUs
    (measured: a 25 s fit took 200 s on a 1-CPU group); there, folds run one after the other.
    """
    import ray.util

    if cpus < 2 or ray.util.get_current_placement_group() is not None:
        return "sequential_local"
    return configured


def fit_leaderboard(competition: Competition, data: Dataset, settings: Settings, executor, run_dir: Path,
                    plan: Plan, cpus: int, memory_gb: float, trial_cpus: int | None = None,
                    extra: list[Candidate] | None = None,
                    on_autogluon: Callable[[], int] | None = None) -> LeaderboardResult:
    """AutoGluon, then the Optuna studies side by side, each until its planned deadline; blend on OOF.

    `cpus` bounds one task (an AutoGluon fit stays on one node); `trial_cpus` is what the studies' trials
    may use together (a cluster's total; default `cpus`). `extra` candidates (the production search's best,
    with test predictions) join the blend. `on_autogluon` is called once AutoGluon's fit is on disk; the CPUs it
    returns (work it started) are left out of the studies'.
    """
    trial_cpus = trial_cpus or cpus
    search = settings.search
    started = time.monotonic()
    learners = list(search.learners)
    timings: dict[str, float] = {}
    costs: dict[str, float] = {}
    cost_notes: dict[str, str] = {}
    candidates: list[Candidate] = list(extra or [])
    if search.autogluon_share > 0 or not learners:
        with plan.run(AUTOGLUON):
            fitted = _fit_autogluon(competition, data, settings, executor, run_dir, plan, cpus, memory_gb, timings)
        if fitted is not None:
            from agent.leaderboard_figures import keep_latency

            keep_latency(run_dir, fitted.candidates)
            if on_autogluon is not None:
                trial_cpus = max(1, trial_cpus - on_autogluon())
            candidates += fitted.candidates
            costs["autogluon_cpu_seconds"] = round(fitted.cpu_seconds, 3)
            cost_notes["autogluon_cpu_seconds"] = fitted.cpu_method
    else:
        plan.skip(AUTOGLUON, "search.autogluon_share is 0")

    studies = _run_studies(competition, data, settings, executor, run_dir, plan, trial_cpus, memory_gb,
                           candidates, costs, cost_notes, timings)
    if not candidates:
        raise RuntimeError("No leaderboard candidate finished within the time limit")
    with plan.run(LEADERBOARD_PREDICT):
        blend = _blend(candidates, competition, data, settings)
        blend = _predict_chosen(blend, candidates, competition, data, settings, executor, run_dir, plan, timings)
    timings["total"] = round(time.monotonic() - started, 3)
    costs["cpu_seconds"] = round(sum(costs.values()), 3)
    metric = competition.metric
    candidates.sort(key=lambda c: metric.signed(c.score), reverse=True)
    return LeaderboardResult(candidates=candidates, ensemble=blend, studies=studies, timings=timings, costs=costs,
                             cost_notes=cost_notes)


def _fit_autogluon(competition, data, settings, executor, run_dir: Path, plan: Plan, cpus: int, memory_gb: float,
                   timings: dict[str, float]) -> SearchResult | None:
    """The AutoGluon task, awaited at most until the predict deadline; past it, it is cancelled (None)."""
    limits = autogluon_limits(plan)
    now = time.time()
    budget = Budget(seconds=limits.time_limit, cpus=cpus, memory_gb=memory_gb, deadline=now + limits.hard_stop,
                    predict_deadline=now + plan.seconds_left(AUTOGLUON) - PREDICT_MARGIN)
    timings["autogluon_time_limit"] = round(limits.time_limit, 1)
    plan.note(AUTOGLUON, f"time_limit {limits.time_limit:.1f} s, hard stop in {limits.hard_stop:.1f} s")
    began = time.monotonic()
    task = executor.submit(autogluon_task, str(run_dir / "models"), competition.to_dict(), data, budget,
                           settings.dump(), str(run_dir / "podium.log"), name="autogluon-fit",
                           num_cpus=cpus, memory_gb=memory_gb, max_retries=1)
    try:
        fitted = executor.result(task, timeout=max(1.0, plan.seconds_left(LEADERBOARD_PREDICT)))
    except Exception as error:  # noqa: BLE001 - a timeout or a crash: the other candidates stand
        executor.cancel(task)
        note = "cancelled at the predict deadline" if "Timeout" in type(error).__name__ else \
            f"failed: {type(error).__name__}: {error}"
        plan.note(AUTOGLUON, note)
        log.warning("AutoGluon %s; the blend goes on without it", note)
        return None
    timings["autogluon"] = round(time.monotonic() - began, 3)
    log.info("AutoGluon gave %d candidates in %.1fs", len(fitted.candidates), timings["autogluon"])
    return fitted


def _run_studies(competition, data, settings, executor, run_dir: Path, plan: Plan, trial_cpus: int,
                 memory_gb: float, candidates: list[Candidate], costs, cost_notes, timings) -> list[dict[str, Any]]:
    """The Optuna studies in what AutoGluon left before its deadline; a study that did not run says why."""
    search = settings.search
    learners = list(search.learners)
    seconds = plan.seconds_left(OPTUNA)
    if not learners:
        plan.skip(OPTUNA, "no learners configured (search.learners)")
        return []
    if seconds < search.min_optuna_seconds:
        why = (f"no time: {max(0.0, seconds):.0f} s left before the fit deadline, under search.min_optuna_seconds "
               f"({search.min_optuna_seconds:g} s)")
        plan.skip(OPTUNA, why)
        return [{"learner": learner, "ran": False, "why": why} for learner in learners]
    from strategies.optuna_search import OptunaSearch, search_together

    studies = []
    with plan.run(OPTUNA):
        began = time.monotonic()
        searches = [OptunaSearch(learner, run_dir / "studies", executor, seed=settings.run.seed,
                                 keep_best=search.keep_best, cpus_per_trial=search.cpus_per_trial)
                    for learner in learners]
        found = search_together(searches, competition, data, Budget(seconds, trial_cpus, memory_gb))
        timings["optuna"] = round(time.monotonic() - began, 3)
    for learner, result in found.items():
        candidates += result.candidates
        costs[f"optuna_{learner}_cpu_seconds"] = round(result.cpu_seconds, 3)
        cost_notes[f"optuna_{learner}_cpu_seconds"] = result.cpu_method
        studies.append(result.summary)
        log.info("Optuna %s: %s", learner, result.summary)
    return studies


def _blend(candidates: list[Candidate], competition: Competition, data: Dataset, settings: Settings) -> Blend:
    search = settings.search
    metric = competition.metric
    ranked = sorted(candidates, key=lambda c: metric.signed(c.score), reverse=True)
    pool, pool_rule = blend_pool(ranked)
    if search.blend_guard:
        blend = guarded_ensemble(pool, data.y, data.folds, metric, search.ensemble_iterations,
                                 competition.problem_type, seed=settings.run.seed)
        log.info("Blend guard kept the %s (in the folds: blend %.5g, best single candidate %.5g)",
                 blend.guard["kept"], blend.guard["blend_in_folds"], blend.guard["best_single_in_folds"])
    else:
        blend = greedy_ensemble(pool, data.y, metric, search.ensemble_iterations, competition.problem_type)
    blend.pool = {"rule": pool_rule, "candidates": len(pool)}
    log.info("Blending %d of %d candidates: %s", len(pool), len(candidates), pool_rule)
    return blend


def _predict_chosen(blend: Blend, candidates: list[Candidate], competition: Competition, data: Dataset,
                    settings: Settings, executor, run_dir: Path, plan: Plan, timings: dict[str, float]) -> Blend:
    """Test predictions for the AutoGluon models the blend chose, before the predict deadline.

    If they do not arrive in time, the blend is chosen again among the candidates that have test predictions.
    """
    by_name = {c.name: c for c in candidates}
    missing = [by_name[name] for name in blend.weights if by_name[name].test is None]
    expected = sum(c.predict_seconds_estimate or 0.0 for c in missing)
    if missing and expected > plan.seconds_left(LEADERBOARD_PREDICT):
        plan.note(LEADERBOARD_PREDICT, f"the chosen AutoGluon models would take about {expected:.0f} s to predict "
                                       "the test set; blended again without them")
        log.warning("The blend's AutoGluon models would take about %.0f s to predict the test set: blending "
                    "without them", expected)
        return _blend_ready(candidates, competition, data, settings)
    if missing:
        from strategies.autogluon import predict_test

        began = time.monotonic()
        models = [c.model for c in missing]
        task = executor.submit(predict_test, str(run_dir / "models"), competition.to_dict(), data.X_test, models,
                               name="autogluon-predict-test", num_cpus=max(1, plan.cpus - 1))  # one is measuring
        try:
            predicted = executor.result(task, timeout=max(1.0, plan.seconds_left(LEADERBOARD_PREDICT)))
        except Exception as error:  # noqa: BLE001 - the blend is chosen again without them
            executor.cancel(task)
            plan.note(LEADERBOARD_PREDICT, f"AutoGluon's test predictions did not arrive ({type(error).__name__}); "
                                           "blended again without AutoGluon")
            log.warning("AutoGluon's test predictions did not arrive in time (%s): blending without them", error)
            return _blend_ready(candidates, competition, data, settings)
        for candidate in missing:
            candidate.test = np.asarray(predicted[candidate.model])
        timings["autogluon_predict_test"] = round(time.monotonic() - began, 3)
    blend.test = blend_test(blend, by_name)
    return blend


def _blend_ready(candidates: list[Candidate], competition: Competition, data: Dataset,
                 settings: Settings) -> Blend:
    """The blend chosen again among the candidates that have test predictions."""
    ready = [c for c in candidates if c.test is not None]
    if not ready:
        raise RuntimeError("No leaderboard candidate has test predictions within the time limit")
    return _blend(ready, competition, data, settings)
