"""Pytest plugin: real private Dovecot servers (register with `pytest_plugins` in tests/conftest.py).

Fixtures: `dovecot` (one server per session), `imap_user` (a fresh user per test) and
`dovecot_factory` (extra servers, e.g. with restricted capabilities, stopped after the test).
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from tests.servers.account_body import plain_account_body
from tests.servers.dovecot import MISSING_BINARY, DovecotServer


@dataclass(frozen=True)
class ImapUser:
    """Credentials of a freshly created mailbox on a test Dovecot."""

    host: str
    port: int
    username: str
    password: str
    email: str
    ssl_port: int
    server: DovecotServer

    def account_data(self, **overrides: object) -> dict[str, object]:
        """The POST /api/accounts body for this mailbox (plain IMAP; SMTP unused unless overridden)."""
        return plain_account_body(self.email, self.host, self.port, self.username, self.password, **overrides)


DovecotFactory = Callable[..., DovecotServer]


def _require_binary() -> None:
    if shutil.which("dovecot") is None and shutil.which("dovecot", path="/usr/sbin:/usr/local/sbin") is None:
        pytest.fail(MISSING_BINARY, pytrace=False)


def new_user(server: DovecotServer) -> ImapUser:
    """Create a user with a random name and password on `server`."""
    username = f"u{secrets.token_hex(5)}"
    password = secrets.token_urlsafe(12)
    server.add_user(username, password)
    return ImapUser(
        host=server.host,
        port=server.imap_port,
        username=username,
        password=password,
        email=f"{username}@example.test",
        ssl_port=server.imaps_port,
        server=server,
    )


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    """One private Dovecot (all capabilities, SPECIAL-USE folders) for the whole session."""
    _require_binary()
    server = DovecotServer()
    try:
        server.start()
        yield server
    finally:
        server.close()


@pytest.fixture
def imap_user(dovecot: DovecotServer) -> ImapUser:
    """A fresh, empty mailbox on the session server."""
    return new_user(dovecot)


@pytest.fixture
def dovecot_factory() -> Iterator[DovecotFactory]:
    """Start extra servers: factory(capabilities="IMAP4rev1 ...", special_use=False, virtual_all=True)."""
    _require_binary()
    servers: list[DovecotServer] = []

    def make(
        capabilities: str | None = None, special_use: bool = True, virtual_all: bool = False
    ) -> DovecotServer:
        server = DovecotServer(capabilities=capabilities, special_use=special_use, virtual_all=virtual_all)
        servers.append(server)
        return server.start()

    try:
        yield make
    finally:
        for server in servers:
            server.close()
