"""Messages API models: the listing's query, a page of summaries and one message in full."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from email_service.core.http.schemas import Absent, ParamsModel, ResponseModel
from email_service.messages.labels import MAX_LABEL_CHARS
from email_service.messages.search.query import MAX_QUERY_CHARS
from email_service.messages.service import DEFAULT_LIMIT, MAX_LIMIT

MAX_TERM_CHARS = 200
MAX_ID_CHARS = 64
Verdict = Literal["ham", "uncertain", "spam"]


class MessageQuery(ParamsModel):
    account_id: str | Absent = Field(
        default=None, max_length=MAX_ID_CHARS, description="only this account (404 if not the caller's)"
    )
    folder_id: str | Absent = Field(
        default=None, max_length=MAX_ID_CHARS, description="only this folder (404 if not the caller's)"
    )
    unread: bool | Absent = Field(default=None, description="true: unread only; false: read only")
    flagged: bool | Absent = Field(default=None, description="true: flagged only; false: unflagged only")
    sender: str | Absent = Field(
        default=None,
        alias="from",
        max_length=MAX_TERM_CHARS,
        description="substring of sender name or address",
    )
    label: str | Absent = Field(
        default=None,
        max_length=MAX_LABEL_CHARS,
        description="Gmail: only messages with this label (e.g. \\Inbox, Work); other servers have none",
    )
    q: str | Absent = Field(
        default=None,
        max_length=MAX_QUERY_CHARS,
        description=(
            "full-text search over subject, addresses, body text and attachment names; terms are ANDed;"
            ' quoted phrases ("quarterly report"); operators from: to: subject: has:attachment is:unread'
            " is:flagged before:YYYY-MM-DD after:YYYY-MM-DD (UTC days: after from the start of the day,"
            " before up to it); bare words of 3+ characters also match longer words they begin;"
            " an unknown operator or a malformed date: 422"
        ),
    )
    cursor: str | Absent = Field(default=None, description="next_cursor of the previous page")
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="page size")


class Address(ResponseModel):
    name: str
    email: str


class MessageSummary(ResponseModel):
    id: str
    account_id: str
    folder_id: str
    subject: str
    sender: Address = Field(alias="from")
    to: list[Address]
    date: AwareDatetime
    snippet: str
    flags: list[str]
    labels: list[str] = Field(description="Gmail's labels of the message (X-GM-LABELS); [] on other servers")
    is_read: bool
    is_flagged: bool
    is_answered: bool
    has_attachments: bool
    thread_id: str | None
    spam_score: float | None
    is_spam: bool | None
    verdict: Verdict | None = Field(
        description="uncertain = possibly spam (shown, not moved); only spam goes to Junk; null: unscored"
    )


class MessagePageView(ResponseModel):
    items: list[MessageSummary]
    next_cursor: str | None


class AttachmentSummary(ResponseModel):
    id: str
    filename: str
    content_type: str
    size: int
    is_inline: bool
    content_id: str | None


class MessageDetail(MessageSummary):
    headers: dict[str, str]
    cc: list[Address]
    reply_to: list[Address]
    body_text: str
    body_html: str | None = Field(description="sanitised when synced")
    raw_size: int
    attachments: list[AttachmentSummary]
    spam_indicators: list[str]
    spam_checked_at: AwareDatetime | None
    parse_error: str | None
    is_quarantined: bool


__all__ = ["MessageDetail", "MessagePageView", "MessageQuery", "MessageSummary"]
