import numpy as np
import pandas as pd
import pytest

from agent.competition.inference import infer_competition
from agent.competition.tables import CompetitionData
from agent.errors import InputError
from tests.conftest import make_tables


def split(frame: pd.DataFrame, sample_columns: dict, target: str = "target"):
    train, test = frame.iloc[:150], frame.iloc[150:].drop(columns=[target])
    sample = pd.DataFrame({"id": test["id"], **{k: v for k, v in sample_columns.items()}})
    return CompetitionData(train.reset_index(drop=True), test.reset_index(drop=True), sample.reset_index(drop=True))


def test_string_labels_binary_with_probability_metric():
    frame = make_tables(target_values=lambda s: np.where(s > 0.5, "yes", "no"))
    comp = infer_competition("c", split(frame, {"target": 0.5}), {"evaluation_metric": "AUC"})
    assert (comp.id_column, comp.target, comp.problem_type) == ("id", "target", "binary")
    assert comp.submission_format == "probability"
    assert comp.classes == ("no", "yes") and comp.positive_class == "yes"
    assert comp.features == ("x1", "x2", "colour")


def test_boolean_target_with_label_metric_writes_labels():
    frame = make_tables(target_values=lambda s: s > 0.5)
    comp = infer_competition("c", split(frame, {"target": False}), {"evaluation_metric": "Categorization Accuracy"})
    assert comp.problem_type == "binary" and comp.submission_format == "labels"
    assert comp.positive_class is True
    np.testing.assert_array_equal(comp.encode_target(pd.Series([True, False, True])), [1, 0, 1])


def test_integer_coded_classes_are_multiclass():
    frame = make_tables(target_values=lambda s: np.digitize(s, [-1, 0, 1]))
    comp = infer_competition("c", split(frame, {"target": 0}))
    assert comp.problem_type == "multiclass"
    assert comp.classes == (0, 1, 2, 3)
    assert comp.metric_name == "Categorization Accuracy"
    assert "inferred" in comp.provenance["evaluation_metric"]


def test_numeric_target_with_many_values_is_regression_and_gets_rmse():
    comp = infer_competition("c", split(make_tables(), {"target": 0.0}))
    assert comp.problem_type == "regression" and comp.submission_format == "values"
    assert comp.metric_name == "Root Mean Squared Error"


def test_id_column_need_not_be_first():
    frame = make_tables(target_values=lambda s: (s > 0.5).astype(int))
    data = split(frame, {"target": 0})
    data = CompetitionData(data.train[["x1", "target", "x2", "colour", "id"]],
                           data.test[["x2", "colour", "x1", "id"]], data.sample_submission)
    comp = infer_competition("c", data)
    assert comp.id_column == "id" and comp.target == "target"
    assert set(comp.features) == {"x1", "x2", "colour"}


def test_one_probability_column_per_class():
    frame = make_tables(target_values=lambda s: np.select([s < -0.5, s < 0.8], ["low", "mid"], "high"))
    data = split(frame, {"target_high": 1 / 3, "target_low": 1 / 3, "target_mid": 1 / 3})
    comp = infer_competition("c", data, {"evaluation_metric": "Multiclass Log Loss"})
    assert comp.target == "target" and comp.problem_type == "multiclass"
    assert comp.submission_format == "class_probabilities"
    assert comp.class_columns == ("target_high", "target_low", "target_mid")
    assert comp.classes == ("high", "low", "mid")


def test_class_columns_named_by_bare_class_labels():
    frame = make_tables(target_values=lambda s: np.select([s < -0.5, s < 0.8], ["Class_1", "Class_2"], "Class_3"))
    data = split(frame, {"Class_2": 0.3, "Class_1": 0.3, "Class_3": 0.4})
    comp = infer_competition("c", data)
    assert comp.submission_format == "class_probabilities"
    assert comp.class_columns == ("Class_2", "Class_1", "Class_3") and comp.classes == ("Class_2", "Class_1", "Class_3")
    assert comp.metric_name == "Multiclass Log Loss"


def test_overrides_win_and_record_their_source():
    frame = make_tables(target_values=lambda s: (s > 0.5).astype(int))
    frame["other"] = frame["x1"] > 0
    data = split(frame, {"target": 0})
    comp = infer_competition("c", data, {"positive_class": 0, "evaluation_metric": "F1", "drop": ["colour"]},
                             {"positive_class": "competition.yaml", "evaluation_metric": "command line"})
    assert comp.positive_class == 0 and comp.classes == (1, 0)
    assert comp.provenance["evaluation_metric"] == "command line"
    assert comp.provenance["positive_class"] == "competition.yaml"
    assert "colour" not in comp.features and "colour" in comp.dropped_columns


def test_train_only_columns_are_dropped_not_used():
    frame = make_tables()
    frame["leak"] = frame["target"] * 2
    data = split(frame, {"target": 0.0})
    data = CompetitionData(data.train, data.test.drop(columns=["leak"]), data.sample_submission)
    comp = infer_competition("c", data)
    assert "leak" not in comp.features and comp.dropped_columns == ("leak",)


def test_competition_round_trips_through_a_dict():
    frame = make_tables(target_values=lambda s: s > 0.5)
    comp = infer_competition("c", split(frame, {"target": 0.5}), {"evaluation_metric": "Log Loss"})
    assert type(comp).from_dict(comp.to_dict()) == comp


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda d: CompetitionData(d.train.assign(target=1), d.test, d.sample_submission), "single value"),
    (lambda d: CompetitionData(d.train.rename(columns={"target": "y"}).assign(z=1), d.test, d.sample_submission),
     "Could not find the target"),
    (lambda d: CompetitionData(d.train, d.test.assign(extra=1), d.sample_submission), "columns that train lacks"),
    (lambda d: CompetitionData(d.train, d.test, d.sample_submission.assign(id=d.sample_submission["id"] + 1)),
     "ids do not match"),
    (lambda d: CompetitionData(d.train, d.test, d.sample_submission.rename(columns={"id": "key"})), "share no column"),
])
def test_bad_tables_raise_clear_errors(mutate, message):
    data = mutate(split(make_tables(target_values=lambda s: (s > 0.5).astype(int)), {"target": 0}))
    with pytest.raises(InputError, match=message):
        infer_competition("c", data)


def test_metric_that_does_not_fit_the_problem_type():
    with pytest.raises(InputError, match="does not fit a regression problem"):
        infer_competition("c", split(make_tables(), {"target": 0.0}),
                          {"evaluation_metric": "AUC", "task": "regression"})
    frame = make_tables(target_values=lambda s: np.digitize(s, [-1, 0, 1]))
    with pytest.raises(InputError, match="one column"):
        infer_competition("c", split(frame, {"target": 0}), {"evaluation_metric": "AUC"})


@pytest.mark.parametrize("blank", ["", " "])
def test_a_test_row_without_an_id_is_refused_naming_its_line(tmp_path, blank):
    from agent.competition.tables import read_competition

    data = split(make_tables(target_values=lambda s: (s > 0.5).astype(int)), {"target": 0.5})
    ids = data.test["id"].astype(str).tolist()
    ids[3] = blank  # the fourth data row: line 5 of the file
    data.train.to_csv(tmp_path / "train.csv", index=False)
    data.test.assign(id=ids).to_csv(tmp_path / "test.csv", index=False)
    data.sample_submission.assign(id=ids).to_csv(tmp_path / "sample_submission.csv", index=False)
    read = read_competition(tmp_path / "train.csv", tmp_path / "test.csv", tmp_path / "sample_submission.csv")
    assert (tmp_path / "test.csv").read_text().splitlines()[4].startswith(f"{blank},")
    with pytest.raises(InputError) as caught:
        infer_competition("c", read, {"evaluation_metric": "AUC"})
    assert "test file has 1 row(s) without an id in 'id' (line 5" in caught.value.what
    assert caught.value.where == str(tmp_path / "test.csv")


def test_a_target_that_test_holds_too_is_named_as_such():
    data = split(make_tables(target_values=lambda s: (s > 0.5).astype(int)), {"target": 0.5})
    data = CompetitionData(data.train, data.test.assign(target=0), data.sample_submission)
    with pytest.raises(InputError) as caught:
        infer_competition("c", data, {"evaluation_metric": "AUC"})
    assert "'target' is in train, but test holds it too" in caught.value.what
    assert "not in train" not in caught.value.what
    assert "drop 'target' from the test file" in caught.value.fix and "--target target" in caught.value.fix
    chosen = infer_competition("c", data, {"evaluation_metric": "AUC", "target": "target"})
    assert chosen.target == "target" and "target" not in chosen.features
