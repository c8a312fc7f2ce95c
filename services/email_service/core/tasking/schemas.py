"""Tasks API models: a queued task, a task's status for its owner, the caller's list."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, Field

from email_service.core.http.schemas import Absent, ParamsModel, ResponseModel

TaskState = Literal["pending", "running", "retrying", "success", "failed", "revoked"]


class TaskAccepted(ResponseModel):
    """202 of every endpoint that queues a task; poll GET /api/tasks/{task_id}."""

    taskId: str
    status: Literal["pending"]


class TaskRevoked(ResponseModel):
    taskId: str
    status: Literal["revoked"]


class TaskError(ResponseModel):
    type: str = Field(description="the exception's class name, Revoked for a cancelled task")
    message: str


class TaskStatus(ResponseModel):
    taskId: str
    status: TaskState
    result: Any = Field(description="the task's result once status is success (a cancelled sync: partial)")
    error: TaskError | None
    progress: dict[str, Any] | None
    kind: str = Field(description="the task's name, e.g. sync_emails, send_email")
    createdAt: AwareDatetime


class TaskList(ResponseModel):
    items: list[TaskStatus]


class TaskListQuery(ParamsModel):
    limit: int = Field(default=50, ge=1, le=200)
    kind: str | Absent = Field(default=None, description="only tasks of this kind")


__all__ = ["TaskAccepted", "TaskError", "TaskList", "TaskListQuery", "TaskRevoked", "TaskStatus"]
