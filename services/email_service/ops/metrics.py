"""Prometheus request count and latency per endpoint (label: the route rule, never the raw path).

Under gunicorn, gunicorn_conf.py sets PROMETHEUS_MULTIPROC_DIR before the workers import this, so
every worker writes its samples there and one scrape sums all processes. Worker metrics (tasks,
sync messages, send results, queue lengths) come from Redis through WorkerMetricsCollector.
"""

from __future__ import annotations

import time

from flask import Flask, Response, g, request
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess

from email_service.core.config import get_settings
from email_service.ops.worker_metrics import WorkerMetricsCollector

REQUESTS = Counter("api_requests_total", "API requests", ["method", "endpoint", "status"])
LATENCY = Histogram("api_request_seconds", "API request latency", ["method", "endpoint"])


def init_metrics(app: Flask) -> None:
    @app.before_request
    def _start_timer() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def _observe(response: Response) -> Response:
        started = g.get("request_started")
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        REQUESTS.labels(request.method, endpoint, str(response.status_code)).inc()
        if started is not None:
            LATENCY.labels(request.method, endpoint).observe(time.perf_counter() - started)
        return response


def render_metrics() -> bytes:
    """API samples of every gunicorn process (multiprocess mode) or of this one, then worker metrics."""
    if get_settings().prometheus_multiproc_dir:  # read by prometheus_client itself, too
        api: CollectorRegistry = CollectorRegistry()
        multiprocess.MultiProcessCollector(api)
    else:
        api = REGISTRY
    workers = CollectorRegistry(auto_describe=False)
    workers.register(WorkerMetricsCollector())
    return generate_latest(api) + generate_latest(workers)
