"""Helpers for the production tests: small corpus competitions and a cheap but real leaderboard model.

The leaderboard stand-in is a quick LightGBM fitted per fold on the run's folds (real OOF predictions, no
AutoGluon), so distillation and "score given up" are exercised in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from agent.competition.dataset import Dataset
from agent.competition.inference import Competition
from agent.competition.metrics import MULTICLASS, REGRESSION
from agent.config import ProductionSettings
from strategies.base import Candidate


@dataclass
class Corpus:
    competition: Competition
    dataset: Dataset
    folder: Path
    test: pd.DataFrame


def make_corpus(name: str, root: Path, rows: int) -> Corpus:
    from agent.arena.demo import build_from_corpus

    return corpus_from_folder(build_from_corpus(name, root / name, rows=rows))


def corpus_from_folder(folder: Path) -> Corpus:
    """A competition folder read and inferred as `podium run` does, with the run's folds (5, seed 0)."""
    from agent.competition import overrides
    from agent.competition.dataset import build_dataset
    from agent.competition.inference import infer_competition
    from agent.competition.tables import read_competition
    from agent.sources import resolve_source

    fetched = resolve_source(str(folder)).fetch()
    data = read_competition(fetched.files["train"], fetched.files["test"], fetched.files["sample_submission"])
    values, sources = overrides.collect([(fetched.declared_by, fetched.declared)])
    competition = infer_competition(fetched.slug, data, values, sources)
    return Corpus(competition, build_dataset(competition, data, 5, 0), folder, data.test)


def quick_leaderboard(corpus: Corpus) -> Candidate:
    """A real, cheap leaderboard model: LightGBM per fold on pandas categoricals, OOF and averaged test."""
    import lightgbm

    from agent.columns import with_encoded_names
    from agent.competition.folds import fitted_on, oof_score

    competition, dataset = corpus.competition, corpus.dataset
    X, X_test = dataset.X.copy(), dataset.X_test.copy()
    for column in X.columns:
        if not pd.api.types.is_numeric_dtype(X[column]) or pd.api.types.is_bool_dtype(X[column]):
            dtype = pd.CategoricalDtype(pd.concat([X[column], X_test[column]]).dropna().astype(str).unique())
            X[column] = X[column].astype(str).where(X[column].notna()).astype(dtype)
            X_test[column] = X_test[column].astype(str).where(X_test[column].notna()).astype(dtype)
    X, X_test = with_encoded_names(X), with_encoded_names(X_test)  # LightGBM refuses some names a CSV may hold
    params = {"n_estimators": 150, "learning_rate": 0.05, "num_leaves": 15, "verbose": -1, "n_jobs": 1}
    model_cls = lightgbm.LGBMRegressor if competition.problem_type == REGRESSION else lightgbm.LGBMClassifier
    y = dataset.y
    if competition.metric.floor is not None:
        y = np.log1p(y)
    oof, test = None, 0.0
    for fold in range(dataset.n_folds):
        valid, fitted = dataset.folds == fold, fitted_on(dataset.folds, fold)
        model = model_cls(**params).fit(X[fitted], y[fitted])
        if competition.problem_type == REGRESSION:
            pred, pred_test = model.predict(X[valid]), model.predict(X_test)
            if competition.metric.floor is not None:
                pred, pred_test = np.expm1(pred), np.expm1(pred_test)
        else:
            pred, pred_test = model.predict_proba(X[valid]), model.predict_proba(X_test)
            if competition.problem_type != MULTICLASS:
                pred, pred_test = pred[:, 1], pred_test[:, 1]
        oof = np.full((len(y),) + pred.shape[1:], np.nan) if oof is None else oof
        oof[valid] = pred
        test = test + pred_test / dataset.n_folds
    score = oof_score(competition.metric, dataset.y, oof, dataset.folds)
    return Candidate("quick-lightgbm", "test", oof=oof, test=np.asarray(test), score=score, fit_seconds=1.0)


def fast_settings(**changes) -> ProductionSettings:
    """Small search, generous budgets: what the tests need to be quick and not flaky."""
    base = {"latency_ms": 50.0, "size_mb": 50.0, "search_trials": 5, "max_trees": 120, "autogluon_options": False}
    return ProductionSettings(**{**base, **changes})
