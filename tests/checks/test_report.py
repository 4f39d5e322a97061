"""run_checks end to end: the report, quality.json, and errors that block unless allowed."""

from __future__ import annotations

import json

import numpy as np
import pytest

from agent.checks import CHECK_NAMES, QualityError, run_checks, write_quality_report
from agent.checks import runner as quality_runner
from agent.config import QualitySettings, load_settings
from agent.errors import InputError, PodiumError
from tests.checks.conftest import split_competition, synthetic


@pytest.fixture(scope="module")
def leaky():
    """A table with two planted errors: a feature that re-codes the target, and a stray '?' in test."""
    frame = synthetic(1500)
    frame["verdict"] = np.where(frame["target"] == "yes", "approved", "rejected")
    competition, data = split_competition(frame, "target")
    test = data.test.copy()
    test["x1"] = test["x1"].astype(object)
    test.loc[0, "x1"] = "?"
    return split_competition(data.train, "target", test=test)


@pytest.fixture(scope="module")
def leaky_report(leaky):
    return run_checks(*leaky, QualitySettings(shift_max_rows=500))


def test_errors_block_with_every_error_in_one_message(leaky_report):
    assert {f.check for f in leaky_report.errors} == {"single_feature_leak", "type_mismatch"}
    with pytest.raises(QualityError) as caught:
        leaky_report.raise_for_errors()
    error = caught.value
    assert isinstance(error, PodiumError) and error.exit_code == 2
    assert "[single_feature_leak] Column 'verdict'" in error.message
    assert "[type_mismatch] Column 'x1'" in error.message
    assert "--allow single_feature_leak,type_mismatch" in error.message
    assert len(error.findings) == 2


def test_allowing_one_check_still_blocks_the_other(leaky_report):
    with pytest.raises(QualityError) as caught:
        leaky_report.raise_for_errors({"single_feature_leak"})
    assert [f.check for f in caught.value.findings] == ["type_mismatch"]
    leaky_report.raise_for_errors({"single_feature_leak", "type_mismatch"})  # nothing left to block


def test_allow_given_to_run_checks_or_settings_is_remembered(leaky):
    settings = QualitySettings(allow=["type_mismatch"], shift_max_rows=300)
    report = run_checks(*leaky, settings, allow={"single_feature_leak"})
    report.raise_for_errors()
    content = report.to_dict()
    assert content["passed"] is True and content["allow"] == ["single_feature_leak", "type_mismatch"]
    assert all(f["allowed"] for f in content["findings"] if f["severity"] == "error")


def test_unknown_allow_name_is_a_clear_input_error(leaky, leaky_report):
    with pytest.raises(InputError, match="unknown data check.*'single_feature_lek'"):
        leaky_report.raise_for_errors({"single_feature_lek"})
    with pytest.raises(InputError, match="unknown data check"):
        run_checks(*leaky, QualitySettings(allow=["nonsense"]))


def test_quality_json_holds_every_finding(leaky_report, tmp_path):
    path = write_quality_report(leaky_report, tmp_path / "quality.json")
    content = json.loads(path.read_text())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["quality.json"]  # no temporary file left behind
    assert content["passed"] is False
    assert content["counts"]["error"] == 2
    assert content["rows"] == {"train": 1125, "test": 375}
    assert content["checks"] == list(CHECK_NAMES)
    assert content["seconds"]["total"] > 0
    leak = next(f for f in content["findings"] if f["check"] == "single_feature_leak")
    assert leak == {"check": "single_feature_leak", "severity": "error", "message": leak["message"],
                    "columns": ["verdict"], "measured": leak["measured"], "allowed": False}
    assert leak["measured"]["AUC"] == 1.0
    assert {f["severity"] for f in content["findings"]} <= {"info", "warning", "error"}
    assert json.loads(json.dumps(leaky_report.to_dict())) == content  # plain JSON types, no numpy left


def test_clean_real_table_passes(titanic):
    report = run_checks(*titanic, load_settings().quality)
    report.raise_for_errors()
    checks_with_findings = {f.check for f in report.findings}
    assert {"high_cardinality", "adversarial_validation"} <= checks_with_findings
    assert report.errors == []


def test_a_crashing_check_becomes_a_warning(monkeypatch, titanic):
    def broken(ctx):
        raise ValueError("boom")

    checks = [(broken if names == ("missing_target",) else check, names) for check, names in quality_runner.CHECKS]
    monkeypatch.setattr(quality_runner, "CHECKS", tuple(checks))
    report = run_checks(*titanic, QualitySettings(shift_max_rows=200))
    broken_finding = next(f for f in report.findings if f.check == "missing_target")
    assert broken_finding.severity == "warning" and "boom" in broken_finding.message
    assert any(f.check == "high_cardinality" for f in report.findings)  # the other checks still ran


def test_default_yaml_quality_section_validates():
    settings = load_settings().quality
    assert settings.leak_error >= settings.leak_warning
    assert settings.allow == []
