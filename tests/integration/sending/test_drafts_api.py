"""The draft routes on rows only (write-backs queued, not run): tenancy, validation, pagination."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from sqlalchemy import select

from email_service.core.db import session_scope
from email_service.messages.actions.model import MessageAction
from email_service.sending.drafts.model import Draft
from tests.conftest import Caller
from tests.integration.sending.draft_support import post_draft, put_draft
from tests.integration.sending.send_support import SendAccount, make_send_account
from tests.servers.smtp_server import SmtpTestServer

DRAFT_ROUTES = [
    ("get", "/api/email/drafts/{draft}", None),
    ("put", "/api/email/drafts/{draft}", {"email_client_id": "{account}", "to": ["bob@example.test"]}),
    ("post", "/api/email/drafts/{draft}/send", None),
    ("delete", "/api/email/drafts/{draft}", None),
]


def counts(caller: Caller) -> tuple[int, int]:
    """(drafts, action rows) of the caller's tenant."""
    with session_scope(caller.tenant_id) as session:
        drafts = len(list(session.scalars(select(Draft.id))))
        return drafts, len(list(session.scalars(select(MessageAction.id))))


def call(client: Any, caller: Caller, method: str, path: str, body: Any, ids: dict[str, str]) -> Any:
    json = {k: v.format(**ids) if isinstance(v, str) else v for k, v in (body or {}).items()} or None
    return getattr(client, method)(path.format(**ids), json=json, headers=caller.headers)


def test_strangers_get_404_for_every_draft_route(
    client: Any, owner: Caller, same_tenant_other_user: Caller, other_tenant: Caller, smtp: SmtpTestServer
) -> None:
    account = make_send_account(owner, smtp)
    draft = post_draft(client, account, to=["bob@example.test"], subject="mine").get_json()
    ids = {"draft": draft["id"], "account": account.account_id}
    for stranger in (same_tenant_other_user, other_tenant):
        for method, path, body in DRAFT_ROUTES:
            response = call(client, stranger, method, path, body, ids)
            assert response.status_code == 404, (stranger, method, path, response.get_json())
            assert response.get_json()["error"]["code"] == "not_found"
        intruder = SendAccount(stranger, account.account_id, account.email)
        assert post_draft(client, intruder, subject="into theirs").status_code == 404
        listing = client.get("/api/email/drafts", headers=stranger.headers).get_json()
        assert listing == {"items": [], "next_cursor": None}
        task = client.get(f"/api/tasks/{draft['taskId']}", headers=stranger.headers)
        assert task.status_code == 404
    assert counts(owner) == (1, 1)
    for method, path, body in DRAFT_ROUTES:
        assert call(client, owner, method, path, body, ids).status_code < 300, (method, path)


def upload(client: Any, caller: Caller) -> str:
    files = {"file": (BytesIO(b"%PDF-1.4"), "a.pdf", "application/pdf")}
    response = client.post(
        "/api/attachments", data=files, headers=caller.headers, content_type="multipart/form-data"
    )
    return str(response.get_json()["id"])


def test_bad_drafts_are_422_naming_the_field_and_save_nothing(
    client: Any, owner: Caller, same_tenant_other_user: Caller, smtp: SmtpTestServer
) -> None:
    account = make_send_account(owner, smtp)
    theirs = upload(client, same_tenant_other_user)
    cases = [
        ({"to": ["not an address"]}, "to"),
        ({"bcc": ["x@example.test\r\nBcc: evil@example.test"]}, "bcc"),
        ({"to": "bob@example.test"}, "to"),
        ({"attachment_ids": [theirs]}, "attachment_ids"),
        ({"in_reply_to": "no-such-message"}, "in_reply_to"),
        ({"send_at": "2030-01-01T10:00:00+00:00"}, "send_at"),
        ({"subject": 5}, "subject"),
    ]
    for fields, field in cases:
        response = post_draft(client, account, **fields)
        assert response.status_code == 422, (fields, response.get_json())
        assert response.get_json()["error"]["details"]["fields"][0]["field"] == field, fields
    assert counts(owner) == (0, 0)
    draft = post_draft(client, account, subject="ok").get_json()
    other = make_send_account(owner, smtp)
    moved = put_draft(client, other, draft["id"], subject="elsewhere")
    assert moved.status_code == 422, moved.get_json()
    assert put_draft(client, account, draft["id"], to=["bad@@x"]).status_code == 422
    shown = client.get(f"/api/email/drafts/{draft['id']}", headers=owner.headers).get_json()
    assert (shown["subject"], shown["version"]) == ("ok", 1)
    assert client.get("/api/email/drafts?cursor=nope", headers=owner.headers).status_code == 400
    assert client.get("/api/email/drafts?limit=0", headers=owner.headers).status_code == 400


def test_listing_pages_newest_save_first(client: Any, owner: Caller, smtp: SmtpTestServer) -> None:
    account = make_send_account(owner, smtp)
    ids = [post_draft(client, account, subject=f"d{i}").get_json()["id"] for i in range(3)]
    put_draft(client, account, ids[0], subject="d0 again")
    seen, cursor = [], None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/email/drafts", query_string=query, headers=owner.headers).get_json()
        seen += [item["subject"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["d0 again", "d2", "d1"]
