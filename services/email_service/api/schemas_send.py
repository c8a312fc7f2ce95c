"""Request bodies for sending: strict like api/schemas.py; address syntax is checked by the service."""

from __future__ import annotations

from pydantic import AwareDatetime, Field

from email_service.api.schemas import Id, StrictModel

AddressList = list[str]
MAX_LIST = 1000  # a hard cap on the JSON list; the configured max_recipients applies to the total


class SendRequest(StrictModel):
    email_client_id: str = Id
    to: AddressList = Field(default_factory=list, max_length=MAX_LIST)
    cc: AddressList | None = Field(default=None, max_length=MAX_LIST)
    bcc: AddressList | None = Field(default=None, max_length=MAX_LIST)
    subject: str = Field(default="", max_length=2000)
    body_text: str = ""
    body_html: str | None = None
    attachment_ids: list[str] | None = Field(default=None, max_length=100)
    in_reply_to: str | None = Field(default=None, min_length=1, max_length=64)
    # ISO 8601 with a timezone; JSON carries strings, so strict mode must accept one here.
    send_at: AwareDatetime | None = Field(default=None, strict=False)


__all__ = ["SendRequest"]
