"""Private Ray sessions a killed podium left behind: find their processes and stop them.

A driver killed with SIGKILL cannot shut its local Ray down: the GCS server, the raylet and their helpers
live on and hold memory. Ray names each session directory after its driver's PID
(`session_<date>_<time>_<microseconds>_<pid>`), so a session under podium's own temp dir whose driver is
gone is stale, and so is every process whose command line names it (with the raylet's children: workers
rename themselves and no longer show the directory). Sessions of live drivers, and any Ray outside
podium's temp dir, are never touched.
"""

from __future__ import annotations

import contextlib
import logging
import re
from pathlib import Path

import psutil

log = logging.getLogger("podium.executor")
SESSION = re.compile(r"/session_\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d_\d+_(\d+)/")


def stale_processes(temp_dir: Path) -> list[psutil.Process]:
    """Processes of sessions under `temp_dir` whose driver is no longer running, children included."""
    roots = {str(Path(temp_dir)), str(Path(temp_dir).resolve())}
    found: dict[int, psutil.Process] = {}
    for process in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        drivers = {int(m.group(1)) for root in roots if root in cmdline
                   for m in SESSION.finditer(cmdline, cmdline.index(root))}
        if drivers and not any(_running(pid) for pid in drivers):
            try:
                for member in [process, *process.children(recursive=True)]:
                    found[member.pid] = member
            except psutil.NoSuchProcess:
                continue
    return list(found.values())


def reap_stale_sessions(temp_dir: Path, timeout: float = 5.0) -> int:
    """Stop what killed drivers left running under `temp_dir`; the number of processes stopped."""
    processes = stale_processes(temp_dir)
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.terminate()
    _, alive = psutil.wait_procs(processes, timeout=timeout)
    for process in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    if processes:
        log.warning("Stopped %d process(es) of Ray sessions whose podium was killed (under %s)", len(processes),
                    temp_dir)
    return len(processes)


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
