"""Shared pieces of the API's models: strict request bodies, documented query/header parameters, the
strict base of every response model and the one error shape."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from email_service.mail.wire_text import has_line_break

Id = Field(min_length=1, max_length=64)
# "May be left out, never null": None stays the Python default but is not offered in the schema.
Absent = SkipJsonSchema[None]


def _single_line(value: str) -> str:
    """Values that end up in a protocol line (IMAP/SMTP credentials, addresses, headers) are one line."""
    if has_line_break(value):
        raise ValueError("must not contain CR, LF or NUL")
    return value


# A str that reaches an IMAP/SMTP command or a header line: CR/LF would inject commands (422).
Line = Annotated[str, AfterValidator(_single_line)]


class StrictModel(BaseModel):
    """Request bodies: wrong types and unknown fields are refused with 422, never coerced."""

    model_config = ConfigDict(strict=True, extra="forbid")


def _drop_null_defaults(schema: dict[str, Any]) -> None:
    for prop in schema.get("properties", {}).values():
        if "default" in prop and prop["default"] is None:
            del prop["default"]


class ParamsModel(BaseModel):
    """Query or header parameters as documented; the views parse them (400 with the field named)."""

    model_config = ConfigDict(populate_by_name=True, json_schema_extra=_drop_null_defaults)


class ResponseModel(BaseModel):
    """Every response body: all fields required unless marked, and no field the model does not name
    (additionalProperties false), so the schemathesis run notices a payload and its model drifting."""

    model_config = ConfigDict(extra="forbid")


class ErrorBody(ResponseModel):
    code: str = Field(description="machine-readable, e.g. not_found, validation_error")
    message: str
    details: dict[str, Any] = Field(description="fields: [{field, message, type}] for a 422")


class ErrorResponse(ResponseModel):
    """The one failure shape of every endpoint."""

    error: ErrorBody
