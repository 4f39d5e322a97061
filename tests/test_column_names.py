"""Column names a CSV can hold but model libraries refuse (JSON's special characters, line breaks, quotes,
backslashes, `[`, `<`, spaces): the checks, the Optuna learners and the production model work on them, and
what a user reads keeps the original names."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.checks import run_checks
from agent.columns import autogluon_name, decoded, encoded
from agent.config import QualitySettings
from agent.runtime import load_model
from strategies.learners import Task, fit_predict, prepare_features
from tests.artifacts import corpus_from_folder, fast_settings, quick_leaderboard
from tests.checks.conftest import split_competition, synthetic

ODD = ['a,b"c', "new\nline", "it's \"quoted\"", "back\\slash", "{brace}: [x]", "co:lon", "[sq]<lt>", "sp ace",
       "sp_ace", "ünï €"]


@given(st.lists(st.one_of(st.text(min_size=1), st.from_regex(r"[a-z_]{0,3}col__[0-9a-f]{2,6}[a-z.]{0,4}",
                                                              fullmatch=True)), min_size=1, max_size=20, unique=True))
def test_the_encoding_is_one_to_one_and_plain(names):
    codes = [encoded(name) for name in names]
    assert len(set(codes)) == len(codes) and [decoded(code) for code in codes] == names
    assert all(all(c.isalnum() and c.isascii() or c in "_.-" for c in code) for code in codes)
    for_autogluon = [autogluon_name(name) for name in names]
    assert len(set(for_autogluon)) == len(names) and [decoded(code) for code in for_autogluon] == names
    assert not [code for code in for_autogluon if "\n" in code or "\r" in code]


def odd_table(n: int = 1200) -> pd.DataFrame:
    frame = synthetic(n).rename(columns={"x1": ODD[0], "x2": ODD[1], "colour": ODD[4]})
    rng = np.random.default_rng(1)
    for name in ODD[2:4] + ODD[5:]:
        frame[name] = rng.normal(size=n)
    return frame


def test_adversarial_validation_runs_on_odd_names_and_reports_them():
    frame = odd_table()
    competition, data = split_competition(frame, "target")
    shifted = data.test.assign(**{ODD[0]: data.test[ODD[0]] + 3})  # test differs in one odd-named column
    competition, data = split_competition(data.train, "target", test=shifted, shuffle=False)
    report = run_checks(competition, data, QualitySettings())
    finding = next(f for f in report.findings if f.check == "adversarial_validation")
    assert "could not run" not in finding.message and finding.measured["auc"] > 0.8
    assert finding.measured["top_features"][0]["column"] == ODD[0] and ODD[0] in finding.message
    assert not [f for f in report.findings if "could not run" in f.message]


@pytest.mark.parametrize("learner", ["lightgbm", "xgboost", "catboost"])
def test_the_optuna_learners_fit_on_odd_names(learner):
    frame = odd_table(400)
    X, X_test = prepare_features(frame.drop(columns=["target"]), frame.drop(columns=["target"]).head(50))
    y = (frame["target"] == "yes").to_numpy(dtype=int)
    task = Task("binary", 2, "AUC")
    valid, test, trees, model = fit_predict(learner, {"n_estimators": 20}, task, X.iloc[:300], y[:300], X.iloc[300:],
                                            X_test)
    assert valid.shape == (100,) and test.shape == (50,) and trees >= 1
    assert (model is not None) == (learner == "lightgbm")  # LightGBM's fold model is kept for a fold bag
    assert list(X.columns) == [c for c in frame.columns if c != "target"]  # the caller's frames keep their names


RENAMES = {"age": ODD[0], "fare": ODD[1], "sex": ODD[2], "embarked": ODD[6], "pclass": ODD[7],
           "parch": "_private", "sibsp": "model_config"}  # pydantic refuses or hides the last two


def odd_titanic(build_corpus, folder):
    """titanic with odd column names, as a competition folder."""
    source = build_corpus("titanic", rows=400) / "public"
    folder.mkdir()
    for name in ("train.csv", "test.csv", "sample_submission.csv"):
        pd.read_csv(source / name).rename(columns=RENAMES).to_csv(folder / name, index=False)
    return folder


def test_autogluon_fits_and_predicts_on_odd_names(build_corpus, tmp_path):
    from strategies.autogluon import AutoGluonStrategy
    from strategies.autogluon_predict import predict_test
    from strategies.base import Budget

    corpus = corpus_from_folder(odd_titanic(build_corpus, tmp_path / "odd"))
    strategy = AutoGluonStrategy(tmp_path / "ag", num_stack_levels=0, verbosity=0, fold_fitting="sequential_local",
                                 hyperparameters={"GBM": {"num_boost_round": 30}, "XGB": {"n_estimators": 30}})
    candidates = strategy.search(corpus.competition, corpus.dataset, Budget(120, 1, 4.0)).candidates
    fitted = {c.model.split("_")[0] for c in candidates if np.isfinite(c.oof).all()}
    assert {"LightGBM", "XGBoost"} <= fitted, fitted  # AutoGluon's LightGBM failed on a line break in a name
    tested = predict_test(str(tmp_path / "ag"), corpus.competition.to_dict(), corpus.dataset.X_test,
                          [c.model for c in candidates])
    assert all(np.isfinite(p).all() and len(p) == len(corpus.test) for p in tested.values())


def test_a_production_model_fits_and_predicts_on_odd_names(build_corpus, tmp_path):
    from strategies.production import build_production_model

    renames = RENAMES
    folder = odd_titanic(build_corpus, tmp_path / "odd")
    corpus = corpus_from_folder(folder)
    assert set(renames.values()) <= set(corpus.competition.features)
    board = quick_leaderboard(corpus)
    built = build_production_model(corpus.competition, corpus.dataset, [board], board.oof, board.score,
                                   tmp_path / "production", fast_settings(distill=False), time_budget_s=30,
                                   leaderboard_test=board.test)
    model = load_model(built.out_dir)
    assert set(renames.values()) <= set(model.schema.input_names)  # schema.json keeps the original names
    predictions = model.predict(pd.read_csv(folder / "test.csv"))
    assert len(predictions) == len(corpus.test) and np.isfinite(predictions).all()
    from agent.services.serve.openapi import row_model

    documented = row_model(model).model_json_schema(by_alias=True)  # what `podium serve` publishes
    assert set(model.schema.input_names) <= set(documented["properties"]) and set(renames.values()) <= set(
        documented["required"])
