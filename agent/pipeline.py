"""One run, source to run directory: fetch, infer, fit, submit. Data flows one way."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from agent import overrides
from agent.atomic import write_text
from agent.competition import Competition, infer_competition
from agent.config import CONFIG_DIR, Settings, load_settings, read_yaml
from agent.data import read_competition
from agent.dataset import build_dataset
from agent.errors import PodiumError
from agent.logs import run_log
from agent.runs import Run
from agent.sources import resolve_source
from agent.submission import build_submission, write_submission
from strategies.base import Budget, Candidate

log = logging.getLogger("podium.pipeline")
Notify = Callable[[str], None]
MIN_FIT_SECONDS = 5.0


@dataclass(frozen=True)
class RunOptions:
    """What the user asked for on the command line; None means "use the configuration"."""

    source: str
    config_file: Path | None = None
    out: Path | None = None
    time_limit: float | None = None
    seed: int | None = None
    competition: dict[str, Any] = field(default_factory=dict)  # target, id_column, task, evaluation_metric...
    cpus: int | None = None
    memory_gb: float | None = None


def resolve_settings(options: RunOptions, slug: str) -> tuple[Settings, list[tuple[str, dict[str, Any]]]]:
    """Merge default.yaml < configs/competitions/<slug>.yaml < --config < command line."""
    layers: list[tuple[str, dict[str, Any]]] = []
    per_competition = CONFIG_DIR / "competitions" / f"{slug}.yaml"
    if per_competition.is_file():
        layers.append((f"configs/competitions/{slug}.yaml", read_yaml(per_competition)))
    if options.config_file:
        layers.append((str(options.config_file), read_yaml(Path(options.config_file))))
    run_layer = {k: v for k, v in {"time_limit": options.time_limit, "seed": options.seed,
                                    "out": str(options.out) if options.out else None}.items() if v is not None}
    if run_layer:
        layers.append(("command line", {"run": run_layer}))
    return load_settings(*layers), layers


def run_competition(options: RunOptions, notify: Notify = lambda message: None) -> Run:
    """Run one competition end to end; the returned Run's manifest says how it went."""
    started = time.monotonic()
    source = resolve_source(options.source)
    settings, layers = resolve_settings(options, source.slug)
    deadline = started + settings.run.time_limit
    run = Run.create(Path(settings.run.out), source.slug, source=options.source,
                     time_limit=settings.run.time_limit, seed=settings.run.seed)
    write_text(run.file("config.yaml"), yaml.safe_dump(settings.dump(), sort_keys=False))
    with run_log(run.file("podium.log")):
        log.info("Run %s of %s in %s", run.manifest["run_id"], source.slug, run.path)
        try:
            _execute(run, source, settings, layers, options, deadline, notify)
        except BaseException as error:
            if isinstance(error, PodiumError):
                log.error("Run failed: %s", error.message)
            else:
                log.exception("Run failed")
            run.fail(error)
            raise
        run.succeed()
        log.info("Run succeeded in %.1fs", run.elapsed())
    return run


def _execute(run: Run, source, settings: Settings, layers, options: RunOptions, deadline: float,
             notify: Notify) -> None:
    notify("Fetching the competition files")
    with run.phase("fetch"):
        fetched = source.fetch()
        run.update(competition_files={k: str(v) for k, v in fetched.files.items()}, host_metadata=fetched.metadata)

    notify("Reading the tables")
    with run.phase("load"):
        data = read_competition(fetched.files["train"], fetched.files["test"], fetched.files["sample_submission"])

    notify("Inferring the task")
    with run.phase("infer"):
        field_layers = [(fetched.declared_by, fetched.declared)]
        field_layers += [(name, layer.get("competition", {})) for name, layer in layers]
        field_layers.append(("command line", options.competition))
        values, sources = overrides.collect(field_layers)
        competition = infer_competition(fetched.slug, data, values, sources, metadata=fetched.metadata)
        run.update(competition=competition.to_dict())
        log.info("Task: %s on '%s', metric %s, submission %s", competition.problem_type, competition.target,
                 competition.metric_name, competition.submission_format)

    with run.phase("prepare"):
        dataset = build_dataset(competition, data, settings.run.folds, settings.run.seed)
        run.update(data={"train_rows": len(dataset.X), "test_rows": len(dataset.X_test),
                         "features": len(competition.features), "folds": dataset.n_folds})

    notify("Fitting the leaderboard models")
    with run.phase("leaderboard") as record:
        budget = _leaderboard_budget(settings, deadline, options)
        record["budget_seconds"] = round(budget.seconds, 1)
        candidates = _fit_leaderboard(run, competition, dataset, budget, settings)
        best = candidates[0]
        run.update(candidates=[c.summary() for c in candidates],
                   validation={"metric": competition.metric_name, "score": best.score, "model": best.name,
                               "greater_is_better": competition.metric.greater_is_better,
                               "method": f"out-of-fold over {dataset.n_folds} folds"})

    notify("Writing the submission")
    with run.phase("submission"):
        frame = build_submission(competition, data.sample_submission, dataset.test_ids, best.test)
        path = write_submission(frame, competition, data.sample_submission, run.file("submission.csv"))
        run.update(artifacts={"submission": str(path), "models": str(run.file("models")),
                              "log": str(run.file("podium.log")), "config": str(run.file("config.yaml"))})


def _leaderboard_budget(settings: Settings, deadline: float, options: RunOptions) -> Budget:
    remaining = deadline - time.monotonic()
    seconds = max(MIN_FIT_SECONDS, remaining * (1 - settings.leaderboard.predict_reserve) - 2.0)
    return Budget(seconds=seconds, cpus=options.cpus or os.cpu_count() or 1,
                  memory_gb=options.memory_gb or _available_memory_gb())


def _available_memory_gb() -> float:
    import psutil

    return round(psutil.virtual_memory().available / 2**30 * 0.9, 2)


def _fit_leaderboard(run: Run, competition: Competition, dataset, budget: Budget,
                     settings: Settings) -> list[Candidate]:
    from strategies.autogluon import AutoGluonStrategy

    strategy = AutoGluonStrategy(run.file("models"), presets=settings.leaderboard.presets,
                                 num_stack_levels=settings.leaderboard.num_stack_levels,
                                 excluded_model_types=settings.leaderboard.excluded_model_types)
    candidates = strategy.search(competition, dataset, budget)
    if not candidates:
        raise RuntimeError("AutoGluon produced no model with out-of-fold predictions")
    return candidates
