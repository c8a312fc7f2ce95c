"""What travels in a send_notification message: ids, an outcome and a safe summary, never entities."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from email_service.notifications.rules import safe_result

MAX_ERROR = 500


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass(frozen=True)
class NotificationRequest:
    """The keyword arguments of send_notification (tenant_id and user_id travel as TenantTask kwargs)."""

    template: str
    tenant_id: str
    user_id: str
    task_name: str = ""
    task_id: str | None = None
    status: str = "success"
    execution_time: float | None = None
    error_message: str | None = None
    result: dict[str, Any] = field(default_factory=dict)
    account_id: str | None = None
    completed_at: str = field(default_factory=now_iso)
    subject_template: str | None = None

    @classmethod
    def for_outcome(cls, template: str, tenant_id: str, user_id: str, **outcome: Any) -> NotificationRequest:
        """Build from a task's outcome: the result is cut to its safe subset, the error to MAX_ERROR."""
        error = outcome.pop("error_message", None)
        result = safe_result(outcome.pop("result", None))
        trimmed = str(error)[:MAX_ERROR] if error else None
        return cls(template, tenant_id, user_id, error_message=trimmed, result=result, **outcome)

    def as_kwargs(self) -> dict[str, Any]:
        return asdict(self)
