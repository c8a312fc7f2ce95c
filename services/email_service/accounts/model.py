"""An IMAP/SMTP account ("email client" in the task contract); password or OAuth2 tokens encrypted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String, Text
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, mapped_column

from email_service.core.model_base import Base, TenantOwned, UtcDateTime, new_id

ACCOUNT_STATES = ("active", "syncing", "auth_error", "error")
SECURITY_MODES = ("ssl", "starttls", "none")
PROTOCOLS = ("imap", "pop3")
AUTH_TYPES = ("password", "oauth2")
OAUTH_PROVIDERS = ("google", "microsoft", "custom")


class EmailAccount(Base, TenantOwned):
    __tablename__ = "email_accounts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    email_address: Mapped[str] = mapped_column(String(320))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    # "imap", or "pop3" (INBOX only, by UIDL; imap_host is then "" and the API shows null).
    protocol: Mapped[str] = mapped_column(String(8), default="imap", server_default="imap")
    imap_host: Mapped[str] = mapped_column(String(255))
    imap_port: Mapped[int] = mapped_column(Integer, default=993)
    imap_security: Mapped[str] = mapped_column(String(16), default="ssl")
    pop3_host: Mapped[str | None] = mapped_column(String(255), nullable=True)
    pop3_port: Mapped[int | None] = mapped_column(Integer, nullable=True)
    pop3_security: Mapped[str | None] = mapped_column(String(16), nullable=True)
    smtp_host: Mapped[str] = mapped_column(String(255))
    smtp_port: Mapped[int] = mapped_column(Integer, default=465)
    smtp_security: Mapped[str] = mapped_column(String(16), default="ssl")
    username: Mapped[str] = mapped_column(String(320))
    # Versioned ciphertext from email_service.core.crypto; never the clear password ("" for oauth2).
    secret_ciphertext: Mapped[str] = mapped_column(Text)
    # "password", or "oauth2": XOAUTH2/OAUTHBEARER with the access token, refreshed before it expires.
    auth_type: Mapped[str] = mapped_column(String(16), default="password", server_default="password")
    oauth_provider: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # Ciphertexts like secret_ciphertext, each bound to the account id and its own field name.
    oauth_access_ciphertext: Mapped[str | None] = mapped_column(Text, nullable=True)
    oauth_refresh_ciphertext: Mapped[str | None] = mapped_column(Text, nullable=True)
    oauth_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # custom provider only: google/microsoft take theirs from the configuration.
    oauth_token_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    oauth_client_id: Mapped[str | None] = mapped_column(Text, nullable=True)
    oauth_client_secret_ciphertext: Mapped[str | None] = mapped_column(Text, nullable=True)
    oauth_scope: Mapped[str | None] = mapped_column(Text, nullable=True)
    # PEM of a self-signed certificate the owner chose to trust for this account only.
    pinned_cert_pem: Mapped[str | None] = mapped_column(Text, nullable=True)
    is_sync_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    sync_interval: Mapped[int] = mapped_column(Integer, default=300)
    last_sync_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True, index=True)
    # Set by periodic_sync when it dispatches (claims) the account; due again once it is past.
    next_sync_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True, index=True)
    state: Mapped[str] = mapped_column(String(16), default="active", index=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    auth_error_notified: Mapped[bool] = mapped_column(Boolean, default=False)
    provider_saves_sent: Mapped[bool] = mapped_column(Boolean, default=False)
    move_spam_to_junk: Mapped[bool] = mapped_column(Boolean, default=False)
    # The IDLE watcher (sync/watch) holds IDLE on the INBOX of an IMAP account with this on.
    push_enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())
