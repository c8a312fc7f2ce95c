"""What /readyz checks: the database answers a query and the broker a PING."""

from __future__ import annotations

from sqlalchemy import text

from email_service.core.db import get_engine
from email_service.tasks.celery_app import celery_app


def _check_database() -> str | None:
    try:
        with get_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means not ready; the type is enough for operators
        return type(exc).__name__
    return None


def _check_broker() -> str | None:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            conn.default_channel.client.ping()
    except Exception as exc:
        return type(exc).__name__
    return None


def readiness() -> dict[str, str | None]:
    """Each dependency's failure (an exception type name), or None when it answered."""
    return {"database": _check_database(), "broker": _check_broker()}
