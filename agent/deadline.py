"""One clock for every deadline of a run: a moment on the monotonic clock that knows how long is left.

Every deadline podium passes around is a `Deadline`, never a bare number, so a Unix time can never be compared
with a monotonic one. Deadlines cross processes (a Ray task, on this host or another). Every process of a host
reads the same monotonic clock, so on the host that made it a deadline arrives exactly as it left; on another
host it is rebuilt from the wall-clock moment it stands for (hosts of a cluster keep their wall clocks in
sync). Either way it means the same moment however long the task waited in a queue.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from pathlib import Path

clock = time.monotonic  # the one clock (tests replace it to drive time by hand)
wall_clock = time.time  # only to carry a deadline to another process


class PastDeadline(Exception):
    """Work that stopped itself because its deadline passed (a boosting loop between two rounds)."""


def now() -> float:
    """The one clock's reading (through `clock`, so that replacing it moves every reader)."""
    return clock()


def process_started() -> float:
    """This process's start on the one clock: a command's time limit counts its interpreter's start and imports
    too (seconds a run's own clock, started later, did not see)."""
    import psutil

    return now() - max(0.0, wall_clock() - psutil.Process().create_time())


@dataclass(frozen=True, order=True)
class Deadline:
    """A moment `at` on `clock`: how long is left, whether it has passed; the sooner of two."""

    at: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        """The moment `seconds` from now."""
        return cls(clock() + seconds)

    def remaining(self) -> float:
        """Seconds left (negative once passed)."""
        return self.at - clock()

    def passed(self) -> bool:
        return clock() >= self.at

    def sooner(self, other: Deadline | None) -> Deadline:
        return self if other is None or self.at <= other.at else other

    def __sub__(self, seconds: float) -> Deadline:
        """The moment `seconds` before this one."""
        return Deadline(self.at - seconds)

    def __add__(self, seconds: float) -> Deadline:
        return Deadline(self.at + seconds)

    def __reduce__(self):
        return _arrive, (self.at, wall_clock() + self.remaining(), HOST)


def _host() -> str:
    """What tells this boot of this machine from any other: Linux's boot id, else the host's name."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return socket.gethostname()


HOST = _host()


def _arrive(at: float, wall_moment: float, host: str) -> Deadline:
    """A deadline unpickled: as it was on the host that made it, else at its wall-clock moment on this clock."""
    return Deadline(at) if host == HOST else Deadline(clock() + wall_moment - wall_clock())
