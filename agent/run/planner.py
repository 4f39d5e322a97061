"""The run's time plan: one owner for every deadline and every CPU.

The plan is made once the data's size is known. Cheap work and work only podium does come first (the
linear floor and the compact LightGBM search give the first submission and the production candidates);
AutoGluon and the Optuna studies fill the middle; the tail (the leaderboard model's figures, the
production students and export, the final writes) is planned back from the limit. The pieces podium must
not lose are *guaranteed*: whatever ran late before them, each gets its whole duration, so an overrun
elsewhere shows up as a late finish, never as a starved production model. Every other module asks the plan
for its deadline; none computes a share of the time.

Times in the plan are seconds since the run started (the clock's zero); `deadline()` turns them into the
`Deadline` every other module takes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

import agent.deadline as deadlines
from agent.deadline import Deadline

log = logging.getLogger("podium.planner")
Clock = Callable[[], float]

LOAD, CHECKS, PRODUCTION_SEARCH, FIRST_SUBMISSION = "load", "checks", "production_search", "first_submission"
AUTOGLUON, OPTUNA, LEADERBOARD_PREDICT = "autogluon", "optuna", "leaderboard_predict"
LEADERBOARD_FIGURES, PRODUCTION_FINAL, FINAL = "leaderboard_figures", "production_final", "final"

# The shortest time limit a run holds within 1.1x: starting Ray (5-12 s on a busy 2-CPU machine), the data
# checks, the production floor and export, the report take ~17-24 s whatever the limit (titanic, measured in
# docs/running.md); a shorter limit is refused rather than overrun.
MIN_TIME_LIMIT = 25.0

# Reading the tables (a database query may be slow): before the plan is made, it must end by this share of the
# limit, at least LOAD_MIN seconds; a read still running then is stopped (the server's statement_timeout, an
# interrupt) with a clear error rather than eat the time of everything after it.
LOAD_SHARE, LOAD_MIN = 0.3, 5.0
# Shares of the limit and floors, in seconds (docs/time-plan.md gives the reasons).
CHECKS_SHARE, CHECKS_MIN, CHECKS_MAX = 0.05, 2.0, 30.0
FIRST_SUBMISSION_SHARE, FIRST_SUBMISSION_MAX = 0.25, 60.0
SEARCH_SHARE_OF_PRODUCTION = 0.6   # the compact search, before AutoGluon; the rest is the tail after it
# Floors in seconds, each at most a share of a very short limit: the export alone (importance, profile,
# plot) takes seconds.
SEARCH_MIN, SEARCH_MIN_SHARE = 4.0, 0.1
TAIL_MIN, TAIL_MIN_SHARE = 10.0, 0.2
FINAL_SECONDS, FINAL_SHARE, FINAL_MAX = 4.0, 0.02, 10.0  # the report and manifest: seconds, whatever the limit
# AutoGluon's task must hand back its candidates by its deadline. Before that: turning the fit into
# candidates (POSTFIT), and before that the fit's own hard stop, where podium's callback ends it between
# models. AutoGluon's time_limit leaves a margin before the hard stop for its overrun (its last model and
# weighted ensemble, saving) and for starting the Ray task (DISPATCH). The overrun is one model's, not a share
# of the fit: capped, so that a long fit does not keep minutes idle.
POSTFIT_SECONDS, POSTFIT_SHARE = 2.0, 0.02
OVERRUN_SECONDS, OVERRUN_SHARE, OVERRUN_MAX = 2.0, 0.05, 20.0
# The chosen AutoGluon model's single-row latency, timed in its task while it is in memory (for the card).
LATENCY_SECONDS, LATENCY_SHARE, LATENCY_MAX = 1.0, 0.02, 6.0
# AutoGluon's models predict the test set as they are fitted; after the fit only its best model predicts again
# (AutoGluon may calibrate it), mostly from its inputs' predictions: a few seconds, whatever the test set.
PREDICT_SHARE, PREDICT_MIN_SECONDS, PREDICT_MAX_SECONDS = 0.05, 3.0, 12.0
# After the fitting window: the blend, and test predictions of any chosen model AutoGluon's best did not use.
BLEND_SECONDS, BLEND_SHARE = 3.0, 0.02


@dataclass
class Piece:
    """One piece of work: earliest start and deadline (seconds since the run started), CPUs, and what happened."""

    name: str
    start: float
    deadline: float
    cpus: int
    guaranteed: bool = False  # gets its whole duration even when it starts late
    anchored: str = "end"     # "end": the deadline is fixed; "start": the duration counts from the actual start
    actual: dict[str, Any] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return self.deadline - self.start


def predict_reserve(configured: str | float, piece_seconds: float) -> float:
    """Seconds kept in AutoGluon's piece, after its fit, for its best model's test predictions.

    `auto`: a share of the piece within a few seconds (the models predicted the test set as they were fitted);
    a number: that share of the piece, at least PREDICT_MIN_SECONDS.
    """
    if configured == "auto":
        return min(PREDICT_MAX_SECONDS, max(PREDICT_MIN_SECONDS, PREDICT_SHARE * piece_seconds))
    return max(PREDICT_MIN_SECONDS, float(configured) * piece_seconds)


@dataclass
class Plan:
    """Deadlines and CPUs of every piece of one run; records planned against actual."""

    time_limit: float
    cpus: int
    pieces: dict[str, Piece]
    origin: float               # the clock's value when the run started
    clock: Clock = deadlines.now
    planned_at: float = 0.0
    autogluon_predict_seconds: float = 0.0  # kept inside AutoGluon's piece for its test predictions

    def now(self) -> float:
        """Seconds since the run started."""
        return self.clock() - self.origin

    def deadline(self, name: str) -> Deadline:
        """The piece's deadline, as the one Deadline every other module takes (agent/deadline.py)."""
        return Deadline.after(self.seconds_left(name))

    def seconds_left(self, name: str) -> float:
        return self._deadline(self.pieces[name]) - self.now()

    def _deadline(self, piece: Piece) -> float:
        begun = piece.actual.get("start")
        if begun is None:
            return piece.deadline
        if piece.anchored == "start":
            return begun + piece.seconds
        return max(piece.deadline, begun + piece.seconds) if piece.guaranteed else piece.deadline

    def begin(self, name: str) -> Piece:
        piece = self.pieces[name]
        piece.actual = {"start": round(self.now(), 3)}
        piece.actual["deadline"] = round(self._deadline(piece), 3)
        return piece

    def end(self, name: str, failed: bool = False) -> None:
        """Record the end; a piece that ends past its deadline is marked `overran`."""
        piece = self.pieces[name]
        end = self.now()
        piece.actual["end"] = round(end, 3)
        late = end - piece.actual.get("deadline", piece.deadline)
        piece.actual["status"] = "failed" if failed else "overran" if late > 0.5 else "done"
        if late > 0.5:
            log.warning("%s ended %.1f s past its deadline", name, late)

    @contextmanager
    def run(self, name: str):
        """Record the piece's actual start and end around the work."""
        piece = self.begin(name)
        try:
            yield piece
        except BaseException:
            self.end(name, failed=True)
            raise
        self.end(name)

    def skip(self, name: str, why: str) -> None:
        """A piece that did not run, and why (recorded in the manifest)."""
        self.pieces[name].actual = {"status": "skipped", "note": why}

    def note(self, name: str, text: str) -> None:
        self.pieces[name].actual["note"] = text

    def to_dict(self) -> dict[str, Any]:
        pieces = []
        for piece in self.pieces.values():
            item = asdict(piece)
            item.update(start=round(piece.start, 3), deadline=round(piece.deadline, 3))
            pieces.append(item)
        return {"time_limit": self.time_limit, "cpus": self.cpus, "planned_at": round(self.planned_at, 3),
                "autogluon_predict_seconds": round(self.autogluon_predict_seconds, 3), "pieces": pieces}


def load_seconds(time_limit: float) -> float:
    """Seconds after the run's start by which its tables must be read (fetching included)."""
    return max(LOAD_MIN, LOAD_SHARE * float(time_limit))


def make_plan(time_limit: float, cpus: int, *, production_share: float, predict_share: str | float = "auto",
              autogluon_share: float = 1.0, origin: float | None = None, clock: Clock = deadlines.now,
              loaded: dict[str, Any] | None = None) -> Plan:
    """The plan from now (`clock()`; the run started at `origin`) to the limit.

    AutoGluon gets `autogluon_share` of the fitting window; the Optuna studies run until its end. `loaded`: how
    reading the tables went (it comes before the plan), recorded as the `load` piece.
    """
    origin = clock() if origin is None else origin
    now = clock() - origin
    limit = float(time_limit)
    cpus = max(1, int(cpus))
    final = min(FINAL_MAX, FINAL_SECONDS + FINAL_SHARE * limit)
    production = production_share * limit
    search = max(min(SEARCH_MIN, SEARCH_MIN_SHARE * limit), SEARCH_SHARE_OF_PRODUCTION * production)
    tail = max(min(TAIL_MIN, TAIL_MIN_SHARE * limit), production - SEARCH_SHARE_OF_PRODUCTION * production)
    checks = max(CHECKS_MIN, min(CHECKS_MAX, CHECKS_SHARE * limit))
    first = min(FIRST_SUBMISSION_MAX, FIRST_SUBMISSION_SHARE * limit)

    tail_start = limit - final - tail
    search_start = now + checks
    autogluon_start = search_start + search
    blend = BLEND_SECONDS + BLEND_SHARE * max(0.0, tail_start - autogluon_start)
    fit_end = tail_start - blend
    autogluon_end = autogluon_start + autogluon_share * max(0.0, fit_end - autogluon_start)
    predict = predict_reserve(predict_share, max(0.0, autogluon_end - autogluon_start))
    pieces = [
        Piece(LOAD, 0.0, load_seconds(limit), 1, actual=dict(loaded or {})),
        Piece(CHECKS, now, now + checks, 1, anchored="start"),
        Piece(PRODUCTION_SEARCH, search_start, autogluon_start, cpus, guaranteed=True, anchored="start"),
        Piece(FIRST_SUBMISSION, now, max(now + 1.0, first), cpus),
        Piece(AUTOGLUON, autogluon_start, autogluon_end, cpus),
        Piece(OPTUNA, autogluon_start, fit_end, cpus),
        Piece(LEADERBOARD_PREDICT, fit_end, tail_start, cpus),
        Piece(LEADERBOARD_FIGURES, tail_start, tail_start + tail, 1, guaranteed=True),  # beside the tail
        Piece(PRODUCTION_FINAL, tail_start, tail_start + tail, max(1, cpus - 1), guaranteed=True),
        Piece(FINAL, limit - final, limit, 1, guaranteed=True),
    ]
    plan = Plan(limit, cpus, {p.name: p for p in pieces}, origin, clock, planned_at=now,
                autogluon_predict_seconds=predict)
    log.info("Plan for %.0f s on %d CPUs: %s", limit, cpus,
             ", ".join(f"{p.name} {p.start:.0f}-{p.deadline:.0f}" for p in pieces))
    return plan


@dataclass(frozen=True)
class AutoGluonLimits:
    """AutoGluon's own time_limit and the hard stop of its fit, in seconds from now."""

    time_limit: float
    hard_stop: float


def autogluon_limits(plan: Plan) -> AutoGluonLimits:
    """From the time left to AutoGluon's deadline: the hard stop leaves time to build the candidates, predict
    the test set with the best model and time it, the time_limit leaves AutoGluon's overrun and the task's
    start before the hard stop (at least 5 s)."""
    left = max(0.0, plan.seconds_left(AUTOGLUON))
    latency = min(LATENCY_MAX, LATENCY_SECONDS + LATENCY_SHARE * left)
    hard_stop = left - POSTFIT_SECONDS - POSTFIT_SHARE * left - plan.autogluon_predict_seconds - latency
    return AutoGluonLimits(time_limit=max(5.0, hard_stop - min(OVERRUN_MAX, OVERRUN_SECONDS + OVERRUN_SHARE * left)),
                           hard_stop=hard_stop)
