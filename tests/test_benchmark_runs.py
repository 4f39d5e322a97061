"""The whole-run benchmark removes each scored run's AutoGluon models (a round of them fills a disk) and keeps
everything else the run wrote."""

from __future__ import annotations

from benchmarks.runs import drop_models


def test_a_scored_runs_models_are_removed_and_the_rest_is_kept(tmp_path):
    run = tmp_path / "run"
    (run / "models" / "LightGBM_BAG_L1" / "S1F1").mkdir(parents=True)
    (run / "models" / "LightGBM_BAG_L1" / "S1F1" / "model.pkl").write_bytes(b"x" * 2_000_000)
    (run / "models" / "trainer.pkl").write_bytes(b"x" * 500_000)
    (run / "submission.csv").write_text("id,y\n1,0.5\n")
    (run / "manifest.json").write_text("{}")

    assert drop_models(run / "models") == 2.5
    assert not (run / "models").exists()
    assert sorted(path.name for path in run.iterdir()) == ["manifest.json", "submission.csv"]
    assert drop_models(run / "models") is None  # nothing left to remove: no error either
