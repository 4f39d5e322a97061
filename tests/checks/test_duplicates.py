"""Repeated ids and rows, within train and between train and test."""

from __future__ import annotations

import pandas as pd

from agent.checks import duplicates
from tests.checks.conftest import context, split_competition, synthetic


def named(findings, name):
    return [f for f in findings if f.check == name]


def test_repeated_ids_in_train_warn_and_in_test_error():
    competition, data = split_competition(synthetic(400), "target")
    train = data.train.copy()
    train.loc[1:3, "id"] = train.loc[0, "id"]
    test = data.test.copy()
    test.loc[1, "id"] = test.loc[0, "id"]
    data = type(data)(train, test, data.sample_submission)
    findings = duplicates.check_duplicate_ids(context(competition, data))
    by_severity = {f.severity: f for f in findings}
    assert by_severity["error"].measured == {"test_repeats": 1}
    assert by_severity["warning"].measured == {"train_repeats": 3}


def test_unique_ids_raise_nothing(adult):
    assert duplicates.check_duplicate_ids(context(*adult)) == []


def test_duplicate_rows_and_conflicting_targets():
    frame = synthetic(1000)
    copies = frame.iloc[:100].copy()
    copies.loc[copies.index[:20], "target"] = copies["target"].iloc[:20].map({"yes": "no", "no": "yes"})
    test = synthetic(200, seed=5).drop(columns=["target"]).assign(id=range(10_000, 10_200))
    competition, data = split_competition(pd.concat([frame, copies], ignore_index=True), "target", test=test)
    findings = named(duplicates.check_duplicate_rows(context(competition, data)), "duplicate_rows")
    assert len(findings) == 1
    assert findings[0].severity == "warning"  # 100 of 1100 rows, over the 5% line
    assert findings[0].measured == {"repeated_rows": 100, "share": round(100 / 1100, 6),
                                    "rows_with_conflicting_targets": 40}  # 20 pairs disagree


def test_few_duplicate_rows_are_info():
    frame = synthetic(1000)
    test = synthetic(200, seed=5).drop(columns=["target"]).assign(id=range(10_000, 10_200))
    competition, data = split_competition(pd.concat([frame, frame.iloc[:10]], ignore_index=True), "target",
                                          test=test)
    findings = duplicates.check_duplicate_rows(context(competition, data))
    assert [(f.check, f.severity, f.measured["repeated_rows"]) for f in findings] == [("duplicate_rows", "info", 10)]


def test_test_rows_copied_from_train():
    competition, data = split_competition(synthetic(1000), "target")
    test = pd.concat([data.test, data.train.drop(columns=["target"]).iloc[:50].assign(id=range(10_000, 10_050))],
                     ignore_index=True)
    competition, data = split_competition(data.train, "target", test=test)
    findings = named(duplicates.check_duplicate_rows(context(competition, data)), "train_test_duplicates")
    assert len(findings) == 1 and findings[0].severity == "warning"
    assert findings[0].measured["test_rows_in_train"] == 50


def test_duplicates_found_across_int_and_float_columns():
    frame = synthetic(600).assign(count=lambda f: range(len(f)))
    competition, data = split_competition(frame, "target")
    copied = data.train.drop(columns=["target"]).iloc[:10].assign(id=range(5000, 5010))
    copied["count"] = copied["count"].astype(float)  # a CSV with a blank elsewhere reads ints as floats
    competition, data = split_competition(data.train, "target", test=pd.concat([data.test, copied]))
    findings = named(duplicates.check_duplicate_rows(context(competition, data)), "train_test_duplicates")
    assert findings and findings[0].measured["test_rows_in_train"] == 10


def test_no_duplicates_in_continuous_data():
    competition, data = split_competition(synthetic(2000), "target")
    assert duplicates.check_duplicate_rows(context(competition, data)) == []
