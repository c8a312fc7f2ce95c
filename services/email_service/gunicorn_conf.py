"""Gunicorn settings shared by `make run`, the Dockerfile and the load benchmark."""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any

from email_service.logging_setup import gunicorn_logconfig

workers = int(os.environ.get("API_WORKERS", "2"))
threads = int(os.environ.get("API_THREADS", "4"))
worker_class = "gthread"
timeout = 30
graceful_timeout = 20
keepalive = 5
accesslog = "-" if os.environ.get("API_ACCESS_LOG", "false").lower() == "true" else None
errorlog = "-"
# With LOG_JSON (the default) gunicorn's own lines are JSON in the app's format, all on stderr.
logconfig_dict = gunicorn_logconfig(
    os.environ.get("LOG_LEVEL", "INFO").upper(),
    os.environ.get("LOG_JSON", "true").strip().lower() in {"1", "true", "yes", "on"},
    access=accesslog is not None,
)
# Build the app in each worker after the fork: no DB pool is shared across processes.
preload_app = False


def on_starting(server: Any) -> None:
    """Prometheus multiprocess mode: one fresh sample directory per gunicorn master, set before fork."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(prefix="es-prometheus-")
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = path


def child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
