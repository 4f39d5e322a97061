"""An AutoGluon predictor as a production runtime: only artifacts that chose one import AutoGluon."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from agent.columns import autogluon_name, with_encoded_names
from agent.competition.labels import label_key


class AutoGluonRuntime:
    """A deployment clone of a TabularPredictor (`clone_for_deployment`), its models persisted in memory."""

    kind = "autogluon"
    input = "frame"

    def __init__(self, path: Path, problem_type: str, classes: list[Any], model: str | None = None):
        from autogluon.tabular import TabularPredictor

        self.path = Path(path)
        self.problem_type = problem_type
        self.classes = list(classes)
        self.predictor = TabularPredictor.load(str(self.path), verbosity=0, require_py_version_match=False)
        self.model = model or self.predictor.model_best
        self.predictor.persist(models=[self.model])

    def raw(self, frame: pd.DataFrame) -> np.ndarray:
        frame = with_encoded_names(frame, autogluon_name)  # the names it was fitted on (strategies/autogluon.py)
        if self.problem_type == "regression":
            return self.predictor.predict(frame, model=self.model).to_numpy(dtype=float)
        proba = self.predictor.predict_proba(frame, model=self.model)
        by_key = {label_key(c): c for c in proba.columns}
        matrix = np.column_stack([proba[by_key[label_key(c)]].to_numpy(dtype=float) for c in self.classes])
        return matrix[:, 1] if self.problem_type == "binary" else matrix

    def describe(self) -> dict[str, Any]:
        return {"model": self.model}

    def save(self, folder: Path) -> dict[str, Any]:
        target = folder / "autogluon"
        if self.path.resolve() != target.resolve():
            shutil.copytree(self.path, target)
        return {"kind": self.kind, "path": "model/autogluon", "model": self.model, "problem_type": self.problem_type,
                "classes": [c.item() if isinstance(c, np.generic) else c for c in self.classes]}

    @classmethod
    def load(cls, root: Path, config: dict[str, Any]) -> AutoGluonRuntime:
        return cls(root / config["path"], config["problem_type"], config["classes"], config.get("model"))
