"""`podium serve ARTIFACT --ray-address ADDR`: the same app as replicas of a Ray Serve deployment.

The artifact travels inside the deployment (a compressed copy in Ray's object store), so a replica on any
node loads it without a shared filesystem; each replica runs the app of agent/services/serve/app.py, with its checks,
error bodies and `/metrics`. Ray Serve's proxy listens on `serve.host`/`serve.port` (once per cluster: a
cluster already serving keeps its own address, which is what gets printed). `serve.replicas` fixes the count,
or `serve.max_replicas` lets Ray Serve autoscale between the two on requests in flight per replica.
"""

from __future__ import annotations

import io
import logging
import os
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agent.config import ServeSettings
from agent.errors import InputError
from agent.runtime.files import directory_bytes
from agent.services.serve.app import build_app
from agent.services.serve.listening import Listening, Stopper
from agent.services.serve.service import PredictionService

log = logging.getLogger("podium.serve")
MAX_ARTIFACT_BYTES = 512 << 20  # a production artifact is megabytes; a folder this large is not one
APP_PREFIX = "podium-"


def pack(artifact_dir: Path) -> bytes:
    """The artifact folder as one gzipped tar, for the object store."""
    size = directory_bytes(artifact_dir)
    if size > MAX_ARTIFACT_BYTES:
        raise InputError(f"The artifact holds {size:,} bytes; Ray Serve replicas take at most "
                         f"{MAX_ARTIFACT_BYTES:,}", where=str(artifact_dir),
                         fix="serve the production folder of a run, not a run directory")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        archive.add(artifact_dir, arcname="artifact")
    return buffer.getvalue()


def unpack(data: bytes) -> Path:
    """A packed artifact in a fresh folder of this node (the tar is podium's own: members are checked anyway)."""
    folder = Path(tempfile.mkdtemp(prefix="podium-replica-"))
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        archive.extractall(folder, filter="data")
    return folder / "artifact"


class PodiumReplica:
    """One Ray Serve replica: the artifact unpacked on its node, the app built on it (`serve.ingress`)."""

    def __init__(self, artifact: bytes, settings_json: str):
        settings = ServeSettings.model_validate_json(settings_json)
        self.service = PredictionService.load(unpack(artifact), settings)

    def __serve_build_asgi_app__(self) -> Any:
        return build_app(self.service)


def deployment_options(settings: ServeSettings) -> dict[str, Any]:
    """Replica count or autoscaling bounds, one CPU each (a replica is one process predicting on one core)."""
    options: dict[str, Any] = {"ray_actor_options": {"num_cpus": 1}}
    if settings.max_replicas and settings.max_replicas > settings.replicas:
        options["autoscaling_config"] = {"min_replicas": settings.replicas, "max_replicas": settings.max_replicas,
                                         "initial_replicas": settings.replicas,
                                         "target_ongoing_requests": settings.target_ongoing_requests}
    else:
        options["num_replicas"] = settings.replicas
    return options


def app_name(model_name: str) -> str:
    return APP_PREFIX + "".join(c if c.isalnum() or c in "-_" else "-" for c in model_name)


def run_on_ray(artifact_dir: str | os.PathLike, settings: ServeSettings, ready: Callable[[Listening], None],
               stopper: Stopper) -> None:
    """Deploy, tell `ready`, wait for the stopper (SIGINT/SIGTERM), then delete the deployment (Ray stays)."""
    from ray import serve

    from agent.executor import RayExecutor

    artifact_dir = Path(artifact_dir)
    name = PredictionService.load(artifact_dir, settings.model_copy(update={"request_log": None})).model.name
    data = pack(artifact_dir)
    executor = RayExecutor(address=None if settings.ray_address == "local" else settings.ray_address).start()
    port = settings.port or _free_port(settings.host)
    serve.start(http_options={"host": settings.host, "port": port})
    http = serve.context._get_global_client().http_config  # the proxy's address (a running Serve keeps its own)
    deployment = serve.deployment(serve.ingress()(PodiumReplica), name="podium", **deployment_options(settings))
    application = app_name(name)
    stopper.install()
    try:
        serve.run(deployment.bind(data, settings.model_dump_json()), name=application, route_prefix="/")
        ready(Listening(f"http://{http.host}:{http.port}", name, settings.replicas, unit="replicas"))
        while not stopper.stopping:
            time.sleep(0.2)
    finally:
        log.info("Deleting the Ray Serve application %s", application)
        serve.delete(application)
        stopper.restore()
        if executor.started_:  # a Ray of this command's own ("local"): Serve and Ray end with it
            serve.shutdown()
            executor.shutdown()


def _free_port(host: str) -> int:
    from agent.webserver import bind

    with bind(host, 0) as sock:
        return sock.getsockname()[1]
