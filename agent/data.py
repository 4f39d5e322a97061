"""Read a competition's tables with errors that say which file is wrong and how."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from agent.errors import InputError


@dataclass(frozen=True)
class CompetitionData:
    """The three tables every tabular competition ships."""

    train: pd.DataFrame
    test: pd.DataFrame
    sample_submission: pd.DataFrame


def read_table(path: Path, role: str) -> pd.DataFrame:
    """Read one CSV (plain or compressed); refuse a missing, empty or non-tabular file clearly."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"The {role} file is missing", where=str(path),
                         fix=f"put the competition's {role} CSV there, or point podium at the right folder")
    if path.stat().st_size == 0:
        raise InputError(f"The {role} file is empty", where=str(path), fix="download the competition's files again")
    try:
        frame = pd.read_csv(path, low_memory=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError, OSError) as exc:
        raise InputError(f"The {role} file is not a readable CSV table ({type(exc).__name__}: {exc})",
                         where=str(path), fix="check that it is a comma-separated file with a header row") from exc
    if frame.shape[1] < 2 or frame.empty:
        raise InputError(
            f"The {role} file has {frame.shape[1]} column(s) and {len(frame)} row(s): not a competition table",
            where=str(path), fix="check that it is a comma-separated file with a header row and data rows")
    duplicated = frame.columns[frame.columns.duplicated()].tolist()
    if duplicated:
        raise InputError(f"The {role} file repeats column names {duplicated}", where=str(path),
                         fix="give every column a unique name")
    return frame


def read_competition(train: Path, test: Path, sample_submission: Path) -> CompetitionData:
    return CompetitionData(
        train=read_table(train, "train"),
        test=read_table(test, "test"),
        sample_submission=read_table(sample_submission, "sample submission"),
    )
