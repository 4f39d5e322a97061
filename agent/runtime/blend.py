"""A weighted average of compact models that read the same encoded matrix: the production blend.

The members share the artifact's one encoder, so a row is encoded once and each member adds only its own
evaluation. Member i lives in `model/m{i}/`, saved by its own runtime as if that folder were an artifact root
(its files under `model/m{i}/model/`), so any matrix runtime can be a member without knowing it is one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from agent.runtime.runtimes import Runtime, runtime_class
from agent.runtime.stacker import LogisticStacker, combined


class BlendRuntime:
    """Members' predictions (podium's convention: probabilities or values) averaged with fixed weights, or
    combined by a logistic stacker (agent/runtime/stacker.py)."""

    kind = "blend"
    input = "matrix"

    def __init__(self, members: list[Runtime], weights: list[float], stacker: LogisticStacker | None = None):
        if not members or len(members) != len(weights):
            raise ValueError(f"a blend needs one weight per member: {len(members)} members, {len(weights)} weights")
        if any(member.input != "matrix" for member in members):
            raise ValueError("every member of a blend must read the encoded matrix")
        total = float(sum(weights))
        if not total > 0:
            raise ValueError(f"a blend's weights must sum to a positive number, got {weights}")
        self.members = list(members)
        self.weights = [float(w) / total for w in weights]
        self.stacker = stacker

    def raw(self, matrix: np.ndarray) -> np.ndarray:
        return combined([member.raw(matrix) for member in self.members], self.weights, self.stacker)

    def describe(self) -> dict[str, Any]:
        described = {"members": [{"weight": round(w, 6), "kind": m.kind, **m.describe()}
                                 for w, m in zip(self.weights, self.members, strict=True)]}
        return described | (self.stacker.describe() if self.stacker else {})

    def save(self, folder: Path) -> dict[str, Any]:
        members = []
        for i, (weight, member) in enumerate(zip(self.weights, self.members, strict=True)):
            root = Path(folder) / f"m{i}"
            (root / "model").mkdir(parents=True, exist_ok=True)
            config = member.save(root / "model")
            members.append({"weight": weight, "root": f"model/m{i}", "config": config})
        return {"kind": self.kind, "members": members} | (
            {"stacker": self.stacker.config()} if self.stacker else {})

    @classmethod
    def load(cls, root: Path, config: dict[str, Any]) -> BlendRuntime:
        members, weights = [], []
        for member in config["members"]:
            kind = member["config"]["kind"]
            if kind == cls.kind:
                raise ValueError("a blend cannot hold another blend")
            members.append(runtime_class(kind).load(Path(root) / member["root"], member["config"]))
            weights.append(member["weight"])
        return cls(members, weights, LogisticStacker.from_config(config.get("stacker")))
