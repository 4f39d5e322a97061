"""The production search's candidate families, each fitted, packaged and measured as one step of the search
(strategies/production/build.py runs them in order): the linear floor, the compact study, distilled students,
fold bags (the study's and AutoGluon's), AutoGluon's CatBoost refitted, the blend and AutoGluon's options; and
what `require_onnx` keeps.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from agent.errors import BudgetError
from strategies.base import Candidate
from strategies.production.candidate import FAILED, SKIPPED, Budgets, ProductionCandidate
from strategies.production.measure import package
from strategies.production.problem import Problem

log = logging.getLogger("podium.production")
STUDENTS = 2
MIN_AUTOGLUON_SECONDS = 60.0


def linear_floor(problem: Problem, work: Path, rows, calls: int) -> ProductionCandidate:
    from strategies.production.linear import fit_linear

    try:
        fit = fit_linear(problem)
    except Exception as error:  # noqa: BLE001 - the floor failing must not stop the search
        log.warning("The linear floor failed: %s", error)
        return ProductionCandidate("linear/C1", "linear", status=FAILED, note=str(error))
    candidate = ProductionCandidate("linear/C1", "linear", params={"C": 1.0}, score=fit.score, oof=fit.oof,
                                    fit_seconds=fit.fit_seconds, oof_seconds=fit.oof_seconds)
    return package(problem, fit.runtime, candidate, work, rows, calls)


def compact_search(problem, budgets, rows, work, end, prod, executor, calls,
            skip_first_seed: bool = False) -> list[ProductionCandidate]:
    from strategies.production.gbm import SEED_PARAMS
    from strategies.production.search import search_compact

    if end.passed():
        return [ProductionCandidate("lightgbm/search", "lightgbm", status=SKIPPED, note="no time left")]
    return search_compact(problem, budgets, rows, work, end, prod.search_trials, prod.max_trees, prod.max_leaves,
                          executor=executor, calls=calls, seeds=SEED_PARAMS[1:] if skip_first_seed else None)


def exportable_to_onnx(ranked: list[ProductionCandidate]) -> list[ProductionCandidate]:
    """`production.require_onnx`: the candidates `podium export --onnx` can write; a clear error when the
    competition's features themselves cannot be (dates read as text, joins), whatever the model."""
    from agent.runtime.onnx import onnx_exportable

    verdicts = [(c, *onnx_exportable(c.folder)) for c in ranked]
    kept = [c for c, ok, _ in verdicts if ok]
    if ranked and not kept:
        raise _onnx_error(f"no candidate inside the budgets can be exported to ONNX: {verdicts[0][2]}")
    return kept


def refuse_unexportable_features(problem: Problem) -> None:
    """`production.require_onnx` on a table whose features no graph can read (dates parsed from text, joins):
    a clear error before the search, not after it."""
    from agent.runtime.onnx import schema_refusal

    refusal = schema_refusal(problem.schema)
    if refusal:
        raise _onnx_error(f"no production model of this competition can be exported to ONNX: {refusal}")


def _onnx_error(why: str) -> BudgetError:
    return BudgetError(f"production.require_onnx is set, but {why}", where="production phase (the leaderboard "
                       "submission is unaffected)", fix="drop --require-onnx (podium serve and load_model serve any "
                       "production model), or give the table numeric or categorical columns ONNX can read")


def teacher_test(leaderboard: list[Candidate], oof: np.ndarray) -> np.ndarray | None:
    for candidate in leaderboard:
        if np.shape(candidate.oof) == np.shape(oof) and np.allclose(candidate.oof, oof, equal_nan=True):
            return np.asarray(candidate.test)
    return None


def teacher_seconds(leaderboard: list[Candidate]) -> float:
    return max((c.fit_seconds for c in leaderboard), default=0.0)


def students(problem, dataset, candidates, budgets, teacher_oof, teacher_test, teacher_seconds, work, rows,
              calls, end, max_trees: int) -> list[ProductionCandidate]:
    """Students shaped like the best compact models that fit the budgets (or come nearest), and a larger one."""
    from strategies.production.distill import fit_student

    if teacher_test is None or len(dataset.X_test) == 0:
        return [ProductionCandidate("distilled", "distilled", status=SKIPPED,
                                    note="no teacher test predictions: pass leaderboard_test")]
    compact = [c for c in candidates if c.family == "lightgbm" and c.measured]
    metric = problem.metric
    fitting = sorted([c for c in compact if c.fits(budgets)], key=lambda c: -metric.signed(c.score))
    nearest = sorted([c for c in compact if not c.fits(budgets)], key=lambda c: c.excess(budgets))
    test_share = len(dataset.X_test) / max(1, len(dataset.y))
    shapes = [(c.params, student_seconds(c.fit_seconds, c.oof_seconds, test_share))
              for c in (fitting + nearest)][:STUDENTS]
    larger = larger_shape(fitting[0], budgets, max_trees) if fitting else None  # where the budget holds twice its trees
    if larger and not any((p["num_leaves"], p["n_estimators"]) == (larger[0]["num_leaves"], larger[0]["n_estimators"])
                          for p, _ in shapes):
        params, (fit, oof) = larger
        shapes.append((params, student_seconds(fit, oof, test_share)))
    X_test = problem.encode(dataset.X_test)
    out = []
    for params, expected in shapes:
        if expected >= end.remaining():
            out.append(ProductionCandidate("distilled", "distilled", status=SKIPPED,
                                           note=f"no time left: it would take about {expected:.0f} s, "
                                                f"{max(0.0, end.remaining()):.0f} s were left"))
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


def fold_bags(competition, dataset, problem, leaderboard, work, calls, end) -> list[ProductionCandidate]:
    """The leaderboard study's best LightGBM trials served as fold bags (strategies/production/fold_bag.py)."""
    from strategies.production.fold_bag import fold_bag_candidates

    return fold_bag_candidates(competition, dataset, problem, leaderboard, work, calls, end)


class AutoGluonLevel1:
    """AutoGluon's own level-1 models served without it from raw rows: its best LightGBM bags
    (strategies/production/autogluon_bags.py) and its best CatBoost bag refitted (autogluon_catboost.py). The
    predictor is loaded once, when there is one."""

    def __init__(self, competition, dataset, problem, leaderboard, path, work, calls, catboost: bool = True):
        self.competition, self.dataset, self.problem, self.leaderboard = competition, dataset, problem, leaderboard
        self.work, self.calls = work, calls
        self.predictor = self.features = self.parent = None
        self.failed: list[ProductionCandidate] = []
        if path is None or not any(c.strategy == "autogluon" for c in leaderboard):
            return
        try:
            from autogluon.tabular import TabularPredictor

            from strategies.production.autogluon_catboost import catboost_parent
            from strategies.production.autogluon_features import AutoGluonFeatures

            self.predictor = TabularPredictor.load(str(path), verbosity=0, require_py_version_match=False)
            self.features = AutoGluonFeatures.of(self.predictor, dataset)
            self.parent = catboost_parent(competition, leaderboard, self.predictor) if catboost else None
        except Exception as error:  # noqa: BLE001 - these are extras; the other candidates stand
            log.warning("AutoGluon's level-1 models could not be read: %s", error)
            self.predictor = None
            self.failed = [ProductionCandidate("autogluon-bag", "autogluon-bag", status=FAILED,
                                               note=f"{type(error).__name__}: {error}")]

    def bags(self, end, budgets: Budgets | None = None) -> list[ProductionCandidate]:
        """The best LightGBM bags; with `budgets`, one outside them also thinned to the fold models they hold."""
        if self.predictor is None:
            return self.failed
        from strategies.production.autogluon_bags import autogluon_bag_candidates

        return autogluon_bag_candidates(self.competition, self.dataset, self.problem, self.leaderboard,
                                        self.predictor, self.features, self.work, self.calls, end, budgets)

    def catboost_served(self, candidates: list[ProductionCandidate], refit_by, end) -> list[ProductionCandidate]:
        """The CatBoost bag served by `end` (autogluon_catboost.py): refitted when its out-of-fold score (which
        its served model is scored by, known before anything is fitted) beats every candidate measured so far
        and the refit is expected to end before `refit_by`; else its fold model, which costs no fitting and may
        still serve in a blend."""
        return self.catboost(end, refit_by if self._catboost_beats(candidates) else None)

    def catboost_leads(self) -> bool:
        """Whether the CatBoost bag scored better out of fold than every LightGBM bag that could serve: it is then
        served first (thinning a bag can take the seconds a short run has left)."""
        if self.predictor is None or self.parent is None:
            return False
        from strategies.production.autogluon_bags import servable_bags

        metric = self.competition.metric
        bags = servable_bags(self.leaderboard, self.predictor)
        return all(metric.signed(self.parent.score) > metric.signed(c.score) for c in bags)

    def _catboost_beats(self, candidates: list[ProductionCandidate]) -> bool:
        if self.predictor is None or self.parent is None:
            return False
        metric = self.competition.metric
        best = max((metric.signed(c.score) for c in candidates if c.measured and c.score == c.score), default=None)
        return best is None or metric.signed(self.parent.score) > best

    def catboost(self, end, refit_by=True) -> list[ProductionCandidate]:
        """The CatBoost bag refitted (before `refit_by`, `end` when True; never when None) or its fold model."""
        if self.predictor is None or self.parent is None:
            return []
        from strategies.production.autogluon_catboost import catboost_candidates

        return catboost_candidates(self.competition, self.dataset, self.problem, self.parent, self.predictor,
                                   self.features, self.work, self.calls, end if refit_by is True else refit_by, end)


def blend(problem, candidates, budgets, work, rows, calls, end, max_members) -> list[ProductionCandidate]:
    """The budget-bounded blends of the best candidates (strategies/production/blend.py), if any."""
    from strategies.production.blend import blend_candidates

    try:
        return blend_candidates(problem, candidates, budgets, work, rows, calls, end, max_members)
    except Exception as error:  # noqa: BLE001 - the blend is an extra; its members stand alone
        log.warning("The production blend failed: %s", error)
        return [ProductionCandidate("blend", "blend", status=FAILED, note=f"{type(error).__name__}: {error}")]


def student_seconds(fit_seconds: float, oof_seconds: float, test_share: float) -> float:
    """What a student is expected to take, from its hard-target twin's fit and out-of-fold seconds: its
    validation fits two models a fold (one per half of it) where the twin fits one, and the served student also
    learns from the test rows (measured on diamonds_price: a twin of 15.5 s, its student 27.3 s)."""
    return 2 * oof_seconds + fit_seconds * (1 + test_share)


def larger_shape(best: ProductionCandidate, budgets: Budgets,
                 max_trees: int) -> tuple[dict, tuple[float, float]] | None:
    """Up to twice the trees (within `max_trees`) at a learning rate lowered as much, of the best in-budget
    compact shape, when its measured p99 and size doubled still fit (trees dominate a large model's cost); its
    expected fit and out-of-fold seconds grow as its trees."""
    params = best.params
    trees = int(params.get("n_estimators", 0))
    more = min(2 * trees, max_trees)
    if more <= trees or 2 * best.latency.p99_ms > 0.8 * budgets.latency_ms or 2 * best.size_bytes > budgets.size_bytes:
        return None
    larger = {**params, "n_estimators": more, "learning_rate": params.get("learning_rate", 0.1) * trees / more}
    return larger, (more / trees * best.fit_seconds, more / trees * best.oof_seconds)


def autogluon_options(problem, path, leaderboard, leaderboard_score, budgets, rows, work, end,
                      calls, predictor=None) -> list[ProductionCandidate]:
    # Copying, loading and timing a stacked predictor takes tens of seconds before any refit: measured 64 s
    # for a 4-class best_quality fit, so these extras run only when that much time is really left.
    if end.remaining() <= MIN_AUTOGLUON_SECONDS:
        return [ProductionCandidate("autogluon", "autogluon", status=SKIPPED,
                                    note=f"less than {MIN_AUTOGLUON_SECONDS:.0f} s left for AutoGluon's options")]
    try:
        from strategies.production.autogluon_fast import autogluon_candidates

        return autogluon_candidates(problem, path, leaderboard, leaderboard_score, budgets, rows, work, end, calls,
                                    predictor)
    except Exception as error:  # noqa: BLE001 - AutoGluon's options are extras; the compact models stand
        log.warning("AutoGluon's fast options failed: %s", error)
        return [ProductionCandidate("autogluon", "autogluon", status=FAILED, note=f"{type(error).__name__}: {error}")]
