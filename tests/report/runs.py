"""Hand-made run directories shaped like podium's: complete, failed, killed, and with hostile strings."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import yaml

HOSTILE_COLUMN = '<script>alert("column")</script>'
HOSTILE_MESSAGE = "Column breaks <img src=x onerror=alert(1)> | pipes & </table> tags"
HOSTILE_CANDIDATE = "optuna-lightgbm/<b>trial</b>|7"


def png(width: float = 4, height: float = 3) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    fig.add_subplot().plot([1, 2, 3], [1, 3, 2])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def phases(*names: str, failed: str | None = None, running: str | None = None) -> dict[str, Any]:
    out = {}
    for i, name in enumerate(names):
        status = "failed" if name == failed else ("running" if name == running else "succeeded")
        out[name] = {"status": status, "started_at": f"2026-11-28T10:00:{i:02d}.000000Z",
                     "seconds": None if status == "running" else 1.5 + i}
    return out


def manifest(hostile: bool = False) -> dict[str, Any]:
    column = HOSTILE_COLUMN if hostile else "age"
    candidate = HOSTILE_CANDIDATE if hostile else "optuna-lightgbm/trial-7"
    return {
        "podium_version": "0.1.0", "run_id": "20261128-100000-abc123", "competition_slug": "titanic",
        "status": "succeeded", "started_at": "2026-11-28T10:00:00.000000Z",
        "finished_at": "2026-11-28T10:01:00.000000Z", "error": None, "seconds": 58.2, "time_limit": 60.0,
        "source": "/data/titanic", "seed": 0,
        "phases": phases("fetch", "ray_start", "load", "infer", "quality", "prepare", "leaderboard", "submission",
                         "production"),
        "versions": {"python": "3.11.7", "podium": "0.1.0"},
        "host_metadata": {"title": "Titanic"},
        "competition": {
            "slug": "titanic", "id_column": "id", "target": "survived", "problem_type": "binary",
            "metric_name": "AUC", "submission_format": "probability", "submission_columns": ["id", "survived"],
            "features": ["pclass", "sex", column], "classes": [0, 1], "class_columns": [], "positive_class": 1,
            "dropped_columns": [], "metadata": {"title": "Titanic"},
            "provenance": {"id_column": "inferred: the column shared by sample submission and test",
                           "target": "inferred: the sample submission's column that is in train",
                           "evaluation_metric": "configs/competitions/titanic.yaml", "task": "command line",
                           "positive_class": "inferred: the second class in sorted order",
                           "submission_format": "inferred: AUC scores the probability of the positive class"}},
        "data": {"train_rows": 300, "test_rows": 100, "features": 3, "folds": 5},
        "leaderboard": {
            "candidates": [
                {"name": "autogluon/CatBoost_BAG_L1", "strategy": "autogluon", "oof_score": 0.861,
                 "fit_seconds": 7.1, "artifact": "models", "model": "CatBoost_BAG_L1"},
                {"name": candidate, "strategy": "optuna-lightgbm", "oof_score": 0.842, "fit_seconds": 1.2,
                 "artifact": "studies", "params": {"num_leaves": 10}},
                {"name": "optuna-xgboost/trial-3", "strategy": "optuna-xgboost", "oof_score": 0.8301,
                 "fit_seconds": 2.0, "artifact": "studies"}],
            "ensemble": {"name": "ensemble", "strategy": "ensemble", "oof_score": 0.8712, "fit_seconds": 10.3,
                         "weights": {"autogluon/CatBoost_BAG_L1": 0.6, candidate: 0.4}, "iterations": 50,
                         "threshold": 0.43},
            "studies": [{"learner": "lightgbm", "trials": 20, "complete": 12, "pruned": 7, "fail": 1,
                         "seconds": 9.5, "cpu_seconds": 8.8, "best_oof_score": 0.842}],
            "timings": {"autogluon": 25.0, "total": 40.0},
            "costs": {"autogluon_cpu_seconds": 30.5, "optuna_lightgbm_cpu_seconds": 8.8, "cpu_seconds": 39.3}},
        "validation": {"metric": "AUC", "score": 0.8712, "model": "ensemble", "greater_is_better": True,
                       "best_single": {"name": "autogluon/CatBoost_BAG_L1", "oof_score": 0.861},
                       "method": "out-of-fold over 5 folds"},
        "artifacts": {"submission": "/elsewhere/submission.csv"},
        "submission": {"competition": "titanic", "status": "COMPLETE", "ref": 123456, "public_score": 0.80213,
                       "private_score": None, "error": None, "message": "podium run 20261128-100000-abc123",
                       "endpoint": "http://127.0.0.1:8000", "submitted_at": "2026-11-28T10:01:05Z",
                       "scored_at": "2026-11-28T10:01:09Z"},
    }


def quality(hostile: bool = False, error: bool = False) -> dict[str, Any]:
    column = HOSTILE_COLUMN if hostile else "cabin"
    findings = [
        {"check": "missing_values", "severity": "warning", "columns": [column],
         "message": HOSTILE_MESSAGE if hostile else "1 feature(s) are missing in more than 50% of rows",
         "measured": {"rates": {column: {"train": 0.79, "test": 0.77}}}},
        {"check": "adversarial_validation", "severity": "info", "columns": ["fare"],
         "message": "Train and test look alike: AUC 0.51", "measured": {"auc": 0.5123, "folds": 3}},
    ]
    if error:
        findings.insert(0, {"check": "single_feature_leak", "severity": "error", "columns": ["leaky"],
                            "message": "Feature 'leaky' alone predicts the target (AUC 0.999)",
                            "measured": {"auc": 0.999}, "allowed": False})
    counts = {s: sum(f["severity"] == s for f in findings) for s in ("info", "warning", "error")}
    return {"passed": not error, "counts": counts, "allow": [], "rows": {"train": 300, "test": 100}, "features": 3,
            "checks": ["missing_values", "adversarial_validation", "single_feature_leak"],
            "seconds": {"total": 0.8}, "findings": findings}


def card(leaderboard_figures: bool = False, hostile: bool = False) -> dict[str, Any]:
    board: dict[str, Any] = {"score": 0.8712, "difference": -0.0123, "score_given_up": 0.0123,
                             "explained": "difference = production - leaderboard"}
    if leaderboard_figures:  # the card's leaderboard part, under the production part's names
        board |= {"latency": {"p50_ms_batch1": 41.0, "p99_ms_batch1": 87.5, "throughput_rows_s_batch1000": 2100.0,
                              "cpu_seconds_per_million": 950.0, "cpu_seconds_per_million_single_row": 40000.0,
                              "calls": 120, "batch_size": 100, "measured": "AutoGluon's best model in memory"},
                  "size": {"serving_bytes": 48_000_000},
                  "training": {"fit_seconds": 40.0, "cpu_seconds": 39.3, "retrain_seconds_estimate": 55.0},
                  "top_features": [{"feature": "sex", "importance": 0.2, "std": 0.01},
                                   {"feature": "fare", "importance": 0.05, "std": 0.02}]}
    return {
        "format": "podium.model_card", "version": 1, "created_at": "2026-11-28T10:00:00Z",
        "competition": {"slug": "titanic", "problem_type": "binary", "target": "survived",
                        "submission_format": "probability"},
        "model": {"name": "lightgbm/t03-L15-T60", "family": "lightgbm", "params": {"num_leaves": 15},
                  "note": "note with <i>markup</i>" if hostile else ""},
        "validation": {"metric": "AUC", "greater_is_better": True, "score": 0.8589,
                       "method": "out-of-fold over the run's 5 folds", "score_source": "out-of-fold"},
        "leaderboard": board,
        "budgets": {"latency_ms_p99": 1.0, "size_bytes": 5_000_000, "throughput_rows_s": None,
                    "within_budget": True},
        "latency": {"p50_ms_batch1": 0.041, "p99_ms_batch1": 0.164, "calls": 200,
                    "throughput_rows_s_batch1000": 82717.8, "batch_size": 1000, "cpu_seconds_per_million": 11.87,
                    "cpu_seconds_per_million_single_row": 51.58, "measured": "in-process, raw rows in"},
        "size": {"serving_bytes": 17513, "directory_bytes": 60000, "explained": "serving_bytes: what load_model reads"},
        "training": {"fit_seconds": 0.21, "validation_seconds": 0.9, "teacher_seconds": 0.0,
                     "retrain_seconds_estimate": 0.21, "retrain_explained": "refit on all rows",
                     "search_seconds": 4.0, "candidates_measured": 2},
        "data": {"rows": 300, "columns": 3, "sha256": "0" * 64},
        "machine": {"cpus": 2}, "versions": {"podium": "0.1.0"}, "monitoring": {"reference_profile": None},
        "top_features": [{"feature": HOSTILE_COLUMN if hostile else "sex", "importance": 0.21, "std": 0.05},
                         {"feature": "pclass", "importance": 0.03, "std": 0.02}],
        "top_features_method": "permutation importance on the validation folds in AUC",
    }


def candidates() -> dict[str, Any]:
    def one(name, family, score, p99, size, fits, status="measured"):
        latency = {"p50_ms": p99 / 2, "p99_ms": p99, "mean_ms": p99 / 2, "calls": 1000, "batch_size": 1000,
                   "throughput_rows_s": 80000.0, "cpu_seconds_per_million": 12.5,
                   "cpu_seconds_per_million_single": 60.0, "complete": True}
        return {"name": name, "family": family, "status": status, "score": score, "size_bytes": size,
                "score_source": "out-of-fold on the run's folds", "fit_seconds": 0.5, "oof_seconds": 2.0,
                "latency": latency, "params": {}, "within_budget": fits, "note": ""}

    return {"format": "podium.production_candidates", "version": 1,
            "budgets": {"latency_ms": 1.0, "size_bytes": 5_000_000}, "metric": "AUC", "greater_is_better": True,
            "leaderboard_score": 0.8712, "chosen": "lightgbm/t03-L15-T60",
            "candidates": [one("linear/C1", "linear", 0.84, 0.05, 5046, True),
                           one("lightgbm/t03-L15-T60", "lightgbm", 0.8589, 0.164, 17513, True),
                           one("autogluon/best", "autogluon", 0.8712, 90.0, 48_000_000, False)]}


def write_run(root: Path, *, hostile: bool = False, leaderboard_figures: bool = False,
              production: bool = True) -> Path:
    """A complete, successful run directory (no models: the report never opens them)."""
    root.mkdir(parents=True, exist_ok=True)
    write_json(root / "manifest.json", manifest(hostile))
    write_json(root / "quality.json", quality(hostile))
    (root / "config.yaml").write_text(yaml.safe_dump({
        "run": {"time_limit": 60.0, "seed": 0, "folds": 5}, "leaderboard": {"presets": "best_quality"},
        "search": {"learners": ["lightgbm"], "autogluon_share": 0.65},
        "production": {"latency_ms": 1.0, "size_mb": 5.0, "throughput": None}, "quality": {"allow": []}}))
    (root / "submission.csv").write_text("id,survived\n" + "".join(f"{i},0.5\n" for i in range(100)))
    if production:
        folder = root / "production"
        folder.mkdir()
        write_json(folder / "model_card.json", card(leaderboard_figures, hostile))
        write_json(folder / "candidates.json", candidates())
        (folder / "frontier.png").write_bytes(png())
    return root


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=1))


def edit_manifest(root: Path, drop: tuple[str, ...] = (), **changes: Any) -> dict[str, Any]:
    data = json.loads((root / "manifest.json").read_text())
    for key in drop:
        data.pop(key, None)
    data.update(changes)
    write_json(root / "manifest.json", data)
    return data
