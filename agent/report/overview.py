"""The top of the report: how the run went (and why it failed), and the competition as podium understood it."""

from __future__ import annotations

from typing import Any

from agent.report import fmt
from agent.report.document import Section, Table, Text
from agent.report.inputs import RunInputs

# (label, competition field, provenance key, fallback source)
FIELDS = (
    ("id column", "id_column", "id_column", "inferred"),
    ("target", "target", "target", "inferred"),
    ("task", "problem_type", "task", "inferred"),
    ("metric", "metric_name", "evaluation_metric", "inferred"),
    ("positive class", "positive_class", "positive_class", "inferred"),
    ("classes", "classes", "classes", "the target's values in train"),
    ("submission format", "submission_format", "submission_format", "inferred"),
    ("submission columns", "submission_columns", "submission_columns", "the sample submission's header"),
    ("class columns", "class_columns", "class_columns", "the sample submission's header"),
    ("dropped columns", "dropped_columns", "dropped_columns", "none dropped"),
)
SETTINGS = (
    ("run", "time_limit", "time limit (s)"), ("run", "seed", "seed"), ("run", "folds", "folds"),
    ("leaderboard", "presets", "AutoGluon presets"), ("search", "learners", "Optuna learners"),
    ("search", "autogluon_share", "AutoGluon's share of the leaderboard time"),
    ("production", "latency_ms", "production latency budget (ms, p99, one row)"),
    ("production", "size_mb", "production size budget (MB)"),
    ("production", "throughput", "production throughput budget (rows/s)"),
    ("quality", "allow", "data checks allowed to fail"),
)
CONFIG_SOURCE = ("config.yaml: the run's resolved configuration (configs/default.yaml, then "
                 "configs/competitions/<slug>.yaml, then --config, then the command line; later wins)")


def summary(inputs: RunInputs) -> list[tuple[str, str]]:
    """The facts shown first."""
    m = inputs.manifest
    comp = fmt.mapping(m.get("competition"))
    validation = fmt.mapping(m.get("validation"))
    card = inputs.card or {}
    submitted = fmt.mapping(m.get("submission"))
    title = fmt.mapping(comp.get("metadata")).get("title") or fmt.mapping(m.get("host_metadata")).get("title")
    rows = [("competition", fmt.plain(m.get("competition_slug")) + (f" ({fmt.plain(title)})" if title else "")),
            ("run", str(m.get("run_id"))), ("status", status_text(m)),
            ("time used", f"{fmt.seconds(m.get('seconds'))} of {fmt.seconds(m.get('time_limit'))}"),
            ("leaderboard model", _scored(validation.get("score"), validation.get("metric"), validation.get("model"))),
            ("production model", _scored(fmt.mapping(card.get("validation")).get("score"),
                                         fmt.mapping(card.get("validation")).get("metric"),
                                         fmt.mapping(card.get("model")).get("name")) if card else "not produced"),
            ("validated", fmt.plain(validation.get("method") or "out-of-fold")),
            ("public score", public_text(submitted, validation)),
            ("started", str(m.get("started_at") or fmt.DASH)), ("finished", str(m.get("finished_at") or fmt.DASH))]
    return rows


def split_text(split: dict[str, Any]) -> str:
    """How the test set was drawn, as the report says it."""
    kind, column = split.get("kind") or "random", split.get("column")
    if kind == "time":
        return f"later in time, by '{column}': folds are contiguous blocks of time"
    if kind == "group":
        return f"entities train never saw, by '{column}': folds never split one"
    if kind == "group_time":
        return f"new '{column}' entities, later in '{split.get('time')}': folds are blocks of whole entities in time"
    return "at random: random folds"


def public_text(submitted: dict[str, Any], validation: dict[str, Any]) -> str:
    """The public score beside the out-of-fold estimate it was predicted to be, and the gap between them."""
    public = submitted.get("public_score")
    if public is None:
        return "not submitted" if not submitted else str(submitted.get("status"))
    estimate = validation.get("score")
    if not isinstance(estimate, int | float) or not isinstance(public, int | float) or public == 0:
        return fmt.score(public)
    gap = abs(estimate - public) / abs(public)
    return f"{fmt.score(public)} (estimated out of fold: {fmt.score(estimate)}; gap {gap:.1%})"


def status_text(manifest: dict[str, Any]) -> str:
    status = str(manifest.get("status") or "unknown")
    if status == "running" and manifest.get("finished_at") is None:
        return "running (still in progress, or stopped before it could record the end)"
    return status


def problems_section(inputs: RunInputs) -> Section | None:
    """What failed: the run's error, failed phases, files the report could not read. None when all is well."""
    m = inputs.manifest
    section = Section("What went wrong", "problems")
    error = m.get("error")
    if error:
        error = error if isinstance(error, dict) else {"message": str(error)}
        section.add(Text(f"The run failed: {error.get('type', 'error')}: {error.get('message', fmt.DASH)}", "error"))
        trace = error.get("traceback")
        if isinstance(trace, list) and trace:
            section.add(Text("".join(map(str, trace)).rstrip(), "pre"))
    failed = [name for name, record in fmt.mapping(m.get("phases")).items()
              if isinstance(record, dict) and record.get("status") == "failed"]
    if failed:
        section.add(Text(f"Failed phase(s): {', '.join(failed)}. Later phases did not run; the sections below "
                         "show what the run recorded before it stopped.", "error"))
    if m.get("status") == "running":
        section.add(Text("The manifest says the run is still running. If no podium process is working on it, "
                         "it was stopped; `podium run --resume RUN_DIR` continues it.", "note"))
    for problem in inputs.problems.values():
        section.add(Text(problem, "error"))
    return section if section.blocks else None


def competition_section(inputs: RunInputs) -> Section:
    m = inputs.manifest
    section = Section("Competition and settings", "competition")
    comp = m.get("competition")
    if not isinstance(comp, dict):
        section.add(Text("Competition settings: not produced (the run stopped before the task was inferred). "
                         f"Source: {fmt.plain(m.get('source'))}.", "missing"))
    else:
        provenance = fmt.mapping(comp.get("provenance"))
        rows = [("competition", fmt.plain(comp.get("slug")), f"the source: {fmt.plain(m.get('source'))}")]
        for label, key, origin, fallback in FIELDS:
            value = comp.get(key)
            if value in (None, [], ()) and key in ("positive_class", "class_columns", "dropped_columns", "classes"):
                continue
            rows.append((label, fmt.listing(value), provenance.get(origin, fallback)))
        rows.append(("features", f"{len(comp.get('features') or [])}: {fmt.listing(comp.get('features'), 30)}",
                     "train columns also in test, except the id, the target and dropped columns"))
        if comp.get("dates"):
            rows.append(("dates", ", ".join(f"{column} ({fmt.plain(form)})" for column, form in comp["dates"].items()),
                         provenance.get("dates", "inferred") + "; each read as its calendar parts and elapsed days"))
        rows.append(("test split", split_text(fmt.mapping(comp.get("split"))),
                     provenance.get("split", "random folds (a run from before splits were inferred)")))
        section.add(Table(("setting", "value", "where it came from"), rows,
                          caption="The task as podium inferred it, with where each value came from"))
    data = fmt.mapping(m.get("data"))
    if data:
        section.add(Table(("data", "value"), [(k.replace("_", " "), fmt.plain(v)) for k, v in data.items()],
                          numeric=(1,)))
    section.add(*_settings_blocks(inputs))
    versions = fmt.mapping(m.get("versions"))
    if versions:
        section.add(Text("Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()), "note"))
    return section


def _settings_blocks(inputs: RunInputs) -> list:
    if inputs.config is None:
        reason = inputs.problem("config.yaml", "config.yaml: not produced")
        return [Text(f"Run settings: {reason}.", "missing")]
    rows = []
    for group, key, label in SETTINGS:
        block = inputs.config.get(group)
        if isinstance(block, dict) and key in block:
            rows.append((label, fmt.listing(block[key]) if block[key] not in ([], None) else fmt.DASH,
                         f"{group}.{key}"))
    return [Table(("run setting", "value", "key in config.yaml"), rows, caption=CONFIG_SOURCE)]


def _scored(score: Any, metric: Any, name: Any) -> str:
    if fmt.number(score) is None:
        return "not produced"
    return f"{fmt.score(score)} {fmt.plain(metric)} ({fmt.plain(name)})"

