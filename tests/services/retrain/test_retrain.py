"""`podium retrain`: a new run directory with both holdout scores and a decision; the parent run untouched."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

import devcorpus
from agent.competition.metrics import get_metric
from agent.runtime import load_model
from agent.services.retrain import CURRENT, RETRAINED, retrain
from cli import app

from .conftest import make_parent, write

SERVING = ("production.json", "schema.json", "encoder.json")


def _same_serving_files(a, b) -> bool:
    return all((a / name).read_bytes() == (b / name).read_bytes() for name in SERVING if (a / name).exists())


def test_fresh_rows_make_a_new_run_beside_the_old_one_with_a_decision(parent, fresh, tmp_path):
    before = parent.fingerprint()
    result = retrain(parent.path, write(fresh, tmp_path / "new_train.csv"), time_budget_s=8)

    new = result.run.path
    assert new.parent == parent.path.parent and new != parent.path  # runs/titanic/<new-run-id>
    manifest = json.loads((new / "manifest.json").read_text())
    assert manifest["kind"] == "retrain" and manifest["parent_run"] == str(parent.path)
    assert manifest["status"] == "succeeded" and manifest["seconds"] > 0
    assert {name: p["status"] for name, p in manifest["phases"].items()} == {
        "quality": "succeeded", "production": "succeeded", "compare": "succeeded", "export": "succeeded"}
    assert not [f for f in json.loads((new / "quality.json").read_text())["findings"] if f["severity"] == "error"]
    record = manifest["retrain"]
    assert record["holdout"]["stratified"] and record["data"]["holdout_rows"] == math.ceil(0.2 * len(fresh))
    assert record["data"]["train_rows"] + record["data"]["holdout_rows"] == len(fresh)
    current, retrained = record["current"]["holdout_score"], record["retrained"]["holdout_score"]
    assert 0.7 < current <= 1 and 0.7 < retrained <= 1  # AUC of two sane models on fresh rows
    assert record["decision"] in (RETRAINED, CURRENT) and record["reasons"]
    metric = get_metric(record["metric"])
    if record["decision"] == RETRAINED:
        assert metric.signed(retrained) >= metric.signed(current)
        card = json.loads((new / "production" / "model_card.json").read_text())
        assert card["retrain"]["decision"] == RETRAINED and not (new / "rejected").exists()
    else:
        assert metric.signed(retrained) < metric.signed(current)
        assert _same_serving_files(new / "production", parent.path / "production") and (new / "rejected").is_dir()

    report = (new / "report.md").read_text()  # the report says which model ships, and why
    decision_part = report[report.index("Retrain decision"):]
    ships = "The retrained model ships" if record["decision"] == RETRAINED else "The current model stays"
    assert ships in decision_part and record["reasons"][0][:40] in decision_part
    assert f"{current:.5g}" in decision_part and f"{retrained:.5g}" in decision_part

    model = load_model(result.production)
    assert model.predict(fresh.head(5)).shape == (5,)
    assert (result.production / "reference_profile.json").is_file()  # `podium monitor` works on the new run
    assert (new / "config.yaml").read_bytes() == (parent.path / "config.yaml").read_bytes()
    assert manifest["competition"] == json.loads((parent.path / "manifest.json").read_text())["competition"]
    assert parent.fingerprint() == before


def test_shuffled_labels_keep_the_current_model(parent, fresh, tmp_path):
    """Training rows with shuffled labels, scored on a holdout with true labels: the retrained model loses."""
    before = parent.fingerprint()
    damaged = fresh.iloc[:500].copy()
    damaged["survived"] = np.random.default_rng(0).permutation(damaged["survived"].to_numpy())
    holdout = fresh.iloc[500:]
    out = tmp_path / "runs"
    result = CliRunner().invoke(app, [
        "retrain", str(parent.path), "--data", str(write(damaged, tmp_path / "damaged.csv")),
        "--holdout-data", str(write(holdout, tmp_path / "holdout.csv")), "--time-budget", "8", "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "kept" in text and "rejected" in text and "the current model stays" in text

    (new,) = (out / "titanic").iterdir()
    manifest = json.loads((new / "manifest.json").read_text())
    record = manifest["retrain"]
    assert record["decision"] == CURRENT and record["holdout"]["source"] == "file"
    assert record["current"]["holdout_score"] > record["retrained"]["holdout_score"] + 0.1
    assert _same_serving_files(new / "production", parent.path / "production")
    rejected = json.loads((new / "rejected" / "model_card.json").read_text())
    assert rejected["retrain"]["decision"] == CURRENT
    assert manifest["production"]["path"] == str(new / "production")
    assert parent.fingerprint() == before


def test_a_failed_retrain_marks_its_own_run_failed_and_leaves_the_parent_alone(parent, fresh, tmp_path, monkeypatch):
    import strategies.production

    def broken(*args, **kwargs):
        raise RuntimeError("simulated crash in the production search")

    monkeypatch.setattr(strategies.production, "build_production_model", broken)
    before = parent.fingerprint()
    out = tmp_path / "runs"
    with pytest.raises(RuntimeError, match="simulated crash"):
        retrain(parent.path, write(fresh, tmp_path / "new.csv"), out=out, time_budget_s=5)
    (new,) = (out / "titanic").iterdir()
    manifest = json.loads((new / "manifest.json").read_text())
    assert manifest["status"] == "failed" and manifest["error"]["type"] == "RuntimeError"
    assert manifest["phases"]["production"]["status"] == "failed"
    assert not (new / "production").exists() and not (new / "retrained").exists()
    assert "No decision: the retrain stopped" in (new / "report.md").read_text()
    assert parent.fingerprint() == before


def test_regression_uses_a_plain_holdout_and_the_metric_direction(tmp_path):
    """deliveries (MAE, lower is better): the holdout is not stratified; the decision follows the direction."""
    parent = make_parent("deliveries", tmp_path, rows=500)
    fresh = devcorpus.load("deliveries").iloc[500:1100]
    result = retrain(parent.path, write(fresh, tmp_path / "new.csv"), time_budget_s=8)
    record = result.run.manifest["retrain"]
    assert record["holdout"]["stratified"] is False and record["greater_is_better"] is False
    assert "lower is better" in record["reasons"][0]
    current, retrained = record["current"]["holdout_score"], record["retrained"]["holdout_score"]
    assert (record["decision"] == RETRAINED) == (retrained <= current)
    assert load_model(result.production).predict(fresh.head(3)).shape == (3,)


def test_a_leaking_column_in_the_new_data_stops_the_retrain_unless_allowed(parent, fresh, tmp_path):
    """The run's data checks guard a retrain too: a copy of the label among the features is an error."""
    leaky = fresh.copy()
    leaky["fare"] = leaky["survived"] * 10.0
    data = write(leaky, tmp_path / "leaky.csv")
    out = tmp_path / "runs"
    refused = CliRunner().invoke(app, ["retrain", str(parent.path), "--data", str(data), "--out", str(out),
                                       "--time-budget", "8"])
    assert refused.exit_code != 0 and "single_feature_leak" in refused.output and "fare" in refused.output
    (stopped,) = out.glob("titanic/*/manifest.json")
    manifest = json.loads(stopped.read_text())
    assert manifest["status"] == "failed" and manifest["phases"]["quality"]["status"] == "failed"
    assert "production" not in manifest["phases"]
    findings = json.loads((stopped.parent / "quality.json").read_text())["findings"]
    assert any(f["check"] == "single_feature_leak" and f["severity"] == "error" and "fare" in f["columns"]
               for f in findings)

    allowed = CliRunner().invoke(app, ["retrain", str(parent.path), "--data", str(data), "--out", str(out),
                                       "--time-budget", "8", "--allow", "single_feature_leak"])
    assert allowed.exit_code == 0, allowed.output
