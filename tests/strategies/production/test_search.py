"""strategies/production: the Optuna study (in-process and through an executor), honest distillation, selection,
and whole builds for a multiclass and a regression competition."""

from __future__ import annotations

import json

import numpy as np
import pytest

from agent.competition.metrics import get_metric
from agent.deadline import Deadline
from agent.errors import BudgetError
from agent.executor import LocalExecutor
from agent.runtime import load_model
from strategies.production import build_production_model
from strategies.production.candidate import Budgets, ProductionCandidate
from strategies.production.problem import latency_rows, make_problem
from strategies.production.search import search_compact
from strategies.production.select import choose, frontier
from tests.artifacts import fast_settings, quick_leaderboard


class InlineExecutor(LocalExecutor):
    """The executor protocol in this process with two slots, recording what was submitted."""

    def __init__(self):
        self.submitted = []

    def total_cpus(self) -> int:
        return 2

    def submit(self, fn, *args, name=None, **kwargs):
        self.submitted.append(name)
        return super().submit(fn, *args, name=name, **kwargs)


def test_trials_run_through_an_executor_and_every_model_is_measured(titanic, tmp_path):
    problem = make_problem(titanic.competition, titanic.dataset)
    executor = InlineExecutor()
    candidates = search_compact(problem, Budgets(50.0, 50_000_000), latency_rows(titanic.dataset), tmp_path,
                                Deadline.after(60), max_trials=5, max_trees=60, max_leaves=15,
                                executor=executor)
    assert executor.submitted == ["production-trial"] * 5
    assert len(candidates) == 5 and all(c.measured for c in candidates)
    assert all(c.params["n_estimators"] <= 60 and c.params["num_leaves"] <= 15 for c in candidates)
    assert all(load_model(c.folder).predict(titanic.dataset.X.iloc[:3]).shape == (3,) for c in candidates)


def test_student_validation_never_learns_from_a_teacher_that_saw_the_scored_rows(titanic, titanic_board,
                                                                                    monkeypatch):
    """Soft targets only on rows of the validated fold (whose teacher never saw it); scored rows never trained."""
    import strategies.production.distill as distill

    problem = make_problem(titanic.competition, titanic.dataset)
    params = {"num_leaves": 7, "n_estimators": 20}
    fits = []
    real = distill.fit_booster

    def spy(problem_, params_, rows, target, soft=False):
        fits.append((rows.copy(), target.copy()))
        return real(problem_, params_, rows, target, soft)

    monkeypatch.setattr(distill, "fit_booster", spy)
    scored_everywhere = np.zeros(len(problem.y), dtype=bool)
    for _, scored in distill.validation_fits(problem, params, titanic_board.oof):
        rows, target = fits[-1]
        fold = problem.folds[scored][0]
        assert (problem.folds[scored] == fold).all()
        assert not np.intersect1d(rows, np.flatnonzero(scored)).size   # scored rows are never trained on
        soft = rows[target[rows] != problem.y[rows]]                     # rows whose target is the teacher's ...
        assert len(soft) and (problem.folds[soft] == fold).all()       # ... only from the validated fold
        scored_everywhere |= scored
    assert len(fits) == 2 * problem.n_folds and scored_everywhere.all()

    X_test = problem.encode(titanic.dataset.X_test)
    result = distill.fit_student(problem, params, titanic_board.oof, titanic_board.test, X_test)
    final_rows, final_target = fits[-1]
    assert np.isfinite(result.score) and len(final_rows) == len(problem.y) + len(X_test)  # labels + test rows
    np.testing.assert_array_equal(final_target[:len(problem.y)], problem.y)
    np.testing.assert_allclose(final_target[len(problem.y):], np.clip(titanic_board.test, 0, 1))


def _candidate(name, score, p99, size) -> ProductionCandidate:
    from agent.runtime.latency import LatencyReport

    latency = LatencyReport(p99 / 2, p99, p99 / 2, 200, 1000, 1e4, 1.0, 1.0)
    return ProductionCandidate(name, "lightgbm", score=score, latency=latency, size_bytes=size)


def test_selection_takes_the_best_score_inside_every_budget():
    metric = get_metric("AUC")
    pool = [_candidate("fast", 0.80, 0.1, 1000), _candidate("good", 0.85, 0.8, 4_000_000),
            _candidate("slow", 0.90, 3.0, 1000), _candidate("big", 0.88, 0.2, 9_000_000),
            _candidate("dominated", 0.79, 0.5, 5000)]
    assert choose(pool, Budgets(1.0, 5_000_000), metric).name == "good"
    assert choose(pool, Budgets(0.5, 5_000_000), metric).name == "fast"
    assert [c.name for c in frontier(pool, metric)] == ["fast", "big", "good", "slow"]
    with pytest.raises(BudgetError, match=r"nearest \(frontier first\): fast .*; big") as failure:
        choose(pool, Budgets(0.01, 5_000_000), metric)
    assert "raise --latency-ms" in failure.value.message
    rmse = get_metric("RMSE")  # lower is better
    assert choose([_candidate("a", 3.0, 0.1, 10), _candidate("b", 2.0, 0.1, 10)], Budgets(1, 100), rmse).name == "b"


@pytest.mark.parametrize("task", ["hpc", "ames"])
def test_whole_builds_for_multiclass_and_regression(task, request, tmp_path):
    corpus = request.getfixturevalue(task)
    board = quick_leaderboard(corpus)
    result = build_production_model(corpus.competition, corpus.dataset, [board], board.oof, board.score,
                                    tmp_path / "production", fast_settings(search_trials=3), time_budget_s=40)
    card = json.loads((result.out_dir / "model_card.json").read_text())
    assert card["validation"]["metric"] == corpus.competition.metric_name
    assert card["competition"]["submission_format"] == corpus.competition.submission_format
    served = load_model(result.out_dir).predict(corpus.dataset.X_test)
    if corpus.competition.problem_type == "multiclass":
        assert served.shape == (len(corpus.dataset.X_test), len(corpus.competition.classes))
        np.testing.assert_allclose(served.sum(axis=1), 1.0)
    else:
        assert served.ndim == 1 and (served >= 0).all()
    assert result.summary()["within_budget"] and result.seconds < 40 * 2  # the time budget holds
