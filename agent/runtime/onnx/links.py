"""podium's links (agent/runtime/runtimes.apply_link) as ONNX ops, written out as numpy writes them so the graph
agrees with load_model to the last bits: 1 / (1 + exp(-x)), a max-shifted softmax, expm1."""

from __future__ import annotations

import numpy as np

from agent.runtime.onnx.graph import Graph
from agent.runtime.runtimes import SIGMOID, SOFTMAX

EXPM1_SERIES_BELOW = 1e-5  # |x| under which exp(x) - 1 loses digits: three terms of the series instead


def apply_link(graph: Graph, scores: str, link: str, log_target: bool) -> str:
    """Raw scores ((N,) or, for softmax, (N, K)) to podium's convention."""
    if link == SIGMOID:
        one = graph.const(1.0, "one")
        return graph.op("Div", [one, graph.op("Add", [one, graph.op("Exp", [graph.op("Neg", [scores])])])], "p")
    if link == SOFTMAX:
        axis = graph.const([1], "axis", np.int64)
        shifted = graph.op("Exp", [graph.op("Sub", [scores, graph.op("ReduceMax", [scores, axis], keepdims=1)])])
        return graph.op("Div", [shifted, graph.op("ReduceSum", [shifted, axis], keepdims=1)], "probabilities")
    return expm1(graph, scores) if log_target else scores


def expm1(graph: Graph, x: str) -> str:
    """exp(x) - 1, accurate near 0 as numpy's expm1: x (1 + x/2 (1 + x/3)) where |x| is tiny."""
    one = graph.const(1.0, "one")
    series = graph.op("Mul", [x, graph.op("Add", [one, graph.op("Mul", [
        graph.op("Div", [x, graph.const(2.0, "two")]),
        graph.op("Add", [one, graph.op("Div", [x, graph.const(3.0, "three")])])])])])
    direct = graph.op("Sub", [graph.op("Exp", [x]), one])
    tiny = graph.op("Less", [graph.op("Abs", [x]), graph.const(EXPM1_SERIES_BELOW, "tiny")])
    return graph.op("Where", [tiny, series, direct], "expm1")


def column_vector(graph: Graph, matrix: str) -> str:
    """(N, 1) to (N,): podium's binary and regression predictions are one value per row."""
    return graph.op("Reshape", [matrix, graph.const([-1], "flat", np.int64)], "values")
