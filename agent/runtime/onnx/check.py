"""The export's own test: the graph, run by ONNX Runtime, must give what load_model gives on rows that visit every
listed category, the "other" code (an unseen value), missing values ('' and None), whitespace, the training
range's ends and beyond, and random numbers; the graph is written only if they agree."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from agent.errors import PodiumError
from agent.runtime.model import ProductionModel
from agent.runtime.onnx.feeds import onnx_feeds
from agent.runtime.schema import CATEGORICAL, Schema

RTOL = 1e-6
UNSEEN = "podium-onnx-unseen-category"
MIN_ROWS, MAX_ROWS = 64, 4096


@dataclass(frozen=True)
class Agreement:
    rows: int
    max_relative_difference: float


def probe_rows(schema: Schema, seed: int = 0) -> pd.DataFrame:
    """Rows built from schema.json alone (the artifact holds no training rows), each column cycling through its
    values of interest, shuffled independently so the columns combine."""
    rng = np.random.default_rng(seed)
    values: dict[str, list] = {}
    for column in schema.columns:
        if column.kind == CATEGORICAL:
            unseen = [UNSEEN] if schema.unseen == "other" or not column.categories_complete else []
            padded = [f" {key} " for key in column.categories[:50]]  # found again once trimmed
            values[column.name] = [*column.categories, *padded, *unseen, "", "  ", None]
        else:
            low, high = (column.min, column.max) if column.min is not None else (0.0, 1.0)
            spread = max(high - low, 1.0)
            values[column.name] = [low, high, (low + high) / 2, np.nan, low - spread, high + spread, 0.0]
    n = min(MAX_ROWS, max(MIN_ROWS, *(len(v) + 1 for v in values.values())))
    data = {}
    for column in schema.columns:
        listed = values[column.name]
        cycle = [listed[i % len(listed)] for i in range(n)]
        if column.kind != CATEGORICAL:
            low, high = (column.min, column.max) if column.min is not None else (0.0, 1.0)
            blocks = len(listed)  # every other block of len(listed) rows: random numbers in the range
            cycle = [rng.uniform(low, high) if (i // blocks) % 2 else v for i, v in enumerate(cycle)]
        data[column.name] = pd.Series(np.asarray(cycle, dtype=object)[rng.permutation(n)],
                                      dtype=object if column.kind == CATEGORICAL else float)
    return pd.DataFrame(data)


def relative_difference(expected: np.ndarray, got: np.ndarray) -> float:
    """max |got - expected| / |expected|, with |expected| floored at 1e-12 of the largest value (a value that
    is 0 up to rounding has no meaningful relative error)."""
    expected, got = np.asarray(expected, dtype=float), np.asarray(got, dtype=float)
    if expected.shape != got.shape:
        return float("inf")
    floor = 1e-12 * max(1.0, float(np.nanmax(np.abs(expected))) if expected.size else 1.0)
    difference = np.abs(got - expected) / np.maximum(np.abs(expected), floor)
    difference[np.isnan(expected) & np.isnan(got)] = 0.0
    return float(np.nan_to_num(difference, nan=np.inf).max()) if difference.size else 0.0


def check_agreement(model: ProductionModel, onnx_bytes: bytes, rows: pd.DataFrame | None = None) -> Agreement:
    """Run the graph on `rows` (default probe_rows) and compare both outputs with load_model's; raise on any
    disagreement beyond RTOL (or on a different label)."""
    rows = probe_rows(model.schema) if rows is None else rows
    prediction, served = run_graph(onnx_bytes, onnx_feeds(rows, model.schema))
    expected = model.predict_raw(rows)
    worst = relative_difference(expected, prediction)
    formatted = model.output.format(expected)
    if formatted.dtype == object:
        labels_agree = [str(a) for a in formatted] == [str(b) for b in served.tolist()]
        worst = worst if labels_agree else float("inf")
    else:
        worst = max(worst, relative_difference(formatted, served))
    if not worst <= RTOL:
        raise PodiumError(f"The ONNX graph disagrees with load_model on {len(rows)} probe rows (largest relative "
                          f"difference {worst:.3g}, allowed {RTOL:g}); nothing was written",
                          fix="report this as a podium bug with the artifact; serve it with podium serve meanwhile")
    return Agreement(len(rows), worst)


def run_graph(onnx_bytes: bytes, feeds: dict[str, np.ndarray], threads: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Both outputs (prediction, submission) of a graph run by ONNX Runtime on the CPU."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = threads
    session = onnxruntime.InferenceSession(onnx_bytes, options, providers=["CPUExecutionProvider"])
    prediction, served = session.run(["prediction", "submission"], feeds)
    return prediction, served
