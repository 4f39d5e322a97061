"""Forward-chaining folds for a test set later in time: each block of time is scored by models fitted only on
the blocks before it, the earliest block is never scored, and every out-of-fold score skips it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from agent.competition.folds import NOT_SCORED, chains_forward, fitted_on, fold_pairs, oof_score, scored
from agent.competition.metrics import get_metric, score_prediction
from agent.competition.split import GROUP_TIME, TIME, Split, structured_folds, time_values
from tests.competition.test_split import table

DATES = {"day": "%d/%m/%Y"}


def test_forward_folds_fit_each_block_on_earlier_blocks_only_and_never_score_the_first():
    frame = table(900)
    folds = structured_folds(Split(TIME, "day"), frame, frame["y"].to_numpy(), "regression", 8, 0, DATES,
                             forward=True)
    moments = time_values(frame, "day", DATES).to_numpy()
    assert chains_forward(folds) and sorted(set(folds)) == [NOT_SCORED, *range(8)]
    assert moments[folds == NOT_SCORED].max() < moments[folds == 0].min()  # the earliest block is never scored
    for k in range(8):
        fitted = fitted_on(folds, k)
        assert moments[fitted].max() < moments[folds == k].min()  # no later block is ever fitted on
        assert fitted[folds == NOT_SCORED].all() and not fitted[folds >= k].any()
    pairs = fold_pairs(folds)
    scored_once = np.concatenate([valid for _, valid in pairs])
    assert len(pairs) == 8 and sorted(scored_once) == list(np.flatnonzero(scored(folds)))


def test_leave_one_block_out_fits_on_every_other_block():
    frame = table(900)
    folds = structured_folds(Split(TIME, "day"), frame, frame["y"].to_numpy(), "regression", 8, 0, DATES)
    assert not chains_forward(folds) and scored(folds).all()
    for k in range(8):
        assert (fitted_on(folds, k) == (folds != k)).all()


def test_too_few_moments_to_chain_forward_leaves_one_block_out_instead():
    frame = table(300)
    frame["day"] = np.where(np.arange(300) < 150, "01/01/2020", "01/01/2021")  # two moments: one scored block
    folds = structured_folds(Split(TIME, "day"), frame, frame["y"].to_numpy(), "regression", 8, 0, DATES,
                             forward=True)
    assert not chains_forward(folds) and sorted(set(folds)) == [0, 1]


def test_group_time_folds_chain_forward_over_entities_in_order_of_first_appearance():
    frame = table(900)
    y = (frame["y"] > 0).astype(int).to_numpy()
    folds = structured_folds(Split(GROUP_TIME, "person", "day"), frame, y, "binary", 4, 0, DATES, forward=True)
    first = time_values(frame, "day", DATES).groupby(frame["person"]).transform("min").to_numpy()
    assert chains_forward(folds) and pd.Series(folds).groupby(frame["person"]).nunique().eq(1).all()
    for k in range(int(folds.max()) + 1):
        assert first[fitted_on(folds, k)].max() <= first[folds == k].min()


def test_the_out_of_fold_score_skips_only_the_rows_no_fold_scored():
    rng = np.random.default_rng(0)
    folds = np.repeat([NOT_SCORED, 0, 1, 2], 50)
    y = rng.normal(size=200)
    oof = y + rng.normal(scale=0.5, size=200)
    oof[folds == NOT_SCORED] = np.nan
    metric = get_metric("Root Mean Squared Error")
    assert oof_score(metric, y, oof, folds) == score_prediction(metric, y[50:], oof[50:])
    oof[60] = np.nan  # a scored row without a prediction is an error, not a row to skip
    with pytest.raises(ValueError):
        oof_score(metric, y, oof, folds)
