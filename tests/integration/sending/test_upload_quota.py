"""Stored upload bytes (issue 16 item 3): the per-user and per-tenant quota, counted from the database,
and the hourly cleanup deleting uploads no send refers to."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO
from typing import Any

from sqlalchemy import select, update

from email_service.core.db import session_scope
from email_service.core.model_base import utcnow
from email_service.messages.attachment_model import Attachment
from email_service.ops.cleanup import cleanup_stale_state
from tests.conftest import Caller, make_caller
from tests.integration.notifications.notification_support import environment
from tests.integration.sending.draft_support import post_draft
from tests.integration.sending.send_support import make_send_account, post_send
from tests.servers.smtp_server import SmtpTestServer


def upload(client: Any, caller: Caller, size: int) -> Any:
    files = {"file": (BytesIO(b"x" * size), "data.bin", "application/octet-stream")}
    return client.post(
        "/api/attachments", data=files, headers=caller.headers, content_type="multipart/form-data"
    )


def stored(caller: Caller) -> list[int]:
    with session_scope(caller.tenant_id) as session:
        query = select(Attachment.size).where(
            Attachment.tenant_id == caller.tenant_id, Attachment.user_id == caller.user_id
        )
        return list(session.scalars(query.order_by(Attachment.size)))


def assert_over_quota(response: Any, scope: str, used: int) -> None:
    assert response.status_code == 413, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "quota_exceeded"
    assert error["details"]["scope"] == scope and error["details"]["used_bytes"] == used


def test_upload_quota_per_user_and_per_tenant(client: Any, owner: Caller, other_tenant: Caller) -> None:
    colleague = make_caller(tenant_id=owner.tenant_id)
    with environment(UPLOAD_QUOTA_BYTES_USER="3000", UPLOAD_QUOTA_BYTES_TENANT="4000"):
        assert upload(client, owner, 2000).status_code == 201
        assert_over_quota(upload(client, owner, 1500), "user", 2000)
        assert stored(owner) == [2000]  # nothing stored by the refused upload
        assert upload(client, owner, 1000).status_code == 201  # exactly the quota
        assert upload(client, colleague, 500).status_code == 201
        assert_over_quota(upload(client, colleague, 600), "tenant", 3500)
        assert stored(colleague) == [500]
        assert upload(client, colleague, 500).status_code == 201  # exactly the tenant's quota
        assert upload(client, other_tenant, 3000).status_code == 201


def test_cleanup_prunes_old_unreferenced_uploads_only(
    client: Any, owner: Caller, smtp: SmtpTestServer
) -> None:
    account = make_send_account(owner, smtp)
    ids = {
        name: upload(client, owner, size).get_json()["id"]
        for name, size in (("old", 100), ("sent", 200), ("fresh", 300), ("drafted", 400))
    }
    assert post_send(client, account, attachment_ids=[ids["sent"]]).status_code == 202
    draft = post_draft(client, account, subject="unfinished", attachment_ids=[ids["drafted"]])
    assert draft.status_code == 201, draft.get_json()
    with session_scope(system=True) as session:
        session.execute(
            update(Attachment)
            .where(Attachment.id.in_([ids["old"], ids["sent"], ids["drafted"]]))
            .values(created_at=utcnow() - timedelta(hours=25))
        )
    report = cleanup_stale_state()
    assert report["uploads_removed"] == 1
    assert stored(owner) == [200, 300, 400]  # a draft's upload stays while the draft is written
    with environment(UNUSED_UPLOAD_RETENTION_HOURS="48"):
        with session_scope(system=True) as session:
            session.execute(
                update(Attachment)
                .where(Attachment.id == ids["fresh"])
                .values(created_at=utcnow() - timedelta(hours=30))
            )
        assert cleanup_stale_state()["uploads_removed"] == 0  # younger than the configured 48 h
        assert stored(owner) == [200, 300, 400]


def test_pruned_uploads_free_the_quota(client: Any, owner: Caller) -> None:
    with environment(UPLOAD_QUOTA_BYTES_USER="1000"):
        first = upload(client, owner, 1000).get_json()["id"]
        assert_over_quota(upload(client, owner, 1), "user", 1000)
        with session_scope(system=True) as session:
            session.execute(
                update(Attachment)
                .where(Attachment.id == first)
                .values(created_at=utcnow() - timedelta(days=2))
            )
        assert cleanup_stale_state()["uploads_removed"] == 1
        assert upload(client, owner, 1000).status_code == 201
