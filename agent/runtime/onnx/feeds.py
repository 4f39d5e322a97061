"""Raw rows as an exported graph's inputs, converted the plain way a caller in any language would: numbers as
doubles (missing: NaN), categories as their text (`str`, missing: ''); no podium normalisation on the way, so
a test that feeds these checks the graph itself."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from agent.runtime.schema import CATEGORICAL, Schema, is_missing


def onnx_feeds(rows: Any, schema: Schema) -> dict[str, np.ndarray]:
    """{column: (N, 1) array} from a dict, a list of dicts or a DataFrame with the schema's columns."""
    if isinstance(rows, dict):
        rows = [rows]
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame.from_records(list(rows))
    schema.check_columns(frame.columns)
    feeds = {}
    for column in schema.columns:
        values = frame[column.name]
        if column.kind == CATEGORICAL:
            text = ["" if is_missing(v) else str(v) for v in values.tolist()]
            feeds[column.name] = np.asarray(text, dtype=object).reshape(-1, 1)
        else:
            feeds[column.name] = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64).reshape(-1, 1)
    return feeds
