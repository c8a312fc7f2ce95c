"""Prometheus request count and latency per endpoint (label: the route rule, never the raw path)."""

from __future__ import annotations

import time

from flask import Flask, Response, g, request
from prometheus_client import Counter, Histogram

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
