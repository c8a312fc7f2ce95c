"""Bounded polling for the scenarios that run in worker processes (generous limits, no timing asserts)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from email_service.core.tasking.status import get_task_status


def wait_for(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.05) -> Any:
    """Poll until check() is truthy and return its value; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def wait_task(task_id: str, timeout: float = 120) -> dict[str, Any]:
    """The task's status payload once it is finished (success or failed)."""

    def done() -> dict[str, Any] | None:
        status = get_task_status(task_id)
        return status if status["status"] in ("success", "failed") else None

    result: dict[str, Any] = wait_for(done, timeout, f"task {task_id} to finish", interval=0.2)
    return result
