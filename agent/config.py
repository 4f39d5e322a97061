"""Typed configuration: YAML defaults, merged with user files, validated once at the edge."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from agent.errors import ConfigError, PodiumError

CONFIG_DIR = Path(str(files("configs")))  # package data: the same in a checkout and in an installed wheel
DEFAULT_CONFIG = CONFIG_DIR / "default.yaml"
TABLE_MEMORY_SHARE = 20  # run.max_table_bytes: auto reads a table of at most 1/20 of the free memory


@dataclass(frozen=True)
class Limits:
    """What reading may decompress: at most `max_bytes` out, and at most `max_ratio` bytes out per compressed
    byte once past `ratio_floor_bytes` (below it any ratio is harmless: small repetitive files compress
    extremely well). `max_bytes_setting` names the setting a user raises when a genuine file is refused."""

    max_bytes: int
    max_ratio: float
    ratio_floor_bytes: int = 64 * 2**20
    max_bytes_setting: str = "kaggle.max_unzipped_bytes"

    def allowed(self, compressed_bytes: int) -> int:
        return int(min(self.max_bytes, max(self.ratio_floor_bytes, self.max_ratio * compressed_bytes)))


def available_memory_bytes() -> int:
    import psutil

    return int(psutil.virtual_memory().available)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


@cache
def shipped_defaults() -> dict[str, Any]:
    """configs/default.yaml: the one place every setting's default is written."""
    return read_yaml(DEFAULT_CONFIG)


class _Section(_Strict):
    """One section of the settings. The models say what is accepted; every key left out takes its value from
    the section of configs/default.yaml named SECTION, so no default is written twice."""

    SECTION: ClassVar[str]

    @model_validator(mode="before")
    @classmethod
    def _shipped_defaults(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {**(shipped_defaults().get(cls.SECTION) or {}), **data}
        return data


class RunSettings(_Section):
    SECTION: ClassVar[str] = "run"

    time_limit: float = Field(gt=0)
    seed: int
    out: str
    folds: int = Field(ge=2, le=20)
    time_folds: Literal["forward", "blocks"]
    max_table_bytes: Literal["auto"] | Annotated[int, Field(gt=0)]


class PortfolioSettings(_Strict):
    """AutoGluon portfolios (or presets) merged for a fit that stacks and for one that does not."""

    stacked: list[str]
    single_level: list[str]


class LeaderboardSettings(_Section):
    SECTION: ClassVar[str] = "leaderboard"

    presets: str
    portfolio: PortfolioSettings
    log_target: bool
    absolute_error: bool
    predict_reserve: Literal["auto"] | Annotated[float, Field(ge=0, lt=0.9)]
    num_stack_levels: int | None
    excluded_model_types: list[str]
    fold_fitting: Literal["auto", "parallel_local", "sequential_local", "parallel_distributed"]
    max_cpus_per_fold: int = Field(ge=1)


class SearchSettings(_Section):
    """How the leaderboard time is split between AutoGluon and the Optuna studies, and how they blend."""

    SECTION: ClassVar[str] = "search"

    learners: list[str]
    autogluon_share: float = Field(ge=0, le=1)
    cpus_per_trial: int = Field(ge=1)
    keep_best: int = Field(ge=1)
    ensemble_iterations: int = Field(ge=1)
    blend_guard: bool
    min_optuna_seconds: float = Field(ge=0)


class RaySettings(_Section):
    SECTION: ClassVar[str] = "ray"

    address: str | None
    object_store_gb: float = Field(gt=0)


class QualitySettings(_Section):
    """Thresholds of the data checks (agent/checks); shares are fractions of rows, scores lie in 0..1."""

    SECTION: ClassVar[str] = "quality"

    allow: list[str]
    near_constant_share: float = Field(gt=0, le=1)
    missing_warning: float = Field(ge=0, le=1)
    missing_shift: float = Field(ge=0, le=1)
    high_cardinality_ratio: float = Field(gt=0, le=1)
    high_cardinality_min: int = Field(ge=2)
    unseen_warning: float = Field(ge=0, le=1)
    duplicate_warning: float = Field(ge=0, le=1)
    train_test_duplicate_warning: float = Field(ge=0, le=1)
    leak_warning: float = Field(ge=0, le=1)
    leak_error: float = Field(ge=0, le=1)
    leak_bins: int = Field(ge=2)
    leak_max_rows: int = Field(ge=100)
    order_warning: float = Field(ge=0, le=1)
    copy_share: float = Field(gt=0, le=1)
    shift_warning: float = Field(ge=0.5, le=1)
    shift_error: float | None = Field(ge=0.5, le=1)
    shift_max_rows: int = Field(ge=50)
    shift_folds: int = Field(ge=2, le=10)
    shift_top_features: int = Field(ge=1)
    max_columns: int = Field(ge=1)  # per costly per-column check, under a deadline only


class MonitorSettings(_Section):
    """How `podium monitor` profiles training data and when it calls a feature drifted."""

    SECTION: ClassVar[str] = "monitor"

    profile_bins: int = Field(ge=2, le=100)
    profile_max_categories: int = Field(ge=1)
    psi_warning: float = Field(gt=0)
    psi_drift: float = Field(gt=0)
    unseen_warning: float = Field(ge=0, le=1)
    unseen_drift: float = Field(ge=0, le=1)
    missing_warning: float = Field(ge=0, le=1)
    missing_drift: float = Field(ge=0, le=1)
    min_rows: int = Field(ge=1)


class KaggleSettings(_Section):
    """How podium talks to Kaggle (or a Kaggle-compatible arena): cache, limits, timeouts, retries."""

    SECTION: ClassVar[str] = "kaggle"

    endpoint: str | None
    cache_dir: str
    max_unzipped_bytes: int = Field(gt=0)
    max_compression_ratio: float = Field(gt=1)
    max_archive_members: int = Field(gt=0)
    connect_timeout: float = Field(gt=0)
    read_timeout: float = Field(gt=0)
    retries: int = Field(ge=0, le=20)
    backoff_seconds: float = Field(ge=0)
    backoff_max_seconds: float = Field(ge=0)
    poll_wait: float = Field(ge=0)
    poll_interval: float = Field(gt=0)

    def decompress_limits(self) -> Limits:
        """What a downloaded archive or a compressed table may decompress to."""
        return Limits(max_bytes=self.max_unzipped_bytes, max_ratio=self.max_compression_ratio)


class ProductionSettings(_Section):
    """Budgets and search of the production model (docs/production.md)."""

    SECTION: ClassVar[str] = "production"

    latency_ms: float = Field(gt=0)
    size_mb: float = Field(gt=0)
    throughput: float | None = Field(gt=0)
    time_share: float = Field(gt=0, lt=1)
    search_share: float = Field(gt=0, le=1)
    search_trials: int = Field(ge=1)
    max_trees: int = Field(ge=10)
    max_leaves: int = Field(ge=4)
    distill: bool
    blend_members: int = Field(ge=1, le=8)
    autogluon_options: bool
    autogluon_level1: bool
    require_onnx: bool
    latency_calls: int = Field(ge=200)
    unseen_categories: Literal["other", "error"]
    importance_top: int = Field(ge=1)
    max_features: int = Field(ge=1)


class ServeSettings(_Section):
    """`podium serve`: where it listens, how much one request may carry, and the request log (off: privacy)."""

    SECTION: ClassVar[str] = "serve"

    host: str
    port: int = Field(ge=0, le=65535)
    max_body_bytes: int = Field(gt=0)
    max_rows: int = Field(ge=1)
    request_log: str | None
    timeout: float = Field(gt=0)
    request_deadline: float = Field(gt=0)
    workers: int = Field(ge=1, le=64)
    ray_address: str | None
    replicas: int = Field(ge=1)
    max_replicas: int | None = Field(ge=1)
    target_ongoing_requests: float = Field(gt=0)

    @model_validator(mode="after")
    def _replica_bounds(self) -> ServeSettings:
        if self.max_replicas is not None and self.max_replicas < self.replicas:
            raise ValueError(f"max_replicas ({self.max_replicas}) is below replicas ({self.replicas})")
        return self


class RetrainSettings(_Section):
    """`podium retrain`: the holdout that compares the current and the retrained model, and the least data."""

    SECTION: ClassVar[str] = "retrain"

    holdout: float = Field(gt=0, lt=0.9)
    min_rows: int = Field(ge=10)
    min_holdout_rows: int = Field(ge=5)
    time_budget_s: float | None = Field(gt=0)


class DatabaseSettings(_Section):
    """Reading tables from a database: rows, batches and time one read may take (agent/tables)."""

    SECTION: ClassVar[str] = "database"

    max_rows: int = Field(ge=1)
    batch_rows: int = Field(ge=100)
    timeout: float = Field(gt=0)
    connect_timeout: float = Field(gt=0)


class SideTableSettings(_Section):
    """Relating a competition's side tables (agent/competition/relations/build.py: Limits)."""

    SECTION: ClassVar[str] = "side_tables"

    max_columns: int = Field(ge=0)
    max_table_columns: int = Field(ge=1)
    memory_limit: str = Field(pattern=r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$")
    threads: int = Field(ge=1)


class Settings(_Strict):
    """The effective configuration of one run; `config.yaml` in the run directory is its dump."""

    run: RunSettings = Field(default_factory=RunSettings)
    leaderboard: LeaderboardSettings = Field(default_factory=LeaderboardSettings)
    search: SearchSettings = Field(default_factory=SearchSettings)
    ray: RaySettings = Field(default_factory=RaySettings)
    quality: QualitySettings = Field(default_factory=QualitySettings)
    monitor: MonitorSettings = Field(default_factory=MonitorSettings)
    kaggle: KaggleSettings = Field(default_factory=KaggleSettings)
    production: ProductionSettings = Field(default_factory=ProductionSettings)
    serve: ServeSettings = Field(default_factory=ServeSettings)
    retrain: RetrainSettings = Field(default_factory=RetrainSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    side_tables: SideTableSettings = Field(default_factory=SideTableSettings)
    competition: dict[str, Any] = Field(default_factory=lambda: dict(shipped_defaults().get("competition") or {}))

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def table_limits(self) -> Limits:
        """What one table may hold once decompressed: the archive limit, and at most what parsing it in memory
        allows (`run.max_table_bytes`; auto: a twentieth of the memory available now, since pandas holds 3.6-14
        times a CSV's bytes: docs/running.md)."""
        archive = self.kaggle.decompress_limits()
        table = self.run.max_table_bytes
        if table == "auto":
            table = available_memory_bytes() // TABLE_MEMORY_SHARE
        if table >= archive.max_bytes:
            return archive
        return Limits(max_bytes=int(table), max_ratio=archive.max_ratio, max_bytes_setting="run.max_table_bytes")

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
