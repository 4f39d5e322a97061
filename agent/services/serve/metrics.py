"""`GET /metrics`: what a Prometheus scraper reads of `podium serve`, in its text format.

One registry per served model (several servers can share a process, as in the tests). With `--workers N` the
processes write their counts to a shared folder (prometheus_client's multiprocess mode, switched on by
PROMETHEUS_MULTIPROC_DIR before the workers start) and any worker's `/metrics` adds them all up.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Request latencies from a compact model's tens of microseconds to a slow batch's seconds.
BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CONTENT_TYPE = CONTENT_TYPE_LATEST


class RequestLogSize(Collector):
    """The request log's size in bytes, read at scrape time (every worker appends to the same file)."""

    def __init__(self, path: str | None):
        self.path = Path(path).expanduser() if path else None

    def collect(self) -> Iterator[GaugeMetricFamily]:
        if self.path is None:
            return
        size = self.path.stat().st_size if self.path.exists() else 0
        yield GaugeMetricFamily("podium_serve_request_log_bytes", "Size of the request log (drift input) in bytes",
                                value=size)


class ServeMetrics:
    """Requests by route and status, their latency, rows predicted; rendered on demand."""

    def __init__(self, request_log: str | None = None):
        self.multiprocess_dir = os.environ.get(MULTIPROCESS_ENV) or None
        # In multiprocess mode the values live in files, so the metrics belong to no registry of their own.
        self.registry = None if self.multiprocess_dir else CollectorRegistry()
        self.requests = Counter("podium_serve_requests", "HTTP requests answered, by route and status",
                                ["route", "status"], registry=self.registry)
        self.latency = Histogram("podium_serve_request_seconds", "Time from request to response, by route",
                                 ["route"], buckets=BUCKETS, registry=self.registry)
        self.rows = Counter("podium_serve_predicted_rows", "Rows predicted", registry=self.registry)
        self.log_size = RequestLogSize(request_log)
        if self.registry is not None:
            self.registry.register(self.log_size)

    def observe(self, route: str, status: int, seconds: float) -> None:
        self.requests.labels(route, str(status)).inc()
        self.latency.labels(route).observe(seconds)

    def render(self) -> bytes:
        if self.registry is not None:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, self.multiprocess_dir)
        registry.register(self.log_size)
        return generate_latest(registry)


def predictions_answered(multiprocess_dir: str) -> int:
    """All workers' `POST /predict` requests answered with predictions, read after they stopped."""
    registry = CollectorRegistry()
    MultiProcessCollector(registry, multiprocess_dir)
    return int(sum(sample.value for family in registry.collect() for sample in family.samples
                   if sample.name == "podium_serve_requests_total"
                   and sample.labels.get("route") == "/predict" and sample.labels.get("status") == "200"))

