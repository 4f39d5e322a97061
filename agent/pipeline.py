"""One run, source to run directory: fetch, infer, fit, blend, submit. Data flows one way."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from agent import overrides
from agent.atomic import write_text
from agent.competition import Competition, infer_competition
from agent.config import CONFIG_DIR, Settings, load_settings, read_yaml
from agent.data import CompetitionData, read_competition
from agent.dataset import Dataset, build_dataset
from agent.errors import InputError, PodiumError
from agent.executor import RayExecutor, check_shared_path
from agent.logs import run_log
from agent.report import failure_reported, report_run
from agent.runs import SUCCEEDED, Run
from agent.sources import resolve_source
from agent.submission import build_submission, write_submission

log = logging.getLogger("podium.pipeline")
Notify = Callable[[str], None]
FINAL_RESERVE_SECONDS = 4.0  # writing the submission, the manifest and the report


@dataclass(frozen=True)
class RunOptions:
    """What the user asked for on the command line; None means "use the configuration"."""

    source: str | None = None
    config_file: Path | None = None
    out: Path | None = None
    time_limit: float | None = None
    seed: int | None = None
    competition: dict[str, Any] = field(default_factory=dict)  # target, id_column, task, evaluation_metric...
    cpus: int | None = None
    memory_gb: float | None = None
    ray_address: str | None = None
    resume: Path | None = None
    run_id: str | None = None
    allow: tuple[str, ...] = ()  # data-check names whose `error` findings do not stop the run
    production: dict[str, Any] = field(default_factory=dict)  # latency_ms, size_mb, throughput
    kaggle_endpoint: str | None = None  # --kaggle-endpoint: a Kaggle-compatible server (an arena)
    refresh: bool = False               # --refresh: download again instead of using the cache
    submit: bool = False                # --submit: submit submission.csv once the run succeeded


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
    command_line = {"run": run_layer} if run_layer else {}
    production = {k: v for k, v in options.production.items() if v is not None}
    if production:
        command_line["production"] = production
    if command_line:
        layers.append(("command line", command_line))
    return load_settings(*layers), layers


def _open_run(options: RunOptions):
    """A new run directory, or the stopped one named by --resume with its own configuration."""
    if options.resume:
        run = Run.load(options.resume)
        run.refuse_if_running()
        if run.manifest.get("status") == SUCCEEDED:
            raise InputError("This run already succeeded; there is nothing to resume", where=str(run.path),
                             fix="start a new run with `podium run SOURCE`")
        source = _source(run.manifest["source"], options, run.manifest.get("kaggle_endpoint"))
        saved = read_yaml(run.file("config.yaml"))
        layers = [("resumed run's config.yaml", saved)]
        if options.time_limit:
            layers.append(("command line", {"run": {"time_limit": options.time_limit}}))
        settings = load_settings(*layers)
        layers = [(name, layer) for name, layer in layers if name != "command line"]
        run.resume()
        source.configure(settings)
        return run, source, settings, layers
    if not options.source:
        raise InputError("Nothing to run", fix="pass a competition folder or slug, or --resume RUN_DIR")
    source = _source(options.source, options)
    settings, layers = resolve_settings(options, source.slug)
    source.configure(settings)
    run = Run.create(Path(settings.run.out), source.slug, run_id=options.run_id, source=options.source,
                     time_limit=settings.run.time_limit, seed=settings.run.seed,
                     kaggle_endpoint=getattr(source, "endpoint", None))
    write_text(run.file("config.yaml"), yaml.safe_dump(settings.dump(), sort_keys=False))
    return run, source, settings, layers


def run_competition(options: RunOptions, notify: Notify = lambda message: None) -> Run:
    """Run one competition end to end; the returned Run's manifest says how it went."""
    started = time.monotonic()
    run, source, settings, layers = _open_run(options)
    deadline = started + settings.run.time_limit
    executor = RayExecutor(address=options.ray_address or settings.ray.address, num_cpus=options.cpus,
                           object_store_gb=settings.ray.object_store_gb)
    with run_log(run.file("podium.log")):
        log.info("Run %s of %s in %s", run.manifest["run_id"], source.slug, run.path)
        try:
            with failure_reported(run, log, "Run"):
                _execute(run, source, settings, layers, options, executor, deadline, notify)
        finally:
            executor.shutdown()
        run.succeed()
        log.info("Run succeeded in %.1fs", run.elapsed())
        if options.submit:
            _submit(run, options, settings, notify)
        notify("Writing the report")
        report_run(run)
    return run


def _fetch_and_load(run: Run, source) -> tuple[Any, CompetitionData]:
    with run.phase("fetch"):
        fetched = source.fetch()
        run.update(competition_files={k: str(v) for k, v in fetched.files.items()}, host_metadata=fetched.metadata)
    with run.phase("load"):
        data = read_competition(fetched.files["train"], fetched.files["test"], fetched.files["sample_submission"])
    return fetched, data


def _execute(run: Run, source, settings: Settings, layers, options: RunOptions, executor: RayExecutor,
             deadline: float, notify: Notify) -> None:
    notify("Fetching the data while Ray starts")
    with ThreadPoolExecutor(max_workers=1) as pool:  # Ray must start on the main thread; data loads beside it
        loading = pool.submit(_fetch_and_load, run, source)
        try:
            with run.phase("ray_start"):
                executor.start()
                check_shared_path(executor, run.path)
        finally:
            fetched, data = loading.result()

    notify("Inferring the task")
    with run.phase("infer"):
        field_layers = [(fetched.declared_by, fetched.declared)]
        field_layers += [(name, layer.get("competition", {})) for name, layer in layers]
        field_layers.append(("command line", options.competition))
        values, sources = overrides.collect(field_layers)
        competition = infer_competition(fetched.slug, data, values, sources, metadata=fetched.metadata)
        run.update(competition=competition.to_dict())
        if competition.provenance.get("evaluation_metric", "").startswith("inferred"):
            log.warning("No evaluation metric was given: using %s, Kaggle's usual choice here (--metric to change)",
                        competition.metric_name)
        log.info("Task: %s on '%s', metric %s, submission %s", competition.problem_type, competition.target,
                 competition.metric_name, competition.submission_format)

    notify("Checking the data")
    with run.phase("quality") as record:
        from agent.quality import run_checks, write_quality_report

        report = run_checks(competition, data, settings.quality, allow=options.allow, seed=settings.run.seed)
        write_quality_report(report, run.file("quality.json"))
        record["findings"] = {s: len(report.by_severity(s)) for s in ("error", "warning", "info")}
        report.raise_for_errors()

    with run.phase("prepare"):
        dataset = build_dataset(competition, data, settings.run.folds, settings.run.seed)
        run.update(data={"train_rows": len(dataset.X), "test_rows": len(dataset.X_test),
                         "features": len(competition.features), "folds": dataset.n_folds})

    notify("Fitting the leaderboard models (AutoGluon, then Optuna studies)")
    with run.phase("leaderboard") as record:
        seconds = deadline - time.monotonic() - _reserve_after_leaderboard(settings)
        record["budget_seconds"] = round(seconds, 1)
        result = _fit_leaderboard(run, competition, dataset, settings, executor, seconds, options)
        blend = result.ensemble
        run.update(
            leaderboard={"candidates": [c.summary() for c in result.candidates], "ensemble": blend.summary(),
                         "studies": result.studies, "timings": result.timings, "costs": result.costs,
                         "cost_notes": result.cost_notes},
            validation={"metric": competition.metric_name, "score": blend.score, "model": blend.name,
                        "greater_is_better": competition.metric.greater_is_better,
                        "best_single": result.candidates[0].summary() | {"oof_score": result.candidates[0].score},
                        "method": f"out-of-fold over {dataset.n_folds} folds"})

    notify("Writing the submission")
    with run.phase("submission"):
        frame = build_submission(competition, data.sample_submission, dataset.test_ids, blend.test,
                                 threshold=blend.info.get("threshold", 0.5))
        path = write_submission(frame, competition, data.sample_submission, run.file("submission.csv"))
        run.update(artifacts={"submission": str(path), "models": str(run.file("models")),
                              "log": str(run.file("podium.log")), "config": str(run.file("config.yaml"))})

    from agent.leaderboard_figures import add_to_model_card, leaderboard_figures, start_measuring
    from strategies.production.problem import latency_rows

    measuring = start_measuring(run.path, executor, latency_rows(dataset, settings.run.seed),  # beside production
                                competition.problem_type, _measure_seconds(settings))
    notify("Choosing the production model")
    production = _production_phase(run, competition, dataset, result, settings, executor, deadline)
    with run.phase("leaderboard_figures"):
        wait = deadline - time.monotonic() - _final_reserve(settings)
        figures = leaderboard_figures(run.path, run.manifest, executor, measuring, wait)
        run.update(leaderboard={**run.manifest["leaderboard"], "figures": figures})
        if production is not None:
            add_to_model_card(production.out_dir, figures, run.manifest["production"].get("training"))


def _production_phase(run: Run, competition: Competition, dataset: Dataset, result, settings: Settings,
                      executor: RayExecutor, deadline: float):
    """The production model; if none fits the budgets, the phase fails clearly and the submission stands."""
    from strategies.production import build_production_model

    limit = settings.run.time_limit
    # When the leaderboard overran, production may still use the slack the 1.1x promise leaves (at most 5 s).
    seconds = max(min(settings.production.time_share * limit, deadline - time.monotonic() - _final_reserve(settings)),
                  min(5.0, 0.1 * limit))
    cpu_started = time.process_time()
    try:
        with run.phase("production") as record:
            record["budget_seconds"] = round(seconds, 1)
            blend = result.ensemble
            production = build_production_model(  # it overruns by up to one step (a refit): ask for 85%
                competition, dataset, result.candidates, blend.oof, blend.score, run.file("production"), settings,
                executor=executor, autogluon_path=run.file("models") if run.file("models").is_dir() else None,
                time_budget_s=0.85 * seconds, leaderboard_test=blend.test)
    except Exception as error:  # noqa: BLE001 - the leaderboard submission stands whatever happens here
        message = error.message if isinstance(error, PodiumError) else f"{type(error).__name__}: {error}"
        if not isinstance(error, PodiumError):
            log.exception("The production phase failed")
        run.update(production={"error": message, "candidates": getattr(error, "candidates", [])})
        return None
    training = {"cpu_seconds": round(time.process_time() - cpu_started, 3),
                "cpu_seconds_note": "CPU of the production phase in podium's process: every fit but the compact "
                                    "search's trials, which run in Ray workers"}
    run.update(production={**production.summary(), "training": training})
    run.update(artifacts={**run.manifest.get("artifacts", {}), "production": str(production.out_dir)})
    return production


def _final_reserve(settings: Settings) -> float:
    """Seconds kept for the submission, the leaderboard model's figures, the manifest and the report.

    The figures are measured beside the production phase and the report reads only JSON, so what is left
    takes about 1.5 s whatever the data (measured on 300 s runs); 2% of the limit is the margin.
    """
    return FINAL_RESERVE_SECONDS + 0.02 * settings.run.time_limit


def _measure_seconds(settings: Settings) -> float:
    """Seconds for measuring the leaderboard model (latency, permutation importance) beside production."""
    return min(60.0, max(4.0, 0.5 * settings.production.time_share * settings.run.time_limit))


def _reserve_after_leaderboard(settings: Settings) -> float:
    """Seconds kept back after the leaderboard phase: production (with the importance beside it), final writes."""
    return settings.production.time_share * settings.run.time_limit + _final_reserve(settings)


def _fit_leaderboard(run: Run, competition: Competition, dataset: Dataset, settings: Settings,
                     executor: RayExecutor, seconds: float, options: RunOptions):
    from agent.leaderboard import fit_leaderboard

    cpus = options.cpus or executor.node_cpus() or os.cpu_count() or 1
    trial_cpus = options.cpus or executor.total_cpus() or cpus  # trials may spread over a whole cluster
    memory_gb = options.memory_gb or _available_memory_gb()
    return fit_leaderboard(competition, dataset, settings, executor, run.path, seconds, cpus, memory_gb,
                           trial_cpus=trial_cpus)


def _available_memory_gb() -> float:
    import psutil

    return round(psutil.virtual_memory().available / 2**30 * 0.8, 2)


# --- Kaggle sources and --submit (the flow itself lives in agent/kaggle/) ---------------------------

def _source(text: str, options: RunOptions, recorded_endpoint: str | None = None):
    return resolve_source(text, endpoint=options.kaggle_endpoint or recorded_endpoint, refresh=options.refresh)


def _submit(run: Run, options: RunOptions, settings: Settings, notify: Notify) -> None:
    """--submit: upload submission.csv, wait for the score; a failure leaves the run succeeded, unsubmitted."""
    from agent.kaggle.submit import submit_run

    notify("Submitting and waiting for the score")
    run.manifest["submission"] = submit_run(run.path, endpoint=options.kaggle_endpoint, settings=settings.kaggle)
