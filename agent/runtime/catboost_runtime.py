"""A CatBoost model served from the encoder's numbers: its categorical columns arrive as category codes (the
encoder gives a missing one CatBoost's own code) and are given to CatBoost as the integers it was trained on, its
numbers as they are.

CatBoost's Python `predict` costs 0.1-0.4 ms for one row here (benchmarks/catboost_row.py), most of it set-up.
A model that carries its formula (agent/runtime/catboost_trees.py: read from CatBoost's export and checked
against CatBoost when it was made) is served by it instead: a compiled kernel takes 10-80 us a row for
300-2,000 trees, and where this machine has no C compiler, numpy evaluates up to FORMULA_ROWS rows at a time and
CatBoost the larger tables, to the same numbers (1e-9).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from agent.atomic import write_bytes
from agent.runtime.catboost_trees import ObliviousTrees
from agent.runtime.runtimes import SOFTMAX, apply_link

FORMULA_ROWS = 64  # beyond this many rows CatBoost's own batch predict is faster than the kernel (and numpy)


class CatBoostRuntime:
    """A fitted CatBoost model (`model.cbm`), the link applied to its raw formula value, the positions of its
    categorical columns in the matrix, and, when it was exported, its formula (`formula.npz`)."""

    kind = "catboost"
    input = "matrix"

    def __init__(self, model, link: str, categorical: list[int], formula: ObliviousTrees | None = None):
        self.model, self.link, self.categorical = model, link, [int(i) for i in categorical]
        self.formula = formula

    def raw(self, matrix: np.ndarray) -> np.ndarray:
        if self.formula is not None and len(matrix) <= FORMULA_ROWS:
            scores = self.formula.raw(matrix)
        elif len(matrix) == 1:
            row: list[Any] = matrix[0].tolist()
            for index in self.categorical:
                row[index] = int(row[index])
            scores = np.asarray(self.model.predict(row, prediction_type="RawFormulaVal", thread_count=1))[None]
        else:
            frame = pd.DataFrame(matrix, columns=self.model.feature_names_)  # CatBoost checks a table's names
            for index in self.categorical:
                name = frame.columns[index]
                frame[name] = frame[name].astype(np.int64)
            scores = np.asarray(self.model.predict(frame, prediction_type="RawFormulaVal", thread_count=1))
        if self.link != SOFTMAX:
            scores = scores.reshape(len(matrix))
        return apply_link(scores, self.link, False)

    def describe(self) -> dict[str, Any]:
        served = "CatBoost" if self.formula is None else "compiled formula" if self.formula.compiled else \
            "formula in numpy"
        return {"trees": int(self.model.tree_count_), "features": len(self.model.feature_names_), "served_by": served}

    def save(self, folder: Path) -> dict[str, Any]:
        write_bytes(Path(folder) / "model.cbm", bytes(self.model._serialize_model()))
        config = {"kind": self.kind, "file": "model/model.cbm", "link": self.link, "categorical": self.categorical}
        if self.formula is not None:
            self.formula.save(Path(folder) / "formula.npz")
            config["formula"] = "model/formula.npz"
        return config

    @classmethod
    def load(cls, root: Path, config: dict[str, Any]) -> CatBoostRuntime:
        from catboost import CatBoost

        model = CatBoost()
        model.load_model(blob=(Path(root) / config["file"]).read_bytes())
        formula = ObliviousTrees.load(Path(root) / config["formula"]) if config.get("formula") else None
        if formula is not None:
            _ = formula.compiled  # the kernel is built (0.5 s, once per machine) at load, not at a first request
        return cls(model, config["link"], config["categorical"], formula)
