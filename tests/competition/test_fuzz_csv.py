"""Property-based: whatever bytes a table file holds, reading it gives a usable table or podium's own error."""

from __future__ import annotations

import gzip
import string

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.competition.tables import read_table
from agent.errors import InputError

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
CELL = st.one_of(st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True),
                 st.text(string.printable, max_size=12), st.none())


def _check(path) -> None:
    try:
        frame = read_table(path, "train")
    except InputError as error:
        assert error.what and error.fix and str(path) in (error.where or "")
    else:
        assert frame.shape[1] >= 2 and len(frame) >= 1
        assert frame.columns.is_unique


@FAST
@given(data=st.binary(max_size=4000), compressed=st.booleans())
def test_any_bytes_are_a_table_or_a_clear_error(tmp_path_factory, data, compressed):
    folder = tmp_path_factory.mktemp("csv")
    path = folder / ("train.csv.gz" if compressed else "train.csv")
    path.write_bytes(gzip.compress(data) if compressed else data)
    _check(path)


@FAST
@given(header=st.lists(st.text(string.printable.replace("\r", ""), min_size=0, max_size=8), min_size=1, max_size=8),
       rows=st.lists(st.lists(CELL, min_size=1, max_size=8), min_size=0, max_size=20))
def test_text_tables_with_odd_headers_and_cells_never_crash(tmp_path_factory, header, rows):
    path = tmp_path_factory.mktemp("csv") / "train.csv"
    width = len(header)
    pd.DataFrame([(row + [None] * width)[:width] for row in rows], columns=range(width)).to_csv(
        path, index=False, header=header)
    _check(path)
    names = [str(h) for h in header]
    if len(set(names)) < len(names) and rows and width >= 2:  # a repeated name is always refused, by name
        try:
            read_table(path, "train")
        except InputError as error:
            assert "repeats column names" in error.what or "not a readable" in error.what or "column(s)" in error.what
        else:
            raise AssertionError(f"repeated names {names} were accepted")
