"""A LightGBM that learns log1p of a skewed, non-negative regression target: a model AutoGluon does not fit.

Prices, durations and counts are often right-skewed with multiplicative structure; trees fitted on the raw
target spend their splits on the few large values. The model joins AutoGluon's portfolio as one more bagged
model on the run's folds (its out-of-fold predictions back on the target's scale), so the stack and the blend
decide, in the competition's own metric, whether it helps. RMSLE already trains every model on log1p.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from autogluon.tabular.models import LGBModel

from agent.competition.inference import Competition
from agent.competition.metrics import REGRESSION

# Metrics on the target's own scale that a log-scale model may still serve well.
RAW_SCALE_METRICS = {"Root Mean Squared Error", "Mean Absolute Error", "Mean Squared Error",
                     "Median Absolute Error", "R2 Score"}
MIN_SKEW = 1.0  # sample skewness from which a target counts as right-skewed


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
        {"learning_rate": 0.03, "num_leaves": 64, "feature_fraction": 0.7, "min_data_in_leaf": 10,
         "ag_args": {"name_suffix": "Wide", "priority": priority - 0.5}},
    ]}
