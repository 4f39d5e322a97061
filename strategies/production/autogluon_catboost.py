"""AutoGluon's best CatBoost bag served without AutoGluon (family `catboost`): refitted on every row when its time
is left, else its fold model fitted on the most rows, as it is.

CatBoost's ordered boosting and target statistics regularise well on categorical data, and AutoGluon's CatBoost
bag is often its best level-1 model there. The bag is collapsed as AutoGluon's `refit_full` does, without
copying the predictor: one model with the fold models' parameters and their mean number of trees, fitted on
every training row of AutoGluon's features. It has no out-of-fold predictions of its own and is scored by its
bag's (AutoGluon's refit_full convention, said in `score_source`). The refit takes about twice one fold model's
time, which the end of a short run often lacks; one fold model then serves instead. It costs no fitting, and its
bag's out-of-fold predictions each came from a model like it, fitted on the other folds. Either way its features
are reproduced from raw rows (strategies/production/autogluon_features.py); before it counts it must predict the
test set from raw rows as it does from AutoGluon's own features.

It serves through its exported formula (agent/runtime/catboost_trees.py: 10-80 us a row compiled, where
CatBoost's Python `predict` costs 0.1-0.4 ms), checked against CatBoost on training and test rows; CatBoost's
`predict` serves a model whose formula is not read exactly.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from agent.columns import autogluon_name, with_encoded_names
from agent.competition.dataset import Dataset
from agent.competition.inference import Competition
from agent.competition.labels import label_key
from agent.deadline import Deadline
from agent.runtime.catboost_runtime import CatBoostRuntime
from agent.runtime.catboost_trees import ObliviousTrees, disagreement
from agent.runtime.encoder import Encoder
from agent.runtime.runtimes import apply_link
from strategies.base import Candidate
from strategies.production.autogluon_features import NO_VALUE, AutoGluonFeatures, Unservable
from strategies.production.candidate import FAILED, SKIPPED, ProductionCandidate
from strategies.production.fold_bag import check_served, checked_rows
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
                        predictor, features: AutoGluonFeatures, work: Path, calls: int, refit_by: Deadline | None,
                        end: Deadline) -> list[ProductionCandidate]:
    """`parent` (a CatBoost bag) refitted and served when its expected time is left before `refit_by`; else (with a
    record saying why, or when the refit fails for a reason of its own) its fold model on the most rows. No
    `refit_by`: the fold model only (the refit is not worth its time)."""
    serve = Served(competition, dataset, problem, predictor, features, parent, work, calls)
    if refit_by is None:
        return _fold_model(serve, [], end)
    name = f"{FAMILY}/{parent.model}-refit"
    expected = refit_seconds(parent, problem)
    if expected > refit_by.remaining():
        record = ProductionCandidate(name, FAMILY, status=SKIPPED, note=f"its refit would take about {expected:.0f} "
                                     f"s; {max(0.0, refit_by.remaining()):.0f} s were left: its fold model serves")
    else:
        try:
            return [serve.refit(name)]
        except Unservable as error:  # its fold models read the same features: no use trying one
            log.info("AutoGluon's %s is not served as CatBoost: %s", parent.model, error)
            return [ProductionCandidate(name, FAMILY, status=FAILED, note=f"{type(error).__name__}: {error}")]
        except Exception as error:  # noqa: BLE001 - its fold model may still serve
            log.info("AutoGluon's %s is not served as a CatBoost refit: %s", parent.model, error)
            record = ProductionCandidate(name, FAMILY, status=FAILED, note=f"{type(error).__name__}: {error}")
    return _fold_model(serve, [record], end)


def _fold_model(serve: Served, before: list[ProductionCandidate], end: Deadline) -> list[ProductionCandidate]:
    if end.passed():
        return before
    try:
        return [*before, serve.fold_model()]
    except Exception as error:  # noqa: BLE001 - one candidate less
        log.info("AutoGluon's %s is not served as a CatBoost fold model: %s", serve.parent.model, error)
        return [*before, ProductionCandidate(f"{FAMILY}/{serve.parent.model}-fold", FAMILY, status=FAILED,
                                             note=f"{type(error).__name__}: {error}")]


class Served:
    """One CatBoost model of `parent`'s bag, or refitted like them, encoded from raw rows, checked against
    AutoGluon's features and packaged."""

    def __init__(self, competition: Competition, dataset: Dataset, problem: Problem, predictor,
                 features: AutoGluonFeatures, parent: Candidate, work: Path, calls: int):
        self.competition, self.dataset, self.problem, self.predictor = competition, dataset, problem, predictor
        self.features, self.parent, self.work, self.calls = features, parent, work, calls

    def refit(self, name: str) -> ProductionCandidate:
        """One model with the fold models' parameters and mean trees, fitted on every row."""
        from catboost import Pool

        _check_class_order(self.predictor, self.competition)
        bag = self.predictor._trainer.load_model(self.parent.model)
        children = [bag.load_child(child) for child in bag.models]
        child = children[0]
        names = list(child.features)
        learner = self.predictor._learner
        started = time.monotonic()
        X = child.preprocess(learner.transform_features(with_encoded_names(self.dataset.X, autogluon_name)))
        params = {**child.model.get_params(),
                  "iterations": int(round(np.mean([c.model.tree_count_ for c in children]))),
                  "thread_count": os.cpu_count() or 1, "allow_writing_files": False, "verbose": False}
        model = type(child.model)(**params)
        model.fit(Pool(X, label=learner.label_cleaner.transform(self.dataset.labels),
                       cat_features=[names[i] for i in self._categorical(child)]))
        candidate = ProductionCandidate(
            name=name, family=FAMILY, params={"model": self.parent.model, "trees": int(model.tree_count_),
                                              "depth": params.get("depth", 6)},
            fit_seconds=time.monotonic() - started,
            score_source="out-of-fold score of the bagged parent (AutoGluon's refit_full convention: the refit on "
                         "every row has no out-of-fold predictions of its own)")
        return self._package(child, model, candidate)

    def fold_model(self) -> ProductionCandidate:
        """The bag's fold model fitted on the most rows, as it is: no fitting."""
        _check_class_order(self.predictor, self.competition)
        bag = self.predictor._trainer.load_model(self.parent.model)
        children = [bag.load_child(child) for child in bag.models]
        rows = [c.get_fit_metadata().get("num_samples") or 0 for c in children]
        index = int(np.argmax(rows))
        child = children[index]
        repeats = getattr(bag, "_n_repeats", 1) or 1
        candidate = ProductionCandidate(
            name=f"{FAMILY}/{self.parent.model}-fold{index}", family=FAMILY,
            params={"model": self.parent.model, "fold_model": bag.models[index], "rows": int(rows[index]),
                    "trees": int(child.model.tree_count_), "depth": child.model.get_params().get("depth", 6)},
            fit_seconds=self.parent.fit_seconds / max(1, len(children)),
            score_source="out-of-fold score of its bag: each row's prediction came from a fold model like this one, "
                         "fitted on the other folds" + (f" (averaged over {repeats} repeats, which flatters one "
                                                        "fold model)" if repeats > 1 else ""))
        return self._package(child, child.model, candidate)

    def _categorical(self, child) -> list[int]:
        return [i for i, f in enumerate(child.features) if self.features.is_categorical(f)]

    def _package(self, child, model, candidate: ProductionCandidate) -> ProductionCandidate:
        problem = self.problem
        schema, encoder = _encoding(self.competition, problem, self.dataset, self.features, child,
                                    list(child.features), self._categorical(child))
        categorical = self._categorical(child)
        codes = [len(child._category_mapping[child.features[i]]) for i in categorical]
        rows = pd.concat([self.dataset.X.iloc[checked_rows(self.dataset.X)],
                          self.dataset.X_test.iloc[checked_rows(self.dataset.X_test)]])
        matrix, _ = encoder.encode_frame(encoder.schema.read_texts(rows))
        runtime = CatBoostRuntime(model, link_for(problem), categorical, exported_formula(model, categorical, codes,
                                                                                          matrix))
        _check_agreement(runtime, encoder, child, model, self.predictor._learner, self.dataset, problem)
        candidate.oof = np.asarray(self.parent.oof, dtype=float)
        candidate.score = problem.score(candidate.oof)
        return package(problem, runtime, candidate, self.work, serving_rows(self.dataset, schema, problem.seed),
                       self.calls, schema=schema, encoder=encoder)


def exported_formula(model, categorical: list[int], codes: list[int], matrix: np.ndarray) -> ObliviousTrees | None:
    """`model`'s formula (agent/runtime/catboost_trees.py) when it predicts `matrix` as CatBoost does (to
    AGREEMENT); None, and CatBoost's own predict serves, when it cannot be read or does not agree."""
    try:
        formula = ObliviousTrees.from_catboost(model, categorical, codes)
        worst = disagreement(formula, model, matrix, categorical)
    except Exception as error:  # noqa: BLE001 - CatBoost's predict serves
        log.info("CatBoost's formula was not exported (%s: %s): CatBoost's predict serves", type(error).__name__,
                 error)
        return None
    if not worst <= AGREEMENT:
        log.info("CatBoost's exported formula differs from CatBoost by %.3g: CatBoost's predict serves", worst)
        return None
    return formula


def _encoding(competition, problem, dataset, features: AutoGluonFeatures, child, names: list[str],
              categorical: list[int]):
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

    missing = {names[i]: mapping[names[i]][NAN] for i in categorical}
    return features.encoding(competition, problem, dataset, names, codes, missing)


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
    """Served from raw rows, the model predicts the test set as it does from AutoGluon's features."""
    if len(dataset.X_test) == 0:
        return
    X_test = dataset.X_test.iloc[checked_rows(dataset.X_test)]
    theirs = child.preprocess(learner.transform_features(with_encoded_names(X_test, autogluon_name)))
    expected = apply_link(np.asarray(model.predict(theirs, prediction_type="RawFormulaVal")), link_for(problem))
    check_served(runtime, encoder, X_test, expected, what="the CatBoost model", against="AutoGluon's features",
                 tolerance=AGREEMENT, error=Unservable)
