"""`podium run SLUG --kaggle-endpoint URL --submit` end to end: list, download, run, submit, poll, leaderboard."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from agent.arena.grading import grade_file
from agent.kaggle.client import KaggleRemote
from agent.sources import KaggleSource
from cli import app

runner = CliRunner()


def test_run_submit_and_the_leaderboard_agree_with_local_grading(ray_local, arena, alice, settings, tmp_path,
                                                                 kaggle_home):
    result = runner.invoke(app, ["run", "titanic", "--kaggle-endpoint", arena.url, "--submit", "--time-limit", "25",
                                 "--out", str(tmp_path / "runs"), "--seed", "1"])
    assert result.exit_code == 0, result.output
    run_dir = next((tmp_path / "runs" / "titanic").iterdir())
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "succeeded" and manifest["kaggle_endpoint"] == arena.url
    assert manifest["host_metadata"]["title"].startswith("Titanic") and manifest["host_metadata"]["source"] == "kaggle"
    assert manifest["competition"]["provenance"]["evaluation_metric"] == "kaggle"

    record = manifest["submission"]
    assert record["status"] == "COMPLETE" and record["ref"] > 0
    local = grade_file(arena.catalog.get("titanic"), run_dir / "submission.csv")
    assert record["public_score"] == local.public and record["public_score"] > 0.7  # a real model beats 0.5
    assert "leaderboard" in result.output and "COMPLETE" in result.output

    board = KaggleRemote(arena.url, settings).leaderboard("titanic")
    assert [(row.team_name, float(row.score)) for row in board] == [("alice", local.public)]

    # The run cached the files under HOME; a second fetch uses them without downloading again.
    assert len(arena.store.downloads("titanic")) == 1
    again = KaggleSource("titanic", endpoint=arena.url).fetch()
    assert str(again.files["train"]) == manifest["competition_files"]["train"]
    assert len(arena.store.downloads("titanic")) == 1
    assert str(kaggle_home) in manifest["competition_files"]["train"]

    resubmit = runner.invoke(app, ["submit", str(run_dir)])
    assert resubmit.exit_code == 2 and "already submitted" in resubmit.output
