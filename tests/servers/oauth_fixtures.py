"""Pytest plugin: the OAuth2 side of the real servers — a token endpoint, Dovecot validating its tokens
through the oauth2 passdb (introspection), and an SMTP submission server accepting them by XOAUTH2."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.servers.dovecot import DovecotServer
from tests.servers.dovecot_fixtures import ImapUser, new_user
from tests.servers.smtp_server import SmtpTestServer
from tests.servers.token_server import TokenServer


@pytest.fixture(scope="session")
def token_server() -> Iterator[TokenServer]:
    with TokenServer() as server:
        yield server


@pytest.fixture(scope="session")
def oauth_dovecot(token_server: TokenServer) -> Iterator[DovecotServer]:
    """AUTH=XOAUTH2 and AUTH=OAUTHBEARER advertised, tokens checked against the token server."""
    with DovecotServer(oauth2_introspection_url=token_server.introspection_url) as server:
        yield server


@pytest.fixture(scope="session")
def xoauth2_dovecot(token_server: TokenServer) -> Iterator[DovecotServer]:
    """Only AUTH=XOAUTH2 advertised (as Microsoft 365's IMAP does)."""
    url = token_server.introspection_url
    with DovecotServer(oauth2_introspection_url=url, oauth2_mechanisms="xoauth2") as server:
        yield server


@pytest.fixture
def oauth_user(oauth_dovecot: DovecotServer) -> ImapUser:
    return new_user(oauth_dovecot)


@pytest.fixture(scope="session")
def oauth_smtp_server(token_server: TokenServer) -> Iterator[SmtpTestServer]:
    with SmtpTestServer({}, token_checker=token_server.is_active) as server:
        yield server


@pytest.fixture
def oauth_smtp(oauth_smtp_server: SmtpTestServer) -> Iterator[SmtpTestServer]:
    oauth_smtp_server.clear()
    oauth_smtp_server.bearer_logins.clear()
    yield oauth_smtp_server
    oauth_smtp_server.clear()
