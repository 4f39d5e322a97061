"""Test predictions an AutoGluon fit saves as it makes them, one file per model, so they outlive its task.

A fit's task that is cancelled past its deadline, or dies, returns nothing; the models it finished are on
disk (AutoGluon saves the trainer after every model) and so are their test predictions, written here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from agent.atomic import write_with


def save_test_predictions(folder: Path, model: str, predictions) -> None:
    """One model's test predictions (AutoGluon's internal format) as `<model>.npy`, written whole or not at all."""
    folder.mkdir(parents=True, exist_ok=True)
    write_with(folder / f"{model}.npy", lambda handle: np.save(handle, np.asarray(predictions), allow_pickle=False),
               binary=True)


def load_test_predictions(folder: Path, models: list[str]) -> dict[str, np.ndarray]:
    """The test predictions saved for `models` (those without a file are left out)."""
    return {model: np.load(folder / f"{model}.npy", allow_pickle=False) for model in models
            if (folder / f"{model}.npy").is_file()}
