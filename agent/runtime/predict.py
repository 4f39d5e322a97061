"""`podium predict`: validate a CSV against the artifact's schema, predict, write the predictions atomically."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from agent.atomic import write_csv
from agent.errors import InputError
from agent.outputs import output_file
from agent.runtime.model import load_model
from agent.runtime.schema import file_lines


@dataclass(frozen=True)
class PredictReport:
    rows: int
    output: Path
    warnings: list[str] = field(default_factory=list)


def read_rows(path: Path) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise InputError("The input file does not exist", where=str(path), fix="pass a CSV of rows to predict")
    try:
        frame = pd.read_csv(path, low_memory=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"The input is not a readable CSV table ({type(exc).__name__}: {exc})", where=str(path),
                         fix="pass a comma-separated file with a header row") from exc
    if frame.empty:
        raise InputError("The input has a header but no rows", where=str(path), fix="add rows to predict")
    return frame


def predict_file(artifact_dir: Path, data: Path, output: Path, strict: bool = False) -> PredictReport:
    """Predict every row of `data`; any invalid input raises before anything is written."""
    output = output_file(output, "--output")
    model = load_model(artifact_dir)
    frame = read_rows(data)
    lines = file_lines(frame)  # errors name the file's lines (header: line 1)
    frame = model.schema.derive(frame, where=str(data), lines=lines)  # dates into the parts the model reads
    report = model.schema.validate(frame, where=str(data), unseen="error" if strict else None, lines=lines)
    id_column = model.output.id_column
    ids = frame[id_column] if id_column in frame.columns else None
    predictions = model.predict_frame(frame, ids)
    write_csv(output, predictions)
    return PredictReport(rows=len(predictions), output=Path(output), warnings=report.messages())
