"""Adversarial validation: a shifted test set is told apart, a random split is not."""

from __future__ import annotations

from agent.checks import shift
from tests.checks.conftest import context, split_competition, synthetic


def test_random_split_of_a_real_table_looks_alike(adult):
    findings = shift.check_adversarial_validation(context(*adult))
    assert len(findings) == 1
    finding = findings[0]
    assert finding.severity == "info"
    assert 0.4 < finding.measured["auc"] < 0.6


def test_shifted_test_set_is_a_warning_naming_the_feature(adult):
    competition, data = adult
    test = data.test.assign(age=data.test["age"] + 15)  # the test population is 15 years older
    competition, data = split_competition(data.train, competition.target, test=test)
    finding = shift.check_adversarial_validation(context(competition, data))[0]
    assert finding.severity == "warning"
    assert finding.measured["auc"] > 0.8
    top = finding.measured["top_features"][0]
    assert top["column"] == "age" and top["importance"] > 0.5 and top["alone_auc"] > 0.7
    assert "age" in finding.message


def test_shift_can_be_made_an_error(adult):
    competition, data = adult
    test = data.test.assign(age=data.test["age"] + 15)
    competition, data = split_competition(data.train, competition.target, test=test)
    finding = shift.check_adversarial_validation(context(competition, data, shift_error=0.8))[0]
    assert finding.severity == "error"


def test_row_cap_bounds_the_sample(adult):
    finding = shift.check_adversarial_validation(context(*adult, shift_max_rows=300))[0]
    assert finding.measured["train_rows"] == 300 and finding.measured["test_rows"] == 300


def test_too_few_rows_skips_with_a_reason():
    competition, data = split_competition(synthetic(60), "target", test_fraction=0.2)
    finding = shift.check_adversarial_validation(context(competition, data))[0]
    assert finding.severity == "info" and finding.message.startswith("Skipped")
