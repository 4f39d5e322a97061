"""Read a run directory for the report: the manifest must be there; everything else may be missing or broken.

A missing or unreadable optional file becomes a note the report shows, never an exception: the report is
written at the end of failed and partial runs too.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.errors import InputError
from agent.records import Record
from agent.rundir import MANIFEST, Run
from agent.runtime.card import MODEL_CARD as CARD
from agent.runtime.card import ModelCard
from agent.runtime.listing import CANDIDATES, CandidateListing

log = logging.getLogger("podium.report")
QUALITY, CONFIG, PRODUCTION = "quality.json", "config.yaml", "production"
FRONTIER = "frontier.png"
FIX = "pass the run directory `podium run` printed, e.g. runs/<competition>/<run-id> (it holds manifest.json)"


@dataclass
class RunInputs:
    """What the report is made from. `problems` maps a file name to why it could not be read."""

    path: Path
    manifest: dict[str, Any]
    quality: dict[str, Any] | None = None
    config: dict[str, Any] | None = None
    production_dir: Path | None = None
    card: dict[str, Any] | None = None
    candidates: dict[str, Any] | None = None
    frontier_png: bytes | None = None
    problems: dict[str, str] = field(default_factory=dict)

    def problem(self, name: str, default: str) -> str:
        """Why `name` is absent: the read error if there was one, else `default`."""
        return self.problems.get(name, default)


def read_run(run_dir: Path) -> RunInputs:
    """Load the run directory; InputError when it is not a podium run directory at all."""
    run_dir = Path(run_dir).expanduser()
    if not run_dir.is_dir():
        raise InputError("There is no run directory here", where=str(run_dir), fix=FIX)
    if not (run_dir / MANIFEST).is_file():
        raise InputError("This is not a podium run directory (no manifest.json)", where=str(run_dir),
                         fix=FIX)
    # Read as it is, not through the typed record (agent/rundir.py): a report is for damaged runs too, so a
    # wrongly shaped section becomes a note in its section rather than no report at all.
    run_dir = run_dir.resolve()
    try:
        manifest = json.loads((run_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"The run manifest is not valid JSON ({exc})", where=str(run_dir / MANIFEST),
                         fix=FIX) from exc
    if not isinstance(manifest, dict) or "run_id" not in manifest:
        raise InputError("manifest.json is not a podium run manifest (no run_id)", where=str(run_dir / MANIFEST),
                         fix=FIX)
    run = Run(run_dir, manifest)
    inputs = RunInputs(path=run.path, manifest=run.manifest)
    inputs.quality = _json(inputs, run.path / QUALITY, QUALITY)
    inputs.config = _yaml(inputs, run.path / CONFIG, CONFIG)
    inputs.production_dir = production_dir(run.path, run.manifest)
    if inputs.production_dir is not None:
        inputs.card = _record(inputs, ModelCard, inputs.production_dir / CARD, CARD)
        inputs.candidates = _record(inputs, CandidateListing, inputs.production_dir / CANDIDATES, CANDIDATES)
        inputs.frontier_png = _png(inputs, inputs.production_dir / FRONTIER, FRONTIER)
    return inputs


def production_dir(run_dir: Path, manifest: dict[str, Any]) -> Path | None:
    """run_dir/production, else where the manifest says (a moved or copied run reads its own folder first)."""
    recorded = manifest.get("production") if isinstance(manifest.get("production"), dict) else {}
    for candidate in (run_dir / PRODUCTION, recorded.get("path")):
        if isinstance(candidate, str | Path) and str(candidate) and Path(candidate).is_dir():
            return Path(candidate)
    return None


def _json(inputs: RunInputs, path: Path, name: str) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        return _broken(inputs, name, path, error)
    if not isinstance(data, dict):
        return _broken(inputs, name, path, ValueError(f"expected a JSON object, found {type(data).__name__}"))
    return data


def _record(inputs: RunInputs, record: type[Record], path: Path, name: str) -> dict[str, Any] | None:
    """A typed record's content, validated on the way (agent/records.py); a damaged one is noted."""
    if not path.is_file():
        return None
    try:
        return record.read(path).dumped()
    except InputError as error:
        return _broken(inputs, name, path, ValueError(error.what))


def _yaml(inputs: RunInputs, path: Path, name: str) -> dict[str, Any] | None:
    import yaml

    if not path.is_file():
        return None
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        return _broken(inputs, name, path, error)
    if not isinstance(data, dict):
        return _broken(inputs, name, path, ValueError(f"expected a mapping, found {type(data).__name__}"))
    return data


def _png(inputs: RunInputs, path: Path, name: str) -> bytes | None:
    if not path.is_file():
        return None
    try:
        data = path.read_bytes()
    except OSError as error:
        return _broken(inputs, name, path, error)
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return _broken(inputs, name, path, ValueError("not a PNG file"))
    return data


def _broken(inputs: RunInputs, name: str, path: Path, error: BaseException) -> None:
    log.warning("The report skips %s: %s", path, error)
    inputs.problems[name] = f"{path.name} could not be read ({type(error).__name__}: {error})"
    return None
