"""The data checks under a deadline: bounded on a wide table, skipped when out of time, and saying so."""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest

from agent.checks import duplicates, leakage, run_checks, shift, write_quality_report
from agent.checks import runner as quality_runner
from agent.checks.context import sample_positions
from agent.config import QualitySettings
from agent.deadline import Deadline
from tests.checks.conftest import context, split_competition, synthetic

WIDE_COLUMNS = 50_000
PER_COLUMN_CHECKS = {"constant_columns", "target_in_features", "single_feature_leak", "adversarial_validation"}


def wide_frame(columns: int, rows: int, text: int = 10, seed: int = 0) -> pd.DataFrame:
    """Random numbers and a few text columns, with a binary target none of them predicts."""
    rng = np.random.default_rng(seed)
    numeric = pd.DataFrame(rng.normal(size=(rows, columns - text)), columns=[f"f{i}" for i in range(columns - text)])
    words = pd.DataFrame({f"t{i}": rng.choice(list("abcdefgh"), size=rows) for i in range(text)})
    return pd.concat([numeric, words], axis=1).assign(target=rng.choice(["yes", "no"], size=rows))


@pytest.fixture(scope="module")
def wide():
    """50,000 feature columns, 30 train and 10 test rows."""
    return split_competition(wide_frame(WIDE_COLUMNS, 40), "target", test_fraction=0.25)


@pytest.fixture(scope="module")
def wide_run(wide):
    """The report of a 10 s deadline on the wide table, with the deadline and the moment the checks returned."""
    deadline = Deadline.after(10)
    report = run_checks(*wide, QualitySettings(), deadline=deadline)
    return report, deadline.at, time.monotonic()


def test_wide_table_finishes_inside_its_deadline_and_says_what_it_sampled(wide_run):
    report, deadline, returned = wide_run
    assert returned < deadline - 2  # inside the bound with room to spare, not just at it
    assert not [b for b in report.bounds if b.action == "skipped"]
    sampled = {b.check: b for b in report.bounds if b.deadline}
    assert set(sampled) == PER_COLUMN_CHECKS
    for bound in sampled.values():
        assert (bound.action, bound.detail) == ("sampled", "1,000 of 50,000 columns")
        assert len(bound.columns) == 1000 and set(bound.columns) <= {f"f{i}" for i in range(WIDE_COLUMNS)} | {
            f"t{i}" for i in range(10)}
    notes = [f for f in report.findings if f.measured.get("sampled")]
    assert len(notes) == len(PER_COLUMN_CHECKS) and {f.severity for f in notes} == {"info"}
    assert all("1,000 of 50,000 columns" in f.message for f in notes)
    assert report.complete is False


def test_duplicate_rows_stay_exact_on_a_wide_table(wide):
    """Row hashing is vectorised, not sampled: a copy is found whichever column would have been left out."""
    competition, data = wide
    train = pd.concat([data.train, data.train.iloc[[3, 7]]], ignore_index=True)
    test = pd.concat([data.test, data.train.drop(columns=["target"]).iloc[[5]]], ignore_index=True)
    test["id"] = np.arange(len(test)) + 10_000
    competition, data = split_competition(train, "target", test=test, shuffle=False)
    ctx = context(competition, data)
    ctx.deadline = Deadline.after(60)
    findings = {f.check: f for f in duplicates.check_duplicate_rows(ctx)}
    assert findings["duplicate_rows"].measured["repeated_rows"] == 2
    assert findings["train_test_duplicates"].measured["test_rows_in_train"] == 1
    assert ctx.bounds == []


def test_past_deadline_skips_every_check_and_records_it():
    competition, data = split_competition(synthetic(600), "target")
    report = run_checks(competition, data, QualitySettings(), deadline=Deadline.after(-1))
    checks = [check.__name__.removeprefix("check_") for check, _ in quality_runner.CHECKS]
    assert [(b.check, b.action, b.reason) for b in report.bounds] == [(c, "skipped", "deadline reached")
                                                                        for c in checks]
    assert [f.check for f in report.findings] == [names[0] for _, names in quality_runner.CHECKS]
    assert {f.severity for f in report.findings} == {"warning"}
    assert all("did not run" in f.message for f in report.findings)
    assert report.complete is False and report.seconds_allowed == 0.0


def test_a_check_out_of_time_stops_and_records_what_it_left():
    competition, data = split_competition(synthetic(600), "target")
    ctx = context(competition, data)
    ctx.deadline = Deadline.after(-1)
    assert leakage.check_single_feature_leak(ctx) == []
    (bound,) = ctx.bounds
    assert (bound.check, bound.used, bound.total) == ("single_feature_leak", 0, len(competition.features))
    assert bound.reason == "its share of the deadline ran out"


def test_adversarial_validation_out_of_time_scores_the_fold_it_fitted(adult):
    ctx = context(*adult, shift_max_rows=600)
    ctx.deadline = Deadline.after(-1)
    (finding,) = shift.check_adversarial_validation(ctx)
    assert 0.0 <= finding.measured["auc"] <= 1.0
    bounds = {b.unit: b for b in ctx.bounds if b.deadline}
    assert (bounds["rows scored out of fold"].used, bounds["rows scored out of fold"].total) == (400, 1200)
    assert bounds["trees"].used < bounds["trees"].total == 100


def test_sampled_leak_check_finds_a_planted_leak_in_its_sample_and_lists_what_it_missed():
    frame = wide_frame(3000, 400, text=0, seed=1)
    competition, data = split_competition(frame, "target")
    features = competition.features
    chosen = {features[i] for i in sample_positions(len(features), 100, 0)}
    inside = next(c for c in features if c in chosen)
    outside = next(c for c in features if c not in chosen)
    for column in (inside, outside):
        data.train[column] = (data.train["target"] == "yes") * 3.5 + 1.0  # the label, re-coded as numbers
    ctx = context(competition, data, max_columns=100)
    ctx.deadline = Deadline.after(60)
    errors = [f for f in leakage.check_single_feature_leak(ctx) if f.severity == "error"]
    assert [f.columns for f in errors] == [(inside,)]
    (bound,) = [b for b in ctx.bounds if b.unit == "columns"]
    assert (bound.used, bound.total) == (100, 3000)
    assert inside in bound.columns and outside not in bound.columns  # the record shows the leak went unexamined


def test_generous_deadline_changes_nothing_on_a_normal_table():
    competition, data = split_competition(synthetic(1500).assign(
        verdict=lambda f: np.where(f["target"] == "yes", "approved", "rejected")), "target")
    settings = QualitySettings(shift_max_rows=300, leak_max_rows=800)
    unbounded = run_checks(competition, data, settings)
    generous = run_checks(competition, data, settings, deadline=Deadline.after(600))
    assert generous.findings == unbounded.findings
    assert generous.bounds == unbounded.bounds and all(not b.deadline for b in generous.bounds)
    assert generous.complete and {b.check for b in generous.bounds} == {  # the row caps of every run, recorded
        "target_in_features", "single_feature_leak", "id_and_order", "adversarial_validation"}


def test_bounds_are_written_to_quality_json(wide_run, tmp_path):
    report, _, _ = wide_run
    content = json.loads(write_quality_report(report, tmp_path / "quality.json").read_text())
    assert content["complete"] is False and 9 < content["seconds_allowed"] <= 10
    leak = next(b for b in content["bounds"] if b["check"] == "single_feature_leak" and b["unit"] == "columns")
    assert leak["action"] == "sampled" and leak["detail"] == "1,000 of 50,000 columns" and leak["deadline"]
    assert leak["seed"] == 0 and len(leak["columns"]) == 1000
    assert {"passed", "counts", "rows", "features", "checks", "seconds", "findings"} <= set(content)
    assert content["features"] == WIDE_COLUMNS
