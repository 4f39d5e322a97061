"""Arrow tables to the pandas frames podium works on, keeping what the types say, and the checks every table
gets whatever it was read from.

Why not `Table.to_pandas()` alone: it turns an integer column with a missing value into floats, a date into
Python objects and a boolean with a missing value into objects. Here an integer stays an integer (pandas'
nullable Int64 when values are missing), a date or a timestamp a datetime64 column, a dictionary-encoded
column (Parquet's, pandas' categoricals) a categorical, a boolean a boolean, and a decimal (PostgreSQL's
numeric) a float.
"""

from __future__ import annotations

from collections import Counter

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from agent.errors import InputError

_NULLABLE = {pa.int8(): pd.Int8Dtype(), pa.int16(): pd.Int16Dtype(), pa.int32(): pd.Int32Dtype(),
             pa.int64(): pd.Int64Dtype(), pa.uint8(): pd.UInt8Dtype(), pa.uint16(): pd.UInt16Dtype(),
             pa.uint32(): pd.UInt32Dtype(), pa.uint64(): pd.UInt64Dtype(), pa.bool_(): pd.BooleanDtype()}


def to_frame(table: pa.Table) -> pd.DataFrame:
    """`table` as a DataFrame with its types kept (see the module's docstring); its names checked first."""
    table = pa.table([_plain(field.type, column) for field, column in zip(table.schema, table.columns, strict=True)],
                     names=table.column_names)
    frame = table.to_pandas(date_as_object=False)
    for name, column in zip(table.column_names, table.columns, strict=True):
        if column.null_count and column.type in _NULLABLE:  # only where needed: a complete column stays numpy
            frame[name] = column.to_pandas(types_mapper=_NULLABLE.get)
    return frame


def _plain(kind: pa.DataType, column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A column pandas holds well: decimals as floats, extension types (a driver's opaque numeric) by their
    storage, cast to float when that is numbers written as text."""
    if isinstance(kind, pa.BaseExtensionType):
        storage = pa.chunked_array([chunk.storage for chunk in column.chunks], type=kind.storage_type)
        if pa.types.is_string(kind.storage_type) and getattr(kind, "type_name", "") == "numeric":
            return pc.cast(storage, pa.float64())
        return storage
    if pa.types.is_decimal(kind):
        return pc.cast(column, pa.float64())
    if pa.types.is_date(kind):
        return pc.cast(column, pa.timestamp("us"))
    return column


def check_columns(names: list, role: str, where: str, allow_empty: bool = False) -> None:
    """Refuse a table podium cannot tell columns apart in: a repeated name, or an empty one (`allow_empty`: a
    CSV's unnamed column, often a saved index, which pandas names `Unnamed: 0`)."""
    names = [str(name) if name is not None else "" for name in names]
    empty = [i for i, name in enumerate(names) if not name.strip()]
    if empty and not allow_empty:
        raise InputError(f"The {role} has a column without a name (column {empty[0] + 1})", where=where,
                         fix="give every column a name (a query: `AS name` for every computed column)")
    duplicated = sorted(name for name, count in Counter(names).items() if count > 1)
    if duplicated:
        raise InputError(f"The {role} repeats column names {duplicated}", where=where,
                         fix="give every column a unique name (a query joining tables: `AS` to rename)")

