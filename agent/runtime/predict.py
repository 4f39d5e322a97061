"""`podium predict`: read rows wherever they live (CSV, Parquet, a database table or query: agent/tables),
validate them against the artifact's schema, predict, and write the predictions atomically (a CSV or Parquet file,
or a database table in one transaction)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from agent.runtime.model import load_model
from agent.runtime.schema import file_lines
from agent.tables import Location, check_output, parse_location, read_table, write_table
from agent.tables.files import is_parquet


@dataclass(frozen=True)
class PredictReport:
    rows: int
    output: str  # the file, or the table as a URL without its password
    warnings: list[str] = field(default_factory=list)


def read_rows(data: str | Path | Location) -> pd.DataFrame:
    """Every row to predict (a database table over database.max_rows is refused, not sampled)."""
    return read_table(data, "input")


def predict_file(artifact_dir: Path, data: str | Path, output: str | Path, strict: bool = False) -> PredictReport:
    """Predict every row of `data`; any invalid input raises before anything is written."""
    target = check_output(output, "--output")  # a wrong path or a refused password fails before any work
    model = load_model(artifact_dir)
    source = parse_location(data if isinstance(data, str) else Path(data), "input")
    frame = read_rows(source)
    csv = source.is_file and source.path.is_file() and not is_parquet(source.path)
    lines = file_lines(frame) if csv else None  # a CSV's lines (header: line 1)
    frame = model.schema.derive(frame, where=source.shown, lines=lines)  # dates into the parts the model reads
    report = model.schema.validate(frame, where=source.shown, unseen="error" if strict else None, lines=lines)
    id_column = model.output.id_column
    ids = frame[id_column] if id_column in frame.columns else None
    predictions = model.predict_frame(frame, ids, derived=True)
    written = write_table(predictions, target)
    return PredictReport(rows=len(predictions), output=written, warnings=report.messages())
