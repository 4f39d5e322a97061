"""The production phase: search candidates cheap to rich, measure each, choose within budgets, export.

Order and time (fractions of `time_budget_s`): a linear floor; the Optuna study of compact LightGBM models
(`search_share`, of the remaining 70% when AutoGluon's options run); distilled students of the best in-budget
shapes; AutoGluon's fast options (30%) when the leaderboard predictor's path is given; the export keeps the
last 15% (re-measurement, importance, card, plot).
"""

from __future__ import annotations

import logging
import math
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from agent.competition import Competition
from agent.dataset import Dataset
from agent.errors import BudgetError
from strategies.base import Candidate
from strategies.production.candidate import FAILED, SKIPPED, Budgets, ProductionCandidate
from strategies.production.export import ExportInputs, export
from strategies.production.measure import package, remeasure
from strategies.production.problem import Problem, latency_rows, make_problem
from strategies.production.select import choose, frontier

log = logging.getLogger("podium.production")
EXPORT_SHARE = 0.15
AUTOGLUON_SHARE = 0.3  # of the time budget, kept for AutoGluon's options when the predictor's path is given
STUDENTS = 2
REMEASURE_LIMIT = 12
MIN_AUTOGLUON_SECONDS = 60.0
QUIET_CALLS = 1000  # selection and the card time 1000 single rows: p99 of 200 calls is noisy on a busy machine


@dataclass
class ProductionResult:
    """The exported production model: where it is, what was chosen, its card, and every candidate measured."""

    out_dir: Path
    chosen: ProductionCandidate
    card: dict[str, Any]
    candidates: list[ProductionCandidate]
    budgets: Budgets
    seconds: float

    def summary(self) -> dict[str, Any]:
        """For the run manifest."""
        return {"path": str(self.out_dir), "model": self.chosen.name, "score": self.chosen.score,
                "leaderboard_score": self.card["leaderboard"]["score"],
                "score_given_up": self.card["leaderboard"]["score_given_up"],
                "p99_ms": self.card["latency"]["p99_ms_batch1"], "size_bytes": self.card["size"]["serving_bytes"],
                "within_budget": self.card["budgets"]["within_budget"], "seconds": round(self.seconds, 1),
                "candidates": len(self.candidates)}


def build_production_model(
    competition: Competition,
    dataset: Dataset,
    leaderboard_candidates: list[Candidate],
    leaderboard_oof: np.ndarray,
    leaderboard_score: float,
    out_dir: Path,
    settings: Any,
    executor: Any = None,
    autogluon_path: Path | None = None,
    time_budget_s: float = 300.0,
    leaderboard_test: np.ndarray | None = None,
) -> ProductionResult:
    """Find the best model inside the latency and size budgets and export it to `out_dir`.

    `settings` is the run's Settings (or its `production` section). `leaderboard_test` is the leaderboard model's
    test prediction (the distillation teacher's); when omitted it is taken from the candidate whose OOF
    predictions equal `leaderboard_oof`. Raises BudgetError, listing the nearest candidates, when none fits;
    nothing is written then.
    """
    if np.shape(leaderboard_oof)[:1] != (len(dataset.y),):
        raise ValueError(f"leaderboard_oof has {np.shape(leaderboard_oof)[:1]} rows; the dataset has {len(dataset.y)}")
    if time_budget_s <= 0:
        raise ValueError(f"time_budget_s must be positive, got {time_budget_s}")
    started = time.monotonic()
    deadline = started + time_budget_s
    prod = getattr(settings, "production", settings)
    run = getattr(settings, "run", None)
    seed = run.seed if run is not None else 0
    budgets = Budgets.from_settings(prod)
    out_dir = Path(out_dir)
    problem = make_problem(competition, dataset, seed=seed, unseen=prod.unseen_categories)
    rows = latency_rows(dataset, seed)
    calls = prod.latency_calls
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".production-work-", dir=out_dir.parent))
    export_reserve = max(5.0, EXPORT_SHARE * time_budget_s)
    log.info("Production phase: budgets %s, %.0f s", budgets.describe(), time_budget_s)
    try:
        candidates = [_linear(problem, work, rows, calls)]
        autogluon_share = AUTOGLUON_SHARE if (autogluon_path is not None and prod.autogluon_options
                                              and AUTOGLUON_SHARE * time_budget_s >= MIN_AUTOGLUON_SECONDS) else 0.0
        search_end = min(started + prod.search_share * (1 - autogluon_share) * time_budget_s,
                         deadline - export_reserve)
        candidates += _search(problem, budgets, rows, work, search_end, prod, executor, calls)
        log.info("Compact search done at %.1f s: %d candidates", time.monotonic() - started, len(candidates))
        teacher_test = leaderboard_test if leaderboard_test is not None else \
            _teacher_test(leaderboard_candidates, leaderboard_oof)
        if prod.distill:
            students_end = deadline - export_reserve - autogluon_share * time_budget_s
            candidates += _students(problem, dataset, candidates, budgets, leaderboard_oof, teacher_test,
                                    _teacher_seconds(leaderboard_candidates), work, rows, calls, students_end)
            log.info("Students done at %.1f s", time.monotonic() - started)
        if autogluon_share:
            candidates += _autogluon(problem, Path(autogluon_path), leaderboard_candidates, leaderboard_score,
                                     budgets, rows, work, deadline - export_reserve, calls)
            log.info("AutoGluon options done at %.1f s", time.monotonic() - started)
        search_seconds = time.monotonic() - started
        _remeasure(candidates, budgets, competition, rows, calls)
        try:
            chosen = choose(candidates, budgets, competition.metric)
        except BudgetError as error:
            error.candidates = [c.to_dict(budgets) for c in candidates]
            raise
        log.info("Chose %s", chosen.describe(competition.metric_name))
        inputs = ExportInputs(competition=competition, dataset=dataset, problem=problem, budgets=budgets, rows=rows,
                              leaderboard_score=leaderboard_score, teacher_oof=leaderboard_oof,
                              calls=max(calls, QUIET_CALLS),
                              importance_top=prod.importance_top, search_seconds=search_seconds,
                              monitor=getattr(settings, "monitor", None))
        card = export(out_dir, chosen, candidates, inputs, deadline - 0.05 * export_reserve)
        chosen.folder = out_dir
        return ProductionResult(out_dir, chosen, card, candidates, budgets, time.monotonic() - started)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _linear(problem: Problem, work: Path, rows, calls: int) -> ProductionCandidate:
    from strategies.production.linear import fit_linear

    try:
        fit = fit_linear(problem)
    except Exception as error:  # noqa: BLE001 - the floor failing must not stop the search
        log.warning("The linear floor failed: %s", error)
        return ProductionCandidate("linear/C1", "linear", status=FAILED, note=str(error))
    candidate = ProductionCandidate("linear/C1", "linear", params={"C": 1.0}, score=fit.score, oof=fit.oof,
                                    fit_seconds=fit.fit_seconds, oof_seconds=fit.oof_seconds)
    return package(problem, fit.runtime, candidate, work, rows, calls)


def _search(problem, budgets, rows, work, end, prod, executor, calls) -> list[ProductionCandidate]:
    from strategies.production.search import search_compact

    if time.monotonic() >= end:
        return [ProductionCandidate("lightgbm/search", "lightgbm", status=SKIPPED, note="no time left")]
    return search_compact(problem, budgets, rows, work, end, prod.search_trials, prod.max_trees, prod.max_leaves,
                          executor=executor, calls=calls)


def _teacher_test(leaderboard: list[Candidate], oof: np.ndarray) -> np.ndarray | None:
    for candidate in leaderboard:
        if np.shape(candidate.oof) == np.shape(oof) and np.allclose(candidate.oof, oof, equal_nan=True):
            return np.asarray(candidate.test)
    return None


def _teacher_seconds(leaderboard: list[Candidate]) -> float:
    return max((c.fit_seconds for c in leaderboard), default=0.0)


def _students(problem, dataset, candidates, budgets, teacher_oof, teacher_test, teacher_seconds, work, rows,
              calls, end) -> list[ProductionCandidate]:
    """Students shaped like the best compact models that fit the budgets (or come nearest)."""
    from strategies.production.distill import fit_student

    if teacher_test is None or len(dataset.X_test) == 0:
        return [ProductionCandidate("distilled", "distilled", status=SKIPPED,
                                    note="no teacher test predictions: pass leaderboard_test")]
    compact = [c for c in candidates if c.family == "lightgbm" and c.measured]
    metric = problem.metric
    fitting = sorted([c for c in compact if c.fits(budgets)], key=lambda c: -metric.signed(c.score))
    nearest = sorted([c for c in compact if not c.fits(budgets)], key=lambda c: c.excess(budgets))
    shapes = [c.params for c in (fitting + nearest)][:STUDENTS]
    X_test, _ = problem.encoder.encode_frame(dataset.X_test)
    out = []
    for params in shapes:
        if time.monotonic() >= end:
            out.append(ProductionCandidate("distilled", "distilled", status=SKIPPED, note="no time left"))
            break
        name = f"distilled/L{params['num_leaves']}-T{params['n_estimators']}"
        try:
            fit = fit_student(problem, params, teacher_oof, teacher_test, X_test)
        except Exception as error:  # noqa: BLE001
            log.warning("Student %s failed: %s", name, error)
            out.append(ProductionCandidate(name, "distilled", params=params, status=FAILED, note=str(error)))
            continue
        candidate = ProductionCandidate(
            name, "distilled", params=params, score=fit.score, oof=fit.oof, fit_seconds=fit.fit_seconds,
            oof_seconds=fit.oof_seconds, teacher_seconds=teacher_seconds,
            score_source="out-of-fold, cross-fitted: soft targets only from teacher predictions that never saw "
                         "the scored fold (strategies/production/distill.py)")
        out.append(package(problem, fit.runtime(), candidate, work, rows, calls))
    return out


def _autogluon(problem, path, leaderboard, leaderboard_score, budgets, rows, work, end,
               calls) -> list[ProductionCandidate]:
    # Copying, loading and timing a stacked predictor takes tens of seconds before any refit: measured 64 s
    # for a 4-class best_quality fit, so these extras run only when that much time is really left.
    if time.monotonic() + MIN_AUTOGLUON_SECONDS >= end:
        return [ProductionCandidate("autogluon", "autogluon", status=SKIPPED,
                                    note=f"less than {MIN_AUTOGLUON_SECONDS:.0f} s left for AutoGluon's options")]
    try:
        from strategies.production.autogluon_fast import autogluon_candidates

        return autogluon_candidates(problem, path, leaderboard, leaderboard_score, budgets, rows, work, end, calls)
    except Exception as error:  # noqa: BLE001 - AutoGluon's options are extras; the compact models stand
        log.warning("AutoGluon's fast options failed: %s", error)
        return [ProductionCandidate("autogluon", "autogluon", status=FAILED, note=f"{type(error).__name__}: {error}")]


def _remeasure(candidates, budgets, competition, rows, calls: int) -> None:
    """Measure again, quietly (no trials running), the candidates selection will look at."""
    front = frontier(candidates, competition.metric)
    near = [c for c in candidates if c.measured and c.excess(budgets) <= 1.5]
    picked = list({id(c): c for c in front + near if c.family != "autogluon"}.values())
    picked.sort(key=lambda c: -competition.metric.signed(c.score) if not math.isnan(c.score) else math.inf)
    for candidate in picked[:REMEASURE_LIMIT]:
        remeasure(candidate, rows, max(calls, QUIET_CALLS))
