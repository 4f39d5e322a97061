"""Leakage checks on planted leaks, and their silence on real corpus tables."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from agent.checks import leakage
from agent.checks.onefeature import make_folds, one_feature_strength, oof_class_shares, rank_auc
from tests.checks.conftest import context, split_competition, synthetic


def test_rank_auc_matches_scikit_learn_with_ties():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    score = rng.integers(0, 5, 500) + y  # many ties
    assert rank_auc(y == 1, score) == pytest.approx(roc_auc_score(y, score))


def test_strength_is_near_zero_for_noise_and_one_for_a_copy():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 3000)
    folds = make_folds(3000, 0)
    noise = one_feature_strength(pd.Series(rng.normal(size=3000)), y, "binary", 2, 100, folds)
    copy = one_feature_strength(pd.Series(y * 3.5 + 1), y, "binary", 2, 100, folds)
    assert noise.strength < 0.1
    assert copy.strength > 0.99 and copy.value == pytest.approx(1.0)


def test_out_of_fold_shares_never_see_their_own_row():
    y = np.array([0, 1, 2, 1] * 30)
    folds = np.arange(len(y)) % 3
    unique_codes = np.arange(len(y))  # every row its own group, like an id column
    shares = oof_class_shares(unique_codes, y, 3, folds)
    assert np.allclose(shares, np.bincount(y) / len(y))  # nothing learned: the prior everywhere
    by_label = oof_class_shares(y.copy(), y, 3, folds)
    assert (by_label.argmax(axis=1) == y).all() and by_label.sum(axis=1) == pytest.approx(1.0)


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_single_feature_leak_is_an_error_for_every_problem_type(task):
    rng = np.random.default_rng(2)
    frame = synthetic(3000)
    if task == "multiclass":
        frame["target"] = rng.choice(["a", "b", "c", "d"], size=len(frame))
        frame["leak"] = frame["target"].map({"a": 10, "b": 20, "c": 30, "d": 40}) + rng.normal(0, 1, len(frame))
    elif task == "regression":
        frame["target"] = np.exp(rng.normal(8, 1, len(frame)))  # long-tailed like prices
        frame["leak"] = np.log(frame["target"]) * 2 + rng.normal(0, 0.01, len(frame))
    else:
        frame["leak"] = np.where(frame["target"] == "yes", "Y", "N")  # a text re-coding of the label
    competition, data = split_competition(frame, "target", task=task)
    findings = leakage.check_single_feature_leak(context(competition, data))
    errors = [f for f in findings if f.severity == "error"]
    assert [f.columns for f in errors] == [("leak",)]
    assert errors[0].measured["strength"] >= 0.99
    assert "drop it" in errors[0].message and "--allow single_feature_leak" in errors[0].message


def test_strong_but_honest_feature_is_a_warning_not_an_error():
    rng = np.random.default_rng(3)
    frame = synthetic(4000)
    frame["target"] = rng.normal(size=len(frame))
    frame["strong"] = frame["target"] + rng.normal(0, 0.15, len(frame))  # Spearman about 0.985
    competition, data = split_competition(frame, "target", task="regression")
    findings = leakage.check_single_feature_leak(context(competition, data))
    assert [(f.severity, f.columns) for f in findings] == [("warning", ("strong",))]


@pytest.mark.parametrize("table", ["adult", "diamonds", "titanic"])
def test_no_leak_reported_on_real_tables(table, request):
    findings = leakage.check_single_feature_leak(context(*request.getfixturevalue(table)))
    assert [f for f in findings if f.severity == "error"] == []


def test_metric_score_of_the_one_feature_model_is_reported(adult):
    competition, data = adult
    findings = leakage.check_single_feature_leak(context(competition, data, leak_warning=0.0, leak_error=1.0))
    relationship = next(f for f in findings if f.columns == ("relationship",))
    assert 0.5 < relationship.measured["metric_score"] <= 1.0  # Categorization Accuracy of the one-column model
    assert 0.7 < relationship.measured["AUC"] < 0.9


def test_row_order_sorted_by_target_is_flagged(diamonds):
    competition, data = diamonds
    competition, data = split_competition(data.train.sort_values("price"), "price", task="regression",
                                          test=data.test, shuffle=False)
    findings = leakage.check_id_and_order(context(competition, data))
    assert "row_order_predicts_target" in {f.check for f in findings}
    order = next(f for f in findings if f.check == "row_order_predicts_target")
    assert order.severity == "warning" and order.measured["strength"] > 0.9


def test_id_assigned_by_outcome_is_flagged():
    frame = synthetic(3000).sort_values("target").reset_index(drop=True)
    frame.insert(0, "id", np.arange(len(frame)))  # ids numbered after sorting by the label
    competition, data = split_competition(frame, "target")  # rows shuffled: only the id carries the order
    findings = leakage.check_id_and_order(context(competition, data))
    assert [f.check for f in findings] == ["id_predicts_target"]


def test_shuffled_rows_and_plain_ids_are_silent(adult, diamonds):
    assert leakage.check_id_and_order(context(*adult)) == []
    assert leakage.check_id_and_order(context(*diamonds)) == []


def test_target_copy_and_target_column_in_test():
    frame = synthetic(1000)
    frame["label_copy"] = frame["target"].str.upper()  # equal up to case
    competition, data = split_competition(frame, "target")
    test = data.test.assign(target="yes")
    competition, data = split_competition(data.train, "target", test=test)
    findings = leakage.check_target_in_features(context(competition, data))
    errors = {f.columns: f for f in findings if f.severity == "error"}
    assert set(errors) == {("target",), ("label_copy",)}
    assert errors[("label_copy",)].measured["equal_share"] == 1.0
    assert errors[("target",)].measured["test_rows_with_target"] == len(test)


def test_numeric_target_copy_and_lookalike_name():
    frame = synthetic(1000).assign(target=lambda f: f["x1"] * 3 + 1)
    frame["Target "] = frame["target"].round(6)
    competition, data = split_competition(frame, "target", task="regression")
    findings = leakage.check_target_in_features(context(competition, data))
    assert {(f.severity, f.columns) for f in findings} == {("error", ("Target ",)), ("warning", ("Target ",))}


def test_no_target_copy_in_real_tables(adult, diamonds):
    assert leakage.check_target_in_features(context(*adult)) == []
    assert leakage.check_target_in_features(context(*diamonds)) == []


def test_an_entity_alias_is_judged_on_the_runs_group_folds_not_on_random_ones():
    """A column naming the entity (a name beside the id the split groups by) memorises its rows: strong on
    random folds, useless on a test set of unseen entities. The checks fold as the run does (disjoint groups),
    so it is not reported as a leak there; with the split overridden to random, the same column is."""
    rng = np.random.default_rng(3)
    people, rows_each = 100, 40
    effect = rng.normal(0, 3, people)
    person = np.repeat(np.arange(people), rows_each)
    frame = pd.DataFrame({"id": np.arange(len(person)), "person": person, "name": [f"n{p:03d}" for p in person],
                          "x": rng.normal(size=len(person)),
                          "target": effect[person] + rng.normal(0, 0.05, len(person))})
    unseen = frame["person"] >= 75
    test, train = frame[unseen].drop(columns=["target"]), frame[~unseen]
    competition, data = split_competition(train, "target", test=test, task="regression")
    split = competition.test_split
    assert split.kind == "group" and split.column in ("person", "name")
    alias = ({"person", "name"} - {split.column}).pop()
    assert alias in competition.features
    assert not [f for f in leakage.check_single_feature_leak(context(competition, data)) if alias in f.columns]
    as_random = replace(competition, split={"kind": "random"})
    flagged = [f for f in leakage.check_single_feature_leak(context(as_random, data)) if alias in f.columns]
    assert flagged and flagged[0].measured["strength"] > 0.5
