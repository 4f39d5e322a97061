"""A weighted average of whole production models, each reading the raw row through its own schema and encoder.

The production blend's members share one encoded row when they read podium's encoding (agent/runtime/blend.py).
AutoGluon's bags and CatBoost model, and the study's fold bags, read encodings of their own, so a blend that
holds one of them averages whole models instead: each member derives and encodes the row itself (a few us per
column), then predicts. Member i is a complete artifact in `model/m{i}/`, loaded with `load_model`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from agent.runtime.stacker import LogisticStacker, combined


class ModelsBlendRuntime:
    """Whole models' predictions (podium's convention: probabilities or values) averaged with fixed weights, or
    combined by a logistic stacker (agent/runtime/stacker.py)."""

    kind = "models"
    input = "rows"

    def __init__(self, models: list, weights: list[float], stacker: LogisticStacker | None = None):
        if not models or len(models) != len(weights):
            raise ValueError(f"a blend needs one weight per model: {len(models)} models, {len(weights)} weights")
        total = float(sum(weights))
        if not total > 0:
            raise ValueError(f"a blend's weights must sum to a positive number, got {weights}")
        self.models = list(models)  # not `members`: a member here is a model, not a runtime
        self.weights = [float(w) / total for w in weights]
        self.stacker = stacker

    def raw(self, rows) -> np.ndarray:
        return combined([model.predict_raw(rows) for model in self.models], self.weights, self.stacker)

    def describe(self) -> dict[str, Any]:
        described = {"models": [{"weight": round(w, 6), "name": m.name, "kind": m.runtime.kind,
                                 **m.runtime.describe()} for w, m in zip(self.weights, self.models, strict=True)]}
        return described | (self.stacker.describe() if self.stacker else {})

    def save(self, folder: Path) -> dict[str, Any]:
        models = []
        for i, (weight, model) in enumerate(zip(self.weights, self.models, strict=True)):
            model.save(Path(folder) / f"m{i}")
            models.append({"weight": weight, "root": f"model/m{i}"})
        return {"kind": self.kind, "models": models} | (
            {"stacker": self.stacker.config()} if self.stacker else {})

    @classmethod
    def load(cls, root: Path, config: dict[str, Any]) -> ModelsBlendRuntime:
        from agent.runtime.model import load_model

        return cls([load_model(Path(root) / entry["root"]) for entry in config["models"]],
                   [entry["weight"] for entry in config["models"]],
                   LogisticStacker.from_config(config.get("stacker")))
