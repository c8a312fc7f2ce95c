"""End-to-end fixtures: a real Celery worker process and the API served by gunicorn over HTTP."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.conftest import ServerSet
from tests.servers.processes import BIN, start_worker, stop_process, wait_http
from tests.servers.redis_server import free_port


@pytest.fixture(scope="session")
def worker_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the session worker writes its stdout/stderr (JSON log lines), for log assertions."""
    return tmp_path_factory.mktemp("worker") / "worker.log"


@pytest.fixture(scope="session")
def worker(servers: ServerSet, worker_log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """One worker consuming every queue, with the production settings (prefork, acks late)."""
    proc = start_worker({**os.environ, **servers.env}, worker_log, name=f"e2e-{os.getpid()}")
    yield proc
    stop_process(proc)


@pytest.fixture(scope="session")
def api_url(servers: ServerSet) -> Iterator[str]:
    port = free_port()
    cmd = [
        str(BIN / "gunicorn"),
        "-c",
        "python:email_service.gunicorn_conf",
        "-b",
        f"127.0.0.1:{port}",
        "email_service.wsgi:app",
    ]
    proc = subprocess.Popen(cmd, env={**os.environ, **servers.env, "API_WORKERS": "1"})
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(url + "/healthz")
        yield url
    finally:
        stop_process(proc)


@pytest.fixture
def private_broker(servers: ServerSet) -> Iterator[str]:
    """A broker database of its own (db 7), for a worker whose messages the session worker must not take."""
    url = servers.redis_url.rsplit("/", 1)[0] + "/7"
    redis.Redis.from_url(url).flushdb()
    yield url
    redis.Redis.from_url(url).flushdb()
