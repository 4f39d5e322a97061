"""A blend (agent/runtime/blend.py): the weighted sum of its members' predictions, or their logistic stacker
(agent/runtime/stacker.py), each member converted by its own converter, so any family with a converter can be a
member."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from agent.runtime.onnx.graph import Graph
from agent.runtime.onnx.links import apply_link, column_vector
from agent.runtime.runtimes import SIGMOID
from agent.runtime.stacker import EPSILON, LogisticStacker


def blend_prediction(graph: Graph, matrix: str, runtime: Any, convert: Callable[[Graph, str, Any], str]) -> str:
    """sum(w_i p_i) over the members' predictions (`convert`: the registry's, for any member kind); the
    runtime's weights already sum to 1. A stacked blend applies its stacker instead."""
    outputs = [convert(graph, matrix, member) for member in runtime.members]
    if runtime.stacker is not None:
        return stacker_prediction(graph, outputs, runtime.stacker)
    total = None
    for weight, output in zip(runtime.weights, outputs, strict=True):
        term = graph.op("Mul", [output, graph.const(float(weight), "weight")], "weighted")
        total = term if total is None else graph.op("Add", [total, term], "blend")
    return total


def stacker_prediction(graph: Graph, outputs: list[str], stacker: LogisticStacker) -> str:
    """The stacker's ops as numpy runs them (stack_features, then the linear layer and the link)."""
    low, high = graph.const(EPSILON, "low"), graph.const(1.0 - EPSILON, "high")
    one, column = graph.const(1.0, "one"), graph.const([-1, 1], "column", np.int64)
    features = []
    for output in outputs:
        p = graph.op("Clip", [output, low, high], "clipped")
        if stacker.link == SIGMOID:
            odds = graph.op("Sub", [graph.op("Log", [p]), graph.op("Log", [graph.op("Sub", [one, p])])], "log_odds")
            features.append(graph.op("Reshape", [odds, column], "log_odds_column"))
        else:
            features.append(graph.op("Log", [p], "log_probabilities"))
    inputs = features[0] if len(features) == 1 else graph.op("Concat", features, "stacked", axis=1)
    scores = graph.op("Add", [graph.op("MatMul", [inputs, graph.const(stacker.coef.T.copy(), "coef")]),
                              graph.const(stacker.intercept, "intercept")], "stacker_scores")
    if stacker.link == SIGMOID:
        scores = column_vector(graph, scores)
    return apply_link(graph, scores, stacker.link, False)
