"""`podium batch`: many competitions, each a Ray task with its own resources, on a laptop or a cluster.

A failure in one competition never stops the others; a task lost with its node is retried by Ray
(`max_retries`); re-running the same batch skips competitions that already succeeded. Each entry gets a
deterministic run directory, so a retry replaces its own partial run instead of adding a second one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent.atomic import write_csv, write_text
from agent.config import read_yaml
from agent.errors import ConfigError, InputError, PodiumError
from agent.names import safe_component
from agent.outputs import output_folder
from agent.records import Record
from agent.rundir import FAILED, MANIFEST, SUCCEEDED, Run
from agent.tables import redact

log = logging.getLogger("podium.batch")
COMPETITION_FIELDS = ("metric", "evaluation_metric", "target", "id_column", "task", "positive_class",
                      "submission_format", "drop")


class BatchEntry(BaseModel):
    """One competition of a batch: where it comes from, its budget, and overrides of inferred fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str
    time_limit: float | None = Field(None, gt=0)
    cpus: int | None = Field(None, ge=1)
    memory_gb: float | None = Field(None, gt=0)
    seed: int | None = None
    config: dict[str, Any] = {}  # any settings section, merged over configs/default.yaml
    metric: str | None = None
    evaluation_metric: str | None = None
    target: str | None = None
    id_column: str | None = None
    task: str | None = None
    positive_class: Any = None
    submission_format: str | None = None
    drop: list[str] | None = None

    def competition_fields(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in COMPETITION_FIELDS if getattr(self, k) is not None}

    def key(self) -> str:
        """Stable identity of an entry: the same source and settings always map to the same run."""
        payload = json.dumps(self.model_dump(mode="json"), sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()[:10]


class BatchSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = None
    defaults: dict[str, Any] = {}
    max_retries: int = Field(2, ge=0)
    competitions: list[BatchEntry] = Field(min_length=1)


def load_batch(path: Path, time_limit: float | None = None) -> BatchSpec:
    """Read a batch file; `time_limit` (the command line's) replaces every competition's own."""
    data = read_yaml(Path(path))
    defaults = data.get("defaults") or {}
    entries = data.get("competitions")
    if not isinstance(entries, list):
        raise ConfigError("A batch file needs a `competitions:` list", where=str(path),
                          fix="write `competitions: [{source: <slug or folder>, time_limit: 300}, ...]`")
    override = {"time_limit": time_limit} if time_limit is not None else {}
    merged = [{**defaults, **entry, **override} if isinstance(entry, dict) else entry for entry in entries]
    try:
        return BatchSpec.model_validate({**data, "competitions": merged})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"Invalid batch file ({problems})", where=str(path),
                          fix="each competition needs `source`; see configs/batch/example.yaml") from exc


class BatchRow(BaseModel):
    """One competition of a batch: a row of batch.csv."""

    model_config = ConfigDict(extra="forbid")

    competition: str
    status: str
    metric: str | None
    validation_score: float | None
    seconds: float | None
    submission: str | None
    run_dir: str | None
    error: str | None = None
    source: str | None = None


class BatchState(Record):
    """batch.json: each competition's row by its key, so a batch run again skips what already succeeded."""

    FORMAT: ClassVar[str] = "podium.batch"
    TITLE: ClassVar[str] = "batch state (batch.json)"
    FIX: ClassVar[str] = "delete batch.json to run every competition of the batch again"

    rows: dict[str, BatchRow] = {}

    @classmethod
    def upgrade(cls, data: dict[str, Any]) -> dict[str, Any]:
        legacy = data and all(isinstance(entry, dict) and "status" in entry for entry in data.values())
        if "format" not in data and legacy:  # written before it was a versioned record: {key: {source, status, ...}}
            rows = {key: {"competition": entry.get("source"), "status": entry.get("status"), "metric": None,
                          "validation_score": None, "seconds": None, "submission": None,
                          "run_dir": entry.get("run_dir"), "source": entry.get("source")}
                    for key, entry in data.items() if isinstance(entry, dict)}
            data = {"format": cls.FORMAT, "version": 1, "rows": rows}
        return data


def run_entry(entry: dict[str, Any], out: str, run_id: str, config_file: str | None) -> str:
    """Run one batch entry (a Ray task). A partial run left by a lost node is replaced, never duplicated."""
    from agent.run.pipeline import RunOptions, run_competition

    spec = BatchEntry.model_validate(entry)
    for partial in Path(out).glob(f"*/{run_id}"):
        manifest = partial / MANIFEST
        if not manifest.is_file() or json.loads(manifest.read_text()).get("status") != SUCCEEDED:
            shutil.rmtree(partial)
    overlay = None
    if spec.config:
        overlay = Path(out) / ".batch-configs" / f"{run_id}.json"
        write_text(overlay, json.dumps(_merge_config(config_file, spec.config)))
    options = RunOptions(source=spec.source, out=Path(out), time_limit=spec.time_limit, seed=spec.seed,
                         cpus=spec.cpus or 1, memory_gb=spec.memory_gb, run_id=run_id,
                         config_file=overlay or (Path(config_file) if config_file else None),
                         competition=spec.competition_fields())
    return str(run_competition(options).path)


def _merge_config(config_file: str | None, overlay: dict[str, Any]) -> dict[str, Any]:
    from agent.config import deep_merge

    base = read_yaml(Path(config_file)) if config_file else {}
    return deep_merge(base, overlay)


def run_batch(path: Path, out: Path, executor, config_file: Path | None = None,
              notify: Callable[[str], None] = lambda message: None,
              time_limit: float | None = None) -> tuple[list[BatchRow], Path]:
    """Run every competition of a batch file; return one row per competition and the batch folder."""
    spec = load_batch(path, time_limit)
    name = safe_component(spec.name or Path(path).stem, "batch `name`", str(path))  # batches/<name>/ under out
    out = output_folder(Path(out).expanduser().resolve(), "--out")
    folder = out / "batches" / name
    state_file = folder / "batch.json"
    state = BatchState.read(state_file) if state_file.is_file() else BatchState()
    executor.start()
    from agent.executor import check_shared_path

    out.mkdir(parents=True, exist_ok=True)
    check_shared_path(executor, out)
    pending, rows = {}, {}
    for entry in spec.competitions:
        key = entry.key()
        previous = state.rows.get(key)
        if previous is not None and previous.status == SUCCEEDED and previous.run_dir \
                and Path(previous.run_dir).is_dir():
            notify(f"{redact(entry.source)}: already succeeded, skipped")
            rows[key] = _row(entry, Path(previous.run_dir), None)
            continue
        run_id = f"batch-{name}-{key}"
        # The competition's own CPUs and memory, on one node; its fits and trials run inside them, and its
        # AutoGluon fit is told the group's memory, so the group and the work inside agree.
        cpus = entry.cpus or 1
        memory_gb = entry.memory_gb or executor.memory_share_gb(cpus)
        try:
            group = executor.reserve(cpus, memory_gb)
        except PodiumError as exc:
            rows[key] = state.rows[key] = _row(entry, None, exc.message)
            notify(f"{redact(entry.source)}: {FAILED} ({exc.message})")
            continue
        task = executor.submit(run_entry, {**entry.model_dump(mode="json"), "memory_gb": memory_gb}, str(out),
                               run_id, str(config_file) if config_file else None,
                               name=f"competition-{redact(entry.source)}", num_cpus=0, max_retries=spec.max_retries,
                               group=group)
        pending[task] = (key, entry, group)
    started = time.monotonic()
    while pending:
        done, _ = executor.wait(list(pending))
        for task in done:
            key, entry, group = pending.pop(task)
            executor.release(group)
            try:
                run_dir, error = Path(executor.result(task)), None
            except Exception as exc:  # noqa: BLE001 - one failure never stops the others
                run_dir, error = _find_run(out, f"batch-{name}-{key}"), _describe(exc)
            rows[key] = state.rows[key] = _row(entry, run_dir, error)
            state.write(state_file)
            notify(f"{redact(entry.source)}: {rows[key].status} ({time.monotonic() - started:.0f}s)")
    ordered = [rows[e.key()] for e in spec.competitions]
    state.write(state_file)
    write_csv(folder / "batch.csv", pd.DataFrame([r.model_dump() for r in ordered]))
    return ordered, folder


def _find_run(out: Path, run_id: str) -> Path | None:
    return next(iter(out.glob(f"*/{run_id}")), None)


def _describe(exc: BaseException) -> str:
    cause = getattr(exc, "cause", None) or exc
    if isinstance(cause, PodiumError):
        return cause.message
    return f"{type(cause).__name__}: {str(cause).strip().splitlines()[-1] if str(cause).strip() else ''}"


def _row(entry: BatchEntry, run_dir: Path | None, error: str | None) -> BatchRow:
    manifest: dict[str, Any] = {}
    if run_dir and (run_dir / MANIFEST).is_file():
        try:
            manifest = Run.load(run_dir).manifest
        except InputError as damaged:
            error = error or damaged.what
    validation = manifest.get("validation") or {}
    status = manifest.get("status", FAILED)
    if error:
        status = FAILED
    submission = (manifest.get("artifacts") or {}).get("submission")
    return BatchRow(competition=manifest.get("competition_slug") or redact(entry.source), status=status,
                    metric=validation.get("metric"), validation_score=validation.get("score"),
                    seconds=manifest.get("seconds"), submission=submission,
                    run_dir=str(run_dir) if run_dir else None,
                    error=error or (manifest.get("error") or {}).get("message"), source=redact(entry.source))
