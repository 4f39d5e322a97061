"""strategies/production/blend.py and agent/runtime/blend.py: the budget-bounded production blend."""

from __future__ import annotations

import json

import numpy as np
import pytest

from agent.deadline import Deadline
from agent.runtime import load_model
from agent.runtime.blend import BlendRuntime
from strategies.production import blend as blend_module
from strategies.production.blend import blend_candidates, nested_oof, select
from strategies.production.candidate import Budgets
from strategies.production.problem import latency_rows, make_problem
from strategies.production.search import quick_candidate, search_compact


def _noisy_views(titanic, n_views: int, seed: int = 0) -> tuple[object, list[np.ndarray]]:
    """A problem and several predictors of its target with independent noise: averaging them helps."""
    problem = make_problem(titanic.competition, titanic.dataset)
    rng = np.random.default_rng(seed)
    y = problem.y.astype(float)
    views = [np.clip(0.5 * y + 0.25 + rng.normal(0, 0.35, len(y)), 0.001, 0.999) for _ in range(n_views)]
    return problem, views


def _as_views(problem, real, views: list[np.ndarray], p99s: list[float]) -> list:
    """Real packaged candidates standing for the noisy `views`: each takes a view's OOF predictions and score,
    and is said to have measured `p99s` (its p50 half of it)."""
    from dataclasses import replace

    return [replace(c, name=f"lightgbm/view{i}", oof=view, score=problem.score(view),
                    latency=replace(c.latency, p50_ms=p99 / 2, p99_ms=p99))
            for i, (c, view, p99) in enumerate(zip(real, views, p99s, strict=True))]


def test_the_blend_averages_several_models_when_the_budgets_hold_them(titanic):
    problem, views = _noisy_views(titanic, 4)
    roomy = Budgets(1.0, 5_000_000)
    weights = select(views, problem.y, problem, [0.1] * 4, [100_000] * 4, roomy, max_members=3)
    assert 2 <= len(weights) <= 3 and sum(weights.values()) == pytest.approx(1.0)
    blended = sum(w * views[i] for i, w in weights.items())
    best_single = max(problem.signed(problem.score(v)) for v in views)
    assert problem.signed(problem.score(blended)) > best_single


def test_members_are_limited_by_count_summed_latency_and_summed_size(titanic):
    problem, views = _noisy_views(titanic, 4)
    budgets = Budgets(1.0, 5_000_000)
    assert len(select(views, problem.y, problem, [0.1] * 4, [1000] * 4, budgets, max_members=2)) <= 2
    # 0.35 ms each: two add up to 0.7 ms, within 80% of 1 ms; three would not be
    assert len(select(views, problem.y, problem, [0.35] * 4, [1000] * 4, budgets, max_members=3)) == 2
    assert len(select(views, problem.y, problem, [0.1] * 4, [3_000_000] * 4, budgets, max_members=3)) == 1
    assert len(select(views, problem.y, problem, [0.9] * 4, [1000] * 4, budgets, max_members=3)) == 1
    # the whole budget: 0.45 ms each add up to 0.9 ms, inside 1 ms but not inside 80% of it
    assert len(select(views, problem.y, problem, [0.45] * 4, [1000] * 4, budgets, 3, headroom=1.0)) == 2
    assert len(select(views, problem.y, problem, [0.45] * 4, [1000] * 4, budgets, 3, headroom=0.8)) == 1


def test_a_blend_that_misses_the_latency_budget_when_measured_is_chosen_again_with_headroom(titanic, tmp_path):
    """Members whose recorded p99s add up to the whole budget are tried first; the blend is then measured, and
    when it misses, members are chosen again within 80% of the budget. Both blends are kept, as measured."""

    from strategies.production.families import linear_floor

    problem, views = _noisy_views(titanic, 3, seed=2)
    rows = latency_rows(titanic.dataset)
    real = [quick_candidate(problem, tmp_path / "a", rows), quick_candidate(problem, tmp_path / "b", rows),
            linear_floor(problem, tmp_path / "c", rows, 200)]
    budgets = Budgets(0.02, 50_000_000)  # 20 us: no served blend of two models is that fast
    recorded = [0.009, 0.009, 0.006]  # the first two fill the whole budget; only the first and last fit 80% of it
    pool = _as_views(problem, real, views, recorded)
    blends = blend_candidates(problem, pool, budgets, tmp_path, rows, 200, Deadline.after(60), max_members=3)
    first = blends[0]
    assert first.params["latency_headroom"] == 1.0 and first.measured and not first.fits(budgets)
    assert sum(m.latency.p99_ms for m in first.members) > 0.8 * budgets.latency_ms
    assert len(blends) == 2, "the blend that missed was not chosen again with headroom"
    second = blends[1]
    assert second.params["latency_headroom"] == 0.8 and second.measured
    assert sum(m.latency.p99_ms for m in second.members) <= 0.8 * budgets.latency_ms + 1e-12


def test_after_a_blend_that_fits_one_whose_members_add_up_to_more_than_the_budget_is_tried(titanic, tmp_path):
    """Members measured on a busy machine read slower than they serve, and a blend's p99 is below the sum of its
    members': after a blend that fits, with as much time left as it took, members whose p99s add up to 1.5x the
    budget are tried too; both are kept."""

    from strategies.production.families import linear_floor

    problem, views = _noisy_views(titanic, 3, seed=2)
    rows = latency_rows(titanic.dataset)
    real = [quick_candidate(problem, tmp_path / "a", rows), quick_candidate(problem, tmp_path / "b", rows),
            linear_floor(problem, tmp_path / "c", rows, 200)]
    budgets = Budgets(5.0, 50_000_000)  # 5 ms: every blend of these fits when measured
    recorded = [3.0, 3.0, 1.5]  # as recorded: the three add up to 1.5x the budget, two of them to 0.9x
    pool = _as_views(problem, real, views, recorded)
    first, second = blend_candidates(problem, pool, budgets, tmp_path, rows, 200, Deadline.after(60), max_members=3)
    assert first.params["latency_headroom"] == 1.0 and first.fits(budgets) and len(first.members) == 2
    assert second.params["latency_headroom"] == blend_module.AMBITIOUS_HEADROOM and second.measured
    assert sum(m.latency.p99_ms for m in second.members) == pytest.approx(7.5)  # all three
    assert blend_candidates(problem, pool, budgets, tmp_path / "late", rows, 200, Deadline.after(0.0),
                            max_members=3)[0].status == "skipped"


def test_the_nested_score_chooses_weights_without_the_rows_it_predicts(titanic):
    problem, views = _noisy_views(titanic, 3, seed=1)
    budgets = Budgets(1.0, 5_000_000)
    honest = nested_oof(views, problem, [0.1] * 3, [1000] * 3, budgets, max_members=3)
    group = problem.folds % blend_module.GROUPS
    for left in np.unique(group):
        inside = group != left
        weights = select([v[inside] for v in views], problem.y[inside], problem, [0.1] * 3, [1000] * 3, budgets, 3)
        expected = sum(w * views[i][group == left] for i, w in weights.items())
        np.testing.assert_allclose(honest[group == left], expected)
    # a candidate that knows the answers of one group only: the nested blend cannot learn to trust it there
    cheat = views[0].copy()
    cheat[group == 0] = problem.y[group == 0]
    in_sample = select([cheat, *views[1:]], problem.y, problem, [0.1] * 3, [1000] * 3, budgets, 3)
    nested = nested_oof([cheat, *views[1:]], problem, [0.1] * 3, [1000] * 3, budgets, 3)
    in_sample_oof = sum(w * [cheat, *views[1:]][i] for i, w in in_sample.items())
    assert problem.signed(problem.score(nested)) < problem.signed(problem.score(in_sample_oof))


def test_a_blend_of_real_candidates_is_served_as_its_weighted_members(ames, tmp_path):
    problem = make_problem(ames.competition, ames.dataset)
    rows = latency_rows(ames.dataset)
    budgets = Budgets(50.0, 50_000_000)
    from strategies.production.families import linear_floor as _linear

    candidates = [_linear(problem, tmp_path, rows, 200), quick_candidate(problem, tmp_path, rows)]
    candidates += search_compact(problem, budgets, rows, tmp_path, Deadline.after(60), max_trials=3,
                                 max_trees=80, max_leaves=15)
    blend = blend_candidates(problem, candidates, budgets, tmp_path, rows, 200, Deadline.after(60), max_members=3)[0]
    assert blend.measured and blend.family == "blend" and blend.params["latency_headroom"] == 1.0
    assert 2 <= len(blend.members) <= 3
    assert blend.score == problem.score(blend.oof)  # the nested OOF predictions it is scored on
    weights = blend.params["members"]
    assert sum(weights.values()) == pytest.approx(1.0, abs=1e-5)
    served = load_model(blend.folder)
    expected = sum(weights[m.name] * load_model(m.folder).predict_raw(ames.dataset.X_test) for m in blend.members)
    np.testing.assert_allclose(served.predict_raw(ames.dataset.X_test), expected, rtol=1e-5)
    config = json.loads((blend.folder / "production.json").read_text())["runtime"]
    assert config["kind"] == "blend" and [m["root"] for m in config["members"]] == \
        [f"model/m{i}" for i in range(len(blend.members))]
    assert blend.size_bytes >= max(m.size_bytes for m in blend.members) * 0.5


def test_a_blend_refuses_mismatched_weights_and_nested_blends(titanic, tmp_path):
    problem = make_problem(titanic.competition, titanic.dataset)
    member = quick_candidate(problem, tmp_path, latency_rows(titanic.dataset))
    runtime = load_model(member.folder).runtime
    with pytest.raises(ValueError, match="one weight per member"):
        BlendRuntime([runtime, runtime], [1.0])
    with pytest.raises(ValueError, match="positive"):
        BlendRuntime([runtime], [0.0])
    with pytest.raises(ValueError, match="another blend"):
        BlendRuntime.load(tmp_path, {"kind": "blend", "members": [
            {"weight": 1.0, "root": "model/m0", "config": {"kind": "blend", "members": []}}]})


def test_no_blend_when_fewer_than_two_candidates_fit(titanic, tmp_path):
    problem = make_problem(titanic.competition, titanic.dataset)
    rows = latency_rows(titanic.dataset)
    only = quick_candidate(problem, tmp_path, rows)
    assert blend_candidates(problem, [only], Budgets(50.0, 50_000_000), tmp_path, rows, 200,
                            Deadline.after(30)) == []
    second = quick_candidate(problem, tmp_path / "other", rows)
    assert blend_candidates(problem, [only, second], Budgets(50.0, 50_000_000), tmp_path, rows, 200,
                            Deadline.after(30), max_members=1) == []


def _hpc_candidates(hpc, tmp_path):
    from strategies.production.families import linear_floor

    problem = make_problem(hpc.competition, hpc.dataset)
    rows = latency_rows(hpc.dataset)
    candidates = [linear_floor(problem, tmp_path, rows, 200), quick_candidate(problem, tmp_path, rows)]
    candidates += search_compact(problem, Budgets(50.0, 50_000_000), rows, tmp_path, Deadline.after(60),
                                 max_trials=3, max_trees=80, max_leaves=15)
    return problem, rows, candidates


def test_a_classification_blend_is_stacked_exactly_when_the_nested_score_says_so(hpc, tmp_path):
    """The members' own OOF predictions: the stacked blend replaces the weighted mean iff its nested score is better."""
    problem, rows, candidates = _hpc_candidates(hpc, tmp_path)
    budgets = Budgets(50.0, 50_000_000)
    blend = blend_candidates(problem, candidates, budgets, tmp_path, rows, 200, Deadline.after(60), max_members=3)[0]
    pool = blend_module._pool(problem, candidates, budgets)
    oofs = [np.asarray(c.oof, dtype=float) for c in pool]
    args = ([c.latency.p99_ms for c in pool], [c.size_bytes for c in pool], budgets, 3)
    mean = problem.signed(problem.score(nested_oof(oofs, problem, *args, headroom=1.0)))
    stacked = problem.signed(problem.score(nested_oof(oofs, problem, *args, headroom=1.0, stacked=True)))
    assert blend.name.endswith("-stacked") == (stacked > mean)
    assert blend.params["combiner"] == ("logistic stacker" if stacked > mean else "weighted mean")
    assert problem.signed(blend.score) == pytest.approx(max(stacked, mean))


def test_overconfident_members_are_stacked_and_served_as_the_stacker_combines_them(hpc, tmp_path):
    from dataclasses import replace

    problem, rows, candidates = _hpc_candidates(hpc, tmp_path)
    sharpened = []
    for c in candidates:  # members that are far too sure of themselves: averaging them keeps it, a stacker does not
        cubed = np.asarray(c.oof, dtype=float) ** 3
        sharpened.append(replace(c, oof=cubed / cubed.sum(axis=1, keepdims=True)))
    budgets = Budgets(50.0, 50_000_000)
    [blend] = blend_candidates(problem, sharpened, budgets, tmp_path, rows, 200, Deadline.after(60), max_members=3)
    assert blend.name.endswith("-stacked") and blend.params["combiner"] == "logistic stacker"
    best_member = max(problem.signed(problem.score(c.oof)) for c in sharpened)
    assert problem.signed(blend.score) > best_member
    served = load_model(blend.folder)
    stacker = served.runtime.stacker
    X = hpc.dataset.X_test
    expected = stacker.combine([load_model(m.folder).predict_raw(X) for m in blend.members])
    np.testing.assert_allclose(served.predict_raw(X), expected, rtol=1e-9)
    np.testing.assert_allclose(served.predict_raw(X).sum(axis=1), 1.0)
    config = json.loads((blend.folder / "production.json").read_text())["runtime"]
    assert config["stacker"]["kind"] == "logistic"
    assert "logistic regression" in served.runtime.describe()["combiner"]


def test_the_stacked_nested_score_fits_its_stacker_without_the_rows_it_predicts(titanic):
    from strategies.production.stacker import fit_stacker

    problem, views = _noisy_views(titanic, 3, seed=1)
    budgets = Budgets(1.0, 5_000_000)
    honest = nested_oof(views, problem, [0.1] * 3, [1000] * 3, budgets, max_members=3, stacked=True)
    group = problem.folds % blend_module.GROUPS
    for left in np.unique(group):
        inside = group != left
        weights = select([v[inside] for v in views], problem.y[inside], problem, [0.1] * 3, [1000] * 3, budgets, 3)
        stacker = fit_stacker([views[i][inside] for i in weights], problem.y[inside], "sigmoid", 1)
        np.testing.assert_allclose(honest[group == left], stacker.combine([views[i][group == left] for i in weights]))


def test_a_regression_blend_is_never_stacked(ames, tmp_path):
    problem = make_problem(ames.competition, ames.dataset)
    rows = latency_rows(ames.dataset)
    from strategies.production.families import linear_floor as _linear

    candidates = [_linear(problem, tmp_path, rows, 200), quick_candidate(problem, tmp_path, rows)]
    [blend] = blend_candidates(problem, candidates, Budgets(50.0, 50_000_000), tmp_path, rows, 200,
                               Deadline.after(60), max_members=3)
    assert blend.params["combiner"] == "weighted mean" and load_model(blend.folder).runtime.stacker is None


def test_a_stacker_not_fitted_before_its_deadline_leaves_the_weighted_mean(hpc, tmp_path):
    problem, rows, candidates = _hpc_candidates(hpc, tmp_path)
    budgets = Budgets(50.0, 50_000_000)
    pool = blend_module._pool(problem, candidates, budgets)
    oofs = [np.asarray(c.oof, dtype=float) for c in pool]
    args = ([c.latency.p99_ms for c in pool], [c.size_bytes for c in pool], budgets, 3)
    assert nested_oof(oofs, problem, *args, stacked=True, deadline=Deadline.after(0)) is None
    weights = select(oofs, problem.y, problem, *args)
    choices = blend_module.nested_choices(oofs, problem, *args, 0.8)
    mean = blend_module.nested_predictions(oofs, problem, choices)
    stacker, honest = blend_module._stacked(problem, oofs, weights, choices, mean, Deadline.after(0))
    assert stacker is None and honest is mean


def test_a_blend_measured_slow_once_is_measured_again_before_its_members_are_chosen_again(titanic, tmp_path,
                                                                                          monkeypatch):
    """A moment of load on its first measurement: the next two fit, the median stands, the blend is kept as it
    was chosen (no second blend with headroom)."""
    from dataclasses import replace

    import strategies.production.measure as measure_module
    from strategies.production.families import linear_floor

    problem, views = _noisy_views(titanic, 3, seed=2)
    rows = latency_rows(titanic.dataset)
    real = [quick_candidate(problem, tmp_path / "a", rows), linear_floor(problem, tmp_path / "c", rows, 200)]
    budgets = Budgets(5.0, 50_000_000)
    pool = _as_views(problem, real, views[:len(real)], [2.0] * len(real))
    measure, blends_measured = measure_module.measure_latency, []

    def slow_first(model, rows, **kwargs):
        report = measure(model, rows, **kwargs)
        if model.name.startswith("blend/"):
            blends_measured.append(model.name)
            if len(blends_measured) == 1:
                return replace(report, p99_ms=1e6)
        return report

    monkeypatch.setattr(measure_module, "measure_latency", slow_first)
    blends = blend_candidates(problem, pool, budgets, tmp_path, rows, 200, Deadline.after(60), max_members=2)
    assert len(blends_measured) >= 3 and len(set(blends_measured[:3])) == 1
    assert blends[0].params["latency_headroom"] == 1.0 and blends[0].fits(budgets)
    assert all(b.params["latency_headroom"] != 0.8 for b in blends)


def test_an_ambitious_blend_with_the_members_of_the_first_is_not_made_again(titanic, tmp_path, monkeypatch):
    """When every member already fits the first blend, the 1.5x blend chooses the same: it is not packaged and
    measured a second time (those seconds go to the re-measurement after it)."""

    import strategies.production.measure as measure_module
    from strategies.production.families import linear_floor

    problem, views = _noisy_views(titanic, 3, seed=2)
    rows = latency_rows(titanic.dataset)
    real = [quick_candidate(problem, tmp_path / "a", rows), quick_candidate(problem, tmp_path / "b", rows),
            linear_floor(problem, tmp_path / "c", rows, 200)]
    budgets = Budgets(5.0, 50_000_000)
    pool = _as_views(problem, real, views, [1.0] * len(real))
    measure, packaged = measure_module.measure_latency, []

    def counted(model, rows, **kwargs):
        packaged.append(model.name)
        return measure(model, rows, **kwargs)

    monkeypatch.setattr(measure_module, "measure_latency", counted)
    blends = blend_candidates(problem, pool, budgets, tmp_path, rows, 200, Deadline.after(60), max_members=3)
    assert len(blends) == 1 and blends[0].fits(budgets) and len(blends[0].members) == 3
    assert sum(name.startswith("blend/") for name in packaged) == 1


def test_members_chosen_again_with_headroom_leave_room_in_the_size_budget_too(titanic):
    """A blend's files weigh a little more than its members' (ames_house: 5.02 MB of members adding up to 5 MB):
    chosen again after a miss, members' sizes add up to 80% of the size budget; never over it, however
    ambitious the latency headroom."""
    problem, views = _noisy_views(titanic, 4)
    budgets = Budgets(1.0, 1_000_000)
    sizes = [450_000] * 4  # two add up to 90% of the size budget
    assert len(select(views, problem.y, problem, [0.1] * 4, sizes, budgets, 3, headroom=1.0)) == 2
    assert len(select(views, problem.y, problem, [0.1] * 4, sizes, budgets, 3, headroom=0.8)) == 1
    assert len(select(views, problem.y, problem, [0.1] * 4, [600_000] * 4, budgets, 3, headroom=1.5)) == 1
