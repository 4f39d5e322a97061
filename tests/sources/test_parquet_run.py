"""A tiny run from Parquet files whose columns carry types CSV loses (a date, a categorical, an integer with
missing values), then `podium predict` from Parquet to Parquet and `podium arena prepare` from Parquet."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cli import app
from tests.conftest import local_ray, make_tables

runner = CliRunner()


def typed(n: int, seed: int = 0) -> pd.DataFrame:
    frame = make_tables(n, seed=seed, target_values=lambda s: (s > 0.2).astype(int))
    rng = np.random.default_rng(seed)
    frame["colour"] = pd.Categorical(frame["colour"])
    frame["visits"] = pd.array([None if v < 2 else int(v) for v in rng.integers(0, 30, n)], dtype="Int64")
    frame["signed_up"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 400, n), unit="D")
    return frame


@pytest.fixture(scope="module")
def parquet_run(tmp_path_factory):
    local_ray(tmp_path_factory)
    folder = tmp_path_factory.mktemp("pq") / "typed"
    folder.mkdir()
    frame = typed(300)
    frame.iloc[:220].to_parquet(folder / "train.parquet", index=False)
    frame.iloc[220:].drop(columns="target").to_parquet(folder / "test.parquet", index=False)
    frame.iloc[220:][["id"]].assign(target=0.5).to_parquet(folder / "sample_submission.parquet", index=False)
    out = tmp_path_factory.mktemp("runs")
    result = runner.invoke(app, ["run", str(folder), "--time-limit", "25", "--out", str(out), "--metric", "AUC"])
    assert result.exit_code == 0, result.output
    return folder, next((out / "typed").iterdir())


def test_a_run_from_parquet_keeps_the_types(parquet_run):
    folder, run_dir = parquet_run
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "succeeded"
    assert {read["format"] for read in manifest["data_sources"].values()} == {"parquet"}
    schema = {c["name"]: c for c in json.loads((run_dir / "production" / "schema.json").read_text())["columns"]}
    assert schema["visits"]["dtype"] == "Int64" and schema["visits"]["kind"] == "numeric"
    assert schema["colour"]["dtype"] == "category"
    submission = pd.read_csv(run_dir / "submission.csv")
    assert len(submission) == 80 and submission["target"].between(0, 1).all()


def test_predict_reads_and_writes_parquet(parquet_run, tmp_path):
    folder, run_dir = parquet_run
    out = tmp_path / "preds.parquet"
    result = runner.invoke(app, ["predict", str(run_dir / "production"), str(folder / "test.parquet"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    predictions = pd.read_parquet(out)
    assert list(predictions.columns) == ["id", "target"] and len(predictions) == 80
    assert predictions["id"].tolist() == pd.read_parquet(folder / "test.parquet")["id"].tolist()


def test_arena_prepare_reads_parquet(tmp_path):
    source = tmp_path / "labelled.parquet"
    typed(200, seed=1).to_parquet(source, index=False)
    result = runner.invoke(app, ["arena", "prepare", str(source), "--target", "target", "--metric", "AUC",
                                 "--id-column", "id", "--out", str(tmp_path / "arena" / "typed")])
    assert result.exit_code == 0, result.output
    assert len(pd.read_csv(tmp_path / "arena" / "typed" / "public" / "train.csv")) == 150
