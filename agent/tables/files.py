"""Read a table file, CSV (plain or compressed) or Parquet, within the byte limits, with errors that say which
file is wrong and how.

CSV: the size is counted first, in constant memory (decompress.check_size): only a table within the limits
reaches pandas, so the limits bound what parsing it can take. Parquet: its metadata declares rows and
uncompressed bytes, checked before anything is decoded, but metadata can lie (and a dictionary-encoded column
declares far fewer bytes than it decodes to), so the decoded batches are counted too, as they come, and
reading stops at the limit.
"""

from __future__ import annotations

import lzma
import zipfile
import zlib
from pathlib import Path

import pandas as pd

from agent.config import Limits
from agent.errors import InputError
from agent.tables.decompress import TooLarge, check_size, open_table, too_large
from agent.tables.frames import check_columns, to_frame

# A header line longer than this is not a table podium can model (about a million columns).
MAX_HEADER_BYTES = 16 * 2**20
UNREADABLE = (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError, OSError, EOFError,
              zipfile.BadZipFile, zlib.error, lzma.LZMAError)
PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
PARQUET_MAGIC = b"PAR1"
BATCH_ROWS = 65_536  # Parquet rows decoded at a time: the step at which decoded bytes are counted


def is_parquet(path: Path) -> bool:
    """By its name, or by its first bytes (a Parquet file begins with PAR1 whatever it is called)."""
    if path.name.lower().endswith(PARQUET_SUFFIXES):
        return True
    with path.open("rb") as handle:
        return handle.read(4) == PARQUET_MAGIC


def read_file(path: Path, role: str, limits: Limits) -> pd.DataFrame:
    """One table file as a DataFrame: missing, empty, oversized, unreadable or badly named files refused."""
    if not path.is_file():
        raise InputError(f"The {role} file is missing", where=str(path),
                         fix=f"put the {role} table there (CSV or Parquet), or point podium at the right file")
    if path.stat().st_size == 0:
        raise InputError(f"The {role} file is empty", where=str(path), fix="write or download the file again")
    return read_parquet(path, role, limits) if is_parquet(path) else read_csv(path, role, limits)


def read_csv(path: Path, role: str, limits: Limits) -> pd.DataFrame:
    """A CSV, refusing a header that repeats a name (pandas would silently rename it `name.1`)."""
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
    check_columns(header, f"{role} file", str(path), allow_empty=True)
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


def read_parquet(path: Path, role: str, limits: Limits) -> pd.DataFrame:
    """A Parquet file: declared sizes checked, then decoded batch by batch, counting what comes out."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    where, compressed = str(path), path.stat().st_size
    allowed = limits.allowed(compressed)
    fix = "check that it is a Parquet file (written by pandas, pyarrow, Spark, DuckDB...), or write it again"
    try:
        handle = pq.ParquetFile(path)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise InputError(f"The {role} file is not a readable Parquet file ({type(exc).__name__}: {exc})",
                         where=where, fix=fix) from None
    with handle:
        metadata = handle.metadata
        check_columns(handle.schema_arrow.names, f"{role} file", where)
        declared = sum(metadata.row_group(i).total_byte_size for i in range(metadata.num_row_groups))
        if declared > allowed:
            raise TooLarge(f"The {role} file is too large to read. Its metadata declares {declared:,} bytes "
                           f"uncompressed, over the {allowed:,} podium reads", where=where,
                           fix=f"nothing was read; if this file is genuine, raise {limits.max_bytes_setting}")
        batches, seen, rows = [], 0, 0
        try:
            for batch in handle.iter_batches(batch_size=BATCH_ROWS, use_threads=False):
                seen += batch.nbytes
                rows += batch.num_rows
                if seen > allowed:
                    exc = too_large(where, seen, allowed, limits, compressed)
                    raise TooLarge(f"The {role} file is too large to read: its metadata declared {declared:,} "
                                   f"bytes, but it decodes to more. {exc.what}", where=where, fix=exc.fix)
                if rows > metadata.num_rows:
                    raise InputError(f"The {role} file decodes to more rows than its metadata declares "
                                     f"({metadata.num_rows:,})", where=where, fix=fix)
                batches.append(batch)
        except (pa.ArrowException, OSError, ValueError, EOFError) as exc:
            raise InputError(f"The {role} file is a damaged Parquet file ({type(exc).__name__}: {exc})",
                             where=where, fix=fix) from None
        table = pa.Table.from_batches(batches, schema=handle.schema_arrow)
    del batches
    return to_frame(table)
