"""Artifact folders on disk: written whole or not at all, and measured in bytes."""

from __future__ import annotations

import json
from pathlib import Path

from agent.atomic import staged_directory  # noqa: F401 - re-exported: artifacts are written whole

MANIFEST = "production.json"


def directory_bytes(path: Path) -> int:
    """Bytes of every file under `path` (or of `path` itself when it is a file)."""
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def artifact_size(artifact_dir: Path) -> int:
    """Bytes on disk of what serving loads: the files `production.json` lists (model card and plots excluded)."""
    artifact_dir = Path(artifact_dir)
    manifest = json.loads((artifact_dir / MANIFEST).read_text())
    return sum(directory_bytes(artifact_dir / name) for name in manifest["serving_files"])
