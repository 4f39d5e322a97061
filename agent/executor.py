"""Ray as podium's execution engine: every unit of work is a Ray task that declares its CPUs and memory.

By default podium starts a private local Ray (`address="local"`, never "auto", which would attach to any
Ray on the host) with its temp dir under podium's cache, and shuts down only what it started. With
`--ray-address` / RAY_ADDRESS it joins an existing cluster; run directories must then be on storage that
every node shares (`check_shared_path` proves it from inside a task).
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from agent.errors import PodiumError

log = logging.getLogger("podium.executor")
GB = 2**30
UNIX_SOCKET_MAX = 107
RAY_SOCKET_SUFFIX = len("/session_2026-12-02_04-05-59_535159_4194304/sockets/plasma_store")


def usable_temp_dir(path: Path) -> Path:
    """`path`, or a short folder under the system's temp dir when Ray's socket paths would not fit under it.

    Ray puts Unix sockets at <temp>/session_<date>_<time>_<pid>/sockets/plasma_store, and a socket path holds
    at most 107 bytes: a deep home or cache folder would make Ray fail to start.
    """
    if len(str(Path(path).resolve())) + RAY_SOCKET_SUFFIX <= UNIX_SOCKET_MAX:
        return Path(path)
    short = Path(tempfile.gettempdir()) / f"podium-ray-{os.getuid()}"
    log.info("Ray's temp folder %s is too deep for its sockets; using %s", path, short)
    return short


def cache_dir() -> Path:
    return Path(os.environ.get("PODIUM_CACHE_DIR", Path.home() / ".cache" / "podium")).expanduser()


@dataclass(eq=False)
class Task:
    """A submitted unit of work (hashable by identity, so it can key a dict of work in flight)."""

    name: str
    ref: Any


class Executor(Protocol):
    """What a search needs of where its work runs: RayExecutor (Ray tasks) and LocalExecutor (this process)."""

    def total_cpus(self) -> int: ...

    def put(self, value: Any) -> Any: ...

    def submit(self, fn: Callable, *args: Any, name: str | None = None, num_cpus: float = 1,
               memory_gb: float | None = None, max_retries: int = 0, group=None, **kwargs: Any) -> Task: ...

    def wait(self, tasks: Iterable[Task], timeout: float | None = None) -> tuple[list[Task], list[Task]]: ...

    def result(self, task: Task, timeout: float | None = None) -> Any: ...

    def cancel(self, task: Task) -> None: ...


class RayExecutor:
    """Submit functions as Ray tasks with declared resources; start or join Ray, stop only what we started."""

    def __init__(self, address: str | None = None, num_cpus: int | None = None,
                 object_store_gb: float = 0.5, temp_dir: Path | None = None):
        self.address = address or os.environ.get("RAY_ADDRESS") or None
        self.num_cpus = num_cpus
        self.object_store_gb = object_store_gb
        self.temp_dir = Path(temp_dir) if temp_dir else cache_dir() / "ray"
        self.started_ = False

    def start(self) -> RayExecutor:
        import ray

        if ray.is_initialized():  # an embedding process (tests, a batch task) already holds a Ray session
            return self
        # Workers import podium from the environment it is installed in (every node's own install), not from
        # a path passed to them.
        kwargs: dict[str, Any] = {"log_to_driver": False, "configure_logging": True, "logging_level": logging.WARNING}
        if self.address:
            log.info("Joining the Ray cluster at %s", self.address)
            try:
                ray.init(address=self.address, **kwargs)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise PodiumError(f"Could not join the Ray cluster at {self.address} ({exc})",
                                  fix="check --ray-address / RAY_ADDRESS and that the head node is up") from exc
        else:
            self.temp_dir = usable_temp_dir(self.temp_dir)
            self.temp_dir.mkdir(parents=True, exist_ok=True)
            ray.init(address="local", num_cpus=self.num_cpus or os.cpu_count(), include_dashboard=False,
                     object_store_memory=int(self.object_store_gb * GB), _temp_dir=str(self.temp_dir), **kwargs)
            log.info("Started a local Ray with %s CPUs", self.num_cpus or os.cpu_count())
        self.started_ = True
        return self

    @property
    def is_cluster(self) -> bool:
        return bool(self.address)

    def total_cpus(self) -> int:
        import ray

        return int(ray.cluster_resources().get("CPU", 1))

    def node_cpus(self) -> int:
        """CPUs of the largest alive node: the most one task (an AutoGluon fit) can use."""
        import ray

        return int(max((n["Resources"].get("CPU", 0) for n in ray.nodes() if n.get("Alive")), default=1))

    def node_memory_gb(self) -> float:
        """Schedulable memory of the largest alive node; a task asking for more would wait forever."""
        import ray

        return max((n["Resources"].get("memory", 0) for n in ray.nodes() if n.get("Alive")), default=0) / GB

    def put(self, value: Any) -> Any:
        """Store a large argument once in the object store; pass the handle to many tasks."""
        import ray

        return ray.put(value)

    def memory_share_gb(self, cpus: int) -> float:
        """The memory that goes with `cpus` on the largest node: its schedulable memory per CPU, times `cpus`."""
        node_cpus = self.node_cpus()
        return math.floor(self.node_memory_gb() * min(cpus, node_cpus) / max(node_cpus, 1) * 100) / 100

    def reserve(self, cpus: int, memory_gb: float):
        """A placement group holding `cpus` and `memory_gb` on one node; work submitted inside it stays inside.

        A batch gives each competition one, so a competition's fits and trials never take another's CPUs or
        memory. A group no node can hold would wait forever, so it is refused here with what would fit.
        """
        from ray.util.placement_group import placement_group

        node_cpus, node_memory = self.node_cpus(), self.node_memory_gb()
        if cpus > node_cpus or memory_gb > node_memory:
            raise PodiumError(
                f"A competition asks for {cpus} CPUs and {memory_gb:g} GB, but the largest Ray node has "
                f"{node_cpus} CPUs and {node_memory:.2f} GB of schedulable memory",
                fix=f"set `cpus` <= {node_cpus} and `memory_gb` <= {node_memory:.2f} for this competition "
                    "(or leave memory_gb out: it then takes the node's memory per CPU), or add a larger node")
        return placement_group([{"CPU": cpus, "memory": int(memory_gb * GB)}], strategy="STRICT_PACK")

    def release(self, group) -> None:
        from ray.util.placement_group import remove_placement_group

        remove_placement_group(group)

    def submit(self, fn: Callable, *args: Any, name: str | None = None, num_cpus: float = 1,
               memory_gb: float | None = None, max_retries: int = 0, group=None, **kwargs: Any) -> Task:
        """Run `fn` as a Ray task; inside `group`, the task and every task it submits use the group's resources.

        Inside a placement group (given, or the one this task runs in) memory is not asked for again: the
        group already holds it, and a request for more than its bundle could never be scheduled.
        """
        import ray
        from ray.util import get_current_placement_group

        options: dict[str, Any] = {"num_cpus": num_cpus, "max_retries": max_retries, "name": name or fn.__name__}
        if group is not None:
            from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

            options["scheduling_strategy"] = PlacementGroupSchedulingStrategy(
                group, placement_group_capture_child_tasks=True)
        if memory_gb and group is None and get_current_placement_group() is None:
            largest = self.node_memory_gb()
            options["memory"] = int(min(memory_gb, largest * 0.95 if largest else memory_gb) * GB)
        remote = ray.remote(fn).options(**options)
        return Task(name=options["name"], ref=remote.remote(*args, **kwargs))

    def wait(self, tasks: Iterable[Task], timeout: float | None = None) -> tuple[list[Task], list[Task]]:
        """Split tasks into (done, pending) once at least one is done or `timeout` passes."""
        import ray

        tasks = list(tasks)
        if not tasks:
            return [], []
        by_ref = {task.ref: task for task in tasks}
        done, pending = ray.wait([t.ref for t in tasks], num_returns=1, timeout=timeout)
        return [by_ref[r] for r in done], [by_ref[r] for r in pending]

    def result(self, task: Task, timeout: float | None = None) -> Any:
        import ray

        return ray.get(task.ref, timeout=timeout)

    def cancel(self, task: Task) -> None:
        """Stop a task still running (its worker is killed). The last resort: a cancel that arrives while the
        task's result is being handed back races it inside Ray, so podium's work stops itself at its deadline
        (agent/deadline.py) and is cancelled only when it did not; each cancel is logged."""
        import ray

        if ray.wait([task.ref], timeout=0)[0]:
            return  # finished: nothing to stop
        log.info("Cancelling the Ray task %s", task.name)
        ray.cancel(task.ref, force=True)

    def shutdown(self) -> None:
        """Stop the Ray this executor started (never `ray stop`, which kills every Ray on the host)."""
        if self.started_:
            import ray

            ray.shutdown()
            self.started_ = False
            if not self.address:
                self._remove_sessions()

    def _remove_sessions(self) -> None:
        """Delete the stopped local Ray's session folders (logs, sockets: about 1 MB a run, never read again).

        Ray names a session after its driver's PID; this process holds no live session once it shut down.
        """
        import shutil

        for session in self.temp_dir.glob(f"session_*_{os.getpid()}"):
            shutil.rmtree(session, ignore_errors=True)
        latest = self.temp_dir / "session_latest"
        if latest.is_symlink() and not latest.exists():
            latest.unlink(missing_ok=True)

    def __enter__(self) -> RayExecutor:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.shutdown()


class CancelAfter:
    """Cancel `task` in `seconds` unless it has ended, from a timer thread, and only once `ready()` says what it
    must deliver first is delivered (checked again every second until then); `cancel()` once its result is
    collected. For work that may not stop itself at its deadline (one library call it cannot interrupt)."""

    def __init__(self, executor, task: Task, seconds: float, ready: Callable[[], bool] = lambda: True):
        self.executor, self.task, self.ready = executor, task, ready
        self.timer: threading.Timer | None = None
        self.stopped = False
        self._arm(seconds)

    def _arm(self, seconds: float) -> None:
        if not self.stopped:
            self.timer = threading.Timer(seconds, self._fire)
            self.timer.daemon = True
            self.timer.start()

    def _fire(self) -> None:
        if not self.ready():
            self._arm(1.0)
            return
        try:
            self.executor.cancel(self.task)
        except Exception as error:  # noqa: BLE001 - a task that cannot be cancelled ends with the run
            log.info("The Ray task %s could not be cancelled: %s", self.task.name, error)

    def cancel(self) -> None:
        self.stopped = True
        if self.timer is not None:
            self.timer.cancel()


def _probe_path(path: str) -> bool:
    return Path(path).exists()


def check_shared_path(executor: RayExecutor, path: Path) -> None:
    """On a cluster, prove from inside a task that the run directory is visible; fail clearly otherwise."""
    if not executor.is_cluster:
        return
    task = executor.submit(_probe_path, str(path), name="check-shared-storage", num_cpus=0)
    if not executor.result(task, timeout=120):
        raise PodiumError(
            f"A Ray task cannot see the run directory {path}: on a cluster every node must share it",
            fix="put --out on storage that all nodes mount at the same path (NFS, EFS, a shared volume)")


class LocalExecutor:
    """The executor's interface in this process, one call at a time (each runs when submitted): for work too
    small to be worth Ray's start, and wherever the same code should run without a cluster."""

    def total_cpus(self) -> int:
        return 1

    def put(self, value: Any) -> Any:
        return value

    def submit(self, fn: Callable, *args: Any, name: str | None = None, num_cpus: float = 1,
               memory_gb: float | None = None, max_retries: int = 0, group=None, **kwargs: Any) -> Task:
        try:
            outcome: tuple[bool, Any] = (True, fn(*args, **kwargs))
        except Exception as error:  # noqa: BLE001 - handed to whoever asks for the result, as Ray does
            outcome = (False, error)
        return Task(name=name or fn.__name__, ref=outcome)

    def wait(self, tasks: Iterable[Task], timeout: float | None = None) -> tuple[list[Task], list[Task]]:
        return list(tasks), []

    def result(self, task: Task, timeout: float | None = None) -> Any:
        succeeded, value = task.ref
        if not succeeded:
            raise value
        return value

    def cancel(self, task: Task) -> None:
        """Nothing runs in the background here."""
