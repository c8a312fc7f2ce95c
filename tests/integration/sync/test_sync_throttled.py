"""A provider that throttles logins, on a real socket (both backends): the sync retries on a bounded
schedule, honouring the server's suggested wait, and the account is never parked as auth_error."""

from __future__ import annotations

import pytest

from email_service.accounts.model import EmailAccount
from email_service.core.db import session_scope
from email_service.mail.imap.types import ImapThrottled
from email_service.sync.tasks import sync_emails
from tests.conftest import Caller
from tests.integration.sync.sync_support import make_account
from tests.servers.dovecot_fixtures import ImapUser
from tests.servers.scripted_imap import refusing_imap

REPLIES = [
    "NO [ALERT] Too many simultaneous connections. (Failure)",  # Gmail
    "NO Request is throttled. Suggested Backoff Time: 120000 milliseconds",  # Microsoft 365
]


@pytest.mark.parametrize("reply", REPLIES)
def test_a_throttled_login_is_retried_a_bounded_number_of_times_and_never_parks(
    owner: Caller, imap_user: ImapUser, task_retries: list[BaseException], reply: str
) -> None:
    with refusing_imap(reply) as server:
        account = make_account(owner, imap_user, port=server.port)
        outcome = sync_emails.apply(
            kwargs=dict(zip(("email_client_id", "tenant_id", "user_id"), account.ids, strict=True))
        )
    assert outcome.failed() and isinstance(outcome.result, ImapThrottled)
    retries = sync_emails.max_retries
    assert len(task_retries) == retries and all(isinstance(e, ImapThrottled) for e in task_retries)
    assert len(server.logins) == retries + 1  # one login per attempt: no storm
    if "Suggested" in reply:
        assert all(e.retry_after == 120.0 for e in task_retries if isinstance(e, ImapThrottled))
    with session_scope(owner.tenant_id) as session:
        row = session.get(EmailAccount, account.account_id)
        assert row is not None and row.state != "auth_error"
