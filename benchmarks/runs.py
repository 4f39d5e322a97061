"""Whole `podium run`s on the development corpus at full size, each followed by AutoGluon alone in the same time.

    .venv/bin/python benchmarks/runs.py                                  # all 8 tasks, 240 s, seed 0
    .venv/bin/python benchmarks/runs.py --tasks titanic adult_income --budgets 120 240 --seeds 0 1 --out /tmp/rounds
    .venv/bin/python benchmarks/runs.py --table                          # the table of benchmarks/results/runs.jsonl
    .venv/bin/python benchmarks/runs.py --table --markdown               # as Markdown (docs/benchmarks.md)
    .venv/bin/python benchmarks/runs.py --tasks titanic --budgets 60 --seeds 0 --no-peer --records /tmp/runs-check.jsonl
    .venv/bin/python benchmarks/runs.py --table --records /tmp/runs-check.jsonl

For seed in --seeds, for budget in --budgets, for task in --tasks: build the competition (every row, at most
60,000 in train; built once per task and seed and cached in --out), run `podium run --time-limit BUDGET --seed
SEED` in a fresh process (Ray start included; wall seconds measured here, around the process), then AutoGluon
best_quality alone in a fresh process with the same time (benchmarks/leaderboard.py's AUTOGLUON_ALONE, right
after, so both see the same machine). Both submissions are scored on the hidden answers (tests/grading.py).

Each podium run and its AutoGluon-alone peer is APPENDED to --records as one JSON line, so a round can be run in
pieces across sessions (pass the same --out to reuse the built competitions). A record holds the machine, the
git commit, podium's wall seconds and exit code, both hidden scores, and from the run's manifest.json and
production/model_card.json: the production model (family, out-of-fold score against the leaderboard's, p50/p99
ms, size, within budget), whether the leaderboard model's latency was measured, the first submission's second,
the plan's pieces (planned and actual seconds) and the phases. Fields the run does not write are stored as null.

The table has one row per (task, seed, budget), the latest record of each unless --all-records, then a summary
per budget against the targets: how many runs' production gives up <= 1% of the leaderboard's out-of-fold
score, and <= 3% on all; the shipped model within its budgets, the leaderboard model measured, a first
submission within 60 s and the wall within 1.1x the limit on every run; wins/ties/losses against AutoGluon alone
(a tie below 0.001 normalised difference). Columns: s seed, lim budget (s), podium / AG hidden scores, vs
podium's result, fam production family, KB serving size, p50/p99 ms one row, inB within budgets, gu% score given
up, lbm leaderboard model measured, 1st first submission (s), w/l wall / limit, rc exit code, plan
planned/actual seconds per piece.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.leaderboard import run_autogluon  # noqa: E402 - needs ROOT on sys.path

MAX_TRAIN_ROWS = 60_000
RECORDS = ROOT / "benchmarks" / "results" / "runs.jsonl"
TIE = 1e-3  # normalised difference below which podium and AutoGluon alone tie
ABBREVIATIONS = {"titanic": "titanic", "telco_churn": "telco", "adult_income": "adult", "hpc_class": "hpc",
                 "rodent_species": "rodent", "ames_house": "ames", "diamonds_price": "diamonds",
                 "deliveries": "deliver", "autogluon": "ag", "leaderboard": "lb", "production": "prod",
                 "optuna": "opt", "figures": "fig", "leaderboard_figures": "fig", "submission": "sub",
                 "lightgbm": "lgbm", "distilled": "distil"}


# ---------------------------------------------------------------- running

def row_cap(max_train: int = MAX_TRAIN_ROWS) -> int:
    """The most rows `devcorpus.build` may take so that prepare_competition's train split keeps <= max_train."""
    import inspect

    from agent.arena.prepare import prepare_competition

    share = inspect.signature(prepare_competition).parameters["test_fraction"].default
    rows = int(max_train / (1 - share)) + 2
    while rows - max(1, int(round(rows * share))) > max_train:
        rows -= 1
    return rows


def competition_folder(task: str, seed: int, out: Path) -> Path:
    """The task's competition for this seed, built once and kept in `out` (prepare_competition is atomic)."""
    import devcorpus

    folder = out / "competitions" / f"s{seed}" / task  # the folder's name is the competition's slug
    if not (folder / "competition.yaml").is_file():
        devcorpus.build(task, folder, rows=row_cap(), seed=seed)
    return folder


def csv_rows(path: Path) -> int | None:
    try:
        return len(pd.read_csv(path, usecols=[0]))
    except (OSError, ValueError):
        return None


def run_podium(folder: Path, budget: float, seed: int, out: Path, log: Path) -> dict[str, Any]:
    """`podium run` in a fresh process (its own session, so a hung run can be stopped with its children)."""
    out.mkdir(parents=True, exist_ok=True)
    log.parent.mkdir(parents=True, exist_ok=True)
    before = set(out.glob("*/*/manifest.json"))
    command = [sys.executable, "-m", "cli", "run", str(folder), "--time-limit", str(budget), "--seed", str(seed),
               "--out", str(out)]
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


def run_one(task: str, seed: int, budget: float, out: Path, peer: bool, context: dict[str, Any]) -> dict[str, Any]:
    """One podium run and its AutoGluon-alone peer on one competition: the record."""
    import devcorpus
    from agent.competition import Competition
    from agent.metrics import get_metric

    folder = competition_folder(task, seed, out)
    name = f"{task}-s{seed}-b{budget:g}"
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    record: dict[str, Any] = {
        "task": task, "seed": seed, "budget": budget, "started_at": stamp, **context,
        "machine": {"cpus": os.cpu_count(), "hostname": socket.gethostname(), "load_1m": round(os.getloadavg()[0], 2)},
        "rows": {"train": csv_rows(folder / "public" / "train.csv"), "test": csv_rows(folder / "public" / "test.csv")},
    }
    podium = run_podium(folder, budget, seed, out / "runs" / f"s{seed}-b{budget:g}",
                        out / "logs" / f"{name}-{stamp}.log")
    run_dir = podium["run_dir"]
    manifest = read_json(run_dir / "manifest.json") if run_dir else {}
    competition = Competition.from_dict(manifest["competition"]) if manifest.get("competition") else None
    metric = competition.metric if competition else get_metric(devcorpus.TASKS[task].metric)
    score, score_error = hidden(competition, folder, run_dir / "submission.csv") if run_dir else (None, "no run")
    record.update({
        "metric": metric.name, "higher_is_better": bool(metric.greater_is_better),
        "podium_exit_code": podium["exit_code"], "podium_timed_out": podium["timed_out"],
        "podium_wall_s": podium["wall_s"], "podium_score": score, "podium_score_error": score_error,
        "podium_status": manifest.get("status"), "podium_error": (manifest.get("error") or {}).get("message")
        or podium["tail"], "run_dir": str(run_dir) if run_dir else None,
    })
    record.update(from_manifest(manifest, run_dir))
    record["ag_score"] = record["ag_wall_s"] = record["ag_error"] = None
    if peer:
        record.update(run_peer(folder, run_dir, competition, budget, out / "autogluon" / f"{name}-{stamp}"))
    record["given_up_norm"] = given_up(record.get("prod_score"), record.get("prod_leaderboard_score"))
    record["wall_over_limit"] = round(podium["wall_s"] / budget, 4)
    return record


def run_peer(folder: Path, run_dir: Path | None, competition, budget: float, out: Path) -> dict[str, Any]:
    """AutoGluon best_quality alone, same time, fresh process (benchmarks/leaderboard.py's run_autogluon)."""
    if competition is None:
        return {"ag_error": "podium's manifest holds no competition to give AutoGluon alone"}
    started = time.monotonic()
    try:
        submission, seconds = run_autogluon(folder, run_dir / "manifest.json", budget, out)
    except subprocess.CalledProcessError as error:
        stderr = (error.stderr or b"").decode(errors="replace") if isinstance(error.stderr, bytes) else error.stderr
        return {"ag_wall_s": round(time.monotonic() - started, 2), "ag_error": (stderr or str(error))[-1500:]}
    score, score_error = hidden(competition, folder, submission)
    return {"ag_score": score, "ag_wall_s": round(seconds, 2), "ag_error": score_error}


def git_state() -> dict[str, Any]:
    def git(*args: str) -> str | None:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return None

    status = git("status", "--porcelain", "--untracked-files=no")
    return {"git_commit": git("rev-parse", "HEAD"), "git_dirty": bool(status) if status is not None else None}


# ---------------------------------------------------------------- reading a run

def read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def number(value: Any) -> float | None:
    """A finite float, or None (missing, null, text, NaN)."""
    if isinstance(value, bool):
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def section(data: Any, *keys: str) -> dict[str, Any]:
    """data[k1][k2]... as a dict, {} wherever something is missing or not a dict."""
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, dict) else {}


def from_manifest(manifest: dict[str, Any], run_dir: Path | None) -> dict[str, Any]:
    """The record's fields read from manifest.json and the production model card; None where absent."""
    production = section(manifest, "production")
    card_dir = production.get("path") or section(manifest, "artifacts").get("production") or (
        run_dir / "production" if run_dir else None)
    card = read_json(Path(card_dir) / "model_card.json") if card_dir else {}
    latency, size, model = section(card, "latency"), section(card, "size"), section(card, "model")
    board_latency = section(manifest, "leaderboard", "figures", "latency")
    within = production.get("within_budget", section(card, "budgets").get("within_budget"))
    return {
        "prod_model": production.get("model") or model.get("name"),
        "prod_family": model.get("family"),
        "prod_score": number(production.get("score")),
        "prod_leaderboard_score": number(production.get("leaderboard_score")),
        "prod_score_given_up": number(production.get("score_given_up")),
        "prod_p50_ms": number(latency.get("p50_ms_batch1")),
        "prod_p99_ms": number(first(production.get("p99_ms"), latency.get("p99_ms_batch1"))),
        "prod_size_bytes": number(first(production.get("size_bytes"), size.get("serving_bytes"))),
        "prod_within_budget": within if isinstance(within, bool) else None,
        "prod_error": production.get("error"),
        "lb_latency_measured": bool(board_latency),
        "lb_p99_ms": number(board_latency.get("p99_ms_batch1", board_latency.get("p99_ms"))),
        **submissions(manifest.get("submissions")),
        "plan": plan(manifest.get("plan")),
        "phases": {name: {"seconds": number(p.get("seconds")), "status": p.get("status")}
                   for name, p in section(manifest, "phases").items() if isinstance(p, dict)},
    }


def first(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


def submissions(entries: Any) -> dict[str, Any]:
    """The first valid submission's second: a numeric at_seconds and an out-of-fold score, no error."""
    entries = entries if isinstance(entries, list) else []
    valid = [e for e in entries if isinstance(e, dict) and number(e.get("at_seconds")) is not None
             and number(e.get("oof_score")) is not None and not e.get("error") and e.get("valid", True) is not False]
    earliest = min(valid, key=lambda e: number(e["at_seconds"])) if valid else {}
    return {"submissions": len(entries) if entries else None,
            "first_submission_s": number(earliest.get("at_seconds")), "first_submission_source": earliest.get("source")}


def plan(data: Any) -> dict[str, Any] | None:
    """The plan's pieces with planned (deadline - start) and actual (end - start) seconds."""
    if not isinstance(data, dict):
        return None
    pieces = []
    for piece in data.get("pieces") or []:
        if not isinstance(piece, dict):
            continue
        actual = piece.get("actual") if isinstance(piece.get("actual"), dict) else {}
        start, deadline = number(piece.get("start")), number(piece.get("deadline"))
        began, end = number(actual.get("start")), number(actual.get("end"))
        pieces.append({"name": piece.get("name"), "cpus": piece.get("cpus"),
                       "planned_s": round(deadline - start, 1) if None not in (start, deadline) else None,
                       "actual_s": round(end - began, 1) if None not in (began, end) else None,
                       "status": actual.get("status"), "note": actual.get("note")})
    return {"time_limit": number(data.get("time_limit")), "pieces": pieces}


def given_up(production: float | None, leaderboard: float | None) -> float | None:
    """|production oof - leaderboard oof| / |leaderboard oof|."""
    if production is None or leaderboard is None or leaderboard == 0:
        return None
    return abs(production - leaderboard) / abs(leaderboard)


def outcome(podium: Any, autogluon: Any, higher_is_better: Any) -> str | None:
    """win / tie / loss for podium; a tie below TIE normalised difference (by AutoGluon alone's |score|)."""
    podium, autogluon = number(podium), number(autogluon)
    if podium is None or autogluon is None:
        return None if autogluon is None else "loss"  # podium without a score loses to one with
    if abs(podium - autogluon) / (abs(autogluon) or 1.0) < TIE:
        return "tie"
    return "win" if (podium > autogluon) == bool(higher_is_better) else "loss"


# ---------------------------------------------------------------- table

def load_records(path: Path, every: bool) -> tuple[list[dict[str, Any]], int]:
    """The records, the latest per (task, seed, budget) unless `every`; and how many older ones were dropped."""
    records = []
    for line in Path(path).read_text().splitlines():
        if line.strip():
            try:
                records.append(json.loads(line))
            except ValueError:
                print(f"skipping a line that is not JSON: {line[:80]}", file=sys.stderr)
    if every:
        return records, 0
    latest = {(r.get("task"), r.get("seed"), r.get("budget")): r for r in records}
    return list(latest.values()), len(records) - len(latest)


def fmt(value: Any, spec: str = ".4g", none: str = "-") -> str:
    value = number(value)
    return none if value is None else format(value, spec)


def yes_no(value: Any) -> str:
    return "-" if value is None else ("y" if value else "n")


def plan_text(data: Any) -> str:
    pieces = (data or {}).get("pieces") or []
    return " ".join(f"{short(p.get('name'))} {fmt(p.get('planned_s'), '.0f')}/{fmt(p.get('actual_s'), '.0f')}"
                    for p in pieces) or "-"


def short(name: Any, width: int = 10) -> str:
    name = str(name) if name is not None else "?"
    return ABBREVIATIONS.get(name, name[:width].strip())


def table(records: list[dict[str, Any]]) -> pd.DataFrame:
    rows = []
    for r in records:
        size = number(r.get("prod_size_bytes"))
        rows.append({
            "task": short(r.get("task")), "s": r.get("seed"), "lim": fmt(r.get("budget"), "g"),
            "podium": fmt(r.get("podium_score"), ".5g"), "AG": fmt(r.get("ag_score"), ".5g"),
            "vs": {"win": "W", "tie": "T", "loss": "L"}.get(
                outcome(r.get("podium_score"), r.get("ag_score"), r.get("higher_is_better")), "-"),
            "fam": short(r.get("prod_family"), 9) if r.get("prod_family") else "-",
            "KB": fmt(size / 1024 if size is not None else None, ".0f"),
            "p50/p99": f"{ms(r.get('prod_p50_ms'))}/{ms(r.get('prod_p99_ms'))}",
            "inB": yes_no(r.get("prod_within_budget")),
            "gu%": fmt(100 * r["given_up_norm"] if number(r.get("given_up_norm")) is not None else None, ".2f"),
            "lbm": yes_no(r.get("lb_latency_measured")),
            "1st": fmt(r.get("first_submission_s"), ".0f"),
            "w/l": fmt(r.get("wall_over_limit"), ".2f"),
            "rc": "-" if r.get("podium_exit_code") is None else str(r.get("podium_exit_code")),
            "plan": plan_text(r.get("plan")),
        })
    return pd.DataFrame(rows)


def ms(value: Any) -> str:
    value = number(value)
    return "-" if value is None else f"{value:.2f}" if value < 10 else f"{value:.0f}"


def markdown(frame: pd.DataFrame) -> str:
    cells = [[str(c) for c in frame.columns]] + [[str(v).replace("|", "\\|") for v in row] for row in frame.values]
    lines = ["| " + " | ".join(row) + " |" for row in cells]
    lines.insert(1, "|" + "|".join("---" for _ in frame.columns) + "|")
    return "\n".join(lines)


def summary(records: list[dict[str, Any]]) -> list[str]:
    """Per budget, each target: how many runs meet it, and which miss."""
    lines = []
    for budget in sorted({r.get("budget") for r in records}, key=lambda b: number(b) or 0):
        group = [r for r in records if r.get("budget") == budget]
        n = len(group)
        gu = [number(r.get("given_up_norm")) for r in group]
        within_1 = sum(g is not None and g <= 0.01 for g in gu)
        within_3, tail_3 = meeting(group, lambda r: at_most(r.get("given_up_norm"), 0.03),
                                   lambda r: fmt(100 * r["given_up_norm"], ".2f") + "%"
                                   if number(r.get("given_up_norm")) is not None else "none")
        budget_ok, tail_b = meeting(group, lambda r: r.get("prod_within_budget") is True,
                                    lambda r: "no model" if r.get("prod_within_budget") is None else "")
        measured, tail_m = meeting(group, lambda r: bool(r.get("lb_latency_measured")))
        early, tail_e = meeting(group, lambda r: at_most(r.get("first_submission_s"), 60),
                                lambda r: fmt(r.get("first_submission_s"), ".1f", "none"))
        wall, tail_w = meeting(group, lambda r: at_most(r.get("wall_over_limit"), 1.1),
                               lambda r: fmt(r.get("wall_over_limit"), ".2f") + "x")
        results = [outcome(r.get("podium_score"), r.get("ag_score"), r.get("higher_is_better")) for r in group]
        peers = sum(x is not None for x in results)
        lines += [
            f"budget {fmt(budget, 'g')} s, {n} run{'s' if n != 1 else ''}:",
            f"  production gives up <= 1%: {within_1}/{n}, <= 3% on every run: {within_3}/{n} "
            f"{ok(within_3, n)}{tail_3}",
            f"  shipped model within budgets on every run: {budget_ok}/{n} {ok(budget_ok, n)}{tail_b}",
            f"  leaderboard model measured on every run: {measured}/{n} {ok(measured, n)}{tail_m}",
            f"  first submission <= 60 s on every run: {early}/{n} {ok(early, n)}{tail_e}",
            f"  wall <= 1.1x limit on every run: {wall}/{n} {ok(wall, n)}{tail_w}",
            f"  podium vs AutoGluon alone, win/tie/loss: {results.count('win')}/{results.count('tie')}/"
            f"{results.count('loss')}" + (f" ({n - peers} without a peer)" if peers < n else ""),
        ]
    return lines


def at_most(value: Any, limit: float) -> bool:
    value = number(value)
    return value is not None and value <= limit


def meeting(group: list[dict[str, Any]], test, detail=None) -> tuple[int, str]:
    """How many records pass `test`, and '  (misses: task sN detail, ...)' for the others."""
    misses = [r for r in group if not test(r)]
    if not misses:
        return len(group), ""
    names = [f"{short(r.get('task'))}/{r.get('seed')}" + (f" {detail(r)}".rstrip() if detail else "")
             for r in misses]
    return len(group) - len(misses), " (miss: " + ", ".join(names) + ")"


def ok(met: int, n: int) -> str:
    return "ok" if met == n else "NOT MET"


def show(path: Path, as_markdown: bool, every: bool) -> None:
    if not Path(path).is_file():
        raise SystemExit(f"no records at {path}")
    records, dropped = load_records(path, every)
    if not records:
        raise SystemExit(f"no records in {path}")
    commits = sorted({(r.get("git_commit") or "?")[:8] + ("+dirty" if r.get("git_dirty") else "") for r in records})
    print(f"{len(records)} run{'s' if len(records) != 1 else ''} from {path} (commits {', '.join(commits)}"
          + (f"; {dropped} older repeats left out, --all-records shows them" if dropped else "") + ")\n")
    frame = table(records)
    if as_markdown:
        print(markdown(frame))
        print()
        print("\n".join(("- " + line.strip()) if line.startswith("  ") else f"\n**{line}**"
                        for line in summary(records)))
    else:
        print(frame.to_string(index=False))
        print()
        print("\n".join(textwrap.fill(line, 120, subsequent_indent=" " * 6, break_on_hyphens=False)
                        for line in summary(records)))


def main() -> None:
    import tempfile

    import devcorpus

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", nargs="+", default=list(devcorpus.TASKS), choices=list(devcorpus.TASKS))
    parser.add_argument("--budgets", type=float, nargs="+", default=[240], help="podium --time-limit, seconds")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="competition split and podium --seed")
    parser.add_argument("--out", type=Path, default=None,
                        help="competitions, run directories and logs (default: a temporary folder, removed at the end)")
    parser.add_argument("--records", type=Path, default=RECORDS, help="JSON lines, appended (default %(default)s)")
    parser.add_argument("--no-peer", action="store_true", help="skip AutoGluon alone")
    parser.add_argument("--table", action="store_true", help="only print the table of --records, run nothing")
    parser.add_argument("--markdown", action="store_true", help="the table as Markdown")
    parser.add_argument("--all-records", action="store_true",
                        help="every record in the table, not only the latest per task, seed and budget")
    args = parser.parse_args()
    if args.table:
        show(args.records, args.markdown, args.all_records)
        return
    args.records.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="podium-runs-") as scratch:
        out = (args.out or Path(scratch)).expanduser().resolve()
        for seed in args.seeds:
            for budget in args.budgets:
                for task in args.tasks:
                    # the code each run used: read before every run (a round can outlive a commit)
                    record = run_one(task, seed, budget, out, not args.no_peer, git_state())
                    with args.records.open("a") as sink:
                        sink.write(json.dumps(record) + "\n")
                    print(f"{task} seed {seed} {budget:g} s: podium {fmt(record['podium_score'], '.5g')} "
                          f"({record['podium_wall_s']:.0f} s, exit {record['podium_exit_code']}), AutoGluon alone "
                          f"{fmt(record['ag_score'], '.5g')} ({fmt(record['ag_wall_s'], '.0f')} s)", flush=True)
    print()
    show(args.records, args.markdown, args.all_records)


if __name__ == "__main__":
    main()
