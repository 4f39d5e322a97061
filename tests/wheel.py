"""podium as a cluster node gets it: a wheel built from this checkout, installed (not editable) into a fresh
virtual environment.

The fresh environment borrows the test environment's third-party packages through a path file (offline,
seconds instead of gigabytes); path files do not run the `.pth` hooks inside that folder, so the editable
install of this checkout stays invisible, and podium itself can only come from the wheel.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def install_wheel(root: Path) -> Path:
    """Build the wheel from a clean copy of the source (no stale build/ folder can slip into it), install it
    into a fresh venv under `root`; return the venv's bin folder."""
    source = root / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "runs", "build", "dist", "site", "*.egg-info", ".demo", "__pycache__", ".pytest_cache"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-q", "-w", str(root / "dist")],
                   check=True, capture_output=True, text=True, timeout=600)
    wheel = next((root / "dist").glob("podium-*.whl"))
    venv.create(root / "env", with_pip=True)
    bin_dir = root / "env" / "bin"
    site = Path(subprocess.run([bin_dir / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "borrowed-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([bin_dir / "python", "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)],
                   check=True, capture_output=True, text=True, timeout=600)
    return bin_dir


def clean_env(home: Path) -> dict[str, str]:
    """The environment of a process outside the checkout: no PYTHONPATH, its own home and cache."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "RAY_ADDRESS")}
    return {**env, "HOME": str(home), "PODIUM_CACHE_DIR": str(home / "cache"), "COLUMNS": "200"}
