"""A sync repeated a day later on a server without CONDSTORE: the full scan is due and must run.

On SQLite this crashed before every datetime column came back aware (naive minus aware in
full_scan_due); the suite runs this on both backends.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine

from email_service.sync.service import run_account_sync
from tests.conftest import Caller
from tests.integration.sync.sync_support import (
    NO_CONDSTORE,
    folder_row,
    imap,
    make_account,
    message,
    rows,
    summary,
)
from tests.servers.dovecot_fixtures import DovecotFactory, new_user


def test_a_sync_a_day_later_runs_the_due_full_scan(owner: Caller, dovecot_factory: DovecotFactory) -> None:
    user = new_user(dovecot_factory(capabilities=NO_CONDSTORE))
    account = make_account(owner, user)
    user.server.append(user.username, "INBOX", [message(i) for i in range(1, 4)])
    assert summary(run_account_sync(*account.ids)) == (3, 0, 0)
    first_scan = folder_row(account).last_full_scan_at
    assert first_scan is not None and first_scan.tzinfo is not None
    with imap(user) as client:
        client.select_folder("INBOX")
        client.add_flags([1], ["\\Flagged"])
    user.server.append(user.username, "INBOX", [message(4)])
    with time_machine.travel(datetime.now(UTC) + timedelta(days=1), tick=True):
        result = run_account_sync(*account.ids)
        assert result.status == "success", result.as_dict()
        assert summary(result) == (1, 1, 0)
        later = folder_row(account).last_full_scan_at
    assert later is not None and later - first_scan >= timedelta(days=1)
    assert [m.is_flagged for m in rows(account)] == [True, False, False, False]
