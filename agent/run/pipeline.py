"""One run, source to run directory: fetch, infer, fit, blend, submit. Data flows one way."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

import agent.deadline as deadlines
from agent.atomic import write_text
from agent.competition import overrides
from agent.competition.dataset import Dataset, build_dataset
from agent.competition.folds import chains_forward
from agent.competition.inference import Competition, infer_competition
from agent.competition.tables import CompetitionData, read_competition
from agent.config import CONFIG_DIR, Settings, load_settings, read_yaml
from agent.errors import InputError, PodiumError
from agent.executor import CancelAfter, RayExecutor, check_shared_path
from agent.logs import run_log
from agent.outputs import output_folder
from agent.report import failure_reported, report_run
from agent.run.planner import (
    CHECKS,
    FINAL,
    LEADERBOARD_FIGURES,
    LEADERBOARD_PREDICT,
    MIN_TIME_LIMIT,
    PRODUCTION_FINAL,
    PRODUCTION_SEARCH,
    Plan,
    load_seconds,
    make_plan,
)
from agent.run.submissions import Submissions
from agent.rundir import SUCCEEDED, Run
from agent.sources import resolve_source
from agent.tables import redact
from strategies.base import TwoPhaseSearch

log = logging.getLogger("podium.pipeline")
Notify = Callable[[str], None]
FIGURES_GRACE_SECONDS = 2.0  # past its time, the figures task is cancelled (it stops itself between features)
MIN_FIGURES_SECONDS = 10.0  # the leaderboard model's latency (a quarter) and a first pass of its importance


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
    tables: dict[str, str | None] = field(default_factory=dict)  # --train, --test, --sample-submission (databases)
    started: float | None = None        # the clock reading the time limit counts from (default: the run's start)


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
        source = _source(run.manifest["source"], options, run.manifest.get("kaggle_endpoint"),
                         run.manifest.get("source_tables"))
        saved = read_yaml(run.file("config.yaml"))
        layers = [("resumed run's config.yaml", saved)]
        if options.time_limit:
            layers.append(("command line", {"run": {"time_limit": options.time_limit}}))
        settings = load_settings(*layers)
        check_time_limit(settings.run.time_limit)
        layers = [(name, layer) for name, layer in layers if name != "command line"]
        run.resume()
        source.configure(settings)
        return run, source, settings, layers
    if not options.source:
        raise InputError("Nothing to run", fix="pass a competition folder or slug, or --resume RUN_DIR")
    source = _source(options.source, options)
    settings, layers = resolve_settings(options, source.slug)
    check_time_limit(settings.run.time_limit)
    output_folder(settings.run.out, "--out (run.out)")  # before any work, not as an OSError at the end
    source.configure(settings)
    tables = {role: value for role, value in options.tables.items() if value}
    run = Run.create(Path(settings.run.out), source.slug, run_id=options.run_id, source=redact(options.source),
                     time_limit=settings.run.time_limit, seed=settings.run.seed,
                     kaggle_endpoint=getattr(source, "endpoint", None), **({"source_tables": tables} if tables else {}))
    write_text(run.file("config.yaml"), yaml.safe_dump(settings.dump(), sort_keys=False))
    return run, source, settings, layers


def check_time_limit(seconds: float) -> None:
    """A limit the run cannot hold within 1.1x is refused, naming the shortest one that it can."""
    if seconds < MIN_TIME_LIMIT:
        raise InputError(f"A time limit of {seconds:g} s is too short: starting Ray, checking the data and writing "
                         f"the production model and the report take about 20 s whatever the limit, so the "
                         f"shortest limit a run holds (within 1.1x) is {MIN_TIME_LIMIT:g} s",
                         where="--time-limit (run.time_limit)", fix=f"pass --time-limit {MIN_TIME_LIMIT:g} or more")


def run_competition(options: RunOptions, notify: Notify = lambda message: None) -> Run:
    """Run one competition end to end; the returned Run's manifest says how it went."""
    started = deadlines.now() if options.started is None else options.started
    run, source, settings, layers = _open_run(options)
    executor = RayExecutor(address=options.ray_address or settings.ray.address, num_cpus=options.cpus,
                           object_store_gb=settings.ray.object_store_gb)
    with run_log(run.file("podium.log")):
        log.info("Run %s of %s in %s", run.manifest["run_id"], source.slug, run.path)
        try:
            with failure_reported(run, log, "Run"):
                plan = _execute(run, source, settings, layers, options, executor, started, notify)
        finally:
            executor.shutdown()
        plan.end(FINAL)
        run.update(plan=plan.to_dict())
        run.succeed()
        log.info("Run succeeded in %.1fs", run.elapsed())
        if options.submit:
            _submit(run, options, settings, notify)
        notify("Writing the report")
        report_run(run)
    return run


def _fetch_and_load(run: Run, source, settings: Settings, started: float,
                    given: dict[str, Any]) -> tuple[Any, CompetitionData, dict]:
    """Find the tables and read them, by the plan's load deadline; the load piece's record (the plan comes later).
    `given` (--target, --id-column, the settings' competition:) name the columns of a sample submission that
    has to be built.

    The manifest records where each table is and what was read (the exact queries, rows, a sample's note), never a
    password."""
    deadline = deadlines.Deadline(started + load_seconds(settings.run.time_limit))
    begun = deadlines.now() - started
    try:
        with run.phase("fetch"):
            fetched = source.fetch()
            run.update(competition_files=fetched.shown(), host_metadata=fetched.metadata)
        with run.phase("load") as record:
            data = read_competition(fetched.files["train"], fetched.files["test"],
                                    fetched.files.get("sample_submission"), settings.table_limits(),
                                    tables=fetched.tables, declared={**fetched.declared, **given},
                                    deadline=deadline, settings=settings, found=fetched.found)
            run.update(data_sources=data.reads)
            record["rows"] = {role: read.get("rows") for role, read in data.reads.items()}
        if data.tables or data.skipped:
            with run.phase("relations") as record:  # within the load piece's deadline (docs/several-tables.md)
                from agent.competition.relations.build import Limits, join_relations

                data = join_relations(data, fetched.relations, run.file("relations"), deadline,
                                      Limits.of(settings.side_tables))
                run.update(relations=data.relations.get("record", {}))
                record["joined"] = [r["table"] for r in data.relations.get("record", {}).get("relations", [])
                                    if r.get("status") == "joined"]
    except BaseException:
        run.update(data_sources={"error": "reading the tables failed (see `error`)", "deadline_seconds":
                                 round(deadline.at - started, 3)})
        raise
    sampled = [role for role, read in data.reads.items() if read.get("sampled")]
    for role in sampled:
        log.warning("The %s table was read as a sample: %s", role, data.reads[role]["note"])
    ended = deadlines.now() - started
    loaded = {"start": round(begun, 3), "end": round(ended, 3), "deadline": round(deadline.at - started, 3),
              "status": "done" if ended <= deadline.at - started + 0.5 else "overran"}
    if sampled:
        loaded["note"] = f"sampled: {', '.join(sampled)} (database.max_rows)"
    return fetched, data, loaded


def _execute(run: Run, source, settings: Settings, layers, options: RunOptions, executor: RayExecutor,
             started: float, notify: Notify) -> Plan:
    notify("Fetching the data while Ray starts")
    with ThreadPoolExecutor(max_workers=1) as pool:  # Ray must start on the main thread; data loads beside it
        given = {**settings.competition, **{k: v for k, v in options.competition.items() if v is not None}}
        loading = pool.submit(_fetch_and_load, run, source, settings, started, given)
        try:
            with run.phase("ray_start"):
                executor.start()
                check_shared_path(executor, run.path)
        finally:
            fetched, data, loaded = loading.result()

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

    cpus = options.cpus or executor.node_cpus() or os.cpu_count() or 1
    options = replace(options, memory_gb=options.memory_gb or _available_memory_gb())
    plan = make_plan(settings.run.time_limit, cpus, production_share=settings.production.time_share,
                     predict_share=settings.leaderboard.predict_reserve,
                     autogluon_share=settings.search.autogluon_share if settings.search.learners else 1.0,
                     origin=started, loaded=loaded)
    run.update(plan=plan.to_dict(), resources={"cpus": cpus, "memory_gb": options.memory_gb})
    try:
        _fit_and_submit(run, competition, data, settings, options, executor, plan, cpus, notify)
    finally:
        run.update(plan=plan.to_dict())
    plan.begin(FINAL)
    return plan


def _fit_and_submit(run: Run, competition: Competition, data: CompetitionData, settings: Settings,
                    options: RunOptions, executor: RayExecutor, plan, cpus: int, notify: Notify) -> None:
    """Every piece after the task is known, each within its planned deadline (agent/run/planner.py)."""
    notify("Checking the data")
    with run.phase("quality") as record, plan.run(CHECKS):
        from agent.checks import run_checks, write_quality_report

        report = run_checks(competition, data, settings.quality, allow=options.allow, seed=settings.run.seed,
                            deadline=plan.deadline(CHECKS))
        write_quality_report(report, run.file("quality.json"))
        record["findings"] = {s: len(report.by_severity(s)) for s in ("error", "warning", "info")}
        shift = next((f.measured for f in report.findings if f.check == "adversarial_validation" and f.measured), None)
        if shift and "auc" in shift:  # how far apart train and test are: evidence for (or against) the split
            split = {**competition.split, "evidence": {**competition.split.get("evidence", {}),
                                                      "adversarial_auc": shift["auc"]}}
            run.update(competition={**run.manifest["competition"], "split": split})
        report.raise_for_errors()

    with run.phase("prepare"):
        dataset = build_dataset(competition, data, settings.run.folds, settings.run.seed, settings.run.time_folds)
        run.update(data={"train_rows": len(dataset.X), "test_rows": len(dataset.X_test),
                         "features": len(competition.features), "folds": dataset.n_folds})
    submissions = Submissions(run, plan, competition, data, dataset)

    from strategies.registry import make_strategy

    notify("Fitting the production candidates (linear floor, compact LightGBM search)")
    production: TwoPhaseSearch | None = None
    try:
        with run.phase("production_search") as record, plan.run(PRODUCTION_SEARCH):
            record["budget_seconds"] = round(plan.seconds_left(PRODUCTION_SEARCH), 1)
            production = make_strategy("production", competition, dataset, run.file("production"), settings,
                                       executor=executor)
            production.floor()
            submissions.offer(production.leaderboard_candidates())
            production.search(plan.deadline(PRODUCTION_SEARCH))
            early = production.leaderboard_candidates()
            submissions.offer(early)

        notify("Fitting the leaderboard models (AutoGluon, then Optuna studies)")
        with run.phase("leaderboard") as record:
            record["budget_seconds"] = round(plan.seconds_left(LEADERBOARD_PREDICT), 1)
            figures = _Figures(run, executor, dataset, competition, plan, settings.run.seed)
            result = _fit_leaderboard(competition, dataset, settings, executor, run.path, plan, cpus, options, early,
                                      on_autogluon=figures.start)
            blend = result.ensemble
            run.update(
                leaderboard={"candidates": [c.summary() for c in result.candidates], "ensemble": blend.summary(),
                             "autogluon": result.autogluon, "studies": result.studies, "timings": result.timings,
                             "costs": result.costs,
                             "cost_notes": result.cost_notes},
                validation={"metric": competition.metric_name, "score": blend.score, "model": blend.name,
                            "greater_is_better": competition.metric.greater_is_better,
                            "best_single": result.candidates[0].summary() | {"oof_score": result.candidates[0].score},
                            "method": competition.test_split.describe(dataset.n_folds,
                                                                      chains_forward(dataset.folds)),
                            "split": competition.test_split.kind})

        notify("Writing the submission")
        with run.phase("submission"):
            submissions.offer([blend])
        figures.start()  # when AutoGluon's fit did not finish, the blend's latency is its members'
        blend_latency = production.blend_latency(list(blend.weights))
        notify("Choosing the production model")
        chosen = _finish_production(run, production, dataset, result, plan)
    finally:
        if production is not None:
            production.close()
    measured: dict[str, Any] = {}
    try:
        with run.phase("leaderboard_figures"):
            from agent.run.figures import leaderboard_figures

            measured = leaderboard_figures(run.path, run.manifest, executor, figures.task,
                                           plan.seconds_left(LEADERBOARD_FIGURES))
            figures.stop()
            if "latency" not in measured and blend_latency is not None:
                measured["latency"] = blend_latency
            run.update(leaderboard={**run.manifest["leaderboard"], "figures": measured})
    finally:
        if chosen is not None:  # the card is written once, with whatever of the leaderboard model was measured
            chosen.write_card(leaderboard=measured, training=run.manifest["production"].get("training"))
    plan.end(LEADERBOARD_FIGURES)


class _Figures:
    """The leaderboard model's measurement: a Ray task on a CPU of its own, started once AutoGluon's fit is on
    disk (beside the Optuna studies, the blend and the production tail), so it has their time too."""

    def __init__(self, run: Run, executor: RayExecutor, dataset: Dataset, competition: Competition, plan,
                 seed: int):
        self.run, self.executor, self.dataset, self.competition, self.plan, self.seed = \
            run, executor, dataset, competition, plan, seed
        self.task = None
        self.started = False
        self.stopper = None

    def start(self) -> int:
        """Start measuring (once); the CPUs the task holds."""
        if self.started:
            return 0
        from agent.run.figures import start_measuring
        from strategies.production.problem import latency_rows

        self.started = True
        self.plan.begin(LEADERBOARD_FIGURES)
        seconds = figures_seconds(self.plan)
        self.task = start_measuring(self.run.path, self.executor, latency_rows(self.dataset, self.seed),
                                    self.competition.problem_type, seconds)
        if self.task is None:
            return 0
        # the last resort: the task stops itself at its time, but one AutoGluon call it cannot interrupt may not;
        # never before the leaderboard model's latency is on disk (the card's figure that matters most)
        from agent.run.figures import PARTIAL_FIGURES

        partial = self.run.path / PARTIAL_FIGURES
        self.stopper = CancelAfter(self.executor, self.task, seconds + FIGURES_GRACE_SECONDS, partial.is_file)
        return 1

    def stop(self) -> None:
        """No cancel once the figures are collected (or the run ends)."""
        if self.stopper is not None:
            self.stopper.cancel()


def figures_seconds(plan) -> float:
    """The figures task's seconds: until the leaderboard's planned end when that leaves it MIN_FIGURES_SECONDS, so
    the production tail measures its models on quiet cores (the task's permutation importance, run to 0.8 of the
    figures piece, overlapped the whole tail at 600 s: a bag measured 0.92 ms there, then 2.0 and 2.7 ms);
    else, started late, 0.8 of what is left of its own piece, as before."""
    before_tail = plan.seconds_left(LEADERBOARD_PREDICT)
    return before_tail if before_tail >= MIN_FIGURES_SECONDS else 0.8 * plan.seconds_left(LEADERBOARD_FIGURES)


def _finish_production(run: Run, production, dataset: Dataset, result, plan):
    """The production model; if none fits the budgets, the phase fails clearly and the submission stands."""
    cpu_started = time.process_time()
    try:
        with run.phase("production") as record, plan.run(PRODUCTION_FINAL):
            record["budget_seconds"] = round(plan.seconds_left(PRODUCTION_FINAL), 1)
            blend = result.ensemble
            models = run.file("models")
            by_name = {c.name: c for c in result.candidates}
            stacked = any(by_name[name].stacked for name in getattr(blend, "weights", {}) if name in by_name)
            chosen = production.finish(result.candidates, blend.oof, blend.score, plan.deadline(PRODUCTION_FINAL),
                                       autogluon_path=models if models.is_dir() else None,
                                       leaderboard_test=blend.test, leaderboard_stacked=stacked or blend.stacked)
    except Exception as error:  # noqa: BLE001 - the leaderboard submission stands whatever happens here
        message = error.message if isinstance(error, PodiumError) else f"{type(error).__name__}: {error}"
        if not isinstance(error, PodiumError):
            log.exception("The production phase failed")
        run.update(production={"error": message, "candidates": getattr(error, "candidates", [])})
        return None
    training = {"cpu_seconds": round(time.process_time() - cpu_started, 3),
                "cpu_seconds_note": "CPU of the production phase's second half in podium's process: every fit but "
                                    "the compact search's trials, which run in Ray workers"}
    run.update(production={**chosen.summary(), "training": training})
    run.update(artifacts={**run.manifest.get("artifacts", {}), "production": str(chosen.out_dir)})
    return chosen


def _fit_leaderboard(competition: Competition, dataset: Dataset, settings: Settings, executor: RayExecutor,
                     run_dir: Path, plan, cpus: int, options: RunOptions, early, on_autogluon=None):
    from agent.run.search import fit_leaderboard

    trial_cpus = options.cpus or executor.total_cpus() or cpus  # trials may spread over a whole cluster
    return fit_leaderboard(competition, dataset, settings, executor, run_dir, plan, cpus, options.memory_gb,
                           trial_cpus=trial_cpus, extra=early, on_autogluon=on_autogluon)


def _available_memory_gb() -> float:
    import psutil

    return round(psutil.virtual_memory().available / 2**30 * 0.8, 2)


# --- Kaggle sources and --submit (the flow itself lives in agent/kaggle/) ---------------------------

def _source(text: str, options: RunOptions, recorded_endpoint: str | None = None,
            recorded_tables: dict[str, str] | None = None):
    return resolve_source(text, endpoint=options.kaggle_endpoint or recorded_endpoint, refresh=options.refresh,
                          tables=options.tables or recorded_tables)


def _submit(run: Run, options: RunOptions, settings: Settings, notify: Notify) -> None:
    """--submit: upload submission.csv, wait for the score; a failure leaves the run succeeded, unsubmitted."""
    from agent.kaggle.submit import submit_run

    notify("Submitting and waiting for the score")
    run.manifest["submission"] = submit_run(run.path, endpoint=options.kaggle_endpoint, settings=settings.kaggle)
