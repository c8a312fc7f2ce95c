"""Request parsing: JSON bodies into pydantic models (422 with field names), query parameters (400)."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import request
from pydantic import BaseModel

from email_service.errors import BadRequest

M = TypeVar("M", bound=BaseModel)


def json_body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise BadRequest("request body must be a JSON object")
    if _has_nul(data):
        # No field may hold NUL: PostgreSQL refuses it and a protocol line must never carry it;
        # refused here so both backends answer the same.
        raise BadRequest("request body must not contain NUL characters")
    return data


def _has_nul(data: Any) -> bool:
    """Any NUL in a key or string value, walked without recursion (depth is the client's choice)."""
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def parse_body(model: type[M]) -> M:
    return model.model_validate(json_body())


def limit_arg(default: int, maximum: int) -> int:
    """The `limit` query parameter: ASCII digits between 1 and maximum (isdigit() alone admits "²", "٣")."""
    raw = request.args.get("limit", str(default))
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise BadRequest(f"limit must be an integer between 1 and {maximum}", {"field": "limit"})
    return int(raw)
