"""Changes feed API models."""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, Field

from email_service.core.http.schemas import ParamsModel, ResponseModel


class ChangesQuery(ParamsModel):
    since: str | None = Field(None, description="a cursor from this API; none: from the oldest kept change")
    limit: int | None = Field(None, ge=1, le=500, description="at most this many changes (default 100)")
    wait: int | None = Field(None, ge=0, le=30, description="seconds to wait for a change")


class ChangeView(ResponseModel):
    id: str = Field(description="this change's cursor")
    type: str = Field(description="message.created, message.updated, message.deleted, ...")
    account_id: str | None
    object_id: str
    at: AwareDatetime
    data: dict[str, Any]


class ChangesPage(ResponseModel):
    changes: list[ChangeView]
    next_cursor: str = Field(description="pass as since= to continue after the last change")


class CursorView(ResponseModel):
    cursor: str = Field(description="the caller's latest change: since= this sees only what comes after")
