"""The authorization-code flow with PKCE against the local provider: GET /api/oauth/google/start gives the
authorize URL; the provider's consent redirects with code and state; POST .../callback exchanges the code
and creates the account, which then syncs by OAUTHBEARER and later refreshes at the configured token URL."""

from __future__ import annotations

import http.client
import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from email_service.core.config import reset_settings
from email_service.sync.tasks import sync_emails
from tests.conftest import Caller
from tests.servers.dovecot_fixtures import ImapUser
from tests.servers.token_server import TokenServer

REDIRECT = "http://frontend.test/oauth/done"


@pytest.fixture
def google_via_local_provider(token_server: TokenServer) -> Iterator[TokenServer]:
    """The google provider configured as an operator would, pointed at the local identity provider."""
    env = {
        "GOOGLE_CLIENT_ID": token_server.client_id,
        "GOOGLE_CLIENT_SECRET": token_server.client_secret,
        "GOOGLE_AUTHORIZE_URL": token_server.authorize_url,
        "GOOGLE_TOKEN_URL": token_server.token_url,
        "OAUTH_REDIRECT_URI": REDIRECT,
    }
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    reset_settings()
    yield token_server
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    reset_settings()
    token_server.consenting_user = None
    token_server.lifetime = 3600


def consent(authorize_url: str) -> dict[str, str]:
    """The browser's visit to the provider: a real GET, answered with a redirect to OAUTH_REDIRECT_URI."""
    parts = urlsplit(authorize_url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port or 80, timeout=10)
    conn.request("GET", f"{parts.path}?{parts.query}")
    response = conn.getresponse()
    location = response.getheader("Location") or ""
    conn.close()
    assert response.status == 302 and location.startswith(REDIRECT + "?"), (response.status, location)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def start(client: Any, caller: Caller, user: ImapUser, **extra: str) -> dict[str, Any]:
    query = {
        "email_address": user.email,
        "imap_host": user.host,
        "imap_port": str(user.port),
        "imap_security": "none",
        "smtp_host": user.host,
        "smtp_port": "9",
        "smtp_security": "none",
        "username": user.username,
        **extra,
    }
    response = client.get("/api/oauth/google/start", query_string=query, headers=caller.headers)
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


def test_code_flow_creates_an_account_that_syncs_and_refreshes(
    client: Any, owner: Caller, oauth_user: ImapUser, google_via_local_provider: TokenServer
) -> None:
    provider = google_via_local_provider
    started = start(client, owner, oauth_user)
    params = {k: v[0] for k, v in parse_qs(urlsplit(started["authorize_url"]).query).items()}
    assert params["state"] == started["state"] and params["redirect_uri"] == REDIRECT
    assert params["code_challenge_method"] == "S256" and len(params["code_challenge"]) == 43
    assert params["access_type"] == "offline" and "https://mail.google.com/" in params["scope"]
    provider.consenting_user = oauth_user.username
    provider.lifetime = 30  # under the 60 s margin: the first login refreshes, at GOOGLE_TOKEN_URL
    back = consent(started["authorize_url"])
    assert back["state"] == started["state"]

    created = client.post(
        "/api/oauth/google/callback",
        json={"code": back["code"], "state": back["state"]},
        headers=owner.headers,
    )
    assert created.status_code == 200, created.get_json()
    view = created.get_json()
    assert view["auth"]["type"] == "oauth2" and view["auth"]["provider"] == "google"
    assert view["auth"]["has_refresh_token"] and "at-" not in created.get_data(as_text=True)
    again = client.post(
        "/api/oauth/google/callback",
        json={"code": back["code"], "state": back["state"]},
        headers=owner.headers,
    )
    assert again.status_code == 404  # a state works once

    oauth_user.server.seed_maildir(oauth_user.username, "INBOX", [b"Subject: hi\r\n\r\nbody\r\n"])
    ids = {"email_client_id": view["id"], "tenant_id": owner.tenant_id, "user_id": owner.user_id}
    asked = len(provider.refresh_requests)
    assert sync_emails.apply(kwargs=ids).get()["messages_synced"] == 1
    refreshes = [r for r in provider.refresh_requests[asked:] if r["grant_type"] == "refresh_token"]
    assert len(refreshes) == 1 and refreshes[0]["client_id"] == provider.client_id
    provider.lifetime = 3600

    # Re-authorization of the same account: the new tokens replace the old ones (200).
    renewed = start(client, owner, oauth_user, account_id=view["id"])
    back = consent(renewed["authorize_url"])
    updated = client.post("/api/oauth/google/callback", json=back, headers=owner.headers)
    assert updated.status_code == 200 and updated.get_json()["id"] == view["id"]


def test_state_is_bound_to_the_caller_and_the_code_to_the_verifier(
    client: Any,
    owner: Caller,
    other_tenant: Caller,
    oauth_user: ImapUser,
    google_via_local_provider: TokenServer,
) -> None:
    google_via_local_provider.consenting_user = oauth_user.username
    started = start(client, owner, oauth_user)
    back = consent(started["authorize_url"])
    stolen = client.post("/api/oauth/google/callback", json=back, headers=other_tenant.headers)
    assert stolen.status_code == 404
    fresh = consent(start(client, owner, oauth_user)["authorize_url"])
    mixed = {"code": back["code"], "state": fresh["state"]}  # another authorization's code: wrong verifier
    refused = client.post("/api/oauth/google/callback", json=mixed, headers=owner.headers)
    assert refused.status_code == 422 and "invalid_grant" in refused.get_json()["error"]["message"]


def test_unconfigured_provider_is_a_conflict(client: Any, owner: Caller, oauth_user: ImapUser) -> None:
    response = client.get(
        "/api/oauth/microsoft/start", query_string={"email_address": oauth_user.email}, headers=owner.headers
    )
    assert response.status_code == 409 and "MICROSOFT_CLIENT_ID" in response.get_json()["error"]["message"]
    unknown = client.get(
        "/api/oauth/yahoo/start", query_string={"email_address": "a@b.c"}, headers=owner.headers
    )
    assert unknown.status_code == 404


def test_strangers_get_404_on_the_oauth_routes(
    client: Any,
    owner: Caller,
    same_tenant_other_user: Caller,
    other_tenant: Caller,
    oauth_user: ImapUser,
    google_via_local_provider: TokenServer,
) -> None:
    """Re-authorizing another user's account, or finishing another user's authorization: 404."""
    google_via_local_provider.consenting_user = oauth_user.username
    account = start(client, owner, oauth_user)  # a new-account flow of the owner's, finished below
    back = consent(account["authorize_url"])
    created = client.post("/api/oauth/google/callback", json=back, headers=owner.headers).get_json()
    for stranger in (same_tenant_other_user, other_tenant):
        query = {"email_address": oauth_user.email, "account_id": created["id"]}
        response = client.get("/api/oauth/google/start", query_string=query, headers=stranger.headers)
        assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"
        pending = consent(start(client, owner, oauth_user, account_id=created["id"])["authorize_url"])
        taken = client.post("/api/oauth/google/callback", json=pending, headers=stranger.headers)
        assert taken.status_code == 404 and taken.get_json()["error"]["code"] == "not_found"
        mine = client.post("/api/oauth/google/callback", json=pending, headers=owner.headers)
        assert mine.status_code == 200  # the stranger's attempt did not use the owner's state up
