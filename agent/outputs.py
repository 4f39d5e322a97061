"""Where a command will write, checked before it does any work: a clear error instead of an OSError at the end.

A folder option (`podium run --out`) must be a folder that exists or can be made, and that podium can write
into; a file option (`podium predict --output`) must not be a folder, and its folder must be writable. The
check writes and removes a probe file in the nearest existing folder: the only test that holds for root and on
read-only mounts alike (os.access says yes to root).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from agent.errors import InputError


def output_folder(path: str | os.PathLike, option: str) -> Path:
    """`path` as a folder podium can write into or make, or an InputError naming `option`."""
    path = Path(path).expanduser()
    _check_writable(path, option, path)
    return path


def output_file(path: str | os.PathLike, option: str) -> Path:
    """`path` as a file podium can write (replacing it if it exists), or an InputError naming `option`."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise InputError(f"{option} names a folder, not a file", where=str(path),
                         fix=f"pass a file name for {option}, e.g. {path / 'predictions.csv'}")
    _check_writable(path.parent, option, path)
    return path


def _check_writable(folder: Path, option: str, given: Path) -> None:
    """The nearest existing folder on the way to `folder` takes a new file; nothing is left behind."""
    existing = next(part for part in (folder, *folder.parents) if part.exists() or part == part.parent)
    if not existing.is_dir():
        what = f"{option} names a file, not a folder" if existing == given else \
            f"{option} runs through a file ({existing}), so no folder can be made there"
        raise InputError(what, where=str(given),
                         fix=f"pass another path for {option}, or move that file away")
    try:
        handle, probe = tempfile.mkstemp(prefix=".podium-probe-", dir=existing)
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        raise InputError(f"podium cannot write there: {existing} takes no new files ({exc.strerror or exc})",
                         where=f"{option} {given}", fix=f"pass a path you can write to for {option}, e.g. in your "
                         "home folder, or fix its permissions") from None
