"""The memory guard names a runaway test and stops the session (tests/memory_guard.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOG = '''
import time

def test_quiet():
    assert True

def test_runaway():
    blocks = []
    for _ in range(40):
        blocks.append(bytearray(50 * 2**20))
        time.sleep(0.05)
'''


def test_a_runaway_test_is_named_and_the_session_stops(tmp_path):
    (tmp_path / "test_hog.py").write_text(HOG)
    env = {**os.environ, "PODIUM_TEST_MEMORY_GUARD_BYTES": str(600 * 2**20)}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.memory_guard",
                           "--rootdir", str(tmp_path), str(tmp_path / "test_hog.py")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 3
    assert "memory guard: " in done.stderr and "test_hog.py::test_runaway holds" in done.stderr
    assert "test_quiet" not in done.stderr
