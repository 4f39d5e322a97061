"""Competitions with several tables (issue 31): podium on the raw folder against AutoGluon alone, a large
history aggregated within its deadline, and the production model's latency with its joins.

    .venv/bin/python benchmarks/relations.py --budget 300 --seed 0 --out /tmp/bench-relations
    .venv/bin/python benchmarks/relations.py --only events --events 5000000 --out /tmp/bench-relations

For each relational task of the development corpus (rodent_weight: lookups only; drag_elimination: a
composite-key lookup and a timed history; movie_ratings: a lookup and a log of 50,001 earlier ratings, with
12,501 hidden rows), at full size:
- `podium run FOLDER --time-limit BUDGET` on the raw folder (side tables and all);
- AutoGluon `best_quality` alone on train.csv (the rows' own columns: what a user without the side tables gets);
- AutoGluon `best_quality` on a table joined by hand: the lookups merged with pandas on the keys podium's run
  found, each history's count and means of its numbers over the events strictly before the row's time
  (`pandas.merge_asof` on running sums): what a careful user writes in an afternoon;
each in a fresh process with the same time, scored on the hidden answers by the arena's grader. Then the
production model's single-row latency from raw test rows (its joins included: a dictionary look-up and a binary
search per relation), against the 1 ms budget.

`--only events`: a synthetic history of EVENTS events for 100,000 keys with a timestamp, two numbers and a
category, related to 200,000 rows by podium's relations code under a deadline of 30% of BUDGET (the load
piece's); prints the seconds, the peak memory of the process and whether every relation finished in time.

One JSON line per measurement, appended to benchmarks/results/relations.jsonl. Never run by the tests.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.runs import git_state, hidden, run_podium  # noqa: E402 - needs ROOT on sys.path

TASKS = ("rodent_weight", "drag_elimination", "movie_ratings")
RECORDS = ROOT / "benchmarks" / "results" / "relations.jsonl"


def record(line: dict[str, Any]) -> None:
    line = {"at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **git_state(), **line}
    print(json.dumps(line, default=str), flush=True)
    RECORDS.parent.mkdir(parents=True, exist_ok=True)
    with RECORDS.open("a") as sink:
        sink.write(json.dumps(line, default=str) + "\n")


# ---------------------------------------------------------------- AutoGluon alone, and on a hand-joined table

def hand_joined(folder: Path, relations: list[dict[str, Any]], row_time: str | None) -> tuple[pd.DataFrame, ...]:
    """train and test joined by hand: lookups merged, histories' counts and means before each row's time."""
    public = folder / "public"
    train, test = pd.read_csv(public / "train.csv"), pd.read_csv(public / "test.csv")
    out = []
    for rows in (train, test):
        rows = rows.copy()
        rows["__order"] = np.arange(len(rows))
        for relation in relations:
            if relation.get("status") != "joined" or relation.get("parent") != "train/test":
                continue
            side = pd.read_csv(public / f"{relation['table']}.csv")
            left = [p for p, _ in relation["on"]]
            right = [s for _, s in relation["on"]]
            if relation["kind"] == "lookup":
                side = side.drop_duplicates(right).rename(columns={c: f"{relation['table']}.{c}" for c in side.columns
                                                                    if c not in right})
                rows = rows.merge(side, left_on=left, right_on=right, how="left", suffixes=("", "_side"))
                continue
            numbers = [c for c in side.select_dtypes("number").columns if c not in right]
            name = relation["table"]
            if relation.get("time") and row_time:
                side = side.assign(__t=pd.to_datetime(side[relation["time"]])).sort_values("__t")
                side[f"{name}.count"] = side.groupby(right).cumcount() + 1
                for column in numbers:
                    side[f"{name}.{column}.mean"] = side.groupby(right)[column].cumsum() / side[f"{name}.count"]
                side = side[[*right, "__t", f"{name}.count", *(f"{name}.{c}.mean" for c in numbers)]]
                rows["__t"] = pd.to_datetime(rows[row_time])
                rows = pd.merge_asof(rows.sort_values("__t"), side, on="__t", left_by=left, right_by=right,
                                     allow_exact_matches=False).drop(columns="__t")
            else:
                agg = side.groupby(right)[numbers].mean().add_prefix(f"{name}.").add_suffix(".mean")
                agg[f"{name}.count"] = side.groupby(right).size()
                rows = rows.merge(agg, left_on=left, right_index=True, how="left")
        out.append(rows.sort_values("__order").drop(columns="__order").reset_index(drop=True))
    return tuple(out)


def run_autogluon(folder: Path, manifest: Path, budget: float, out: Path, joined: bool) -> tuple[Path, float]:
    """AutoGluon best_quality in a fresh process, on train.csv or on the hand-joined table."""
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    subprocess.run([sys.executable, str(Path(__file__).resolve()), "--peer", str(folder), str(manifest), str(budget),
                    str(out), "joined" if joined else "alone"], cwd=ROOT, check=True, capture_output=True,
                   env={**__import__("os").environ, "RAY_ADDRESS": "local"})
    return out / "submission.csv", time.monotonic() - started


def peer(folder: str, manifest: str, budget: str, out: str, how: str) -> None:
    from autogluon.tabular import TabularPredictor

    from agent.competition.inference import Competition
    from agent.competition.submission import build_submission
    from strategies.autogluon_predict import as_prediction

    recorded = json.loads(Path(manifest).read_text())
    comp = Competition.from_dict(recorded["competition"])
    folder_path = Path(folder)
    public = folder_path / "public"
    if how == "joined":
        row_time = (recorded.get("relations") or {}).get("row_time") or {}
        train, test = hand_joined(folder_path, recorded["relations"]["relations"], row_time.get("column"))
    else:
        train, test = pd.read_csv(public / "train.csv"), pd.read_csv(public / "test.csv")
    sample = pd.read_csv(public / "sample_submission.csv")
    features = [c for c in train.columns if c in test.columns and c != comp.id_column and c != comp.target]
    predictor = TabularPredictor(label=comp.target, problem_type=comp.problem_type, path=f"{out}/ag",
                                 eval_metric=comp.metric.ag_scorer(comp.problem_type), verbosity=0,
                                 positive_class=comp.positive_class if comp.problem_type == "binary" else None)
    predictor.fit(train[features + [comp.target]], presets="best_quality", time_limit=float(budget))
    raw = predictor.predict_proba(test[features]) if comp.is_classification else predictor.predict(test[features])
    build_submission(comp, sample, test[comp.id_column], as_prediction(raw, comp)).to_csv(f"{out}/submission.csv",
                                                                                           index=False)


# ---------------------------------------------------------------- one task

def run_task(task: str, budget: float, seed: int, out: Path) -> None:
    from agent.arena.demo import build_from_corpus
    from agent.competition.inference import Competition

    folder = out / "competitions" / f"s{seed}" / task
    if not (folder / "competition.yaml").is_file():
        build_from_corpus(task, folder, seed=seed)
    ran = run_podium(folder, budget, seed, out / "podium" / task, out / "logs" / f"{task}.log", None)
    run_dir = ran["run_dir"]
    manifest = json.loads((run_dir / "manifest.json").read_text()) if run_dir else {}
    competition = Competition.from_dict(manifest["competition"]) if manifest.get("competition") else None
    score, error = hidden(competition, folder, run_dir / "submission.csv") if run_dir else (None, "no run")
    relations = (manifest.get("relations") or {}).get("relations", [])
    record({"task": task, "system": "podium", "budget": budget, "seed": seed, "hidden_score": score, "error": error,
            "wall_s": ran["wall_s"], "relations": [{k: r.get(k) for k in ("table", "kind", "on", "coverage", "status")}
                                                  for r in relations],
            "relation_seconds": (manifest.get("relations") or {}).get("seconds")})
    if run_dir is None:
        return
    for joined in (False, True):
        system = "autogluon:best_quality" + (":hand_joined" if joined else "")
        try:
            submission, wall = run_autogluon(folder, run_dir / "manifest.json", budget,
                                             out / "peers" / task / system.replace(":", "_"), joined)
            score, error = hidden(competition, folder, submission)
        except subprocess.CalledProcessError as failed:
            score, error, wall = None, failed.stderr.decode(errors="replace")[-800:], None
        record({"task": task, "system": system, "budget": budget, "seed": seed, "hidden_score": score,
                "error": error, "wall_s": wall})
    latency(task, run_dir, folder)


def latency(task: str, run_dir: Path, folder: Path) -> None:
    """The production model's single-row latency from raw test rows: its joins inside the figure."""
    from agent.runtime import load_model, measure_latency

    artifact = run_dir / "production"
    if not (artifact / "production.json").is_file():
        record({"task": task, "system": "production", "error": "no production model"})
        return
    model = load_model(artifact)
    rows = pd.read_csv(folder / "public" / "test.csv")[model.schema.input_names]
    report = measure_latency(model, rows, calls=2000)
    card = json.loads((artifact / "model_card.json").read_text())
    record({"task": task, "system": "production", "p50_ms": report.p50_ms, "p99_ms": report.p99_ms,
            "within_1ms": report.p99_ms <= 1.0, "joins": [j.table for j in model.schema.relations],
            "serving_bytes": card["size"]["serving_bytes"], "side_bytes": card["size"].get("side_bytes")})


# ---------------------------------------------------------------- a large history

def events(n_events: int, budget: float, out: Path, n_keys: int = 100_000, n_rows: int = 200_000) -> None:
    from agent.competition.relations.build import relate_tables
    from agent.deadline import Deadline

    rng = np.random.default_rng(0)
    start = np.datetime64("2020-01-01T00:00:00")
    history = pd.DataFrame({"account_id": rng.integers(0, n_keys, n_events),
                            "at": start + rng.integers(0, 3 * 365 * 86400, n_events).astype("timedelta64[s]"),
                            "amount": rng.gamma(2.0, 20.0, n_events), "items": rng.integers(1, 9, n_events),
                            "channel": rng.choice(["web", "shop", "phone", "app"], n_events)})
    when = start + rng.integers(365 * 86400, 3 * 365 * 86400, n_rows).astype("timedelta64[s]")
    rows = pd.DataFrame({"id": np.arange(n_rows), "account_id": rng.integers(0, n_keys, n_rows),
                         "date": pd.to_datetime(when), "y": rng.integers(0, 2, n_rows)})
    train, test = rows.iloc[: n_rows * 3 // 4], rows.iloc[n_rows * 3 // 4:].drop(columns="y")
    deadline_s = 0.3 * budget
    started = time.monotonic()
    related = relate_tables(train, test, {"payments": history}, None, out / "events-relations",
                            Deadline.after(deadline_s))
    seconds = time.monotonic() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    statuses = {r["table"]: r.get("status") for r in related.record["relations"]}
    record({"system": "relations:events", "events": n_events, "keys": n_keys, "rows": n_rows,
            "deadline_s": deadline_s, "seconds": round(seconds, 2), "within_deadline": seconds <= deadline_s,
            "peak_rss_mb": round(peak, 1), "statuses": statuses, "columns": related.record.get("columns")})


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--peer":
        peer(*sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", nargs="*", default=list(TASKS))
    parser.add_argument("--budget", type=float, default=300.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--only", choices=("tasks", "events"), default=None)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.only != "events":
        for task in args.tasks:
            run_task(task, args.budget, args.seed, args.out)
    if args.only != "tasks":
        events(args.events, args.budget, args.out)


if __name__ == "__main__":
    main()
