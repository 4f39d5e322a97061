"""AutoGluon's best CatBoost bag refitted on every row and served without AutoGluon (family `catboost`).

CatBoost's ordered boosting and target statistics regularise well on categorical data, and AutoGluon's CatBoost
bag is often its best level-1 model there. Its fold models cannot be served as a bag: CatBoost's Python
`predict` costs about 0.2 ms for one row of 500 trees (benchmarks/catboost_row.py), so eight would not fit
1 ms, and `sum_models` averages their categorical statistics (not exact). So the bag is collapsed as AutoGluon's
`refit_full` does, without copying the predictor: one model with the fold models' parameters and their mean
number of trees, fitted on every training row of AutoGluon's features. It has no out-of-fold predictions of its
own and is scored by its bag's (AutoGluon's refit_full convention, said in `score_source`). Its features are
reproduced from raw rows (strategies/production/autogluon_features.py); before it counts it must predict the
test set from raw rows as it does from AutoGluon's own features.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import numpy as np

from agent.columns import autogluon_name, with_encoded_names
from agent.competition.dataset import Dataset
from agent.competition.inference import Competition
from agent.competition.labels import label_key
from agent.deadline import Deadline
from agent.runtime.catboost_runtime import CatBoostRuntime
from agent.runtime.encoder import Encoder
from agent.runtime.runtimes import apply_link
from strategies.base import Candidate
from strategies.production.autogluon_features import NO_VALUE, AutoGluonFeatures, Unservable
from strategies.production.candidate import FAILED, SKIPPED, ProductionCandidate
from strategies.production.fold_bag import check_served
from strategies.production.gbm import link_for
from strategies.production.measure import package
from strategies.production.problem import Problem, serving_rows

log = logging.getLogger("podium.production")
FAMILY = "catboost"
NAN = "__NaN__"  # AutoGluon's CatBoost category for a missing (or rare, or unseen) value
REFIT_FACTOR = 2.0  # a refit on every row, without early stopping, against one fold model's share of the bag
AGREEMENT = 1e-9


def catboost_parent(competition: Competition, leaderboard: list[Candidate], predictor) -> Candidate | None:
    """The best level-1 CatBoost bag of the leaderboard's AutoGluon fit, if any."""
    from autogluon.tabular.models import CatBoostModel

    trainer = predictor._trainer
    bags = [c for c in leaderboard if c.strategy == "autogluon" and getattr(c, "level", 0) == 1 and c.model
            and trainer.get_model_attribute(c.model, "type_inner", default=None) is CatBoostModel]
    return max(bags, key=lambda c: competition.metric.signed(c.score), default=None)


def refit_seconds(parent: Candidate, problem: Problem) -> float:
    """Expected seconds of the refit: one fold model's share of the bag's fit time, times REFIT_FACTOR."""
    return REFIT_FACTOR * parent.fit_seconds / max(1, problem.n_folds)


def catboost_candidates(competition: Competition, dataset: Dataset, problem: Problem, parent: Candidate,
                        predictor, features: AutoGluonFeatures, work: Path, calls: int,
                        deadline: Deadline) -> list[ProductionCandidate]:
    """`parent` (a CatBoost bag) refitted and served, if its expected time is left."""
    name = f"{FAMILY}/{parent.model}-refit"
    expected = refit_seconds(parent, problem)
    if expected > deadline.remaining():
        return [ProductionCandidate(name, FAMILY, status=SKIPPED, note=f"its refit would take about {expected:.0f} "
                                    f"s; {deadline.remaining():.0f} s left")]
    try:
        return [_refit(competition, dataset, problem, predictor, features, parent, name, work, calls)]
    except Exception as error:  # noqa: BLE001 - one candidate less
        log.info("AutoGluon's %s is not served as a CatBoost refit: %s", parent.model, error)
        return [ProductionCandidate(name, FAMILY, status=FAILED, note=f"{type(error).__name__}: {error}")]


def _refit(competition: Competition, dataset: Dataset, problem: Problem, predictor, features: AutoGluonFeatures,
           parent: Candidate, name: str, work: Path, calls: int) -> ProductionCandidate:
    from catboost import Pool

    _check_class_order(predictor, competition)
    learner = predictor._learner
    bag = predictor._trainer.load_model(parent.model)
    children = [bag.load_child(child) for child in bag.models]
    child = children[0]
    names = list(child.features)
    schema, encoder, categorical = _encoding(competition, problem, dataset, features, child, names)
    started = time.monotonic()
    X = child.preprocess(learner.transform_features(with_encoded_names(dataset.X, autogluon_name)))
    params = {**child.model.get_params(), "iterations": int(round(np.mean([c.model.tree_count_ for c in children]))),
              "thread_count": os.cpu_count() or 1, "allow_writing_files": False, "verbose": False}
    model = type(child.model)(**params)
    model.fit(Pool(X, label=learner.label_cleaner.transform(dataset.labels),
                   cat_features=[names[i] for i in categorical]))
    fit_seconds = time.monotonic() - started
    runtime = CatBoostRuntime(model, link_for(problem), categorical)
    _check_agreement(runtime, encoder, child, model, learner, dataset, problem)
    oof = np.asarray(parent.oof, dtype=float)
    candidate = ProductionCandidate(
        name=name, family=FAMILY, params={"model": parent.model, "trees": int(model.tree_count_),
                                          "depth": params.get("depth", 6)},
        score=problem.score(oof), oof=oof, fit_seconds=fit_seconds,
        score_source="out-of-fold score of the bagged parent (AutoGluon's refit_full convention: the refit on every "
                     "row has no out-of-fold predictions of its own)")
    return package(problem, runtime, candidate, work, serving_rows(dataset, schema, problem.seed), calls,
                   schema=schema, encoder=encoder)


def _encoding(competition, problem, dataset, features: AutoGluonFeatures, child, names: list[str]):
    """CatBoost codes a category by AutoGluon's CatBoost mapping; missing, rare and unseen share one code, which
    the encoder gives a missing value too."""
    mapping = child._category_mapping or {}

    def codes(feature: str) -> tuple[list[str], int]:
        own = mapping[feature]
        keys = [NO_VALUE] * len(own)
        for value, code in own.items():
            if value != NAN:
                keys[code] = label_key(features.raw_category(feature, value))
        return keys, own[NAN]

    categorical = [i for i, f in enumerate(names) if features.is_categorical(f)]
    missing = {names[i]: mapping[names[i]][NAN] for i in categorical}
    schema, encoder = features.encoding(competition, problem, dataset, names, codes, missing)
    return schema, encoder, categorical


def _check_class_order(predictor, competition: Competition) -> None:
    """AutoGluon's internal class codes must be podium's (positive class last for binary)."""
    if not competition.is_classification:
        return
    theirs = [label_key(c) for c in predictor.class_labels]
    ours = [label_key(c) for c in competition.classes]
    if theirs != ours:
        raise Unservable(f"AutoGluon orders the classes {theirs[:5]}, podium {ours[:5]}")


def _check_agreement(runtime: CatBoostRuntime, encoder: Encoder, child, model, learner, dataset: Dataset,
                     problem: Problem) -> None:
    """Served from raw rows, the refit predicts the test set as it does from AutoGluon's features."""
    if len(dataset.X_test) == 0:
        return
    theirs = child.preprocess(learner.transform_features(with_encoded_names(dataset.X_test, autogluon_name)))
    expected = apply_link(np.asarray(model.predict(theirs, prediction_type="RawFormulaVal")), link_for(problem))
    check_served(runtime, encoder, dataset.X_test, expected, what="the refit", against="AutoGluon's features",
                 tolerance=AGREEMENT, error=Unservable)
