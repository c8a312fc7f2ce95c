"""OAuth2 pieces without servers: token responses sorted into grant / refused / transient, provider
endpoints from the configuration, and the token URL under the outbound policy."""

from __future__ import annotations

import json

import pytest

from email_service.accounts.oauth.endpoint import TokenUrlRefused, check_token_url, provider_endpoint
from email_service.accounts.oauth.token_client import (
    TokenRefusedError,
    TokenTransientError,
    _grant,
    refresh_grant,
)
from email_service.core import config


def answer(status: int, body: object) -> object:
    return _grant(status, json.dumps(body).encode())


def test_a_grant_keeps_a_rotated_refresh_token_and_reads_expires_in() -> None:
    grant = _grant(200, b'{"access_token": "at", "refresh_token": "rt2", "expires_in": "3599"}')
    assert (grant.access_token, grant.refresh_token, grant.expires_in) == ("at", "rt2", 3599)
    same = _grant(200, b'{"access_token": "at", "expires_in": 3600}')
    assert same.refresh_token is None  # no rotation: the stored refresh token stays
    assert "at" not in repr(grant) and "rt2" not in repr(grant)


@pytest.mark.parametrize("error", ["invalid_grant", "invalid_client", "unauthorized_client"])
def test_refusals_for_good(error: str) -> None:
    with pytest.raises(TokenRefusedError, match=error):
        answer(400, {"error": error, "error_description": "Token has been expired or revoked."})


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (429, {"error": "invalid_grant"}),  # rate limited, whatever the body says
        (429, {}),
        (500, {"error": "server_error"}),
        (503, "<html>down</html>"),
        (400, {"error": "temporarily_unavailable"}),
        (200, {"token_type": "Bearer"}),  # no access_token: unreadable, try again
    ],
)
def test_transient_failures_are_not_bad_credentials(status: int, body: object) -> None:
    with pytest.raises(TokenTransientError):
        answer(status, body)


def test_provider_endpoints_come_from_the_configuration() -> None:
    settings = config.load_settings(
        {
            "APP_ENV": "development",
            "GOOGLE_CLIENT_ID": "g-id",
            "GOOGLE_CLIENT_SECRET": "g-secret",
            "MICROSOFT_CLIENT_ID": "m-id",
            "MICROSOFT_CLIENT_SECRET": "m-secret",
            "MICROSOFT_TENANT": "contoso.onmicrosoft.com",
        }
    )
    google = provider_endpoint("google", settings, "https://evil.example/token", None, None)
    assert (google.url, google.client_id, google.client_secret) == (
        "https://oauth2.googleapis.com/token",
        "g-id",
        "g-secret",
    )
    microsoft = provider_endpoint("microsoft", settings, None, None, None)
    assert microsoft.url == "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
    assert (microsoft.client_id, microsoft.client_secret) == ("m-id", "m-secret")
    assert "m-secret" not in repr(microsoft) and "g-secret" not in repr(settings)
    own = provider_endpoint("google", settings, "https://evil.example/token", "frontend-id", "fs")
    assert (own.url, own.client_id, own.client_secret) == (
        "https://oauth2.googleapis.com/token",
        "frontend-id",
        "fs",
    )
    custom = provider_endpoint("custom", settings, "https://id.example/token", "c", "s")
    assert (custom.url, custom.client_id, custom.client_secret) == ("https://id.example/token", "c", "s")
    assert config.load_settings({"APP_ENV": "development"}).microsoft_tenant == "common"


def test_google_without_a_client_is_the_operators_to_fix_not_bad_credentials() -> None:
    unconfigured = provider_endpoint(
        "google", config.load_settings({"APP_ENV": "development"}), None, None, None
    )
    with pytest.raises(TokenTransientError, match="GOOGLE_CLIENT_ID"):
        refresh_grant(unconfigured, "rt", ("*",))


def test_token_url_under_the_outbound_policy() -> None:
    production: tuple[str, ...] = ()  # ALLOWED_PRIVATE_HOSTS unset in production
    for url in ("http://127.0.0.1:8080/token", "https://127.0.0.1/token", "https://169.254.169.254/t"):
        with pytest.raises(TokenUrlRefused):
            check_token_url(url, production)
    with pytest.raises(TokenUrlRefused):
        check_token_url("ftp://id.example/token", ("*",))
    check_token_url("http://127.0.0.1:8080/token", ("*",))  # development and tests: loopback allowed
    check_token_url("http://127.0.0.1:8080/token", ("127.0.0.1",))
    with pytest.raises(TokenUrlRefused):
        check_token_url("http://127.0.0.1:8080/token", ("127.0.0.0/8",))  # plain http: named hosts only
