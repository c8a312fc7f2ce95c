"""Request bodies. Strict: wrong types and unknown fields are refused with 422, never coerced."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from email_service.mail.wire_text import has_line_break

Security = Literal["ssl", "starttls", "none"]
Id = Field(min_length=1, max_length=64)


def _single_line(value: str) -> str:
    """Values that end up in a protocol line (IMAP/SMTP credentials, addresses, headers) are one line."""
    if has_line_break(value):
        raise ValueError("must not contain CR, LF or NUL")
    return value


# A str that reaches an IMAP/SMTP command or a header line: CR/LF would inject commands (422).
Line = Annotated[str, AfterValidator(_single_line)]


class StrictModel(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class SyncRequest(StrictModel):
    """Without email_client_id: every enabled account of the caller, as one group (one taskId)."""

    email_client_id: str | None = Field(default=None, min_length=1, max_length=64)
    folder_id: str | None = Field(default=None, min_length=1, max_length=64)
    force_full_sync: bool = False

    @model_validator(mode="after")
    def _folder_needs_account(self) -> SyncRequest:
        if self.folder_id is not None and self.email_client_id is None:
            raise ValueError("folder_id needs email_client_id")
        return self


class AccountCreate(StrictModel):
    email_address: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    display_name: Line = Field(default="", max_length=200)
    imap_host: str = Field(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9.\-:\[\]]+$")
    imap_port: int = Field(default=993, ge=1, le=65535)
    imap_security: Security = "ssl"
    smtp_host: str = Field(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9.\-:\[\]]+$")
    smtp_port: int = Field(default=465, ge=1, le=65535)
    smtp_security: Security = "ssl"
    username: Line = Field(min_length=1, max_length=320)
    password: Line = Field(min_length=1, max_length=1024)
    is_sync_enabled: bool = True
    sync_interval: int = Field(default=300, ge=60, le=86400)
    provider_saves_sent: bool = False
    move_spam_to_junk: bool = False
    pinned_cert_pem: str | None = Field(default=None, max_length=20000)


class AccountUpdate(StrictModel):
    display_name: Line | None = Field(default=None, max_length=200)
    imap_host: str | None = Field(
        default=None, min_length=1, max_length=255, pattern=r"^[A-Za-z0-9.\-:\[\]]+$"
    )
    imap_port: int | None = Field(default=None, ge=1, le=65535)
    imap_security: Security | None = None
    smtp_host: str | None = Field(
        default=None, min_length=1, max_length=255, pattern=r"^[A-Za-z0-9.\-:\[\]]+$"
    )
    smtp_port: int | None = Field(default=None, ge=1, le=65535)
    smtp_security: Security | None = None
    username: Line | None = Field(default=None, min_length=1, max_length=320)
    password: Line | None = Field(default=None, min_length=1, max_length=1024)
    is_sync_enabled: bool | None = None
    sync_interval: int | None = Field(default=None, ge=60, le=86400)
    provider_saves_sent: bool | None = None
    move_spam_to_junk: bool | None = None
    pinned_cert_pem: str | None = Field(default=None, max_length=20000)

    @model_validator(mode="after")
    def _null_only_clears_the_pin(self) -> AccountUpdate:
        """null means "clear" and only the pinned certificate can be cleared (the rest are NOT NULL)."""
        nulled = sorted(
            n for n in self.model_fields_set if getattr(self, n) is None and n != "pinned_cert_pem"
        )
        if nulled:
            raise ValueError(f"{', '.join(nulled)} cannot be null")
        return self
