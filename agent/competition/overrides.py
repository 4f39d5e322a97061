"""Collect overrides of inferred competition fields from every layer, remembering which layer said what."""

from __future__ import annotations

from typing import Any

from agent.competition.declaration import ALIASES, FIELDS, check_keys
from agent.competition.inference import OVERRIDABLE


def normalise(fields: dict[str, Any]) -> dict[str, Any]:
    """Keep the competition fields of a mapping, accepting common aliases (metric, problem_type...)."""
    out = {}
    for key, value in (fields or {}).items():
        key = ALIASES.get(key, key)
        if key in OVERRIDABLE and value is not None:
            out[key] = value
    return out


def collect(layers: list[tuple[str, dict[str, Any]]]) -> tuple[dict[str, Any], dict[str, str]]:
    """Merge layers in order (later wins); return the values and, per field, the name of the winning layer.

    A key that is no field (a typo) is refused, naming the layer: dropped, it would run the wrong task."""
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name, fields in layers:
        check_keys(fields or {}, name, FIELDS, "the competition fields",
                   fix=f"correct or remove it; the fields are {', '.join(FIELDS)}")
        for key, value in normalise(fields).items():
            values[key] = value
            sources[key] = name
    return values, sources
