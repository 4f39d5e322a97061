"""The leaderboard phase: AutoGluon and the Optuna studies as Ray tasks, then one greedy blend of everything.

The planner's split: AutoGluon gets `search.autogluon_share` of the leaderboard time with all CPUs of a
node, less a reserve for predicting; the Optuna studies share whatever is left when it returns (the rest of
the share and the unused reserve), trials side by side. Each piece is a Ray task declaring its CPUs
and memory, so the same code runs on a laptop and on a cluster.
"""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.competition import Competition
from agent.config import Settings
from agent.dataset import Dataset
from agent.logs import run_log
from strategies.base import Budget, Candidate
from strategies.ensemble import blend_pool, greedy_ensemble, guarded_ensemble

log = logging.getLogger("podium.leaderboard")
# The automatic predict reserve (see predict_reserve): share of the fit per unit of folds x test/train rows.
PREDICT_COST_PER_RATIO = 0.02
MIN_PREDICT_RESERVE, MAX_PREDICT_RESERVE = 0.05, 0.30
AUTOGLUON_DONE = "autogluon.done"  # marker: the predictor in models/ finished fitting (resume reuses it)


@dataclass
class LeaderboardResult:
    """Every candidate, the blend that predicts the submission, and what each search did."""

    candidates: list[Candidate]
    ensemble: Candidate
    studies: list[dict[str, Any]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    costs: dict[str, float] = field(default_factory=dict)  # CPU-seconds of each search
    cost_notes: dict[str, str] = field(default_factory=dict)  # how each CPU figure was obtained


def autogluon_task(models: str, competition: dict, data: Dataset, budget: Budget, settings: dict,
                   log_path: str) -> dict[str, Any]:
    """Fit AutoGluon inside a Ray task (or reload a finished fit on resume): its candidates and CPU cost.

    Folds fitted in parallel run in other Ray workers, out of this process's sight: their cost is then the
    CPUs the fit held times its wall time, what a cluster bills for it.
    """
    started_cpu, started = time.process_time(), time.monotonic()
    fold_fitting = _fold_fitting(settings["leaderboard"]["fold_fitting"], budget.cpus)
    candidates = _autogluon_candidates(models, competition, data, budget, settings, log_path, fold_fitting)
    seconds = time.monotonic() - started
    if fold_fitting == "sequential_local":
        return {"candidates": candidates, "cpu_seconds": time.process_time() - started_cpu, "seconds": seconds,
                "cpu_method": "measured in the task"}
    return {"candidates": candidates, "cpu_seconds": budget.cpus * seconds, "seconds": seconds,
            "cpu_method": f"{budget.cpus} CPUs held x wall time (folds ran in parallel workers)"}


def _autogluon_candidates(models: str, competition: dict, data: Dataset, budget: Budget, settings: dict,
                          log_path: str, fold_fitting: str) -> list[Candidate]:
    from strategies.autogluon import AutoGluonStrategy

    comp = Competition.from_dict(competition)
    path = Path(models)
    board = settings["leaderboard"]
    with run_log(Path(log_path)):
        strategy = AutoGluonStrategy(path, presets=board["presets"], num_stack_levels=board["num_stack_levels"],
                                     excluded_model_types=board["excluded_model_types"],
                                     fold_fitting=fold_fitting, seed=settings["run"]["seed"])
        if (path / AUTOGLUON_DONE).is_file():
            from autogluon.tabular import TabularPredictor

            logging.getLogger("podium.autogluon").info("Reusing the finished AutoGluon fit in %s", path)
            predictor = TabularPredictor.load(str(path), require_py_version_match=False)
            return strategy.candidates(predictor, comp, data, fit_seconds=0.0)
        if path.exists():
            shutil.rmtree(path)  # an interrupted fit cannot be continued: start it again
        candidates = strategy.search(comp, data, budget)
        (path / AUTOGLUON_DONE).write_text("ok\n")
        return candidates


def _fold_fitting(configured: str, cpus: int) -> str:
    """Parallel folds only where they help and are safe: 2+ CPUs and not inside a batch's placement group.

    Inside a placement group, AutoGluon's fold tasks compete with their parent for the group's CPUs
    (measured: a 25 s fit took 200 s on a 1-CPU group); there, folds run one after the other.
    """
    import ray.util

    if cpus < 2 or ray.util.get_current_placement_group() is not None:
        return "sequential_local"
    return configured


def predict_reserve(configured: str | float, data: Dataset) -> float:
    """Share of AutoGluon's time kept back for predicting the test set with every bagged model.

    Each model predicts the test set once per fold, so the cost grows with folds x test rows / train rows.
    Measured (hpc_class, 8 folds, 625 test and 1,875 train rows): every candidate's test predictions took
    2.7 s after 188 s of fitting, 0.5% of the fit per unit of that ratio. The reserve allows 4 times as
    much (slower predictors such as forests, a shared machine), at least 5% (AutoGluon's last stacker may
    overrun its limit by a few seconds) and at most 30%. What the fit leaves unused goes to Optuna.
    """
    if configured != "auto":
        return float(configured)
    ratio = data.n_folds * len(data.X_test) / max(1, len(data.X))
    return min(MAX_PREDICT_RESERVE, max(MIN_PREDICT_RESERVE, PREDICT_COST_PER_RATIO * ratio))


def fit_leaderboard(competition: Competition, data: Dataset, settings: Settings, executor, run_dir: Path,
                    seconds: float, cpus: int, memory_gb: float, trial_cpus: int | None = None) -> LeaderboardResult:
    """Run AutoGluon, then the Optuna studies side by side, within `seconds`; blend everything on OOF.

    `cpus` bounds one task (an AutoGluon fit stays on one node); `trial_cpus` is what the studies' trials
    may use together (a cluster's total; default `cpus`).
    """
    trial_cpus = trial_cpus or cpus
    search = settings.search
    started = time.monotonic()
    deadline = started + seconds
    learners = list(search.learners)
    ag_seconds = seconds * (search.autogluon_share if learners else 1.0)
    reserve = predict_reserve(settings.leaderboard.predict_reserve, data)
    ag_budget = Budget(seconds=max(5.0, ag_seconds * (1 - reserve) - 3.0), cpus=cpus, memory_gb=memory_gb)
    timings: dict[str, float] = {"autogluon_time_limit": round(ag_budget.seconds, 1)}
    costs: dict[str, float] = {}
    cost_notes: dict[str, str] = {}
    candidates: list[Candidate] = []
    if search.autogluon_share > 0 or not learners:
        task = executor.submit(autogluon_task, str(run_dir / "models"), competition.to_dict(), data, ag_budget,
                               settings.dump(), str(run_dir / "podium.log"), name="autogluon-fit",
                               num_cpus=cpus, memory_gb=memory_gb, max_retries=1)
        fitted = executor.result(task)
        candidates += fitted["candidates"]
        costs["autogluon_cpu_seconds"] = round(fitted["cpu_seconds"], 3)
        cost_notes["autogluon_cpu_seconds"] = fitted["cpu_method"]
        timings["autogluon"] = round(time.monotonic() - started, 3)
        log.info("AutoGluon gave %d candidates in %.1fs", len(candidates), timings["autogluon"])

    studies = []
    optuna_seconds = deadline - time.monotonic()
    if learners and optuna_seconds >= search.min_optuna_seconds:
        from strategies.optuna_search import OptunaSearch, search_together

        began = time.monotonic()
        searches = [OptunaSearch(learner, run_dir / "studies", executor, seed=settings.run.seed,
                                 keep_best=search.keep_best, cpus_per_trial=search.cpus_per_trial)
                    for learner in learners]
        found = search_together(searches, competition, data, Budget(optuna_seconds, trial_cpus, memory_gb))
        timings["optuna"] = round(time.monotonic() - began, 3)
        for study_search in searches:
            best = found[study_search.learner]
            candidates += best
            costs[f"optuna_{study_search.learner}_cpu_seconds"] = round(study_search.cpu_seconds_, 3)
            cost_notes[f"optuna_{study_search.learner}_cpu_seconds"] = "measured in the trials' tasks"
            studies.append({**study_search.summary(study_search.open_study()),
                            "cpu_seconds": round(study_search.cpu_seconds_, 3),
                            "best_oof_score": best[0].score if best else None})
            log.info("Optuna %s: %s", study_search.learner, studies[-1])
    if not candidates:
        raise RuntimeError("No leaderboard candidate finished within the time limit")
    metric = competition.metric
    candidates.sort(key=lambda c: metric.signed(c.score), reverse=True)
    pool, pool_rule = blend_pool(candidates)
    if search.blend_guard:
        blend = guarded_ensemble(pool, data.y, data.folds, metric, search.ensemble_iterations,
                                 competition.problem_type, seed=settings.run.seed)
        log.info("Blend guard kept the %s (in the folds: blend %.5g, best single candidate %.5g)",
                 blend.info["guard"]["kept"], blend.info["guard"]["blend_in_folds"],
                 blend.info["guard"]["best_single_in_folds"])
    else:
        blend = greedy_ensemble(pool, data.y, metric, search.ensemble_iterations, competition.problem_type)
    blend.info["pool"] = {"rule": pool_rule, "candidates": len(pool)}
    log.info("Blending %d of %d candidates: %s", len(pool), len(candidates), pool_rule)
    timings["total"] = round(time.monotonic() - started, 3)
    costs["cpu_seconds"] = round(sum(costs.values()), 3)
    return LeaderboardResult(candidates=candidates, ensemble=blend, studies=studies, timings=timings, costs=costs,
                             cost_notes=cost_notes)
