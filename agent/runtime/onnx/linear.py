"""LinearRuntime as ONNX ops: the LinearDesign (impute, clip, standardise, missing flags, one-hot codes), a
matrix product and the link; each step mirrors LinearDesign.transform line by line."""

from __future__ import annotations

import numpy as np

from agent.runtime.onnx.graph import Graph
from agent.runtime.onnx.links import apply_link, column_vector
from agent.runtime.runtimes import SOFTMAX, LinearDesign, LinearRuntime


def design(graph: Graph, matrix: str, spec: LinearDesign) -> str:
    """The (N, width) design matrix from the encoded matrix."""
    parts = []
    if len(spec.numeric):
        values = graph.op("Gather", [matrix, graph.const(spec.numeric, "numeric", np.int64)], "numbers", axis=1)
        missing = graph.op("IsNaN", [values], "missing")
        filled = graph.op("Where", [missing, graph.const(spec.median, "median"), values], "filled")
        clipped = graph.op("Min", [graph.op("Max", [filled, graph.const(spec.low, "low")]),
                                   graph.const(spec.high, "high")], "clipped")
        parts.append(graph.op("Div", [graph.op("Sub", [clipped, graph.const(spec.mean, "mean")]),
                                      graph.const(spec.scale, "scale")], "standardised"))
        if len(spec.flags):
            flags = graph.op("Gather", [missing, graph.const(spec.flags, "flags", np.int64)], "flagged", axis=1)
            parts.append(graph.op("Cast", [flags], "flags", to=_double()))
    for position, (column, width) in enumerate(zip(spec.categorical, spec.widths, strict=True)):
        codes = graph.op("Gather", [matrix, graph.const([column], "categorical", np.int64)], "codes", axis=1)
        code = graph.op("Where", [graph.op("IsNaN", [codes]), graph.const(float(width - 1), "missing_code"),
                                  graph.op("Min", [codes, graph.const(float(width - 2), "other_code")])], "code")
        hot = graph.op("Equal", [code, graph.const(np.arange(width, dtype=np.float64), "levels")])
        parts.append(graph.op("Cast", [hot], f"onehot{position}", to=_double()))
    return parts[0] if len(parts) == 1 else graph.op("Concat", parts, "design", axis=1)


def linear_scores(graph: Graph, matrix: str, runtime: LinearRuntime) -> str:
    """Podium's raw prediction of a linear runtime."""
    scores = graph.op("Add", [graph.op("MatMul", [design(graph, matrix, runtime.design),
                                                  graph.const(runtime.coef.T, "coef")]),
                              graph.const(runtime.intercept, "intercept")], "scores")
    if runtime.link != SOFTMAX:
        scores = column_vector(graph, scores)
    return apply_link(graph, scores, runtime.link, runtime.log_target)


def _double() -> int:
    from onnx import TensorProto

    return TensorProto.DOUBLE
