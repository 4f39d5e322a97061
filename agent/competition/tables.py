"""Read a competition's tables with errors that say which file is wrong and how."""

from __future__ import annotations

import lzma
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from agent.competition.decompress import TooLarge, check_size, open_table
from agent.config import Limits, Settings
from agent.errors import InputError

# A header line longer than this is not a table podium can model (about a million columns).
MAX_HEADER_BYTES = 16 * 2**20
UNREADABLE = (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError, OSError, EOFError,
              zipfile.BadZipFile, zlib.error, lzma.LZMAError)


@dataclass(frozen=True)
class CompetitionData:
    """The three tables every tabular competition ships."""

    train: pd.DataFrame
    test: pd.DataFrame
    sample_submission: pd.DataFrame
    files: dict[str, Path] = field(default_factory=dict)  # role -> the file it was read from, for errors


def read_table(path: Path, role: str, limits: Limits | None = None) -> pd.DataFrame:
    """Read one CSV (plain or compressed, decompressed within `limits`); refuse a missing, empty, oversized or
    non-tabular file clearly, and a header that repeats a name (pandas would silently rename it `name.1`).

    The table's size is counted first, in constant memory (decompress.check_size): only a table within the
    limits reaches pandas, so the limits bound what reading it can take."""
    path = Path(path)
    limits = limits or Settings().table_limits()
    if not path.is_file():
        raise InputError(f"The {role} file is missing", where=str(path),
                         fix=f"put the competition's {role} CSV there, or point podium at the right folder")
    if path.stat().st_size == 0:
        raise InputError(f"The {role} file is empty", where=str(path), fix="download the competition's files again")
    try:
        check_size(path, limits)
        header = _header(path, role, limits)
        with open_table(path, limits) as stream:
            frame = pd.read_csv(stream, low_memory=False)
    except TooLarge as exc:
        raise TooLarge(f"The {role} file is too large to read. {exc.what}", where=exc.where, fix=exc.fix) from None
    except UNREADABLE as exc:
        raise InputError(f"The {role} file is not a readable CSV table ({type(exc).__name__}: {exc})",
                         where=str(path), fix="check that it is a comma-separated file with a header row") from exc
    if frame.shape[1] < 2 or frame.empty:
        raise InputError(
            f"The {role} file has {frame.shape[1]} column(s) and {len(frame)} row(s): not a competition table",
            where=str(path), fix="check that it is a comma-separated file with a header row and data rows")
    duplicated = sorted(name for name, count in Counter(header).items() if count > 1)
    if duplicated:
        raise InputError(f"The {role} file repeats column names {duplicated}", where=str(path),
                         fix="give every column a unique name")
    return frame


def _header(path: Path, role: str, limits: Limits) -> list[str]:
    """The header's column names exactly as written (before pandas renames repeats to `name.1`).

    The first line is read with a bound first, so a runaway header cannot fill the memory.
    """
    with open_table(path, limits) as stream:
        line = stream.readline(MAX_HEADER_BYTES + 1)
    if len(line) > MAX_HEADER_BYTES:
        raise InputError(f"The {role} file's header line is longer than {MAX_HEADER_BYTES:,} bytes",
                         where=str(path), fix="check that the file has line breaks and a header of column names")
    with open_table(path, limits) as stream:
        first = pd.read_csv(stream, header=None, nrows=1, dtype=str, keep_default_na=False)
    return first.iloc[0].tolist() if len(first) else []


def read_competition(train: Path, test: Path, sample_submission: Path,
                     limits: Limits | None = None) -> CompetitionData:
    return CompetitionData(
        train=read_table(train, "train", limits),
        test=read_table(test, "test", limits),
        sample_submission=read_table(sample_submission, "sample submission", limits),
        files={"train": Path(train), "test": Path(test), "sample_submission": Path(sample_submission)},
    )
