"""Whole `podium run`s on the development corpus at full size, each beside AutoGluon alone in the same time.

    .venv/bin/python benchmarks/runs.py --budgets 300 --seeds 0 1 --out /tmp/bench   # every task, two seeds
    .venv/bin/python benchmarks/runs.py --tasks titanic --budgets 900 --out /tmp/bench
    .venv/bin/python benchmarks/runs.py --table                       # the tables of benchmarks/results/runs.jsonl
    .venv/bin/python benchmarks/runs.py --table --markdown --tie 0.002
    .venv/bin/python benchmarks/runs.py --variant merged=merged.yaml         # podium:merged beside the others
    .venv/bin/python benchmarks/runs.py --table --system podium:merged      # the variant against the peers

For seed in --seeds, for budget in --budgets, for task in --tasks: build the competition (every row, at most
60,000 in train but in the large competition; built once per task and seed and cached in --out), then run each
of --systems in a fresh process with the same time, one right after the other, the order rotated from one
competition to the next so that every system takes every place (the machine is shared and its load drifts):
`podium run --time-limit BUDGET --seed SEED` (Ray start included; wall seconds measured around the process),
and AutoGluon alone with each preset of --peers (benchmarks/peers.py). Every submission is scored on the
hidden answers by the arena's grader (agent.arena.grading.grade, through tests/grading.py).

Each system run is APPENDED to --records as one JSON line (benchmarks/records.py), so a round can be run in
pieces across sessions (pass the same --out to reuse the built competitions); running a system again on the
same competition and budget adds a repeat, from which the table measures the run-to-run noise. While a file
named PAUSE is in --out, the next run waits (for other work on the machine between runs, never during one). A podium
record holds the machine, the git commit, the wall seconds and exit code, the hidden score, and from the run's
manifest.json and production/model_card.json: the leaderboard's candidates and blend, the production model
(family, out-of-fold score against the leaderboard's, p50/p99 ms, size, within budget; and its own hidden
score from the artifact on the raw test rows, `gu% hid` in the table), whether the
leaderboard model's latency was measured, the first submission's second, the plan's pieces (planned and
actual seconds) and the phases.

The table compares podium with each peer per competition (the normalised gain: the score difference over
|peer|, positive when podium is better, whatever the metric), then per budget and peer: win/tie/loss (a tie
is |gain| under --tie, set it from the noise the table prints), the competitions lost on average over their
seeds, the mean gain; then podium's production targets per run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.peers import PRESETS, run_peer  # noqa: E402 - needs ROOT on sys.path
from benchmarks.records import (  # noqa: E402
    PODIUM,
    TIE,
    fmt,
    from_manifest,
    given_up,
    load_records,
    read_json,
    score_of,
    show,
)

MAX_TRAIN_ROWS = 60_000
UNCAPPED = {"laptop_sales"}  # the large competition: every row (213,096 in train)
PAUSE = "PAUSE"  # while this file is in --out, no new system run starts (the machine is wanted for other work)
RECORDS = ROOT / "benchmarks" / "results" / "runs.jsonl"


# ---------------------------------------------------------------- running

def row_cap(max_train: int = MAX_TRAIN_ROWS) -> int:
    """The most rows `build_from_corpus` may take so that prepare_competition's train split keeps <= max_train."""
    import inspect

    from agent.arena.prepare import prepare_competition

    share = inspect.signature(prepare_competition).parameters["test_fraction"].default
    rows = int(max_train / (1 - share)) + 2
    while rows - max(1, int(round(rows * share))) > max_train:
        rows -= 1
    return rows


def competition_folder(task: str, seed: int, out: Path) -> Path:
    """The task's competition for this seed, built once and kept in `out` (prepare_competition is atomic)."""
    from agent.arena.demo import build_from_corpus

    folder = out / "competitions" / f"s{seed}" / task  # the folder's name is the competition's slug
    if not (folder / "competition.yaml").is_file():
        build_from_corpus(task, folder, rows=None if task in UNCAPPED else row_cap(), seed=seed)
    return folder


def csv_rows(path: Path) -> int | None:
    try:
        return len(pd.read_csv(path, usecols=[0]))
    except (OSError, ValueError):
        return None


def competition_file(folder: Path) -> Path:
    """The competition as podium infers it (target, metric, format), once per folder: what the peers answer."""
    from agent.competition.inference import infer_competition
    from agent.competition.overrides import collect
    from agent.competition.tables import read_competition
    from agent.sources.local import LocalSource

    path = folder.parent / f"{folder.name}.competition.json"
    if not path.is_file():
        fetched = LocalSource(folder).fetch()
        data = read_competition(fetched.files["train"], fetched.files["test"], fetched.files["sample_submission"])
        values, sources = collect([(fetched.declared_by, fetched.declared)])
        competition = infer_competition(fetched.slug, data, values, sources, metadata=fetched.metadata)
        path.write_text(json.dumps({"competition": competition.to_dict()}))
    return path


def run_podium(folder: Path, budget: float, seed: int, out: Path, log: Path, config: str | None) -> dict[str, Any]:
    """`podium run` in a fresh process (its own session, so a hung run can be stopped with its children)."""
    out.mkdir(parents=True, exist_ok=True)
    log.parent.mkdir(parents=True, exist_ok=True)
    before = set(out.glob("*/*/manifest.json"))
    command = [sys.executable, "-m", "cli", "run", str(folder), "--time-limit", str(budget), "--seed", str(seed),
               "--out", str(out)] + (["--config", config] if config else [])
    timeout = 2 * budget + 180
    timed_out = False
    with log.open("w") as sink:
        started = time.monotonic()
        process = subprocess.Popen(command, cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            code = stop(process)
        seconds = time.monotonic() - started
    new = set(out.glob("*/*/manifest.json")) - before
    run_dir = max(new, key=lambda p: p.stat().st_mtime).parent if new else None
    tail = None
    if code != 0:
        tail = log.read_text(errors="replace")[-1500:]
    return {"exit_code": code, "timed_out": timed_out, "wall_s": round(seconds, 2), "run_dir": run_dir, "tail": tail}


def stop(process: subprocess.Popen) -> int | None:
    """SIGTERM to the run's process group (podium stops its Ray), SIGKILL after 30 s."""
    for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            return process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
    return process.poll()


def hidden(competition, folder: Path, submission: Path) -> tuple[float | None, str | None]:
    from tests.grading import grade

    if competition is None or not submission.is_file():
        return None, "no submission" if competition is not None else "no competition in the manifest"
    try:
        return float(grade(competition, folder, pd.read_csv(submission))), None
    except Exception as error:  # noqa: BLE001 - one bad submission must not end the round
        return None, f"{type(error).__name__}: {error}"



def production_hidden(competition, folder: Path, run_dir: Path) -> tuple[float | None, str | None]:
    """The production model, loaded from its artifact, on the raw test rows, graded on the hidden answers: what
    it gives up there, beside the estimate out of fold (a stacked leaderboard model's OOF score flatters it)."""
    from agent.competition.submission import build_submission
    from agent.runtime import load_model

    artifact = run_dir / "production"
    if competition is None or not (artifact / "production.json").is_file():
        return None, "no production model"
    public = folder / "public"
    test = pd.read_csv(public / "test.csv")
    try:
        model = load_model(artifact)
        prediction = model.predict_raw(test[model.schema.input_names])
        submission = build_submission(competition, pd.read_csv(public / "sample_submission.csv"),
                                      test[competition.id_column], prediction)
        written = run_dir / "production_submission.csv"
        submission.to_csv(written, index=False)
    except Exception as error:  # noqa: BLE001 - one bad artifact must not end the round
        return None, f"{type(error).__name__}: {error}"
    return hidden(competition, folder, written)


def run_one(task: str, seed: int, budget: float, out: Path, systems: list[str], rotation: int,
            context: dict[str, Any], keep_models: bool = False):
    """Every system once on one competition, in the rotated order: one record each, yielded as each ends."""
    from agent.competition.inference import Competition

    folder = competition_folder(task, seed, out)
    order = systems[rotation % len(systems):] + systems[:rotation % len(systems)]
    described = competition_file(folder)
    metric = Competition.from_dict(read_json(described)["competition"]).metric
    common = {"task": task, "seed": seed, "budget": budget, "metric": metric.name,
              "higher_is_better": bool(metric.greater_is_better),
              "rows": {"train": csv_rows(folder / "public" / "train.csv"),
                       "test": csv_rows(folder / "public" / "test.csv")}}
    for system in order:
        wait_while_paused(out / PAUSE)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
        record = {"system": system, **common, "started_at": stamp, "order": order,
                  **{k: v for k, v in context.items() if k != "variants"},
                  "machine": {"cpus": os.cpu_count(), "hostname": socket.gethostname(),
                              "load_1m": round(os.getloadavg()[0], 2)}}
        name = f"{task}-s{seed}-b{budget:g}-{system.replace(':', '-')}-{stamp}"
        if system.startswith(PODIUM):
            config = context["variants"].get(system)
            record["config"] = config
            record.update(podium_record(folder, budget, seed, out / "runs" / f"s{seed}-b{budget:g}" / system,
                                        out / "logs" / f"{name}.log", config))
            models = Path(record["run_dir"]) / "models" if record.get("run_dir") else None
        else:
            record.update(peer_record(folder, described, budget, out / "peers" / name, system.split(":", 1)[1]))
            models = out / "peers" / name / "ag"
        if not keep_models and models is not None:
            record["models_mb"] = drop_models(models)
        yield record


def drop_models(folder: Path) -> float | None:
    """Remove a scored run's AutoGluon models (1-3 GB each on the larger tables: a round would fill the disk);
    the size they took, in MB, or None if there were none."""
    from agent.runtime.files import directory_bytes

    if not folder.is_dir():
        return None
    size = directory_bytes(folder)
    shutil.rmtree(folder)
    return round(size / 1e6, 1)


def wait_while_paused(flag: Path) -> None:
    """Hold the next run while `flag` exists: pausing between runs, never during one, keeps timings honest."""
    announced = False
    while flag.exists():
        if not announced:
            print(f"paused: {flag} exists", flush=True)
            announced = True
        time.sleep(5)


def podium_record(folder: Path, budget: float, seed: int, out: Path, log: Path, config: str | None) -> dict:
    """One `podium run` and what its run directory says."""
    from agent.competition.inference import Competition

    podium = run_podium(folder, budget, seed, out, log, config)
    run_dir = podium["run_dir"]
    manifest = read_json(run_dir / "manifest.json") if run_dir else {}
    competition = Competition.from_dict(manifest["competition"]) if manifest.get("competition") else None
    score, score_error = hidden(competition, folder, run_dir / "submission.csv") if run_dir else (None, "no run")
    record = {
        "podium_exit_code": podium["exit_code"], "podium_timed_out": podium["timed_out"],
        "podium_wall_s": podium["wall_s"], "podium_score": score, "podium_score_error": score_error,
        "podium_status": manifest.get("status"), "podium_error": (manifest.get("error") or {}).get("message")
        or podium["tail"], "run_dir": str(run_dir) if run_dir else None,
    }
    record.update(from_manifest(manifest, run_dir))
    record["given_up_norm"] = given_up(record.get("prod_score"), record.get("prod_leaderboard_score"))
    if run_dir:
        record["prod_hidden_score"], record["prod_hidden_error"] = production_hidden(competition, folder, run_dir)
        record["given_up_hidden"] = given_up(record["prod_hidden_score"], score,
                                             bool(competition.metric.greater_is_better) if competition else None)
    record["wall_over_limit"] = round(podium["wall_s"] / budget, 4)
    return record


def peer_record(folder: Path, described: Path, budget: float, out: Path, presets: str) -> dict[str, Any]:
    """AutoGluon alone with `presets`, same time, fresh process, on the competition podium infers."""
    from agent.competition.inference import Competition

    competition = Competition.from_dict(read_json(described)["competition"])
    started = time.monotonic()
    try:
        submission, seconds = run_peer(folder, described, budget, out, presets)
    except subprocess.CalledProcessError as error:
        stderr = (error.stderr or b"").decode(errors="replace") if isinstance(error.stderr, bytes) else error.stderr
        return {"wall_s": round(time.monotonic() - started, 2), "error": (stderr or str(error))[-1500:]}
    score, score_error = hidden(competition, folder, submission)
    return {"score": score, "wall_s": round(seconds, 2), "error": score_error}


def git_state() -> dict[str, Any]:
    def git(*args: str) -> str | None:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return None

    status = git("status", "--porcelain", "--untracked-files=no")
    return {"git_commit": git("rev-parse", "HEAD"), "git_dirty": bool(status) if status is not None else None}


def main() -> None:
    import tempfile

    import devcorpus

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", nargs="+", default=list(devcorpus.TASKS), choices=list(devcorpus.TASKS))
    parser.add_argument("--budgets", type=float, nargs="+", default=[300], help="podium --time-limit, seconds")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="competition split and podium --seed")
    parser.add_argument("--systems", nargs="+", default=[PODIUM, *(f"ag:{p}" for p in PRESETS)],
                        help="podium and/or ag:PRESETS peers (default: podium and both presets)")
    parser.add_argument("--variant", action="append", default=[], metavar="LABEL=CONFIG",
                        help="also run podium --config CONFIG, recorded as podium:LABEL (repeatable)")
    parser.add_argument("--system", default=PODIUM, help="the system the table compares with the peers")
    parser.add_argument("--out", type=Path, default=None,
                        help="competitions, run directories and logs (default: a temporary folder, removed at the end)")
    parser.add_argument("--records", type=Path, default=RECORDS, help="JSON lines, appended (default %(default)s)")
    parser.add_argument("--keep-models", action="store_true",
                        help="keep every run's AutoGluon models (default: removed once the run is scored)")
    parser.add_argument("--table", action="store_true", help="only print the tables of --records, run nothing")
    parser.add_argument("--markdown", action="store_true", help="the tables as Markdown")
    parser.add_argument("--all-records", action="store_true",
                        help="every podium run in the production table, not only the latest per competition")
    parser.add_argument("--tie", type=float, default=TIE, help="|normalised gain| under which two systems tie")
    args = parser.parse_args()
    if args.table:
        show(args.records, args.markdown, args.all_records, args.tie, args.system)
        return
    variants = {f"{PODIUM}:{label}": str(Path(path).resolve())
                for label, path in (item.split("=", 1) for item in args.variant)}
    systems = list(args.systems) + [name for name in variants if name not in args.systems]
    args.records.parent.mkdir(parents=True, exist_ok=True)
    done = len(load_records(args.records)) if args.records.is_file() else 0
    with tempfile.TemporaryDirectory(prefix="podium-runs-") as scratch:
        out = (args.out or Path(scratch)).expanduser().resolve()
        for seed in args.seeds:
            for budget in args.budgets:
                for number_, task in enumerate(args.tasks):
                    # the code each run used: read before every run (a round can outlive a commit)
                    context = {**git_state(), "variants": variants}
                    for record in run_one(task, seed, budget, out, systems, done + number_, context,
                                          args.keep_models):
                        with args.records.open("a") as sink:
                            sink.write(json.dumps(record) + "\n")
                        print(f"{task} seed {seed} {budget:g} s {record['system']}: {fmt(score_of(record), '.5g')} "
                              f"({fmt(record.get('podium_wall_s', record.get('wall_s')), '.0f')} s)", flush=True)
    print()
    show(args.records, args.markdown, args.all_records, args.tie, args.system)


if __name__ == "__main__":
    main()
