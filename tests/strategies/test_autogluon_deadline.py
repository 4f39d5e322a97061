"""Which models the deadline callback lets AutoGluon start: a stacked model is costed from the level below."""

from __future__ import annotations

from strategies.autogluon_deadline import MIN_MODEL_SECONDS, skip_reason

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
