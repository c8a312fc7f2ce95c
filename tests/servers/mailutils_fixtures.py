"""Pytest plugin: one private GNU Mailutils imap4d per session and a fresh mailbox per test."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.servers.account_body import plain_account_body
from tests.servers.mailutils import MISSING_BINARY, MailutilsServer, imap4d_binary


@dataclass(frozen=True)
class MailutilsUser:
    """Credentials of a fresh mailbox on the test imap4d."""

    host: str
    port: int
    username: str
    password: str
    server: MailutilsServer

    @property
    def email(self) -> str:
        return self.username

    def account_data(self, **overrides: object) -> dict[str, object]:
        """The POST /api/accounts body for this mailbox (plain IMAP; SMTP unused)."""
        return plain_account_body(self.email, self.host, self.port, self.username, self.password, **overrides)


@pytest.fixture(scope="session")
def mailutils() -> Iterator[MailutilsServer]:
    if imap4d_binary() is None:
        pytest.fail(MISSING_BINARY, pytrace=False)
    with MailutilsServer() as server:
        yield server


@pytest.fixture
def mailutils_user(mailutils: MailutilsServer) -> MailutilsUser:
    password = secrets.token_urlsafe(12)
    login = mailutils.add_user(f"u{secrets.token_hex(5)}", password)
    return MailutilsUser(mailutils.host, mailutils.port, login, password, mailutils)
