"""A whole run on a folder of three tables (train, test, customers, and a timed history of orders): the
relations are found and recorded, the production model carries its joins, and `podium predict`, `serve` and
`monitor` take raw rows and join them as the run did."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from agent.config import ServeSettings
from agent.services.serve.service import PredictionService
from cli import app
from tests.relations.synthetic import tables

runner = CliRunner()


def test_a_three_table_folder_runs_and_its_model_serves_raw_rows(ray_local, tmp_path):
    t = tables(rows=400)
    folder = tmp_path / "shop"
    folder.mkdir()
    t["train"].to_csv(folder / "train.csv", index=False)
    t["test"].to_csv(folder / "test.csv", index=False)
    pd.DataFrame({"id": t["test"].id, "churned": 0.5}).to_csv(folder / "sample_submission.csv", index=False)
    t["customers"].to_parquet(folder / "customers.parquet")
    t["orders"].to_csv(folder / "orders.csv.gz", index=False)
    (folder / "notes.csv").write_text("")  # not a table: reported and left out
    result = runner.invoke(app, ["run", str(folder), "--time-limit", "30", "--out", str(tmp_path / "runs")])
    assert result.exit_code == 0, result.output
    run_dir = next((tmp_path / "runs" / "shop").iterdir())
    manifest = json.loads((run_dir / "manifest.json").read_text())
    relations = {r["table"]: r for r in manifest["relations"]["relations"]}
    assert relations["customers"]["kind"] == "lookup" and relations["customers"]["status"] == "joined"
    assert relations["orders"]["kind"] == "history" and relations["orders"]["time"] == "ordered_at"
    assert relations["orders"]["coverage"]["test"] == 1.0 and "SELECT" in relations["orders"]["sql"]
    assert "notes" in manifest["relations"]["unrelated"]
    assert "orders.amount.mean" in manifest["competition"]["features"]

    from agent.runtime import load_model

    artifact = run_dir / "production"
    model = load_model(artifact)
    assert {j.table for j in model.schema.relations} == {"customers", "orders"}
    assert (artifact / "side" / "orders.parquet").is_file()
    assert "customer_id" in model.schema.input_names and "orders.amount.mean" not in model.schema.input_names
    card = json.loads((artifact / "model_card.json").read_text())
    assert card["size"]["side_bytes"] > 0

    raw = t["test"]  # raw rows: no joined column
    out = tmp_path / "predictions.csv"
    predicted = runner.invoke(app, ["predict", str(artifact), str(folder / "test.csv"), "-o", str(out)])
    assert predicted.exit_code == 0, predicted.output
    by_file = pd.read_csv(out)["churned"].to_numpy()
    service = PredictionService(load_model(artifact), ServeSettings())
    answered = service.predict_body(json.dumps({"rows": raw.head(25).to_dict("records")}).encode())
    np.testing.assert_allclose([p["churned"] for p in answered["predictions"]], by_file[:25], rtol=1e-9)
    one = [model.predict_raw(row) for row in raw.head(5).to_dict("records")]  # one served row at a time
    np.testing.assert_allclose(np.ravel(one), np.ravel(model.predict_raw(raw.head(5))), rtol=1e-9)
    assert {"name": "customer_id", "kind": "categorical"} in service.health()["features"] or \
        {"name": "customer_id", "kind": "join key"} in service.health()["features"]

    report = (run_dir / "report.md").read_text()
    assert "Side tables" in report and "customers" in report and "orders" in report

    from agent.services.monitor.command import run_monitor

    report, _ = run_monitor(artifact, folder / "test.csv", tmp_path / "monitor")
    assert "orders.amount.mean" in {feature.name for feature in report.features}

    from agent.services.retrain import RETRAINED, retrain

    fresh = tables(rows=400, seed=1)["train"]  # new labelled rows, raw: keys and dates, no joined column
    fresh.to_csv(tmp_path / "fresh.csv", index=False)
    result = retrain(run_dir, tmp_path / "fresh.csv", time_budget_s=8)
    retrained = json.loads((result.run.path / "manifest.json").read_text())
    assert retrained["status"] == "succeeded", retrained.get("error")
    if retrained["retrain"]["decision"] == RETRAINED:
        shipped = load_model(result.run.path / "production")
        assert shipped.schema.relations and (result.run.path / "production" / "side" / "orders.parquet").is_file()
        assert len(shipped.predict(raw.head(3))) == 3
