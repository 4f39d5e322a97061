"""Both models side by side: score, latency, size, costs and top features.

The model card holds the figures (the production model's at its root, the leaderboard model's in its
`leaderboard` part, under the same names). What the card lacks for the leaderboard model is taken from the
manifest where the run recorded it (score, search time, CPU-seconds) and said so in the table's notes;
anything else reads "not measured".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.report import fmt
from agent.report.document import Section, Table, Text
from agent.report.inputs import RunInputs
from agent.report.production import not_produced_reason

TOP = 10
LEADERBOARD_KEYS = ("leaderboard_model", "leaderboard")
PRODUCTION_KEYS = ("production_model", "production")


def figures(part: dict[str, Any]) -> dict[str, Any]:
    """The comparable figures of one model described like the model card (flat keys accepted too)."""
    latency, size, training = (fmt.mapping(part.get(k)) for k in ("latency", "size", "training"))
    costs, validation, model = (fmt.mapping(part.get(k)) for k in ("costs", "validation", "model"))

    def first(*values: Any) -> Any:
        return next((v for v in values if v is not None), None)

    return {
        "model": first(model.get("name"), part.get("name") if isinstance(part.get("name"), str) else None),
        "family": model.get("family"),
        "score": first(validation.get("score"), part.get("score")),
        "p50": first(latency.get("p50_ms_batch1"), latency.get("p50_ms"), part.get("p50_ms")),
        "p99": first(latency.get("p99_ms_batch1"), latency.get("p99_ms"), part.get("p99_ms")),
        "throughput": first(latency.get("throughput_rows_s_batch1000"), latency.get("throughput_rows_s")),
        "cpu_million": first(latency.get("cpu_seconds_per_million"), costs.get("cpu_seconds_per_million")),
        "cpu_million_single": first(latency.get("cpu_seconds_per_million_single_row"),
                                    latency.get("cpu_seconds_per_million_single")),
        "size": first(size.get("serving_bytes"), size.get("bytes"), part.get("size_bytes")),
        "fit_seconds": first(training.get("fit_seconds"), training.get("seconds"), costs.get("training_seconds")),
        "cpu_seconds": first(training.get("cpu_seconds"), costs.get("training_cpu_seconds"),
                             costs.get("cpu_seconds")),
        "retrain": first(training.get("retrain_seconds_estimate"), costs.get("retrain_seconds_estimate")),
        "top_features": part.get("top_features") if isinstance(part.get("top_features"), list) else None,
        "top_features_method": part.get("top_features_method"),
    }


def leaderboard_figures(inputs: RunInputs) -> tuple[dict[str, Any], list[str]]:
    """The leaderboard model's figures from the card, completed from the manifest; notes say what came from where."""
    card = inputs.card or {}
    part = next((card[k] for k in LEADERBOARD_KEYS if isinstance(card.get(k), dict)), {})
    found = figures(part)
    m = inputs.manifest
    validation = fmt.mapping(m.get("validation"))
    board = fmt.mapping(m.get("leaderboard"))
    phase = fmt.mapping(fmt.mapping(m.get("phases")).get("leaderboard"))
    notes = []
    if fmt.number(validation.get("score")) is not None:  # what made the submission: the summary shows it too
        found["score"] = validation["score"]
    fallbacks = {
        "model": (validation.get("model"), None),
        "fit_seconds": (phase.get("seconds"), "training wall time: the whole leaderboard phase (manifest.json)"),
        "cpu_seconds": (fmt.mapping(board.get("costs")).get("cpu_seconds"),
                        "training CPU: CPU-seconds measured inside the search tasks (manifest.json)"),
    }
    for key, (value, note) in fallbacks.items():
        if found[key] is None and value is not None:
            found[key] = value
            if note:
                notes.append(note)
    if found["model"] and len(fmt.mapping(fmt.mapping(board.get("ensemble")).get("weights"))) > 1:
        found["family"] = found["family"] or f"blend of {len(board['ensemble']['weights'])} candidates"
    if found["size"] is None:
        size = _disk_bytes(inputs.path, ("models", "studies"))
        if size:
            found["size"] = size
            notes.append("size: models/ and studies/ on disk, summed by the report")
    return found, notes


def comparison_section(inputs: RunInputs) -> Section:
    section = Section("Both models side by side", "comparison")
    if inputs.card is None:
        section.add(Text(f"Production model: not produced ({not_produced_reason(inputs)}); only the leaderboard "
                         "model's column is filled.", "missing"))
    board, notes = leaderboard_figures(inputs)
    prod = figures(inputs.card) if inputs.card is not None else {k: None for k in board}
    metric = fmt.plain(fmt.mapping(inputs.manifest.get("validation")).get("metric")
                       or fmt.mapping((inputs.card or {}).get("validation")).get("metric"))
    rows = [
        ("model", *(_model(f) for f in (board, prod))),
        (f"validation score ({metric})", *(fmt.score(f["score"]) for f in (board, prod))),
        ("latency, one row (p50 / p99)", *(_pair(fmt.ms, f["p50"], f["p99"]) for f in (board, prod))),
        ("throughput, batches of 1000", *(_or_missing(fmt.rate, f["throughput"]) for f in (board, prod))),
        ("CPU-seconds per million predictions (batched / one row at a time)",
         *(_pair(fmt.cpu, f["cpu_million"], f["cpu_million_single"]) for f in (board, prod))),
        ("size on disk", *(_or_missing(fmt.size, f["size"]) for f in (board, prod))),
        ("training wall time", *(_or_missing(fmt.seconds, f["fit_seconds"]) for f in (board, prod))),
        ("training CPU time", *(_or_missing(fmt.seconds, f["cpu_seconds"]) for f in (board, prod))),
        ("retraining estimate", *(_or_missing(fmt.seconds, f["retrain"]) for f in (board, prod))),
    ]
    if inputs.card is None:
        rows = [(label, lb, "not produced") for label, lb, _ in rows]
    section.add(Table(("", "leaderboard model", "production model"), rows, numeric=(1, 2)))
    if notes:
        section.add(Text("Leaderboard model figures not in the model card, taken from the run: " + "; ".join(notes)
                         + ".", "note"))
    section.add(*_features_blocks(board, prod))
    return section


def _features_blocks(board: dict[str, Any], prod: dict[str, Any]) -> list:
    tables = [f["top_features"] or [] for f in (board, prod)]
    if not any(tables):
        return [Text("Top features: not produced (no feature importance in production/model_card.json).", "missing")]
    rows = []
    for i in range(min(TOP, max(len(t) for t in tables))):
        rows.append((str(i + 1), *(_feature(t[i]) if i < len(t) else fmt.DASH for t in tables)))
    blocks: list = [Table(("#", "leaderboard model", "production model"), rows,
                          caption="Top features (importance ± std over folds and repeats)", numeric=(0,))]
    for label, f in (("leaderboard model", board), ("production model", prod)):
        if f["top_features_method"]:
            blocks.append(Text(f"{label}: {fmt.plain(f['top_features_method'], 400)}", "note"))
        elif not f["top_features"] and (f is prod or f["model"]):
            blocks.append(Text(f"{label}: top features not produced.", "missing"))
    return blocks


def _feature(row: Any) -> str:
    if not isinstance(row, dict):
        return fmt.plain(row)
    importance, std = fmt.number(row.get("importance")), fmt.number(row.get("std"))
    text = fmt.plain(row.get("feature"), 60)
    if importance is not None:
        text += f" ({importance:.3g}" + (f" ± {std:.2g}" if std is not None else "") + ")"
    return text


def _model(f: dict[str, Any]) -> str:
    if not f["model"]:
        return "not produced"
    return fmt.plain(f["model"], 80) + (f" ({fmt.plain(f['family'])})" if f["family"] else "")


def _pair(formatter, a: Any, b: Any) -> str:
    if a is None and b is None:
        return fmt.NOT_MEASURED
    return f"{formatter(a)} / {formatter(b)}"


def _or_missing(formatter, value: Any) -> str:
    return fmt.NOT_MEASURED if value is None else formatter(value)


def _disk_bytes(root: Path, names: tuple[str, ...]) -> int:
    total = 0
    for name in names:
        folder = root / name
        if folder.is_dir():
            total += sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
    return total
