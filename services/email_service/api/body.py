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
    return data


def parse_body(model: type[M]) -> M:
    return model.model_validate(json_body())


def limit_arg(default: int, maximum: int) -> int:
    """The `limit` query parameter: ASCII digits between 1 and maximum (isdigit() alone admits "²", "٣")."""
    raw = request.args.get("limit", str(default))
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise BadRequest(f"limit must be an integer between 1 and {maximum}", {"field": "limit"})
    return int(raw)
