"""End-to-end fixtures: a real Celery worker process and the API served by gunicorn over HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ServerSet
from tests.servers.redis_server import free_port

BIN = Path(sys.executable).parent


def _wait_http(url: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def worker_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the session worker writes its stdout/stderr (JSON log lines), for log assertions."""
    return tmp_path_factory.mktemp("worker") / "worker.log"


@pytest.fixture(scope="session")
def worker(servers: ServerSet, worker_log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """One worker consuming every queue, with the production settings (prefork, acks late)."""
    log = worker_log
    cmd = [
        str(BIN / "celery"),
        "-A",
        "email_service.worker",
        "worker",
        "-Q",
        "sync,send,delete,spam,periodic",
        "-c",
        "2",
        "-E",
        "--loglevel",
        "INFO",
        "-n",
        f"e2e-{os.getpid()}@%h",
        "--without-mingle",
        "--without-gossip",
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env={**os.environ, **servers.env}, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while b"ready." not in log.read_bytes():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("worker did not start:\n" + log.read_text()[-3000:])
        time.sleep(0.1)
    yield proc
    _stop(proc)


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
        _wait_http(url + "/healthz")
        yield url
    finally:
        _stop(proc)
