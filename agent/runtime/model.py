"""The served object: raw rows in, predictions in submission format out; one folder on disk.

Layout of a saved model (the "serving files", whose bytes are the artifact size):
    production.json   format, model kind, output spec, the list of serving files
    schema.json       input columns, kinds, allowed categories, ranges seen in training
    encoder.json      category codes learned from training (compact models only)
    model/            model.txt.gz (LightGBM) | linear.json | m0/, m1/.. (a blend's members) | autogluon/
    side/             the side tables' data its joins read (docs/several-tables.md), sized apart from the model
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from agent.atomic import write_json
from agent.errors import InputError
from agent.runtime.encoder import Encoder
from agent.runtime.files import MANIFEST
from agent.runtime.output import OutputSpec
from agent.runtime.runtimes import Runtime, runtime_class
from agent.runtime.schema import Schema, position

log = logging.getLogger("podium.production")
FORMAT = "podium-production/1"


class ProductionModel:
    """Schema + encoder + runtime + output spec. `predict` accepts a dict, a list of dicts or a DataFrame."""

    def __init__(self, schema: Schema, encoder: Encoder | None, runtime: Runtime, output: OutputSpec,
                 name: str = "model", info: dict[str, Any] | None = None):
        self.schema = schema
        self.encoder = encoder
        self.runtime = runtime
        self.output = output
        self.name = name
        self.info = dict(info or {})

    def predict(self, rows, derived: bool = False) -> np.ndarray:
        """Predictions in submission format: labels, P(positive), an (n, K) matrix or values; one per row.
        `derived`: the rows already went through `schema.derive` (serving validates them so), not again."""
        return self.output.format(self.predict_raw(rows, derived))

    def predict_raw(self, rows, derived: bool = False) -> np.ndarray:
        """Podium's convention (P(1), class matrix or values): what the competition metric scores."""
        if self.runtime.input == "rows":  # whole models, each deriving and encoding the rows itself
            return self.runtime.raw(rows)
        if not derived:
            rows = self.schema.derive(rows)  # joins, dates and texts into the parts the models read
        if self.runtime.input == "matrix":
            matrix, unseen = self.encoder.encode(rows)
            if unseen:
                log.info("%d categorical value(s) never seen in training were treated like rare ones", unseen)
            _refuse_infinite(matrix, lambda: self.schema.names)
            return self.runtime.raw(matrix)
        frame = self.typed_frame(rows, derived=True)
        numeric = frame.select_dtypes("number")
        _refuse_infinite(numeric.to_numpy(dtype=float), lambda: list(numeric.columns))
        return self.runtime.raw(frame)

    def predict_encoded(self, matrix: np.ndarray) -> np.ndarray:
        """Raw prediction from an already encoded matrix (search and importance, which encode once)."""
        return self.runtime.raw(matrix)

    def predict_frame(self, rows, ids: pd.Series | None = None, derived: bool = False) -> pd.DataFrame:
        return self.output.frame(self.predict(rows, derived), ids)

    def typed_frame(self, rows, derived: bool = False) -> pd.DataFrame:
        """Rows as a table with the schema's columns and types (for runtimes that read tables)."""
        if not derived:
            rows = self.schema.derive(rows)
        if isinstance(rows, dict):
            rows = [rows]
        frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame.from_records(list(rows))
        self.schema.check_columns(frame.columns)
        return self.schema.conform(frame)

    def save(self, folder: Path) -> list[str]:
        """Write the serving files into `folder` (use files.staged_directory for an all-or-nothing folder)."""
        folder = Path(folder)
        (folder / "model").mkdir(parents=True, exist_ok=True)
        runtime_config = self.runtime.save(folder / "model")
        files = ["schema.json", "model", MANIFEST]
        side = {}
        if self.schema.relations:
            from agent.competition.relations.index import write_side

            side = {"side_files": ["side"],
                    "side_bytes": write_side(self.schema.relations, self.schema.root, folder)}
        self.schema.write(folder / "schema.json")
        if self.encoder is not None:
            write_json(folder / "encoder.json", self.encoder.to_dict())
            files.insert(1, "encoder.json")
        write_json(folder / MANIFEST, {"format": FORMAT, "name": self.name, "runtime": runtime_config,
                                       "output": self.output.to_dict(), "serving_files": files, "info": self.info,
                                       **side})
        return files


def _refuse_infinite(matrix: np.ndarray, column_names: Callable[[], list[str]]) -> None:
    """Infinity is no input (standard JSON cannot even carry it): the same refusal as `podium serve`'s 422.
    The column names are asked for only when there is something to name."""
    infinite = np.isinf(matrix)
    if infinite.any():
        names = column_names()
        row, column = (int(i) for i in np.argwhere(infinite)[0])
        raise InputError(f"Column '{names[column]}' holds an infinite number ({matrix[row, column]:g}) at "
                         f"{position(row)}; {int(infinite.sum())} infinite value(s) in all", where="input",
                         fix=f"send a finite number in '{names[column]}', or an empty value for missing")


def load_model(artifact_dir: str | Path) -> ProductionModel:
    """Load a production artifact folder; needs numpy, pandas and the chosen model's library only."""
    root = Path(artifact_dir).expanduser()
    manifest_path = root / MANIFEST
    if not manifest_path.is_file():
        raise InputError("This is not a podium production artifact (no production.json)", where=str(root),
                         fix="point at runs/<competition>/<run-id>/production/")
    manifest = json.loads(manifest_path.read_text())
    if manifest.get("format") != FORMAT:
        raise InputError(f"Unknown artifact format {manifest.get('format')!r}", where=str(manifest_path),
                         fix=f"this podium reads {FORMAT}; use the podium version that wrote the artifact")
    schema = Schema.read(root / "schema.json")
    schema.joiner()  # side tables indexed now, in memory: a request never waits for them
    encoder_path = root / "encoder.json"
    encoder = Encoder.from_dict(json.loads(encoder_path.read_text()), schema) if encoder_path.is_file() else None
    config = manifest["runtime"]
    runtime = runtime_class(config["kind"]).load(root, config)
    return ProductionModel(schema, encoder, runtime, OutputSpec.from_dict(manifest["output"]),
                           manifest.get("name", "model"), manifest.get("info"))
