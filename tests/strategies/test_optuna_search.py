"""The Optuna studies start from another search's best hyperparameters (AutoGluon's), mapped into their space."""

from __future__ import annotations

from agent.executor import LocalExecutor
from strategies.base import Budget
from strategies.optuna_search import OptunaSearch, load_space, within_space
from tests.artifacts import make_corpus

# What AutoGluon reports for one of its LightGBM models (output_format="all"), native LightGBM names.
AUTOGLUON_LIGHTGBM = {"learning_rate": 0.0193, "num_leaves": 64, "feature_fraction": 0.55, "min_data_in_leaf": 28,
                      "lambda_l1": 0.91, "lambda_l2": 1.9, "bagging_fraction": 0.99, "extra_trees": True,
                      "num_boost_round": 10000, "cat_smooth": 1.86}


def test_other_names_are_mapped_and_values_clipped_into_the_space():
    space = load_space("lightgbm")
    start = within_space(AUTOGLUON_LIGHTGBM, space)
    assert set(start) == set(space["params"])
    assert start["min_child_samples"] == 28 and start["num_leaves"] == 64 and start["learning_rate"] == 0.0193
    clipped = within_space({**AUTOGLUON_LIGHTGBM, "num_leaves": 4096, "learning_rate": 1e-5}, space)
    assert clipped["num_leaves"] == space["params"]["num_leaves"]["high"]
    assert clipped["learning_rate"] == space["params"]["learning_rate"]["low"]
    assert within_space({"depth": 6, "l2_leaf_reg": 3.0}, space) is None  # a CatBoost's: not this space
    catboost = within_space({"depth": 8, "l2_leaf_reg": 3.0, "learning_rate": 0.05}, load_space("catboost"))
    assert catboost["depth"] == 8 and catboost["random_strength"] == load_space("catboost")["first"]["random_strength"]


def test_the_second_trial_is_the_warm_start(tmp_path):
    data = make_corpus("titanic", tmp_path / "corpus", rows=300)
    search = OptunaSearch("lightgbm", tmp_path / "studies", LocalExecutor(), max_trials=2,
                          warm_start=[AUTOGLUON_LIGHTGBM])
    result = search.search(data.competition, data.dataset, Budget(120, 1, 2.0))
    study = search.open_study()
    trials = sorted(study.trials, key=lambda t: t.number)
    assert len(trials) == 2
    assert trials[0].params == load_space("lightgbm")["first"]
    assert trials[1].params == within_space(AUTOGLUON_LIGHTGBM, load_space("lightgbm"))
    assert result.summary["complete"] == 2


def test_a_trial_the_deadline_stops_is_counted_apart_from_failures(tmp_path):
    from optuna.trial import TrialState

    from strategies.optuna_search import stop_at_deadline

    data = make_corpus("titanic", tmp_path / "corpus", rows=300)
    search = OptunaSearch("lightgbm", tmp_path / "studies", LocalExecutor(), max_trials=1)
    search.search(data.competition, data.dataset, Budget(120, 1, 2.0))
    study = search.open_study()
    stop_at_deadline(study, study.ask())
    study.tell(study.ask(), state=TrialState.FAIL)
    summary = search.result(search.open_study(), data.competition, resumed=True).summary
    assert (summary["complete"], summary["stopped"], summary["fail"], summary["trials"]) == (1, 1, 1, 3)
