"""The leaderboard model's costs and top features, for the model card beside the production model's.

The leaderboard submission is a blend; its AutoGluon part is what a deployment would load, so latency is
AutoGluon's best model timed with podium's one latency function (raw rows in, time-capped: it can take
hundreds of ms a row): in the fit task while the model is in memory (loading a stacked predictor again can
take half a minute), else loaded from disk here. Size is everything the blend needs on disk (models/ and the
studies' predictions), training cost is the leaderboard phase as measured (wall time, CPU-seconds inside
its tasks), and top features are AutoGluon's permutation importance on out-of-fold predictions, in the
competition metric. What is left to measure runs as one Ray task beside the production phase, held to the one
core it asked for (agent/run/cores.py): the production phase times its models on the other.
"""

from __future__ import annotations

import json
import logging
import math
import time
from pathlib import Path
from typing import Any

from agent.atomic import write_json
from agent.columns import autogluon_name, decoded, with_encoded_names
from agent.run.cores import confined

log = logging.getLogger("podium.leaderboard")
PARTIAL_FIGURES = ".leaderboard-latency.json"  # the latency as soon as it is known (fit task or figures task)


def autogluon_figures(models: str, rows, problem_type: str, seconds: float, top: int,
                      partial: str | None = None, latency: bool = True) -> dict[str, Any]:
    """Latency (unless `latency` is False: timed already) and top features of AutoGluon's best model (a Ray
    task); half of `seconds` for each.

    The latency is also written to `partial` as soon as it is measured, so a task still computing the
    importance at its deadline still yields it.
    """
    from autogluon.tabular import TabularPredictor

    with confined(1):  # the production phase measures its models' latency beside this task
        return _figures(TabularPredictor.load(models, require_py_version_match=False, verbosity=0),
                        rows, problem_type, seconds, top, partial, latency)


def _figures(predictor, rows, problem_type: str, seconds: float, top: int, partial: str | None,
             latency: bool) -> dict[str, Any]:
    from agent.runtime import measure_latency
    from strategies.autogluon_latency import served

    rows = with_encoded_names(rows, autogluon_name)  # the names AutoGluon was fitted on (strategies/autogluon.py)
    started = time.monotonic()
    figures: dict[str, Any] = {}
    if latency:
        predictor.persist()
        report = measure_latency(served(predictor, problem_type), rows, warmup=2, max_seconds=max(1.0, seconds / 4),
                                 repeats=1)
        figures["latency"] = report.card(
            f"AutoGluon's best model ({predictor.model_best}) loaded from disk, raw rows in, in a Ray worker; "
            "single-row calls capped in time")
        if partial:
            write_json(Path(partial), figures)
    figures["top_features"] = _importance(predictor, started + seconds, top)
    return figures


def _importance(predictor, end: float, top: int) -> list[dict[str, Any]]:
    """Permutation importance of AutoGluon's best first-level model on out-of-fold predictions, until `end`
    (time.monotonic): features in a random order, one first, then batches sized, from the seconds a feature
    took so far, to half the time left, while one more feature still ends in time; a stopped one is a random
    sample of the features. AutoGluon's own time limit always finishes one shuffle of every feature: with a bag
    of large boosters that ran 33 s past a 15 s deadline, beside the production phase timing its models."""
    import numpy as np
    import pandas as pd

    board = predictor.leaderboard(silent=True)
    level_one = board[board["stack_level"] == 1].sort_values("score_val", ascending=False)
    model = level_one["model"].iloc[0] if len(level_one) else None
    # Out of fold: each fold model of the bag is scored on the rows it never saw (the run's folds), in the
    # bag's own input features (AutoGluon's cleaned versions of the raw columns).
    trainer = predictor._trainer
    bag = trainer.load_model(model)
    X, y = trainer.load_X(), trainer.load_y()
    features = list(np.random.default_rng(0).permutation(bag.load_child(bag.models[0]).features))
    frames, done, spent = [], 0, 0.0
    while done < len(features):
        per_feature = spent / done if done else 0.0
        left = end - time.monotonic()
        if left <= per_feature:
            break
        size = 1 if not done else max(1, int(left / 2 / max(per_feature, 1e-3)))
        batch = features[done:done + size]
        begun = time.monotonic()
        frames.append(bag.compute_feature_importance(X, y, features=batch, is_oof=True, silent=True,
                                                     num_shuffle_sets=1))
        spent, done = spent + time.monotonic() - begun, done + len(batch)
    if not frames:
        return []
    frame = pd.concat(frames).sort_values("importance", ascending=False).head(top)
    return [{"feature": decoded(str(name)), "importance": float(row["importance"]),
             "std": 0.0 if math.isnan(row["stddev"]) else float(row["stddev"])} for name, row in frame.iterrows()]


def keep_latency(run_dir: Path, candidates) -> None:
    """The latency the fit task timed in memory, kept for the model card (the figures task then skips it)."""
    timed = next((c.latency for c in candidates if c.latency), None)
    if timed is not None:
        write_json(run_dir / PARTIAL_FIGURES, {"latency": timed})


def start_measuring(run_dir: Path, executor, rows, problem_type: str, seconds: float, top: int = 10):
    """Start measuring the leaderboard model as a Ray task (it runs beside the production phase)."""
    from strategies.autogluon import DONE as AUTOGLUON_DONE

    if not (run_dir / "models" / AUTOGLUON_DONE).is_file() or seconds < 1:  # no finished AutoGluon fit
        return None
    timed = (run_dir / PARTIAL_FIGURES).is_file()  # the fit task timed its model while it was in memory
    return executor.submit(autogluon_figures, str(run_dir / "models"), rows, problem_type, seconds, top,
                           str(run_dir / PARTIAL_FIGURES), latency=not timed, name="leaderboard-figures",
                           num_cpus=1)


def leaderboard_figures(run_dir: Path, manifest: dict[str, Any], executor, measuring, wait: float) -> dict[str, Any]:
    """Figures of the leaderboard model under the model card's names (latency, size, training...).

    `measuring` is the task from `start_measuring` (or None); its result is awaited at most `wait` seconds.
    """
    from agent.runtime import directory_bytes

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
    partial = run_dir / PARTIAL_FIGURES
    if partial.is_file():  # the latency, timed in the fit task or by the figures task before its importance
        figures.update(json.loads(partial.read_text()))
    if measuring is not None:
        try:
            figures.update(executor.result(measuring, timeout=max(0.5, wait)))
            figures["top_features_method"] = (
                "AutoGluon permutation importance of its best first-level model on out-of-fold predictions, in "
                "the competition metric (drop in score when the feature is shuffled; higher matters more)")
        except Exception as error:  # noqa: BLE001 - the card stays useful without them
            executor.cancel(measuring)
            if "latency" in figures:
                log.warning("The leaderboard model's top features did not finish in time (%s); its latency did",
                            type(error).__name__)
            else:
                log.warning("Could not measure the leaderboard model in time: %s", error)
    (run_dir / PARTIAL_FIGURES).unlink(missing_ok=True)
    return figures
