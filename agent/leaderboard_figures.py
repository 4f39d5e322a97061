"""The leaderboard model's costs and top features, for the model card beside the production model's.

The leaderboard submission is a blend; its AutoGluon part is what a deployment would load, so latency is
the production phase's measurement of AutoGluon's best model (a deployment clone, re-loaded from disk),
size is everything the blend needs on disk (models/ and the studies' predictions), training cost is the
leaderboard phase as measured (wall time, CPU-seconds inside its tasks), and top features are AutoGluon's
permutation importance on out-of-fold predictions, in the competition metric.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

from agent.atomic import write_json, write_text

log = logging.getLogger("podium.leaderboard")
DEPLOYED = "autogluon/best-deploy"


def autogluon_importance(models: str, seconds: float, top: int) -> list[dict[str, Any]]:
    """Permutation importance of AutoGluon's best model on out-of-fold predictions (a Ray task)."""
    from autogluon.tabular import TabularPredictor

    predictor = TabularPredictor.load(models, require_py_version_match=False, verbosity=0)
    board = predictor.leaderboard(silent=True)
    level_one = board[board["stack_level"] == 1].sort_values("score_val", ascending=False)
    model = level_one["model"].iloc[0] if len(level_one) else None
    # Out of fold: each fold model of the bag is scored on the rows it never saw (the run's folds), in the
    # bag's own input features (AutoGluon's cleaned versions of the raw columns).
    trainer = predictor._trainer
    bag = trainer.load_model(model)
    frame = bag.compute_feature_importance(trainer.load_X(), trainer.load_y(), is_oof=True,
                                           time_limit=max(1.0, seconds), silent=True, num_shuffle_sets=2)
    frame = frame.sort_values("importance", ascending=False).head(top)
    return [{"feature": str(name), "importance": float(row["importance"]),
             "std": 0.0 if math.isnan(row["stddev"]) else float(row["stddev"])} for name, row in frame.iterrows()]


def start_importance(run_dir: Path, executor, seconds: float, top: int = 10):
    """Start the leaderboard model's permutation importance as a Ray task (it runs beside the production phase)."""
    if not (run_dir / "models").is_dir() or seconds < 1:
        return None
    return executor.submit(autogluon_importance, str(run_dir / "models"), seconds, top,
                           name="leaderboard-importance", num_cpus=1)


def leaderboard_figures(run_dir: Path, manifest: dict[str, Any], production, executor, importance,
                        wait: float) -> dict[str, Any]:
    """Figures of the leaderboard model under the model card's names (latency, size, training...).

    `importance` is the task from `start_importance` (or None); its result is awaited at most `wait` seconds.
    """
    from agent.production import directory_bytes

    phase = manifest.get("phases", {}).get("leaderboard", {})
    board = manifest.get("leaderboard", {})
    weights = board.get("ensemble", {}).get("weights", {})
    figures: dict[str, Any] = {
        "model": {"name": "ensemble", "family": f"blend of {len(weights)} candidates", "weights": weights},
        "training": {"fit_seconds": phase.get("seconds"), "cpu_seconds": board.get("costs", {}).get("cpu_seconds"),
                     "retrain_seconds_estimate": phase.get("seconds"),
                     "note": "retraining repeats the leaderboard phase with the same budget"},
        "size": {"serving_bytes": sum(directory_bytes(run_dir / name) for name in ("models", "studies")
                                      if (run_dir / name).is_dir()),
                 "note": "models/ and studies/ on disk: everything the blend's predictions came from"},
    }
    deployed = next((c for c in (production.candidates if production else []) if c.name == DEPLOYED
                     and getattr(c, "measured", False)), None)
    if deployed is not None:
        latency = deployed.latency
        figures["latency"] = {
            "p50_ms_batch1": latency.p50_ms, "p99_ms_batch1": latency.p99_ms, "calls": latency.calls,
            "throughput_rows_s_batch1000": latency.throughput_rows_s,
            "cpu_seconds_per_million": latency.cpu_seconds_per_million,
            "measured": "AutoGluon's best model as a deployment clone, raw rows to prediction, loaded from disk"}
    if importance is not None:
        try:
            figures["top_features"] = executor.result(importance, timeout=max(0.5, wait))
            figures["top_features_method"] = (
                "AutoGluon permutation importance of its best first-level model on out-of-fold predictions, in "
                "the competition metric (drop in score when the feature is shuffled; higher matters more)")
        except Exception as error:  # noqa: BLE001 - the card stays useful without them
            log.warning("Could not compute the leaderboard model's feature importance: %s", error)
            executor.cancel(importance)
    return figures


def add_to_model_card(production_dir: Path, figures: dict[str, Any]) -> None:
    """Merge the leaderboard model's figures into model_card.json and re-render model_card.md."""
    import json

    from strategies.production.card import render_markdown

    path = production_dir / "model_card.json"
    card = json.loads(path.read_text())
    card["leaderboard"] = {**card.get("leaderboard", {}), **figures}
    write_json(path, card)
    write_text(production_dir / "model_card.md", render_markdown(card))
