"""A production model built on joined columns carries its joins: saved with its side data, loaded elsewhere,
it takes raw rows (keys and times, no joined column) one at a time or as a table and predicts what the run's
joined rows predict; its latency is measured from raw rows, joins included."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from agent.competition.dataset import build_dataset
from agent.competition.inference import infer_competition
from agent.competition.relations.build import join_relations
from agent.competition.tables import CompetitionData
from agent.errors import InputError
from agent.runtime import load_model
from strategies.production.families import linear_floor as _linear
from strategies.production.problem import make_problem, serving_rows
from tests.relations.synthetic import tables


def test_a_saved_model_joins_raw_rows_as_the_run_did(tmp_path):
    t = tables(rows=300)
    import pandas as pd

    data = CompetitionData(train=t["train"], test=t["test"], sample_submission=pd.DataFrame(
        {"id": t["test"].id, "churned": 0}), tables={k: t[k] for k in ("customers", "regions", "orders")})
    data = join_relations(data, None, tmp_path / "run" / "relations")
    competition = infer_competition("shop", data)
    dataset = build_dataset(competition, data, 4, 0)
    problem = make_problem(competition, dataset)
    rows = serving_rows(dataset, problem.schema)
    assert "customer_id" in rows.columns and "date" in rows.columns and "orders.count" not in rows.columns
    candidate = _linear(problem, tmp_path / "work", rows, 50)
    assert candidate.latency is not None  # measured from raw rows: the joins ran in it
    moved = tmp_path / "elsewhere"
    shutil.copytree(candidate.folder, moved)
    shutil.rmtree(tmp_path / "run")  # the run's side data is gone: the artifact carries its own
    model = load_model(moved)
    assert (moved / "side" / "orders.parquet").is_file()
    raw = t["test"]
    by_table = model.predict_raw(raw)
    one_by_one = np.array([model.predict_raw(row) for row in raw.to_dict("records")]).ravel()
    np.testing.assert_allclose(by_table, one_by_one, rtol=1e-9)
    joined = dataset.X_test  # the run's own joined test rows
    np.testing.assert_allclose(model.predict_raw(joined), by_table, rtol=1e-9)
    with pytest.raises(InputError, match=r"lacks column\(s\) \['customer_id'\] needed to join"):
        model.predict_raw(raw.drop(columns=["customer_id"]).head(2))
