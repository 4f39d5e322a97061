"""`podium predict ARTIFACT_DIR data.csv -o predictions.csv` on good and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from agent.runtime import load_model
from cli import app


@pytest.fixture()
def run(titanic_artifact):
    runner = CliRunner()

    def invoke(data, output, *extra):
        return runner.invoke(app, ["predict", str(titanic_artifact.out_dir), str(data), "-o", str(output), *extra])

    return invoke


def test_good_input_writes_predictions_with_ids(run, titanic, titanic_artifact, tmp_path):
    data, out = tmp_path / "rows.csv", tmp_path / "predictions.csv"
    titanic.test.to_csv(data, index=False)
    result = run(data, out)
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out)
    competition = titanic.competition
    assert list(written.columns) == [competition.id_column, *competition.prediction_columns]
    assert written[competition.id_column].tolist() == titanic.test[competition.id_column].tolist()
    expected = load_model(titanic_artifact.out_dir).predict(titanic.test)
    np.testing.assert_allclose(written[competition.prediction_columns[0]], expected, rtol=1e-9)


@pytest.mark.parametrize("damage, expected", [
    (lambda f: f.drop(columns=["age"]), "lacks column(s) ['age']"),
    (lambda f: f.assign(age=["old"] + list(f["age"].iloc[1:])), "'age' expects numbers"),
    (lambda f: f.assign(fare=list(f["fare"].iloc[:3]) + [float("inf")] + list(f["fare"].iloc[4:])),
     "'fare' holds an infinite number (inf)"),
])
def test_bad_input_fails_clearly_and_writes_nothing(run, titanic, tmp_path, damage, expected):
    data, out = tmp_path / "bad.csv", tmp_path / "predictions.csv"
    damage(titanic.test.copy()).to_csv(data, index=False)
    result = run(data, out)
    assert result.exit_code == 2
    assert expected in " ".join(result.output.split())
    assert not out.exists() and list(tmp_path.iterdir()) == [data]


def test_unseen_category_is_a_warning_or_with_strict_an_error(run, titanic, tmp_path):
    data, out = tmp_path / "rows.csv", tmp_path / "predictions.csv"
    frame = titanic.test.copy()
    frame.loc[frame.index[0], "embarked"] = "Atlantis"
    frame.to_csv(data, index=False)
    result = run(data, out)
    assert result.exit_code == 0 and "never seen in training" in " ".join(result.output.split())
    assert len(pd.read_csv(out)) == len(frame)
    strict_out = tmp_path / "strict.csv"
    result = run(data, strict_out, "--strict")
    assert result.exit_code == 2 and "'embarked'" in result.output and not strict_out.exists()


def test_a_folder_that_is_not_an_artifact_is_refused(tmp_path):
    data = tmp_path / "rows.csv"
    pd.DataFrame({"a": [1]}).to_csv(data, index=False)
    result = CliRunner().invoke(app, ["predict", str(tmp_path), str(data), "-o", str(tmp_path / "out.csv")])
    assert result.exit_code == 2 and "not a podium production artifact" in result.output


def test_an_output_that_cannot_be_a_file_is_refused_before_predicting(run, titanic, tmp_path):
    data = tmp_path / "rows.csv"
    titanic.test.to_csv(data, index=False)
    folder, a_file = tmp_path / "a-folder", tmp_path / "a-file"
    folder.mkdir()
    a_file.write_text("kept")
    for output, message in ((folder, "--output names a folder, not a file"),
                            (a_file / "predictions.csv", "runs through a file")):
        result = run(data, output)
        assert result.exit_code == 2, result.output
        text = " ".join(result.output.split())
        assert message in text and "failed unexpectedly" not in text and "podium.log" not in text
    assert list(folder.iterdir()) == [] and a_file.read_text() == "kept"


@pytest.mark.parametrize("damage, expected", [
    (lambda f: f.assign(age=["old"] + list(f["age"].iloc[1:])), "first 'old' at line 2"),
    (lambda f: f.assign(fare=list(f["fare"].iloc[:3]) + [float("inf")] + list(f["fare"].iloc[4:])),
     "'fare' holds an infinite number (inf) at line 5"),
])
def test_errors_name_the_file_line_with_the_header_as_line_one(run, titanic, tmp_path, damage, expected):
    data = tmp_path / "bad.csv"
    damage(titanic.test.copy()).to_csv(data, index=False)
    result = run(data, tmp_path / "predictions.csv")
    assert result.exit_code == 2, result.output
    output = " ".join(result.output.split())
    assert expected in output and "row" not in output.split("Where:")[0]


def test_a_strict_refusal_names_the_line_of_the_first_unseen_category(run, titanic, tmp_path):
    data = tmp_path / "rows.csv"
    frame = titanic.test.copy()
    frame.loc[frame.index[2], "embarked"] = "Atlantis"
    frame.to_csv(data, index=False)
    result = run(data, tmp_path / "strict.csv", "--strict")
    assert result.exit_code == 2
    assert "first 'Atlantis' at line 4" in " ".join(result.output.split())
