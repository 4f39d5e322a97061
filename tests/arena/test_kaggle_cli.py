"""The official `kaggle` command-line tool against the arena, as a participant would use it.

The tool has no endpoint option; `python -m agent.kaggle.kaggle_cli --endpoint URL ...` runs kaggle's own
CLI entry point in a fresh process with podium's one seam applied, nothing else changed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]


def kaggle(arena, *args: str, user: str = "alice", key: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "KAGGLE_USERNAME": user, "KAGGLE_KEY": key}
    return subprocess.run([sys.executable, "-m", "agent.kaggle.kaggle_cli", "--endpoint", arena.url, *args],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)


def test_list_files_download_submit_and_leaderboard(arena, alice, competitions, tmp_path):
    listed = kaggle(arena, "competitions", "list", "-s", "titanic", key=alice)
    assert listed.returncode == 0, listed.stderr
    assert f"{arena.url}/competitions/titanic " in listed.stdout and "titanic-labels" in listed.stdout

    files = kaggle(arena, "competitions", "files", "titanic", key=alice)
    assert files.returncode == 0 and all(n in files.stdout for n in ("train.csv", "test.csv", "sample_submission"))

    downloaded = kaggle(arena, "competitions", "download", "titanic", "-p", str(tmp_path / "data"), key=alice)
    assert downloaded.returncode == 0, downloaded.stderr
    with zipfile.ZipFile(tmp_path / "data" / "titanic.zip") as bundle:
        assert sorted(bundle.namelist()) == ["sample_submission.csv", "test.csv", "train.csv"]
        sample = pd.read_csv(bundle.open("sample_submission.csv"))

    sample.to_csv(tmp_path / "submission.csv", index=False)
    submitted = kaggle(arena, "competitions", "submit", "titanic", "-f", str(tmp_path / "submission.csv"),
                       "-m", "from the kaggle CLI", key=alice)
    assert submitted.returncode == 0, submitted.stderr
    assert "Successfully submitted to" in submitted.stdout and "Submission ref: 1" in submitted.stdout
    assert "4 submissions remaining today" in submitted.stdout

    mine = kaggle(arena, "competitions", "submissions", "titanic", key=alice)
    assert mine.returncode == 0 and "from the kaggle CLI" in mine.stdout and "submission.csv" in mine.stdout

    for _ in range(100):
        if arena.store.submission(1)["status"] != "PENDING":
            break
        time.sleep(0.05)
    board = kaggle(arena, "competitions", "leaderboard", "titanic", "--show", key=alice)
    assert board.returncode == 0 and "alice" in board.stdout and "0.5" in board.stdout


def test_errors_reach_the_user_with_a_non_zero_exit(arena, alice, tmp_path):
    bob = arena.store.add_user("bob")
    refused = kaggle(arena, "competitions", "download", "titanic", "-p", str(tmp_path), user="bob", key=bob)
    assert refused.returncode == 1 and "accept this competition's rules" in refused.stderr
    missing = kaggle(arena, "competitions", "files", "nope", key=alice)
    assert missing.returncode == 1 and "Competition 'nope' not found" in missing.stderr
