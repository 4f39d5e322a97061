"""The model card: what the production model scores, what it gave up, what it costs to run and to retrain."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import platform
from typing import Any

import numpy as np
import pandas as pd

from agent.competition.dataset import Dataset
from agent.competition.metrics import Metric
from agent.runtime.card import ModelCard
from agent.runtime.latency import LatencyReport
from agent.versions import package_versions
from strategies.production.candidate import MB, Budgets, ProductionCandidate


def fingerprint(dataset: Dataset) -> dict[str, Any]:
    """Rows, columns and a hash of the training table (features and target) the model was fitted on."""
    digest = hashlib.sha256()
    digest.update("\x1f".join(map(str, dataset.X.columns)).encode())
    digest.update(pd.util.hash_pandas_object(dataset.X, index=False).to_numpy().tobytes())
    digest.update(np.ascontiguousarray(dataset.y).tobytes())
    return {"rows": int(len(dataset.X)), "columns": int(dataset.X.shape[1]), "sha256": digest.hexdigest()}


def build_card(*, slug: str, problem_type: str, target: str, submission_format: str, metric: Metric,
               chosen: ProductionCandidate, latency: LatencyReport, size_bytes: int,
               budgets: Budgets, leaderboard_score: float, validation: str, data: dict[str, Any],
               importance: list[dict[str, Any]] | None, importance_note: str, search_seconds: float,
               candidates: int, description: dict[str, Any], refused: list[str], directory_bytes: int,
               monitoring: dict[str, Any], side_bytes: int | None = None,
               budget_value: dict[str, Any] | None = None, onnx: dict[str, Any] | None = None,
               unstacked: tuple[str, float] | None = None, latency_measurements: int = 1) -> ModelCard:
    """The card of the exported model, with everything the export knows (the leaderboard model's costs and
    a retrain's decision are added by whoever writes it: agent/runtime/card.py)."""
    given_up = metric.signed(leaderboard_score) - metric.signed(chosen.score)
    within = latency.p99_ms <= budgets.latency_ms and size_bytes <= budgets.size_bytes and (
        not budgets.throughput or latency.throughput_rows_s >= budgets.throughput)
    return ModelCard.model_validate({
        "created_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "competition": {"slug": slug, "problem_type": problem_type, "target": target,
                        "submission_format": submission_format},
        "model": {"name": chosen.name, "family": chosen.family, "params": chosen.params, "note": chosen.note,
                  **description},
        "validation": {"metric": metric.name, "greater_is_better": metric.greater_is_better,
                       "score": chosen.score, "method": f"{validation}, the run's folds (the leaderboard's too)",
                       "score_source": chosen.score_source},
        "leaderboard": {"score": leaderboard_score, "difference": chosen.score - leaderboard_score,
                        "score_given_up": given_up,
                        "explained": "difference = production - leaderboard in the metric's own units; "
                                     "score_given_up is the same on a higher-is-better scale (positive: worse)",
                        **({"unstacked": _unstacked(unstacked, chosen.score, metric)} if unstacked else {})},
        "budgets": {"latency_ms_p99": budgets.latency_ms, "size_bytes": budgets.size_bytes,
                    "throughput_rows_s": budgets.throughput, "within_budget": bool(within),
                    "refused_on_export": list(refused)},
        "latency": latency.card("in-process, from raw dict rows to the submission-format prediction, after "
                                "loading the exported artifact from disk; a single-row call descheduled by other "
                                "work on the machine (off its core over 10% of its time) timed again, at most 3 "
                                "tries" + (
                                    f"; the median of {latency_measurements} measurements (by p99), the first "
                                    "having missed the latency budget" if latency_measurements > 1 else "")),
        "size": {"serving_bytes": size_bytes, "directory_bytes": directory_bytes, "side_bytes": side_bytes,
                 "explained": "serving_bytes: what load_model reads of the model (the budgeted size); side_bytes: "
                              "the side tables' data its joins read (side/, loaded into memory too, not budgeted: "
                              "docs/several-tables.md); directory_bytes: the whole folder except the two model "
                              "card files"},
        "training": {"fit_seconds": chosen.fit_seconds, "validation_seconds": chosen.oof_seconds,
                     "teacher_seconds": chosen.teacher_seconds,
                     "retrain_seconds_estimate": chosen.fit_seconds + chosen.teacher_seconds,
                     "retrain_explained": "refit of the served model on all rows (plus its teacher's fit for a "
                                          "distilled student), measured on this machine; no search needed",
                     "search_seconds": search_seconds, "candidates_measured": candidates},
        "data": data,
        "top_features": importance or [],
        "top_features_method": importance_note,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "versions": package_versions(),
        "monitoring": monitoring,
        **({"budget_value": budget_value} if budget_value else {}),
        **({"onnx": onnx} if onnx else {}),
    })


def _unstacked(unstacked: tuple[str, float], score: float, metric: Metric) -> dict[str, Any]:
    name, board = unstacked
    return {"name": name, "score": board, "score_given_up": metric.signed(board) - metric.signed(score),
            "explained": "the leaderboard model stacks: its second level learnt from predictions made on the rows "
                         "it is scored on, so its out-of-fold score flatters it and score_given_up overstates the "
                         "price of the production model; this is the same comparison with the best leaderboard "
                         "candidate that does not stack (docs/production.md)"}


def render_markdown(card: dict[str, Any]) -> str:
    """model_card.md: the same facts for a person."""
    v, lb, lat, tr = card["validation"], card["leaderboard"], card["latency"], card["training"]
    budgets, size, data = card["budgets"], card["size"], card["data"]
    direction = "higher is better" if v["greater_is_better"] else "lower is better"
    lines = [
        f"# Production model: {card['competition']['slug']}", "",
        f"**{card['model']['name']}** ({card['model']['family']}), predicting `{card['competition']['target']}` "
        f"({card['competition']['problem_type']}, submission format `{card['competition']['submission_format']}`).",
        "", "| | |", "|---|---|",
        f"| validation score | {v['score']:.6g} {v['metric']} ({direction}; {v['method']}) |",
        f"| leaderboard model | {lb['score']:.6g}; difference {lb['difference']:+.4g}, "
        f"score given up {lb['score_given_up']:+.4g} |",
        *([f"| best model that does not stack | {lb['unstacked']['name']}: {lb['unstacked']['score']:.6g}; score "
           f"given up {lb['unstacked']['score_given_up']:+.4g} (the stacked model's out-of-fold score flatters it) |"]
          if lb.get("unstacked") else []),
        f"| latency, one row | p50 {lat['p50_ms_batch1']:.3f} ms, p99 {lat['p99_ms_batch1']:.3f} ms "
        f"({lat['calls']} calls) |",
        f"| throughput, batch {lat['batch_size']} | {lat['throughput_rows_s_batch1000']:,.0f} rows/s |",
        f"| CPU per million predictions | {lat['cpu_seconds_per_million']:.3g} s in batches, "
        f"{lat['cpu_seconds_per_million_single_row']:.3g} s one row at a time |",
        f"| size on disk | {size['serving_bytes']:,} bytes ({size['serving_bytes'] / MB:.3g} MB) to serve |",
        f"| budgets | p99 <= {budgets['latency_ms_p99']} ms, size <= {budgets['size_bytes'] / MB:g} MB"
        + (f", >= {budgets['throughput_rows_s']} rows/s" if budgets["throughput_rows_s"] else "")
        + f": {'met' if budgets['within_budget'] else 'NOT met on re-measurement'} |",
        f"| fit time | {tr['fit_seconds']:.2f} s; retraining estimate {tr['retrain_seconds_estimate']:.1f} s"
        + (f"; production phase {tr['cpu_seconds']:.1f} CPU-seconds" if tr.get("cpu_seconds") is not None else "")
        + " |",
        f"| training data | {data['rows']:,} rows, {data['columns']} columns, sha256 {data['sha256'][:16]}... |",
        *([f"| ONNX export | {'yes' if card['onnx']['exportable'] else 'no'}: {card['onnx']['reason']} |"]
          if card.get("onnx") else []),
        "", f"Score source: {v['score_source']}. Latency: {lat['measured']}.", "",
        "## Top features", "", f"{card['top_features_method']}", "",
    ]
    if card["top_features"]:
        lines += ["| feature | importance | std |", "|---|---|---|"]
        lines += [f"| {f['feature']} | {f['importance']:.4g} | {f['std']:.2g} |" for f in card["top_features"]]
    lines += _budget_value_lines(card.get("budget_value"), v["metric"])
    lines += _leaderboard_lines(lb)
    retrain = card.get("retrain")
    if retrain:
        lines += ["", "## Retraining", "", f"Retrained from {retrain['parent_run']}; recipe: {retrain['recipe']}.",
                  f"Note: {retrain['leaderboard_reference']}.", "", *[f"- {reason}" for reason in retrain["reasons"]]]
    versions = ", ".join(f"{k} {v}" for k, v in card["versions"].items())
    lines += ["", "## Versions", "", versions, ""]
    return "\n".join(lines)


def _budget_value_lines(value: dict[str, Any] | None, metric: str) -> list[str]:
    """What other budgets would have bought, among the candidates measured."""
    if not value:
        return []
    lines = ["", "## What the budgets bought", "", "The best measured candidate within other budgets (gain: "
             "against the chosen model, higher is better; candidates never tried are not counted).", "",
             f"| p99 budget | size budget | best candidate | {metric} | p99 | size | gain |",
             "|---|---|---|---|---|---|---|"]
    for p in value["other_budgets"]:
        budget = f"| {p['latency_ms_budget']:g} ms | {p['size_bytes_budget'] / MB:g} MB |"
        if p["name"] is None:
            lines.append(f"{budget} none fits | | | | |")
            continue
        lines.append(f"{budget} {p['name']} | {p['score']:.6g} | {p['p99_ms']:.3f} ms | "
                     f"{p['size_bytes'] / MB:.3g} MB | {p['gain']:+.4g} |")
    return lines


def _leaderboard_lines(lb: dict[str, Any]) -> list[str]:
    """The leaderboard model's costs beside the production model's, when the run measured them."""
    if not any(lb.get(key) for key in ("latency", "training", "size")):
        return []
    lines = ["", "## The leaderboard model", "", "| | |", "|---|---|",
             f"| model | {lb.get('model', {}).get('family', 'blend')} |"]
    lat = lb.get("latency")
    if lat:
        lines += [f"| latency, one row | p50 {lat['p50_ms_batch1']:.3f} ms, p99 {lat['p99_ms_batch1']:.3f} ms "
                  f"({lat['calls']} calls; {lat['measured']}) |",
                  f"| throughput, batch 1000 | {lat['throughput_rows_s_batch1000']:,.0f} rows/s |",
                  f"| CPU per million predictions | {lat['cpu_seconds_per_million']:.3g} s in batches |"]
    size, training = lb.get("size", {}), lb.get("training", {})
    if size.get("serving_bytes") is not None:
        lines.append(f"| size on disk | {size['serving_bytes']:,} bytes ({size['serving_bytes'] / MB:.3g} MB) |")
    if training.get("fit_seconds") is not None:
        cpu = training.get("cpu_seconds")
        lines.append(f"| training | {training['fit_seconds']:.1f} s wall" + (f", {cpu:.1f} CPU-seconds" if cpu else "")
                     + f"; retraining estimate {training['retrain_seconds_estimate']:.1f} s |")
    if lb.get("top_features"):
        lines += ["", lb.get("top_features_method", ""), "", "| feature | importance | std |", "|---|---|---|"]
        lines += [f"| {f['feature']} | {f['importance']:.4g} | {f['std']:.2g} |" for f in lb["top_features"]]
    return lines
