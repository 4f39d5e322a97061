"""Artifact folders on disk: written whole or not at all, and measured in bytes."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MANIFEST = "production.json"


@contextmanager
def staged_directory(path: Path) -> Iterator[Path]:
    """Yield a temporary sibling folder to fill; rename it to `path` on success, delete it on any failure.

    A reader sees no folder, the old folder or the complete new one, never half of one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".staging", dir=path.parent))
    os.chmod(stage, 0o755)  # mkdtemp makes it private; the artifact is meant to be shared and served
    try:
        yield stage
        old = None
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
            os.replace(path, old / path.name)
        os.replace(stage, path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


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
