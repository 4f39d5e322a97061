"""Bad input to `podium retrain` exits 2 with what, where and what to do, and writes nothing."""

from __future__ import annotations

import shutil

import pytest
from typer.testing import CliRunner

from cli import app

from .conftest import write


def _unknown_class(frame):
    frame = frame.copy()
    frame.loc[0, "survived"] = 7
    return frame


def _rare_class(frame):
    frame = frame.copy()
    frame["survived"] = 0
    frame.loc[:2, "survived"] = 1
    return frame


def _text_in_numbers(frame):
    frame = frame.copy().astype({"age": object})
    frame.loc[3, "age"] = "old"
    return frame


CASES = [
    ("no target column", lambda f: f.drop(columns=["survived"]), [], "lacks the target column 'survived'"),
    ("a feature missing", lambda f: f.drop(columns=["age"]), [], "lacks column(s) ['age']"),
    ("too few rows", lambda f: f.head(30), [], "needs at least 50"),
    ("holdout too small", lambda f: f.head(60), [], "needs at least 20"),
    ("text in a numeric column", _text_in_numbers, [], "'age' expects numbers"),
    ("a class never seen", _unknown_class, [], "not among the competition's classes"),
    ("a class too rare", _rare_class, [], "fewer than 5 rows of class(es) 1 (3)"),
    ("holdout share", lambda f: f, ["--holdout", "1.5"], "is not a share of the rows"),
]


@pytest.mark.parametrize("name, damage, extra, message", CASES, ids=[c[0] for c in CASES])
def test_bad_new_data_exits_2_and_writes_nothing(parent, fresh, tmp_path, name, damage, extra, message):
    data = write(damage(fresh), tmp_path / "new.csv")
    out = tmp_path / "runs"
    result = CliRunner().invoke(app, ["retrain", str(parent.path), "--data", str(data), "--out", str(out), *extra])
    text = " ".join(result.output.split())
    assert result.exit_code == 2, result.output
    assert message in text and "What to do:" in text
    assert not out.exists()


def test_bad_run_directories_and_options_exit_2(parent, fresh, tmp_path):
    runner = CliRunner()
    data = write(fresh, tmp_path / "new.csv")
    no_production = tmp_path / "no-production"
    no_production.mkdir()
    for name in ("manifest.json", "config.yaml"):
        shutil.copy(parent.path / name, no_production / name)
    cases = [
        ([str(tmp_path / "nowhere"), "--data", str(data)], "not a podium run directory"),
        ([str(no_production), "--data", str(data)], "no production model"),
        ([str(parent.path), "--data", str(tmp_path / "absent.csv")], "file is missing"),
        ([str(parent.path), "--data", str(data), "--holdout", "0.3", "--holdout-data", str(data)],
         "Both --holdout and --holdout-data"),
        ([str(parent.path), "--data", str(data), "--holdout-data", str(write(fresh.head(5), tmp_path / "h.csv"))],
         "needs at least 20"),
    ]
    for args, message in cases:
        result = runner.invoke(app, ["retrain", *args, "--out", str(tmp_path / "runs")])
        assert result.exit_code == 2 and message in " ".join(result.output.split()), (args, result.output)
    assert not (tmp_path / "runs").exists()
