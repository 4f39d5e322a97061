"""Which rows each fold of the run's one fold array fits on and scores.

`folds[i]` is the fold that scores row i. Random, grouped and leave-one-block-out folds score every row, each
with models fitted on all the other folds. Forward-chaining folds (a test set later in time) score each block
of time with models fitted only on the blocks before it: the earliest block is fitted on by every fold and
scored by none (NOT_SCORED), so it has no out-of-fold prediction, and every out-of-fold score, blend weight
and threshold is taken over the scored rows only. A fold array holds NOT_SCORED only when it chains forward.
"""

from __future__ import annotations

import numpy as np

from agent.competition.metrics import Metric, score_prediction

NOT_SCORED = -1


def chains_forward(folds: np.ndarray) -> bool:
    return bool((np.asarray(folds) == NOT_SCORED).any())


def scored(folds: np.ndarray) -> np.ndarray:
    """The rows with an out-of-fold prediction (a boolean mask)."""
    return np.asarray(folds) != NOT_SCORED


def fitted_on(folds: np.ndarray, fold: int) -> np.ndarray:
    """The rows the models of `fold` are fitted on (a boolean mask): every other fold's, or, chaining forward,
    the earlier folds' and the never-scored first block's."""
    folds = np.asarray(folds)
    return (folds < fold) if chains_forward(folds) else (folds != fold)


def fold_pairs(folds: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """(rows fitted on, rows scored) per fold, as indices: AutoGluon's `custom_splits`."""
    folds = np.asarray(folds)
    return [(np.flatnonzero(fitted_on(folds, k)), np.flatnonzero(folds == k)) for k in range(int(folds.max()) + 1)]


def oof_score(metric: Metric, y: np.ndarray, oof: np.ndarray, folds: np.ndarray) -> float:
    """The out-of-fold score over the rows the folds score; a scored row without a prediction is an error (some
    metrics would score it NaN, others skip it)."""
    rows = scored(folds)
    prediction = np.asarray(oof)[rows]
    if np.issubdtype(prediction.dtype, np.floating) and np.isnan(prediction).any():
        raise ValueError(f"{int(np.isnan(prediction).reshape(len(prediction), -1).any(axis=1).sum())} scored rows "
                         "have no out-of-fold prediction")
    return score_prediction(metric, np.asarray(y)[rows], prediction)
