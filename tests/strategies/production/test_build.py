"""strategies/production/build.py, export.py, card.py: the exported folder, its budgets and its model card."""

from __future__ import annotations

import json

import numpy as np
import pytest

from agent.competition.metrics import score_prediction
from agent.deadline import Deadline
from agent.errors import BudgetError
from agent.runtime import artifact_size, load_model, measure_latency
from strategies.production import build_production_model
from strategies.production.card import fingerprint
from tests.artifacts import fast_settings

NOISE = 5.0  # timing ratios between two measurements on a shared machine: generous on purpose


def test_the_export_holds_everything_to_serve_and_explain(titanic_artifact):
    folder = titanic_artifact.out_dir
    names = {p.name for p in folder.iterdir()}
    assert {"production.json", "schema.json", "encoder.json", "model", "model_card.json", "model_card.md",
            "frontier.png", "candidates.json"} <= names
    assert (folder / "frontier.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    listing = json.loads((folder / "candidates.json").read_text())
    assert listing["chosen"] == titanic_artifact.chosen.name
    families = {c["family"] for c in listing["candidates"] if c["status"] == "measured"}
    assert {"linear", "lightgbm", "distilled"} <= families
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # no staging or work leftovers
    card_md = (folder / "model_card.md").read_text()
    assert "score given up" in card_md and titanic_artifact.chosen.name in card_md


def test_the_chosen_artifact_meets_the_budget_when_measured_again_from_disk(titanic_artifact, titanic):
    model = load_model(titanic_artifact.out_dir)
    report = measure_latency(model, titanic.dataset.X.iloc[:300])
    budgets = titanic_artifact.budgets
    assert report.p99_ms <= budgets.latency_ms
    assert artifact_size(titanic_artifact.out_dir) <= budgets.size_bytes


def test_the_model_card_matches_a_new_measurement(titanic_artifact, titanic, titanic_board):
    card = json.loads((titanic_artifact.out_dir / "model_card.json").read_text())
    model = load_model(titanic_artifact.out_dir)
    again = measure_latency(model, titanic.dataset.X.sample(300, random_state=1))
    assert 1 / NOISE < card["latency"]["p50_ms_batch1"] / again.p50_ms < NOISE
    assert 1 / NOISE < card["latency"]["throughput_rows_s_batch1000"] / again.throughput_rows_s < NOISE
    assert card["size"]["serving_bytes"] == artifact_size(titanic_artifact.out_dir)
    assert card["data"] == fingerprint(titanic.dataset)
    chosen = titanic_artifact.chosen
    assert card["validation"]["score"] == chosen.score == score_prediction(
        titanic.competition.metric, titanic.dataset.y, chosen.oof)
    assert card["leaderboard"]["score"] == titanic_board.score
    assert card["leaderboard"]["difference"] == pytest.approx(chosen.score - titanic_board.score)
    assert card["top_features"] and card["top_features"][0]["feature"] in titanic.dataset.X.columns
    assert card["versions"]["lightgbm"] and card["budgets"]["within_budget"]


def test_an_impossible_budget_fails_clearly_and_writes_nothing(titanic, titanic_board, tmp_path):
    out = tmp_path / "run" / "production"
    settings = fast_settings(latency_ms=1e-6, search_trials=2, distill=False)
    with pytest.raises(BudgetError) as failure:
        build_production_model(titanic.competition, titanic.dataset, [titanic_board], titanic_board.oof,
                               titanic_board.score, out, settings, time_budget_s=30)
    message = failure.value.message
    assert "No production candidate fits" in message and "nearest (frontier first)" in message
    assert "p99 latency <= 1e-06 ms" in message and "leaderboard submission is unaffected" in message
    assert "linear/C1" in message or "lightgbm/" in message
    assert failure.value.candidates and not out.exists() and list((tmp_path / "run").iterdir()) == []


def test_a_failed_export_leaves_no_half_written_folder(titanic, titanic_board, tmp_path, monkeypatch):
    import strategies.production.export as export_module

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(export_module, "plot_frontier", broken)
    out = tmp_path / "run" / "production"
    with pytest.raises(OSError, match="disk full"):
        build_production_model(titanic.competition, titanic.dataset, [titanic_board], titanic_board.oof,
                               titanic_board.score, out, fast_settings(search_trials=1, distill=False),
                               time_budget_s=30)
    assert not out.exists() and list((tmp_path / "run").iterdir()) == []


def test_score_given_up_is_measured_on_the_same_folds(titanic_artifact, titanic):
    """Every candidate's score is recomputed from its OOF predictions on the run's rows."""
    metric = titanic.competition.metric
    for candidate in titanic_artifact.candidates:
        if candidate.measured and candidate.oof is not None:
            assert len(candidate.oof) == len(titanic.dataset.y)
            assert candidate.score == pytest.approx(score_prediction(metric, titanic.dataset.y, candidate.oof))
    assert np.isfinite(titanic_artifact.card.leaderboard.score_given_up)


def _slow_on_export(monkeypatch, slow=None, times: int | None = None):
    """The export's own measurement reports p99 far over the budget for the candidates named in `slow`
    (every candidate when None), on their first `times` measurements (every one when None); returns the names
    measured, in order."""
    import dataclasses

    import strategies.production.export as export_module

    real = export_module.measure_latency
    measured_names: list[str] = []

    def measured(model, rows, **kwargs):
        report = real(model, rows, **kwargs)
        measured_names.append(model.name)
        hit = (slow is None or model.name in slow) and (times is None or measured_names.count(model.name) <= times)
        return dataclasses.replace(report, p99_ms=1e6) if hit else report

    monkeypatch.setattr(export_module, "measure_latency", measured)
    return measured_names


def test_a_model_that_misses_its_budget_on_the_export_measurement_gives_way_to_the_next(titanic, titanic_board,
                                                                                          tmp_path, monkeypatch):

    from strategies.production import ProductionSearch
    from strategies.production.select import ranked_within_budgets

    settings = fast_settings(search_trials=4, distill=False, blend_members=1)  # no blend joins after the ranking
    production = ProductionSearch(titanic.competition, titanic.dataset, tmp_path / "production", settings)
    try:
        production.floor()
        production.search(deadline=Deadline.after(20))
        ranked = ranked_within_budgets(production.candidates, production.budgets, titanic.competition.metric)
        assert len(ranked) >= 2
        tried = _slow_on_export(monkeypatch, {ranked[0].name})
        result = production.finish([titanic_board], titanic_board.oof, titanic_board.score,
                                   deadline=Deadline.after(30))
    finally:
        production.close()
    assert tried[:4] == [ranked[0].name] * 3 + [ranked[1].name]  # a miss is measured thrice: the median stands
    assert result.chosen.name == ranked[1].name
    result.write_card()  # the card is the caller's to write, once (a run adds the leaderboard model's figures)
    card = json.loads((tmp_path / "production" / "model_card.json").read_text())
    assert card["model"]["name"] == ranked[1].name and card["budgets"]["within_budget"]
    assert card["budgets"]["refused_on_export"][0].startswith(ranked[0].name)


def test_one_slow_export_measurement_does_not_throw_away_a_model_that_fits(titanic, titanic_board, tmp_path,
                                                                           monkeypatch):
    """A moment of load: the first measurement misses, the next two fit; the median stands and the card says so."""
    from strategies.production import ProductionSearch
    from strategies.production.select import ranked_within_budgets

    settings = fast_settings(search_trials=2, distill=False, blend_members=1)  # no blend joins after the ranking
    production = ProductionSearch(titanic.competition, titanic.dataset, tmp_path / "production", settings)
    try:
        production.floor()
        production.search(deadline=Deadline.after(15))
        best = ranked_within_budgets(production.candidates, production.budgets, titanic.competition.metric)[0]
        tried = _slow_on_export(monkeypatch, {best.name}, times=1)
        result = production.finish([titanic_board], titanic_board.oof, titanic_board.score,
                                   deadline=Deadline.after(30))
    finally:
        production.close()
    assert tried[:3] == [best.name] * 3 and result.chosen.name == best.name
    assert result.card.latency.p99_ms_batch1 < 1e6 and "median of 3" in result.card.latency.measured
    assert not result.card.budgets.refused_on_export


def test_when_every_candidate_misses_on_the_export_measurement_the_phase_fails_and_writes_nothing(
        titanic, titanic_board, tmp_path, monkeypatch):
    _slow_on_export(monkeypatch)
    out = tmp_path / "run" / "production"
    with pytest.raises(BudgetError) as failure:
        build_production_model(titanic.competition, titanic.dataset, [titanic_board], titanic_board.oof,
                               titanic_board.score, out, fast_settings(search_trials=2, distill=False),
                               time_budget_s=30)
    assert "on the export's measurement" in failure.value.message and "linear/C1" in failure.value.message
    assert failure.value.candidates and not out.exists() and list((tmp_path / "run").iterdir()) == []


def test_a_blend_of_production_candidates_costs_the_sum_of_their_latencies(titanic, tmp_path):
    from strategies.production import ProductionSearch

    production = ProductionSearch(titanic.competition, titanic.dataset, tmp_path / "production",
                                  fast_settings(distill=False))
    try:
        production.floor()
        members = [c for c in production.candidates if c.measured]
        names = [f"production/{c.name}" for c in members]
        blended = production.blend_latency(names)
        assert len(members) == 2 and blended is not None
        assert blended["p99_ms_batch1"] == pytest.approx(sum(c.latency.p99_ms for c in members))
        assert blended["throughput_rows_s_batch1000"] < min(c.latency.throughput_rows_s for c in members)
        assert production.blend_latency([*names, "autogluon/WeightedEnsemble_L2"]) is None
    finally:
        production.close()


def test_the_card_says_what_other_budgets_would_have_bought(titanic_artifact):
    card = json.loads((titanic_artifact.out_dir / "model_card.json").read_text())
    value = card["budget_value"]
    budgets = titanic_artifact.budgets
    by_scale = {(p["latency_ms_budget"] / budgets.latency_ms, p["size_bytes_budget"] / budgets.size_bytes): p
                for p in value["other_budgets"]}
    assert set(by_scale) == {(0.5, 1.0), (2.0, 1.0), (4.0, 1.0), (1.0, 0.5), (1.0, 2.0)}
    for (latency, size), point in by_scale.items():
        if point["name"] is None:
            continue
        assert point["p99_ms"] <= point["latency_ms_budget"] and point["size_bytes"] <= point["size_bytes_budget"]
        if latency >= 1 and size >= 1:  # more budget never ships worse than the chosen model
            assert point["gain"] >= 0
    for family, points in value["frontier"].items():
        assert points and all(p["family"] == family for p in points)
        latencies = [p["p99_ms"] for p in points]
        assert latencies == sorted(latencies)
    assert "## What the budgets bought" in (titanic_artifact.out_dir / "model_card.md").read_text()


def test_a_larger_student_doubles_the_best_shape_only_where_the_budgets_hold_it():
    from agent.runtime.latency import LatencyReport
    from strategies.production.candidate import Budgets, ProductionCandidate
    from strategies.production.families import larger_shape as _larger

    def shaped(p99_ms: float, size: int) -> ProductionCandidate:
        report = LatencyReport(p99_ms / 2, p99_ms, p99_ms / 2, 200, 1000, 1e5, 1.0, 1.0)
        return ProductionCandidate("lightgbm/t01-L15-T100", "lightgbm", latency=report, size_bytes=size,
                                   params={"num_leaves": 15, "n_estimators": 100, "learning_rate": 0.1},
                                   fit_seconds=1.0, oof_seconds=8.0)

    budgets = Budgets(1.0, 5_000_000)
    params, seconds = _larger(shaped(0.2, 100_000), budgets, max_trees=2000)
    assert (params["n_estimators"], params["learning_rate"], params["num_leaves"]) == (200, 0.05, 15)
    assert seconds == pytest.approx((2.0, 16.0))  # the twin's fit and out-of-fold seconds, grown as its trees
    assert _larger(shaped(0.2, 100_000), budgets, max_trees=150)[0]["n_estimators"] == 150
    assert _larger(shaped(0.45, 100_000), budgets, max_trees=2000) is None  # 0.9 ms: too near the budget
    assert _larger(shaped(0.2, 3_000_000), budgets, max_trees=2000) is None  # 6 MB
    assert _larger(shaped(0.2, 100_000), budgets, max_trees=100) is None  # no more trees allowed


def test_a_student_does_not_start_when_twice_its_twins_validation_would_not_end_in_time(titanic, tmp_path):
    """Its validation fits two models a fold where the twin fits one, and the served student also learns from the
    test rows (measured: a twin of 15.5 s whose student took 27.3 s, into the blend's time). A twin of 1 + 60 s
    with 100 s left: the twin alone would fit, the student would not."""
    import re

    from agent.runtime.latency import LatencyReport
    from strategies.production import families
    from strategies.production.candidate import Budgets, ProductionCandidate
    from strategies.production.problem import make_problem

    problem = make_problem(titanic.competition, titanic.dataset)
    twin = ProductionCandidate("lightgbm/t01-L15-T100", "lightgbm", score=0.85, status="measured",
                               latency=LatencyReport(0.1, 0.2, 0.1, 200, 1000, 1e5, 1.0, 1.0), size_bytes=100_000,
                               params={"num_leaves": 15, "n_estimators": 100, "learning_rate": 0.1},
                               fit_seconds=1.0, oof_seconds=60.0)
    teacher = np.full(len(problem.y), 0.4)
    out = families.students(problem, titanic.dataset, [twin], Budgets(1.0, 5_000_000), teacher,
                            np.full(len(titanic.dataset.X_test), 0.4), 0.0, tmp_path, None, 200,
                            Deadline.after(100), max_trees=100)
    assert [c.status for c in out] == ["skipped"], out
    expected = float(re.search(r"would take about (\d+) s", out[0].note).group(1))
    assert 121 <= expected <= 122  # twice the 60 s validation, and the fit on the training and test rows


def test_against_a_stacked_leaderboard_the_card_also_compares_with_the_best_model_that_does_not_stack(
        titanic, titanic_board, tmp_path):
    from dataclasses import replace

    metric = titanic.competition.metric
    flattering = metric.score(titanic.dataset.y, titanic_board.oof) + 0.05  # a stacked OOF score, too good
    stacked = replace(titanic_board, name="autogluon/LightGBM_BAG_L2", stacked=True, score=flattering)
    result = build_production_model(titanic.competition, titanic.dataset, [stacked, titanic_board],
                                    titanic_board.oof, flattering, tmp_path / "production",
                                    fast_settings(search_trials=1, distill=False), time_budget_s=30,
                                    leaderboard_test=titanic_board.test, leaderboard_stacked=True)
    board = result.card.leaderboard
    assert board.unstacked["name"] == titanic_board.name and board.unstacked["score"] == titanic_board.score
    assert board.unstacked["score_given_up"] == pytest.approx(
        metric.signed(titanic_board.score) - metric.signed(result.chosen.score))
    assert board.score_given_up - board.unstacked["score_given_up"] == pytest.approx(0.05)
    assert "does not stack" in (tmp_path / "production" / "model_card.md").read_text()



@pytest.mark.parametrize("slow_measurements, fits", [(1, True), (2, False)])
def test_a_remeasurement_that_disagrees_on_the_budget_is_settled_by_a_third(titanic, tmp_path, monkeypatch,
                                                                            slow_measurements, fits):
    """One slow re-measurement of a model that fit is outvoted by the next; two in a row stand."""
    import dataclasses

    import strategies.production.measure as measure_module
    from strategies.production import ProductionSearch
    from strategies.production.measure import remeasure

    production = ProductionSearch(titanic.competition, titanic.dataset, tmp_path / "production",
                                  fast_settings(search_trials=1, distill=False, blend_members=1))
    try:
        production.floor()
        candidate = next(c for c in production.candidates if c.fits(production.budgets))
        real, seen = measure_module.measure_latency, []

        def measured(model, rows, **kwargs):
            seen.append(model.name)
            report = real(model, rows, **kwargs)
            return dataclasses.replace(report, p99_ms=1e6) if len(seen) <= slow_measurements else report

        monkeypatch.setattr(measure_module, "measure_latency", measured)
        remeasure(candidate, production.rows, 200, latency_ms=production.budgets.latency_ms)
        assert len(seen) == 2 and candidate.fits(production.budgets) == fits
        assert len(candidate.p99_ms_measured) == 3 and candidate.p99_ms_measured[1] == 1e6  # each one recorded
        remeasure(candidate, production.rows, 200)  # without the budget, the newest measurement stands
        assert len(seen) == 3 and candidate.fits(production.budgets)
        assert candidate.to_dict()["p99_ms_measured"][-1] == round(candidate.latency.p99_ms, 6)
    finally:
        production.close()


def test_every_measurement_of_a_model_counts_when_they_disagree(titanic, tmp_path):
    """A model measured over the budget twice when it was made (a blend in the tail) and then inside it twice is
    not admitted by the last three measurements: the median of all four stands (the upper of the middle two)."""
    import dataclasses

    from strategies.production import ProductionSearch
    from strategies.production.measure import remeasure

    production = ProductionSearch(titanic.competition, titanic.dataset, tmp_path / "production",
                                  fast_settings(search_trials=1, distill=False, blend_members=1))
    try:
        production.floor()
        candidate = next(c for c in production.candidates if c.fits(production.budgets))
        slow = dataclasses.replace(candidate.latency, p99_ms=10 * production.budgets.latency_ms)
        candidate.reports.clear()
        candidate.measure(slow)
        candidate.measure(dataclasses.replace(slow, p99_ms=2 * production.budgets.latency_ms))
        remeasure(candidate, production.rows, 200, latency_ms=production.budgets.latency_ms)
        assert len(candidate.p99_ms_measured) == 4  # a fast one disagreed: a third was taken
        assert max(candidate.p99_ms_measured[2:]) <= production.budgets.latency_ms  # both fit, alone they'd admit it
        assert candidate.latency.p99_ms == 2 * production.budgets.latency_ms and not candidate.fits(production.budgets)
    finally:
        production.close()
