"""Gunicorn settings shared by `make run`, the Dockerfile and the load benchmark."""

from __future__ import annotations

import os

workers = int(os.environ.get("API_WORKERS", "2"))
threads = int(os.environ.get("API_THREADS", "4"))
worker_class = "gthread"
timeout = 30
graceful_timeout = 20
keepalive = 5
accesslog = "-" if os.environ.get("API_ACCESS_LOG", "false").lower() == "true" else None
errorlog = "-"
# Build the app in each worker after the fork: no DB pool is shared across processes.
preload_app = False
