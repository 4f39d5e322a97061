"""Typed configuration: YAML defaults, merged with user files, validated once at the edge."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent.errors import ConfigError

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"
DEFAULT_CONFIG = CONFIG_DIR / "default.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RunSettings(_Strict):
    time_limit: float = Field(600, gt=0)
    seed: int = 0
    out: str = "runs"
    folds: int = Field(5, ge=2, le=20)


class LeaderboardSettings(_Strict):
    presets: str = "best_quality"
    predict_reserve: float = Field(0.12, ge=0, lt=0.9)
    num_stack_levels: int | None = None
    excluded_model_types: list[str] = []


class Settings(_Strict):
    """The effective configuration of one run; `config.yaml` in the run directory is its dump."""

    run: RunSettings = RunSettings()
    leaderboard: LeaderboardSettings = LeaderboardSettings()
    competition: dict[str, Any] = {}

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def read_yaml(path: Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise ConfigError("The configuration file does not exist", where=str(path))
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"The file is not valid YAML: {exc}", where=str(path)) from exc
    if not isinstance(data, dict):
        raise ConfigError("The file must hold a mapping of settings at its top level", where=str(path))
    return data


def deep_merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_settings(*layers: tuple[str, dict[str, Any]]) -> Settings:
    """Merge named layers over configs/default.yaml and validate; errors name the layer at fault."""
    data = read_yaml(DEFAULT_CONFIG)
    for name, layer in layers:
        data = deep_merge(data, layer)
        try:
            Settings.model_validate(data)
        except ValidationError as exc:
            raise ConfigError(_describe(exc), where=name,
                              fix="compare with configs/default.yaml for the known keys and types") from exc
    return Settings.model_validate(data)


def _describe(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        location = ".".join(str(part) for part in error["loc"])
        problems.append(f"{location}: {error['msg']}")
    return "Invalid configuration (" + "; ".join(problems) + ")"
