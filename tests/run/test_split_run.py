"""A run on a competition whose test set lies later in time: the split is inferred, validated on, and said."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from agent.config import ServeSettings
from agent.services.serve.payload import RequestError
from agent.services.serve.service import PredictionService
from cli import app

runner = CliRunner()


def test_a_time_ordered_competition_is_validated_on_blocks_of_time_and_says_so(ray_local, build_corpus, tmp_path):
    """rain_forecast's test rows are its last quarter in time: the manifest records the split with its evidence
    and the date's format, the folds are contiguous blocks of time chained forward, the card and the report say
    how the score was validated, and the production model reads the raw dates of the test file as the run read
    them."""
    folder = build_corpus("rain_forecast", rows=600)
    result = runner.invoke(app, ["run", str(folder), "--time-limit", "30", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    run_dir = next((tmp_path / folder.name).iterdir())
    manifest = json.loads((run_dir / "manifest.json").read_text())
    competition = manifest["competition"]
    assert competition["dates"] == {"date": "%Y-%m-%d"}
    assert competition["split"]["kind"] == "time" and competition["split"]["column"] == "date"
    assert competition["split"]["evidence"]["test_after_train_share"] == 1.0
    assert competition["provenance"]["split"].startswith("inferred: 100% of test rows lie after")
    assert manifest["validation"]["split"] == "time"
    assert "contiguous blocks of time by 'date'" in manifest["validation"]["method"]
    assert "forward-chaining" in manifest["validation"]["method"]  # each block scored by earlier blocks' models
    card = json.loads((run_dir / "production" / "model_card.json").read_text())
    assert "contiguous blocks of time by 'date'" in card["validation"]["method"]
    report = (run_dir / "report.md").read_text()
    assert "later in time, by 'date'" in report and "contiguous blocks of time" in report

    from agent.runtime import load_model

    model = load_model(run_dir / "production")
    assert model.schema.dates == {"date": "%Y-%m-%d"} and "date" in model.schema.input_names
    test = pd.read_csv(folder / "public" / "test.csv")
    one_by_one = np.array([model.predict(row) for row in test.head(20).to_dict("records")]).ravel()
    np.testing.assert_allclose(model.predict(test.head(20)), one_by_one, rtol=1e-9)
    out = tmp_path / "predictions.csv"
    predicted = runner.invoke(app, ["predict", str(run_dir / "production"), str(folder / "public" / "test.csv"),
                                    "-o", str(out)])
    assert predicted.exit_code == 0, predicted.output
    assert len(pd.read_csv(out)) == len(test)

    service = PredictionService(model, ServeSettings())
    rows = test.head(3).to_dict("records")
    answered = service.predict_body(json.dumps({"rows": rows}).encode())
    np.testing.assert_allclose([p["rain"] for p in answered["predictions"]], one_by_one[:3], rtol=1e-9)
    assert {"name": "date", "kind": "date (%Y-%m-%d)"} in service.health()["features"]
    with pytest.raises(RequestError, match="input schema") as refused:
        service.predict_body(json.dumps({"rows": [{**rows[0], "date": "next Tuesday"}]}).encode())
    assert refused.value.status == 422 and "expects a date written as '%Y-%m-%d'" in refused.value.details[0]

    from agent.services.monitor.command import run_monitor

    report, _ = run_monitor(run_dir / "production", folder / "public" / "test.csv", tmp_path / "monitor")
    drift = {feature.name: feature for feature in report.features}
    assert "date.days" in drift and drift["date.days"].psi > 1  # the test rows are later: elapsed time drifts
