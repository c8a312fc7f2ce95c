"""Where an account's tokens are refreshed: the provider's token URL and client credentials.

google and microsoft use the service's own OAuth2 client (GOOGLE_* / MICROSOFT_* settings), as the
authorization that produced the tokens did; custom accounts bring their token URL and client.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from email_service.core.config import Settings
from email_service.core.net_policy import AllowList, HostNotAllowed, check_host

GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"  # noqa: S105 - a URL, not a secret
MICROSOFT_TOKEN_URL = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"  # noqa: S105


class TokenUrlRefused(ValueError):
    """The token URL is not https, or its host is one the outbound policy refuses."""


@dataclass(frozen=True)
class TokenEndpoint:
    url: str
    client_id: str | None
    client_secret: str | None = field(default=None, repr=False)
    scope: str | None = None


def provider_endpoint(
    provider: str, settings: Settings, custom_url: str | None, client_id: str | None, secret: str | None
) -> TokenEndpoint:
    """The endpoint for `provider`; a custom account's own client wins over nothing, never over config."""
    if provider == "google":
        return TokenEndpoint(GOOGLE_TOKEN_URL, settings.google_client_id, settings.google_client_secret)
    if provider == "microsoft":
        url = MICROSOFT_TOKEN_URL.format(tenant=settings.microsoft_tenant)
        return TokenEndpoint(url, settings.microsoft_client_id, settings.microsoft_client_secret)
    if not custom_url:
        raise TokenUrlRefused("token_url is required for a custom provider")
    return TokenEndpoint(custom_url, client_id, secret)


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
