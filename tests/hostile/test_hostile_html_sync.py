"""Quadratic-time HTML synced from a real Dovecot: the sync stays fast and stores nothing active."""

from __future__ import annotations

import time
from typing import Any

from email_service.sync.service import run_account_sync
from tests.attack_report import Attack
from tests.conftest import Caller
from tests.hostile import corpus
from tests.hostile.test_hostile_sync import ACTIVE_CONTENT, api_fields, server_count
from tests.integration.sync.sync_support import make_account, rows
from tests.servers.dovecot_fixtures import ImapUser

# Before the fix these two messages took ~40 s and ~11 s to sanitise; both sanitise in well under 1 s now.
SYNC_BUDGET_SECONDS = 15.0


def _html_message(n: int, subject: str, html: str) -> bytes:
    return corpus._head(n, subject, "text/html; charset=utf-8") + html.encode()


def test_quadratic_html_syncs_quickly_and_is_stored_inert(
    client: Any, owner: Caller, imap_user: ImapUser, attack: Attack
) -> None:
    messages = [
        _html_message(40, "script flood", "<script>" * 40_000),
        _html_message(41, "div nest", "<div>" * 20_000 + "<p onclick=alert(1)>deep</p>"),
    ]
    imap_user.server.append(imap_user.username, "INBOX", messages)
    account = make_account(owner, imap_user)
    start = time.perf_counter()
    result = run_account_sync(*account.ids)
    elapsed = time.perf_counter() - start
    stored = rows(account)
    assert result.status == "success", result
    attack("<script> x 40,000 and 20,000 nested <div>: sync and sanitise took", elapsed, SYNC_BUDGET_SECONDS)
    assert len(stored) == server_count(imap_user) == 2
    nested = next(m for m in stored if m.subject == "div nest")
    assert nested.parse_error is not None or "deep" in (nested.body_html or ""), nested.body_html
    for message in stored:  # the script flood has no visible content: it may be stored with no HTML
        assert not ACTIVE_CONTENT.search(message.body_html or ""), message.subject
    for name, value in api_fields(client, owner, account.account_id):
        if name != "subject":
            assert not ACTIVE_CONTENT.search(value), (name, value[:300])
