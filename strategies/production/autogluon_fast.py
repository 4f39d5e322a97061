"""AutoGluon's own fast options, as candidates, from the leaderboard's saved TabularPredictor.

- the leaderboard model as a deployment clone (`clone_for_deployment`): what shipping it as-is would cost;
- `refit_full` of the leaderboard model: each bagged model collapsed into one fitted on every row;
- the model AutoGluon itself picks under `infer_limit` (the latency budget per row), refitted;
- the best single (non-ensemble) model, refitted.
The leaderboard's predictor is never modified: refits happen in a clone under the work folder. A refitted
model has no out-of-fold predictions of its own; it is scored by its bagged parent's, AutoGluon's convention.
"""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

import pandas as pd

from agent.deadline import Deadline
from agent.runtime.autogluon_runtime import AutoGluonRuntime
from strategies.base import Candidate
from strategies.production.candidate import SKIPPED, Budgets, ProductionCandidate
from strategies.production.measure import folder_name, package
from strategies.production.problem import Problem

log = logging.getLogger("podium.production")
MEASURE_SECONDS = 6.0  # cap on single-row timing of one AutoGluon candidate (it may take 100s of ms a row)
PARENT_SOURCE = "out-of-fold score of the bagged parent (AutoGluon's refit_full convention)"


def autogluon_candidates(problem: Problem, path: Path, leaderboard: list[Candidate], leaderboard_score: float,
                         budgets: Budgets, rows: pd.DataFrame, work: Path, deadline: Deadline,
                         calls: int = 200, original=None) -> list[ProductionCandidate]:
    """`original`: the predictor at `path`, when the caller has loaded it already (it is read, never changed)."""
    from autogluon.tabular import TabularPredictor

    if original is None:
        original = TabularPredictor.load(str(path), verbosity=0, require_py_version_match=False)
    parents = {c.model or c.name.split("/", 1)[-1]: c for c in leaderboard}
    best = original.model_best
    out = [_deploy(problem, original, best, "autogluon/best-deploy",
                   "AutoGluon's best model as fitted, deployment clone", parents.get(best), leaderboard_score,
                   rows, work, calls)]
    board = original.leaderboard(silent=True).set_index("model")
    singles = [m for m in board.index if board.loc[m, "stack_level"] == 1 and not m.startswith("WeightedEnsemble")]
    single = max(singles, key=lambda m: board.loc[m, "score_val"]) if singles else None
    limited, limit_note = _infer_limit_model(original, budgets.latency_ms / 1000.0)
    options = {"single": single, "infer_limit": limited, "refit_full": best}  # cheapest refit first
    if limited is None:
        out.append(ProductionCandidate("autogluon/infer_limit", "autogluon", status=SKIPPED, note=limit_note))
    targets = _affordable(board, [m for m in dict.fromkeys(options.values()) if m], problem.n_folds,
                          deadline.remaining())
    for option, model in options.items():
        if model and model not in targets and (option != "infer_limit" or limited):
            out.append(ProductionCandidate(f"autogluon/{option}", "autogluon", status=SKIPPED,
                                           note=f"not enough time left to refit {model}"))
    if not targets:
        return out
    clone_path = Path(work) / "autogluon-refit"
    started = time.monotonic()
    refit = original.clone(str(clone_path), return_clone=True)
    refit_map = refit.refit_full(model=targets, set_best_to_refit_full=False)
    refit_seconds = time.monotonic() - started
    done: set[str] = set()
    for option, model in options.items():
        full = refit_map.get(model) if model in targets else None
        if full is None or full in done:
            continue
        if deadline.passed():
            out.append(ProductionCandidate(f"autogluon/{option}", "autogluon", status=SKIPPED,
                                           note=f"{full} was refitted but no time was left to measure it"))
            continue
        done.add(full)
        # Keep the clone's "best" on the kept model: deleting the best makes AutoGluon 1.6 re-pick one, which
        # raises TypeError when refit models tie on score (their predict time is None).
        refit.set_model_best(full, save_trainer=True)
        candidate = _deploy(problem, refit, full, f"autogluon/{option}", f"{option}: {full}", parents.get(model),
                            leaderboard_score if model == best else float("nan"), rows, work, calls,
                            fit_seconds=refit_seconds, source=PARENT_SOURCE)
        out.append(candidate)
    shutil.rmtree(clone_path, ignore_errors=True)
    return out


def _affordable(board: pd.DataFrame, models: list[str], folds: int, seconds_left: float) -> list[str]:
    """Models whose refits fit the time left, cheapest first. refit_full costs about 1/k of the bagged fit
    (AutoGluon's docs; k = folds); doubled, since refit_full cannot be stopped once started."""
    cost = {m: float(board.loc[m, "fit_time"]) / folds if m in board.index else float("inf") for m in models}
    chosen: list[str] = []
    for model in sorted(models, key=cost.get):
        if 2 * (sum(cost[m] for m in chosen) + cost[model]) + MEASURE_SECONDS * (len(chosen) + 1) <= seconds_left:
            chosen.append(model)
    return chosen


def _infer_limit_model(predictor, seconds_per_row: float) -> tuple[str | None, str]:
    """AutoGluon's own pick under `infer_limit`; it needs per-row predict times recorded at fit time."""
    trainer = predictor._trainer
    recorded = trainer.get_models_attribute_full(models=trainer.get_model_names(), attribute="predict_1_time")
    if any(v is None for v in recorded.values()):
        return None, ("the leaderboard fit recorded no per-row predict times: fit AutoGluon with "
                      "infer_limit_batch_size=1 to enable infer_limit afterwards")
    try:
        return trainer.get_model_best(infer_limit=seconds_per_row, infer_limit_as_child=True), ""
    except Exception as error:  # noqa: BLE001 - AutoGluon raises when no model meets its limit
        return None, f"AutoGluon found no model under infer_limit={seconds_per_row:.4g} s/row ({error})"


def _deploy(problem: Problem, predictor, model: str, name: str, note: str, parent: Candidate | None,
            fallback_score: float, rows: pd.DataFrame, work: Path, calls: int, fit_seconds: float | None = None,
            source: str | None = None) -> ProductionCandidate:
    clone = Path(work) / f"{folder_name(name)}-clone"
    predictor.clone_for_deployment(str(clone), model=model)
    runtime = AutoGluonRuntime(clone, problem.problem_type, list(problem.output.classes), model=model)
    candidate = ProductionCandidate(
        name=name, family="autogluon", params={"model": model}, note=note,
        score=parent.score if parent is not None else fallback_score,
        oof=parent.oof if parent is not None else None,
        fit_seconds=fit_seconds if fit_seconds is not None else (parent.fit_seconds if parent else 0.0))
    if source:
        candidate.score_source = source
    package(problem, runtime, candidate, work, rows, calls, max_seconds=MEASURE_SECONDS)
    shutil.rmtree(clone, ignore_errors=True)
    return candidate
