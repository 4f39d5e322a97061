"""The run's folds are AutoGluon's own level-1 folds, checked against real (tiny) AutoGluon fits."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from agent.competition.folds import NOT_SCORED, chains_forward
from agent.deadline import Deadline
from strategies.autogluon import AutoGluonStrategy
from strategies.base import Budget
from tests.artifacts import corpus_from_folder, make_corpus
from tests.conftest import make_tables, write_competition
from tests.strategies.bagged import assert_folds_held_out


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Corpus competitions built once per module, by task."""
    root, built = tmp_path_factory.mktemp("autogluon-corpus"), {}

    def get(task: str, rows: int):
        if task not in built:
            built[task] = make_corpus(task, root, rows=rows)
        return built[task]

    return get


def fit(data, path, hyperparameters, num_stack_levels=0):
    strategy = AutoGluonStrategy(path, num_stack_levels=num_stack_levels, verbosity=0,
                                 fold_fitting="sequential_local", hyperparameters=hyperparameters)
    candidates = strategy.search(data.competition, data.dataset, Budget(120, 1, 4.0)).candidates
    from autogluon.tabular import TabularPredictor

    return TabularPredictor.load(str(path)), candidates


@pytest.mark.parametrize(("task", "rows"), [("hpc_class", 400), ("ames_house", 300)])
def test_level_one_fold_models_are_the_run_folds(task, rows, corpus, tmp_path):
    """Fold model k predicts exactly the rows of the run's fold k to give AutoGluon's OOF predictions."""
    data = corpus(task, rows)
    predictor, candidates = fit(data, tmp_path / "ag", {"GBM": {"num_boost_round": 30}})
    name = next(m for m in predictor._trainer.get_model_names() if m.startswith("LightGBM"))
    assert_folds_held_out(predictor, name, data.dataset, atol=1e-9)
    assert any(c.model == name for c in candidates)


def test_random_forests_keep_their_out_of_bag_predictions(corpus, tmp_path):
    """Without `groups`, AutoGluon fits one forest and uses its out-of-bag predictions, not 5 fold forests."""
    data = corpus("hpc_class", 400)
    predictor, candidates = fit(data, tmp_path / "ag", {"RF": {"n_estimators": 40}})
    forest = next(c for c in candidates if c.model.startswith("RandomForest"))
    assert len(predictor._trainer.load_model(forest.model).models) == 1
    assert forest.oof.shape == (len(data.dataset.y), len(data.competition.classes))
    assert np.isfinite(forest.oof).all()


def test_model_types_without_their_library_are_left_out(corpus, tmp_path):
    """podium installs no fastai: asking for FASTAI must not cost a failing fit at every level."""
    from strategies.autogluon import unavailable_model_types

    if "FASTAI" not in unavailable_model_types():
        pytest.skip("fastai is installed here")
    predictor, candidates = fit(corpus("titanic", 300), tmp_path / "ag",
                                {"GBM": {"num_boost_round": 20}, "FASTAI": {}})
    assert predictor.model_failures().empty
    assert candidates and not any("FastAI" in c.name for c in candidates)


def test_a_rare_class_keeps_every_row(tmp_path):
    """A class of 4 rows (the run then has 4 folds): AutoGluon keeps it, so its OOF predictions cover every row."""
    import pandas as pd

    frame = make_tables(400, seed=3, target_values=lambda score: pd.cut(score, [-99, -0.5, 0.5, 99],
                                                                        labels=["low", "mid", "high"]).astype(str))
    frame.loc[frame.index[:4], "target"] = "rare"
    train, test = frame.iloc[:320], frame.iloc[320:].drop(columns="target")
    sample = pd.DataFrame({"id": test["id"], "target": "low"})
    data = corpus_from_folder(write_competition(tmp_path / "comp", train, test, sample,
                                                {"evaluation_metric": "Categorization Accuracy"}))
    assert data.dataset.n_folds == 4 and "rare" in data.competition.classes
    _, candidates = fit(data, tmp_path / "ag", {"GBM": {"num_boost_round": 20}})
    assert candidates, "AutoGluon's candidates were dropped: its OOF predictions missed rows"
    assert all(c.oof.shape == (320, 4) for c in candidates)


def test_stacked_models_are_flagged_and_represented_by_autogluons_choice(corpus, tmp_path):
    """Level-2 models and the ensembles above them learnt from OOF predictions; level 1 did not. Once AutoGluon
    stacked, the blend's pool holds its best model and the other strategies' candidates only."""
    from strategies.base import Candidate
    from strategies.ensemble import blend_pool

    data = corpus("hpc_class", 400)
    predictor, candidates = fit(data, tmp_path / "ag", {"GBM": {"num_boost_round": 20}, "RF": {"n_estimators": 20}},
                                num_stack_levels=1)
    levels = {c.model: (c.level, c.stacked) for c in candidates}
    assert {stacked for level, stacked in levels.values() if level == 1} == {False}
    assert levels["WeightedEnsemble_L2"] == (2, False)  # a weighted average of level-1 models
    assert levels["WeightedEnsemble_L3"] == (3, True)
    assert any(level == 2 and stacked for level, stacked in levels.values())

    other = Candidate("optuna-lightgbm/trial-0", "optuna", candidates[0].oof, candidates[0].test, 0.5, 1.0)
    pool, rule = blend_pool([*candidates, other])
    assert [c.name for c in pool] == [f"autogluon/{predictor.model_best}", other.name] and "stacked" in rule

    _, flat = fit(data, tmp_path / "flat", {"GBM": {"num_boost_round": 20}})
    assert not any(c.stacked for c in flat)
    assert blend_pool(flat)[0] == flat


def test_the_best_model_that_can_predict_the_test_set_in_time_is_the_one_predicted():
    """A model costs the test predictions of the models it needs not yet made as the fit went."""
    from types import SimpleNamespace

    from strategies.autogluon_predict import PREDICT_SAFETY
    from strategies.autogluon_predict import affordable as _affordable

    board = pd.DataFrame({"score_val": [0.90, 0.89, 0.85], "pred_time_val_marginal": [35.0, 5.0, 0.1]},
                         index=["WeightedEnsemble_L3", "LightGBM_BAG_L1", "KNN_BAG_L1"])
    data = SimpleNamespace(n_folds=8, X=range(800), X_test=range(100))  # test predictions cost the validation's
    models = list(board.index)
    members = {"WeightedEnsemble_L3": {"WeightedEnsemble_L3", "LightGBM_BAG_L1"},
               "LightGBM_BAG_L1": {"LightGBM_BAG_L1"}, "KNN_BAG_L1": {"KNN_BAG_L1"}}
    assert _affordable(board, "WeightedEnsemble_L3", models, data, None, members) == "WeightedEnsemble_L3"
    def affordable(seconds: float) -> str | None:
        return _affordable(board, "WeightedEnsemble_L3", models, data, Deadline.after(seconds), members)

    assert affordable(PREDICT_SAFETY * 40 + 5) == "WeightedEnsemble_L3"
    assert affordable(PREDICT_SAFETY * 5 + 2) == "LightGBM_BAG_L1"
    assert affordable(1) == "KNN_BAG_L1"
    assert affordable(-1) is None
    # its level-1 input predicted the test set as the fit went: the stack costs only its own top
    members["WeightedEnsemble_L3"] = {"WeightedEnsemble_L3"}
    assert affordable(PREDICT_SAFETY * 35 + 2) == "WeightedEnsemble_L3"


@pytest.mark.parametrize(("task", "rows"), [("hpc_class", 400), ("ames_house", 300), ("titanic", 300)])
def test_test_predictions_made_as_the_fit_goes_are_those_of_the_finished_predictor(task, rows, corpus, tmp_path):
    """Under a deadline every core model predicts the test set once fitted, stacked models from their inputs'
    predictions; the candidates' test predictions equal what the saved predictor gives for the same rows."""

    from autogluon.tabular import TabularPredictor

    from strategies.autogluon_predict import as_prediction as _as_prediction

    data = corpus(task, rows)
    strategy = AutoGluonStrategy(tmp_path / "ag", num_stack_levels=1, verbosity=0, fold_fitting="sequential_local",
                                 hyperparameters={"GBM": {"num_boost_round": 20}, "RF": {"n_estimators": 20}},
                                 test_models="best")
    budget = Budget(120, 1, 4.0, deadline=Deadline.after(120), predict_deadline=Deadline.after(150))
    result = strategy.search(data.competition, data.dataset, budget)
    candidates = result.candidates
    predictor = TabularPredictor.load(str(tmp_path / "ag"))
    comp, X_test = data.competition, data.dataset.X_test
    saved = predictor.predict_proba_multi(X_test) if comp.is_classification else predictor.predict_multi(X_test)
    with_test = {c.model: c.test for c in candidates if c.test is not None}
    core = [m for m in predictor.model_names() if not m.startswith("WeightedEnsemble")]
    assert set(core) <= set(with_test) and any(m.endswith("_L2") for m in core), (core, list(with_test))
    assert result.summary["test_predicted_as_fitted"] == len(core)
    for model, test in with_test.items():
        np.testing.assert_allclose(test, _as_prediction(saved[model], comp), rtol=1e-6, atol=1e-9, err_msg=model)


def test_the_chosen_model_is_timed_while_in_memory_and_the_card_keeps_it(corpus, tmp_path):
    """The fit task times the model it predicts the test set with (loading a stacked predictor again can take
    half a minute); the leaderboard figures keep that latency, and the figures task then skips its own."""
    from agent.run.figures import PARTIAL_FIGURES, keep_latency, leaderboard_figures

    data = corpus("titanic", 300)
    strategy = AutoGluonStrategy(tmp_path / "models", num_stack_levels=0, verbosity=0, test_models="best",
                                 fold_fitting="sequential_local", hyperparameters={"GBM": {"num_boost_round": 20}})
    candidates = strategy.search(data.competition, data.dataset, Budget(120, 1, 4.0)).candidates
    timed = [c for c in candidates if c.latency is not None]
    assert len(timed) == 1 and timed[0].test is not None  # the one predicted is the one timed
    latency = timed[0].latency
    assert 0 < latency["p50_ms_batch1"] <= latency["p99_ms_batch1"] and latency["calls"] >= 2
    assert "in memory" in latency["measured"] and latency["throughput_rows_s_batch1000"] > 0

    from autogluon.tabular import TabularPredictor

    from strategies.autogluon_latency import persist as _persist

    predictor = TabularPredictor.load(str(tmp_path / "models"))
    assert not _persist(predictor, timed[0].model, max_memory=1e-12)  # its files would not fit: left on disk
    assert _persist(predictor, timed[0].model) and timed[0].model in predictor._trainer.models

    keep_latency(tmp_path, candidates)
    assert (tmp_path / PARTIAL_FIGURES).is_file()
    figures = leaderboard_figures(tmp_path, {"phases": {}, "leaderboard": {}}, executor=None, measuring=None, wait=1)
    assert figures["latency"] == latency and not (tmp_path / PARTIAL_FIGURES).exists()
    from agent.run.figures import autogluon_figures

    rest = autogluon_figures(str(tmp_path / "models"), data.dataset.X.head(50), data.competition.problem_type,
                             seconds=20, top=3, latency=False)
    assert "latency" not in rest and 1 <= len(rest["top_features"]) <= 3
    from agent.run.figures import _importance

    predictor = TabularPredictor.load(str(tmp_path / "models"))
    assert _importance(predictor, time.monotonic(), top=3) == []  # out of time: no feature is shuffled
    shuffled = _importance(predictor, time.monotonic() + 60, top=100)  # in time: every feature, once
    board = predictor.leaderboard(silent=True)
    bag = predictor._trainer.load_model(board[board["stack_level"] == 1].sort_values("score_val").iloc[-1]["model"])
    from agent.columns import decoded

    assert sorted(f["feature"] for f in shuffled) == sorted(decoded(n) for n in bag.load_child(bag.models[0]).features)


def test_a_model_the_fit_lets_start_leaves_a_stack_the_test_set_can_still_be_predicted_with():
    """The deadline callback and the choice of the model that predicts the test set plan with one figure:
    whenever the callback lets a model start (its fit, then the fitted models' test predictions, before the
    deadline), the best model is still affordable once that fit is done, so no model is fitted for nothing."""
    from types import SimpleNamespace

    from strategies.autogluon_deadline import predict_reason
    from strategies.autogluon_predict import affordable as _affordable
    from strategies.autogluon_predict import predict_factor

    board = pd.DataFrame({"score_val": [0.90, 0.89], "pred_time_val_marginal": [3.5, 0.5]},
                         index=["WeightedEnsemble_L2", "LightGBM_BAG_L1"])
    members = {"WeightedEnsemble_L2": {"WeightedEnsemble_L2", "LightGBM_BAG_L1"},
               "LightGBM_BAG_L1": {"LightGBM_BAG_L1"}}
    data = SimpleNamespace(n_folds=8, X=range(800), X_test=range(1000))  # the test set costs 10x the validation
    allowed = 0
    for left in np.arange(1.5, 200.0):  # never on the boundary, where the chooser's clock has moved on
        for fit in (5.0, 20.0, 60.0):
            if predict_reason(predict_factor(data) * 4.0, fit, left) is None:
                allowed += 1
                assert _affordable(board, "WeightedEnsemble_L2", list(board.index), data,
                                   Deadline.after(left - fit), members) == "WeightedEnsemble_L2", (left, fit)
    assert allowed > 0


def test_a_parallel_fit_reuses_its_fold_workers(ray_local, corpus, tmp_path):
    """AutoGluon alone starts a Ray worker for every fold it fits in parallel; podium's fit reuses them, so
    its folds, fitted two at a time in other processes, are fitted by fewer processes than folds."""
    import os

    from tests.strategies.process_model import ProcessRecordingModel

    data = corpus("hpc_class", 400)
    strategy = AutoGluonStrategy(tmp_path / "ag", num_stack_levels=0, verbosity=0, fold_fitting="parallel_local",
                                 hyperparameters={ProcessRecordingModel: {}})
    strategy.search(data.competition, data.dataset, Budget(120, 2, 4.0))
    from autogluon.tabular import TabularPredictor

    trainer = TabularPredictor.load(str(tmp_path / "ag"))._trainer
    bag = trainer.load_model(next(m for m in trainer.get_model_names() if not m.startswith("Weighted")))
    processes = [bag.load_child(child).fitted_pid for child in bag.models]
    assert len(processes) == data.dataset.n_folds
    assert os.getpid() not in processes  # fitted in parallel, by Ray workers
    assert len(set(processes)) < len(processes), processes


@pytest.mark.parametrize("split", ["group:s", "time:date"])
def test_time_and_group_folds_are_autogluons_folds_forests_included(corpus, tmp_path, split):
    """The run's grouped or time folds are handed to AutoGluon as they are: fold model k of every bag, a
    forest's too (no out-of-bag shortcut across the folds' boundary), predicted exactly the run's fold k."""
    task = "lecture_ratings" if split.startswith("group") else "rain_forecast"
    data = corpus(task, 500)
    assert data.competition.test_split.kind == split.split(":")[0]
    levels = 1 if split.startswith("time") else 0  # asked to stack: forward-chaining folds must refuse it
    predictor, candidates = fit(data, tmp_path / "ag", {"GBM": {"num_boost_round": 20}, "RF": {"n_estimators": 20}},
                                num_stack_levels=levels)
    names = predictor._trainer.get_model_names()
    for prefix in ("LightGBM", "RandomForest"):
        name = next(m for m in names if m.startswith(prefix))
        assert_folds_held_out(predictor, name, data.dataset, method="predict", atol=1e-9)
    if split.startswith("time"):  # forward-chaining: the earliest block is never scored, and nothing stacks
        assert chains_forward(data.dataset.folds)
        oof = predictor._trainer.get_model_oof(next(m for m in names if m.startswith("LightGBM")))
        assert np.isnan(oof[data.dataset.folds == NOT_SCORED]).all()
        assert all(predictor._trainer.get_model_attribute(m, "level") == 1 for m in names
                   if not m.startswith("WeightedEnsemble"))
        assert candidates and all(np.isfinite(c.score) for c in candidates)
