"""Sending API models: the strict send body (address syntax is checked by the service), the
Idempotency-Key header, the outbox and uploads."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Self

from pydantic import AwareDatetime, BaseModel, Field, field_validator, model_validator

from email_service.core.http.schemas import Absent, Id, Line, ParamsModel, ResponseModel, StrictModel

# One entry may hold several addresses ("a@x, b@y"): an entry is at most one header line (RFC 5322's
# 998), and to+cc+bcc together at most MAX_ADDRESS_CHARS, checked before any address is parsed. 40,000
# copies of one address in one string took 6.5 s of API CPU; 100 recipients of 320 characters fit.
MAX_ADDRESS_ENTRY = 998
MAX_ADDRESS_CHARS = 32_000
AddressList = list[Annotated[str, Field(max_length=MAX_ADDRESS_ENTRY)]]  # syntax: checked by the service
MAX_LIST = 1000  # a hard cap on the JSON list; the configured max_recipients applies to the total


class MessageFields(StrictModel):
    """What a send and a draft share: the account, recipients, subject, bodies, uploads, parent."""

    email_client_id: str = Id
    to: AddressList = Field(default_factory=list, max_length=MAX_LIST)
    cc: AddressList | None = Field(default=None, max_length=MAX_LIST)
    bcc: AddressList | None = Field(default=None, max_length=MAX_LIST)
    subject: Line = Field(default="", max_length=2000)
    body_text: str = ""
    body_html: str | None = None
    attachment_ids: list[str] | None = Field(default=None, max_length=100)
    in_reply_to: Line | None = Field(default=None, min_length=1, max_length=64)

    @model_validator(mode="after")
    def _bounded_addresses(self) -> Self:
        """422 before parsing when the address fields together are longer than any sane send."""
        total = sum(len(entry) for field in (self.to, self.cc or [], self.bcc or []) for entry in field)
        if total > MAX_ADDRESS_CHARS:
            raise ValueError(f"to, cc and bcc together exceed {MAX_ADDRESS_CHARS} characters")
        return self


class SendRequest(MessageFields):
    # ISO 8601 with a timezone; JSON carries strings, so strict mode must accept one here.
    send_at: AwareDatetime | None = Field(default=None, strict=False)

    @field_validator("send_at")
    @classmethod
    def _in_utc(cls, value: datetime | None) -> datetime | None:
        """Kept in UTC; an offset that moves it outside the datetime range (0001-01-01+23:59) is a 422."""
        if value is None:
            return None
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise ValueError("send_at is out of range once converted to UTC") from None


OutboxState = Literal["scheduled", "queued", "sending", "sent", "failed", "uncertain", "cancelled"]
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,200}$"
MAX_OUTBOX_LIMIT = 200


class SendHeaders(ParamsModel):
    idempotency_key: Annotated[str, Field(pattern=IDEMPOTENCY_KEY_PATTERN)] | Absent = Field(
        default=None,
        alias="Idempotency-Key",
        description="same key and body: the same taskId; same key, other body: 409",
    )


class SendAccepted(ResponseModel):
    taskId: str
    status: Literal["queued", "scheduled"]


class OutboxQuery(ParamsModel):
    status: OutboxState | Absent = None
    limit: int = Field(default=50, ge=1, le=MAX_OUTBOX_LIMIT)


class OutboxItem(ResponseModel):
    id: str
    account_id: str
    status: OutboxState
    to: list[str]
    cc: list[str]
    bcc: list[str]
    subject: str
    attachment_ids: list[str]
    in_reply_to: str | None
    message_id: str | None
    send_at: AwareDatetime | None
    sent_at: AwareDatetime | None
    created_at: AwareDatetime
    attempts: int
    result: dict[str, Any] = Field(description="per-recipient accepted/refused, server reply")
    error: str | None


class OutboxList(ResponseModel):
    items: list[OutboxItem]


class UploadForm(BaseModel):
    file: bytes = Field(description="the file; its name and type are kept")


class UploadView(ResponseModel):
    id: str
    filename: str
    content_type: str
    size: int


__all__ = [
    "IDEMPOTENCY_KEY_PATTERN",
    "MAX_OUTBOX_LIMIT",
    "MessageFields",
    "OutboxItem",
    "OutboxList",
    "OutboxQuery",
    "SendAccepted",
    "SendHeaders",
    "SendRequest",
    "UploadForm",
    "UploadView",
]
