"""One clock for every deadline: a Deadline means the same moment in every process that receives it."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

import agent.deadline as deadlines
from agent.deadline import Deadline


@pytest.fixture
def clocks(monkeypatch):
    """Both clocks driven by hand: the monotonic one starts at 100, the wall clock at 1,000,000."""
    now = {"mono": 100.0, "wall": 1_000_000.0}
    monkeypatch.setattr(deadlines, "clock", lambda: now["mono"])
    monkeypatch.setattr(deadlines, "wall_clock", lambda: now["wall"])

    def advance(seconds: float) -> None:
        now["mono"] += seconds
        now["wall"] += seconds

    return now, advance


def test_a_deadline_counts_down_and_passes(clocks):
    _, advance = clocks
    deadline = Deadline.after(10)
    assert deadline.remaining() == 10 and not deadline.passed()
    advance(10)
    assert deadline.remaining() == 0 and deadline.passed()
    assert (deadline - 4).remaining() == -4 and min(deadline, deadline - 4) == deadline - 4
    assert deadline.sooner(None) is deadline and deadline.sooner(deadline - 1) == deadline - 1


def test_on_its_own_host_a_pickled_deadline_arrives_exactly_as_it_left(clocks):
    _, advance = clocks
    deadline = Deadline.after(30)
    sent = pickle.dumps(deadline)
    advance(12)  # the task waited in a queue: the deadline does not move with it
    arrived = pickle.loads(sent)
    assert arrived == deadline and arrived.remaining() == 18


def test_on_another_host_a_pickled_deadline_is_the_same_wall_clock_moment(clocks, monkeypatch):
    now, advance = clocks
    sent = pickle.dumps(Deadline.after(30))
    monkeypatch.setattr(deadlines, "HOST", "another machine")
    now["mono"] = 5.0  # that host's monotonic clock has another zero
    advance(12)
    arrived = pickle.loads(sent)
    assert arrived.remaining() == pytest.approx(18) and arrived.at == pytest.approx(5.0 + 12 + 18)


def test_a_process_start_counts_the_seconds_before_the_clock_was_first_read():
    """A command's time limit counts from its process's start: the seconds before `process_started` is called
    (the interpreter, imports; here a sleep) are already spent."""
    import subprocess
    import sys

    code = ("import time; time.sleep(1.5); from agent.deadline import now, process_started; "
            "print(now() - process_started())")
    spent = float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                 cwd=Path(__file__).resolve().parents[1]).stdout)
    assert 1.5 <= spent < 10
