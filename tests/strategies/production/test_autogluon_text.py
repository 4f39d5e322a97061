"""Slow: AutoGluon's models that read its text features (statistics of free text, binned, and word n-grams),
served from raw text without AutoGluon (agent/runtime/autogluon_text.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from agent.columns import autogluon_name, with_encoded_names
from agent.deadline import Deadline
from agent.runtime import load_model
from agent.runtime.onnx import onnx_exportable
from strategies.production import families
from strategies.production.autogluon_features import AutoGluonFeatures
from strategies.production.problem import make_problem
from tests.strategies.production.test_autogluon_bags import fit

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fitted(titanic, tmp_path_factory):
    """titanic with its free text (name, ticket, cabin, home.dest): AutoGluon reads text statistics and n-grams."""
    folder = tmp_path_factory.mktemp("ag-text")
    return titanic, fit(titanic, folder), folder


def awkward_text(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Rows as callers send them: missing and empty text, words never seen, symbols, digits, repeats."""
    frame = frame.copy().reset_index(drop=True)
    odd = [None, "", "   ", "Mr. Mr. Mr. O'Brien-Smith / 42 #1!", "ÉLODIE, Mme. (née Ünal)", "new york ny new york",
           "a" * 300, float("nan")]
    for column in columns:
        values = frame[column].astype(object)
        for i, value in enumerate(odd):
            values[i * 3 % len(values)] = value
        frame[column] = values
    return frame


def test_the_text_features_are_autogluons_to_the_last_bit(fitted):
    corpus, _, folder = fitted
    from autogluon.tabular import TabularPredictor

    predictor = TabularPredictor.load(str(folder / "ag"), require_py_version_match=False, verbosity=0)
    features = AutoGluonFeatures.of(predictor, corpus.dataset)
    text = features.text
    assert text is not None, features.text_refused
    assert text.statistics and text.ngrams is not None and "__nlp__._total_" in text.ngrams.features
    rows = awkward_text(corpus.dataset.X_test, text.columns)
    theirs = predictor._learner.feature_generator.transform(with_encoded_names(rows, autogluon_name))
    ours = text.frame(rows)
    names = [n for n in text.names if n in theirs.columns]  # the pipeline drops duplicated ones at its end
    assert len(names) >= 10 and "__nlp__._total_" in names
    np.testing.assert_array_equal(ours[names].to_numpy(), theirs[names].to_numpy(dtype=float))
    one = text.values(rows.iloc[3].to_dict())  # a served row: the same numbers as its table
    assert [one[n] for n in names] == ours.iloc[3][names].tolist()


def test_models_reading_text_features_serve_from_raw_rows_as_autogluon_predicts(fitted, tmp_path):
    corpus, board, folder = fitted
    problem = make_problem(corpus.competition, corpus.dataset)
    level1 = families.AutoGluonLevel1(corpus.competition, corpus.dataset, problem, board, folder / "ag", tmp_path, 100)
    end = Deadline.after(120)
    found = level1.bags(end) + level1.catboost(end)
    served = [c for c in found if c.measured]
    assert served, [(c.name, c.note) for c in found]
    parents = {c.model: c for c in board if c.strategy == "autogluon"}
    for candidate in served:
        model = load_model(candidate.folder)
        assert model.schema.autogluon_text is not None, candidate.name  # it does read text features
        parent = parents[candidate.params["model"]]
        table = model.predict_raw(corpus.dataset.X_test)
        if parent.test is not None and candidate.family == "autogluon-bag":
            np.testing.assert_allclose(table, parent.test, rtol=1e-6, atol=1e-9)
        one = model.predict_raw(corpus.dataset.X_test.head(1).to_dict("records")[0])
        np.testing.assert_allclose(one[0], table[0], rtol=1e-9)
        assert set(model.schema.autogluon_text.columns) <= set(model.schema.input_names)
        exportable, why = onnx_exportable(candidate.folder)
        assert not exportable and ("AutoGluon's text features" in why or candidate.family == "catboost")
    assert {c.family for c in served} == {"autogluon-bag", "catboost"}


def test_podium_predict_reads_the_text_of_a_csv_as_the_model_does(fitted, tmp_path):
    """The served bag through `podium predict`: a CSV of raw rows (text sent as text, some of it missing)."""
    from typer.testing import CliRunner

    from cli import app

    corpus, board, folder = fitted
    problem = make_problem(corpus.competition, corpus.dataset)
    level1 = families.AutoGluonLevel1(corpus.competition, corpus.dataset, problem, board, folder / "ag", tmp_path, 100)
    bag = next(c for c in level1.bags(Deadline.after(120)) if c.measured)
    model = load_model(bag.folder)
    rows = awkward_text(corpus.test, model.schema.autogluon_text.columns)
    data, out = tmp_path / "rows.csv", tmp_path / "predictions.csv"
    rows.to_csv(data, index=False)
    result = CliRunner().invoke(app, ["predict", str(bag.folder), str(data), "-o", str(out)])
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out)
    column = corpus.competition.prediction_columns[0]
    read_back = pd.read_csv(data)  # as the file reads: empty text is missing
    np.testing.assert_allclose(written[column], model.predict(read_back), rtol=1e-9)
    missing = rows.drop(columns=[model.schema.autogluon_text.columns[0]])
    missing.to_csv(data, index=False)
    refused = CliRunner().invoke(app, ["predict", str(bag.folder), str(data), "-o", str(out)])
    assert refused.exit_code != 0 and "lacks column" in refused.output
