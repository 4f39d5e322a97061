"""The request and response models of one artifact, generated from its schema.json, for `/openapi.json`.

They document the input the model really takes (its columns, their kinds, the categories seen in training);
the body itself is checked by agent/services/serve/payload.py, whose errors name row and column in podium's own shape.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from agent.competition.inference import CLASS_PROBABILITIES
from agent.runtime import ProductionModel
from agent.runtime.schema import NUMERIC, ColumnSchema

LISTED_CATEGORIES = 50  # categories named in a column's description; the rest are summed up
Scalar = str | float | int | bool | None


class ErrorBody(BaseModel):
    """Every error podium serve answers: one sentence, the specific problems, what to do."""

    error: str
    details: list[str] = []
    fix: str | None = None


def _field(column: ColumnSchema, strict_categories: bool) -> tuple[Any, str]:
    """A column's type and description in the request schema."""
    if column.kind == NUMERIC:
        described = "a number (a numeric string or a boolean as 0/1 is accepted); null or \"\" when missing"
        if column.min is not None and column.max is not None:
            described += f"; seen in training from {column.min:g} to {column.max:g}"
        return float | str | bool | None, described
    if not column.categories_complete:
        return Scalar, "any scalar (too many distinct values in training to list)"
    listed = ", ".join(column.categories[:LISTED_CATEGORIES])
    more = len(column.categories) - LISTED_CATEGORIES
    described = f"one of the categories seen in training: {listed}" + (f" and {more} more" if more > 0 else "")
    if strict_categories:  # unseen categories are refused: the schema can say so exactly
        return Literal[tuple(column.categories)] | None, described  # type: ignore[valid-type]
    return Scalar, described + "; any other value is treated like a rare category, with a warning"


def _model(name: str, fields: dict[str, tuple[Any, Any, str]], **config: Any) -> type[BaseModel]:
    """A model whose JSON keys are column names as they are: each rides as an alias on a plain attribute, since
    pydantic refuses some names a CSV header may hold (`_x`) and hides others (`model_config`)."""
    attributes = {f"field_{i}": (kind, Field(default, alias=key, description=described))
                  for i, (key, (kind, default, described)) in enumerate(fields.items())}
    return create_model(name, __config__=ConfigDict(populate_by_name=True, **config), **attributes)


def row_model(model: ProductionModel) -> type[BaseModel]:
    """One input row: every schema column (required), the id column (optional), extra keys ignored."""
    fields: dict[str, tuple[Any, Any, str]] = {}
    schema = model.schema
    by_name = {column.name: column for column in schema.columns}
    for name in schema.input_names:
        if name in schema.dates:
            fields[name] = (str | None, ..., f"a date written as {schema.dates[name]} (null: missing)")
            continue
        if name not in by_name:  # a key (or time) the model joins side tables on, no feature itself
            fields[name] = (Scalar | None, ..., "a key (or time) joined with the model's side tables")
            continue
        kind, described = _field(by_name[name], schema.unseen == "error")
        fields[name] = (kind, ..., described)
    if model.output.id_column not in fields:
        fields[model.output.id_column] = (Scalar, None, "echoed in the prediction when sent")
    return _model("Row", fields, extra="allow")


def prediction_model(model: ProductionModel) -> type[BaseModel]:
    """One output row: the id (when sent) and the submission's prediction column(s)."""
    spec = model.output
    if spec.submission_format == CLASS_PROBABILITIES:
        fields = {name: (float, ..., "probability of this class") for name in spec.class_columns}
    else:
        fields = {spec.prediction_columns[0]: (Scalar, ..., f"the predicted {spec.target}")}
    fields[spec.id_column] = (Scalar, None, "the request row's id, when it had one")
    return _model("Prediction", fields)


def request_models(model: ProductionModel) -> dict[str, type[BaseModel]]:
    """The models `/openapi.json` lists, by name: the body, its row, the answer and the error."""
    row, prediction = row_model(model), prediction_model(model)
    body = create_model("PredictRequest", rows=(list[row], Field(description="the rows to predict")))
    answer = create_model("PredictResponse", model=(str, ...), predictions=(list[prediction], ...),
                          warnings=(list[str], Field(default_factory=list)))
    return {"Row": row, "PredictRequest": body, "Prediction": prediction, "PredictResponse": answer,
            "ErrorBody": ErrorBody}


def add_to_openapi(document: dict[str, Any], models: dict[str, type[BaseModel]]) -> dict[str, Any]:
    """Put the models into the document's components and describe POST /predict's body and answers with them."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name, model in models.items():
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[name] = schema
    ref = {name: {"$ref": f"#/components/schemas/{name}"} for name in models}
    predict = document["paths"]["/predict"]["post"]
    predict["requestBody"] = {"required": True, "content": {"application/json": {"schema": {"anyOf": [
        ref["PredictRequest"], {"type": "array", "items": ref["Row"]}, ref["Row"]]}}},
        "description": '{"rows": [...]}, a list of rows, or one row'}
    errors = {"400": "Not JSON, or not rows", "408": "The request did not arrive in time",
              "411": "No Content-Length, or a chunked body", "413": "Too many rows or bytes",
              "431": "A request line and headers over 64 KiB, or over 100 headers",
              "415": "Not application/json", "422": "Rows that do not match the model's input schema"}
    predict["responses"] = {"200": {"description": "One prediction per row",
                                    "content": {"application/json": {"schema": ref["PredictResponse"]}}},
                            **{status: {"description": text,
                                        "content": {"application/json": {"schema": ref["ErrorBody"]}}}
                               for status, text in errors.items()}}
    return document
