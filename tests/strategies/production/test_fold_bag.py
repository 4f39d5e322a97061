"""strategies/production/fold_bag.py: the leaderboard study's LightGBM fold models served as one candidate."""

from __future__ import annotations

import numpy as np
import pytest

from agent.deadline import Deadline
from agent.executor import LocalExecutor
from agent.runtime import load_model
from strategies.base import Budget
from strategies.optuna_search import OptunaSearch
from strategies.production.candidate import FAILED
from strategies.production.fold_bag import FAMILY, fold_bag_candidates
from strategies.production.problem import make_problem


@pytest.fixture(scope="module")
def study(hpc, tmp_path_factory):
    """A real LightGBM study on a multiclass table (categorical columns included), its best trials kept."""
    folder = tmp_path_factory.mktemp("bag-study")
    search = OptunaSearch("lightgbm", folder, LocalExecutor(), max_trials=4, keep_best=2)
    return search, search.search(hpc.competition, hpc.dataset, Budget(120, 1, 2.0))


def test_only_the_best_trials_keep_their_fold_models(study):
    search, result = study
    kept = sorted(search.study_dir.glob("lightgbm-trial-*.models.json.gz"))
    assert len(kept) == 2
    from optuna.trial import TrialState

    trials = search.open_study().get_trials(states=(TrialState.COMPLETE,))
    assert len(trials) == 4
    best = sorted(trials, key=lambda t: t.value, reverse=True)[:2]
    assert {p.name for p in kept} == {f"lightgbm-trial-{t.number:04d}.models.json.gz" for t in best}
    assert {c.fold_models for c in result.candidates if c.fold_models} == {str(p) for p in kept}


def test_the_bag_is_scored_by_its_folds_and_predicts_as_its_trial(study, hpc, tmp_path):
    _, result = study
    problem = make_problem(hpc.competition, hpc.dataset)
    bags = fold_bag_candidates(hpc.competition, hpc.dataset, problem, result.candidates, tmp_path, 200,
                               Deadline.after(60))
    assert len(bags) == 2 and all(b.family == FAMILY and b.measured for b in bags)
    trials = {f"{FAMILY}/{c.name}": c for c in result.candidates}
    for bag in bags:
        trial = trials[bag.name]
        assert bag.score == pytest.approx(hpc.competition.metric.signed(trial.score) * (
            1 if hpc.competition.metric.greater_is_better else -1), rel=1e-9)  # the OOF its folds produced
        served = load_model(bag.folder)
        np.testing.assert_allclose(served.predict_raw(hpc.dataset.X_test), trial.test, rtol=1e-6, atol=1e-9)
        one = served.predict_raw(hpc.dataset.X_test.head(1).to_dict("records")[0])
        np.testing.assert_allclose(one[0], np.asarray(trial.test)[0], rtol=1e-6)
        assert served.runtime.kind == "blend" and len(served.runtime.members) == problem.n_folds


def test_a_bag_whose_encoding_differs_from_its_study_fails_with_the_reason(study, hpc, tmp_path):
    _, result = study
    problem = make_problem(hpc.competition, hpc.dataset)
    trial = next(c for c in result.candidates if c.fold_models)
    broken = type(trial)(**{**trial.__dict__, "test": np.roll(np.asarray(trial.test), 1, axis=0)})
    bags = fold_bag_candidates(hpc.competition, hpc.dataset, problem, [broken], tmp_path, 200, Deadline.after(60))
    assert bags[0].status == FAILED and "predicts the test set differently" in bags[0].note


def test_a_fold_bag_exports_to_onnx_with_unseen_categories_as_the_study_reads_them(study, hpc, tmp_path):
    """The bag's encoder sends an unseen category to -1 (LightGBM's missing); the graph, checked against
    load_model on probe rows with unseen values before it is written, must agree."""
    from agent.runtime.onnx import export_onnx

    _, result = study
    problem = make_problem(hpc.competition, hpc.dataset)
    bag = fold_bag_candidates(hpc.competition, hpc.dataset, problem, result.candidates, tmp_path, 200,
                              Deadline.after(60))[0]
    written = export_onnx(bag.folder, tmp_path / "bag.onnx")
    assert written.path.stat().st_size > 0


def test_disagreement_is_relative_to_the_predictions_size_not_to_a_vanishing_probability():
    from strategies.production.fold_bag import AGREEMENT, disagreement

    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet([0.05] * 6, size=500)  # many near 0
    stored = probabilities + rng.uniform(-3e-8, 3e-8, probabilities.shape)  # a softmax computed in float32
    assert np.max(np.abs(probabilities - stored) / np.maximum(probabilities, 1e-9)) > 1  # per value: far apart
    assert disagreement(probabilities, stored) <= AGREEMENT
    assert disagreement(np.roll(probabilities, 1, axis=0), stored) > 0.1  # rows out of place
    values = rng.gamma(2.0, 500.0, 500)
    assert disagreement(values * (1 + 1e-7), values) <= AGREEMENT and disagreement(values + 5.0, values) > 1e-3


def test_a_served_model_is_checked_on_a_bounded_seeded_sample_of_a_large_test_set():
    """AutoGluon predicting a 75,000-row test set took minutes past the run's limit: the check reads at most
    CHECK_ROWS rows, the same ones every time, and all of a small test set."""
    import pandas as pd

    from strategies.production.fold_bag import CHECK_ROWS, checked_rows

    large = pd.DataFrame({"x": range(5 * CHECK_ROWS)})
    rows = checked_rows(large)
    assert len(rows) == CHECK_ROWS == len(set(rows)) and (np.diff(rows) > 0).all()
    assert np.array_equal(rows, checked_rows(large)) and rows.max() > CHECK_ROWS  # spread, not the first rows
    assert np.array_equal(checked_rows(large.iloc[:10]), np.arange(10))
