"""Typed configuration: YAML defaults, merged with user files, validated once at the edge."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from agent.decompress import Limits
from agent.errors import ConfigError, PodiumError

CONFIG_DIR = Path(str(files("configs")))  # package data: the same in a checkout and in an installed wheel
DEFAULT_CONFIG = CONFIG_DIR / "default.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RunSettings(_Strict):
    time_limit: float = Field(600, gt=0)
    seed: int = 0
    out: str = "runs"
    folds: int = Field(8, ge=2, le=20)


class LeaderboardSettings(_Strict):
    presets: str = "best_quality"
    portfolio: list[str] = []
    predict_reserve: Literal["auto"] | Annotated[float, Field(ge=0, lt=0.9)] = "auto"
    num_stack_levels: int | None = None
    excluded_model_types: list[str] = []
    fold_fitting: Literal["auto", "parallel_local", "sequential_local", "parallel_distributed"] = "auto"
    max_cpus_per_fold: int = Field(4, ge=1)


class SearchSettings(_Strict):
    """How the leaderboard time is split between AutoGluon and the Optuna studies, and how they blend."""

    learners: list[str] = ["lightgbm", "xgboost", "catboost"]
    autogluon_share: float = Field(1.0, ge=0, le=1)
    cpus_per_trial: int = Field(1, ge=1)
    keep_best: int = Field(3, ge=1)
    ensemble_iterations: int = Field(50, ge=1)
    blend_guard: bool = False
    min_optuna_seconds: float = Field(10, ge=0)


class RaySettings(_Strict):
    address: str | None = None
    object_store_gb: float = Field(0.5, gt=0)


class QualitySettings(_Strict):
    """Thresholds of the data checks (agent/quality); shares are fractions of rows, scores lie in 0..1."""

    allow: list[str] = []
    near_constant_share: float = Field(0.999, gt=0, le=1)
    missing_warning: float = Field(0.5, ge=0, le=1)
    missing_shift: float = Field(0.1, ge=0, le=1)
    high_cardinality_ratio: float = Field(0.5, gt=0, le=1)
    high_cardinality_min: int = Field(100, ge=2)
    unseen_warning: float = Field(0.05, ge=0, le=1)
    duplicate_warning: float = Field(0.05, ge=0, le=1)
    train_test_duplicate_warning: float = Field(0.01, ge=0, le=1)
    leak_warning: float = Field(0.97, ge=0, le=1)
    leak_error: float = Field(0.99, ge=0, le=1)
    leak_bins: int = Field(100, ge=2)
    leak_max_rows: int = Field(50_000, ge=100)
    order_warning: float = Field(0.3, ge=0, le=1)
    copy_share: float = Field(0.99, gt=0, le=1)
    shift_warning: float = Field(0.75, ge=0.5, le=1)
    shift_error: float | None = Field(None, ge=0.5, le=1)
    shift_max_rows: int = Field(20_000, ge=50)
    shift_folds: int = Field(3, ge=2, le=10)
    shift_top_features: int = Field(5, ge=1)
    max_columns: int = Field(1_000, ge=1)  # per costly per-column check, under a deadline only


class MonitorSettings(_Strict):
    """How `podium monitor` profiles training data and when it calls a feature drifted."""

    profile_bins: int = Field(10, ge=2, le=100)
    profile_max_categories: int = Field(50, ge=1)
    psi_warning: float = Field(0.1, gt=0)
    psi_drift: float = Field(0.25, gt=0)
    unseen_warning: float = Field(0.01, ge=0, le=1)
    unseen_drift: float = Field(0.1, ge=0, le=1)
    missing_warning: float = Field(0.05, ge=0, le=1)
    missing_drift: float = Field(0.2, ge=0, le=1)
    min_rows: int = Field(100, ge=1)


class KaggleSettings(_Strict):
    """How podium talks to Kaggle (or a Kaggle-compatible arena): cache, limits, timeouts, retries."""

    endpoint: str | None = None
    cache_dir: str = "~/.cache/podium/competitions"
    max_unzipped_bytes: int = Field(Limits.max_bytes, gt=0)
    max_compression_ratio: float = Field(Limits.max_ratio, gt=1)
    max_archive_members: int = Field(10_000, gt=0)
    connect_timeout: float = Field(10, gt=0)
    read_timeout: float = Field(120, gt=0)
    retries: int = Field(5, ge=0, le=20)
    backoff_seconds: float = Field(1.0, ge=0)
    backoff_max_seconds: float = Field(60, ge=0)
    poll_wait: float = Field(600, ge=0)
    poll_interval: float = Field(2, gt=0)

    def decompress_limits(self) -> Limits:
        """What a downloaded archive or a compressed table may decompress to."""
        return Limits(max_bytes=self.max_unzipped_bytes, max_ratio=self.max_compression_ratio)


class ProductionSettings(_Strict):
    """Budgets and search of the production model (docs/production.md)."""

    latency_ms: float = Field(1.0, gt=0)
    size_mb: float = Field(5.0, gt=0)
    throughput: float | None = Field(None, gt=0)
    time_share: float = Field(0.15, gt=0, lt=1)
    search_share: float = Field(0.5, gt=0, le=1)
    search_trials: int = Field(40, ge=1)
    max_trees: int = Field(2000, ge=10)
    max_leaves: int = Field(63, ge=4)
    distill: bool = True
    autogluon_options: bool = True
    latency_calls: int = Field(200, ge=200)
    unseen_categories: Literal["other", "error"] = "other"
    importance_top: int = Field(10, ge=1)
    max_features: int = Field(2000, ge=1)


class ServeSettings(_Strict):
    """`podium serve`: where it listens, how much one request may carry, and the request log (off: privacy)."""

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    max_body_bytes: int = Field(1_000_000, gt=0)
    max_rows: int = Field(1000, ge=1)
    request_log: str | None = None
    timeout: float = Field(30, gt=0)
    request_deadline: float = Field(60, gt=0)
    workers: int = Field(1, ge=1, le=64)
    ray_address: str | None = None
    replicas: int = Field(1, ge=1)
    max_replicas: int | None = Field(None, ge=1)
    target_ongoing_requests: float = Field(2, gt=0)

    @model_validator(mode="after")
    def _replica_bounds(self) -> ServeSettings:
        if self.max_replicas is not None and self.max_replicas < self.replicas:
            raise ValueError(f"max_replicas ({self.max_replicas}) is below replicas ({self.replicas})")
        return self


class RetrainSettings(_Strict):
    """`podium retrain`: the holdout that compares the current and the retrained model, and the least data."""

    holdout: float = Field(0.2, gt=0, lt=0.9)
    min_rows: int = Field(50, ge=10)
    min_holdout_rows: int = Field(20, ge=5)
    time_budget_s: float | None = Field(None, gt=0)


class Settings(_Strict):
    """The effective configuration of one run; `config.yaml` in the run directory is its dump."""

    run: RunSettings = RunSettings()
    leaderboard: LeaderboardSettings = LeaderboardSettings()
    search: SearchSettings = SearchSettings()
    ray: RaySettings = RaySettings()
    quality: QualitySettings = QualitySettings()
    monitor: MonitorSettings = MonitorSettings()
    kaggle: KaggleSettings = KaggleSettings()
    production: ProductionSettings = ProductionSettings()
    serve: ServeSettings = ServeSettings()
    retrain: RetrainSettings = RetrainSettings()
    competition: dict[str, Any] = {}

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def sections(cls) -> dict[str, type[BaseModel]]:
        """The typed sections (run, search, ...), by name; `competition:` is a plain mapping, not among them."""
        return {name: field.annotation for name, field in cls.model_fields.items()
                if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)}


def read_yaml(path: Path, error: type[PodiumError] = ConfigError) -> dict[str, Any]:
    """A YAML mapping from disk; `error` (ConfigError by default) says what is wrong with the file."""
    path = Path(path)
    if not path.is_file():
        raise error("The file does not exist", where=str(path))
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise error(f"The file is not valid YAML: {exc}", where=str(path)) from exc
    if not isinstance(data, dict):
        raise error("The file must hold a mapping at its top level", where=str(path))
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
