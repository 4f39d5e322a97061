"""One converter per runtime kind: the runtime's raw prediction (podium's convention, after the link) as ONNX
ops on the encoded matrix. A new model family exports once it has an entry here; a blend is the weighted sum
of its members' converters (agent/runtime/onnx/blend.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from agent.runtime.onnx.blend import blend_prediction
from agent.runtime.onnx.graph import Graph
from agent.runtime.onnx.lightgbm import tree_scores
from agent.runtime.onnx.linear import linear_scores
from agent.runtime.onnx.links import apply_link, column_vector
from agent.runtime.runtimes import SOFTMAX, LightGBMRuntime

Converter = Callable[[Graph, str, Any], str]

# Why each family that is not here cannot be exported (onnx_exportable names it)
NOT_CONVERTIBLE = {
    "autogluon": "an AutoGluon model is a Python predictor (several models, its own feature pipeline) that has "
                 "no ONNX form; choose a compact model (production.families without autogluon) to export it",
    "catboost": "a CatBoost model is not converted (CatBoost's own ONNX export refuses categorical features, and "
                "podium writes graphs for LightGBM and linear models); serve it with podium serve",
    "models": "a blend of models that read different encodings (AutoGluon's and podium's) is not converted: one "
              "graph has one encoder in front; serve it with podium serve",
}


def lightgbm_prediction(graph: Graph, matrix: str, runtime: LightGBMRuntime) -> str:
    scores, per_iteration = tree_scores(graph, matrix, runtime.booster.dump_model())
    base = runtime.base if per_iteration > 1 else runtime.base[:1]
    scores = graph.op("Add", [scores, graph.const(np.asarray(base, dtype=np.float64), "base")], "raw")
    if runtime.link != SOFTMAX:
        scores = column_vector(graph, scores)
    return apply_link(graph, scores, runtime.link, runtime.log_target)


CONVERTERS: dict[str, Converter] = {
    "lightgbm": lightgbm_prediction,
    "linear": linear_scores,
    "blend": lambda graph, matrix, runtime: blend_prediction(graph, matrix, runtime, convert),
}


def convert(graph: Graph, matrix: str, runtime: Any) -> str:
    """The raw prediction of `runtime` (any kind in CONVERTERS) as a node of `graph`."""
    return CONVERTERS[runtime.kind](graph, matrix, runtime)


def kinds(runtime: Any) -> list[str]:
    """The kinds of a runtime and, for a blend, of every member: what must all be convertible."""
    members = getattr(runtime, "members", None) or []
    return [runtime.kind] + [kind for member in members for kind in kinds(member)]
