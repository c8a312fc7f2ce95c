"""Pytest plugin: one real SMTP test server per session, reset before every test that asks for it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.servers.smtp_server import SmtpTestServer

SMTP_USERS = {"alice@example.test": "alice-secret", "bob@example.test": "bob-secret"}


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpTestServer]:
    """Start the STARTTLS + implicit-TLS server once; stop it and delete its cert at the end."""
    with SmtpTestServer(SMTP_USERS) as server:
        yield server


@pytest.fixture
def smtp(smtp_server: SmtpTestServer) -> Iterator[SmtpTestServer]:
    """The session server with no recorded messages, scripts or connections left from other tests."""
    smtp_server.clear()
    yield smtp_server
    smtp_server.clear()
