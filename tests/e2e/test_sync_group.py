"""POST /api/email/sync without an account: every enabled account synced as one group on a real worker.

One taskId for the group; GET /api/tasks/<id> shows the members' progress and, at the end, each
account's result. A member that fails (wrong password) does not hang the group's chord: the summary
still runs once, records the group as failed and mails ONE task-completion summary to the opted-in
user — the members' own per-account sync summaries are not sent.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import redis

from email_service import create_app
from email_service.accounts.service import update_account
from email_service.core.crypto import get_secret_box
from email_service.core.db import session_scope
from tests.conftest import ServerSet, make_caller
from tests.integration.notifications.notification_support import (
    environment,
    mails_to,
    relay,
    set_user_switches,
    user_email,
)
from tests.integration.sync.sync_support import make_account, message
from tests.servers.dovecot_fixtures import DovecotServer, ImapUser, new_user
from tests.servers.processes import start_worker, stop_process
from tests.servers.smtp_server import SmtpTestServer

FINAL = {"success", "failed", "revoked"}


def _poll(client: Any, token: str, task_id: str, timeout: float = 90) -> tuple[dict[str, Any], list[Any]]:
    """The final answer and every progress seen on the way."""
    seen, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get(f"/api/tasks/{task_id}", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        if body["status"] in FINAL:
            return body, seen
        seen.append(body["progress"])
        time.sleep(0.1)
    raise AssertionError(f"group {task_id} did not finish")


def _wait_mails(smtp: SmtpTestServer, address: str, count: int, timeout: float = 30) -> list[Any]:
    deadline = time.monotonic() + timeout
    while len(mails_to(smtp, address)) < count and time.monotonic() < deadline:
        time.sleep(0.2)
    return mails_to(smtp, address)


def test_sync_of_all_accounts_is_one_group_with_one_summary_mail(
    clean_db: ServerSet,
    private_broker: str,
    dovecot: DovecotServer,
    imap_user: ImapUser,
    smtp: SmtpTestServer,
    tmp_path: Path,
) -> None:
    owner, stranger = make_caller(), make_caller()
    second = new_user(dovecot)
    imap_user.server.append(imap_user.username, "INBOX", [message(1), message(2), message(3)])
    second.server.append(second.username, "INBOX", [message(4)])
    good, other = make_account(owner, imap_user), make_account(owner, second)
    broken = make_account(owner, new_user(dovecot), password="wrong-password")
    disabled = make_account(owner, new_user(dovecot))
    with session_scope(owner.tenant_id) as session:
        changes = {"is_sync_enabled": False}
        update_account(
            session, get_secret_box(), disabled.account_id, owner.tenant_id, owner.user_id, changes
        )
    set_user_switches(owner.tenant_id, owner.user_id, {"task_completion": True, "sync_summary": True})
    address = user_email(owner.tenant_id, owner.user_id)

    with relay(smtp, tmp_path), environment(REDIS_URL=private_broker):
        worker = start_worker(dict(os.environ), tmp_path / "worker.log", name="group")
        try:
            client = create_app().test_client()
            auth = {"Authorization": f"Bearer {owner.token}"}
            response = client.post("/api/email/sync", json={}, headers=auth)
            assert response.status_code == 202, response.get_json()
            group_id = response.get_json()["taskId"]
            stranger_auth = {"Authorization": f"Bearer {stranger.token}"}
            assert client.get(f"/api/tasks/{group_id}", headers=stranger_auth).status_code == 404
            done, seen = _poll(client, owner.token, group_id)
            mails = _wait_mails(smtp, address, 2)
            time.sleep(2)  # a second mail (a member's own summary, or the summary twice) would be here by now
            mails = mails_to(smtp, address)
        finally:
            stop_process(worker)

    assert seen and all(p["total"] == 3 for p in seen), seen
    assert done["kind"] == "sync_group" and done["status"] == "failed", done
    assert done["error"]["type"] == "GroupMemberFailed"
    result = done["result"]
    assert (result["total"], result["finished"], result["succeeded"], result["failed"]) == (3, 3, 2, 1)
    assert result["messages_synced"] == 4
    by_account = {m["account_id"]: m for m in result["members"]}
    assert set(by_account) == {good.account_id, other.account_id, broken.account_id}
    assert by_account[good.account_id]["result"]["messages_synced"] == 3
    assert by_account[other.account_id]["result"]["messages_synced"] == 1
    assert by_account[broken.account_id]["status"] == "failed"
    # Each member is a task of its own, visible to its owner.
    with create_app().test_client() as client:
        member = client.get(f"/api/tasks/{by_account[good.account_id]['taskId']}", headers=auth)
        assert member.get_json()["status"] == "success"
    # The summary once, no per-account "N new messages" mail; the parked account's own sign-in
    # notice is a separate mail about the account, sent once as for any sync.
    subjects = sorted(str(m["Subject"]) for m in mails)
    assert subjects == [f"Sign-in failed for {broken.user.email}", "Sync of all accounts failed"], subjects


def test_sync_of_all_accounts_without_an_enabled_account_is_refused(clean_db: ServerSet) -> None:
    owner = make_caller()
    client = create_app().test_client()
    auth = {"Authorization": f"Bearer {owner.token}"}
    response = client.post("/api/email/sync", json={}, headers=auth)
    assert response.status_code == 422 and "error" in response.get_json()
    response = client.post("/api/email/sync", json={"folder_id": "x"}, headers=auth)
    assert response.status_code == 422


def test_starting_a_group_leaves_the_publisher_subscribed_to_nothing(
    clean_db: ServerSet, private_broker: str, dovecot: DovecotServer, imap_user: ImapUser
) -> None:
    """Celery ties each member's result to the group's barrier by subscribing to its channel; the API
    process never waits on them, so it must not hold a subscription (one per member, per request)."""
    owner = make_caller()
    make_account(owner, imap_user)
    make_account(owner, new_user(dovecot))
    with environment(REDIS_URL=private_broker):
        client = create_app().test_client()
        response = client.post("/api/email/sync", json={}, headers={"Authorization": f"Bearer {owner.token}"})
        assert response.status_code == 202
        subscribed = redis.Redis.from_url(clean_db.redis_url).pubsub_channels()
    assert subscribed == [], subscribed
