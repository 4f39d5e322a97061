"""How well one column alone predicts the target, out of fold, on one 0..1 scale for every problem type.

The one-column model is a smoothed mean of the target per value (text) or per quantile bin (numbers),
learned on the other folds. Strength is 0 for no information and 1 for a perfect prediction:
Gini (2 AUC - 1, macro one-vs-rest for classes) for classification; the larger of R2 and |Spearman|
(the rank statistic catches a monotone leak that bins blur in a long tail) for regression.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from agent.checks.context import NUMERIC, column_kind
from agent.competition.metrics import REGRESSION, Metric, score_prediction

N_FOLDS = 3
SMOOTHING = 1.0  # prior weight: a value seen once on the other folds barely moves the prediction
MAX_AUC_CLASSES = 20  # macro AUC over the most frequent classes: a leak shows on them, and 200 AUCs cost seconds


@dataclass(frozen=True)
class Strength:
    strength: float
    statistic: str          # what `value` is: "AUC", "macro AUC" or "R2"
    value: float
    spearman: float | None  # regression on a numeric column only
    metric_score: float | None  # the competition's metric on the one-column prediction

    def measured(self) -> dict:
        out = {"strength": round(self.strength, 4), self.statistic: round(self.value, 4)}
        if self.spearman is not None:
            out["spearman"] = round(self.spearman, 4)
        if self.metric_score is not None:
            out["metric_score"] = round(self.metric_score, 6)
        return out

    def describe(self) -> str:
        text = f"{self.statistic} {self.value:.3f} out of fold"
        if self.spearman is not None and abs(self.spearman) > self.value:
            text += f", Spearman {self.spearman:.3f}"
        return text


def group_codes(values: pd.Series, bins: int) -> np.ndarray:
    """Integer group per row: a quantile bin for numbers (or the value, if few), the value for text; NaN its own."""
    if column_kind(values) == NUMERIC:
        x = values.to_numpy(dtype=float, na_value=np.nan)
        finite = np.isfinite(x)
        distinct = np.unique(x[finite])
        if len(distinct) <= bins:
            codes = np.searchsorted(distinct, x)
        else:
            edges = np.unique(np.quantile(x[finite], np.linspace(0, 1, bins + 1)[1:-1]))
            codes = np.searchsorted(edges, x, side="right")
        return np.where(finite, codes, codes.max(initial=0) + 1)
    codes, _ = pd.factorize(values, use_na_sentinel=True)
    return np.where(codes < 0, codes.max(initial=0) + 1, codes)


def oof_group_means(codes: np.ndarray, target: np.ndarray, folds: np.ndarray) -> np.ndarray:
    """Smoothed mean of a numeric target per group, learned on the other folds."""
    groups = int(codes.max()) + 1
    prior = float(target.mean())
    all_count = np.bincount(codes, minlength=groups)
    all_total = np.bincount(codes, weights=target, minlength=groups)
    prediction = np.empty(len(codes), dtype=float)
    for fold in np.unique(folds):
        mask = folds == fold
        count = all_count - np.bincount(codes[mask], minlength=groups)
        total = all_total - np.bincount(codes[mask], weights=target[mask], minlength=groups)
        prediction[mask] = ((total + SMOOTHING * prior) / (count + SMOOTHING))[codes[mask]]
    return prediction


def oof_class_shares(codes: np.ndarray, y: np.ndarray, n_classes: int, folds: np.ndarray) -> np.ndarray:
    """Smoothed share of each class per group, learned on the other folds: one (group, class) bincount per fold."""
    groups = int(codes.max()) + 1
    prior = np.bincount(y, minlength=n_classes) / len(y)

    def table(mask: np.ndarray) -> np.ndarray:
        cells = np.bincount(codes[mask] * n_classes + y[mask], minlength=groups * n_classes)
        return cells.reshape(groups, n_classes).astype(float)

    everything = table(np.ones(len(codes), dtype=bool))
    prediction = np.empty((len(codes), n_classes), dtype=float)
    for fold in np.unique(folds):
        mask = folds == fold
        other = everything - table(mask)
        shares = (other + SMOOTHING * prior) / (other.sum(axis=1) + SMOOTHING)[:, None]
        prediction[mask] = shares[codes[mask]]
    return prediction


def rank_auc(positive: np.ndarray, score: np.ndarray) -> float:
    """Mann-Whitney AUC with ties averaged; binned predictions tie a lot."""
    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = pd.Series(score).rank(method="average").to_numpy()
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def make_folds(rows: int, seed: int) -> np.ndarray:
    """Random folds from their own seed stream, so they never echo a sample drawn with the same seed."""
    return np.random.default_rng([seed, N_FOLDS]).integers(0, N_FOLDS, size=rows)


def one_feature_strength(values: pd.Series, y: np.ndarray, problem_type: str, n_classes: int, bins: int,
                         folds: np.ndarray, metric: Metric | None = None) -> Strength:
    """Score the out-of-fold prediction of `y` from `values` alone (see the module docstring)."""
    codes = group_codes(values, bins)
    if problem_type == REGRESSION:
        target = y.astype(float)
        prediction = oof_group_means(codes, target, folds)
        spread = np.sum((target - target.mean()) ** 2)
        r2 = float(1 - np.sum((target - prediction) ** 2) / spread) if spread > 0 else 0.0
        spearman = _spearman(values, target) if column_kind(values) == NUMERIC else None
        strength = max(0.0, r2, abs(spearman or 0.0))
        return Strength(strength, "R2", r2, spearman, _metric_score(metric, target, prediction))
    prediction = oof_class_shares(codes, y, n_classes, folds)
    if n_classes == 2:
        auc, statistic, for_metric = rank_auc(y == 1, prediction[:, 1]), "AUC", prediction[:, 1]
    else:
        counts = np.bincount(y, minlength=n_classes)
        scored = [k for k in np.argsort(-counts)[:MAX_AUC_CLASSES] if 0 < counts[k] < len(y)]
        aucs = [rank_auc(y == k, prediction[:, k]) for k in scored]
        auc, statistic, for_metric = float(np.mean(aucs)) if aucs else 0.5, "macro AUC", prediction
    strength = max(0.0, 2 * auc - 1) if np.isfinite(auc) else 0.0
    return Strength(strength, statistic, auc, None, _metric_score(metric, y, for_metric))


def _spearman(values: pd.Series, target: np.ndarray) -> float | None:
    x = values.to_numpy(dtype=float, na_value=np.nan)
    keep = np.isfinite(x)
    if keep.sum() < 3 or np.ptp(x[keep]) == 0 or np.ptp(target[keep]) == 0:
        return None
    ranks_x = pd.Series(x[keep]).rank().to_numpy()
    ranks_y = pd.Series(target[keep]).rank().to_numpy()
    return float(np.corrcoef(ranks_x, ranks_y)[0, 1])


def _metric_score(metric: Metric | None, y: np.ndarray, prediction: np.ndarray) -> float | None:
    if metric is None:
        return None
    try:
        score = score_prediction(metric, y, prediction)
    except (ValueError, TypeError, FloatingPointError):
        return None  # e.g. a metric undefined on these rows; the strength still stands
    return score if np.isfinite(score) else None
