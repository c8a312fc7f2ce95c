"""RFC 6749 §6 refresh against a token endpoint, through the outbound policy like every tenant-chosen host.

invalid_grant (and the client errors that mean the same for the account) are permanent: the user must
authorize again. 429, 5xx, a dropped connection or an unreadable answer are transient: retry later.
"""

from __future__ import annotations

import http.client
import json
import ssl
from dataclasses import dataclass, field
from urllib.parse import urlencode

from email_service.accounts.oauth.endpoint import TokenEndpoint, TokenUrlRefused, split_url
from email_service.core import net_policy

# Errors after which the same refresh token can never work (RFC 6749 §5.2).
PERMANENT_ERRORS = frozenset(
    {"invalid_grant", "invalid_client", "unauthorized_client", "unsupported_grant_type"}
)
MAX_BODY = 64 * 1024


class TokenRefusedError(Exception):
    """The endpoint refused the refresh token for good (invalid_grant and kin): park the account."""


class TokenTransientError(Exception):
    """Rate limited, a server error or no answer: not bad credentials, try again later."""


@dataclass(frozen=True)
class TokenGrant:
    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_in: int | None
    scope: str | None


class _PolicyHTTPConnection(http.client.HTTPConnection):
    """HTTP(S) whose socket comes from net_policy.connect (the vetted address), TLS on the host name."""

    def __init__(
        self, host: str, port: int, tls: ssl.SSLContext | None, timeout: float, allowed: tuple[str, ...]
    ) -> None:
        super().__init__(host, port, timeout=timeout)
        self._tls = tls
        self._allowed = allowed

    def connect(self) -> None:
        sock = net_policy.connect(self.host, self.port, float(self.timeout or 30), self._allowed)
        self.sock = sock if self._tls is None else self._tls.wrap_socket(sock, server_hostname=self.host)


def refresh_grant(
    endpoint: TokenEndpoint, refresh_token: str, allowed: tuple[str, ...], timeout: float = 30
) -> TokenGrant:
    """POST grant_type=refresh_token with the client's credentials in the body (§2.3.1)."""
    if endpoint.needs_client and not endpoint.client_id:  # the operator's to fix, not the user's
        raise TokenTransientError(f"no OAuth2 client configured for {endpoint.provider} ({endpoint.setting})")
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    if endpoint.client_id:
        form["client_id"] = endpoint.client_id
    if endpoint.client_secret:
        form["client_secret"] = endpoint.client_secret
    if endpoint.scope:
        form["scope"] = endpoint.scope
    status, body = _post(endpoint.url, urlencode(form).encode(), allowed, timeout)
    return _grant(status, body)


def code_grant(
    endpoint: TokenEndpoint,
    code: str,
    verifier: str,
    redirect_uri: str,
    allowed: tuple[str, ...],
    timeout: float = 30,
) -> TokenGrant:
    """POST grant_type=authorization_code with the PKCE verifier (RFC 7636 §4.5)."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": verifier,
    }
    if endpoint.client_id:
        form["client_id"] = endpoint.client_id
    if endpoint.client_secret:
        form["client_secret"] = endpoint.client_secret
    status, body = _post(endpoint.url, urlencode(form).encode(), allowed, timeout)
    return _grant(status, body)


def _post(url: str, body: bytes, allowed: tuple[str, ...], timeout: float) -> tuple[int, bytes]:
    try:
        scheme, host, port, target = split_url(url)
    except TokenUrlRefused as exc:
        raise TokenRefusedError(str(exc)) from exc
    tls = ssl.create_default_context() if scheme == "https" else None
    conn = _PolicyHTTPConnection(host, port, tls, timeout, allowed)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    try:
        conn.request("POST", target, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read(MAX_BODY)
    except net_policy.HostNotAllowed as exc:
        raise TokenRefusedError(f"token endpoint refused by the outbound policy: {exc}") from exc
    except (OSError, http.client.HTTPException) as exc:
        raise TokenTransientError(f"token endpoint unreachable: {exc}") from exc
    finally:
        conn.close()


def _grant(status: int, body: bytes) -> TokenGrant:
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    if status == 200 and isinstance(data.get("access_token"), str) and data["access_token"]:
        expires = data.get("expires_in")
        refresh = data.get("refresh_token")
        return TokenGrant(
            access_token=data["access_token"],
            refresh_token=refresh if isinstance(refresh, str) and refresh else None,
            expires_in=_seconds(expires),
            scope=data.get("scope") if isinstance(data.get("scope"), str) else None,
        )
    error = str(data.get("error") or "")
    reason = f"token endpoint answered {status}" + (f" {error}" if error else "")
    description = data.get("error_description")
    if isinstance(description, str) and description:
        reason += f": {description[:200]}"
    if 400 <= status < 500 and status != 429 and error in PERMANENT_ERRORS:
        raise TokenRefusedError(reason)
    raise TokenTransientError(reason)


def _seconds(value: object) -> int | None:
    """expires_in as a number of seconds (some endpoints send it as a string)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None
