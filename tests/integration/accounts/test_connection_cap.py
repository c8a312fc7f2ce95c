"""The per-mailbox IMAP connection cap against the real Dovecot and Redis the suite starts."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import redis

from email_service.accounts.autoconfig.providers import by_imap_host
from email_service.accounts.connection_cap import cap_key, connection_limit
from email_service.accounts.mail_settings import imap_settings
from email_service.accounts.model import EmailAccount
from email_service.core.config import get_settings
from email_service.core.crypto import get_secret_box
from email_service.core.db import session_scope
from email_service.core.slots import LeasedSlots
from email_service.mail.imap.client import ImapSettings, connect
from email_service.mail.imap.types import ImapAuthError, ImapThrottled
from email_service.sync.service import run_account_sync
from tests.conftest import Caller
from tests.integration.notifications.notification_support import environment
from tests.integration.sync.sync_support import SyncAccount, make_account
from tests.servers.dovecot_fixtures import ImapUser


@pytest.fixture
def capped() -> Iterator[None]:
    with environment(IMAP_MAX_CONNECTIONS="2", IMAP_CONNECTION_WAIT_SECONDS="1"):
        yield


def settings_of(account: SyncAccount) -> ImapSettings:
    with session_scope(account.caller.tenant_id) as session:
        row = session.get(EmailAccount, account.account_id)
        assert row is not None
        return imap_settings(row, get_secret_box())


def holders(account: SyncAccount) -> int:
    client = redis.Redis.from_url(get_settings().broker_url)
    return LeasedSlots(client, cap_key(account.user.host, account.user.username), 2, 60).holders()


def test_a_mailbox_gets_at_most_its_cap_of_connections(
    owner: Caller, imap_user: ImapUser, capped: None
) -> None:
    account = make_account(owner, imap_user)
    settings = settings_of(account)
    first, second = connect(settings), connect(settings)
    assert holders(account) == 2
    started = time.monotonic()
    with pytest.raises(ImapThrottled) as refused:
        connect(settings)
    assert 0.9 <= time.monotonic() - started < 5 and refused.value.retry_after == 30.0
    first.close()
    with connect(settings) as third:
        third.list_folders()
        assert holders(account) == 2
    second.close()
    assert holders(account) == 0


def test_a_waiting_login_takes_the_slot_a_closing_session_frees(
    owner: Caller, imap_user: ImapUser, capped: None
) -> None:
    account = make_account(owner, imap_user)
    settings = settings_of(account)
    held = [connect(settings), connect(settings)]
    closer = threading.Timer(0.4, held[0].close)
    closer.start()
    with connect(settings) as waiting:  # waits for the closing session instead of failing
        waiting.list_folders()
    closer.join()
    held[1].close()
    assert holders(account) == 0


def test_a_refused_login_gives_its_slot_back(owner: Caller, imap_user: ImapUser, capped: None) -> None:
    account = make_account(owner, imap_user, password="wrong-password")
    for _ in range(3):  # more attempts than slots: none of them leaks one
        with pytest.raises(ImapAuthError):
            connect(settings_of(account))
    assert holders(account) == 0


def test_a_sync_finding_the_cap_full_is_throttled_and_the_account_stays_active(
    owner: Caller, imap_user: ImapUser, capped: None
) -> None:
    account = make_account(owner, imap_user)
    settings = settings_of(account)
    held = [connect(settings), connect(settings)]
    try:
        with pytest.raises(ImapThrottled):
            run_account_sync(*account.ids)
    finally:
        for session in held:
            session.close()
    with session_scope(owner.tenant_id) as session:
        row = session.get(EmailAccount, account.account_id)
        assert row is not None and row.state == "active"
    assert run_account_sync(*account.ids).status == "success"


def test_known_providers_have_their_own_budget_and_other_servers_the_setting(capped: None) -> None:
    gmail = by_imap_host("IMAP.gmail.com.")
    assert gmail is not None and gmail.name == "Gmail"
    assert connection_limit("imap.gmail.com") == 10
    assert connection_limit("outlook.office365.com") == 8
    assert connection_limit("mail.example.test") == 2
    assert cap_key("Mail.Example.test", "Bob@x") == cap_key("mail.example.test", "bob@x")
    assert "bob" not in cap_key("mail.example.test", "bob@x")
