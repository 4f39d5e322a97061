"""One ask/tell runner for every Optuna study podium runs: trials as sequences of jobs on an executor.

A trial is a generator: it yields the jobs it needs one after the other (a fold each for the leaderboard's
studies, one whole fit for the production study), receives each job's result, and tells its study itself. A
job that raised comes back into the trial as `JobFailed`; a job that stopped itself at the deadline, or was
still running well past it, makes the trial hear `Cancelled`. The runner keeps at most `slots` jobs in flight
(one per trial), offers free slots to the studies in turn, and starts nothing once the deadline has passed.
The executor is the RayExecutor (jobs as Ray tasks, side by side) or the LocalExecutor (in this process, one
at a time).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

from agent.deadline import Deadline, PastDeadline
from agent.executor import Executor

log = logging.getLogger("podium.trials")


@dataclass(frozen=True)
class Job:
    """One unit of a trial's work: a function and its arguments, with the CPUs it declares."""

    fn: Callable[..., Any]
    args: tuple
    name: str
    num_cpus: float = 1
    max_retries: int = 0


class JobFailed(Exception):
    """The trial's job raised; `error` is what it raised."""

    def __init__(self, error: BaseException):
        super().__init__(str(error))
        self.error = error


class Cancelled(Exception):
    """The deadline passed while the trial's job was running."""


TrialSteps = Generator[Job, Any, None]
Starter = Callable[[], TrialSteps | None]  # a new trial of one study, or None when it should start none now
STOP_GRACE = 5.0  # seconds past the deadline for the jobs in flight to stop themselves before they are cancelled


def run_trials(executor: Executor, starters: list[Starter], slots: int, deadline: Deadline) -> int:
    """Run trials until no study starts another and none runs, or `deadline` passes.

    Jobs are given the deadline and stop themselves at it (PastDeadline; the trial hears `Cancelled`): the
    runner waits STOP_GRACE seconds past the deadline for them, and cancels only those still running then.
    Cancelling a job from here races its completion inside Ray (a cancel arriving as the job's reply is
    processed aborted Ray's core worker, and the run with it: docs/benchmarks.md), so it is the last resort.
    Returns how many trials were started.
    """
    active: dict[Any, TrialSteps] = {}  # the job in flight -> its trial
    started = turn = 0

    def advance(steps: TrialSteps, result: Any = None, error: BaseException | None = None) -> None:
        try:
            job = steps.throw(error) if error is not None else steps.send(result)
        except StopIteration:
            return
        if deadline.passed():  # nothing new starts past the deadline
            _cancel(steps)
            return
        active[executor.submit(job.fn, *job.args, name=job.name, num_cpus=job.num_cpus,
                               max_retries=job.max_retries)] = steps

    def start_one() -> bool:
        nonlocal turn, started
        for offset in range(len(starters)):
            index = (turn + offset) % len(starters)
            steps = starters[index]()
            if steps is not None:
                turn, started = index + 1, started + 1
                advance(steps)
                return True
        return False

    while True:
        while len(active) < slots and not deadline.passed() and start_one():
            pass
        if not active:
            return started
        end = deadline if not deadline.passed() else deadline + STOP_GRACE
        done, _ = executor.wait(list(active), timeout=max(0.1, end.remaining()))
        if not done:
            if not (deadline + STOP_GRACE).passed():
                continue  # the deadline has just passed: the jobs are stopping themselves
            log.warning("Cancelling %d job(s) still running %.0f s past the deadline: %s", len(active), STOP_GRACE,
                        ", ".join(task.name for task in active))
            for task, steps in active.items():
                executor.cancel(task)
                _cancel(steps)
            return started
        for task in done:
            steps = active.pop(task)
            try:
                result = executor.result(task)
            except PastDeadline:
                _cancel(steps)
                continue
            except Exception as error:  # noqa: BLE001 - the trial decides what a failed job means
                advance(steps, error=JobFailed(error))
                continue
            advance(steps, result)


def _cancel(steps: TrialSteps) -> None:
    """Tell a trial its job was cancelled; whatever it would start next is not started."""
    try:
        steps.throw(Cancelled())
    except (StopIteration, Cancelled):
        return
    steps.close()
