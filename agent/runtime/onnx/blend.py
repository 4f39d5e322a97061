"""A blend: the weighted sum of its members' raw predictions, each member converted by its own converter.

Written against the planned layout of the blend family (a runtime config {"kind": "blend", "members":
[{"weight": w, "config": <member runtime config>}, ...]}, member i's files under model/m{i}/), which main is
adding in parallel. `load_blend` reads that layout for the export until a BlendRuntime exists; any runtime
with `kind == "blend"` and `members` as (weight, runtime) pairs converts the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from agent.runtime.encoder import Encoder
from agent.runtime.files import MANIFEST
from agent.runtime.model import ProductionModel
from agent.runtime.onnx.graph import Graph
from agent.runtime.output import OutputSpec
from agent.runtime.runtimes import runtime_class
from agent.runtime.schema import Schema


@dataclass
class Blend:
    """The members of a blend with their weights (what the converter needs of a blend runtime), predicting as
    the planned BlendRuntime will, so the export can check its graph against it."""

    members: list[tuple[float, Any]]
    kind: str = "blend"
    input: str = "matrix"

    def raw(self, matrix: np.ndarray) -> np.ndarray:
        total = sum(weight * member.raw(matrix) for weight, member in self.members)
        return total / sum(weight for weight, _ in self.members)


def load_blend(root: Path, config: dict[str, Any]) -> Blend:
    """A blend's members loaded from model/m{i}/ with their own runtime configs."""
    members = []
    for i, member in enumerate(config["members"]):
        folder, member_config = Path(root) / "model" / f"m{i}", member["config"]
        runtime = load_blend(folder, member_config) if member_config["kind"] == "blend" else \
            runtime_class(member_config["kind"]).load(folder, member_config)
        members.append((float(member["weight"]), runtime))
    return Blend(members)


def blend_prediction(graph: Graph, matrix: str, runtime: Any, convert: Callable[[Graph, str, Any], str]) -> str:
    """sum(w_i p_i) / sum(w_i) over the members' predictions (`convert`: the registry's, for any member kind)."""
    total = None
    for weight, member in runtime.members:
        term = graph.op("Mul", [convert(graph, matrix, member), graph.const(float(weight), "weight")], "weighted")
        total = term if total is None else graph.op("Add", [total, term], "blend")
    weights = sum(float(weight) for weight, _ in runtime.members)
    return graph.op("Div", [total, graph.const(weights, "weights")], "blend")


def load_blend_model(root: Path) -> ProductionModel:
    """A blend artifact as load_model will read it once main knows the kind (schema, encoder, members, output)."""
    import json

    manifest = json.loads((root / MANIFEST).read_text())
    schema = Schema.read(root / "schema.json")
    encoder = Encoder.from_dict(json.loads((root / "encoder.json").read_text()), schema)
    return ProductionModel(schema, encoder, load_blend(root, manifest["runtime"]), OutputSpec.from_dict(
        manifest["output"]), manifest.get("name", "model"), manifest.get("info"))

