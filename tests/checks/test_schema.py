"""Schema checks: each on a table that triggers it and on one that does not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from agent.checks import schema
from tests.checks.conftest import context, split_competition, synthetic


def checks_named(findings, name):
    return [f for f in findings if f.check == name]


def test_column_mismatch_reports_train_only_columns():
    frame = synthetic(400)
    competition, data = split_competition(frame, "target")
    data.test.drop(columns=["x2"], inplace=True)
    competition, data = split_competition(data.train, "target", test=data.test)
    findings = schema.check_column_mismatch(context(competition, data))
    assert [f.columns for f in findings] == [("x2",)]
    assert findings[0].severity == "info"
    assert "x2" not in competition.features


def test_column_mismatch_silent_when_files_agree():
    competition, data = split_competition(synthetic(400), "target")
    assert schema.check_column_mismatch(context(competition, data)) == []


def test_type_mismatch_names_the_stray_token():
    competition, data = split_competition(synthetic(400), "target")
    test = data.test.copy()
    test["x1"] = test["x1"].astype(object)
    test.loc[:4, "x1"] = "?"
    competition, data = split_competition(data.train, "target", test=test)
    findings = schema.check_type_mismatch(context(competition, data))
    assert len(findings) == 1
    finding = findings[0]
    assert finding.severity == "error" and finding.columns == ("x1",)
    assert finding.measured["non_numeric_values"] == 5
    assert finding.measured["examples"] == ["?"]
    assert "numeric in train but text in test" in finding.message


def test_type_mismatch_accepts_int_in_train_and_float_in_test(titanic):
    competition, data = split_competition(synthetic(400).assign(n=lambda f: np.arange(len(f))), "target")
    test = data.test.assign(n=data.test["n"].astype(float))
    competition, data = split_competition(data.train, "target", test=test)
    assert schema.check_type_mismatch(context(competition, data)) == []
    assert schema.check_type_mismatch(context(*titanic)) == []


def test_constant_and_near_constant_columns():
    frame = synthetic(3000).assign(flat=7, rare=0)
    frame.loc[0, "rare"] = 1  # one row in 2250 train rows (after the split) at most
    competition, data = split_competition(frame, "target")
    findings = schema.check_constant_columns(context(competition, data))
    constant = checks_named(findings, "constant_columns")
    near = checks_named(findings, "near_constant_columns")
    assert [f.columns for f in constant] == [("flat",)] and constant[0].severity == "warning"
    assert [f.columns for f in near] == [("rare",)] and near[0].severity == "info"


def test_constant_check_silent_on_varied_columns(adult):
    assert schema.check_constant_columns(context(*adult)) == []


def test_missing_values_rate_and_train_test_gap():
    frame = synthetic(2000)
    frame["sparse"] = np.where(np.arange(2000) % 10 < 7, np.nan, 1.0)  # 70% missing everywhere
    frame["late"] = 1.0
    competition, data = split_competition(frame, "target")
    data.test.loc[: len(data.test) * 3 // 10 - 1, "late"] = np.nan  # 30% missing in test, none in train
    findings = schema.check_missing_values(context(competition, data))
    warnings = [f for f in findings if f.severity == "warning"]
    assert {f.columns for f in warnings} == {("sparse",), ("late",)}
    info = [f for f in findings if f.severity == "info"][0]
    assert info.measured["rates"]["sparse"]["train"] == pytest.approx(0.7, abs=0.02)
    assert info.measured["rates"]["late"] == {"train": 0.0, "test": 0.3}


def test_missing_values_silent_on_complete_table(diamonds):
    assert schema.check_missing_values(context(*diamonds)) == []


def test_missing_target_rows_are_counted():
    competition, data = split_competition(synthetic(400), "target")
    train = data.train.copy()
    train.loc[:9, "target"] = np.nan
    competition, data = split_competition(train, "target", test=data.test, shuffle=False)
    findings = schema.check_missing_target(context(competition, data))
    assert [f.measured["rows"] for f in findings] == [10]
    assert schema.check_missing_target(context(*split_competition(synthetic(400), "target"))) == []


def test_high_cardinality_flags_identifier_like_text(titanic):
    findings = schema.check_high_cardinality(context(*titanic))
    flagged = {f.columns[0] for f in findings}
    assert "name" in flagged and "sex" not in flagged and "embarked" not in flagged
    name = next(f for f in findings if f.columns == ("name",))
    assert name.measured["ratio"] > 0.9


def test_high_cardinality_silent_on_ordinary_categories(adult):
    assert schema.check_high_cardinality(context(*adult)) == []


def test_unseen_categories_in_test():
    competition, data = split_competition(synthetic(2000), "target")
    test = data.test.copy()
    test.loc[:49, "colour"] = "purple"  # 50 of 500 test rows: 10%
    competition, data = split_competition(data.train, "target", test=test)
    findings = schema.check_unseen_categories(context(competition, data))
    assert len(findings) == 1
    assert findings[0].severity == "warning" and findings[0].columns == ("colour",)
    assert findings[0].measured["rows"] == 50 and findings[0].measured["examples"] == ["purple"]
    assert findings[0].measured["share"] == 0.1


def test_unseen_categories_silent_when_test_categories_are_known():
    competition, data = split_competition(synthetic(2000), "target")
    assert schema.check_unseen_categories(context(competition, data)) == []


def test_unseen_categories_in_identifier_columns_stay_info(titanic):
    findings = schema.check_unseen_categories(context(*titanic))
    name = next(f for f in findings if f.columns == ("name",))
    assert name.severity == "info" and name.measured["share"] > 0.9


def test_checks_read_pandas_string_dtype():
    """pandas may load text as the `string` dtype; the checks must treat it as text, not fail."""
    frame = synthetic(600).astype({"colour": "string"})
    competition, data = split_competition(frame, "target")
    test = data.test.copy()
    test.loc[:2, "colour"] = pd.NA
    competition, data = split_competition(data.train, "target", test=test)
    ctx = context(competition, data)
    assert "colour" in ctx.text_features
    assert schema.check_type_mismatch(ctx) == []
    assert checks_named(schema.check_missing_values(ctx), "missing_values")[0].columns == ("colour",)
