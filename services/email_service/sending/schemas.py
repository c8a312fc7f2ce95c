"""Request bodies for sending: strict like api/schemas.py; address syntax is checked by the service."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Self

from pydantic import AwareDatetime, Field, field_validator, model_validator

from email_service.core.http.schemas import Id, Line, StrictModel

# One entry may hold several addresses ("a@x, b@y"): an entry is at most one header line (RFC 5322's
# 998), and to+cc+bcc together at most MAX_ADDRESS_CHARS, checked before any address is parsed. 40,000
# copies of one address in one string took 6.5 s of API CPU; 100 recipients of 320 characters fit.
MAX_ADDRESS_ENTRY = 998
MAX_ADDRESS_CHARS = 32_000
AddressList = list[Annotated[str, Field(max_length=MAX_ADDRESS_ENTRY)]]  # syntax: checked by the service
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

    @model_validator(mode="after")
    def _bounded_addresses(self) -> Self:
        """422 before parsing when the address fields together are longer than any sane send."""
        total = sum(len(entry) for field in (self.to, self.cc or [], self.bcc or []) for entry in field)
        if total > MAX_ADDRESS_CHARS:
            raise ValueError(f"to, cc and bcc together exceed {MAX_ADDRESS_CHARS} characters")
        return self

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
