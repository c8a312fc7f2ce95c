"""Request body parsing into pydantic models (422 with field names on bad input)."""

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
