"""agent/runtime/model.py, runtimes.py, output.py: save/load round trips and the served formats."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from agent.runtime.files import staged_directory
from agent.runtime.model import ProductionModel, load_model
from agent.runtime.output import OutputSpec
from strategies.production.distill import fit_student
from strategies.production.gbm import fit_and_validate, hard_target
from strategies.production.linear import fit_linear
from strategies.production.problem import make_problem
from tests.artifacts import quick_leaderboard

SMALL = {"num_leaves": 7, "n_estimators": 30, "learning_rate": 0.1}


def _round_trip(problem, runtime, folder) -> tuple[ProductionModel, ProductionModel]:
    model = ProductionModel(problem.schema, problem.encoder, runtime, problem.output, "test")
    with staged_directory(folder) as stage:
        model.save(stage)
    return model, load_model(folder)


def _assert_same(model: ProductionModel, loaded: ProductionModel, rows: pd.DataFrame) -> None:
    before, after = model.predict(rows), loaded.predict(rows)
    assert before.shape == after.shape and np.array_equal(before, after)
    one = [loaded.predict(record) for record in rows.iloc[:5].to_dict("records")]  # the single-row dict path
    np.testing.assert_allclose(np.concatenate(one), after[:5], rtol=1e-12)  # BLAS may sum in another order


@pytest.mark.parametrize("family", ["lightgbm", "linear", "distilled"])
def test_binary_models_predict_identically_after_save_and_load(family, titanic, titanic_board, tmp_path):
    problem = make_problem(titanic.competition, titanic.dataset)
    if family == "lightgbm":
        runtime = fit_and_validate(problem, SMALL, hard_target(problem)).runtime()
    elif family == "linear":
        runtime = fit_linear(problem).runtime
    else:
        X_test = problem.encode(titanic.dataset.X_test)
        runtime = fit_student(problem, SMALL, titanic_board.oof, titanic_board.test, X_test).runtime()
    model, loaded = _round_trip(problem, runtime, tmp_path / family)
    _assert_same(model, loaded, titanic.dataset.X_test)
    served = loaded.predict(titanic.dataset.X_test)
    assert titanic.competition.submission_format == "probability" and served.ndim == 1
    assert ((served >= 0) & (served <= 1)).all()


def test_multiclass_student_with_soft_targets_round_trips(hpc, tmp_path):
    corpus = hpc
    board = quick_leaderboard(corpus)
    problem = make_problem(corpus.competition, corpus.dataset)
    X_test = problem.encode(corpus.dataset.X_test)
    fit = fit_student(problem, SMALL, board.oof, board.test, X_test)
    assert np.isfinite(fit.score) and fit.oof.shape == board.oof.shape
    model, loaded = _round_trip(problem, fit.runtime(), tmp_path / "student")
    _assert_same(model, loaded, corpus.dataset.X_test)
    served = loaded.predict(corpus.dataset.X_test)
    assert served.shape == (len(X_test), len(corpus.competition.classes))
    np.testing.assert_allclose(served.sum(axis=1), 1.0)


def test_regression_on_log_target_round_trips_and_serves_values(ames, tmp_path):
    corpus = ames
    problem = make_problem(corpus.competition, corpus.dataset)
    assert problem.log_target  # RMSLE: fitted on log1p, served as expm1
    fit = fit_and_validate(problem, SMALL, hard_target(problem))
    model, loaded = _round_trip(problem, fit.runtime(), tmp_path / "ames")
    _assert_same(model, loaded, corpus.dataset.X_test)
    served = loaded.predict(corpus.dataset.X_test)
    assert served.ndim == 1 and (served > 1000).all()  # sale prices, not logs


def test_output_spec_formats():
    raw_binary = np.array([0.2, 0.7])
    labels = OutputSpec("binary", "labels", "Categorization Accuracy", "y", "id", ("y",), classes=("no", "yes"))
    assert list(labels.format(raw_binary)) == ["no", "yes"]
    per_class = OutputSpec("binary", "class_probabilities", "Log Loss", "y", "id", ("a", "b"), classes=(0, 1),
                           class_columns=("a", "b"))
    np.testing.assert_allclose(per_class.format(raw_binary), [[0.8, 0.2], [0.3, 0.7]])
    values = OutputSpec("regression", "values", "RMSLE", "y", "id", ("y",), floor=0.0)
    np.testing.assert_array_equal(values.format(np.array([-1.0, 3.0])), [0.0, 3.0])
    frame = labels.frame(labels.format(raw_binary), pd.Series([10, 11]))
    assert list(frame.columns) == ["id", "y"] and frame["y"].tolist() == ["no", "yes"]
    assert OutputSpec.from_dict(labels.to_dict()) == labels


def test_every_runtime_in_the_registry_is_a_runtime():
    """One registry names every model family a production artifact can hold; each class has what serving
    calls (the Runtime protocol), and an unknown kind is a clear error."""
    import pytest

    from agent.runtime.runtimes import RUNTIMES, runtime_class

    for kind in RUNTIMES:
        cls = runtime_class(kind)
        assert cls.kind == kind and cls.input in ("matrix", "frame", "rows")
        assert all(callable(getattr(cls, name, None)) for name in ("raw", "describe", "save", "load"))

    with pytest.raises(ValueError, match="Unknown model kind 'xgboost'"):
        runtime_class("xgboost")
