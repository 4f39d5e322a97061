"""`podium retrain RUN_DIR --data new_train.csv`: the run's production pipeline, refitted on new labelled rows.

Steps: read the parent run (config.yaml, competition, production model) and the new rows, checked against the
model's input schema; hold some rows back; build a production model on the rest with the run's own production
settings and budgets; score the current and the retrained model on the holdout; ship the better one in a new
run directory, `runs/<competition>/<new-run-id>/` (manifest `kind: retrain`, `parent_run`).

The recipe (docs/retraining.md): the leaderboard model is not refitted on the new data, so there is no teacher
for distillation and no AutoGluon predictor to take fast options from. The retrain runs the compact search
(the linear floor and the Optuna study of LightGBM models) under the same budgets, with `distill` and
`autogluon_options` off. The card's "leaderboard" reference becomes the current production model scored on the
new training rows (which it never saw).
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from agent.atomic import write_text
from agent.checks import write_quality_report
from agent.competition.dataset import Dataset, make_folds
from agent.competition.folds import oof_score
from agent.competition.split import RANDOM, structured_folds
from agent.errors import BudgetError, InputError
from agent.logs import run_log
from agent.outputs import output_folder
from agent.report import failure_reported, report_run
from agent.rundir import Run
from agent.runtime import load_model, staged_directory
from agent.runtime.card import MODEL_CARD, ModelCard
from agent.services.retrain.checks import check_new_data
from agent.services.retrain.compare import RETRAINED, Decision, decide, holdout_score
from agent.services.retrain.inputs import (
    Labelled,
    Parent,
    check_classes,
    load_parent,
    read_labelled,
    split_holdout,
)

log = logging.getLogger("podium.retrain")
Notify = Callable[[str], None]
RECIPE = ("compact search (linear floor + Optuna study of LightGBM models) under the run's production budgets and "
          "settings; distillation and AutoGluon's options off: the leaderboard model is not refitted on new data")
REFERENCE = ("in a retrain there is no leaderboard model: the card's leaderboard score is the previous production "
             "model's score on the new training rows, which it never saw")


@dataclass
class Prepared:
    """The new rows, checked and split, and the Dataset the production search reads."""

    train: Labelled
    holdout: Labelled
    dataset: Dataset
    record: dict[str, Any]
    notes: list[str] = field(default_factory=list)


@dataclass
class RetrainResult:
    """The new run, the decision with both holdout scores, and where the shipped model is."""

    run: Run
    parent: Path
    decision: Decision
    production: Path
    current_model: str
    retrained_model: str | None
    notes: list[str]


def prepare(parent: Parent, data: str | Path, holdout: float | None = None,
            holdout_data: str | Path | None = None) -> Prepared:
    """Read and check the new rows; hold back a seeded, stratified share (or read --holdout-data)."""
    settings, competition, schema = parent.settings, parent.competition, parent.model.schema
    rs, seed = settings.retrain, settings.run.seed
    if holdout is not None and holdout_data is not None:
        raise InputError("Both --holdout and --holdout-data were given", where="command line",
                         fix="pass --holdout SHARE to split the new data, or --holdout-data FILE to score on a file")
    share = rs.holdout if holdout is None else holdout
    if not 0 < share < 0.9:
        raise InputError(f"--holdout {share} is not a share of the rows", where="command line",
                         fix="pass a number between 0 and 0.9, such as 0.2")
    new = read_labelled(data, competition, schema, "new training data")
    where = new.record.get("path") or new.record.get("database") or str(data)
    if len(new.y) < rs.min_rows:
        raise InputError(f"The new training data has {len(new.y)} labelled row(s); retraining needs at least "
                         f"{rs.min_rows}", where=where, fix="collect more labelled rows (retrain.min_rows)")
    check_classes(new, competition, where)
    record: dict[str, Any] = {"data": {**new.record, "labelled_rows": len(new.y)}}
    if holdout_data is None:
        train, held = split_holdout(new, share, seed, competition.is_classification, rs.min_holdout_rows, where,
                                    competition.test_split, competition.dates)
        record["holdout"] = {"source": "split of the new data", "share": share, "seed": seed,
                             "stratified": competition.is_classification, "split": competition.test_split.kind}
    else:
        train, held = new, read_labelled(holdout_data, competition, schema, "holdout data")
        if len(held.y) < rs.min_holdout_rows:
            raise InputError(f"The holdout data has {len(held.y)} labelled row(s); comparing two models needs at "
                             f"least {rs.min_holdout_rows}", where=str(holdout_data), fix="pass more labelled rows")
        if competition.is_classification and len(np.unique(held.y)) < 2:
            raise InputError("The holdout data holds a single class", where=str(holdout_data),
                             fix="use a holdout with rows of several classes")
        record["holdout"] = held.record
    record["data"].update(train_rows=len(train.y), holdout_rows=len(held.y))
    split = competition.test_split
    folds = make_folds(train.y, competition.problem_type, settings.run.folds, seed) \
        if split.kind == RANDOM or train.by is None else \
        structured_folds(split, train.by, train.y, competition.problem_type, settings.run.folds, seed,
                         competition.dates, forward=settings.run.time_folds == "forward")
    dataset = Dataset(X=train.X, y=train.y, labels=train.labels, X_test=train.X.iloc[:0],
                      test_ids=pd.Series([], dtype=object, name=competition.id_column), folds=folds)
    return Prepared(train, held, dataset, record, new.notes + (held.notes if holdout_data is not None else []))


def retrain(run_dir: str | Path, data: str | Path, out: str | Path | None = None, holdout: float | None = None,
            holdout_data: str | Path | None = None, time_budget_s: float | None = None,
            allow: tuple[str, ...] = (), notify: Notify = lambda message: None) -> RetrainResult:
    """Retrain the run's production model on `data` into a new run directory; the parent run is only read."""
    notify("Reading the run and the new data")
    parent = load_parent(run_dir)
    out_root = output_folder(Path(out) if out is not None else parent.run.path.parent.parent, "--out")
    prepared = prepare(parent, data, holdout, holdout_data)
    settings = parent.settings
    budget = time_budget_s or settings.retrain.time_budget_s or \
        settings.production.time_share * settings.run.time_limit
    if budget <= 0:
        raise InputError(f"--time-budget {budget} is not a number of seconds", fix="pass a positive number")
    run = Run.create(out_root, parent.run.manifest["competition_slug"], kind="retrain",
                     parent_run=str(parent.run.path), parent_run_id=parent.run.manifest.get("run_id"),
                     source=prepared.record["data"].get("path") or prepared.record["data"]["database"],
                     seed=settings.run.seed, time_limit=round(budget, 1))
    with run_log(run.file("podium.log")), failure_reported(run, log, "Retrain"):
        return _execute(run, parent, prepared, budget, allow, notify)


def _execute(run: Run, parent: Parent, prepared: Prepared, budget: float, allow: tuple[str, ...],
             notify: Notify) -> RetrainResult:
    write_text(run.file("config.yaml"), parent.config_file.read_text())  # the same configuration, verbatim
    competition = parent.competition
    log.info("Retraining %s from %s on %d rows (%d held out)", competition.slug, parent.run.path,
             len(prepared.train.y), len(prepared.holdout.y))
    for note in prepared.notes:
        log.warning(note)
    run.update(competition=parent.run.manifest["competition"],
               data={"train_rows": len(prepared.train.y), "holdout_rows": len(prepared.holdout.y),
                     "features": len(competition.features), "folds": prepared.dataset.n_folds})
    notify("Checking the new data")
    with run.phase("quality") as record:
        report = check_new_data(competition, prepared.train, prepared.holdout, parent.settings, allow)
        write_quality_report(report, run.file("quality.json"))
        record["findings"] = {s: len(report.by_severity(s)) for s in ("error", "warning", "info")}
        report.raise_for_errors()
    notify(f"Building the retrained production model (up to {budget:.0f} s)")
    built, failure = _build(run, parent, prepared, budget)
    retrained_dir = built.out_dir if built is not None else None
    notify("Scoring both models on the holdout")
    with run.phase("compare"):
        metric, where = competition.metric, "retrain holdout"
        current = holdout_score(parent.model, prepared.holdout, metric, where)
        retrained = holdout_score(load_model(retrained_dir), prepared.holdout, metric, where) \
            if retrained_dir is not None else None
        decision = decide(metric, len(prepared.holdout.y), current, retrained, failure)
    for reason in decision.reasons:
        log.info(reason)
    notify("Writing the production model")
    with run.phase("export"):
        info = _info(parent, prepared, decision, built)
        production, retrained_name = _ship(run, parent, built, decision, info)
    run.update(retrain={**info, "current": {**info["current"], "model": parent.model.name},
                        "retrained": {**info["retrained"], "model": retrained_name}},
               production=_summary(production),
               artifacts={"production": str(production), "config": str(run.file("config.yaml")),
                          "log": str(run.file("podium.log"))})
    run.succeed()
    log.info("Retrain succeeded in %.1f s: %s model ships", run.elapsed(), decision.keep)
    report_run(run)
    return RetrainResult(run, parent.run.path, decision, production, parent.model.name, retrained_name,
                         prepared.notes)


def _build(run: Run, parent: Parent, prepared: Prepared, budget: float) -> tuple[Any, str | None]:
    """The retrained model in `retrained/` (its card not written yet: the decision goes in it), or (None, why)
    when no candidate fits the budgets."""
    from strategies.production import build_production_model

    settings = parent.settings
    production = settings.production.model_copy(update={"distill": False, "autogluon_options": False})
    metric = parent.competition.metric
    reference = parent.model.predict_raw(prepared.train.X)  # honest: the current model never saw these rows
    # on the rows the candidates are scored on (forward-chaining folds never score the earliest block)
    reference_score = float(oof_score(metric, prepared.train.y, reference, prepared.dataset.folds))
    with run.phase("production") as record:
        record.update(budget_seconds=round(budget, 1), recipe=RECIPE)
        try:
            result = build_production_model(
                parent.competition, prepared.dataset, [], np.asarray(reference), reference_score,
                run.file("retrained"), settings.model_copy(update={"production": production}), time_budget_s=budget,
                write_card=False)
        except BudgetError as error:
            record.update(outcome="no candidate fits the budgets", error=error.message,
                          candidates=getattr(error, "candidates", []))
            return None, error.message
        record.update(outcome="built", model=result.chosen.name, validation_score=result.chosen.score)
    return result, None


def _info(parent: Parent, prepared: Prepared, decision: Decision, built) -> dict[str, Any]:
    return {"parent_run": str(parent.run.path), "parent_run_id": parent.run.manifest.get("run_id"),
            "recipe": RECIPE, **prepared.record, "metric": decision.metric,
            "greater_is_better": decision.greater_is_better, "decision": decision.keep, "reasons": decision.reasons,
            "current": {"holdout_score": decision.current_score, "path": str(parent.artifact),
                        "validation_score": card.validation.score if (card := _card(parent.artifact)) else None},
            "retrained": {"holdout_score": decision.retrained_score,
                          "validation_score": built.card.validation.score if built is not None else None}}


def _ship(run: Run, parent: Parent, built, decision: Decision,
          info: dict[str, Any]) -> tuple[Path, str | None]:
    """production/ holds the model that ships; a retrained model that lost is kept in rejected/ to inspect."""
    production = run.file("production")
    retrained_dir = built.out_dir if built is not None else None
    retrained_name = load_model(retrained_dir).name if retrained_dir is not None else None
    if built is not None:  # its card says it was retrained, from what, and how the comparison went
        built.write_card(retrain={"parent_run": info["parent_run"], "decision": info["decision"],
                                  "reasons": info["reasons"], "metric": info["metric"], "holdout": info["holdout"],
                                  "holdout_score": info["retrained"]["holdout_score"],
                                  "current_holdout_score": info["current"]["holdout_score"], "recipe": RECIPE,
                                  "leaderboard_reference": REFERENCE})
    if decision.keep == RETRAINED:
        os.replace(retrained_dir, production)  # a sibling rename: production/ appears whole
        info["retrained"]["path"] = str(production)
        return production, retrained_name
    with staged_directory(production) as stage:
        shutil.copytree(parent.artifact, stage, dirs_exist_ok=True,
                        ignore=lambda folder, names: ["monitor"] if Path(folder) == parent.artifact else [])
    if retrained_dir is not None:
        os.replace(retrained_dir, run.file("rejected"))
        info["retrained"]["path"] = str(run.file("rejected"))
    return production, retrained_name


def _card(folder: Path) -> ModelCard | None:
    """A production folder's card; None when it has none or it cannot be read (the comparison stands)."""
    try:
        return ModelCard.read(Path(folder) / MODEL_CARD)
    except InputError as error:
        log.warning("%s", error)
        return None


def _summary(production: Path) -> dict[str, Any]:
    """The shipped model's headline facts, from its card, for the manifest."""
    card = _card(production)
    if card is None:
        return {"path": str(production)}
    return {"path": str(production), "model": card.model.name, "score": card.validation.score,
            "p99_ms": card.latency.p99_ms_batch1, "size_bytes": card.size.serving_bytes,
            "within_budget": card.budgets.within_budget}
