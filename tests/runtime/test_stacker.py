"""agent/runtime/stacker.py and strategies/production/stacker.py: the logistic stacker of a classification blend."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss

from agent.runtime.runtimes import IDENTITY, SIGMOID, SOFTMAX
from agent.runtime.stacker import LogisticStacker, stack_features
from strategies.production.stacker import fit_stacker


def _members(n: int, classes: int, seed: int = 0) -> tuple[np.ndarray, list[np.ndarray]]:
    """Class codes and two members' predictions: one overconfident, one that mixes up classes 0 and 1."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    truth = np.full((n, classes), 0.2 / max(1, classes - 1))
    truth[np.arange(n), y] = 0.8
    noisy = truth * rng.uniform(0.5, 1.5, truth.shape)
    sharp = noisy ** 4 / (noisy ** 4).sum(axis=1, keepdims=True)
    swapped = noisy[:, [1, 0, *range(2, classes)]] / noisy.sum(axis=1, keepdims=True)
    if classes == 2:
        return y, [sharp[:, 1], swapped[:, 1]]
    return y, [sharp, swapped]


@pytest.mark.parametrize(("classes", "link"), [(2, SIGMOID), (4, SOFTMAX)])
def test_the_stacker_corrects_what_averaging_cannot(classes, link):
    y, members = _members(4000, classes)
    stacker = fit_stacker(members, y, link, classes)
    as_matrix = (lambda p: np.column_stack([1 - p, p])) if link == SIGMOID else (lambda p: p)
    averaged = log_loss(y, as_matrix(0.5 * members[0] + 0.5 * members[1]), labels=range(classes))
    stacked = log_loss(y, as_matrix(stacker.combine(members)), labels=range(classes))
    assert stacked < 0.8 * averaged
    # numpy's forward pass is sklearn's, to rounding
    reference = LogisticRegression(max_iter=500).fit(stack_features(members, link), y)
    expected = reference.predict_proba(stack_features(members, link))
    np.testing.assert_allclose(as_matrix(stacker.combine(members)), expected, rtol=1e-9, atol=1e-12)


def test_the_stacker_round_trips_through_its_config_and_refuses_what_it_cannot_read():
    y, members = _members(500, 3)
    stacker = fit_stacker(members, y, SOFTMAX, 3)
    again = LogisticStacker.from_config(stacker.config())
    np.testing.assert_array_equal(again.combine(members), stacker.combine(members))
    assert LogisticStacker.from_config(None) is None
    with pytest.raises(ValueError, match="reads 6 inputs, its members gave 3"):
        stacker.combine(members[:1])
    with pytest.raises(ValueError, match="unknown stacker kind"):
        LogisticStacker.from_config({"kind": "forest"})
    with pytest.raises(ValueError, match="combines classifiers"):
        stack_features(members, IDENTITY)


def test_no_stacker_when_a_class_is_missing_from_the_rows_it_is_fitted_on():
    y, members = _members(300, 3)
    rows = y != 2
    assert fit_stacker([m[rows] for m in members], y[rows], SOFTMAX, 3) is None


def test_a_member_that_is_sure_stays_finite():
    certain = [np.array([0.0, 1.0, 1.0, 0.0])]
    features = stack_features(certain, SIGMOID)
    assert np.isfinite(features).all() and features[0, 0] < -10 < 10 < features[1, 0]
