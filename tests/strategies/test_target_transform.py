"""The log-target LightGBM: which targets want it, and a real bagged fit whose out-of-fold predictions are on
the target's scale and never come from a model that saw the row."""

from __future__ import annotations

import numpy as np
import pandas as pd

from strategies.autogluon import AutoGluonStrategy
from strategies.base import Budget
from strategies.target_transform import wants_log_target
from tests.artifacts import corpus_from_folder
from tests.conftest import make_tables, write_competition


def skewed_competition(tmp_path, metric: str = "Root Mean Squared Error", shift: float = 0.0):
    frame = make_tables(360, seed=5, target_values=lambda score: 100 * np.exp(1.5 * score) + shift)
    train, test = frame.iloc[:300], frame.iloc[300:].drop(columns="target")
    sample = pd.DataFrame({"id": test["id"], "target": 0.0})
    folder = write_competition(tmp_path / f"skewed-{len(metric)}-{shift}", train, test, sample,
                               {"evaluation_metric": metric, "task": "regression"})
    return corpus_from_folder(folder)


def test_only_skewed_non_negative_targets_under_a_raw_scale_metric_want_it(tmp_path):
    data = skewed_competition(tmp_path)
    assert wants_log_target(data.competition, data.dataset.y)
    assert not wants_log_target(data.competition, np.log(data.dataset.y))  # no longer skewed
    assert not wants_log_target(data.competition, data.dataset.y - data.dataset.y.mean())  # negative values
    logged = skewed_competition(tmp_path, metric="Root Mean Squared Logarithmic Error")
    assert not wants_log_target(logged.competition, logged.dataset.y)  # every model already learns log1p


def test_a_skewed_target_gets_log_models_whose_oof_predictions_are_honest(tmp_path):
    data = skewed_competition(tmp_path)
    strategy = AutoGluonStrategy(tmp_path / "ag", presets="best_quality", portfolio={"single_level": ["best_quality"]},
                                 log_target=True, num_stack_levels=0, verbosity=0, fold_fitting="sequential_local")
    configs = strategy._portfolio(data.competition, data.dataset, ["NN_TORCH", "FASTAI"], levels=0)
    logged = [key for key in configs if not isinstance(key, str)]
    assert len(logged) == 1 and len(configs[logged[0]]) == 2
    # fit only the log models, quickly: the portfolio above says they are in line, this says they work
    only = {logged[0]: [dict(c, num_boost_round=60) for c in configs[logged[0]]]}
    fitted = AutoGluonStrategy(tmp_path / "fit", hyperparameters=only, num_stack_levels=0, verbosity=0,
                               fold_fitting="sequential_local")
    candidates = fitted.search(data.competition, data.dataset, Budget(120, 1, 4.0)).candidates
    log_models = [c for c in candidates if c.model.startswith("LightGBMLog")]
    assert len(log_models) == 2
    y = data.dataset.y
    for candidate in log_models:
        assert candidate.oof.min() > -1 and 0.5 < candidate.oof.mean() / y.mean() < 2  # the target's scale
        assert np.corrcoef(candidate.oof, y)[0, 1] > 0.5

    from autogluon.tabular import TabularPredictor

    predictor = TabularPredictor.load(str(tmp_path / "fit"))
    trainer = predictor._trainer
    name = log_models[0].model
    bag = trainer.load_model(name)
    features = predictor.transform_features(data.dataset.X)
    oof = trainer.get_model_oof(name)
    folds = data.dataset.folds
    assert len(bag.models) == data.dataset.n_folds
    for k, child in enumerate(bag.models):  # fold model k predicted exactly the rows it never saw
        rows = folds == k
        np.testing.assert_allclose(bag.load_child(child).predict(features[rows]), oof[rows], rtol=1e-6)
