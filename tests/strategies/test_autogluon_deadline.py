"""Which models the deadline callback lets AutoGluon start: a stacked model is costed from the level below."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from agent.deadline import Deadline
from strategies.autogluon_deadline import MIN_MODEL_SECONDS, DeadlineCallback, predict_reason, skip_reason

# a level-1 fit on a large table that ran out of time before its forests (the case the rule is for)
FIT_SECONDS = {"LightGBMXT_BAG_L1": 89.0, "LightGBM_BAG_L1": 29.0, "LightGBMLog_BAG_L1": 16.0,
               "WeightedEnsemble_L2": 0.1}


def reason(name: str, level: int, left: float) -> str | None:
    return skip_reason(name, level, left, list(FIT_SECONDS), FIT_SECONDS.get)


def test_too_little_time_for_any_model():
    assert reason("CatBoost_BAG_L1", 1, MIN_MODEL_SECONDS - 0.5)
    assert reason("CatBoost_BAG_L1", 1, MIN_MODEL_SECONDS + 0.5) is None  # level 1: AutoGluon's own limit


def test_a_stacked_model_is_costed_from_its_twin():
    assert reason("LightGBM_BAG_L2", 2, 53.0) == \
        "its lower-level twin took 29 s (x2 when stacked), 53 s are left"
    assert reason("LightGBM_BAG_L2", 2, 60.0) is None


def test_a_stacked_model_without_a_twin_is_costed_from_the_cheapest_model_below():
    """A level-2 forest with 3.6 s left, none fitted at level 1: the cheapest level-1 model took 16 s."""
    assert reason("RandomForestMSE_BAG_L2", 2, 3.6) == \
        "the cheapest level-1 model took 16 s (x2 when stacked), 4 s are left"
    assert reason("RandomForestMSE_BAG_L2", 2, 40.0) is None
    assert skip_reason("RandomForestMSE_BAG_L2", 2, 3.6, [], FIT_SECONDS.get) is None  # nothing to go by


def test_a_model_left_a_sliver_of_its_level_share_is_skipped():
    """AutoGluon gave a level-1 model 0.28 s of its level's share while 64 s were left in all."""
    assert skip_reason("LightGBMLog_BAG_L1", 1, 64.0, [], FIT_SECONDS.get, given=0.28) == "AutoGluon gave it 0.3 s"
    assert skip_reason("LightGBMLog_BAG_L1", 1, 64.0, [], FIT_SECONDS.get, given=30.0) is None


def test_a_model_starts_only_if_the_fitted_ones_can_still_predict_the_test_set():
    """The fitted models need 30 s to predict the test set: a model given 40 s more cannot start 60 s before
    the predictions are due; with 80 s left it can; with nothing fitted there is nothing to predict."""
    assert predict_reason(30.0, 40.0, 60.0) == ("the fitted models would take about 30 s to predict the test "
                                               "set; with 40 s to fit this one, more than the 60 s left")
    assert predict_reason(30.0, 40.0, 80.0) is None
    assert predict_reason(0.0, 40.0, 10.0) is None  # the first model: AutoGluon's limits hold it


class Trainer:
    """What the callback reads of AutoGluon's trainer: the fitted models and their recorded times."""

    def __init__(self, predict_time: dict[str, float], kinds: dict[str, type] | None = None):
        self.predict_time, self.kinds, self.logged = predict_time, kinds or {}, []

    def get_model_names(self):
        return list(self.predict_time)

    def get_model_attribute(self, name, attribute):
        return {"predict_time": self.predict_time[name], "fit_time": 5.0, "type_inner": self.kinds.get(name)}[attribute]

    def log(self, level, message):
        self.logged.append(message)

    def load_model(self, name):
        return SimpleNamespace(name=name)  # not a bag: it cannot predict with some of its fold models

    def get_model_pred_proba_dict(self, features, models, model_pred_proba_dict):
        model_pred_proba_dict.update({name: f"{name} on {features}" for name in models})
        return model_pred_proba_dict


def test_models_that_predicted_the_test_set_as_they_were_fitted_cost_nothing_more():
    """Five level-1 models that each cost 10 s to predict the test set leave no room for a 10 s fit 40 s before
    the predictions are due; once four of them have predicted as they were fitted, the rest (10 s), the new
    model's own (priced as the costliest fitted model's: 10 s) and its fit (10 s) hold in the 40 s."""

    trainer = Trainer({f"M{k}_BAG_L1": 1.0 for k in range(5)})
    model = SimpleNamespace(name="CatBoost_BAG_L1")
    callback = DeadlineCallback(Deadline.after(600), predict_deadline=Deadline.after(40), test_per_validation=10.0,
                                test_features=lambda: None)
    assert callback._before_model_fit(trainer, model, time_limit=10.0) == (False, True)
    assert "would take about 60 s" in trainer.logged[-1]
    callback.test_predictions = {f"M{k}_BAG_L1": None for k in range(4)}
    assert callback._before_model_fit(trainer, model, time_limit=10.0) == (False, False)


def test_a_new_models_test_predictions_are_planned_from_those_measured_in_the_fit():
    """All five fitted models predicted the test set, the longest in 3 s though their recorded predict times
    suggest 10 s: 18 s before the predictions are due, a 10 s fit plus twice the measured 3 s holds, plus the
    estimated 10 s would not."""

    trainer = Trainer({f"M{k}_BAG_L1": 1.0 for k in range(5)})
    model = SimpleNamespace(name="CatBoost_BAG_L1")
    callback = DeadlineCallback(Deadline.after(600), predict_deadline=Deadline.after(18), test_per_validation=10.0,
                                test_features=lambda: None)
    callback.test_predictions = {name: None for name in trainer.predict_time}
    assert callback._before_model_fit(trainer, model, time_limit=10.0) == (False, True)  # 10 + 10 > 18
    callback.test_seconds = {"M0_BAG_L1": 3.0, "M1_BAG_L1": 1.0}
    assert callback._before_model_fit(trainer, model, time_limit=10.0) == (False, False)  # 10 + 2 x 3 < 18
    stacked = SimpleNamespace(name="M1_BAG_L2")  # its twin took 1 s: 2 x 1 s
    assert callback.own_test_seconds(list(trainer.predict_time), stacked.name, None) == 2.0


def test_a_model_allowed_to_start_predicts_with_the_seconds_planned_for_it():
    """Planned at twice the measured 3 s before its fit, a model is not refused its test predictions after it
    because its recorded out-of-fold predict time suggests 25 s; a model never planned is judged from that."""

    trainer = Trainer({f"M{k}_BAG_L1": 1.0 for k in range(3)})
    callback = DeadlineCallback(Deadline.after(600), predict_deadline=Deadline.after(20), test_per_validation=10.0,
                                test_features=lambda: "test rows")
    callback.test_predictions = {name: None for name in trainer.predict_time}
    callback.test_seconds = {"M0_BAG_L1": 3.0}
    assert callback._before_model_fit(trainer, SimpleNamespace(name="CatBoost_BAG_L1"), time_limit=10.0) == \
        (False, False)  # 10 s to fit + 6 s to predict < 20 s
    trainer.predict_time.update({"CatBoost_BAG_L1": 2.5, "XGBoost_BAG_L1": 2.5})
    callback._after_model_fit(trainer, ["CatBoost_BAG_L1"])
    callback._after_model_fit(trainer, ["XGBoost_BAG_L1"])
    assert callback.test_predictions["CatBoost_BAG_L1"] == "CatBoost_BAG_L1 on test rows"
    assert "XGBoost_BAG_L1" not in callback.test_predictions
    assert trainer.logged[-1].startswith("podium: XGBoost_BAG_L1 is not predicting the test set now")


def test_a_model_without_a_twin_is_planned_from_its_own_kind_measured_in_the_fit():
    """A slow LightGBM (28 s) does not price a new XGBoost when an XGBoost took 0.5 s: twice that, 1 s; a kind
    not yet fitted is priced from the slowest model of any kind, 56 s."""

    class LGBModel: ...

    class XGBoostModel: ...

    class KNNModel: ...

    trainer = Trainer({"LightGBM_r96_BAG_L1": 1.0, "XGBoost_BAG_L1": 1.0},
                      kinds={"LightGBM_r96_BAG_L1": LGBModel, "XGBoost_BAG_L1": XGBoostModel})
    callback = DeadlineCallback(Deadline.after(600), predict_deadline=Deadline.after(40), test_per_validation=10.0,
                                test_features=lambda: None)
    callback.test_predictions = {name: None for name in trainer.predict_time}
    callback.test_seconds = {"LightGBM_r96_BAG_L1": 28.0, "XGBoost_BAG_L1": 0.5}
    xgboost = SimpleNamespace(name="XGBoost_r33_BAG_L2", _child_type=XGBoostModel)
    assert callback._before_model_fit(trainer, xgboost, time_limit=30.0) == (False, False)
    assert callback.planned_test_seconds["XGBoost_r33_BAG_L2"] == 1.0
    knn = SimpleNamespace(name="KNeighbors_BAG_L2", _child_type=KNNModel)
    assert callback._before_model_fit(trainer, knn, time_limit=30.0) == (False, True)  # 30 + 56 > 40
    assert callback.planned_test_seconds["KNeighbors_BAG_L2"] == 56.0


def test_the_test_rows_transformed_once_are_not_counted_in_the_first_models_test_seconds(monkeypatch):
    """Transforming the test rows (AutoGluon's feature generators) happens once, before the first model
    predicts: counted in its seconds, it would price every later model of its kind."""
    now = [1000.0]
    monkeypatch.setattr("agent.deadline.clock", lambda: now[0])

    def transform():
        now[0] += 30.0  # the clock the callback reads: only the transformation takes time here
        return "test rows"

    trainer = Trainer({"LightGBMXT_BAG_L1": 1.0, "LightGBM_BAG_L1": 1.0})
    callback = DeadlineCallback(Deadline(now[0] + 600), test_features=transform)
    callback._after_model_fit(trainer, ["LightGBMXT_BAG_L1"])
    callback._after_model_fit(trainer, ["LightGBM_BAG_L1"])
    assert callback.test_predictions["LightGBM_BAG_L1"] == "LightGBM_BAG_L1 on test rows"
    assert now[0] == 1030.0  # transformed once
    assert callback.test_seconds == {"LightGBMXT_BAG_L1": 0.0, "LightGBM_BAG_L1": 0.0}


def test_the_saved_trainer_never_holds_the_test_rows_or_their_predictions():
    import pickle

    callback = DeadlineCallback(Deadline.after(600), test_features=lambda: "test rows")
    callback.test_predictions, callback._features = {"LightGBM_BAG_L1": [0.5]}, "test rows"
    restored = pickle.loads(pickle.dumps(callback))
    assert restored.test_predictions == {} and restored.test_features is None and restored._features is None
    assert restored.deadline == callback.deadline and callback.test_predictions  # the live one keeps them


def test_a_real_fit_starts_no_model_its_stack_could_not_predict_in_time(tmp_path):
    """A real AutoGluon fit whose test set would cost 10^6 times the OOF predict time: after its first model,
    every other core model is skipped, and the weighted ensemble is still fitted."""
    from autogluon.tabular import TabularPredictor

    from tests.conftest import make_tables

    train = make_tables(n=200, seed=0)
    predictor = TabularPredictor(label="target", path=str(tmp_path / "ag"), verbosity=0)
    callback = DeadlineCallback(Deadline.after(600), predict_deadline=Deadline.after(600), test_per_validation=1e6)
    predictor.fit(train.drop(columns=["id"]), hyperparameters={"GBM": [{}], "RF": [{"n_estimators": 20}],
                                                                 "XT": [{"n_estimators": 20}]},
                  num_bag_folds=2, fit_strategy="sequential", callbacks=[callback],
                  ag_args_ensemble={"fold_fitting_strategy": "sequential_local"})
    core = [m for m in predictor.model_names() if not m.startswith("WeightedEnsemble")]
    assert core == ["LightGBM_BAG_L1"], predictor.model_names()
    assert any(m.startswith("WeightedEnsemble") for m in predictor.model_names())
    assert skip_reason("XGBoost_BAG_L1", 1, 64.0, [], FIT_SECONDS.get, given=-3.2) == \
        "its level's share of the time is spent"


def test_past_the_deadline_the_models_are_skipped_but_the_weighted_ensemble_is_fitted(tmp_path):
    """A real two-level fit whose deadline passes once its first level-2 model is fitted: the other level-2
    models are skipped, and the level-3 weighted ensemble (often the fit's best model) is still fitted."""
    from autogluon.tabular import TabularPredictor

    from tests.conftest import make_tables

    predictor = TabularPredictor(label="target", path=str(tmp_path / "ag"), verbosity=0)
    predictor.fit(make_tables(n=200, seed=1).drop(columns=["id"]),
                  hyperparameters={"GBM": [{}], "RF": [{"n_estimators": 20}], "XT": [{"n_estimators": 20}]},
                  num_bag_folds=2, num_stack_levels=1, fit_strategy="sequential",
                  callbacks=[DeadlinePassesAtLevelTwo(Deadline.after(600))],
                  ag_args_ensemble={"fold_fitting_strategy": "sequential_local"})
    names = predictor.model_names()
    assert [m for m in names if m.endswith("_L2") and not m.startswith("WeightedEnsemble")] == ["LightGBM_BAG_L2"]
    assert "WeightedEnsemble_L3" in names, names


class DeadlinePassesAtLevelTwo(DeadlineCallback):
    """The deadline callback whose deadline passes once a level-2 model is fitted (module level: AutoGluon
    pickles its callbacks)."""

    def _after_model_fit(self, trainer, model_names, stack_name="core", level=1):
        if level == 2 and stack_name == "core":
            self.deadline = Deadline.after(-1.0)
        return False


def _bagged_lightgbm(path):
    """A real bag of 4 LightGBM fold models, fitted in this process, and the test rows as it sees them."""
    from autogluon.tabular import TabularPredictor

    from tests.conftest import make_tables

    frame = make_tables(n=240, seed=2).drop(columns=["id"])
    predictor = TabularPredictor(label="target", path=str(path), verbosity=0)
    predictor.fit(frame.iloc[:200], hyperparameters={"GBM": [{"num_boost_round": 30}]}, num_bag_folds=4,
                  fit_weighted_ensemble=False, ag_args_ensemble={"fold_fitting_strategy": "sequential_local"})
    features = predictor._learner.transform_features(frame.iloc[200:].drop(columns=["target"]))
    return predictor._trainer, features


def test_a_bag_short_of_time_predicts_the_test_set_with_the_fold_models_the_time_holds(tmp_path, monkeypatch):
    """Each fold model takes 10 s to predict (a controlled clock) and 35 s are left: two predict (after the
    second, the slowest doubled would pass the deadline), and the test predictions are their average; with
    time for all, the average of every fold model is the bag's own prediction."""
    trainer, features = _bagged_lightgbm(tmp_path / "ag")
    bag = trainer.load_model("LightGBM_BAG_L1")
    whole = trainer.get_model_pred_proba_dict(features, models=["LightGBM_BAG_L1"])["LightGBM_BAG_L1"]
    inputs = bag.preprocess(features, model=bag.load_child(bag.models[0]))
    first_two = bag.predict_proba_children(inputs, children_idx=[0, 1], preprocess_nonadaptive=False)

    roomy = DeadlineCallback(Deadline.after(600), predict_deadline=Deadline.after(600))
    assert roomy.predict_some_folds(trainer, "LightGBM_BAG_L1", features)
    assert "LightGBM_BAG_L1" not in roomy.some_folds
    np.testing.assert_allclose(roomy.test_predictions["LightGBM_BAG_L1"], whole, rtol=1e-9)

    now = [1000.0]
    monkeypatch.setattr("agent.deadline.clock", lambda: now[0])
    predict = type(bag).predict_proba_children

    def slow(self, *args, **kwargs):
        now[0] += 10.0
        return predict(self, *args, **kwargs)

    monkeypatch.setattr(type(bag), "predict_proba_children", slow)
    short = DeadlineCallback(Deadline(now[0] + 600), predict_deadline=Deadline(now[0] + 35))
    assert short.predict_some_folds(trainer, "LightGBM_BAG_L1", features)
    assert short.some_folds == {"LightGBM_BAG_L1": "2/4"}
    np.testing.assert_allclose(short.test_predictions["LightGBM_BAG_L1"], (first_two[0] + first_two[1]) / 2,
                               rtol=1e-9)
    # the first fold model would end late
    late = DeadlineCallback(Deadline(now[0] + 600), predict_deadline=Deadline(now[0] + 5))
    assert not late.predict_some_folds(trainer, "LightGBM_BAG_L1", features)
