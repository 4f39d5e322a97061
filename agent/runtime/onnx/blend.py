"""A blend (agent/runtime/blend.py): the weighted sum of its members' predictions, each member converted by its
own converter, so any family with a converter can be a member."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agent.runtime.onnx.graph import Graph


def blend_prediction(graph: Graph, matrix: str, runtime: Any, convert: Callable[[Graph, str, Any], str]) -> str:
    """sum(w_i p_i) over the members' predictions (`convert`: the registry's, for any member kind); the
    runtime's weights already sum to 1."""
    total = None
    for weight, member in zip(runtime.weights, runtime.members, strict=True):
        term = graph.op("Mul", [convert(graph, matrix, member), graph.const(float(weight), "weight")], "weighted")
        total = term if total is None else graph.op("Add", [total, term], "blend")
    return total
