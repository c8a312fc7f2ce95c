"""Accounts API models: the strict request bodies and what every response carries (never the password)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, StringConstraints, model_validator

from email_service.core.http.schemas import Line, ParamsModel, ResponseModel, StrictModel

Security = Literal["ssl", "starttls", "none"]
AccountState = Literal["active", "syncing", "auth_error", "error"]
FolderRole = Literal["inbox", "sent", "trash", "junk", "drafts", "archive"]
ProbeFailure = Literal[
    "host_not_allowed", "certificate_refused", "authentication_failed", "connection_failed"
]


HOST_PATTERN = r"^[A-Za-z0-9.\-:\[\]]+$"
HostName = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=HOST_PATTERN)]
UserName = Annotated[Line, StringConstraints(min_length=1, max_length=320)]
AUTOCONFIGURED = "left out with imap_host and smtp_host: filled from GET /api/autoconfig"
Protocol = Literal["imap", "pop3"]
POP3_ONLY = 'protocol "pop3" only (required there); a POP3 account needs no imap_* fields'
Token = Annotated[Line, StringConstraints(min_length=1, max_length=8192)]


class PasswordAuth(StrictModel):
    type: Literal["password"]


class OAuth2AuthRequest(StrictModel):
    """Tokens the frontend obtained; google and microsoft refresh with the service's configured client,
    custom with token_url, client_id and client_secret. Never returned."""

    type: Literal["oauth2"]
    provider: Literal["google", "microsoft", "custom"]
    access_token: Token
    refresh_token: Token | None = None
    expires_at: Annotated[AwareDatetime, Field(strict=False)] | Annotated[int, Field(ge=0)] = Field(
        description="ISO 8601 with an offset, or epoch seconds"
    )
    token_url: str | None = Field(default=None, max_length=2048, description="custom provider: required")
    client_id: Line | None = Field(default=None, max_length=512)
    client_secret: Line | None = Field(default=None, max_length=1024)
    scope: Line | None = Field(default=None, max_length=2048)

    @model_validator(mode="after")
    def _custom_needs_token_url(self) -> OAuth2AuthRequest:
        if self.provider == "custom" and self.refresh_token and not self.token_url:
            raise ValueError("token_url is required for a custom provider with a refresh_token")
        return self


AccountAuth = Annotated[PasswordAuth | OAuth2AuthRequest, Field(discriminator="type")]


class AuthView(ResponseModel):
    """How the account logs in; tokens and secrets are never shown."""

    type: Literal["password", "oauth2"]
    provider: Literal["google", "microsoft", "custom"] | None
    expires_at: AwareDatetime | None = Field(description="the access token's expiry (oauth2)")
    scope: str | None
    has_refresh_token: bool


class AccountCreate(StrictModel):
    """With imap_host and smtp_host both left out, the hosts, ports, security and provider_saves_sent
    come from autoconfig (422 naming them when it finds nothing) and username defaults to the address.
    protocol "pop3": pop3_host, smtp_host and username are required, imap_* are ignored (INBOX only,
    new mail by UIDL); no autoconfig for POP3 accounts."""

    protocol: Protocol = "imap"

    email_address: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    display_name: Line = Field(default="", max_length=200)
    imap_host: HostName | None = Field(default=None, description=AUTOCONFIGURED)
    imap_port: int = Field(default=993, ge=1, le=65535)
    imap_security: Security = "ssl"
    pop3_host: HostName | None = Field(default=None, description=POP3_ONLY)
    pop3_port: int = Field(default=995, ge=1, le=65535, description="POP3 only (995 by default)")
    pop3_security: Security = Field(default="ssl", description="POP3 only")
    smtp_host: HostName | None = Field(default=None, description=AUTOCONFIGURED)
    smtp_port: int = Field(default=465, ge=1, le=65535)
    smtp_security: Security = "ssl"
    username: UserName | None = Field(
        default=None, description="required unless the hosts are autoconfigured"
    )
    password: Line | None = Field(
        default=None, min_length=1, max_length=1024, description='required with auth type "password"'
    )
    auth: AccountAuth | None = Field(default=None, description='{type: "password"} when left out')
    is_sync_enabled: bool = True
    sync_interval: int = Field(default=300, ge=60, le=86400)
    provider_saves_sent: bool = False
    move_spam_to_junk: bool = False
    push_enabled: bool = Field(default=True, description="hold IMAP IDLE on INBOX for new mail in seconds")
    pinned_cert_pem: str | None = Field(default=None, max_length=20000)

    @model_validator(mode="after")
    def _password_or_tokens(self) -> AccountCreate:
        """A password account needs its password; an OAuth2 account has tokens instead (IMAP only)."""
        if isinstance(self.auth, OAuth2AuthRequest):
            if self.password is not None:
                raise ValueError("password: not used by an oauth2 account")
            if self.protocol == "pop3":
                raise ValueError("auth: oauth2 is available for IMAP accounts only")
        elif self.password is None:
            raise ValueError("password required")
        return self

    @model_validator(mode="after")
    def _hosts_both_or_neither(self) -> AccountCreate:
        """Explicit hosts keep the explicit contract (username required); half a pair is a mistake.
        A POP3 account names its pop3_host and smtp_host and username (no autoconfig)."""
        if self.protocol == "pop3":
            needed = {"pop3_host": self.pop3_host, "smtp_host": self.smtp_host, "username": self.username}
            absent = sorted(n for n, v in needed.items() if v is None)
            if absent:
                raise ValueError(f"{', '.join(absent)} required for a POP3 account")
            return self
        given = {"imap_host": self.imap_host, "smtp_host": self.smtp_host}
        if any(v is not None for v in given.values()):
            missing = sorted(n for n, v in given.items() if v is None)
            if self.username is None:
                missing.append("username")
            if missing:
                raise ValueError(f"{', '.join(missing)} required when a host is given")
        return self


class AccountUpdate(StrictModel):
    display_name: Line | None = Field(default=None, max_length=200)
    imap_host: str | None = Field(
        default=None, min_length=1, max_length=255, pattern=r"^[A-Za-z0-9.\-:\[\]]+$"
    )
    imap_port: int | None = Field(default=None, ge=1, le=65535)
    imap_security: Security | None = None
    pop3_host: HostName | None = Field(default=None, description="POP3 accounts only")
    pop3_port: int | None = Field(default=None, ge=1, le=65535)
    pop3_security: Security | None = None
    smtp_host: str | None = Field(
        default=None, min_length=1, max_length=255, pattern=r"^[A-Za-z0-9.\-:\[\]]+$"
    )
    smtp_port: int | None = Field(default=None, ge=1, le=65535)
    smtp_security: Security | None = None
    username: Line | None = Field(default=None, min_length=1, max_length=320)
    password: Line | None = Field(default=None, min_length=1, max_length=1024)
    auth: OAuth2AuthRequest | None = Field(default=None, description="new tokens for an oauth2 account")
    is_sync_enabled: bool | None = None
    sync_interval: int | None = Field(default=None, ge=60, le=86400)
    provider_saves_sent: bool | None = None
    move_spam_to_junk: bool | None = None
    push_enabled: bool | None = None
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


class AccountView(ResponseModel):
    id: str
    email_address: str
    display_name: str
    protocol: Protocol
    imap_host: str | None = Field(description="null for a POP3 account")
    imap_port: int
    imap_security: Security
    pop3_host: str | None = Field(description="null for an IMAP account")
    pop3_port: int | None
    pop3_security: Security | None
    smtp_host: str
    smtp_port: int
    smtp_security: Security
    username: str
    auth: AuthView
    is_sync_enabled: bool
    sync_interval: int
    state: AccountState = Field(description="auth_error when the credentials are refused (see last_error)")
    last_error: str | None
    provider_saves_sent: bool
    move_spam_to_junk: bool
    push_enabled: bool = Field(description="IMAP IDLE on INBOX (ignored for POP3 accounts)")
    last_sync_at: AwareDatetime | None
    created_at: AwareDatetime | None
    has_pinned_cert: bool


class AutoconfigQuery(ParamsModel):
    email: str = Field(max_length=320, description="the address whose settings are wanted")


class EndpointView(ResponseModel):
    host: str
    port: int
    security: Security


class AutoconfigView(ResponseModel):
    """Settings for an address; source says where they came from (table, srv or mx)."""

    provider: str = Field(description="the provider's name, or the domain for SRV records")
    imap: EndpointView
    pop3: EndpointView | None = Field(description="null when the provider offers no POP3")
    smtp: EndpointView
    auth_types: list[Literal["password", "oauth2"]]
    provider_saves_sent: bool
    source: Literal["table", "srv", "mx"]
    quirks: list[str] = Field(description="known provider behaviour, informational")


class AccountList(ResponseModel):
    items: list[AccountView]


class ProbeFailed(ResponseModel):
    ok: Literal[False]
    reason: ProbeFailure
    message: str


class ImapProbeOk(ResponseModel):
    ok: Literal[True]
    capabilities: list[str]


class SmtpProbeOk(ResponseModel):
    ok: Literal[True]


class ConnectionTestResult(ResponseModel):
    """ok only when both logins succeeded; each side says why it failed."""

    ok: bool
    imap: ImapProbeOk | ProbeFailed
    smtp: SmtpProbeOk | ProbeFailed


class FolderView(ResponseModel):
    id: str
    account_id: str
    name: str = Field(description="the leaf name")
    path: str = Field(description="the parent's path + the server's delimiter + name")
    role: FolderRole | None
    delimiter: str | None
    total_count: int
    unread_count: int
    last_synced_uidnext: int | None


class FolderList(ResponseModel):
    items: list[FolderView]


__all__ = [
    "AccountCreate",
    "AccountList",
    "AccountUpdate",
    "AccountView",
    "AutoconfigQuery",
    "AutoconfigView",
    "ConnectionTestResult",
    "FolderList",
    "FolderView",
]
