"""The authorization-code flow's API models: the start query, the authorize URL, the callback body."""

from __future__ import annotations

from pydantic import Field

from email_service.accounts.schemas import HostName, Security
from email_service.core.http.schemas import Line, ParamsModel, ResponseModel, StrictModel


class OAuthStartQuery(ParamsModel):
    """For a new account: its address (and, unless autoconfig knows the provider, its servers); for
    new tokens of an existing account (after auth_error): account_id."""

    email_address: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    account_id: str | None = Field(default=None, max_length=64, description="re-authorize this account")
    imap_host: HostName | None = None
    imap_port: int | None = Field(default=None, ge=1, le=65535)
    imap_security: Security | None = None
    smtp_host: HostName | None = None
    smtp_port: int | None = Field(default=None, ge=1, le=65535)
    smtp_security: Security | None = None
    username: str | None = Field(default=None, max_length=320, description="default: email_address")


class OAuthStartView(ResponseModel):
    authorize_url: str = Field(description="send the browser here; it comes back to OAUTH_REDIRECT_URI")
    state: str
    expires_in: int = Field(description="seconds the state stays valid")


class OAuthCallbackRequest(StrictModel):
    """What the provider appended to OAUTH_REDIRECT_URI (?code=&state=), posted by the frontend."""

    code: Line = Field(min_length=1, max_length=4096)
    state: Line = Field(min_length=1, max_length=256)
