"""A CatBoost model served from the encoder's numbers: its categorical columns arrive as category codes (the
encoder gives a missing one CatBoost's own code) and are given to CatBoost as the integers it was trained on, its
numbers as they are.

One row goes to CatBoost's `predict` as a list (about 0.2 ms for 500 trees here: benchmarks/catboost_row.py);
a table as a DataFrame with integer columns for the categories.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from agent.atomic import write_bytes
from agent.runtime.runtimes import SOFTMAX, apply_link


class CatBoostRuntime:
    """A fitted CatBoost model (`model.cbm`), the link applied to its raw formula value, and the positions of its
    categorical columns in the matrix."""

    kind = "catboost"
    input = "matrix"

    def __init__(self, model, link: str, categorical: list[int]):
        self.model, self.link, self.categorical = model, link, [int(i) for i in categorical]

    def raw(self, matrix: np.ndarray) -> np.ndarray:
        if len(matrix) == 1:
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
        return {"trees": int(self.model.tree_count_), "features": len(self.model.feature_names_)}

    def save(self, folder: Path) -> dict[str, Any]:
        write_bytes(Path(folder) / "model.cbm", bytes(self.model._serialize_model()))
        return {"kind": self.kind, "file": "model/model.cbm", "link": self.link, "categorical": self.categorical}

    @classmethod
    def load(cls, root: Path, config: dict[str, Any]) -> CatBoostRuntime:
        from catboost import CatBoost

        model = CatBoost()
        model.load_model(blob=(Path(root) / config["file"]).read_bytes())
        return cls(model, config["link"], config["categorical"])
