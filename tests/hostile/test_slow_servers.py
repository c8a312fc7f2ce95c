"""Issue 16 item 4: a server that trickles one byte at a time (each read well inside the per-read
timeout) cannot hold a sync or a send beyond IMAP_TIMEOUT_SECONDS / SMTP_TIMEOUT_SECONDS for connect,
TLS and login together, nor, once logged in, beyond IMAP_COMMAND_TIMEOUT_SECONDS for one command
(real sockets: Dovecot behind a proxy that slows its answer, the real sync service and SMTP adapter)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from email_service.mail.imap.types import ImapConnectionError
from email_service.mail.smtp.client import SmtpError, SmtpSettings, check_login
from email_service.sync.service import run_account_sync
from tests.attack_report import Attack
from tests.conftest import Caller, apply_environment
from tests.hostile.slow_servers import misbehaving_server, trickling_proxy
from tests.integration.sync.sync_support import make_account, message
from tests.servers.dovecot_fixtures import ImapUser

TIMEOUT = 3  # IMAP_TIMEOUT_SECONDS for the test; the server sends a byte every 1 s, never a line
SLACK = 1.5  # the sync's own bookkeeping around the session


@pytest.fixture
def short_imap_timeout() -> Iterator[None]:
    os.environ["IMAP_TIMEOUT_SECONDS"] = str(TIMEOUT)
    apply_environment()
    try:
        yield
    finally:
        os.environ.pop("IMAP_TIMEOUT_SECONDS", None)
        apply_environment()


def test_a_trickling_imap_server_cannot_hold_a_sync(
    owner: Caller, imap_user: ImapUser, short_imap_timeout: None, attack: Attack
) -> None:
    with misbehaving_server("trickle", b"* OK trickle", interval=1.0) as port:
        account = make_account(owner, imap_user, port=port)
        started = time.monotonic()
        with pytest.raises(ImapConnectionError, match="longer than"):  # transient: the task retries
            run_account_sync(*account.ids)
        elapsed = time.monotonic() - started
    attack("imap server trickling its greeting: sync gave up after", elapsed, TIMEOUT + SLACK)


@pytest.fixture
def short_command_budget() -> Iterator[None]:
    os.environ["IMAP_COMMAND_TIMEOUT_SECONDS"] = str(TIMEOUT)
    apply_environment()
    try:
        yield
    finally:
        os.environ.pop("IMAP_COMMAND_TIMEOUT_SECONDS", None)
        apply_environment()


def test_a_server_trickling_its_fetch_answer_cannot_hold_a_sync(
    owner: Caller, imap_user: ImapUser, short_command_budget: None, attack: Attack
) -> None:
    imap_user.server.append(imap_user.username, "INBOX", [message(i) for i in range(1, 4)])
    with trickling_proxy(imap_user.port, b"BODY.PEEK[]", interval=1.0) as port:
        account = make_account(owner, imap_user, port=port)
        started = time.monotonic()
        with pytest.raises(ImapConnectionError, match="longer than allowed"):  # transient: retried
            run_account_sync(*account.ids)
        elapsed = time.monotonic() - started
    attack("imap server trickling a FETCH answer: sync gave up after", elapsed, TIMEOUT + SLACK)


def test_a_trickling_smtp_server_cannot_hold_a_send(attack: Attack) -> None:
    with misbehaving_server("trickle", b"220 trickle", interval=1.0) as port:
        settings = SmtpSettings(host="127.0.0.1", port=port, security="none", timeout=TIMEOUT)
        started = time.monotonic()
        with pytest.raises(SmtpError, match="longer than"):
            check_login(settings)
        elapsed = time.monotonic() - started
    attack("smtp server trickling its greeting: login gave up after", elapsed, TIMEOUT + 0.5)
