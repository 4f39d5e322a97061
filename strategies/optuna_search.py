"""Optuna searches over gradient-boosted learners, one fold per Ray task, owned by the driver (ask/tell through
strategies/trials.py).

The study lives in the run directory (a journal file), and every finished trial's out-of-fold and test
predictions are saved beside it before the study hears of it. A killed run resumes from there: finished
trials are kept, a trial left RUNNING is marked failed and its parameters are queued again.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from agent.atomic import write_with
from agent.competition.dataset import Dataset
from agent.competition.folds import fitted_on, oof_score
from agent.competition.inference import Competition
from agent.competition.metrics import score_prediction
from agent.config import CONFIG_DIR
from agent.deadline import Deadline
from agent.errors import ConfigError
from strategies.base import Budget, Candidate, SearchResult, Strategy
from strategies.learners import LEARNERS, Task, fit_predict, prepare_features
from strategies.trials import Cancelled, Job, JobFailed, TrialSteps, run_trials

log = logging.getLogger("podium.optuna")


def load_space(learner: str, directory: Path = CONFIG_DIR / "search_spaces") -> dict[str, Any]:
    path = directory / f"{learner}.yaml"
    if learner not in LEARNERS or not path.is_file():
        raise ConfigError(f"No search space for learner '{learner}'", where=str(path),
                          fix=f"use one of {', '.join(LEARNERS)}")
    return yaml.safe_load(path.read_text())


def suggest(trial, space: dict[str, Any]) -> dict[str, Any]:
    """Sample one configuration from a YAML search space."""
    params = {}
    for name, spec in space["params"].items():
        kind = spec["type"]
        if kind == "float":
            params[name] = trial.suggest_float(name, spec["low"], spec["high"], log=spec.get("log", False))
        elif kind == "int":
            params[name] = trial.suggest_int(name, spec["low"], spec["high"], log=spec.get("log", False))
        elif kind == "categorical":
            params[name] = trial.suggest_categorical(name, spec["choices"])
        else:
            raise ConfigError(f"Unknown parameter type '{kind}' for '{name}' in the {space['learner']} space")
    return params


# Other libraries' names for a parameter of podium's spaces (AutoGluon passes LightGBM its native names).
ALIASES = {"min_data_in_leaf": "min_child_samples", "eta": "learning_rate"}


def within_space(params: dict[str, Any], space: dict[str, Any]) -> dict[str, Any] | None:
    """`params` as a trial of `space`: its parameters by their names here, clipped into their ranges, the rest
    from the space's first trial; None when fewer than half of the space's parameters are given."""
    named = {ALIASES.get(key, key): value for key, value in params.items()}
    given = {name: named[name] for name in space["params"] if isinstance(named.get(name), int | float)}
    if 2 * len(given) < len(space["params"]):
        return None
    start = dict(space.get("first", {}))
    for name, value in given.items():
        spec = space["params"][name]
        if spec["type"] in ("float", "int"):
            value = min(max(value, spec["low"]), spec["high"])
            start[name] = int(round(value)) if spec["type"] == "int" else float(value)
    return {name: start[name] for name in space["params"] if name in start}


def fit_fold(learner: str, params: dict[str, Any], task: Task, shared: tuple, fold: int,
             deadline: Deadline | None = None) -> dict[str, Any]:
    """One fold of one trial (a Ray task): fit on the rows the fold is fitted on (agent/competition/folds.py),
    predict this fold and the test set; past `deadline` it stops itself (PastDeadline)."""
    X, y, X_test, folds = shared
    started, started_cpu = time.monotonic(), time.process_time()
    train, valid = np.flatnonzero(fitted_on(folds, fold)), np.flatnonzero(folds == fold)
    fit = fit_predict(learner, params, task, X.iloc[train], y[train], X.iloc[valid], X_test, deadline)
    return {"fold": fold, "valid": valid, "valid_pred": fit.valid, "test_pred": fit.test, "trees": fit.trees,
            "model": fit.model, "seconds": time.monotonic() - started,
            "cpu_seconds": time.process_time() - started_cpu}


@dataclass
class _Active:
    """A trial in flight: which folds are done and their predictions so far."""

    search: OptunaSearch
    trial: Any
    params: dict[str, Any]
    oof: np.ndarray
    test: np.ndarray
    done: list[int] = field(default_factory=list)
    trees: list[int] = field(default_factory=list)
    seconds: float = 0.0
    models: dict[int, str] = field(default_factory=dict)  # fold -> model text (LightGBM), for the fold bag


class OptunaSearch(Strategy):
    """Tune one learner with TPE and median pruning on fold results; the best trials become candidates."""

    def __init__(self, learner: str, study_dir: Path, executor, seed: int = 0, keep_best: int = 3,
                 cpus_per_trial: int = 1, max_trials: int | None = None, space: dict[str, Any] | None = None,
                 warm_start: list[dict[str, Any]] | None = None):
        self.learner = learner
        self.name = f"optuna-{learner}"
        self.study_dir = Path(study_dir)
        self.executor = executor
        self.seed = seed
        self.keep_best = keep_best
        self.cpus_per_trial = cpus_per_trial
        self.max_trials = max_trials
        self.space = space or load_space(learner)
        self.warm_start = warm_start or []  # hyperparameters another search found good (AutoGluon's best)
        self.cpu_seconds_ = 0.0  # every fold this search ran, pruned and failed trials included

    @property
    def journal(self) -> Path:
        return self.study_dir / f"{self.learner}.journal"

    def open_study(self):
        import optuna
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        optuna.logging.disable_default_handler()  # its records go to podium.log, not the terminal
        self.study_dir.mkdir(parents=True, exist_ok=True)
        journal = self.journal
        # Only the run's driver writes its studies, and a resume refuses while another driver lives: a lock
        # found now was left by a killed driver. Left alone, Optuna would wait 30 s before breaking it.
        Path(f"{journal}.lock").unlink(missing_ok=True)
        storage = JournalStorage(JournalFileBackend(str(journal)))
        sampler = optuna.samplers.TPESampler(seed=self.seed, multivariate=True, constant_liar=True,
                                             n_startup_trials=5)
        pruner = optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1)
        study = optuna.create_study(study_name=self.learner, storage=storage, sampler=sampler, pruner=pruner,
                                    direction="maximize", load_if_exists=True)
        self._recover(study)
        return study

    def _recover(self, study) -> None:
        """Mark trials a killed driver left RUNNING as failed and queue their parameters again."""
        from optuna.trial import TrialState

        if not study.trials:
            study.enqueue_trial(self.space.get("first", {}), skip_if_exists=True)
            for params in self.warm_start:
                start = within_space(params, self.space)
                if start is not None:
                    log.info("%s starts from another search's hyperparameters too: %s", self.learner, start)
                    study.enqueue_trial(start, skip_if_exists=True)
            return
        for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            log.info("Trial %d of %s was interrupted; queueing its parameters again", trial.number, self.learner)
            study.tell(trial.number, state=TrialState.FAIL)
            study.enqueue_trial(trial.params, skip_if_exists=False)

    def _predictions_path(self, number: int) -> Path:
        return self.study_dir / f"{self.learner}-trial-{number:04d}.npz"

    def search(self, competition: Competition, data: Dataset, budget: Budget) -> SearchResult:
        return search_together([self], competition, data, budget)[self.learner]

    @staticmethod
    def _absorb(state: _Active, result: dict[str, Any], n_folds: int) -> None:
        state.oof[result["valid"]] = result["valid_pred"]
        state.test += np.asarray(result["test_pred"]) / n_folds
        state.done.append(result["fold"])
        state.trees.append(result["trees"])
        state.seconds += result["seconds"]
        if result.get("model") is not None:
            state.models[result["fold"]] = result["model"]

    def _finish(self, study, state: _Active, value: float) -> None:
        """Save the trial's predictions first, then tell the study: a finished trial is never lost."""
        path = self._predictions_path(state.trial.number)
        write_with(path, lambda handle: np.savez(handle, oof=state.oof, test=state.test), binary=True)
        if len(state.models) == len(state.done):
            self._keep_fold_models(study, state, value)
        state.trial.set_user_attr("fit_seconds", state.seconds)
        state.trial.set_user_attr("trees", state.trees)
        study.tell(state.trial, value)

    def _models_path(self, number: int) -> Path:
        return self.study_dir / f"{self.learner}-trial-{number:04d}.models.json.gz"

    def _keep_fold_models(self, study, state: _Active, value: float) -> None:
        """Write the trial's fold models (the production phase may serve them as a fold bag), and keep such
        files only for the best `keep_best` trials, which bounds the disk they take."""
        import gzip
        import json

        from optuna.trial import TrialState

        texts = [state.models[fold] for fold in sorted(state.models)]
        write_with(self._models_path(state.trial.number),
                   lambda handle: handle.write(gzip.compress(json.dumps(texts).encode(), 6, mtime=0)), binary=True)
        finished = [(t.value, t.number) for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))]
        ranked = sorted([*finished, (value, state.trial.number)], reverse=True)
        for _, number in ranked[self.keep_best:]:
            self._models_path(number).unlink(missing_ok=True)

    def candidates(self, study, competition: Competition) -> list[Candidate]:
        """The best finished trials whose predictions are on disk, as candidates."""
        from optuna.trial import TrialState

        metric = competition.metric
        finished = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
                    if self._predictions_path(t.number).is_file()]
        finished.sort(key=lambda t: t.value, reverse=True)
        candidates = []
        for trial in finished[: self.keep_best]:
            with np.load(self._predictions_path(trial.number)) as saved:
                oof, test = saved["oof"], saved["test"]
            candidates.append(Candidate(
                name=f"{self.name}/trial-{trial.number}", strategy=self.name, oof=oof, test=test,
                score=metric.signed(trial.value), fit_seconds=float(trial.user_attrs.get("fit_seconds", 0.0)),
                artifact=str(self.study_dir), family=self.learner, params=trial.params,
                trees=trial.user_attrs.get("trees"),
                fold_models=str(models) if (models := self._models_path(trial.number)).is_file() else None,
            ))
        return candidates

    def result(self, study, competition: Competition, resumed: bool) -> SearchResult:
        """The study's best trials as candidates, what its folds cost, and its trial counts."""
        from optuna.trial import TrialState

        candidates = self.candidates(study, competition)
        counts = {state.name.lower(): len(study.get_trials(deepcopy=False, states=(state,)))
                  for state in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)}
        counts["stopped"] = sum(1 for t in study.get_trials(deepcopy=False, states=(TrialState.FAIL,))
                                if t.user_attrs.get(STOPPED_AT_DEADLINE))
        counts["fail"] -= counts["stopped"]
        summary = {"learner": self.learner, "trials": len(study.trials), **counts, "ran": True,
                   "cpu_seconds": round(self.cpu_seconds_, 3),
                   "best_oof_score": candidates[0].score if candidates else None}
        return SearchResult(candidates, self.cpu_seconds_, "measured in the trials' tasks", summary, resumed)


class OptunaStudies(Strategy):
    """One study per learner, side by side within one budget (`search_together`), as one search: the best
    trials of every study are its candidates, each study's summary and CPU in its result's summary. Each study
    starts from its learner's cheap first trial, then from the hyperparameters of the `known` candidates of
    its family (warm starts), then samples."""

    name = "optuna"

    def __init__(self, learners: list[str], study_dir: Path, executor, seed: int = 0, keep_best: int = 3,
                 cpus_per_trial: int = 1, known: list[Candidate] | None = None):
        self.searches = [OptunaSearch(learner, study_dir, executor, seed=seed, keep_best=keep_best,
                                      cpus_per_trial=cpus_per_trial,
                                      warm_start=[c.params for c in known or [] if c.family == learner and c.params])
                         for learner in learners]

    def search(self, competition: Competition, data: Dataset, budget: Budget) -> SearchResult:
        results = search_together(self.searches, competition, data, budget)
        candidates = [c for result in results.values() for c in result.candidates]
        summary = {"studies": [result.summary for result in results.values()],
                   "cpu_seconds": {learner: round(result.cpu_seconds, 3) for learner, result in results.items()},
                   "cpu_method": {learner: result.cpu_method for learner, result in results.items()}}
        return SearchResult(candidates, sum(r.cpu_seconds for r in results.values()), "measured in the trials' tasks",
                            summary, resumed=any(r.resumed for r in results.values()))


STOPPED_AT_DEADLINE = "stopped_at_deadline"


def stop_at_deadline(study, trial) -> None:
    """End a trial the deadline cut short. Optuna has no such state: it is told FAIL (so the sampler ignores
    it) and marked, so the study's summary counts it as stopped rather than as a failure."""
    from optuna.trial import TrialState

    trial.set_user_attr(STOPPED_AT_DEADLINE, True)
    study.tell(trial, state=TrialState.FAIL)


def search_together(searches: list[OptunaSearch], competition: Competition, data: Dataset,
                    budget: Budget) -> dict[str, SearchResult]:
    """Run several learners' studies side by side within one budget, sharing the CPUs trial by trial.

    Free slots go to the learners in turn (strategies/trials.py), so a slow learner still finishes its cheap
    first trial while a fast one runs many; a learner whose typical fold would overrun the deadline gets no
    new trial, and a trial whose next fold would is given up.
    """
    from optuna.trial import TrialState

    deadline = Deadline.after(budget.seconds)
    metric = competition.metric
    executor = searches[0].executor
    cpus_per_trial = searches[0].cpus_per_trial
    resumed = {s.learner: s.journal.is_file() for s in searches}  # a killed run's study, picked up
    studies = {s.learner: s.open_study() for s in searches}
    X, X_test = prepare_features(data.X, data.X_test)
    shared = executor.put((X, data.y, X_test, data.folds))
    task = Task(competition.problem_type, max(len(competition.classes), 1), competition.metric_name,
                searches[0].seed, cpus_per_trial)
    fold_seconds: dict[str, list[float]] = {s.learner: [] for s in searches}
    asked = {s.learner: 0 for s in searches}
    shape = (len(data.y), len(competition.classes)) if competition.problem_type == "multiclass" else (len(data.y),)
    test_shape = (len(data.X_test),) + shape[1:]

    def time_for_a_fold(learner: str) -> bool:
        typical = float(np.median(fold_seconds[learner])) if fold_seconds[learner] else 0.0
        return typical < deadline.remaining()

    def trial_steps(search: OptunaSearch) -> TrialSteps:
        study = studies[search.learner]
        trial = study.ask()
        state = _Active(search, trial, suggest(trial, search.space), np.full(shape, np.nan), np.zeros(test_shape))
        params = {**search.space.get("fixed", {}), **state.params}
        for fold in range(data.n_folds):
            try:
                result = yield Job(fit_fold, (search.learner, params, task, shared, fold, deadline),
                                   name=f"{search.name}-t{trial.number}-f{fold}", num_cpus=cpus_per_trial,
                                   max_retries=1)
            except JobFailed as failed:  # a failed trial must not stop the search
                log.warning("Trial %d of %s failed: %s", trial.number, search.learner, failed.error)
                study.tell(trial, state=TrialState.FAIL)
                return
            except Cancelled:
                stop_at_deadline(study, trial)
                return
            OptunaSearch._absorb(state, result, data.n_folds)
            fold_seconds[search.learner].append(result["seconds"])
            search.cpu_seconds_ += result["cpu_seconds"]
            rows = np.flatnonzero(np.isin(data.folds, state.done))
            trial.report(metric.signed(score_prediction(metric, data.y[rows], state.oof[rows])), step=fold)
            if len(state.done) == data.n_folds:
                search._finish(study, state, metric.signed(oof_score(metric, data.y, state.oof, data.folds)))
                return
            if trial.should_prune():
                study.tell(trial, state=TrialState.PRUNED)
                return
            if not time_for_a_fold(search.learner):
                stop_at_deadline(study, trial)
                return

    def starter(search: OptunaSearch):
        def start() -> TrialSteps | None:
            if not time_for_a_fold(search.learner) or (search.max_trials is not None
                                                      and asked[search.learner] >= search.max_trials):
                return None
            asked[search.learner] += 1
            return trial_steps(search)
        return start

    run_trials(executor, [starter(s) for s in searches], max(1, int(budget.cpus // cpus_per_trial)), deadline)
    return {s.learner: s.result(studies[s.learner], competition, resumed[s.learner]) for s in searches}
