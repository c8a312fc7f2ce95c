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
from email_service.mail.smtp.client import SmtpError, SmtpSettings, check_login, open_smtp
from email_service.mail.smtp.types import SmtpTransientError, SmtpUncertainError
from email_service.sync.service import run_account_sync
from tests.attack_report import Attack
from tests.conftest import Caller, apply_environment
from tests.hostile.slow_servers import misbehaving_server, trickling_proxy
from tests.integration.sync.sync_support import make_account, message
from tests.servers.dovecot_fixtures import ImapUser
from tests.servers.smtp_server import SmtpTestServer

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


@pytest.fixture
def plain_smtp() -> Iterator[SmtpTestServer]:
    """A private submission server without TLS or AUTH, so the proxy in front of it sees each command."""
    server = SmtpTestServer({}, implicit_tls=False, auth_required=False).start()
    try:
        yield server
    finally:
        server.stop()


def _send_through(port: int, recipients: int = 1) -> None:
    settings = SmtpSettings(host="127.0.0.1", port=port, security="none", timeout=TIMEOUT)
    to = [f"bob{i}@example.test" for i in range(recipients)]
    with open_smtp(settings) as session:
        session.send("alice@example.test", to, b"Subject: hi\r\n\r\nhello\r\n")


def test_a_server_slow_on_every_envelope_reply_cannot_hold_a_send(
    plain_smtp: SmtpTestServer, attack: Attack
) -> None:
    """Each reply ("250 OK") takes 2.4 s, inside the per-read timeout; MAIL and six RCPTs used to
    take 17 s. The envelope as a whole gets SMTP_TIMEOUT_SECONDS."""
    with trickling_proxy(plain_smtp.port, b"MAIL FROM", interval=0.3) as port:
        started = time.monotonic()
        with pytest.raises(SmtpTransientError, match="nothing was sent"):  # safe to retry
            _send_through(port, recipients=6)
        elapsed = time.monotonic() - started
    attack("smtp server slow on each envelope reply: send gave up after", elapsed, TIMEOUT + SLACK)
    assert plain_smtp.messages == []


def test_a_server_trickling_its_reply_to_the_body_makes_the_send_uncertain(
    plain_smtp: SmtpTestServer, attack: Attack
) -> None:
    with trickling_proxy(plain_smtp.port, b"\r\n.\r\n") as port:
        started = time.monotonic()
        with pytest.raises(SmtpUncertainError, match="may have been delivered"):  # never resent
            _send_through(port)
        elapsed = time.monotonic() - started
    attack("smtp server trickling its reply to DATA: send gave up after", elapsed, TIMEOUT + SLACK)
    assert len(plain_smtp.messages) == 1  # it was delivered: why an uncertain send is not retried
