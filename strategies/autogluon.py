"""The leaderboard workhorse: an AutoGluon TabularPredictor bagged on the run's own folds."""

from __future__ import annotations

import importlib.util
import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from agent.columns import autogluon_name, with_encoded_names
from agent.competition.dataset import Dataset
from agent.competition.folds import chains_forward, fold_pairs, oof_score, scored
from agent.competition.inference import Competition
from agent.competition.split import RANDOM
from agent.deadline import Deadline
from strategies.autogluon_folds import DISTRIBUTED, distributed_mode, fold_deadline, patch_fold_fitting
from strategies.autogluon_latency import latency_in_memory, persist
from strategies.autogluon_predict import (
    affordable,
    as_prediction,
    predict_estimate,
    predict_factor,
    predict_multi,
    predict_test,
    weighted_ensemble,
)
from strategies.autogluon_saved import load_test_predictions
from strategies.base import Budget, Candidate, SearchResult, Strategy

log = logging.getLogger("podium.autogluon")
# AutoGluon model types and the library each needs. podium installs neither (torch and fastai pull in a CUDA
# torch of several GB), so these are left out up front instead of failing at every stack level.
OPTIONAL_LIBRARIES = {"FASTAI": "fastai", "NN_TORCH": "torch"}
DONE = "autogluon.done"  # marker: the predictor in the strategy's folder finished fitting (resume reuses it)
TEST_PREDICTIONS = "podium_test_predictions"  # each model's test predictions, saved as the fit makes them


@dataclass
class AutoGluonCandidate(Candidate):
    """One of AutoGluon's models: its stack level besides what every candidate carries."""

    level: int = 1  # stack level: 1 learns from the features alone

    def strategy_fields(self) -> dict[str, Any]:
        return {"stack_level": self.level, "stacked": self.stacked, "strategy_best": self.strategy_best}


def unavailable_model_types() -> list[str]:
    """Model types whose library is not installed here: fitting them would only fail (about 2 s per level)."""
    return [kind for kind, module in OPTIONAL_LIBRARIES.items() if importlib.util.find_spec(module) is None]


class AutoGluonStrategy(Strategy):
    """Fit AutoGluon with the competition metric; every bagged model becomes a candidate with OOF predictions.

    The run's folds are AutoGluon's own level-1 folds (`agent.competition.dataset.make_folds` draws them with
    the same seed), so level-1 OOF predictions line up with every other strategy's without AutoGluon's
    `groups`, which would force random forests and extra trees to bag per fold instead of using one forest's
    out-of-bag predictions, as AutoGluon alone does. Level 2 splits with AutoGluon's next seed, as AutoGluon
    alone does. Dynamic stacking is off (its sub-fit nests a whole fit inside the task). Folds are fitted in
    parallel as child Ray tasks of this task by default ("parallel_local": more models in the same time than
    one after the other, docs/benchmarks.md), over every node of a cluster ("parallel_distributed"); inside a
    batch's placement group they fit one after the other, so a competition never takes another's CPUs.
    """

    name = "autogluon"

    def __init__(self, path: Path, presets: str = "best_quality", num_stack_levels: int | None = None,
                 excluded_model_types: list[str] | None = None, verbosity: int = 2,
                 fold_fitting: str = "parallel_local", seed: int = 0, hyperparameters: dict | None = None,
                 test_models: str = "all", portfolio: dict[str, list[str]] | None = None, log_target: bool = False,
                 absolute_error: bool = False):
        self.path = Path(path)
        self.presets = presets
        self.num_stack_levels = num_stack_levels
        self.excluded_model_types = excluded_model_types or []
        self.verbosity = verbosity
        self.fold_fitting = fold_fitting
        self.seed = seed
        self.hyperparameters = hyperparameters  # None: the portfolios', or the preset's own
        # AutoGluon portfolios (or presets) merged (strategies/portfolio.py), for a fit that stacks ("stacked")
        # and one that does not ("single_level"); a missing or empty list: the preset's own portfolio
        self.portfolio = portfolio or {}
        self.log_target = log_target  # a LightGBM on log1p(y) joins a skewed regression target's portfolio
        self.absolute_error = absolute_error  # a LightGBM on absolute error joins an MAE metric's portfolio
        self.test_models = test_models  # "all", or "best": the others' later, if a blend chooses them

    def search(self, competition: Competition, data: Dataset, budget: Budget) -> SearchResult:
        """Fit (or, when a killed run had finished the fit, reload it) and return every model as a candidate.

        Folds fitted in parallel run in other Ray workers, out of this process's sight: their cost is then the
        CPUs the fit held times its wall time, what a cluster bills for it.
        """
        started, started_cpu = time.monotonic(), time.process_time()
        data = encoded_features(data)
        resumed = (self.path / DONE).is_file()
        as_fitted: dict = {}
        if resumed:
            from autogluon.tabular import TabularPredictor

            log.info("Reusing the finished AutoGluon fit in %s", self.path)
            predictor = TabularPredictor.load(str(self.path), require_py_version_match=False)
            candidates = self.candidates(predictor, competition, data, fit_seconds=0.0, test_models=self.test_models,
                                         predict_deadline=budget.predict_deadline)
        else:
            if self.path.exists():
                shutil.rmtree(self.path)  # an interrupted fit cannot be continued: start it again
            candidates, as_fitted = self._fit(competition, data, budget)
            (self.path / DONE).write_text("ok\n")
        seconds = time.monotonic() - started
        summary = {"models": len(candidates), "best": next((c.model for c in candidates if c.strategy_best), None),
                   "seconds": round(seconds, 3), "resumed": resumed, "fold_fitting": self.fold_fitting,
                   "cpus": budget.cpus, **as_fitted}
        if self.fold_fitting == "sequential_local":
            return SearchResult(candidates, time.process_time() - started_cpu, "measured in the task", summary,
                                resumed)
        return SearchResult(candidates, budget.cpus * seconds,
                            f"{budget.cpus} CPUs held x wall time (folds ran in parallel workers)", summary, resumed)

    def predict_test(self, competition: Competition, X_test, models: list[str]) -> dict[str, np.ndarray]:
        """The chosen models' test predictions, from the predictor in the strategy's folder."""
        return predict_test(str(self.path), competition.to_dict(), X_test, models)

    def salvage(self, competition: Competition, data: Dataset) -> SearchResult | None:
        """What a fit that never returned (cancelled past its deadline, or its task died) left on disk: every
        model the trainer saved, with the out-of-fold predictions saved in it and the test predictions saved as
        it was fitted; None when nothing usable is there. AutoGluon saves the predictor before its fit and the
        trainer after every model, so that an interrupted fit can predict."""
        from autogluon.tabular import TabularPredictor

        started = time.monotonic()
        try:
            predictor = TabularPredictor.load(str(self.path), require_py_version_match=False, verbosity=0)
            saved = load_test_predictions(self.path / TEST_PREDICTIONS, predictor._trainer.get_model_names())
            candidates = self.candidates(predictor, competition, data, fit_seconds=0.0, test_models="saved",
                                         predicted=saved)
        except Exception as error:  # noqa: BLE001 - nothing usable: the run goes on without AutoGluon
            log.warning("Nothing could be recovered from the AutoGluon fit in %s: %s: %s", self.path,
                        type(error).__name__, error)
            return None
        if not candidates:
            return None
        summary = {"models": len(candidates), "best": next((c.model for c in candidates if c.strategy_best), None),
                   "seconds": round(time.monotonic() - started, 3), "salvaged": True,
                   "with_test_predictions": sum(c.test is not None for c in candidates)}
        log.info("Recovered %d AutoGluon models from disk (%d with test predictions) in %.1f s", len(candidates),
                 summary["with_test_predictions"], summary["seconds"])
        return SearchResult(candidates, 0.0, "not measured: the fit's task never returned", summary)

    def _fit(self, competition: Competition, data: Dataset, budget: Budget) -> tuple[list[Candidate], dict]:
        """The candidates, and how many models predicted the test set as they were fitted, in how many seconds."""
        from autogluon.tabular import TabularPredictor

        train = data.X.copy()
        train[competition.target] = data.labels.to_numpy()
        predictor = TabularPredictor(
            label=competition.target,
            problem_type=competition.problem_type,
            eval_metric=competition.metric.ag_scorer(competition.problem_type),
            path=str(self.path),
            positive_class=competition.positive_class if competition.problem_type == "binary" else None,
            verbosity=self.verbosity,
            # Level 1 splits with seed + 1, as make_folds does. Keep every class the folds hold (AutoGluon drops
            # classes under 10 rows by default: its OOF predictions would then miss rows and be unusable).
            learner_kwargs={"random_state": self.seed, "label_count_threshold": 2},
        )
        from strategies.portfolio import stack_levels

        levels = stack_levels(competition.problem_type, len(data.y), data.n_folds, self.num_stack_levels)
        if levels and chains_forward(data.folds):
            # the earliest block has no out-of-fold prediction: a second level would have no features for it
            log.info("Forward-chaining folds: AutoGluon does not stack (%d level(s) otherwise)", levels)
            levels = 0
        extra: dict = {"num_stack_levels": levels}
        excluded = sorted({*self.excluded_model_types, *unavailable_model_types()})
        hyperparameters = self._portfolio(competition, data, excluded, levels)
        if hyperparameters is not None:
            extra["hyperparameters"] = hyperparameters
        callback = None
        if budget.deadline is not None:
            from strategies.autogluon_deadline import DeadlineCallback

            # the learner's feature generators are fitted before the first model: the callback asks them then
            callback = DeadlineCallback(budget.deadline, budget.predict_deadline, predict_factor(data),
                                        test_features=lambda: predictor._learner.transform_features(data.X_test),
                                        saved_to=str(self.path / TEST_PREDICTIONS))
            extra["callbacks"] = [callback]
        started = time.monotonic()
        patch_fold_fitting()
        with distributed_mode(self.fold_fitting == DISTRIBUTED), fold_deadline(budget.deadline):
            self._fit_predictor(predictor, train, data, budget, excluded, extra,
                                structured=competition.test_split.kind != RANDOM)
        fit_seconds = time.monotonic() - started
        predicted = callback.test_predictions if callback is not None else {}
        features = callback.features() if callback is not None else None  # transformed once, during the fit
        as_fitted = {}
        if predicted:
            as_fitted = {"test_predicted_as_fitted": len(predicted),
                         "test_predict_seconds": round(sum(callback.test_seconds.values()), 3)}
            if callback.some_folds:  # models whose test predictions average some of their fold models
                as_fitted["test_predicted_by_some_folds"] = dict(callback.some_folds)
            log.info("%d models predicted the test set as they were fitted, in %.1f s", len(predicted),
                     as_fitted["test_predict_seconds"])
        return self.candidates(predictor, competition, data, fit_seconds, test_models=self.test_models,
                               predict_deadline=budget.predict_deadline, predicted=predicted,
                               test_features=features), as_fitted

    def _portfolio(self, competition: Competition, data: Dataset, excluded: list[str], levels: int) -> dict | None:
        """The model configurations to fit: given ones, the portfolios merged for a fit of `levels` stack
        levels, or (None) the preset's own; with the regression models AutoGluon does not fit third in line
        where the target or the metric wants them (strategies/target_transform.py)."""
        from strategies.portfolio import PRESET_PORTFOLIOS, merge
        from strategies.target_transform import (
            absolute_error_configs,
            log_target_configs,
            wants_absolute_error,
            wants_log_target,
            with_models,
        )

        if self.hyperparameters is not None:
            return self.hyperparameters
        chosen = self.portfolio.get("stacked" if levels > 0 else "single_level") or []
        names = chosen or ([self.presets] if self.presets in PRESET_PORTFOLIOS else [])
        if chosen:
            log.info("Portfolio for a fit of %d stack level(s): %s", levels + 1, " + ".join(chosen))
        extra: dict = {}
        if names and self.log_target and wants_log_target(competition, data.y):
            log.info("The target is non-negative and right-skewed: a LightGBM on log1p(target) joins the portfolio")
            extra.update(log_target_configs(priority=-1.5))
        if names and self.absolute_error and "GBM" not in excluded and wants_absolute_error(competition):
            log.info("The metric is on absolute errors: a LightGBM learning them joins the portfolio")
            extra = with_models(extra, absolute_error_configs(priority=-1.5))
        if not extra:
            return merge(chosen, competition.problem_type, excluded) if chosen else None
        return with_models(merge(names, competition.problem_type, excluded), extra)

    def _fit_predictor(self, predictor, train, data: Dataset, budget: Budget, excluded: list[str],
                       extra: dict, structured: bool = False) -> None:
        """Fit on the run's folds. Random folds AutoGluon draws itself, exactly as the run drew them (so that its
        forests keep their cheap out-of-bag estimates); time or group folds are handed over as they are
        (`custom_splits`, under which AutoGluon validates forests on the folds too: their out-of-bag rows would
        cross the boundary the folds exist to keep). Forward-chaining folds leave the earliest block without
        out-of-fold predictions: AutoGluon marks them NaN and fits its weighted ensemble on the other rows."""
        ensemble: dict = {"fold_fitting_strategy": self.fold_fitting}
        if structured:
            ensemble["custom_splits"] = fold_pairs(data.folds)
        predictor.fit(
            train,
            presets=self.presets,
            time_limit=max(1.0, budget.seconds),
            num_bag_folds=data.n_folds,
            num_bag_sets=1,  # one repeat: a second one would split differently from the run's folds
            num_cpus=budget.cpus,
            num_gpus=0,
            memory_limit=budget.memory_gb,
            dynamic_stacking=False,
            ag_args_ensemble=ensemble,
            excluded_model_types=excluded,
            **extra,
        )

    def candidates(self, predictor, competition: Competition, data: Dataset, fit_seconds: float,
                   test_models: str = "all", predict_deadline: Deadline | None = None,
                   predicted: dict | None = None, test_features=None) -> list[Candidate]:
        """Every model with out-of-fold predictions, scored in the competition metric, best first.

        With `test_models="best"` only AutoGluon's best model (the one a stacked fit enters the blend with) and
        the models it is built from carry test predictions, made while the predictor is in memory, besides the
        models that predicted the test set as they were fitted (`predicted`, AutoGluon's internal format, from
        `test_features`, the test rows as its models see them);
        `predict_test` adds the others' when a blend chooses them. Before `predict_deadline`: when
        the best model's predictions would not be ready in time (from the validation predict time of its
        inputs not yet predicted), the best model that would be is predicted instead. With
        `test_models="saved"` nothing is predicted: the models carry the `predicted` ones alone (a fit that
        never returned, whose best model was never calibrated after it).
        """
        board = predictor.leaderboard(silent=True).set_index("model")  # extra_info loads every model: seconds
        trainer = predictor._trainer
        stackers = {m for m in board.index if board.loc[m, "stack_level"] >= 2 and not weighted_ensemble(trainer, m)}
        oof_all = predictor.predict_proba_multi(data=None) if competition.is_classification else \
            predictor.predict_multi(data=None)
        models = [m for m in oof_all if m in board.index]
        best = predictor.model_best
        # AutoGluon may calibrate its best model after the fit (temperature scaling): predict that one again
        recalibrated = best if test_models != "saved" else None
        predicted = {m: p for m, p in (predicted or {}).items() if m != recalibrated and m in board.index}
        needs = {m: set(trainer.get_minimum_model_set(m)) for m in models}  # each model and those it is built from
        members = {m: needs[m] - set(predicted) for m in models}
        chosen = None
        if test_models in ("all", "saved"):
            wanted = models if test_models == "all" else []
        else:  # the chosen model's inputs are predicted on the way to it: keeping them costs nothing more
            chosen = affordable(board, best, models, data, predict_deadline, members)
            wanted = [] if chosen is None else [m for m in models if m in needs[chosen]]
            if chosen != best:
                log.warning("AutoGluon's best model %s would not predict the test set in time (about %.0f s): %s",
                            best, predict_estimate(board, members[best], data),
                            f"predicting {chosen} instead" if chosen else "no model of the fit can, the time is up")
        in_memory = chosen is not None
        if in_memory:  # the chosen model and its inputs stay loaded for the latency
            in_memory = persist(predictor, chosen)
        test_all = predict_multi(predictor, data.X_test, wanted, predicted, test_features) \
            if wanted or predicted else {}
        latency = latency_in_memory(predictor, competition, data, chosen, predict_deadline) if in_memory else None
        candidates, rows = [], scored(data.folds)
        for model in models:
            oof = as_prediction(oof_all[model], competition)
            if len(oof) != len(data.y) or np.isnan(oof[rows]).any():
                log.warning("Skipping %s: its out-of-fold predictions do not cover every scored training row", model)
                continue
            candidates.append(AutoGluonCandidate(
                name=f"autogluon/{model}",
                strategy=self.name,
                oof=oof,
                test=as_prediction(test_all[model], competition) if model in test_all else None,
                score=oof_score(competition.metric, data.y, oof, data.folds),
                fit_seconds=float(board.loc[model, "fit_time"]) if model != best else fit_seconds,
                artifact=str(self.path), model=model, level=int(board.loc[model, "stack_level"]),
                # from the fold models' validation predictions
                predict_seconds_estimate=predict_estimate(board, members[model], data), strategy_best=model == best,
                stacked=bool(stackers & needs[model]),
                latency=latency if model == chosen else None, family=learner_family(model),
            ))
        metric = competition.metric
        candidates.sort(key=lambda c: metric.signed(c.score), reverse=True)
        _keep_best_params(predictor, candidates)
        return candidates


# AutoGluon's model names by the podium learner they are (the Optuna studies start from their best one's
# hyperparameters); a name is matched by its start, longest first.
LEARNER_OF_MODEL = {"LightGBMLog": None, "LightGBM": "lightgbm", "CatBoost": "catboost", "XGBoost": "xgboost"}


def learner_family(model: str) -> str | None:
    """The podium learner an AutoGluon model is, or None (a forest, a log-target model, an ensemble)."""
    for prefix in sorted(LEARNER_OF_MODEL, key=len, reverse=True):
        if model.startswith(prefix):
            return LEARNER_OF_MODEL[prefix]
    return None


def _keep_best_params(predictor, candidates: list[AutoGluonCandidate]) -> None:
    """The hyperparameters of the best level-1 model of each learner family (`candidates` best first), for the
    studies' warm starts."""
    seen: set[str] = set()
    for candidate in candidates:
        if candidate.family is None or candidate.family in seen or candidate.level != 1:
            continue
        seen.add(candidate.family)
        try:
            params = predictor.model_hyperparameters(candidate.model, include_ag_args_ensemble=False,
                                                     output_format="all")
            candidate.params = {k: v for k, v in params.items() if isinstance(v, int | float | str | bool)}
        except Exception as error:  # noqa: BLE001 - a warm start is a head start, never a reason to fail
            log.info("No hyperparameters for %s: %s", candidate.model, error)


def encoded_features(data: Dataset) -> Dataset:
    """The data as AutoGluon is fitted on it: a feature name with a line break encoded (agent/columns.py), since
    its LightGBM fails on one; every other name as it is."""
    from dataclasses import replace

    return replace(data, X=with_encoded_names(data.X, autogluon_name),
                   X_test=with_encoded_names(data.X_test, autogluon_name))


