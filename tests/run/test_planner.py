"""The run's time plan, driven by a fake clock and a fake executor: deadlines hold, overruns take nobody's
guaranteed time, and the plan goes into the manifest."""

from __future__ import annotations

import json

import numpy as np
import pytest

from agent.config import load_settings
from agent.errors import ConfigError
from agent.run.planner import (
    AUTOGLUON,
    CHECKS,
    FINAL,
    FIRST_SUBMISSION,
    LEADERBOARD_FIGURES,
    LEADERBOARD_PREDICT,
    OPTUNA,
    OVERRUN_MAX,
    PREDICT_MAX_SECONDS,
    PREDICT_MIN_SECONDS,
    PRODUCTION_FINAL,
    PRODUCTION_SEARCH,
    autogluon_limits,
    make_plan,
    predict_reserve,
)


class FakeClock:
    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def plan_for(limit: float = 240, clock: FakeClock | None = None, elapsed: float = 5.0):
    clock = clock or FakeClock()
    origin = clock.now
    clock.advance(elapsed)  # fetch, load, Ray start and inference happen before the plan is made
    return make_plan(limit, 2, production_share=0.15, origin=origin, clock=clock), clock


@pytest.mark.parametrize("limit", [60, 240, 600, 3600])
def test_every_piece_ends_inside_the_limit_in_flow_order(limit):
    plan, _ = plan_for(limit)
    p = plan.pieces
    assert all(0 <= piece.start <= piece.deadline <= limit for piece in p.values())
    assert p[CHECKS].deadline <= p[PRODUCTION_SEARCH].start
    assert p[PRODUCTION_SEARCH].deadline <= p[AUTOGLUON].start  # cheap and unique work first
    assert p[AUTOGLUON].deadline == p[OPTUNA].deadline <= p[LEADERBOARD_PREDICT].start
    assert p[LEADERBOARD_PREDICT].deadline <= p[PRODUCTION_FINAL].start  # students need the teacher
    assert p[PRODUCTION_FINAL].deadline <= p[FINAL].start
    assert p[FIRST_SUBMISSION].deadline <= min(60, 0.25 * limit)
    assert p[AUTOGLUON].seconds > (0.4 if limit < 120 else 0.6) * limit  # AutoGluon still gets most of it


@pytest.mark.parametrize("limit", [60, 240, 900, 3600])
def test_the_production_model_keeps_its_share_of_the_limit(limit):
    plan, _ = plan_for(limit)
    assert plan.pieces[PRODUCTION_SEARCH].seconds + plan.pieces[PRODUCTION_FINAL].seconds >= 0.15 * limit - 1e-9


def test_a_piece_that_overruns_takes_from_nobodys_guaranteed_time():
    plan, clock = plan_for(240)
    tail = plan.pieces[PRODUCTION_FINAL].seconds
    plan.begin(AUTOGLUON)
    clock.advance(plan.seconds_left(AUTOGLUON) + 30)  # AutoGluon ignores its deadline by 30 s
    plan.end(AUTOGLUON)
    assert plan.pieces[AUTOGLUON].actual["status"] == "overran"
    plan.begin(PRODUCTION_FINAL)
    assert plan.seconds_left(PRODUCTION_FINAL) == pytest.approx(tail, abs=0.01)  # its whole duration, though late
    assert plan.seconds_left(LEADERBOARD_PREDICT) < 0  # a piece without a guarantee keeps its deadline


def test_a_piece_anchored_at_its_start_gets_its_duration_not_more_when_started_early():
    plan, clock = plan_for(240)
    search = plan.pieces[PRODUCTION_SEARCH].seconds
    with plan.run(CHECKS):
        clock.advance(0.5)  # the checks end long before their deadline
    plan.begin(PRODUCTION_SEARCH)
    assert plan.seconds_left(PRODUCTION_SEARCH) == pytest.approx(search, abs=0.01)
    clock.advance(search - 1)
    plan.end(PRODUCTION_SEARCH)
    assert plan.pieces[PRODUCTION_SEARCH].actual["status"] == "done"
    # what the early pieces left goes to AutoGluon: its deadline is fixed, its start came earlier
    assert plan.seconds_left(AUTOGLUON) > plan.pieces[AUTOGLUON].seconds


@pytest.mark.parametrize("limit", [120, 300, 900, 3600])
def test_autogluon_limits_leave_its_overrun_and_the_candidates_before_its_deadline(limit):
    plan, _ = plan_for(limit)
    limits = autogluon_limits(plan)
    left = plan.seconds_left(AUTOGLUON)
    assert limits.time_limit < limits.hard_stop < left - plan.autogluon_predict_seconds
    assert limits.hard_stop - limits.time_limit <= OVERRUN_MAX  # one model's overrun, not a share of the fit
    # the margins are margins, not a share of the run: they shrink as a share when the fit grows
    assert left - limits.time_limit < (0.2 if limit <= 300 else 0.12 if limit <= 900 else 0.05) * left


def test_the_plan_is_recorded_planned_against_actual_as_json():
    plan, clock = plan_for(240)
    with plan.run(CHECKS):
        clock.advance(2)
    plan.skip(OPTUNA, "no time")
    with pytest.raises(RuntimeError), plan.run(PRODUCTION_SEARCH):
        raise RuntimeError("boom")
    record = json.loads(json.dumps(plan.to_dict()))
    pieces = {p["name"]: p for p in record["pieces"]}
    assert record["time_limit"] == 240 and record["planned_at"] == pytest.approx(5.0)
    assert pieces[CHECKS]["actual"]["end"] - pieces[CHECKS]["actual"]["start"] == pytest.approx(2)
    assert pieces[OPTUNA]["actual"] == {"status": "skipped", "note": "no time"}
    assert pieces[PRODUCTION_SEARCH]["actual"]["status"] == "failed"
    assert pieces[LEADERBOARD_FIGURES]["guaranteed"] and not pieces[AUTOGLUON]["guaranteed"]


def test_the_predict_reserve_is_a_few_seconds_and_a_configured_share_is_a_share_of_the_piece():
    short, medium, long = (predict_reserve("auto", piece) for piece in (20, 150, 3000))
    assert short == PREDICT_MIN_SECONDS < medium < long == PREDICT_MAX_SECONDS
    assert predict_reserve(0.12, 1000) == 120
    assert predict_reserve(0.0, 1000) == PREDICT_MIN_SECONDS


@pytest.mark.parametrize("value", [0.95, -0.1, "sometimes"])
def test_a_bad_reserve_is_a_configuration_error_naming_the_key(value):
    with pytest.raises(ConfigError) as raised:
        load_settings(("my.yaml", {"leaderboard": {"predict_reserve": value}}))
    assert "leaderboard.predict_reserve" in str(raised.value) and "my.yaml" in str(raised.value)


# --- the leaderboard phase on the plan, with a fake executor ---------------------------------------------

class FakeTimeout(Exception):
    """What ray.get raises when its timeout passes (GetTimeoutError's name ends in Timeout... Error)."""


FakeTimeout.__name__ = "GetTimeoutError"


class FakeExecutor:
    """Tasks take the fake clock's seconds given in `durations` by task name; result() waits at most `timeout`."""

    def __init__(self, clock: FakeClock, durations: dict[str, float]):
        self.clock, self.durations, self.cancelled = clock, durations, []

    def submit(self, fn, *args, name=None, **kwargs):
        return {"name": name, "fn": fn, "args": args}

    def result(self, task, timeout=None):
        seconds = self.durations[task["name"]]
        if timeout is not None and seconds > timeout:
            self.clock.advance(timeout)
            raise FakeTimeout(f"{task['name']} timed out")
        self.clock.advance(seconds)
        return task["fn"](*task["args"])

    def cancel(self, task):
        self.cancelled.append(task["name"])


def test_an_autogluon_fit_past_every_deadline_is_cancelled_and_the_blend_goes_on(tmp_path):
    from agent.competition.dataset import build_dataset
    from agent.competition.inference import infer_competition
    from agent.competition.metrics import score_prediction
    from agent.competition.tables import CompetitionData
    from agent.run.search import RETURN_GRACE, fit_leaderboard
    from strategies.base import Candidate
    from tests.conftest import make_tables

    frame = make_tables(200)
    train = frame.iloc[:150].reset_index(drop=True)
    test = frame.iloc[150:].drop(columns="target").reset_index(drop=True)
    data = CompetitionData(train=train, test=test, sample_submission=test[["id"]].assign(target=0.0))
    competition = infer_competition("c", data, {"evaluation_metric": "Mean Absolute Error"})
    dataset = build_dataset(competition, data, 5, 0)
    plan, clock = plan_for(240)
    executor = FakeExecutor(clock, {"autogluon-fit": 10_000.0})
    rng = np.random.default_rng(0)
    early = [Candidate(f"production/{i}", "production", dataset.y + rng.normal(0, 1 + i, len(dataset.y)),
                       np.full(len(test), float(i)), 0.0, 1.0) for i in range(2)]
    for c in early:
        c.score = score_prediction(competition.metric, dataset.y, c.oof)
    settings = load_settings()
    result = fit_leaderboard(competition, dataset, settings, executor, tmp_path, plan, 2, 1.0, extra=early)
    assert executor.cancelled == ["autogluon-fit"]
    # cancelled 2 s after its piece ends (nothing on disk to recover), before the predict deadline
    pieces = plan.pieces
    assert plan.now() <= pieces[AUTOGLUON].deadline + RETURN_GRACE + 1e-6 < pieces[LEADERBOARD_PREDICT].deadline
    assert "cancelled" in plan.pieces[AUTOGLUON].actual["note"]
    assert plan.pieces[OPTUNA].actual["status"] == "skipped" and "no time" in plan.pieces[OPTUNA].actual["note"]
    assert all(s["ran"] is False and "no time" in s["why"] for s in result.studies)
    assert set(result.ensemble.weights) <= {"production/0", "production/1"}
    assert result.ensemble.test is not None and len(result.ensemble.test) == len(test)
    plan.begin(PRODUCTION_FINAL)  # what comes after still has all of its time
    assert plan.seconds_left(PRODUCTION_FINAL) >= plan.pieces[PRODUCTION_FINAL].seconds - 0.01  # the tail untouched


def test_a_share_below_one_gives_the_optuna_studies_the_end_of_the_fitting_window():
    clock = FakeClock()
    origin = clock.now
    clock.advance(5)
    plan = make_plan(600, 2, production_share=0.15, autogluon_share=0.75, origin=origin, clock=clock)
    autogluon, optuna = plan.pieces[AUTOGLUON], plan.pieces[OPTUNA]
    assert autogluon.start == optuna.start and autogluon.deadline < optuna.deadline
    assert autogluon.seconds == pytest.approx(0.75 * optuna.seconds)


def test_the_leaderboard_figures_end_before_the_production_tail_when_they_can():
    """Started as AutoGluon's fit lands, the figures task (its importance runs to its deadline) is given the time
    until the leaderboard's planned end, so the production tail measures on quiet cores; started too late for
    that, it keeps 0.8 of its own piece."""
    from agent.run.pipeline import MIN_FIGURES_SECONDS, figures_seconds

    plan, clock = plan_for(600)
    tail = plan.pieces[LEADERBOARD_PREDICT].deadline
    clock.advance(tail - 47 - plan.now())  # AutoGluon's fit on disk 47 s before the leaderboard's planned end
    plan.begin(LEADERBOARD_FIGURES)
    assert figures_seconds(plan) == pytest.approx(47)
    clock.advance(47 - MIN_FIGURES_SECONDS / 2)  # later: less than MIN_FIGURES_SECONDS before the tail
    assert figures_seconds(plan) == pytest.approx(0.8 * plan.seconds_left(LEADERBOARD_FIGURES))
    assert figures_seconds(plan) > MIN_FIGURES_SECONDS
