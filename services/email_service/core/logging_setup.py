"""JSON logs that carry tenant, user, task and account on every line emitted inside a task or request."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Any

from pythonjsonlogger.json import JsonFormatter

CONTEXT_FIELDS = ("tenant_id", "user_id", "task_id", "task_name", "account_id", "request_id")
_context: ContextVar[dict[str, Any] | None] = ContextVar("log_context", default=None)


def bind_context(**values: Any) -> None:
    """Add fields to the current context (a task run or a request)."""
    current = dict(_context.get() or {})
    current.update({k: v for k, v in values.items() if v is not None})
    _context.set(current)


def clear_context() -> None:
    _context.set(None)


@contextmanager
def log_context(**values: Any) -> Iterator[None]:
    token = _context.set({**(_context.get() or {}), **{k: v for k, v in values.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


def push_context(**values: Any) -> Token[dict[str, Any] | None]:
    """Replace the context for a whole task run (Celery signals); undo with pop_context(token)."""
    return _context.set({k: v for k, v in values.items() if v is not None})


def pop_context(token: Token[dict[str, Any] | None]) -> None:
    _context.reset(token)


class ContextFilter(logging.Filter):
    """Copies the bound context onto each record so the formatter can print it."""

    def filter(self, record: logging.LogRecord) -> bool:
        ctx = _context.get() or {}
        for name in CONTEXT_FIELDS:
            if not hasattr(record, name):
                setattr(record, name, ctx.get(name))
        return True


def json_formatter() -> logging.Formatter:
    """The one JSON line format, shared by the app, the workers and gunicorn's own loggers."""
    fields = " ".join(f"%({name})s" for name in CONTEXT_FIELDS)
    return JsonFormatter(
        f"%(asctime)s %(levelname)s %(name)s %(message)s {fields}",
        rename_fields={"levelname": "level"},
    )


def stderr_handler(json_output: bool = True) -> logging.Handler:
    """The stderr handler configure_logging installs; marked so a second call replaces it."""
    handler = logging.StreamHandler(sys.stderr)
    handler._email_service = True  # type: ignore[attr-defined]
    handler.addFilter(ContextFilter())
    if json_output:
        handler.setFormatter(json_formatter())
    else:
        handler.setFormatter(
            logging.Formatter(
                "%(asctime)s %(levelname)s %(name)s [%(tenant_id)s/%(user_id)s %(task_id)s] %(message)s"
            )
        )
    return handler


def configure_logging(level: str = "INFO", json_output: bool = True) -> None:
    """Install one stderr handler; idempotent so workers and the API can both call it."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_email_service", False):
            root.removeHandler(handler)
    root.addHandler(stderr_handler(json_output))
    root.setLevel(level)


def gunicorn_logconfig(level: str = "INFO", json_output: bool = True, access: bool = False) -> dict[str, Any]:
    """gunicorn's `logconfig_dict`: its error and access lines through the app's root handler.

    Empty (gunicorn's own plain format) unless json_output, so one container prints one format.
    The root handler is the one configure_logging replaces, so a worker's app never doubles lines.
    gunicorn turns its access log on whenever a logconfig is set: `access` says if it stays on.
    """
    if not json_output:
        return {}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "root": {"level": level, "handlers": ["email_service"]},
        "loggers": {
            "gunicorn.error": {"handlers": [], "propagate": True},
            "gunicorn.access": {"handlers": [], "propagate": access},
        },
        "handlers": {"email_service": {"()": f"{__name__}.stderr_handler", "json_output": True}},
        "formatters": {},
    }
