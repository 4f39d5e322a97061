"""Cancellations at deadlines, many in a row: does any of them crash Ray's core worker (and the run with it)?

    .venv/bin/python benchmarks/cancel_stress.py trials --rounds 400        # the trial runner's cancellations
    .venv/bin/python benchmarks/cancel_stress.py runs --runs 24 --limit 20  # whole short `podium run`s

`trials`: rounds of `strategies.trials.run_trials` on a local RayExecutor, 8 trials in flight, each a job after
job working 0-1/4 of the round's deadline and stopping itself at the deadline, as podium's jobs do, so that at
every deadline some jobs are finishing; `ray_cancels` counts the cancellations the runner still issued (the race
in which Ray's core worker once aborted with "Check failed: it != submissible_tasks_.end() Tried to complete
task that was not pending"). Each block of rounds runs in a fresh process: a crash ends that process, and the
block's exit code and the last lines of its output are recorded; a job that only sleeps and still fails
(`failed`) was killed by a cancellation meant for another task. `runs`: whole `podium run`s on a small corpus
competition with a short limit (every phase under a deadline), one after the other; each run's exit code, status
and any "Check failed" in its output are recorded. Records are appended to
benchmarks/results/cancel_stress.jsonl with the git commit.
"""

from __future__ import annotations

import argparse
import functools
import json
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RECORDS = ROOT / "benchmarks" / "results" / "cancel_stress.jsonl"
CRASH = "Check failed"


def _work(seconds: float, deadline) -> float:
    """A job as podium's are: it stops itself at its deadline (a boosting loop checks between rounds)."""
    from agent.deadline import PastDeadline

    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        if deadline.passed():
            raise PastDeadline("stopped at the deadline")
        time.sleep(0.01)
    return seconds


def trial_rounds(rounds: int, seed: int, deadline: float) -> dict:
    """`rounds` rounds of the trial runner in this process; what was cancelled and finished."""
    from agent.deadline import Deadline
    from agent.executor import RayExecutor
    from strategies.trials import Cancelled, Job, JobFailed, run_trials

    rng = random.Random(seed)
    counts = {"rounds": 0, "jobs": 0, "cancelled": 0, "failed": 0, "ray_cancels": 0}

    def starter(ends: Deadline):
        def steps():  # a trial of fold after fold, as the studies' trials are, until the deadline stops it
            try:
                while True:
                    counts["jobs"] += 1
                    yield Job(_work, (rng.uniform(0, deadline / 4), ends), name="stress-job", num_cpus=0.25)
            except Cancelled:
                counts["cancelled"] += 1
            except JobFailed:  # a job that only slept failed: a cancellation hit the wrong task
                counts["failed"] += 1
        return steps()

    with RayExecutor(num_cpus=2) as executor:
        cancel = executor.cancel

        def counted(task) -> None:
            counts["ray_cancels"] += 1
            cancel(task)

        executor.cancel = counted
        for _ in range(rounds):
            ends = Deadline.after(deadline)
            run_trials(executor, [functools.partial(starter, ends)], slots=8, deadline=ends)
            counts["rounds"] += 1
    return counts


def git_commit() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def record(entry: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as sink:
        sink.write(json.dumps({**entry, "git_commit": git_commit()}) + "\n")
    print(json.dumps(entry), flush=True)


def run_blocks(args) -> None:
    for block in range(args.blocks):
        command = [sys.executable, str(Path(__file__).resolve()), "_block", "--rounds", str(args.rounds),
                   "--seed", str(args.seed + block), "--deadline", str(args.deadline)]
        started = time.monotonic()
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        output = done.stdout + done.stderr
        counts = next((json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")), None)
        record({"kind": "trials", "block": block, "rounds": args.rounds, "deadline_s": args.deadline,
                "exit_code": done.returncode, "crashed": CRASH in output or done.returncode != 0,
                "counts": counts, "seconds": round(time.monotonic() - started, 1),
                "tail": output[-600:] if done.returncode else None}, args.records)


def run_runs(args) -> None:
    from agent.arena.demo import build_from_corpus

    with tempfile.TemporaryDirectory(prefix="podium-stress-") as scratch:
        folder = build_from_corpus(args.task, Path(scratch) / args.task, rows=args.rows)
        for number in range(args.runs):
            out = Path(scratch) / "runs" / str(number)  # one folder a run: its log alone is counted
            started = time.monotonic()
            done = subprocess.run([sys.executable, "-m", "cli", "run", str(folder), "--time-limit", str(args.limit),
                                   "--seed", str(number), "--out", str(out)], cwd=ROOT, capture_output=True, text=True)
            output = done.stdout + done.stderr
            logs = "".join(p.read_text(errors="replace") for p in out.glob("*/*/podium.log"))
            for path in out.glob("*/*/models"):  # keep the disk free
                subprocess.run(["rm", "-rf", str(path)], check=False)
            record({"kind": "runs", "run": number, "task": args.task, "limit_s": args.limit,
                    "exit_code": done.returncode, "crashed": CRASH in output or CRASH in logs,
                    "ray_cancels": logs.count("Cancelling the Ray task"),
                    "cancelled": sorted(set(re.findall(r"Cancelling the Ray task (\S+)", logs))),
                    "seconds": round(time.monotonic() - started, 1),
                    "tail": output[-600:] if done.returncode else None}, args.records)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kind", choices=["trials", "runs", "_block"])
    parser.add_argument("--rounds", type=int, default=100, help="trial-runner rounds per process")
    parser.add_argument("--blocks", type=int, default=4, help="processes of --rounds rounds each")
    parser.add_argument("--deadline", type=float, default=2.0, help="seconds of each round")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--runs", type=int, default=24)
    parser.add_argument("--limit", type=float, default=20)
    parser.add_argument("--task", default="titanic")
    parser.add_argument("--rows", type=int, default=600)
    parser.add_argument("--records", type=Path, default=RECORDS)
    args = parser.parse_args()
    if args.kind == "_block":
        print(json.dumps(trial_rounds(args.rounds, args.seed, args.deadline)), flush=True)
    elif args.kind == "trials":
        run_blocks(args)
    else:
        run_runs(args)


if __name__ == "__main__":
    main()
