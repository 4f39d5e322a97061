"""The data checks read the relations: orphans by share, coverage differing between train and test, and a
lookup whose key repeats."""

from __future__ import annotations

import pandas as pd

from agent.checks import run_checks
from agent.competition.inference import infer_competition
from agent.competition.relations.build import join_relations
from agent.competition.tables import CompetitionData
from agent.config import load_settings


def test_orphans_differing_coverage_and_repeated_lookup_keys_are_findings(tmp_path):
    train = pd.DataFrame({"id": range(40), "store_id": [1, 2, 3, 4] * 10, "x": range(40), "y": [0, 1] * 20})
    test = pd.DataFrame({"id": range(40, 50), "store_id": [1, 9, 9, 9, 9, 2, 9, 9, 9, 9], "x": range(10)})
    stores = pd.DataFrame({"store_id": [1, 2, 3, 4, 4], "size": [1.0, 2.0, 3.0, 4.0, 5.0]})
    data = CompetitionData(train=train, test=test, sample_submission=pd.DataFrame({"id": test.id, "y": 0}),
                           tables={"stores": stores})
    data = join_relations(data, {"stores": {"on": "store_id", "kind": "lookup"}}, tmp_path)
    competition = infer_competition("shops", data)
    assert "stores.size" in competition.features and competition.relations["joins"][0]["table"] == "stores"
    report = run_checks(competition, data, load_settings().quality)
    found = {(f.check, f.severity): f for f in report.findings}
    coverage = found[("relation_coverage", "warning")]
    assert coverage.measured == {"table": "stores", "train_orphan_share": 0.0, "test_orphan_share": 0.8}
    assert found[("relation_repeated_keys", "warning")].measured["repeated_keys"] == 1
    assert data.train["stores.size"].tolist()[:4] == [1.0, 2.0, 3.0, 4.0]  # the first row of a repeated key


def test_a_side_column_that_leaks_the_target_is_caught(tmp_path):
    """A lookup keyed by the row's own id whose column is the answer: the leakage checks name the joined column."""
    import numpy as np

    rng = np.random.default_rng(0)
    train = pd.DataFrame({"id": range(300), "x": rng.normal(size=300), "y": rng.integers(0, 2, 300)})
    test = pd.DataFrame({"id": range(300, 400), "x": rng.normal(size=100)})
    outcome = pd.DataFrame({"id": range(400), "status": list(train.y * 10 + 3) + list(rng.integers(0, 2, 100))})
    data = CompetitionData(train=train, test=test, sample_submission=pd.DataFrame({"id": test.id, "y": 0}),
                           tables={"outcomes": outcome})
    data = join_relations(data, None, tmp_path)
    competition = infer_competition("leaky", data)
    report = run_checks(competition, data, load_settings().quality)
    leaks = [f for f in report.findings if f.check == "single_feature_leak" and f.severity == "error"]
    assert leaks and "outcomes.status" in leaks[0].columns
