"""With LOG_JSON=true a container prints one format: gunicorn's own lines are the app's JSON too."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from email_service.core.logging_setup import gunicorn_logconfig
from tests.conftest import TEST_KEYS
from tests.servers.processes import stop_process, wait_http
from tests.servers.redis_server import free_port

GUNICORN = Path(sys.executable).parent / "gunicorn"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The settings tests/conftest.py uses, on a throw-away SQLite file (nothing here touches it)."""
    return {
        **os.environ,
        "APP_ENV": "test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
        "JWT_SECRET": "test-secret-" + "x" * 40,
        "ENCRYPTION_KEYS": TEST_KEYS,
        "LOG_LEVEL": "INFO",
        "FRONTEND_URL": "http://frontend.test",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
        "API_WORKERS": "1",
        "HOME": str(tmp_path),  # gunicorn's control socket lives under $HOME/.gunicorn
        **extra,
    }


def _serve_and_stop(tmp_path: Path, env: dict[str, str]) -> tuple[str, str]:
    """Start gunicorn as the Dockerfile does, answer two requests, stop it; (stdout, stderr)."""
    port = free_port()
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    cmd = [str(GUNICORN), "-c", "python:email_service.gunicorn_conf", "-b", f"127.0.0.1:{port}"]
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen([*cmd, "email_service.wsgi:app"], env=env, stdout=stdout, stderr=stderr)
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", timeout=60)
        with contextlib.suppress(urllib.error.HTTPError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/no-such-page", timeout=5)
    finally:
        stop_process(proc)
    return out.read_text(), err.read_text()


def test_gunicorn_error_and_access_lines_are_json(tmp_path: Path) -> None:
    stdout, stderr = _serve_and_stop(tmp_path, _env(tmp_path, LOG_JSON="true", API_ACCESS_LOG="true"))
    assert stdout == ""
    lines = stderr.splitlines()
    assert lines
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except ValueError:
            raise AssertionError(f"not JSON: {line!r}\n{stderr}") from None
    assert all({"asctime", "level", "name", "message"} <= set(r) for r in records), records
    names = {r["name"] for r in records}
    assert {"gunicorn.error", "gunicorn.access"} <= names, names
    messages = [r["message"] for r in records]
    assert any("Booting worker" in m for m in messages)
    assert any("GET /healthz" in m for m in messages) and any("/no-such-page" in m for m in messages)
    boots = [m for m in messages if m.startswith("Starting gunicorn")]
    assert len(boots) == 1, "each line once: the app's handler replaces the one gunicorn configured"


def test_access_log_stays_off_unless_asked(tmp_path: Path) -> None:
    _, stderr = _serve_and_stop(tmp_path, _env(tmp_path, LOG_JSON="true", API_ACCESS_LOG="false"))
    names = {json.loads(line)["name"] for line in stderr.splitlines()}
    assert "gunicorn.error" in names and "gunicorn.access" not in names


def test_plain_text_keeps_gunicorns_own_format() -> None:
    assert gunicorn_logconfig("INFO", json_output=False) == {}
