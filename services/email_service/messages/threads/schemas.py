"""Threads API models: the listing's query, a page of conversation summaries, one conversation."""

from __future__ import annotations

from pydantic import AwareDatetime, Field

from email_service.core.http.schemas import Absent, ParamsModel, ResponseModel
from email_service.messages.schemas import MAX_ID_CHARS, Address, MessageSummary
from email_service.messages.search.query import MAX_QUERY_CHARS
from email_service.messages.service import DEFAULT_LIMIT, MAX_LIMIT


class ThreadQuery(ParamsModel):
    account_id: str | Absent = Field(
        default=None, max_length=MAX_ID_CHARS, description="only this account (404 if not the caller's)"
    )
    folder_id: str | Absent = Field(
        default=None,
        max_length=MAX_ID_CHARS,
        description="conversations with a message in this folder (404 if not the caller's)",
    )
    unread: bool | Absent = Field(default=None, description="true: with unread messages; false: all read")
    q: str | Absent = Field(
        default=None,
        max_length=MAX_QUERY_CHARS,
        description="conversations with a message matching the messages listing's q= search",
    )
    cursor: str | Absent = Field(default=None, description="next_cursor of the previous page")
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="page size")


class ThreadSummary(ResponseModel):
    id: str
    subject: str
    participants: list[Address]
    message_count: int
    unread_count: int
    has_attachments: bool
    last_date: AwareDatetime
    snippet: str


class ThreadPageView(ResponseModel):
    items: list[ThreadSummary]
    next_cursor: str | None


class ThreadDetail(ResponseModel):
    id: str
    subject: str
    messages: list[MessageSummary] = Field(description="oldest first")


__all__ = ["ThreadDetail", "ThreadPageView", "ThreadQuery", "ThreadSummary"]
