import numpy as np
import pandas as pd
import pytest

from agent.competition.inference import infer_competition
from agent.competition.submission import build_submission, validate_submission, write_submission
from agent.competition.tables import CompetitionData
from agent.errors import SubmissionError
from tests.conftest import make_tables


def competition_for(labels, sample_values: dict, metric: str):
    frame = make_tables(target_values=labels)
    train, test = frame.iloc[:150], frame.iloc[150:].drop(columns=["target"])
    sample = pd.DataFrame({"id": test["id"].to_numpy()[::-1], **sample_values})  # sample order differs from test
    data = CompetitionData(train, test.reset_index(drop=True), sample)
    return infer_competition("c", data, {"evaluation_metric": metric}), data


def test_labels_follow_sample_order_and_decode_classes():
    comp, data = competition_for(lambda s: np.where(s > 0.5, "yes", "no"), {"target": "no"}, "Accuracy")
    test_ids = data.test["id"]
    prob = np.linspace(0, 1, len(test_ids))
    frame = build_submission(comp, data.sample_submission, test_ids, prob)
    assert list(frame["id"]) == list(data.sample_submission["id"])
    expected = dict(zip(test_ids, np.where(prob >= 0.5, "yes", "no"), strict=True))
    assert list(frame["target"]) == [expected[i] for i in frame["id"]]
    validate_submission(frame, comp, data.sample_submission)


def test_class_probabilities_are_normalised_into_their_columns():
    comp, data = competition_for(lambda s: np.select([s < -0.5, s < 0.8], ["a", "b"], "c"),
                                 {"target_a": 0.3, "target_b": 0.3, "target_c": 0.4}, "Multiclass Log Loss")
    matrix = np.random.default_rng(0).random((len(data.test), 3)) * 2
    frame = build_submission(comp, data.sample_submission, data.test["id"], matrix)
    np.testing.assert_allclose(frame[["target_a", "target_b", "target_c"]].sum(axis=1), 1.0)
    validate_submission(frame, comp, data.sample_submission)


@pytest.mark.parametrize(("damage", "message"), [
    (lambda f: f[["target", "id"]], "columns"),
    (lambda f: f.iloc[:-1], "rows"),
    (lambda f: f.assign(id=f["id"].iloc[::-1].to_numpy()), "ids differ"),
    (lambda f: f.assign(target=np.where(np.arange(len(f)) == 3, np.nan, f["target"])), "missing"),
    (lambda f: f.assign(target=f["target"] + 1.5), r"\[0, 1\]"),
    (lambda f: f.assign(target="high"), "non-numeric"),
])
def test_invalid_probability_submissions_are_refused(damage, message, tmp_path):
    comp, data = competition_for(lambda s: s > 0.5, {"target": 0.5}, "AUC")
    frame = build_submission(comp, data.sample_submission, data.test["id"], np.full(len(data.test), 0.3))
    with pytest.raises(SubmissionError, match=message):
        write_submission(damage(frame), comp, data.sample_submission, tmp_path / "submission.csv")
    assert not (tmp_path / "submission.csv").exists()
    assert list(tmp_path.iterdir()) == []  # no temporary file left behind either


def test_unknown_labels_and_unnormalised_rows_are_refused():
    comp, data = competition_for(lambda s: np.where(s > 0.5, "yes", "no"), {"target": "no"}, "Accuracy")
    frame = build_submission(comp, data.sample_submission, data.test["id"], np.zeros(len(data.test)))
    with pytest.raises(SubmissionError, match="not among the training labels"):
        validate_submission(frame.assign(target="maybe"), comp, data.sample_submission)
    comp, data = competition_for(lambda s: np.select([s < 0, s < 1], ["a", "b"], "c"),
                                 {"target_a": 0.3, "target_b": 0.3, "target_c": 0.4}, "Multiclass Log Loss")
    frame = build_submission(comp, data.sample_submission, data.test["id"], np.full((len(data.test), 3), 1 / 3))
    with pytest.raises(SubmissionError, match="sum to 1"):
        validate_submission(frame.assign(target_a=0.9), comp, data.sample_submission)


def test_rmsle_predictions_are_floored_at_zero():
    comp, data = competition_for(np.exp, {"target": 1.0}, "RMSLE")  # RMSLE needs y > -1
    frame = build_submission(comp, data.sample_submission, data.test["id"], np.full(len(data.test), -3.0))
    assert (frame["target"] == 0).all()
