"""The leaderboard phase: AutoGluon and the Optuna studies as Ray tasks, then one greedy blend of everything.

Every deadline comes from the run's plan (agent/run/planner.py): AutoGluon fits until its hard deadline (a
callback stops it between models) with all CPUs of a node; the Optuna studies share what it leaves, trials
side by side; the blend chooses on out-of-fold predictions, and only then are the chosen AutoGluon models
asked for their test predictions, before the predict deadline. Each piece is a Ray task declaring its
CPUs and memory, so the same code runs on a laptop and on a cluster.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from agent.competition.dataset import Dataset
from agent.competition.folds import scored
from agent.competition.inference import Competition
from agent.config import Settings
from agent.deadline import Deadline
from agent.logs import run_log
from agent.run.planner import AUTOGLUON, LEADERBOARD_PREDICT, OPTUNA, Plan, autogluon_limits
from strategies.base import Blend, Budget, Candidate, SearchResult
from strategies.ensemble import blend_pool, blend_test, greedy_ensemble, guarded_ensemble

log = logging.getLogger("podium.leaderboard")
AUTO, PARALLEL, SEQUENTIAL, DISTRIBUTED = "auto", "parallel_local", "sequential_local", "parallel_distributed"
PREDICT_MARGIN = 1.0  # seconds between AutoGluon's test predictions and the end of its piece (handing them back)
RETURN_GRACE = 2.0  # seconds past its piece's end that AutoGluon's task may take to hand back its candidates
SALVAGE_SECONDS = 20.0  # at least this long to read what a fit that never returned left on disk


@dataclass
class LeaderboardResult:
    """Every candidate, the blend that predicts the submission, and what each search did."""

    candidates: list[Candidate]
    ensemble: Blend
    studies: list[dict[str, Any]] = field(default_factory=list)
    autogluon: dict[str, Any] | None = None  # what AutoGluon's search did (models, fold fitting, where folds ran)
    timings: dict[str, float] = field(default_factory=dict)
    costs: dict[str, float] = field(default_factory=dict)  # CPU-seconds of each search
    cost_notes: dict[str, str] = field(default_factory=dict)  # how each CPU figure was obtained


def autogluon_task(models: str, competition: dict, data: Dataset, budget: Budget, settings: dict,
                   log_path: str) -> SearchResult:
    """AutoGluon's search inside a Ray task, logging to the run's log (it resumes a finished fit itself)."""
    from strategies.registry import make_strategy

    board = settings["leaderboard"]
    with run_log(Path(log_path)):
        strategy = make_strategy("autogluon", Path(models), presets=board["presets"],
                                 num_stack_levels=board["num_stack_levels"],
                                 excluded_model_types=board["excluded_model_types"],
                                 fold_fitting=fold_fitting(board["fold_fitting"], budget.cpus),
                                 seed=settings["run"]["seed"], test_models="best", portfolio=board["portfolio"],
                                 log_target=board["log_target"], absolute_error=board["absolute_error"])
        return strategy.search(Competition.from_dict(competition), data, budget)


def autogluon_salvage_task(models: str, competition: dict, data: Dataset, log_path: str) -> SearchResult | None:
    """The models a fit that never returned left in `models`, as candidates (a Ray task, logging to the run's log)."""
    from strategies.registry import make_strategy

    with run_log(Path(log_path)):
        return make_strategy("autogluon", Path(models)).salvage(Competition.from_dict(competition), data)


def predict_test_task(strategy: str, artifact: str, competition: dict, X_test, models: list[str]) -> dict:
    """The test predictions of a strategy's chosen models, asked of the strategy (a Ray task)."""
    from strategies.registry import make_strategy

    return make_strategy(strategy, Path(artifact)).predict_test(Competition.from_dict(competition), X_test, models)


def fold_fitting(configured: str, cpus: int) -> str:
    """How AutoGluon fits its bagged folds, decided in its task, where Ray's layout is known.

    auto: over every node of a multi-node cluster (AutoGluon's distributed mode), else in parallel on this
    node with 2+ CPUs, else one after the other. Inside a batch's placement group the folds run one after the
    other: there, AutoGluon's fold tasks compete with their parent for the group's CPUs (docs/benchmarks.md).
    """
    import ray.util

    if ray.util.get_current_placement_group() is not None:
        return SEQUENTIAL
    if configured in (AUTO, DISTRIBUTED) and cluster_nodes() > 1:
        return DISTRIBUTED
    if cpus < 2 or configured == SEQUENTIAL:
        return SEQUENTIAL
    return PARALLEL


def cluster_nodes() -> int:
    """Alive Ray nodes that offer CPUs."""
    import ray

    return sum(1 for node in ray.nodes() if node.get("Alive") and node["Resources"].get("CPU", 0) > 0)


def spreads_over_cluster(configured: str, node_cpus: int, total_cpus: int) -> bool:
    """Whether AutoGluon's folds will spread over several nodes: a cluster larger than one node, outside a
    batch's placement group (which holds one node's CPUs)."""
    import ray.util

    return configured in (AUTO, DISTRIBUTED) and total_cpus > node_cpus \
        and ray.util.get_current_placement_group() is None


def autogluon_cpus(configured: str, node_cpus: int, total_cpus: int, folds: int, max_cpus_per_fold: int) -> int:
    """CPUs AutoGluon's fit may use: one node's, or on a cluster (distributed folds) one fold's worth per fold,
    each at most `max_cpus_per_fold` and what a node holds; the rest of the cluster is the studies'."""
    if not spreads_over_cluster(configured, node_cpus, total_cpus):
        return node_cpus
    return max(node_cpus, min(total_cpus, folds * min(node_cpus, max_cpus_per_fold)))


def fit_leaderboard(competition: Competition, data: Dataset, settings: Settings, executor, run_dir: Path,
                    plan: Plan, cpus: int, memory_gb: float, trial_cpus: int | None = None,
                    extra: list[Candidate] | None = None,
                    on_autogluon: Callable[[], int] | None = None) -> LeaderboardResult:
    """AutoGluon and the Optuna studies, each until its planned deadline; one blend on OOF.

    `cpus` bounds one task (a node's CPUs); `trial_cpus` is what the search may use in all (a cluster's
    total; default `cpus`). On one node the studies run in what AutoGluon leaves before its deadline; on a
    cluster AutoGluon's folds spread over the nodes and the studies run at the same time on the CPUs its
    folds leave. `extra` candidates (the production search's best, with test predictions) join the blend.
    `on_autogluon` is called once AutoGluon's fit is on disk; the CPUs it returns (work it started) are left
    out of the studies'.
    """
    trial_cpus = trial_cpus or cpus
    search, board = settings.search, settings.leaderboard
    started = time.monotonic()
    learners = list(search.learners)
    timings: dict[str, float] = {}
    found = Found(list(extra or []))
    fitted = None
    ag_cpus = autogluon_cpus(board.fold_fitting, cpus, trial_cpus, data.n_folds, board.max_cpus_per_fold)
    # a cluster's CPUs AutoGluon's folds leave
    beside = trial_cpus - ag_cpus if spreads_over_cluster(board.fold_fitting, cpus, trial_cpus) else 0
    with ThreadPoolExecutor(max_workers=1) as pool:
        concurrent = None
        if beside >= 1 and learners and (search.autogluon_share > 0):
            log.info("The studies run beside AutoGluon on the %d CPUs its folds leave", beside)
            concurrent = pool.submit(_run_studies, competition, data, settings, executor, run_dir, plan, beside,
                                     memory_gb, timings, [])
        if search.autogluon_share > 0 or not learners:
            with plan.run(AUTOGLUON):
                fitted = _fit_autogluon(competition, data, settings, executor, run_dir, plan, cpus, ag_cpus,
                                        memory_gb, timings)
            if fitted is not None:
                from agent.run.figures import keep_latency

                keep_latency(run_dir, fitted.candidates)
                if on_autogluon is not None:
                    trial_cpus = max(1, trial_cpus - on_autogluon())
                found.add("autogluon_cpu_seconds", fitted)
        else:
            plan.skip(AUTOGLUON, "search.autogluon_share is 0")
        studies = concurrent.result() if concurrent is not None else \
            _run_studies(competition, data, settings, executor, run_dir, plan, trial_cpus, memory_gb, timings,
                         found.candidates)
    found.merge(studies)
    candidates = found.candidates
    if not candidates:
        raise RuntimeError("No leaderboard candidate finished within the time limit")
    with plan.run(LEADERBOARD_PREDICT):
        blend = _blend(candidates, competition, data, settings)
        blend = _predict_chosen(blend, candidates, competition, data, settings, executor, run_dir, plan, timings)
    timings["total"] = round(time.monotonic() - started, 3)
    found.costs["cpu_seconds"] = round(sum(found.costs.values()), 3)
    metric = competition.metric
    candidates.sort(key=lambda c: metric.signed(c.score), reverse=True)
    return LeaderboardResult(candidates=candidates, ensemble=blend, studies=studies.summaries,
                             autogluon=fitted.summary if fitted is not None else None, timings=timings,
                             costs=found.costs, cost_notes=found.cost_notes)


@dataclass
class Found:
    """Candidates and what each search cost, gathered from the searches."""

    candidates: list[Candidate]
    costs: dict[str, float] = field(default_factory=dict)  # CPU-seconds of each search
    cost_notes: dict[str, str] = field(default_factory=dict)  # how each CPU figure was obtained
    summaries: list[dict[str, Any]] = field(default_factory=list)

    def add(self, key: str, result: SearchResult) -> None:
        self.candidates += result.candidates
        self.costs[key] = round(result.cpu_seconds, 3)
        self.cost_notes[key] = result.cpu_method

    def merge(self, other: Found) -> None:
        self.candidates += other.candidates
        self.costs.update(other.costs)
        self.cost_notes.update(other.cost_notes)
        self.summaries += other.summaries


def _fit_autogluon(competition, data, settings, executor, run_dir: Path, plan: Plan, cpus: int, ag_cpus: int,
                   memory_gb: float, timings: dict[str, float]) -> SearchResult | None:
    """The AutoGluon task (holding `cpus` on its node; its fit uses `ag_cpus`, more on a cluster), awaited at
    most until the predict deadline; past it, it is cancelled (None)."""
    limits = autogluon_limits(plan)
    budget = Budget(seconds=limits.time_limit, cpus=ag_cpus, memory_gb=memory_gb,
                    deadline=Deadline.after(limits.hard_stop),
                    predict_deadline=plan.deadline(AUTOGLUON) - PREDICT_MARGIN)
    timings["autogluon_time_limit"] = round(limits.time_limit, 1)
    plan.note(AUTOGLUON, f"time_limit {limits.time_limit:.1f} s, hard stop in {limits.hard_stop:.1f} s, "
                         f"{ag_cpus} CPUs")
    began = time.monotonic()
    models, log_path = str(run_dir / "models"), str(run_dir / "podium.log")
    task = executor.submit(autogluon_task, models, competition.to_dict(), data, budget, settings.dump(), log_path,
                           name="autogluon-fit", num_cpus=cpus, memory_gb=memory_gb, max_retries=1)
    try:
        fitted = executor.result(task, timeout=max(1.0, plan.seconds_left(AUTOGLUON) + RETURN_GRACE))
    except Exception as error:  # noqa: BLE001 - a timeout or a crash: what it finished is on disk
        executor.cancel(task)
        note = "cancelled past its deadline" if "Timeout" in type(error).__name__ else \
            f"failed: {type(error).__name__}: {error}"
        log.warning("AutoGluon's fit %s; recovering the models it finished from disk", note)
        fitted = _salvage(executor, models, competition, data, log_path, plan, cpus)
        timings["autogluon"] = round(time.monotonic() - began, 3)
        recovered = "" if fitted is None else f"; {len(fitted.candidates)} models recovered from disk " \
            f"({fitted.summary['with_test_predictions']} with test predictions)"
        plan.note(AUTOGLUON, note + (recovered or "; nothing recovered"))
        return fitted
    timings["autogluon"] = round(time.monotonic() - began, 3)
    log.info("AutoGluon gave %d candidates in %.1fs", len(fitted.candidates), timings["autogluon"])
    if fitted.summary.get("fold_fitting") == DISTRIBUTED:
        from strategies.autogluon_folds import fold_nodes

        fitted.summary["fold_nodes"] = fold_nodes()
    return fitted


def _salvage(executor, models: str, competition: Competition, data: Dataset, log_path: str, plan: Plan,
             cpus: int) -> SearchResult | None:
    """The models a fit that never returned left on disk, read in a task of their own (None if none)."""
    if not any(Path(models).glob("models/*/model.pkl")):  # AutoGluon's layout: not one model was saved
        return None
    task = executor.submit(autogluon_salvage_task, models, competition.to_dict(), data, log_path,
                           name="autogluon-salvage", num_cpus=min(cpus, 1))
    try:
        return executor.result(task, timeout=max(SALVAGE_SECONDS, plan.seconds_left(LEADERBOARD_PREDICT)))
    except Exception as error:  # noqa: BLE001 - nothing recovered: the other candidates stand
        executor.cancel(task)
        log.warning("Could not recover AutoGluon's models from disk (%s: %s)", type(error).__name__, error)
        return None


def _run_studies(competition, data, settings, executor, run_dir: Path, plan: Plan, trial_cpus: int,
                 memory_gb: float, timings: dict[str, float], known: list[Candidate]) -> Found:
    """The Optuna studies until the plan's deadline for them; a study that did not run says why. Each starts
    from its cheap first trial, then from the hyperparameters of the best `known` candidate of its learner
    (AutoGluon's), then samples."""
    search = settings.search
    learners = list(search.learners)
    seconds = plan.seconds_left(OPTUNA)
    found = Found([])
    if not learners:
        plan.skip(OPTUNA, "no learners configured (search.learners)")
        return found
    if seconds < search.min_optuna_seconds:
        why = (f"no time: {max(0.0, seconds):.0f} s left before the fit deadline, under search.min_optuna_seconds "
               f"({search.min_optuna_seconds:g} s)")
        plan.skip(OPTUNA, why)
        found.summaries = [{"learner": learner, "ran": False, "why": why} for learner in learners]
        return found
    from strategies.registry import make_strategy

    with plan.run(OPTUNA):
        began = time.monotonic()
        studies = make_strategy("optuna", learners, run_dir / "studies", executor, seed=settings.run.seed,
                                keep_best=search.keep_best, cpus_per_trial=search.cpus_per_trial, known=known)
        result = studies.search(competition, data, Budget(seconds, trial_cpus, memory_gb))
        timings["optuna"] = round(time.monotonic() - began, 3)
    found.candidates += result.candidates
    for summary in result.summary["studies"]:
        learner = summary["learner"]
        found.costs[f"optuna_{learner}_cpu_seconds"] = result.summary["cpu_seconds"][learner]
        found.cost_notes[f"optuna_{learner}_cpu_seconds"] = result.summary["cpu_method"][learner]
        found.summaries.append(summary)
        log.info("Optuna %s: %s", learner, summary)
    return found


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
        blend = greedy_ensemble(pool, data.y, metric, search.ensemble_iterations, competition.problem_type,
                                scored(data.folds))
    blend.pool = {"rule": pool_rule, "candidates": len(pool)}
    log.info("Blending %d of %d candidates: %s", len(pool), len(candidates), pool_rule)
    return blend


def _predict_chosen(blend: Blend, candidates: list[Candidate], competition: Competition, data: Dataset,
                    settings: Settings, executor, run_dir: Path, plan: Plan, timings: dict[str, float]) -> Blend:
    """Test predictions for the models the blend chose that came without them (AutoGluon's), asked of their
    search before the predict deadline.

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
        began = time.monotonic()
        groups: dict[tuple[str, str], list[Candidate]] = {}  # one task per search that left predictions to make
        for candidate in missing:
            groups.setdefault((candidate.strategy, candidate.artifact), []).append(candidate)
        tasks = {executor.submit(predict_test_task, strategy, artifact, competition.to_dict(), data.X_test,
                                 [c.model for c in members], name=f"{strategy}-predict-test",
                                 num_cpus=max(1, plan.cpus - 1)): members  # one CPU is measuring
                 for (strategy, artifact), members in groups.items()}
        for task, members in tasks.items():
            try:
                predicted = executor.result(task, timeout=max(1.0, plan.seconds_left(LEADERBOARD_PREDICT)))
            except Exception as error:  # noqa: BLE001 - the blend is chosen again without them
                for other in tasks:
                    executor.cancel(other)
                plan.note(LEADERBOARD_PREDICT, f"the chosen models' test predictions did not arrive "
                                               f"({type(error).__name__}); blended again without them")
                log.warning("The chosen models' test predictions did not arrive in time (%s): blending without "
                            "them", error)
                return _blend_ready(candidates, competition, data, settings)
            for candidate in members:
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
