"""Delete and restore filter every statement on tenant and user, so they need no RLS to stay apart.

The service runs here as a PostgreSQL role that bypasses row-level security (as on SQLite, where
there is none): another tenant's ids in a request must leave that tenant's rows and folder counts
exactly as they were.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy import update

from email_service.core.db import session_scope
from email_service.deletion import store as store
from email_service.deletion.restore import restore_messages
from email_service.deletion.service import delete_messages, hide_for_request, undo_hide
from email_service.deletion.store import Owner, Repoint
from email_service.messages.folder_model import Folder
from email_service.messages.folders import folder_by_role
from tests.conftest import Caller, ServerSet, apply_environment
from tests.integration.deletion.test_delete_api import make_messages

pytestmark = pytest.mark.pg_only  # runs as an RLS-bypassing PostgreSQL role; SQLite runs the API tests

SNAPSHOT = {
    "folders": "SELECT id, total_count, unread_count, updated_at FROM folders WHERE tenant_id = %s",
    "messages": "SELECT id, folder_id, uid, deleted_at, original_folder_id, updated_at FROM messages "
    "WHERE tenant_id = %s",
}


@pytest.fixture
def rls_bypassing_app_role(clean_db: ServerSet) -> Iterator[ServerSet]:
    """The app connects as a role RLS does not apply to: only the code's own filters keep tenants apart."""
    os.environ["DATABASE_URL"] = clean_db.pg.system_url
    apply_environment()
    try:
        yield clean_db
    finally:
        os.environ["DATABASE_URL"] = clean_db.pg.app_url
        apply_environment()


def snapshot(servers: ServerSet, tenant_id: str) -> dict[str, list[tuple[Any, ...]]]:
    with psycopg.connect(servers.pg.admin_url) as conn:
        return {name: sorted(conn.execute(sql, (tenant_id,)).fetchall()) for name, sql in SNAPSHOT.items()}


def ids_and_folder(caller: Caller) -> tuple[list[str], str, str]:
    """Two messages in an Inbox whose counts came from the server (50 messages, 7 unread)."""
    ids = make_messages(caller, 2)
    with session_scope(caller.tenant_id) as session:
        (target,) = store.load_targets(session, caller.tenant_id, caller.user_id, ids[:1])
        session.execute(
            update(Folder).where(Folder.id == target.folder_id).values(total_count=50, unread_count=7)
        )
    return ids, target.folder_id, target.account_id


def test_requests_naming_another_tenants_ids_leave_its_rows_and_counts_alone(
    rls_bypassing_app_role: ServerSet, client: Any, owner: Caller, other_tenant: Caller
) -> None:
    mine, _, _ = ids_and_folder(owner)
    theirs, _, _ = ids_and_folder(other_tenant)
    before = snapshot(rls_bypassing_app_role, other_tenant.tenant_id)
    assert before["folders"][0][1:3] == (50, 7)

    for permanent in (False, True):  # the API hides at once, in the request
        body = {"email_ids": [*theirs, mine[0]], "permanent": permanent}
        assert client.post("/api/email/delete", json=body, headers=owner.headers).status_code == 202
    assert snapshot(rls_bypassing_app_role, other_tenant.tenant_id) == before

    with session_scope(owner.tenant_id) as session:
        assert hide_for_request(session, owner.tenant_id, owner.user_id, [*theirs, mine[1]]) == [mine[1]]
        undo_hide(session, owner.tenant_id, owner.user_id, [*theirs, *mine])
    for permanent in (False, True):
        _, result = delete_messages(theirs, owner.tenant_id, owner.user_id, permanent=permanent)
        assert result["not_found"] == theirs
    assert restore_messages(theirs, owner.tenant_id, owner.user_id)[1]["not_found"] == theirs
    assert snapshot(rls_bypassing_app_role, other_tenant.tenant_id) == before


def test_store_statements_are_scoped_to_the_owner(
    rls_bypassing_app_role: ServerSet, owner: Caller, other_tenant: Caller
) -> None:
    _, my_folder, _ = ids_and_folder(owner)
    theirs, their_folder, their_account = ids_and_folder(other_tenant)
    before = snapshot(rls_bypassing_app_role, other_tenant.tenant_id)
    me = Owner(owner.tenant_id, owner.user_id)
    with session_scope(owner.tenant_id) as session:
        assert store.load_targets(session, *me, theirs) == []
        assert store.show_again(session, me, theirs) == []
        store.refresh_counts(session, me, [their_folder])
        store.repoint(session, me, their_account, [Repoint(theirs[0], my_folder, 1, 99)], restore=True)
        store.purge(session, me, theirs)
        assert store.folder_by_id(session, me, their_account, their_folder) is None
        assert folder_by_role(session, their_account, "inbox", *me) is None
    assert snapshot(rls_bypassing_app_role, other_tenant.tenant_id) == before
