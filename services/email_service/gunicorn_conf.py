"""Gunicorn settings shared by `make run`, the Dockerfile and the load benchmark."""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any

from email_service.core.config import load_settings
from email_service.core.config_launch import export
from email_service.core.logging_setup import gunicorn_logconfig

# Loaded, not cached: the master stops here on a bad configuration, and each worker re-reads the
# settings after the fork (with PROMETHEUS_MULTIPROC_DIR set by on_starting).
_settings = load_settings()
workers = _settings.api_workers
threads = _settings.api_threads
worker_class = "gthread"
timeout = 30
graceful_timeout = 20
keepalive = 5
# One listening socket per worker (SO_REUSEPORT): the kernel spreads new connections over the workers.
# With the one shared socket, whichever worker woke first accepted a whole burst of keep-alive
# connections (a load generator's 16, a proxy's pool), the other sat idle, and throughput was bimodal
# (one core or two, fixed for as long as the connections lived).
reuse_port = True
accesslog = "-" if _settings.api_access_log else None
errorlog = "-"
# With LOG_JSON (the default) gunicorn's own lines are JSON in the app's format, all on stderr.
logconfig_dict = gunicorn_logconfig(_settings.log_level, _settings.log_json, access=accesslog is not None)
# Build the app in each worker after the fork: no DB pool is shared across processes.
preload_app = False


def on_starting(server: Any) -> None:
    """Prometheus multiprocess mode: one fresh sample directory per gunicorn master, set before fork."""
    path = _settings.prometheus_multiproc_dir or tempfile.mkdtemp(prefix="es-prometheus-")
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    export("PROMETHEUS_MULTIPROC_DIR", path)


def child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
