"""OutputSpec.format (agent/runtime/output.py) as ONNX ops: the submission's values from the raw prediction.
Every format is a few elementwise ops, so the graph serves both podium's raw prediction and the submission's."""

from __future__ import annotations

from typing import Any

import numpy as np

from agent.competition.inference import CLASS_PROBABILITIES, LABELS, PROBABILITY, VALUES
from agent.runtime.onnx.graph import Graph
from agent.runtime.output import OutputSpec


def submission(graph: Graph, raw: str, spec: OutputSpec, matrix: bool) -> tuple[str, int, list[Any]]:
    """The submission output of `raw` ((N, K) when `matrix`, else (N,)): its name, element type and shape."""
    from onnx import TensorProto

    fmt = spec.submission_format
    if fmt == VALUES:
        if spec.floor is None:
            return raw, TensorProto.DOUBLE, ["N"]
        return graph.op("Max", [raw, graph.const(float(spec.floor), "floor")], "values"), TensorProto.DOUBLE, ["N"]
    if fmt != LABELS:
        zero, one = graph.const(0.0, "zero"), graph.const(1.0, "one")
    if fmt == PROBABILITY:
        values = _last_column(graph, raw) if matrix else raw
        return graph.op("Clip", [values, zero, one], "probability"), TensorProto.DOUBLE, ["N"]
    if fmt == CLASS_PROBABILITIES:
        if not matrix:
            column = graph.op("Unsqueeze", [raw, graph.const([1], "axis", np.int64)])
            raw = graph.op("Concat", [graph.op("Sub", [one, column]), column], "two_classes", axis=1)
        clipped = graph.op("Clip", [raw, zero, one])
        total = graph.op("ReduceSum", [clipped, graph.const([1], "axis", np.int64)], keepdims=1)
        return graph.op("Div", [clipped, total], "class_probabilities"), TensorProto.DOUBLE, ["N", len(spec.classes)]
    if fmt == LABELS:
        if matrix:
            codes = graph.op("ArgMax", [raw], "codes", axis=1, keepdims=0)
        else:
            positive = graph.op("GreaterOrEqual", [raw, graph.const(0.5, "half")])
            codes = graph.op("Cast", [positive], "codes", to=TensorProto.INT64)
        classes, elem_type = label_tensor(spec.classes)
        return graph.op("Gather", [graph.const(classes, "classes"), codes], "labels", axis=0), elem_type, ["N"]
    raise ValueError(f"unknown submission format {fmt!r}")


def label_tensor(classes: tuple[Any, ...]) -> tuple[np.ndarray, int]:
    """The classes as one tensor: int64 when all are integers, double when all are numbers, else strings."""
    from onnx import TensorProto

    values = [c.item() if isinstance(c, np.generic) else c for c in classes]
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return np.asarray(values, dtype=np.int64), TensorProto.INT64
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return np.asarray(values, dtype=np.float64), TensorProto.DOUBLE
    return np.asarray([str(v) for v in values], dtype=object), TensorProto.STRING


def _last_column(graph: Graph, matrix: str) -> str:
    return graph.op("Gather", [matrix, graph.const(-1, "last", np.int64)], "last", axis=1)
