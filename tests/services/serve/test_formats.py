"""Predictions in every submission format: labels, one probability, a mapping per class, values."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from agent.competition.inference import CLASS_PROBABILITIES, LABELS, PROBABILITY, VALUES
from agent.config import ServeSettings
from agent.runtime import load_model
from agent.services.serve import PredictionService


@pytest.mark.parametrize("fmt", [PROBABILITY, LABELS, CLASS_PROBABILITIES, VALUES])
def test_each_submission_format_is_served_as_submission_rows(served, fmt):
    model = load_model(served.artifact)
    model.output = replace(model.output, submission_format=fmt, classes=("died", "lived"),
                           class_columns=("p_died", "p_lived") if fmt == CLASS_PROBABILITIES else ())
    service = PredictionService(model, ServeSettings())
    rows = served.rows(4)
    predictions = service.predict_body(json.dumps({"rows": rows}).encode())["predictions"]
    expected = model.predict(rows)
    assert [p["id"] for p in predictions] == [r["id"] for r in rows]
    if fmt == CLASS_PROBABILITIES:
        assert all(set(p) == {"id", "p_died", "p_lived"} for p in predictions)
        np.testing.assert_allclose([[p["p_died"], p["p_lived"]] for p in predictions], expected, rtol=1e-9)
        assert all(abs(p["p_died"] + p["p_lived"] - 1) < 1e-9 for p in predictions)
    elif fmt == LABELS:
        assert [p["survived"] for p in predictions] == list(expected)
        assert {p["survived"] for p in predictions} <= {"died", "lived"}
    else:
        np.testing.assert_allclose([p["survived"] for p in predictions], expected, rtol=1e-9)
    json.dumps(predictions, allow_nan=False)  # plain JSON types only
