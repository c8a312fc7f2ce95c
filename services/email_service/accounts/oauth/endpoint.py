"""Where an account's tokens are refreshed: the provider's token URL and client credentials.

google and microsoft refresh at their own token URL (never one from the request: no SSRF through a
well-known provider) with the account's client when the tokens came with one, else the service's own
(GOOGLE_* / MICROSOFT_* settings); custom accounts bring their token URL and client.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from email_service.core.config import Settings
from email_service.core.net_policy import AllowList, HostNotAllowed, check_host


class TokenUrlRefused(ValueError):
    """The token URL is not https, or its host is one the outbound policy refuses."""


@dataclass(frozen=True)
class TokenEndpoint:
    url: str
    client_id: str | None
    client_secret: str | None = field(default=None, repr=False)
    scope: str | None = None
    provider: str = "custom"

    @property
    def needs_client(self) -> bool:
        """google and microsoft refuse a refresh without a client id."""
        return self.provider != "custom"

    @property
    def setting(self) -> str:
        return f"{self.provider.upper()}_CLIENT_ID"


def provider_endpoint(
    provider: str, settings: Settings, custom_url: str | None, client_id: str | None, secret: str | None
) -> TokenEndpoint:
    """The endpoint for `provider`; the account's own client id (and secret) wins over the configured one."""
    if provider == "google":
        url = settings.google_token_url
        if client_id:
            return TokenEndpoint(url, client_id, secret, provider=provider)
        configured = (settings.google_client_id, settings.google_client_secret)
        return TokenEndpoint(url, *configured, provider=provider)
    if provider == "microsoft":
        url = microsoft_url(settings, "token")
        if client_id:
            return TokenEndpoint(url, client_id, secret, provider=provider)
        configured = (settings.microsoft_client_id, settings.microsoft_client_secret)
        return TokenEndpoint(url, *configured, provider=provider)
    if not custom_url:
        raise TokenUrlRefused("token_url is required for a custom provider")
    return TokenEndpoint(custom_url, client_id, secret)


def microsoft_url(settings: Settings, what: str) -> str:
    """Microsoft identity platform v2.0 endpoint `what` (authorize, token) of the configured tenant."""
    return f"{settings.microsoft_login_url}/{settings.microsoft_tenant}/oauth2/v2.0/{what}"


def split_url(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path?query) of an http(s) URL; anything else is refused."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise TokenUrlRefused("token_url must be an https:// URL")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise TokenUrlRefused("token_url has an invalid port") from None
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port, target


def check_token_url(url: str, allowed: tuple[str, ...]) -> None:
    """Save-time check: https, or plain http only to a host the operator allows (a local test server);
    the host must pass the outbound policy (it is checked again on the address really connected to)."""
    scheme, host, port, _ = split_url(url)
    allow = AllowList(allowed)
    if scheme == "http" and not (allow.allows_everything or host.lower() in (e.lower() for e in allowed)):
        raise TokenUrlRefused("token_url must be an https:// URL")
    try:
        check_host(host, port, allow)
    except HostNotAllowed as exc:
        raise TokenUrlRefused(f"token_url host {exc}") from None
