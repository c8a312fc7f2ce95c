"""Issue 16 item 8: Flower shows every tenant's tasks, so it never starts without credentials and
never answers a page without them (a real `celery flower` process on the suite's Redis)."""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.conftest import ServerSet

CELERY = str(Path(sys.executable).parent / "celery")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _flower(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    cmd = [CELERY, "-A", "email_service.worker", "flower", f"--port={port}", "--address=127.0.0.1"]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _status(url: str, auth: str | None = None) -> int:
    request = urllib.request.Request(url)
    if auth is not None:
        request.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def _base_env(servers: ServerSet) -> dict[str, str]:
    env = {**os.environ, **servers.env}
    env.pop("FLOWER_BASIC_AUTH", None)
    return env


def test_flower_refuses_to_start_without_credentials(servers: ServerSet) -> None:
    proc = _flower(_base_env(servers), _free_port())
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 2, out
    assert b"FLOWER_BASIC_AUTH" in out


def test_flower_refuses_a_password_on_the_command_line(servers: ServerSet) -> None:
    port = _free_port()
    cmd = [CELERY, "-A", "email_service.worker", "flower", f"--port={port}", "--basic-auth=a:b"]
    proc = subprocess.run(cmd, env=_base_env(servers), capture_output=True, timeout=60, check=False)
    assert proc.returncode == 2, proc.stdout + proc.stderr


def test_flower_pages_need_the_login(servers: ServerSet) -> None:
    port, login = _free_port(), "ops:" + base64.b32encode(os.urandom(10)).decode()
    proc = _flower({**_base_env(servers), "FLOWER_BASIC_AUTH": login}, port)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                status = _status(f"{base}/tasks")
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "flower did not start"
                time.sleep(0.3)
        assert status == 401
        assert _status(f"{base}/api/tasks") == 401
        assert _status(f"{base}/tasks", "ops:wrong") == 401
        assert _status(f"{base}/tasks", login) == 200
    finally:
        proc.terminate()
        proc.wait(timeout=20)
