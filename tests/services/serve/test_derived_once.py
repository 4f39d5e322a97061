"""Serving derives a row's joins, dates and words once: `podium serve` and `podium predict` derive the rows to
validate them, and the model then reads those derived rows (it used to derive them again, words and all)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from agent.config import ServeSettings
from agent.runtime import load_model
from agent.runtime.predict import predict_file
from agent.runtime.schema import Schema
from agent.services.serve import PredictionService


@pytest.fixture
def derivations(monkeypatch) -> list[int]:
    """Every call of Schema.derive, as the number of rows it was given."""
    calls: list[int] = []
    original = Schema.derive

    def counted(self, rows, *args, **kwargs):
        calls.append(1 if isinstance(rows, dict) else len(rows))
        return original(self, rows, *args, **kwargs)

    monkeypatch.setattr(Schema, "derive", counted)
    return calls


def test_a_served_request_is_derived_once_and_predicted_as_the_model_predicts_raw_rows(served, derivations):
    model = load_model(served.artifact)
    assert model.schema.texts, "the titanic artifact should read the words of its names"
    rows = served.rows(3)
    predictions = PredictionService(model, ServeSettings()).predict_body(json.dumps({"rows": rows}).encode())
    assert derivations == [3]
    expected = model.predict(rows)  # raw rows: the model derives them itself
    np.testing.assert_allclose([p["survived"] for p in predictions["predictions"]], expected, rtol=1e-12)


def test_podium_predict_derives_the_file_once_and_writes_what_the_model_predicts(served, derivations, tmp_path):
    source = tmp_path / "rows.csv"
    pd.DataFrame(served.rows(5)).to_csv(source, index=False)
    predict_file(served.artifact, source, tmp_path / "out.csv")
    assert derivations == [5]
    written = pd.read_csv(tmp_path / "out.csv")
    expected = load_model(served.artifact).predict(pd.read_csv(source))
    np.testing.assert_allclose(written["survived"], expected, rtol=1e-9)
