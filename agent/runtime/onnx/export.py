"""The whole production pipeline (encoder, model, link, submission format) as one ONNX graph, written only if
ONNX Runtime's answers agree with load_model's; and the question the search and the card can ask first:
`onnx_exportable(artifact_or_model)`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.atomic import write_bytes
from agent.competition.metrics import MULTICLASS
from agent.errors import InputError
from agent.runtime.files import MANIFEST
from agent.runtime.model import ProductionModel, load_model
from agent.runtime.onnx.check import Agreement, check_agreement
from agent.runtime.onnx.converters import CONVERTERS, NOT_CONVERTIBLE, convert, kinds
from agent.runtime.onnx.graph import Graph
from agent.runtime.onnx.inputs import encoded_matrix, input_types
from agent.runtime.onnx.submission import submission
from agent.runtime.schema import Schema

FORMAT = "podium-onnx/1"
PREDICTION_DOC = "podium's raw prediction: P(positive) (N,) for binary, (N, K) class probabilities, or values (N,)"
SUBMISSION_DOC = "the submission's values: labels, P(positive), class probabilities or values, as podium predict"


@dataclass(frozen=True)
class OnnxExport:
    """What `podium export --onnx` wrote and how it was checked."""

    path: Path
    inputs: list[dict[str, str]]
    bytes: int
    agreement: Agreement


def onnx_exportable(artifact_or_model: str | Path | ProductionModel) -> tuple[bool, str]:
    """Whether a production artifact (a folder, or a loaded model) can become one ONNX graph, and why (not).
    A folder is judged from its JSON files alone: nothing heavy is loaded."""
    if isinstance(artifact_or_model, ProductionModel):
        model = artifact_or_model
        refusal = _refusal(kinds(model.runtime), model.schema, model.encoder is not None)
    else:
        root = Path(artifact_or_model).expanduser()
        if not (root / MANIFEST).is_file():
            return False, f"{root} is not a podium production artifact (no {MANIFEST})"
        config = json.loads((root / MANIFEST).read_text()).get("runtime", {})
        refusal = _refusal(_config_kinds(config), Schema.read(root / "schema.json"), (root / "encoder.json").is_file())
    if refusal:
        return False, refusal
    return True, "the encoder and every model of the artifact convert to ONNX"


def _config_kinds(config: dict[str, Any]) -> list[str]:
    members = config.get("members", [])
    return [config.get("kind", "?")] + [kind for member in members for kind in _config_kinds(member["config"])]


def _refusal(model_kinds: list[str], schema: Schema, has_encoder: bool) -> str | None:
    for kind in model_kinds:
        if kind in NOT_CONVERTIBLE:
            return NOT_CONVERTIBLE[kind]
        if kind not in CONVERTERS:
            return (f"a model of kind {kind!r} has no ONNX converter (podium converts {', '.join(CONVERTERS)}); "
                    "serve it with podium serve")
    refusal = schema_refusal(schema)
    if refusal:
        return refusal
    if not has_encoder:
        return "it has no encoder.json (the model reads a typed table, not the encoder's numbers)"
    return None


def schema_refusal(schema: Schema) -> str | None:
    """Why no model reading `schema` can become one graph, whatever its kind (None: the features can)."""
    if schema.dates:
        return (f"its schema reads date column(s) {sorted(schema.dates)} as text in a format (e.g. "
                f"{next(iter(schema.dates.values()))!r}) and splits them into parts, which ONNX has no operator "
                "for; serve it with podium serve, or train without the date columns")
    if schema.texts:
        return (f"it reads the words of text column(s) {sorted(schema.texts)} (agent/competition/texts.py), "
                "which podium's graphs do not; serve it with podium serve, or run with --require-onnx, which "
                "trains the production models without the words")
    if schema.autogluon_text is not None:
        return (f"it reads AutoGluon's text features of column(s) {schema.autogluon_text.columns} "
                "(agent/runtime/autogluon_text.py), which podium's graphs do not; serve it with podium serve")
    if schema.relations:
        return ("it joins side tables at serving time (schema.json's relations), which needs their data and a "
                "join outside any graph; serve it with podium serve")
    return None


def build_onnx(model: ProductionModel) -> Any:
    """The ModelProto of `model`: one input per schema column, outputs `prediction` and `submission`."""
    from onnx import TensorProto

    graph = Graph()
    raw = convert(graph, encoded_matrix(graph, model.encoder), model.runtime)
    matrix = model.output.problem_type == MULTICLASS  # podium's convention: a class matrix, else one value a row
    classes = len(model.output.classes)
    graph.output(raw, "prediction", TensorProto.DOUBLE, ["N", classes] if matrix else ["N"], PREDICTION_DOC)
    served, elem_type, shape = submission(graph, raw, model.output, matrix)
    graph.output(served, "submission", elem_type, shape, SUBMISSION_DOC)
    metadata = {"podium.format": FORMAT, "podium.name": model.name, "podium.problem_type": model.output.problem_type,
                "podium.submission_format": model.output.submission_format,
                "podium.inputs": json.dumps(input_types(model.encoder)),
                "podium.classes": json.dumps([str(c) for c in model.output.classes]),
                "podium.class_columns": json.dumps(list(model.output.class_columns))}
    return graph.model(model.name, metadata, f"podium production model {model.name!r}: raw rows in, "
                       "podium's prediction and the submission's values out (docs/production.md#onnx-export)")


def export_onnx(artifact_dir: str | Path, out: str | Path) -> OnnxExport:
    """Write the artifact's ONNX graph to `out` atomically, after checking it against load_model; on any
    refusal or failure nothing is written."""
    root = Path(artifact_dir).expanduser()
    ok, reason = onnx_exportable(root)
    if not ok:
        raise InputError(f"This production model cannot be exported to ONNX: {reason}", where=str(root))
    model = load_model(root)
    data = build_onnx(model).SerializeToString()
    agreement = check_agreement(model, data)
    path = write_bytes(Path(out).expanduser(), data)
    return OnnxExport(path, input_types(model.encoder), len(data), agreement)

