"""Kaggle's evaluation metrics: one table from Kaggle's names to a scoring function and AutoGluon's scorer.

Conventions every scoring function follows, so metrics, ensembles and graders agree:
- classification targets are integer codes 0..K-1 in the competition's class order (binary: 1 is positive);
- a ``label`` metric takes predicted codes; a ``proba`` metric takes P(class 1) for binary and an
  (n, K) matrix for multiclass; a ``value`` metric takes real-valued predictions.
Adding a metric is adding a row to ``_TABLE``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from agent.errors import InputError

Needs = Literal["label", "proba", "value"]
BINARY, MULTICLASS, REGRESSION = "binary", "multiclass", "regression"


@dataclass(frozen=True)
class Metric:
    """A competition metric: its Kaggle name, direction, what it scores, and how to compute it."""

    name: str
    greater_is_better: bool
    needs: Needs
    tasks: frozenset[str]
    score_fn: Callable[..., float] = field(repr=False, compare=False)
    ag_names: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    floor: float | None = None  # predictions below this are invalid (RMSLE: 0)
    target_rule: Literal["nonzero", "above_minus_one"] | None = None  # MAPE divides by y, RMSLE takes log(1 + y)

    def score(self, y_true, y_pred) -> float:
        y_true = np.asarray(y_true)
        y_pred = np.asarray(y_pred)
        if self.floor is not None:
            y_pred = np.maximum(y_pred, self.floor)
        return float(self.score_fn(y_true, y_pred))

    def signed(self, value: float) -> float:
        """The score on a higher-is-better scale, for maximising searches."""
        return value if self.greater_is_better else -value

    def is_better(self, a: float, b: float) -> bool:
        return self.signed(a) > self.signed(b)

    @property
    def worst(self) -> float:
        return -np.inf if self.greater_is_better else np.inf

    def ag_scorer(self, problem_type: str):
        """The AutoGluon scorer for this metric (built-in where AutoGluon has one)."""
        from autogluon.core import metrics as ag_metrics

        name = self.ag_names.get(problem_type) or self.ag_names.get("*")
        if name in _CUSTOM_AG:
            return _CUSTOM_AG[name]()
        return ag_metrics.get_metric(name, problem_type=problem_type)

    def check_target(self, values, target: str) -> None:
        """Refuse a target this metric cannot score: a zero under MAPE, a value <= -1 under RMSLE."""
        numbers = np.asarray(values, dtype=float)
        if self.target_rule is None or numbers.size == 0:
            return
        nonzero = self.target_rule == "nonzero"
        bad = int(np.sum(numbers == 0 if nonzero else numbers <= -1))
        if bad:
            what = "divides by the target" if nonzero else "takes the logarithm of 1 + the target"
            value = "= 0" if nonzero else "<= -1"
            raise InputError(
                f"The metric '{self.name}' {what}, and {bad:,} of {numbers.size:,} training rows have "
                f"'{target}' {value}: the score is undefined there",
                fix="pass a metric that fits this target with --metric (Mean Absolute Error, Root Mean Squared "
                    "Error; see `podium metrics`), or drop those rows if they are errors")

    def check_task(self, problem_type: str) -> None:
        if problem_type not in self.tasks:
            fits = ", ".join(sorted(self.tasks))
            raise InputError(
                f"The metric '{self.name}' does not fit a {problem_type} problem (it fits {fits})",
                fix=f"pass a {problem_type} metric with --metric (see `podium metrics`), "
                "or set `task` in competition.yaml if the problem type was inferred wrongly",
            )


# --- scoring functions (module level: AutoGluon pickles scorers with the predictor) ---------------

def _auc(y, p):
    from sklearn.metrics import roc_auc_score

    if p.ndim == 2:
        return roc_auc_score(y, _normalise(p), multi_class="ovr", labels=np.arange(p.shape[1]))
    return roc_auc_score(y, p)


def _normalise(p):
    p = np.clip(p.astype(float), 1e-15, 1 - 1e-15)
    return p / p.sum(axis=1, keepdims=True)


def _log_loss(y, p):
    from sklearn.metrics import log_loss

    if p.ndim == 1:
        p = np.clip(p.astype(float), 1e-15, 1 - 1e-15)
        return log_loss(y, np.column_stack([1 - p, p]), labels=[0, 1])
    return log_loss(y, _normalise(p), labels=np.arange(p.shape[1]))


def _accuracy(y, p):
    return float(np.mean(y == p))


def _f1(y, p):
    from sklearn.metrics import f1_score

    binary = set(np.unique(y)).issubset({0, 1}) and set(np.unique(p)).issubset({0, 1})
    return f1_score(y, p, average="binary" if binary else "macro", zero_division=0)


def _mcc(y, p):
    from sklearn.metrics import matthews_corrcoef

    return matthews_corrcoef(y, p)


def _qwk(y, p):
    from sklearn.metrics import cohen_kappa_score

    return cohen_kappa_score(y, p, weights="quadratic")


def _rmse(y, p):
    return float(np.sqrt(np.mean((y.astype(float) - p.astype(float)) ** 2)))


def _rmsle(y, p):
    return float(np.sqrt(np.mean((np.log1p(p.astype(float)) - np.log1p(y.astype(float))) ** 2)))


def _mse(y, p):
    return float(np.mean((y.astype(float) - p.astype(float)) ** 2))


def _mae(y, p):
    return float(np.mean(np.abs(y.astype(float) - p.astype(float))))


def _mape(y, p):
    y = y.astype(float)
    return float(np.mean(np.abs(y - p) / np.maximum(np.abs(y), np.finfo(float).eps)))


def _r2(y, p):
    from sklearn.metrics import r2_score

    return r2_score(y, p)


def _rmsle_for_ag(y, p):
    return _rmsle(np.asarray(y), np.maximum(np.asarray(p), 0))


def _ag_rmsle():
    from autogluon.core.metrics import make_scorer

    return make_scorer("root_mean_squared_log_error", _rmsle_for_ag, optimum=0, greater_is_better=False)


_CUSTOM_AG = {"root_mean_squared_log_error": _ag_rmsle}

_CLS = frozenset({BINARY, MULTICLASS})
_TABLE: list[tuple[Metric, tuple[str, ...]]] = [
    (Metric("AUC", True, "proba", _CLS, _auc, {BINARY: "roc_auc", MULTICLASS: "roc_auc_ovr"}),
     ("Area Under Receiver Operating Characteristic Curve", "ROC AUC", "AUC ROC", "roc_auc")),
    (Metric("Log Loss", False, "proba", frozenset({BINARY}), _log_loss, {"*": "log_loss"}),
     ("LogLoss", "Binary Log Loss", "Binary Cross Entropy", "log_loss")),
    (Metric("Multiclass Log Loss", False, "proba", _CLS, _log_loss, {"*": "log_loss"}),
     ("Multi Class Log Loss", "MultiLogLoss", "Multiclass Loss", "Categorical Cross Entropy")),
    (Metric("Categorization Accuracy", True, "label", _CLS, _accuracy, {"*": "accuracy"}),
     ("Accuracy", "Classification Accuracy", "accuracy_score")),
    (Metric("F1", True, "label", _CLS, _f1, {BINARY: "f1", MULTICLASS: "f1_macro"}),
     ("Mean F-Score", "F-Score", "F1 Score", "Mean F1", "Macro F1", "FScore")),
    (Metric("Matthews Correlation Coefficient", True, "label", _CLS, _mcc, {"*": "mcc"}),
     ("MCC", "Matthews Correlation")),
    (Metric("Quadratic Weighted Kappa", True, "label", _CLS, _qwk, {"*": "quadratic_kappa"}),
     ("QWK", "Quadratic Kappa", "Cohen Kappa Quadratic")),
    (Metric("Root Mean Squared Error", False, "value", frozenset({REGRESSION}), _rmse,
            {"*": "root_mean_squared_error"}),
     ("RMSE",)),
    (Metric("Root Mean Squared Logarithmic Error", False, "value", frozenset({REGRESSION}), _rmsle,
            {"*": "root_mean_squared_log_error"}, floor=0.0, target_rule="above_minus_one"),
     ("RMSLE", "Root Mean Squared Log Error")),
    (Metric("Mean Squared Error", False, "value", frozenset({REGRESSION}), _mse, {"*": "mean_squared_error"}),
     ("MSE",)),
    (Metric("Mean Absolute Error", False, "value", frozenset({REGRESSION}), _mae, {"*": "mean_absolute_error"}),
     ("MAE",)),
    (Metric("Mean Absolute Percentage Error", False, "value", frozenset({REGRESSION}), _mape,
            {"*": "mean_absolute_percentage_error"}, target_rule="nonzero"),
     ("MAPE",)),
    (Metric("R2", True, "value", frozenset({REGRESSION}), _r2, {"*": "r2"}),
     ("R2 Score", "R Squared", "Coefficient of Determination")),
]


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


_BY_KEY: dict[str, Metric] = {}
for _metric, _aliases in _TABLE:
    for _alias in (_metric.name, *_aliases):
        _BY_KEY[_key(_alias)] = _metric


def known_metrics() -> list[Metric]:
    return [metric for metric, _ in _TABLE]


def aliases(metric: Metric) -> tuple[str, ...]:
    return next(names for m, names in _TABLE if m is metric)


def get_metric(name: str) -> Metric:
    """Look up a metric by Kaggle's name or a common alias (case, spaces and punctuation ignored)."""
    metric = _BY_KEY.get(_key(name or ""))
    if metric is None:
        known = "; ".join(m.name for m in known_metrics())
        raise InputError(
            f"Unknown evaluation metric '{name}'",
            fix=f"use one of Kaggle's names: {known} (aliases such as RMSE or AUC work too)",
        )
    return metric


def default_metric(problem_type: str, wants_probabilities: bool) -> Metric:
    """Kaggle's usual choice when a competition names no metric."""
    if problem_type == REGRESSION:
        return get_metric("Root Mean Squared Error")
    if problem_type == BINARY:
        return get_metric("AUC" if wants_probabilities else "Categorization Accuracy")
    return get_metric("Multiclass Log Loss" if wants_probabilities else "Categorization Accuracy")


def to_codes(prediction, threshold: float = 0.5) -> np.ndarray:
    """Probabilities to class codes: a threshold on binary P(1), argmax over a class matrix."""
    prediction = np.asarray(prediction)
    if prediction.ndim == 1:
        return (prediction >= threshold).astype(int)
    return prediction.argmax(axis=1)


def score_prediction(metric: Metric, y_true, prediction) -> float:
    """Score a model's raw prediction (probabilities or values) in `metric`, turning it into labels if needed."""
    if metric.needs == "label":
        return metric.score(y_true, to_codes(prediction))
    return metric.score(y_true, prediction)
