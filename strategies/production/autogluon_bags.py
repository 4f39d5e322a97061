"""AutoGluon's own level-1 LightGBM bags, served as fold bags without AutoGluon.

AutoGluon fits every bagged model once per fold of the run's folds and has already scored it out of fold; its
best LightGBM bag is often within a fraction of a percent of the whole stack (docs/production.md). Each child
is a plain LightGBM booster reading AutoGluon's features. Where those are the raw columns (numbers as they
are, categories coded in the child's own category order, two-valued columns as 1 for AutoGluon's "true" value
and 0 for anything else), podium's encoder reproduces them in microseconds and the children are served as one
blend, like the study's fold bags (strategies/production/fold_bag.py). A bag that reads features AutoGluon
derived (dates, text n-grams, its own preprocessing) is refused with the reason, and so is one whose test
predictions, served from raw rows, differ from AutoGluon's own.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from agent.columns import autogluon_name, with_encoded_names
from agent.competition.dataset import Dataset
from agent.competition.inference import Competition
from agent.deadline import Deadline
from agent.runtime.blend import BlendRuntime
from agent.runtime.encoder import Encoder
from agent.runtime.runtimes import LightGBMRuntime
from agent.runtime.schema import CATEGORICAL, NUMERIC, ColumnSchema, Schema, category_key
from strategies.base import Candidate
from strategies.production.candidate import FAILED, ProductionCandidate
from strategies.production.fold_bag import AGREEMENT, UNSEEN
from strategies.production.gbm import link_for
from strategies.production.measure import package
from strategies.production.problem import Problem, serving_rows

log = logging.getLogger("podium.production")
FAMILY = "autogluon-bag"
MOST_BAGS = 2
SAMPLE_ROWS = 1000  # rows AutoGluon's feature pipeline transforms to show which features are categories


class Unservable(ValueError):
    """A bag whose features podium's encoder cannot reproduce from raw rows."""


def autogluon_bag_candidates(competition: Competition, dataset: Dataset, problem: Problem,
                             leaderboard: list[Candidate], path: Path, work: Path, calls: int,
                             deadline: Deadline) -> list[ProductionCandidate]:
    """A candidate for each of the best level-1 LightGBM bags of the leaderboard's AutoGluon fit (MOST_BAGS)."""
    from autogluon.tabular import TabularPredictor

    predictor = TabularPredictor.load(str(path), verbosity=0, require_py_version_match=False)
    served = [c for c in leaderboard if c.strategy == "autogluon" and getattr(c, "level", 0) == 1
              and c.model and _servable_type(predictor, c.model)]
    served.sort(key=lambda c: -competition.metric.signed(c.score))
    pipeline = _Pipeline.of(predictor, dataset)
    out: list[ProductionCandidate] = []
    for parent in served[:MOST_BAGS]:
        if deadline.passed():
            break
        try:
            out.append(_bag(competition, dataset, problem, predictor, pipeline, parent, work, calls))
        except Exception as error:  # noqa: BLE001 - a bag that cannot be served is one candidate less
            log.info("AutoGluon's %s is not served as a fold bag: %s", parent.model, error)
            out.append(ProductionCandidate(f"{FAMILY}/{parent.model}", FAMILY, status=FAILED,
                                           note=f"{type(error).__name__}: {error}"))
    return out


def _servable_type(predictor, model: str) -> bool:
    """Exactly AutoGluon's LightGBM (or podium's log-target one) in a bag: a subclass may transform its input."""
    from autogluon.core.models import BaggedEnsembleModel
    from autogluon.tabular.models import LGBModel

    from strategies.target_transform import LogTargetLGBModel

    trainer = predictor._trainer
    if not issubclass(trainer.get_model_attribute(model, "type"), BaggedEnsembleModel):
        return False
    return trainer.get_model_attribute(model, "type_inner", default=None) in (LGBModel, LogTargetLGBModel)


class _Pipeline:
    """AutoGluon's feature pipeline as far as podium needs it: what a sample of rows becomes, and the value
    each two-valued column reads as 1."""

    def __init__(self, sample: pd.DataFrame, true_values: dict[str, Any], categories: dict[str, list],
                 filled: set[str], raw_of: dict[str, str]):
        self.sample, self.true_values, self.categories, self.filled = sample, true_values, categories, filled
        self.raw_of = raw_of

    @classmethod
    def of(cls, predictor, dataset: Dataset) -> _Pipeline:
        generator = predictor._learner.feature_generator
        rows = with_encoded_names(dataset.X.iloc[:SAMPLE_ROWS], autogluon_name)
        stages = list(_stages(generator))
        categories: dict[str, list] = {}
        filled: set[str] = set()
        for stage in stages:  # CategoryFeatureGenerator: each column's categories, coded by position after it
            categories.update({k: list(v) for k, v in (getattr(stage, "category_map", None) or {}).items()})
            filled |= set(getattr(stage, "_fillna_map", None) or {})
        true_values = {k: v for stage in stages for k, v in (getattr(stage, "_bool_features", None) or {}).items()}
        return cls(generator.transform(rows), true_values, categories, filled,
                   {autogluon_name(c): c for c in dataset.X.columns})


def _stages(generator):
    """Every generator of AutoGluon's feature pipeline, nested ones included."""
    yield generator
    for stage in getattr(generator, "generators", None) or []:
        for inner in stage if isinstance(stage, list) else [stage]:
            yield from _stages(inner)


def _bag(competition: Competition, dataset: Dataset, problem: Problem, predictor, pipeline: _Pipeline,
         parent: Candidate, work: Path, calls: int) -> ProductionCandidate:
    from strategies.target_transform import LogTargetLGBModel

    bag = predictor._trainer.load_model(parent.model)
    children = [bag.load_child(name) for name in bag.models]
    features = list(children[0].features)
    if any(list(child.features) != features for child in children):
        raise Unservable("its fold models read different features")
    schema, encoder = _encoding(competition, problem, dataset, pipeline, features, children[0].model)
    log_target = isinstance(children[0], LogTargetLGBModel)
    members = [LightGBMRuntime.from_text(child.model.model_to_string(), link_for(problem), [0.0], log_target)
               for child in children]
    runtime = BlendRuntime(members, [1.0] * len(members))
    _check_agreement(runtime, encoder, dataset, predictor, parent, competition)
    oof = np.asarray(parent.oof, dtype=float)
    candidate = ProductionCandidate(
        name=f"{FAMILY}/{parent.model}", family=FAMILY,
        params={"model": parent.model, "folds": len(members),
                "trees": sum(m.booster.num_trees() for m in members) // len(members)},
        score=problem.score(oof), oof=oof, fit_seconds=parent.fit_seconds,
        score_source="out-of-fold: each training row predicted by the fold models of AutoGluon's bag that never "
                     "saw it (AutoGluon's own out-of-fold predictions, on the run's folds)")
    return package(problem, runtime, candidate, work, serving_rows(dataset, schema, problem.seed), calls,
                   schema=schema, encoder=encoder)


def _encoding(competition: Competition, problem: Problem, dataset: Dataset, pipeline: _Pipeline,
              features: list[str], booster) -> tuple[Schema, Encoder]:
    """The schema and encoder that turn raw rows into the matrix the bag's children read."""
    derived = [f for f in features if f not in pipeline.raw_of or f not in pipeline.sample.columns]
    if derived:
        raise Unservable(f"it reads features AutoGluon derived, not raw columns ({', '.join(derived[:3])}"
                         f"{' ...' if len(derived) > 3 else ''})")
    if booster.num_feature() != len(features):
        raise Unservable(f"its boosters read {booster.num_feature()} features, its model lists {len(features)}")
    raws = [pipeline.raw_of[f] for f in features]
    categorical = [f for f in features if isinstance(pipeline.sample[f].dtype, pd.CategoricalDtype)]
    orders = booster.pandas_categorical or []
    if len(orders) != len(categorical):
        raise Unservable(f"its boosters list {len(orders)} category orders for {len(categorical)} categorical "
                         "features")
    category_orders = dict(zip(categorical, orders, strict=True))
    base = Schema.infer(dataset.X[raws], unseen=problem.schema.unseen, dates=competition.dates,
                        relations=competition.relations)
    columns, codes, other = [], {}, {}
    for feature, column in zip(features, base.columns, strict=True):
        if feature in category_orders:
            if column.kind != CATEGORICAL or feature not in pipeline.categories or feature in pipeline.filled:
                raise Unservable(f"AutoGluon reads {column.name!r} as categories podium does not reproduce")
            values = pipeline.categories[feature]  # AutoGluon's code of a category is its position here
            order = [values[int(code)] for code in category_orders[feature]]  # the boosters' codes
            codes[column.name], other[column.name] = _unique_keys(column.name, order), UNSEEN
        elif feature in pipeline.true_values:  # AutoGluon: 1 where the value is its "true" one, else 0
            true_key = category_key(pipeline.true_values[feature])
            false_keys = [k for k in _keys_of(dataset.X[column.name]) if k != true_key]
            codes[column.name], other[column.name] = [false_keys[0] if false_keys else "", true_key], 0
            if column.kind == NUMERIC:
                column = ColumnSchema(name=column.name, kind=CATEGORICAL, dtype=column.dtype,
                                      missing_seen=column.missing_seen,
                                      categories=tuple(_keys_of(dataset.X[column.name])))
        elif column.kind != NUMERIC or not pd.api.types.is_numeric_dtype(pipeline.sample[feature].dtype):
            raise Unservable(f"AutoGluon reads {column.name!r} as {pipeline.sample[feature].dtype}, which podium "
                             "does not reproduce")
        columns.append(column)
    schema = base.model_copy(update={"columns": tuple(columns)})
    return schema, Encoder(schema, codes, other)


def _keys_of(values: pd.Series) -> list[str]:
    return list(dict.fromkeys(category_key(v) for v in values.dropna().unique()))


def _unique_keys(name: str, categories) -> list[str]:
    keys = [category_key(value) for value in categories]
    if len(set(keys)) != len(keys):
        raise Unservable(f"column {name!r} has categories podium's serving reads as one (e.g. with spaces "
                         "around them)")
    return keys


def _check_agreement(runtime: BlendRuntime, encoder: Encoder, dataset: Dataset, predictor, parent: Candidate,
                     competition: Competition) -> None:
    """The bag, served from raw rows, must predict the test set as AutoGluon's bag does."""
    from strategies.autogluon_predict import as_prediction, predict_multi

    if len(dataset.X_test) == 0:
        return
    expected = parent.test
    if expected is None:
        frames = predict_multi(predictor, with_encoded_names(dataset.X_test, autogluon_name), [parent.model])
        expected = as_prediction(frames[parent.model], competition)
    matrix, _ = encoder.encode_frame(dataset.X_test)
    predicted, expected = runtime.raw(matrix), np.asarray(expected, dtype=float)
    worst = float(np.max(np.abs(predicted - expected) / np.maximum(np.abs(expected), 1e-9)))
    if not worst <= AGREEMENT:
        raise Unservable(f"served from raw rows, the bag predicts the test set differently from AutoGluon "
                         f"(relative difference {worst:.3g})")
