"""Gradient-boosted learners behind one function: fit on one fold, predict its held-out rows and the test set.

Each learner early-stops on an inner holdout carved from the training part, so the fold's held-out rows are
never seen while fitting and out-of-fold scores stay honest. The objective follows the competition metric
(RMSLE trains on log1p of the target, MAE on absolute error).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from agent.columns import with_encoded_names
from agent.competition.metrics import BINARY, MULTICLASS, REGRESSION
from agent.deadline import Deadline, PastDeadline

LEARNERS = ("lightgbm", "xgboost", "catboost")
# A fold model kept as text for the production fold bag (strategies/production/fold_bag.py) up to this size:
# beyond it, eight of them would not fit a production size budget anyway.
MAX_KEPT_MODEL_CHARS = 4_000_000
MAX_CATEGORY_SHARE = 0.5  # object columns with more distinct values than this share of rows are id-like


class FoldFit(NamedTuple):
    """One fold's fit: predictions for its held-out rows and the test set, trees kept, and the model as text
    when the learner can serve it (LightGBM, within MAX_KEPT_MODEL_CHARS)."""

    valid: np.ndarray
    test: np.ndarray
    trees: int
    model: str | None = None


@dataclass(frozen=True)
class Task:
    """What a learner needs to know about the problem."""

    problem_type: str
    n_classes: int
    metric_name: str
    seed: int = 0
    cpus: int = 1


def prepare_features(X: pd.DataFrame, X_test: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Categoricals as pandas categories with one shared vocabulary; id-like text columns dropped."""
    X, X_test = X.copy(), X_test.copy()
    for column in X.columns:
        series = X[column]
        if pd.api.types.is_bool_dtype(series):
            X[column], X_test[column] = series.astype(float), X_test[column].astype(float)
        elif not pd.api.types.is_numeric_dtype(series):
            if series.nunique() > MAX_CATEGORY_SHARE * len(series) and series.nunique() > 50:
                X, X_test = X.drop(columns=[column]), X_test.drop(columns=[column])
                continue
            vocabulary = pd.Index(pd.concat([series, X_test[column]]).dropna().astype(str).unique())
            dtype = pd.CategoricalDtype(vocabulary)
            X[column] = series.astype(str).where(series.notna()).astype(dtype)
            X_test[column] = X_test[column].astype(str).where(X_test[column].notna()).astype(dtype)
    return X, X_test


def _target_transform(task: Task, y: np.ndarray) -> np.ndarray:
    if task.problem_type == REGRESSION and task.metric_name == "Root Mean Squared Logarithmic Error":
        return np.log1p(np.maximum(y, 0))
    return y


def _inverse_transform(task: Task, prediction: np.ndarray) -> np.ndarray:
    if task.problem_type == REGRESSION and task.metric_name == "Root Mean Squared Logarithmic Error":
        return np.expm1(prediction)
    return prediction


def _inner_split(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    cut = max(1, int(n * 0.1))
    return order[cut:], order[:cut]


def fit_predict(learner: str, params: dict[str, Any], task: Task, X: pd.DataFrame, y: np.ndarray,
                X_valid: pd.DataFrame, X_test: pd.DataFrame,
                deadline: Deadline | None = None) -> FoldFit:
    """Fit on (X, y); return predictions for X_valid and X_test, the number of trees kept and, for LightGBM, the
    model as text.

    Past `deadline` the fit stops itself between two boosting rounds (PastDeadline): work that ends on its own
    needs no cancelling. The libraries see encoded column names (agent/columns.py): each refuses some names a
    CSV header may hold."""
    X, X_valid, X_test = (with_encoded_names(frame) for frame in (X, X_valid, X_test))
    params = dict(params)
    rounds = int(params.pop("n_estimators", 1000))
    patience = int(params.pop("early_stopping_rounds", 50))
    fit_rows, stop_rows = _inner_split(len(X), task.seed)
    target = _target_transform(task, y)
    fitter = {"lightgbm": _lightgbm, "xgboost": _xgboost, "catboost": _catboost}[learner]
    valid_pred, test_pred, trees, *model = fitter(params, task, X.iloc[fit_rows], target[fit_rows],
                                                  X.iloc[stop_rows], target[stop_rows], X_valid, X_test, rounds,
                                                  patience, deadline)
    return FoldFit(_inverse_transform(task, valid_pred), _inverse_transform(task, test_pred), trees,
                   model[0] if model else None)


def _lightgbm(params, task, X, y, X_stop, y_stop, X_valid, X_test, rounds, patience, deadline):
    from strategies.lightgbm_fit import objective_for, train

    base = {"objective": objective_for(task.problem_type, task.metric_name), "verbosity": -1, "seed": task.seed,
            "num_threads": task.cpus, "bagging_freq": 1, "max_cat_to_onehot": 8, **params}
    if task.problem_type == MULTICLASS:
        base["num_class"] = task.n_classes
    booster = train(base, X, y, rounds, stop=(X_stop, y_stop), patience=patience, deadline=deadline)
    trees = booster.best_iteration or rounds
    text = booster.model_to_string(num_iteration=trees)
    return (booster.predict(X_valid, num_iteration=trees), booster.predict(X_test, num_iteration=trees), trees,
            text if len(text) <= MAX_KEPT_MODEL_CHARS else None)


def _xgboost(params, task, X, y, X_stop, y_stop, X_valid, X_test, rounds, patience, deadline):
    import xgboost as xgb

    objective = {BINARY: "binary:logistic", MULTICLASS: "multi:softprob"}.get(task.problem_type, "reg:squarederror")
    if task.metric_name in ("Mean Absolute Error", "Mean Absolute Percentage Error"):
        objective = "reg:absoluteerror"
    base = {"objective": objective, "tree_method": "hist", "seed": task.seed, "nthread": task.cpus,
            "max_cat_to_onehot": 8, "verbosity": 0, **params}
    if task.problem_type == MULTICLASS:
        base["num_class"] = task.n_classes
    matrices = [xgb.DMatrix(frame, label=label, enable_categorical=True)
                for frame, label in ((X, y), (X_stop, y_stop), (X_valid, None), (X_test, None))]
    booster = xgb.train(base, matrices[0], num_boost_round=rounds, evals=[(matrices[1], "stop")],
                        early_stopping_rounds=patience, verbose_eval=False,
                        callbacks=[] if deadline is None else [_xgboost_deadline(deadline)])
    _raise_if_passed(deadline)
    limit = (0, booster.best_iteration + 1)
    return (booster.predict(matrices[2], iteration_range=limit), booster.predict(matrices[3], iteration_range=limit),
            booster.best_iteration + 1)


def _catboost_frame(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    frame = frame.copy()
    categorical = [c for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)]
    for column in categorical:
        frame[column] = frame[column].astype(str)
    return frame, categorical


def _catboost(params, task, X, y, X_stop, y_stop, X_valid, X_test, rounds, patience, deadline):
    from catboost import CatBoostClassifier, CatBoostRegressor

    (X, cats), (X_stop, _), (X_valid, _), (X_test, _) = map(_catboost_frame, (X, X_stop, X_valid, X_test))
    common = {"iterations": rounds, "random_seed": task.seed, "thread_count": task.cpus, "verbose": False,
              "allow_writing_files": False, "cat_features": cats, **params}
    if task.problem_type == REGRESSION:
        loss = "MAE" if task.metric_name == "Mean Absolute Error" else "RMSE"
        model = CatBoostRegressor(loss_function=loss, **common)
    else:
        model = CatBoostClassifier(loss_function="Logloss" if task.problem_type == BINARY else "MultiClass",
                                   class_names=list(range(task.n_classes)), **common)
    model.fit(X, y, eval_set=(X_stop, y_stop), early_stopping_rounds=patience,
              callbacks=None if deadline is None else [_CatBoostDeadline(deadline)])
    _raise_if_passed(deadline)
    trees = model.get_best_iteration() + 1 if model.get_best_iteration() is not None else rounds
    if task.problem_type == REGRESSION:
        return model.predict(X_valid), model.predict(X_test), trees
    valid, test = model.predict_proba(X_valid), model.predict_proba(X_test)
    if task.problem_type == BINARY:
        return valid[:, 1], test[:, 1], trees
    return valid, test, trees


def _raise_if_passed(deadline: Deadline | None) -> None:
    """XGBoost and CatBoost end their loop when a callback asks; past the deadline that is PastDeadline."""
    if deadline is not None and deadline.passed():
        raise PastDeadline("stopped between two boosting rounds: the deadline passed")


def _xgboost_deadline(deadline: Deadline):
    """An XGBoost training callback that ends the loop once the deadline has passed (after_iteration: True)."""
    import xgboost

    class StopAtDeadline(xgboost.callback.TrainingCallback):
        def after_iteration(self, model, epoch, evals_log) -> bool:
            return deadline.passed()

    return StopAtDeadline()


class _CatBoostDeadline:
    """A CatBoost callback that ends the loop once the deadline has passed (after_iteration: False)."""

    def __init__(self, deadline: Deadline):
        self.deadline = deadline

    def after_iteration(self, info) -> bool:
        return not self.deadline.passed()
