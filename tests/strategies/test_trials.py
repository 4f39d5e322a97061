"""The one ask/tell runner: slots, turns between studies, failed jobs, the deadline."""

from __future__ import annotations

import time

from agent.deadline import Deadline, PastDeadline
from agent.executor import LocalExecutor, Task
from strategies.trials import STOP_GRACE, Cancelled, Job, JobFailed, run_trials


class Stepped:
    """Tasks finish one per wait(), oldest first; `hang` names tasks that never finish. Records what ran."""

    def __init__(self, hang: set[str] = frozenset()):
        self.hang, self.in_flight, self.most, self.order, self.cancelled = hang, [], 0, [], []

    def submit(self, fn, *args, name=None, **kwargs):
        task = Task(name, (fn, args))
        self.in_flight.append(task)
        self.most = max(self.most, len(self.in_flight))
        return task

    def wait(self, tasks, timeout=None):
        ready = [t for t in self.in_flight if t.name not in self.hang]
        if not ready:
            time.sleep(timeout or 0)
            return [], list(tasks)
        self.in_flight.remove(ready[0])
        self.order.append(ready[0].name)
        return [ready[0]], [t for t in tasks if t is not ready[0]]

    def result(self, task, timeout=None):
        fn, args = task.ref
        return fn(*args)

    def cancel(self, task):
        self.cancelled.append(task.name)


def _study(label: str, trials: int, jobs_per_trial: int, told: list, fail_job: str | None = None):
    started = []

    def steps(number: int):
        results = []
        for j in range(jobs_per_trial):
            name = f"{label}{number}.{j}"
            try:
                results.append((yield Job(_boom if name == fail_job else _echo, (name,), name=name)))
            except JobFailed as failed:
                told.append((label, number, "fail", str(failed.error)))
                return
            except Cancelled:
                told.append((label, number, "cancelled"))
                return
        told.append((label, number, "done", results))

    def start():
        if len(started) >= trials:
            return None
        started.append(len(started))
        return steps(started[-1])

    return start


def _echo(name):
    return name


def _boom(name):
    raise ValueError(f"{name} broke")


def test_slots_bound_the_jobs_in_flight_and_studies_take_turns():
    executor, told = Stepped(), []
    started = run_trials(executor, [_study("a", 3, 2, told), _study("b", 3, 2, told)], slots=2,
                         deadline=Deadline.after(30))
    assert started == 6 and executor.most == 2
    assert executor.order[:2] == ["a0.0", "b0.0"]  # the first free slots went to each study in turn
    done = sorted((label, number, results) for label, number, kind, *results in told if kind == "done")
    assert done == [(s, n, [[f"{s}{n}.0", f"{s}{n}.1"]]) for s in "ab" for n in range(3)]  # every job's result


def test_a_failed_job_fails_its_trial_only():
    told = []
    run_trials(LocalExecutor(), [_study("a", 3, 2, told, fail_job="a1.1")], slots=1,
               deadline=Deadline.after(30))
    assert ("a", 1, "fail", "a1.1 broke") in told
    assert [t[:3] for t in told if t[2] == "done"] == [("a", 0, "done"), ("a", 2, "done")]


def test_a_job_still_running_past_the_deadline_and_its_grace_is_cancelled_and_nothing_new_starts():
    executor, told = Stepped(hang={"a1.0"}), []
    began = time.monotonic()
    started = run_trials(executor, [_study("a", 50, 1, told)], slots=2, deadline=Deadline(began + 0.5))
    assert 0.5 + STOP_GRACE <= time.monotonic() - began < 3 + STOP_GRACE
    assert ("a", 1, "cancelled") in told and executor.cancelled == ["a1.0"]
    assert started == len(told)  # every trial it started was told how it ended


def test_jobs_that_stop_themselves_at_the_deadline_are_never_cancelled():
    """Jobs that stop themselves at the deadline as the learners do (PastDeadline): their trials hear
    Cancelled, the runner returns within the grace and cancels nothing; no job starts past the deadline."""
    executor, told = LocalExecutor(), []
    cancelled: list[str] = []
    executor.cancel = lambda task: cancelled.append(task.name)
    deadline = Deadline.after(0.3)

    def steps():
        try:
            yield Job(_sleep_then_stop, (0.1, deadline), name="first")
            yield Job(_sleep_then_stop, (5.0, deadline), name="second")  # stops itself at the deadline
            told.append("third job started")
            yield Job(_sleep_then_stop, (0.1, deadline), name="third")
        except Cancelled:
            told.append("cancelled")

    began = time.monotonic()
    trials = [steps()]
    assert run_trials(executor, [lambda: trials.pop() if trials else None], slots=1, deadline=deadline) == 1
    assert time.monotonic() - began < STOP_GRACE and told == ["cancelled"] and cancelled == []


def _sleep_then_stop(seconds: float, deadline: Deadline) -> float:
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        if deadline.passed():
            raise PastDeadline("stopped")
        time.sleep(0.01)
    return seconds
