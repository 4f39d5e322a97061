"""The regression models AutoGluon does not fit (log-target LightGBM, absolute-error LightGBM): which
competitions want them, and real bagged fits whose out-of-fold predictions are on the target's scale and never
come from a model that saw the row."""

from __future__ import annotations

import numpy as np
import pandas as pd
from autogluon.tabular import TabularPredictor

from strategies.autogluon import AutoGluonStrategy
from strategies.base import Budget
from strategies.target_transform import wants_absolute_error, wants_log_target
from tests.artifacts import corpus_from_folder
from tests.conftest import make_tables, write_competition
from tests.strategies.bagged import assert_folds_held_out


def skewed_competition(tmp_path, metric: str = "Root Mean Squared Error", shift: float = 0.0, target_values=None):
    frame = make_tables(360, seed=5, target_values=target_values or (lambda score: 100 * np.exp(1.5 * score) + shift))
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
    assert_folds_held_out(TabularPredictor.load(str(tmp_path / "fit")), log_models[0].model, data.dataset,
                          method="predict")


def skewed_noise(score: np.ndarray) -> np.ndarray:
    """A learnable signal plus right-skewed noise, whose median lies far below its mean."""
    return 3 * score + np.random.default_rng(7).lognormal(mean=1.0, sigma=1.2, size=len(score))


def test_only_absolute_error_metrics_on_regression_want_the_l1_lightgbm(tmp_path):
    assert wants_absolute_error(skewed_competition(tmp_path, metric="Mean Absolute Error").competition)
    assert not wants_absolute_error(skewed_competition(tmp_path, metric="Mean Absolute Percentage Error").competition)
    assert not wants_absolute_error(skewed_competition(tmp_path).competition)  # RMSE: squared error is right
    strategy = AutoGluonStrategy(tmp_path / "ag", portfolio={"stacked": ["best_quality"]}, absolute_error=True)
    data = skewed_competition(tmp_path, metric="Mean Absolute Error")
    configs = strategy._portfolio(data.competition, data.dataset, [], levels=1)
    l1 = [c for c in configs["GBM"] if c.get("objective") == "l1"]
    assert [c["ag_args"]["name_suffix"] for c in l1] == ["L1", "L1Wide"]
    assert len(configs["GBM"]) > len(l1)  # added to the portfolio's own LightGBMs, not in their place
    assert strategy._portfolio(data.competition, data.dataset, ["GBM"], levels=1).get("GBM") is None
    off = AutoGluonStrategy(tmp_path / "off", portfolio={"stacked": ["best_quality"]})
    assert not [c for c in off._portfolio(data.competition, data.dataset, [], levels=1)["GBM"] if "objective" in c]


def test_the_l1_lightgbm_learns_the_median_and_its_oof_predictions_are_honest(tmp_path):
    data = skewed_competition(tmp_path, metric="Mean Absolute Error", target_values=skewed_noise)
    quick = {"num_boost_round": 500, "ag_args": {"name_suffix": "Squared"}}  # L1 steps are small: many rounds
    only = {"GBM": [quick, {**quick, "objective": "l1", "ag_args": {"name_suffix": "L1"}}]}
    strategy = AutoGluonStrategy(tmp_path / "fit", hyperparameters=only, num_stack_levels=0, verbosity=0,
                                 fold_fitting="sequential_local")
    candidates = {c.model: c for c in strategy.search(data.competition, data.dataset, Budget(120, 1, 4.0)).candidates}
    y = data.dataset.y
    squared, l1 = candidates["LightGBMSquared_BAG_L1"].oof, candidates["LightGBML1_BAG_L1"].oof
    # squared error aims at the mean, above the noise's median; absolute error aims at the median
    assert abs(np.median(y - l1)) < abs(np.median(y - squared))
    assert np.abs(y - l1).mean() < np.abs(y - squared).mean()
    assert_folds_held_out(TabularPredictor.load(str(tmp_path / "fit")), "LightGBML1_BAG_L1", data.dataset,
                          method="predict")
