import numpy as np
import pytest

import devcorpus
from agent.competition.metrics import get_metric, score_prediction
from strategies.base import Candidate
from strategies.ensemble import blend_pool, greedy_ensemble, guarded_ensemble, tune_threshold
from strategies.learners import Task, fit_predict, prepare_features


def oof_candidates(task_name: str, metric_name: str, problem_type: str, rows: int = 800):
    """Real candidates: LightGBM and XGBoost configurations fitted out-of-fold on a corpus table."""
    from sklearn.model_selection import KFold

    spec = devcorpus.TASKS[task_name]
    frame = devcorpus.load(task_name, rows=rows)
    labels = frame.pop(spec.target)
    if problem_type == "regression":
        y = labels.to_numpy(dtype=float)
    else:
        y = np.unique(labels.astype(str), return_inverse=True)[1]
    X, _ = prepare_features(frame, frame.iloc[:5])
    task = Task(problem_type, int(y.max()) + 1 if problem_type != "regression" else 1, metric_name)
    configs = [("lightgbm", {"num_leaves": 4, "learning_rate": 0.3}),
               ("lightgbm", {"num_leaves": 64, "learning_rate": 0.05, "min_child_samples": 5}),
               ("xgboost", {"max_depth": 3, "learning_rate": 0.1})]
    metric = get_metric(metric_name)
    candidates = []
    for i, (learner, params) in enumerate(configs):
        shape = (len(y), task.n_classes) if problem_type == "multiclass" else (len(y),)
        oof = np.zeros(shape)
        for train, valid in KFold(4, shuffle=True, random_state=0).split(X):
            oof[valid] = fit_predict(learner, {"n_estimators": 300, **params}, task, X.iloc[train], y[train],
                                     X.iloc[valid], X.iloc[:5]).valid
        candidates.append(Candidate(f"{learner}-{i}", learner, oof, np.zeros(5), score_prediction(metric, y, oof), 0))
    return candidates, y, metric


@pytest.mark.parametrize(("task", "metric", "problem_type"), [
    ("titanic", "Log Loss", "binary"),
    ("hpc_class", "Multiclass Log Loss", "multiclass"),
    ("diamonds_price", "RMSE", "regression"),
])
def test_blend_is_at_least_as_good_as_the_best_candidate(task, metric, problem_type):
    candidates, y, scorer = oof_candidates(task, metric, problem_type)
    best = max(candidates, key=lambda c: scorer.signed(c.score))
    folds = np.arange(len(y)) % 4
    for blend in (greedy_ensemble(candidates, y, scorer, iterations=30, problem_type=problem_type),
                  guarded_ensemble(candidates, y, folds, scorer, iterations=30, problem_type=problem_type)):
        assert not scorer.is_better(best.score, blend.score)
        assert blend.score == pytest.approx(score_prediction(scorer, y, blend.oof))
        assert sum(blend.weights.values()) == pytest.approx(1.0)
        assert set(blend.weights) <= {c.name for c in candidates}


def _near_copies(errors: float, copies: int, seed: int):
    """A calibrated binary probability, and `copies` candidates equal to it plus independent noise."""
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.05, 0.95, 1200)
    y = (rng.random(1200) < p).astype(int)
    metric = get_metric("Log Loss")
    oofs = [np.clip(p + rng.normal(0, errors, len(p)), 0.01, 0.99) for _ in range(copies)]
    return y, metric, [Candidate(f"c{i}", "x", o, o, metric.score(y, o), 0) for i, o in enumerate(oofs)]


def test_the_guard_keeps_a_blend_that_averages_independent_errors():
    """Equally good candidates with independent errors: their average is truly better, and the guard sees it."""
    y, metric, candidates = _near_copies(errors=0.15, copies=4, seed=0)
    blend = guarded_ensemble(candidates, y, np.arange(len(y)) % 5, metric, iterations=20)
    assert blend.guard["kept"] == "blend" and len(blend.weights) >= 3
    assert metric.is_better(blend.guard["blend_in_folds"], blend.guard["best_single_in_folds"])


def test_the_guard_refuses_a_blend_whose_gain_is_in_sample():
    """A candidate whose out-of-fold predictions are really in-sample on one fold (the labels themselves there,
    noise elsewhere) lifts the blend's OOF score; selected inside the folds it hurts, and is refused."""
    rng = np.random.default_rng(0)
    p = rng.uniform(0.05, 0.95, 1000)
    y = (rng.random(1000) < p).astype(int)
    folds = np.arange(1000) % 5
    metric = get_metric("Log Loss")
    honest = np.clip(p + rng.normal(0, 0.03, 1000), 0.02, 0.98)
    leaky = np.where(folds == 0, np.clip(y, 0.02, 0.98), rng.uniform(0.02, 0.98, 1000))
    candidates = [Candidate(name, "x", o, o, metric.score(y, o), 0) for name, o in (("honest", honest),
                                                                                   ("leaky", leaky))]
    assert set(greedy_ensemble(candidates, y, metric, iterations=20).weights) == {"honest", "leaky"}
    blend = guarded_ensemble(candidates, y, folds, metric, iterations=20)
    assert blend.guard["kept"] == "best single candidate"
    assert blend.weights == {"honest": 1.0}


def test_a_useless_candidate_gets_no_weight():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    good = np.clip(y * 0.7 + rng.random(500) * 0.3, 0, 1)
    noise = rng.random(500)
    metric = get_metric("AUC")
    candidates = [Candidate("noise", "x", noise, noise, metric.score(y, noise), 0),
                  Candidate("good", "x", good, good, metric.score(y, good), 0)]
    blend = greedy_ensemble(candidates, y, metric, iterations=10)
    assert blend.weights == {"good": 1.0}


def test_threshold_tuning_helps_f1_on_imbalanced_classes():
    rng = np.random.default_rng(1)
    y = (rng.random(2000) < 0.1).astype(int)
    probability = np.clip(0.05 + 0.3 * y + rng.normal(0, 0.1, 2000), 0, 1)  # positives rarely cross 0.5
    metric = get_metric("F1")
    threshold, tuned = tune_threshold(y, probability, metric)
    assert threshold < 0.5
    assert tuned > metric.score(y, (probability >= 0.5).astype(int)) + 0.1


def test_without_autogluons_choice_the_pool_keeps_what_is_not_stacked():
    """AutoGluon stacked but its best model is not a candidate: the pool is never empty, never stacked."""
    y, _, (level_one, stacked, optuna) = _near_copies(errors=0.1, copies=3, seed=1)
    level_one.strategy = stacked.strategy = "autogluon"
    level_one.stacked, stacked.stacked = False, True
    pool, rule = blend_pool([stacked, level_one, optuna])
    assert pool == [level_one, optuna] and "not stacked" in rule


def test_the_blend_is_chosen_and_scored_on_the_rows_the_forward_folds_score():
    """Forward-chaining folds leave the earliest block without out-of-fold predictions (NaN): the blend's weights,
    score and guard come from the other rows, and its OOF keeps the gap where it was."""
    y, metric, candidates = _near_copies(errors=0.15, copies=4, seed=1)
    folds = np.repeat(np.arange(-1, 5), 200)
    for candidate in candidates:
        candidate.oof = np.where(folds == -1, np.nan, candidate.oof)
    blend = guarded_ensemble(candidates, y, folds, metric, iterations=20)
    assert blend.guard["kept"] == "blend" and blend.guard["rows"] == 1000
    assert np.isnan(blend.oof[folds == -1]).all() and np.isfinite(blend.oof[folds >= 0]).all()
    assert blend.score == pytest.approx(metric.score(y[200:], blend.oof[200:]))
    plain = greedy_ensemble(candidates, y, metric, iterations=20, rows=folds >= 0)
    assert np.isfinite(plain.score) and set(plain.weights) <= {c.name for c in candidates}
