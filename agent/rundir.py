"""The run directory and its manifest: rewritten atomically after every phase, so a killed run stays readable."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import socket
import threading
import time
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from agent import __version__
from agent.atomic import write_json
from agent.errors import InputError, PodiumError
from agent.names import safe_component
from agent.records import Record
from agent.versions import package_versions

RUNNING, SUCCEEDED, FAILED = "running", "succeeded", "failed"
MANIFEST = "manifest.json"
def utc_now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def this_driver() -> dict[str, Any]:
    """Who is driving a run: enough to tell later whether that process still lives."""
    import psutil

    return {"host": socket.gethostname(), "pid": os.getpid(), "process_started": psutil.Process().create_time()}


def driver_alive(driver: dict[str, Any] | None) -> bool:
    """Whether the process that drove a run still runs on this host (another host's driver cannot be seen)."""
    import psutil

    if not driver or driver.get("host") != socket.gethostname() or driver.get("pid") == os.getpid():
        return False
    try:
        process = psutil.Process(int(driver["pid"]))
        return process.create_time() == driver.get("process_started") and process.status() != psutil.STATUS_ZOMBIE
    except (psutil.Error, KeyError, TypeError, ValueError):
        return False


class Phase(BaseModel):
    """One phase of a run as the manifest records it (phases may add their own figures)."""

    model_config = ConfigDict(extra="allow")

    status: Literal["running", "succeeded", "failed"]
    started_at: str
    seconds: float | None = None


class RunManifest(Record):
    """manifest.json: what a run is, how far it got and what it wrote, rewritten after every phase.

    The fields every run has are typed; the sections phases add (competition, plan, leaderboard, production,
    submissions, ...) are recorded as their writers give them, and checked to be JSON objects or lists."""

    model_config = ConfigDict(extra="allow")
    FORMAT: ClassVar[str] = "podium.run_manifest"
    TITLE: ClassVar[str] = "run manifest (manifest.json)"
    FIX: ClassVar[str] = ("pass the run directory `podium run` printed, e.g. runs/<competition>/<run-id>; a damaged "
                          "manifest cannot be resumed: start the run again")

    podium_version: str
    run_id: str
    competition_slug: str
    status: Literal["running", "succeeded", "failed"]
    started_at: str
    finished_at: str | None = None
    error: dict[str, Any] | None = None
    phases: dict[str, Phase] = {}
    versions: dict[str, str] = {}
    driver: dict[str, Any] | None = None
    resumed_at: list[str] | None = None
    seconds: float | None = None

    UNVERSIONED_KEY: ClassVar[str] = "run_id"


def new_run_id() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)


class Run:
    """One run's directory: `runs/<competition>/<run-id>/` with manifest.json at its root."""

    def __init__(self, path: Path, manifest: dict[str, Any]):
        self.path = Path(path)
        self.manifest = manifest
        self._clock = time.monotonic()
        self._lock = threading.RLock()  # phases may run in threads (data loads while Ray starts)

    @classmethod
    def create(cls, out: Path, slug: str, run_id: str | None = None, **fields: Any) -> Run:
        run_id = safe_component(run_id or new_run_id(), "run id")
        path = Path(out).expanduser().resolve() / safe_component(slug, "competition slug") / run_id
        path.mkdir(parents=True, exist_ok=False)
        manifest = {
            "podium_version": __version__, "run_id": run_id, "competition_slug": slug, "status": RUNNING,
            "started_at": utc_now(), "finished_at": None, "error": None, "phases": {},
            "versions": package_versions(), "driver": this_driver(), **fields,
        }
        run = cls(path, manifest)
        run.save()
        return run

    @classmethod
    def load(cls, path: Path) -> Run:
        """The run at `path`, its manifest validated (agent/records.py): InputError for a damaged one."""
        path = Path(path).expanduser().resolve()
        file = path / MANIFEST
        if not file.is_file():
            raise InputError("This is not a podium run directory (no manifest.json)", where=str(path),
                             fix=RunManifest.FIX)
        record = RunManifest.read(file)
        return cls(path, {"format": record.FORMAT, "version": record.VERSION,
                          **record.model_dump(mode="json", exclude_unset=True)})  # as written: no added defaults

    def file(self, *parts: str) -> Path:
        return self.path.joinpath(*parts)

    def save(self) -> None:
        """Validate and write atomically: a reader (a report, a resume) never sees half a manifest."""
        with self._lock:
            manifest = {key: value for key, value in self.manifest.items() if key not in ("format", "version")}
            RunManifest.model_validate(manifest)  # a writer's mistake fails here, not in a later reader
            # written as the writers gave it (numpy numbers included, which write_json converts)
            write_json(self.path / MANIFEST, {"format": RunManifest.FORMAT, "version": RunManifest.VERSION,
                                              **manifest})

    def update(self, **fields: Any) -> None:
        with self._lock:
            self.manifest.update(fields)
            self.save()

    def elapsed(self) -> float:
        return time.monotonic() - self._clock

    @contextmanager
    def phase(self, name: str):
        """Time a phase and record its outcome in the manifest, whether it succeeds or not."""
        record = {"status": RUNNING, "started_at": utc_now(), "seconds": None}
        with self._lock:
            self.manifest["phases"][name] = record
            self.save()
        start = time.monotonic()
        try:
            yield record
        except BaseException:
            record["status"] = FAILED
            raise
        else:
            record["status"] = SUCCEEDED
        finally:
            record["seconds"] = round(time.monotonic() - start, 3)
            self.save()

    def refuse_if_running(self) -> None:
        """Two drivers writing one run would corrupt it: refuse while the recorded driver still runs."""
        driver = self.manifest.get("driver")
        if self.manifest.get("status") == RUNNING and driver_alive(driver):
            raise InputError(f"This run is still running (process {driver['pid']} on {driver['host']})",
                             where=str(self.path), fix="let it finish, or stop that process before resuming")

    def resume(self) -> None:
        """Mark a stopped run as running again, keeping what it recorded."""
        with self._lock:
            self.manifest.setdefault("resumed_at", []).append(utc_now())
            self.manifest.update(status=RUNNING, error=None, finished_at=None, driver=this_driver())
            self._clock = time.monotonic()
            self.save()

    def succeed(self) -> None:
        self.update(status=SUCCEEDED, finished_at=utc_now(), seconds=round(self.elapsed(), 3))

    def fail(self, error: BaseException) -> None:
        details: dict[str, Any] = {"type": type(error).__name__, "message": str(error)}
        if not isinstance(error, PodiumError):
            details["traceback"] = traceback.format_exception(error)[-8:]
        self.update(status=FAILED, finished_at=utc_now(), seconds=round(self.elapsed(), 3), error=details)
