"""A tiny JSON-over-HTTP client for e2e tests (real sockets, no test client)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any


def call(method: str, url: str, token: str | None = None, body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        return exc.code, json.loads(raw) if raw else None


def poll_task(base: str, token: str, task_id: str, timeout: float = 60) -> dict[str, Any]:
    """Poll GET /api/tasks/<id> until a terminal state, as the frontend does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, body = call("GET", f"{base}/api/tasks/{task_id}", token)
        assert status == 200, body
        if body["status"] in {"success", "failed", "revoked"}:
            return dict(body)
        time.sleep(0.2)
    raise AssertionError(f"task {task_id} did not finish: {body}")
