"""How AutoGluon's bagged folds run under podium: reused workers, a deadline that reaches inside a model,
distributed mode over a cluster, and where the folds ran.

AutoGluon's own time limit does not hold every model: a bag whose memory estimate forces fewer folds at a
time than planned, or whose fold workers start slowly, can run many times the seconds it was given, and
podium's deadline callback only acts between models. Folds fitted in parallel are Ray tasks that the bag
waits for; `fold_deadline` bounds that wait, so a model still fitting at the fit's deadline is cancelled
and skipped (AutoGluon's TimeLimitExceeded) while every model fitted before it is kept.
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from agent.deadline import Deadline

log = logging.getLogger("podium.autogluon")
DISTRIBUTED = "parallel_distributed"  # AutoGluon's fold fitting over every node of a Ray cluster
DISTRIBUTED_ENVIRONMENT = {"AG_DISTRIBUTED_MODE": "1", "AG_DISTRIBUTED_FILESYSTEM": "NFS"}
# The moment past which a bag stops waiting for its folds (None: no bound); set around one fit.
_deadline: list[Deadline | None] = [None]


@contextmanager
def fold_deadline(deadline: Deadline | None) -> Iterator[None]:
    """Within the block, a bag fitting its folds in parallel gives up on them at `deadline`."""
    saved = _deadline[0]
    _deadline[0] = deadline
    try:
        yield
    finally:
        _deadline[0] = saved


class DeadlineRay:
    """The `ray` module as one fold-fitting strategy sees it, its `wait` bounded by the fit's deadline.

    Past the deadline with folds still running, the strategy's own `terminate_all_unfinished_tasks` cancels
    them and the bag fails with AutoGluon's TimeLimitExceeded, which the trainer takes as "skip this model".
    """

    def __init__(self, ray, strategy, deadline: Deadline):
        self._ray, self._strategy, self._deadline = ray, strategy, deadline

    def __getattr__(self, name: str):
        return getattr(self._ray, name)

    def wait(self, refs, *args, timeout: float | None = None, **kwargs):
        left = max(0.0, self._deadline.remaining())
        done, pending = self._ray.wait(refs, *args, timeout=left if timeout is None else min(timeout, left),
                                       **kwargs)
        if not done and pending and self._deadline.passed():
            from autogluon.core.utils.exceptions import TimeLimitExceeded

            log.warning("The fit's deadline passed with %d fold(s) of a model still fitting: that model is skipped",
                        len(pending))
            self._strategy.terminate_all_unfinished_tasks(pending)
            raise TimeLimitExceeded
        return done, pending


def patch_fold_fitting() -> None:
    """Patch AutoGluon's parallel fold fitting once per process: workers reused on CPU fits, waits bounded.

    AutoGluon starts a fresh Ray worker for every fold it fits in parallel (`max_calls=1`, so that a worker's
    GPU is released), and each new worker imports AutoGluon and the model's library before it fits: seconds
    per bagged model, which stop models from being fitted in the same time. A fit without GPUs (podium's)
    reuses its fold workers instead; a fold cancelled at its time limit still ends its worker. Inside
    `fold_deadline`, the strategy's waits end at the deadline (DeadlineRay).
    """
    from autogluon.core.models.ensemble import fold_fitting_strategy as folds

    strategy = folds.ParallelFoldFittingStrategy
    if getattr(strategy, "patched_by_podium", False):
        return
    initialise = strategy.__init__

    @functools.wraps(initialise)
    def __init__(self, *args, **kwargs):
        initialise(self, *args, **kwargs)
        if not self.num_gpus:
            retries = {"max_retries": 0} if os.getenv("RAY_DISABLE_RETRIES") == "1" else {}
            self._ray_fit = self.ray.remote(max_calls=0, **retries)(folds._ray_fit)
        if _deadline[0] is not None:
            self.ray = DeadlineRay(self.ray, self, _deadline[0])

    strategy.__init__ = __init__
    strategy.patched_by_podium = True


@contextmanager
def distributed_mode(on: bool) -> Iterator[None]:
    """AutoGluon's distributed mode for the fit: its folds become Ray tasks on any node of the cluster, and its
    resource checks count the cluster's CPUs. The run directory is on storage every node mounts (podium checks
    it at the start), so fold models are written in place: AutoGluon's NFS mode, no syncing through S3."""
    if not on:
        yield
        return
    _complete_ray_resource_manager()
    saved = {key: os.environ.get(key) for key in DISTRIBUTED_ENVIRONMENT}
    os.environ.update(DISTRIBUTED_ENVIRONMENT)
    try:
        yield
    finally:  # a Ray worker runs other tasks afterwards: leave its environment as it was
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _complete_ray_resource_manager() -> None:
    """AutoGluon 1.6.3's `fit` asks its resource manager for `get_gpu_count_torch`, which the cluster's
    (RayResourceManager, used in distributed mode) does not define: the fit fails at once. Its GPUs are the
    cluster's GPUs, which it does count."""
    from autogluon.common.utils.resource_utils import RayResourceManager

    if not hasattr(RayResourceManager, "get_gpu_count_torch"):
        counted = RayResourceManager.get_gpu_count
        RayResourceManager.get_gpu_count_torch = staticmethod(lambda cuda_only=False: counted())


def fold_nodes(settle_seconds: float = 1.5, reads: int = 4) -> dict[str, int] | None:
    """AutoGluon's fold fits per Ray node in this job (node ids shortened), from Ray's state API; None where
    it is not served (a local Ray without its dashboard). Each node reports its task events in batches (every
    second by default), so the counts are read again until two reads agree: read by the driver after the fit,
    never inside the fit's task, whose deadline it would take from."""
    counts = _fold_counts()
    for _ in range(reads - 1):
        time.sleep(settle_seconds)
        again = _fold_counts()
        if again == counts:
            break
        counts = again
    return counts


def _fold_counts() -> dict[str, int] | None:
    try:
        import ray
        from ray.util.state import list_tasks

        context = ray.get_runtime_context()
        tasks = list_tasks(address=context.gcs_address, limit=10_000, raise_on_missing_output=False, timeout=10,
                           filters=[("func_or_class_name", "=", "_ray_fit"), ("job_id", "=", context.get_job_id())])
    except Exception as error:  # noqa: BLE001 - a record of where folds ran, never a reason to fail the fit
        log.info("Could not read where AutoGluon's folds ran: %s", error)
        return None
    counts: dict[str, int] = {}
    for task in tasks:
        node = (task.node_id or "unknown")[:12]
        counts[node] = counts.get(node, 0) + 1
    return counts
