"""Grading: public and private scores equal an independent computation; bad files get readable errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.metrics import accuracy_score, log_loss, mean_absolute_error, roc_auc_score

from agent.arena.catalog import load_competition
from agent.arena.grading import GradingError, grade, grade_file, submission_prediction
from agent.competition.inference import infer_competition
from agent.competition.tables import read_competition


def _parts(folder, submission: pd.DataFrame, id_column="id"):
    answers = pd.read_csv(folder / "private" / "answers.csv")
    merged = answers.merge(submission, on=id_column, suffixes=("", "_p"))
    return merged[merged["Usage"] == "Public"], merged[merged["Usage"] == "Private"]


def _sample(folder) -> pd.DataFrame:
    return pd.read_csv(folder / "public" / "sample_submission.csv")


def test_binary_auc_on_both_parts_in_any_row_order(competitions, tmp_path):
    folder = competitions / "titanic"
    rng = np.random.default_rng(0)
    submission = _sample(folder).assign(survived=rng.random(len(_sample(folder))))
    shuffled = tmp_path / "sub.csv"
    submission.sample(frac=1.0, random_state=1).to_csv(shuffled, index=False)
    grade = grade_file(load_competition(folder), shuffled)
    public, private = _parts(folder, submission)
    assert grade.public == pytest.approx(roc_auc_score(public["survived"], public["survived_p"]), abs=1e-12)
    assert grade.private == pytest.approx(roc_auc_score(private["survived"], private["survived_p"]), abs=1e-12)
    assert 0 < len(public) < len(submission) and grade.public != grade.private


def test_labels_scored_by_accuracy(competitions, tmp_path):
    folder = competitions / "titanic-labels"
    answers = pd.read_csv(folder / "private" / "answers.csv")
    submission = answers[["id", "survived"]].copy()
    submission.loc[submission.index[:40], "survived"] = 1 - submission["survived"].iloc[:40]
    submission.to_csv(tmp_path / "sub.csv", index=False)
    grade = grade_file(load_competition(folder), tmp_path / "sub.csv")
    public, _ = _parts(folder, submission)
    assert grade.public == pytest.approx(accuracy_score(public["survived"], public["survived_p"]))
    assert grade.public < 1.0


def test_multiclass_log_loss(competitions, tmp_path):
    folder = competitions / "hpc-class"
    sample = _sample(folder)
    columns = [c for c in sample.columns if c != "id"]
    probabilities = np.random.default_rng(2).dirichlet(np.ones(len(columns)), size=len(sample))
    submission = sample.copy()
    submission[columns] = probabilities
    submission.to_csv(tmp_path / "sub.csv", index=False)
    grade = grade_file(load_competition(folder), tmp_path / "sub.csv")
    public, _ = _parts(folder, submission)
    classes = [c.removeprefix("class_") for c in columns]
    expected = log_loss(public["class"].astype(str), public[columns].to_numpy(), labels=classes)
    assert grade.public == pytest.approx(expected, rel=1e-9)


def test_regression_mae(competitions, tmp_path):
    folder = competitions / "deliveries"
    submission = _sample(folder)
    target = submission.columns[1]
    submission[target] = np.linspace(10, 40, len(submission))
    submission.to_csv(tmp_path / "sub.csv", index=False)
    grade = grade_file(load_competition(folder), tmp_path / "sub.csv")
    public, _ = _parts(folder, submission)
    assert grade.public == pytest.approx(mean_absolute_error(public[target], public[target + "_p"]))


@pytest.mark.parametrize(("change", "message"), [
    (lambda f: f.drop(columns=["survived"]), "columns must be \\['id', 'survived'\\]; missing \\['survived'\\]"),
    (lambda f: f.assign(extra=1), "unexpected \\['extra'\\]"),
    (lambda f: f.iloc[:-2], "2 test ids are missing"),
    (lambda f: pd.concat([f, f.iloc[:1]]), "repeats ids"),
    (lambda f: f.assign(id=f["id"] + 100000), "ids are not in the test set"),
    (lambda f: f.assign(survived=np.nan), "missing values"),
    (lambda f: f.assign(survived="maybe"), "non-numeric"),
    (lambda f: f.assign(survived=1.5), "Probabilities must lie in \\[0, 1\\]"),
])
def test_bad_files_get_a_readable_error(competitions, tmp_path, change, message):
    folder = competitions / "titanic"
    change(_sample(folder)).to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(GradingError, match=message):
        grade_file(load_competition(folder), tmp_path / "bad.csv")


def test_unknown_labels_and_unreadable_files(competitions, tmp_path):
    labels = competitions / "titanic-labels"
    _sample(labels).assign(survived="perhaps").to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(GradingError, match="not among the training labels"):
        grade_file(load_competition(labels), tmp_path / "bad.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(GradingError, match="not a readable CSV"):
        grade_file(load_competition(labels), tmp_path / "empty.csv")


def test_answers_without_usage_are_all_public(competitions, tmp_path):
    folder = competitions / "titanic"
    answers = pd.read_csv(folder / "private" / "answers.csv")
    answers.drop(columns=["Usage"]).to_csv(folder / "private" / "answers.csv", index=False)
    submission = _sample(folder).assign(survived=np.linspace(0, 1, len(answers)))
    submission.to_csv(tmp_path / "sub.csv", index=False)
    grade = grade_file(load_competition(folder), tmp_path / "sub.csv")
    merged = answers.merge(submission, on="id", suffixes=("", "_p"))
    assert grade.private is None
    assert grade.public == pytest.approx(roc_auc_score(merged["survived"], merged["survived_p"]), abs=1e-12)


@pytest.mark.parametrize("columns", [["survived_1", "survived_0"], ["survived_0", "survived_1"]])
def test_a_binary_submission_with_a_column_per_class_is_graded_on_p_positive(competitions, tmp_path, columns):
    """The case two graders once disagreed on: one grader, scoring P(positive) whatever the columns' order."""
    folder = competitions / "titanic"
    yaml_file = folder / "competition.yaml"
    settings = yaml.safe_load(yaml_file.read_text())
    settings["grading"]["positive_class"] = 1
    yaml_file.write_text(yaml.safe_dump(settings))
    ids = _sample(folder)["id"]
    pd.DataFrame({"id": ids, columns[0]: 0.5, columns[1]: 0.5}).to_csv(folder / "public" / "sample_submission.csv",
                                                                      index=False)
    positive = np.random.default_rng(4).random(len(ids))
    submission = pd.DataFrame({"id": ids, "survived_1": positive, "survived_0": 1 - positive})[["id", *columns]]
    submission.sample(frac=1.0, random_state=2).to_csv(tmp_path / "sub.csv", index=False)
    public = folder / "public"
    competition = infer_competition("titanic", read_competition(public / "train.csv", public / "test.csv",
                                                                public / "sample_submission.csv"),
                                    {"evaluation_metric": "AUC", "target": "survived", "positive_class": 1})
    assert (competition.problem_type, competition.submission_format) == ("binary", "class_probabilities")
    assert submission_prediction(submission, competition) == pytest.approx(positive)

    answers = pd.read_csv(folder / "private" / "answers.csv")
    merged = answers.merge(submission.assign(p=positive), on="id")
    assert grade(competition, answers, pd.read_csv(tmp_path / "sub.csv")) == pytest.approx(
        roc_auc_score(merged["survived"], merged["p"]), abs=1e-12)
    graded = grade_file(load_competition(folder), tmp_path / "sub.csv")
    for part, score in (("Public", graded.public), ("Private", graded.private)):
        rows = merged[merged["Usage"] == part]
        assert score == pytest.approx(roc_auc_score(rows["survived"], rows["p"]), abs=1e-12)


def test_grade_checks_a_submission_as_an_upload_is_checked(competitions):
    folder = competitions / "titanic"
    answers = pd.read_csv(folder / "private" / "answers.csv")
    public = folder / "public"
    competition = infer_competition("titanic", read_competition(public / "train.csv", public / "test.csv",
                                                                public / "sample_submission.csv"),
                                    {"evaluation_metric": "AUC", "target": "survived"})
    with pytest.raises(GradingError, match="2 test ids are missing"):
        grade(competition, answers, _sample(folder).iloc[:-2])
    with pytest.raises(GradingError, match="Probabilities must lie in"):
        grade(competition, answers, _sample(folder).assign(survived=1.5))
