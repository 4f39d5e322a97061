"""Regression models AutoGluon does not fit: a LightGBM on log1p of a skewed target, a LightGBM on absolute error.

Prices, durations and counts are often right-skewed with multiplicative structure; trees fitted on the raw
target spend their splits on the few large values. And AutoGluon's LightGBM and XGBoost learn squared error
(the mean) whatever the metric, while an absolute-error metric is won by the median (its CatBoost alone
learns MAE). Each joins AutoGluon's portfolio as more bagged models on the run's folds (out-of-fold
predictions on the target's scale), so the stack and the blend decide, in the competition's own metric,
whether they help. RMSLE already trains every model on log1p.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from autogluon.tabular.models import LGBModel

from agent.competition.inference import Competition
from agent.competition.metrics import REGRESSION

# Metrics on the target's own scale that a log-scale model may still serve well.
RAW_SCALE_METRICS = {"Root Mean Squared Error", "Mean Absolute Error", "Mean Squared Error", "R2"}
MIN_SKEW = 1.0  # sample skewness from which a target counts as right-skewed
ABSOLUTE_ERROR_METRICS = {"Mean Absolute Error"}  # won by the conditional median
# The slower, wider LightGBM each entry adds beside LightGBM's defaults.
WIDE = {"learning_rate": 0.03, "num_leaves": 64, "feature_fraction": 0.7, "min_data_in_leaf": 10}


class LogTargetLGBModel(LGBModel):
    """LightGBM fitted on log1p(y), predicting expm1 of its output; early stopping is judged on the log scale."""

    ag_key = "GBM_LOG"
    ag_name = "LightGBMLog"
    ag_priority = 85

    def _fit(self, X, y, X_val=None, y_val=None, **kwargs):
        y = np.log1p(np.clip(np.asarray(y, dtype=float), 0, None))
        if y_val is not None:
            y_val = np.log1p(np.clip(np.asarray(y_val, dtype=float), 0, None))
        return super()._fit(X, pd.Series(y), X_val=X_val, y_val=None if y_val is None else pd.Series(y_val), **kwargs)

    def _predict_proba(self, X, **kwargs) -> np.ndarray:
        return np.expm1(super()._predict_proba(X, **kwargs))


def wants_log_target(competition: Competition, y: np.ndarray) -> bool:
    """A regression target under a raw-scale metric, never negative, and right-skewed."""
    if competition.problem_type != REGRESSION or competition.metric_name not in RAW_SCALE_METRICS:
        return False
    values = np.asarray(y, dtype=float)
    if len(values) < 3 or np.nanmin(values) < 0 or np.nanstd(values) == 0:
        return False
    return float(pd.Series(values).skew()) >= MIN_SKEW


def log_target_configs(priority: float) -> dict:
    """The portfolio entry: LightGBM's defaults and a slower, wider variant, both on the log target."""
    return {LogTargetLGBModel: [
        {"ag_args": {"priority": priority}},
        {**WIDE, "ag_args": {"name_suffix": "Wide", "priority": priority - 0.5}},
    ]}


def wants_absolute_error(competition: Competition) -> bool:
    """A regression metric on absolute errors, which AutoGluon's LightGBM does not learn."""
    return competition.problem_type == REGRESSION and competition.metric_name in ABSOLUTE_ERROR_METRICS


def absolute_error_configs(priority: float) -> dict:
    """The portfolio entry: LightGBM's defaults and the wider variant, both on LightGBM's `l1` objective."""
    return {"GBM": [
        {"objective": "l1", "ag_args": {"name_suffix": "L1", "priority": priority}},
        {"objective": "l1", **WIDE, "ag_args": {"name_suffix": "L1Wide", "priority": priority - 0.5}},
    ]}


def with_models(portfolio: dict, extra: dict) -> dict:
    """`portfolio` with the configurations of `extra` added to those of the same model type."""
    combined = {kind: list(configs) for kind, configs in portfolio.items()}
    for kind, configs in extra.items():
        combined.setdefault(kind, []).extend(configs)
    return combined
