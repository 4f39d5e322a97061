"""`podium run` end to end on small competitions built from the development corpus."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from agent.competition.inference import Competition
from cli import app
from tests.grading import constant_submission, grade

runner = CliRunner()


@pytest.mark.parametrize(("task", "rows", "expected_type", "expected_format"), [
    ("titanic", 500, "binary", "probability"),
    ("hpc_class", 700, "multiclass", "class_probabilities"),
    ("deliveries", 600, "regression", "values"),
])
def test_run_writes_a_valid_submission_that_beats_a_constant(ray_local, build_corpus, tmp_path, task, rows,
                                                             expected_type, expected_format):
    folder = build_corpus(task, rows=rows)
    result = runner.invoke(app, ["run", str(folder), "--time-limit", "30", "--out", str(tmp_path), "--seed", "1"])
    assert result.exit_code == 0, result.output
    run_dir = next(p for p in (tmp_path / folder.name).iterdir())
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "succeeded" and manifest["error"] is None
    assert set(manifest["phases"]) >= {"fetch", "load", "infer", "prepare", "leaderboard", "submission"}
    assert all(p["status"] == "succeeded" for p in manifest["phases"].values())
    assert manifest["phases"]["leaderboard"]["budget_seconds"] < 30
    # AutoGluon's limit leaves its overrun and the test predictions inside its planned piece (5 s at least)
    pieces = {p["name"]: p for p in manifest["plan"]["pieces"]}
    window = pieces["autogluon"]["deadline"] - pieces["autogluon"]["actual"]["start"]
    assert 5 <= manifest["leaderboard"]["timings"]["autogluon_time_limit"] <= max(5.0, window)
    # the first submission came from the production search, before AutoGluon had finished
    first = manifest["submissions"][0]
    assert first["source"].startswith("production/") and first["at_seconds"] < pieces["autogluon"]["actual"]["end"]
    assert "autogluon.tabular" in manifest["versions"]
    competition = Competition.from_dict(manifest["competition"])
    assert (competition.problem_type, competition.submission_format) == (expected_type, expected_format)
    assert competition.provenance["evaluation_metric"].endswith("competition.yaml")
    assert competition.provenance["target"].startswith("inferred")
    assert manifest["validation"]["metric"] == competition.metric_name
    assert (run_dir / "config.yaml").is_file() and (run_dir / "podium.log").stat().st_size > 0

    sample = pd.read_csv(folder / "public" / "sample_submission.csv")
    submission = pd.read_csv(run_dir / "submission.csv")
    assert list(submission.columns) == list(sample.columns)
    assert list(submission[competition.id_column]) == list(sample[competition.id_column])
    model_score = grade(competition, folder, submission)
    constant_score = grade(competition, folder, constant_submission(competition, folder, sample))
    assert competition.metric.is_better(model_score, constant_score), (model_score, constant_score)

    from autogluon.tabular import TabularPredictor

    if not (run_dir / "models" / "autogluon.done").is_file():  # 30 s on a busy machine: stopped on time
        assert pieces["autogluon"]["actual"]["note"].startswith(("cancelled", "failed"))
        assert not any(name.startswith("autogluon/") for name in manifest["leaderboard"]["ensemble"]["weights"])
        return
    predictor = TabularPredictor.load(str(run_dir / "models"), require_py_version_match=False)
    assert predictor.label == competition.target
