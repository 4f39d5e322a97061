"""What the production model gives up on the hidden answers, for the runs of a finished round.

    .venv/bin/python benchmarks/production_hidden.py OUT [OUT ...]

For every podium run of a `benchmarks/runs.py` round (OUT/runs/sSEED-bBUDGET/<system>/<task>/<run>): the
leaderboard submission and the production model (loaded from its artifact, predicting the raw test rows) are
graded on the hidden answers, beside the card's estimate out of fold. Why both: a leaderboard model that
stacks has an optimistic out-of-fold score (its second level learns from predictions made on the rows it is
scored on), so "given up" out of fold can overstate the price of the production model; the hidden answers do
not flatter either side. New rounds record it per run (`given_up_hidden`); this reads rounds run before that.
One JSON line per run, appended to benchmarks/results/production_hidden.jsonl.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.records import given_up  # noqa: E402
from benchmarks.runs import hidden, production_hidden  # noqa: E402

RECORDS = ROOT / "benchmarks" / "results" / "production_hidden.jsonl"
RUNS = ROOT / "benchmarks" / "results" / "runs.jsonl"


def commits() -> dict[str, str]:
    """run directory -> the commit its round ran (from the round's own records)."""
    if not RUNS.is_file():
        return {}
    found = {}
    for line in RUNS.read_text().splitlines():
        record = json.loads(line)
        if record.get("run_dir"):
            found[record["run_dir"]] = record.get("git_commit")
    return found


def rescore(out: Path) -> list[dict]:
    from agent.competition.inference import Competition

    lines, commit_of = [], commits()
    for run_dir in sorted(out.glob("runs/*/*/*/2*")):
        if not (run_dir / "production" / "model_card.json").is_file():
            continue
        task, round_name = run_dir.parent.name, run_dir.parents[2].name  # sSEED-bBUDGET
        seed, budget = round_name.split("-")
        manifest = json.loads((run_dir / "manifest.json").read_text())
        competition = Competition.from_dict(manifest["competition"])
        folder = out / "competitions" / seed / task
        board, _ = hidden(competition, folder, run_dir / "submission.csv")
        production, error = production_hidden(competition, folder, run_dir)
        card = json.loads((run_dir / "production" / "model_card.json").read_text())
        lines.append({"task": task, "seed": int(seed[1:]), "budget": float(budget[1:]), "run": run_dir.name,
                      "git_commit": commit_of.get(str(run_dir)),
                      "family": card["model"]["family"], "leaderboard_hidden": board, "production_hidden": production,
                      "error": error,
                      "given_up_hidden": given_up(production, board, bool(competition.metric.greater_is_better)),
                      "given_up_oof": given_up(card["validation"]["score"], card["leaderboard"]["score"])})
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="+", type=Path, help="the --out folder of a benchmarks/runs.py round")
    args = parser.parse_args()
    for out in args.out:
        for line in rescore(out):
            with RECORDS.open("a") as records:
                records.write(json.dumps(line) + "\n")
            shown = {k: (round(100 * v, 2) if k.startswith("given_up") and v is not None else v)
                     for k, v in line.items() if k not in ("run", "git_commit")}
            print(json.dumps(shown), flush=True)


if __name__ == "__main__":
    main()
