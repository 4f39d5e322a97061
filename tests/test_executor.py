"""The executor's private local Ray: started, used and stopped without leaving its session behind."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SCRIPT = """
import json, sys
from pathlib import Path
from agent.executor import RayExecutor

def power(base, exponent):
    return base ** exponent

temp = Path(sys.argv[1])
executor = RayExecutor(num_cpus=1, temp_dir=temp).start()
answer = executor.result(executor.submit(power, 2, 10, num_cpus=1))
during = sorted(p.name for p in temp.glob("session_2*"))
executor.shutdown()
print(json.dumps({"answer": answer, "during": during}))
"""


def test_a_stopped_local_ray_removes_only_its_own_session():
    temp = Path(tempfile.mkdtemp(prefix="pdm-", dir="/tmp"))  # Ray's socket paths must stay short
    try:
        other = temp / "session_2026-01-01_00-00-00_000000_1"  # another driver's session: not ours to delete
        (other / "logs").mkdir(parents=True)
        done = subprocess.run([sys.executable, "-c", SCRIPT, str(temp)], cwd=Path(__file__).resolve().parents[2],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        report = json.loads(done.stdout.strip().splitlines()[-1])
        assert report["answer"] == 1024
        ours = [name for name in report["during"] if name != other.name]
        assert len(ours) == 1  # Ray did write a session while it ran
        assert not (temp / ours[0]).exists()
        assert other.is_dir()
        assert not (temp / "session_latest").is_symlink()
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def test_a_temp_folder_too_deep_for_rays_sockets_is_replaced_by_a_short_one(tmp_path):
    from agent.executor import RAY_SOCKET_SUFFIX, UNIX_SOCKET_MAX, usable_temp_dir

    deep = tmp_path / ("d" * 60) / "ray"
    short = usable_temp_dir(deep)
    assert short != deep and len(str(short)) + RAY_SOCKET_SUFFIX <= UNIX_SOCKET_MAX
    assert usable_temp_dir(Path("/tmp/ray-x")) == Path("/tmp/ray-x")  # a short one is kept


def _sleep(seconds: float) -> float:
    import time

    time.sleep(seconds)
    return seconds


def test_a_task_that_does_not_stop_itself_is_cancelled_after_its_time_and_a_collected_one_is_not(ray_local):
    import time

    import pytest
    from ray.exceptions import TaskCancelledError

    from agent.executor import CancelAfter

    stuck = ray_local.submit(_sleep, 60.0, name="stuck", num_cpus=1)
    started = time.monotonic()
    timer = CancelAfter(ray_local, stuck, 1.0)
    with pytest.raises(TaskCancelledError):
        ray_local.result(stuck, timeout=30)
    assert time.monotonic() - started < 30 and not timer.timer.is_alive()
    quick = ray_local.submit(_sleep, 0.1, name="quick", num_cpus=1)
    timer = CancelAfter(ray_local, quick, 5.0)
    assert ray_local.result(quick, timeout=30) == 0.1
    timer.cancel()


def test_a_task_is_not_cancelled_before_what_it_must_deliver_first_is_ready(ray_local):
    import time

    import pytest
    from ray.exceptions import TaskCancelledError

    from agent.executor import CancelAfter

    ready = {"now": False}
    stuck = ray_local.submit(_sleep, 60.0, name="stuck", num_cpus=1)
    stopper = CancelAfter(ray_local, stuck, 0.5, lambda: ready["now"])
    done, _ = ray_local.wait([stuck], timeout=3.0)
    assert not done  # its time passed, but it has not delivered: still running
    ready["now"] = True
    started = time.monotonic()
    with pytest.raises(TaskCancelledError):
        ray_local.result(stuck, timeout=30)
    assert time.monotonic() - started < 10
    stopper.cancel()
