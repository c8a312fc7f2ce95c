"""Request bodies for sending: strict like api/schemas.py; address syntax is checked by the service."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import AwareDatetime, Field, field_validator

from email_service.core.http.schemas import Id, Line, StrictModel

AddressList = list[str]  # syntax, CR/LF included, is checked by the service (422 naming the list)
MAX_LIST = 1000  # a hard cap on the JSON list; the configured max_recipients applies to the total


class SendRequest(StrictModel):
    email_client_id: str = Id
    to: AddressList = Field(default_factory=list, max_length=MAX_LIST)
    cc: AddressList | None = Field(default=None, max_length=MAX_LIST)
    bcc: AddressList | None = Field(default=None, max_length=MAX_LIST)
    subject: Line = Field(default="", max_length=2000)
    body_text: str = ""
    body_html: str | None = None
    attachment_ids: list[str] | None = Field(default=None, max_length=100)
    in_reply_to: Line | None = Field(default=None, min_length=1, max_length=64)
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


__all__ = ["SendRequest"]
