"""The validation gap with the target's own shift taken out: how much of |OOF - hidden| is the folds' fault.

    .venv/bin/python benchmarks/validation_shift.py --competitions OUT/competitions/s0 [--records FILE]

An error in the target's units (RMSE, MAE) grows with the target's spread: when the test period is rainier than
the training years, the hidden RMSE is larger than any validation on the training years can show, however the
folds were drawn. Dividing each score by its own table's target standard deviation (train's for the
out-of-fold score, the hidden answers' for the hidden score) compares skill with skill; what gap remains is
what the folds got wrong. Scores without units (AUC, accuracy, log loss) are shown as they are. Reads the
podium records of `benchmarks/runs.py` and the competitions it built (`--out` of that run).
"""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from records import load_records, score_of, system_of, validation_gap  # noqa: E402

IN_TARGET_UNITS = ("Root Mean Squared Error", "Mean Absolute Error")


@functools.cache
def target_spreads(folder: Path) -> tuple[float, float] | None:
    """The target's standard deviation in train and in the hidden answers; None for a non-numeric target."""
    train = pd.read_csv(folder / "public" / "train.csv")
    answers = pd.read_csv(folder / "private" / "answers.csv")
    target = next((c for c in answers.columns if c in train.columns and c != answers.columns[0]), None)
    if target is None or train[target].dtype.kind not in "if":
        return None
    return float(train[target].std()), float(answers[target].std())


def table(records: list[dict], competitions: Path) -> pd.DataFrame:
    rows = []
    for record in records:
        folder = competitions / str(record.get("task"))
        if not system_of(record).startswith("podium") or not record.get("split") or not folder.is_dir():
            continue
        oof, hidden = record.get("lb_oof"), score_of(record)
        spreads = target_spreads(folder) if record.get("metric") in IN_TARGET_UNITS else None
        raw = validation_gap(oof, hidden)
        skill = None if spreads is None or oof is None or hidden is None else \
            validation_gap(oof / spreads[0], hidden / spreads[1])
        rows.append({"task": record["task"], "system": system_of(record), "split": record["split"],
                     "oof": oof, "hidden": hidden, "gap %": None if raw is None else round(100 * raw, 2),
                     "sd train": None if spreads is None else round(spreads[0], 3),
                     "sd hidden": None if spreads is None else round(spreads[1], 3),
                     "gap of skill %": None if skill is None else round(100 * skill, 2)})
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--competitions", type=Path, required=True, help="OUT/competitions/sSEED of runs.py")
    parser.add_argument("--records", type=Path, default=ROOT / "benchmarks" / "results" / "runs.jsonl")
    args = parser.parse_args()
    frame = table(load_records(args.records), args.competitions)
    print(frame.to_string(index=False) if not frame.empty else "no podium record with a split for these competitions")


if __name__ == "__main__":
    main()
