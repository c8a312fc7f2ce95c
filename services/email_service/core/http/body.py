"""Request parsing: JSON bodies into pydantic models (422 with field names), query parameters (400)."""

from __future__ import annotations

import re
from typing import Any, TypeVar

from flask import request
from pydantic import BaseModel

from email_service.core.errors import BadRequest, ValidationFailed

M = TypeVar("M", bound=BaseModel)


# Far deeper than any request of this API; the walk below and pydantic stay far from the recursion limit.
MAX_JSON_DEPTH = 32


def json_body() -> dict[str, Any]:
    """The request's JSON object; too deep or holding NUL is a 400, a lone surrogate a 422."""
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # the JSON decoder recurses per nesting level
        raise BadRequest(f"request body is nested deeper than {MAX_JSON_DEPTH} levels") from None
    if not isinstance(data, dict):
        raise BadRequest("request body must be a JSON object")
    _check_values(data)
    return data


def _check_values(data: dict[str, Any]) -> None:
    """Walk every key and value without recursion (depth is the client's choice) and refuse what no
    field may hold: NUL (PostgreSQL refuses it and a protocol line must never carry it; refused here
    so both backends answer the same) and lone surrogates (no UTF-8 encoding exists for them)."""
    pending: list[tuple[Any, str, int]] = [(data, "", 1)]
    while pending:
        item, path, depth = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise BadRequest("request body must not contain NUL characters")
            if _SURROGATE.search(item):
                field = {"field": path or "body", "message": _SURROGATE_MESSAGE, "type": "string_unicode"}
                raise ValidationFailed("request is invalid", {"fields": [field]})
        elif isinstance(item, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise BadRequest(f"request body is nested deeper than {MAX_JSON_DEPTH} levels")
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            for key, value in pairs:
                child = f"{path}.{key}" if path else str(key)
                if isinstance(key, str):
                    pending.append((key, child, depth))
                pending.append((value, child, depth + 1))


_SURROGATE = re.compile("[\ud800-\udfff]")  # JSON pairs are joined by the decoder: what is left is lone
_SURROGATE_MESSAGE = "must be valid Unicode text (a lone surrogate has no UTF-8 encoding)"


def parse_body(model: type[M]) -> M:
    return model.model_validate(json_body())


def limit_arg(default: int, maximum: int) -> int:
    """The `limit` query parameter: ASCII digits between 1 and maximum (isdigit() alone admits "²", "٣")."""
    raw = request.args.get("limit", str(default))
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise BadRequest(f"limit must be an integer between 1 and {maximum}", {"field": "limit"})
    return int(raw)
