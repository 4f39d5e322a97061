"""submit_run against a real arena: validate, check limits, upload, poll, record; never twice by accident."""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from typer.testing import CliRunner

from agent.arena.grading import grade_file
from agent.competition.inference import infer_competition
from agent.competition.submission import build_submission, write_submission
from agent.competition.tables import read_competition
from agent.errors import RemoteError, SubmissionError
from agent.kaggle.client import KaggleRemote
from agent.kaggle.submit import submit_run
from agent.rundir import Run
from agent.sources import KaggleSource
from cli import app
from tests.arena.helpers import set_declared


@pytest.fixture
def finished_run(arena, alice, settings, tmp_path):
    """A run directory as `podium run titanic --kaggle-endpoint URL` leaves it (a simple model, no fit)."""
    fetched = KaggleSource("titanic", endpoint=arena.url, settings=settings).fetch()
    data = read_competition(fetched.files["train"], fetched.files["test"], fetched.files["sample_submission"])
    competition = infer_competition("titanic", data, fetched.declared, metadata=fetched.metadata)
    run = Run.create(tmp_path / "runs", "titanic", source="titanic", kaggle_endpoint=arena.url)
    test = data.test
    prediction = np.where(test["sex"] == "female", 0.7, 0.2) + 0.01 * test["pclass"].rank(pct=True).to_numpy()
    frame = build_submission(competition, data.sample_submission, test[competition.id_column], prediction)
    path = write_submission(frame, competition, data.sample_submission, run.file("submission.csv"))
    run.update(competition=competition.to_dict(), host_metadata=fetched.metadata, artifacts={"submission": str(path)},
               competition_files={k: str(v) for k, v in fetched.files.items()},
               validation={"metric": "AUC", "score": 0.8, "model": "sex-rule"})
    run.succeed()
    return run


def _manifest(run) -> dict:
    return json.loads(run.file("manifest.json").read_text())


def test_submit_records_the_score_that_local_grading_gives(finished_run, arena, settings, competitions):
    record = submit_run(finished_run.path, message="first", settings=settings)
    assert record["status"] == "COMPLETE" and record["ref"] > 0 and record["error"] is None
    assert record["endpoint"] == arena.url and record["message"] == "first"
    assert _manifest(finished_run)["submission"] == record

    competition = arena.catalog.get("titanic")
    local = grade_file(competition, finished_run.file("submission.csv"))
    assert record["public_score"] == local.public  # exactly: the score travels with every digit
    assert record["private_score"] is None  # hidden until the deadline

    answers = pd.read_csv(competitions / "titanic" / "private" / "answers.csv")
    merged = answers.merge(pd.read_csv(finished_run.file("submission.csv")), on="id", suffixes=("", "_p"))
    public = merged[merged["Usage"] == "Public"]
    assert record["public_score"] == pytest.approx(roc_auc_score(public["survived"], public["survived_p"]),
                                                   abs=1e-12)
    assert 0.6 < record["public_score"] < 1.0

    board = KaggleRemote(arena.url, settings).leaderboard("titanic")
    assert [(row.team_name, float(row.score)) for row in board] == [("alice", record["public_score"])]


def test_a_second_submit_is_refused_unless_forced(finished_run, arena, settings):
    first = submit_run(finished_run.path, settings=settings)
    with pytest.raises(SubmissionError, match=f"already submitted \\(ref {first['ref']}, status COMPLETE"):
        submit_run(finished_run.path, settings=settings)
    assert len(arena.store.submissions("titanic")) == 1
    second = submit_run(finished_run.path, force=True, settings=settings)
    assert second["ref"] != first["ref"] and second["replaces"]["ref"] == first["ref"]
    assert len(arena.store.submissions("titanic")) == 2


def test_an_invalid_file_is_never_sent(finished_run, arena, settings):
    path = finished_run.file("submission.csv")
    pd.read_csv(path).iloc[:-1].to_csv(path, index=False)
    with pytest.raises(SubmissionError, match="rows"):
        submit_run(finished_run.path, settings=settings)
    assert arena.store.submissions("titanic") == [] and "submission" not in _manifest(finished_run)


def test_no_submissions_left_today_is_refused_before_uploading(finished_run, arena, settings, competitions):
    set_declared(competitions / "titanic", max_daily_submissions=1)
    submit_run(finished_run.path, settings=settings)
    with pytest.raises(RemoteError, match="No submissions left today .*1 made today"):
        submit_run(finished_run.path, force=True, settings=settings)
    assert len(arena.store.submissions("titanic")) == 1


def test_the_server_enforces_the_daily_limit_too(finished_run, arena, settings, competitions):
    set_declared(competitions / "titanic", max_daily_submissions=1)
    remote = KaggleRemote(arena.url, settings)
    path = str(finished_run.file("submission.csv"))
    assert remote.submit(path, "one", "titanic").ref > 0
    with pytest.raises(RemoteError, match="daily Submission allowance \\(1\\)"):
        remote.submit(path, "two", "titanic")


def test_a_refused_upload_comes_back_as_ref_0_and_is_reported(finished_run, arena, settings):
    arena.upload_limit = 100  # bytes: the PUT is refused with 413, the client answers ref 0
    with pytest.raises(RemoteError, match="did not accept the upload of submission.csv \\(ref 0: "
                                          "'Could not submit to competition'\\)"):
        submit_run(finished_run.path, settings=settings)
    assert arena.store.submissions("titanic") == []
    assert _manifest(finished_run)["submission"]["status"] == "failed"
    arena.upload_limit = 1 << 20
    assert submit_run(finished_run.path, settings=settings)["status"] == "COMPLETE"  # failed: no --force needed


def test_a_malformed_file_is_graded_as_error(finished_run, arena, settings, tmp_path):
    bad = tmp_path / "bad.csv"
    frame = pd.read_csv(finished_run.file("submission.csv"))
    frame.iloc[:-3].rename(columns={"survived": "Survived"}).to_csv(bad, index=False)
    remote = KaggleRemote(arena.url, settings)
    ref = remote.submit(str(bad), "broken", "titanic").ref
    for _ in range(200):
        submission = remote.submission(ref)
        if submission.status.name != "PENDING":
            break
        time.sleep(0.05)
    assert submission.status.name == "ERROR"
    assert "columns must be ['id', 'survived']" in submission.error_description
    assert submission.public_score in ("", None)


def test_users_see_only_their_own_submissions(finished_run, arena, settings, monkeypatch):
    ref = submit_run(finished_run.path, settings=settings)["ref"]
    key = arena.store.add_user("bob")
    arena.store.accept_rules(arena.store.user("bob"), "titanic")
    monkeypatch.setenv("KAGGLE_USERNAME", "bob")
    monkeypatch.setenv("KAGGLE_KEY", key)
    bob = KaggleRemote(arena.url, settings)
    assert bob.call("listing", lambda api: api.competition_submissions("titanic")) == []
    with pytest.raises(RemoteError, match=f"No submission {ref} of yours .*Submission {ref} not found"):
        bob.submission(ref)


def test_podium_submit_command(finished_run, arena):
    result = CliRunner().invoke(app, ["submit", str(finished_run.path), "-m", "from the command line", "--wait", "60"])
    assert result.exit_code == 0, result.output
    assert "COMPLETE (ref 1): public score" in " ".join(result.output.split())
    assert arena.store.submission(1)["description"] == "from the command line"
    again = CliRunner().invoke(app, ["submit", str(finished_run.path)])
    assert again.exit_code == 2 and "already submitted" in again.output

