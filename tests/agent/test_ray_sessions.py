"""Stale Ray sessions: processes of a dead driver under podium's temp dir are stopped, nothing else is."""

from __future__ import annotations

import os
import subprocess
import sys

import psutil

from agent.ray_sessions import reap_stale_sessions, stale_processes


def dead_pid() -> int:
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True)
    return int(finished.stdout)


def sleeper(session_dir) -> subprocess.Popen:
    """A stand-in for a raylet: its command line names a session directory, as Ray's processes do."""
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", f"--log_dir={session_dir}/logs"])


def test_only_processes_of_dead_drivers_under_the_temp_dir_are_reaped(tmp_path):
    temp_dir, elsewhere = tmp_path / "ray", tmp_path / "other-ray"
    gone = dead_pid()
    orphan = sleeper(temp_dir / f"session_2026-11-28_20-29-51_019023_{gone}")
    alive_driver = sleeper(temp_dir / f"session_2026-11-28_20-29-52_019023_{os.getpid()}")
    foreign = sleeper(elsewhere / f"session_2026-11-28_20-29-53_019023_{gone}")
    try:
        assert {p.pid for p in stale_processes(temp_dir)} == {orphan.pid}
        assert reap_stale_sessions(temp_dir) == 1
        assert orphan.wait(timeout=10) is not None
        assert alive_driver.poll() is None and foreign.poll() is None
        assert psutil.pid_exists(alive_driver.pid)
    finally:
        for process in (orphan, alive_driver, foreign):
            process.kill()
            process.wait()
