"""Merged AutoGluon portfolios: every configuration of each, dealt out in turn, none twice; and a real fit."""

from __future__ import annotations

import pytest

from strategies.portfolio import _fit_key, merge, portfolio, ranked, stack_levels
from tests.strategies.bagged import assert_folds_held_out

UNAVAILABLE = ["NN_TORCH", "FASTAI"]


def order(configs: dict) -> list[tuple[str, dict]]:
    """(type, configuration) by the merged priority, highest first."""
    entries = [(kind, item) for kind, items in configs.items() for item in items]
    return sorted(entries, key=lambda e: -e[1]["ag_args"]["priority"])


@pytest.mark.parametrize("problem_type", ["binary", "multiclass", "regression"])
def test_portfolios_are_dealt_out_in_turn_without_repeats(problem_type):
    first = ranked(portfolio("best_quality_v150"), problem_type, set(UNAVAILABLE))
    second = ranked(portfolio("best_quality"), problem_type, set(UNAVAILABLE))
    merged = order(merge(["best_quality_v150", "best_quality"], problem_type, UNAVAILABLE))
    keys = [_fit_key(kind, item) for kind, item in merged]
    assert len(keys) == len(set(keys)), "a configuration was dealt twice"
    expected = {_fit_key(k, c) for k, c in first} | {_fit_key(k, c) for k, c in second}
    assert set(keys) == expected, "a configuration of one of the portfolios is missing"
    # each portfolio's own order is kept (for what only it has), and the two alternate from the top
    for queue, other in ((first, second), (second, first)):
        theirs = {_fit_key(k, c) for k, c in other}
        places = [keys.index(_fit_key(k, c)) for k, c in queue if _fit_key(k, c) not in theirs]
        assert places == sorted(places)
    assert keys[0] == _fit_key(*first[0]) and keys[1] == _fit_key(*second[0])
    names = [(kind, item["ag_args"].get("name_suffix", "")) for kind, item in merged]
    assert len(names) == len(set(names)), "two configurations would get the same model name"


def test_unavailable_types_and_other_problem_types_are_left_out():
    merged = merge(["best_quality", "best_quality_v150"], "regression", UNAVAILABLE)
    assert not set(UNAVAILABLE) & set(merged)
    for items in merged.values():
        for item in items:
            assert "regression" in item["ag_args"].get("problem_types", ["regression"])
    classification = merge(["best_quality"], "binary", UNAVAILABLE)
    assert any(item["ag_args"].get("name_suffix") == "Gini" for item in classification["RF"])
    assert not any(item["ag_args"].get("name_suffix") == "Gini" for item in merged.get("RF", []))


def test_stack_levels_follow_autogluons_rule_unless_configured():
    assert stack_levels("binary", 20_000, 8, None) == 0
    assert stack_levels("multiclass", 3_000, 8, None) == 1 and stack_levels("regression", 3_000, 8, None) == 1
    assert stack_levels("regression", 500, 8, None) == 0  # too few rows to stack
    assert stack_levels("binary", 20_000, 8, 1) == 1 and stack_levels("multiclass", 3_000, 8, 0) == 0


def test_each_portfolio_choice_follows_the_stacking(tmp_path):
    from strategies.autogluon import AutoGluonStrategy
    from tests.artifacts import make_corpus

    strategy = AutoGluonStrategy(tmp_path / "ag", portfolio={"stacked": ["best_quality"],
                                                            "single_level": ["best_quality_v150", "best_quality"]})
    data = make_corpus("hpc_class", tmp_path / "corpus", rows=300)
    flat = strategy._portfolio(data.competition, data.dataset, UNAVAILABLE, levels=0)
    stacked = strategy._portfolio(data.competition, data.dataset, UNAVAILABLE, levels=1)
    assert "GBM_PREP" in flat and "GBM_PREP" not in stacked
    assert {_fit_key(k, c) for k, c in order(stacked)} == \
        {_fit_key(k, c) for k, c in ranked(portfolio("best_quality"), "multiclass", set(UNAVAILABLE))}
    assert AutoGluonStrategy(tmp_path / "own")._portfolio(data.competition, data.dataset, UNAVAILABLE, 1) is None


def test_a_merged_portfolio_fits_models_of_both(tmp_path):
    """A real fit of the merged portfolio's first configurations: TabPrep-LightGBM of the newer portfolio and
    the random forest of the older one both become candidates on the run's folds."""
    from strategies.autogluon import AutoGluonStrategy
    from strategies.base import Budget
    from tests.artifacts import make_corpus

    data = make_corpus("titanic", tmp_path / "corpus", rows=300)
    merged = order(merge(["best_quality_v150", "best_quality"], "binary", UNAVAILABLE))
    wanted = [(k, c) for k, c in merged if k in ("GBM_PREP", "RF")][:2]
    assert {k for k, _ in wanted} == {"GBM_PREP", "RF"}
    fast = {"GBM_PREP": {"num_boost_round": 30}, "RF": {"n_estimators": 30}}
    configs: dict = {}
    for kind, item in wanted:
        configs.setdefault(kind, []).append({**item, **fast[kind]})
    strategy = AutoGluonStrategy(tmp_path / "ag", num_stack_levels=0, verbosity=0, fold_fitting="sequential_local",
                                 hyperparameters=configs)
    candidates = strategy.search(data.competition, data.dataset, Budget(120, 1, 4.0)).candidates
    models = {c.model for c in candidates}
    assert any(m.startswith("LightGBMPrep") for m in models), models
    assert any(m.startswith("RandomForest") for m in models), models
    for candidate in candidates:
        assert len(candidate.oof) == len(data.dataset.y)

    # TabPrep-LightGBM target-encodes inside each fold: fold model k predicted exactly the rows it never saw
    from autogluon.tabular import TabularPredictor

    predictor = TabularPredictor.load(str(tmp_path / "ag"))
    name = next(m for m in models if m.startswith("LightGBMPrep"))
    assert_folds_held_out(predictor, name, data.dataset, atol=1e-9)
