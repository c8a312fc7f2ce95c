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


def configure_logging(level: str = "INFO", json_output: bool = True) -> None:
    """Install one stderr handler; idempotent so workers and the API can both call it."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_email_service", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._email_service = True  # type: ignore[attr-defined]
    handler.addFilter(ContextFilter())
    if json_output:
        fields = " ".join(f"%({name})s" for name in CONTEXT_FIELDS)
        handler.setFormatter(
            JsonFormatter(
                f"%(asctime)s %(levelname)s %(name)s %(message)s {fields}",
                rename_fields={"levelname": "level"},
            )
        )
    else:
        handler.setFormatter(
            logging.Formatter(
                "%(asctime)s %(levelname)s %(name)s [%(tenant_id)s/%(user_id)s %(task_id)s] %(message)s"
            )
        )
    root.addHandler(handler)
    root.setLevel(level)
