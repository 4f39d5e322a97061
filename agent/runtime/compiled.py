"""C kernels shipped as source with podium, compiled once per machine with its C compiler and loaded with ctypes.

A kernel is generic (it reads a model's arrays, no code is generated per model), so one build serves every
artifact; it is cached under PODIUM_KERNELS (default ~/.cache/podium/kernels), named by its source's hash and
the platform. Where no compiler is on PATH or the build fails, `kernel` returns None once and for all in this
process and the caller serves the same numbers its numpy way (tests compare the two to 1e-9).
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import platform
import shutil
import subprocess
import tempfile
import threading
from functools import cache
from pathlib import Path

log = logging.getLogger("podium.runtime")
SOURCES = Path(__file__).resolve().parent
COMPILE_SECONDS = 120


def cache_folder() -> Path:
    return Path(os.environ.get("PODIUM_KERNELS") or Path.home() / ".cache" / "podium" / "kernels")


_lock = threading.Lock()


def kernel(name: str) -> ctypes.CDLL | None:
    """The compiled library of `{name}.c` beside this module, built if this machine has not built it yet; None
    where it cannot be built (no C compiler on PATH, or the build failed)."""
    with _lock:
        return _kernel(name, str(cache_folder()), os.environ.get("PATH", ""))


@cache
def _kernel(name: str, folder: str, path: str) -> ctypes.CDLL | None:
    source = SOURCES / f"{name}.c"
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    library = Path(folder) / f"{name}-{digest}-{platform.system()}-{platform.machine()}.so"
    if not library.exists() and not _build(source, library, path):
        return None
    try:
        return ctypes.CDLL(str(library))
    except OSError as error:
        log.warning("the compiled %s kernel does not load (%s): its numpy evaluation serves", name, error)
        return None


def _build(source: Path, library: Path, path: str) -> bool:
    compiler = next((found for name in ("cc", "gcc", "clang") if (found := shutil.which(name, path=path))), None)
    if compiler is None:
        log.info("no C compiler on PATH: %s is evaluated with numpy", source.name)
        return False
    library.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=library.parent) as scratch:
        built = Path(scratch) / library.name
        try:
            subprocess.run([compiler, "-O2", "-shared", "-fPIC", "-o", str(built), str(source), "-lm"],
                           check=True, capture_output=True, timeout=COMPILE_SECONDS)
        except (OSError, subprocess.SubprocessError) as error:
            detail = getattr(error, "stderr", b"") or b""
            log.warning("compiling %s failed (%s %s): it is evaluated with numpy", source.name, error,
                        detail.decode(errors="replace")[:500])
            return False
        os.replace(built, library)  # atomic: a process loading it never sees half a library
    return True
