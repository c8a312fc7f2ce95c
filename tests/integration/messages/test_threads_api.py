"""Conversation threads against real Dovecot: mail APPENDed, synced, then read through the HTTP API.

References and In-Reply-To join replies, a subject alone never merges strangers, a reply in Sent joins
its INBOX conversation, a child synced before its parent merges once the parent arrives; the listing
is newest first with keyset pagination and per-thread counts; another tenant's thread is a 404.
"""

from __future__ import annotations

from typing import Any

import pytest

from email_service.core.db import session_scope
from email_service.mail.imap.types import FetchedMessage
from email_service.sync import store
from email_service.sync.rows import RowContext, build_rows
from tests.conftest import Caller
from tests.integration.deletion.delete_support import sync
from tests.integration.sync.sync_support import SyncAccount, folder_row, imap, make_account
from tests.servers.dovecot_fixtures import ImapUser


def mail(key: str, subject: str, sender: str, minute: int, headers: str = "") -> bytes:
    return (
        f"From: {sender.title()} <{sender}@example.test>\r\nTo: me@example.test\r\nSubject: {subject}\r\n"
        f"Date: Mon, 01 Jan 2024 10:{minute:02d}:00 +0000\r\nMessage-ID: <{key}@example.test>\r\n{headers}"
        f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nbody of {key}\r\n"
    ).encode()


def append(user: ImapUser, folder: str, *messages: bytes, seen: bool = False) -> None:
    client = imap(user)
    try:
        if not client.folder_exists(folder):
            client.create_folder(folder)
        for raw in messages:
            client.append(folder, raw, flags=(b"\\Seen",) if seen else ())
    finally:
        client.logout()


@pytest.fixture
def account(owner: Caller, imap_user: ImapUser) -> SyncAccount:
    return make_account(owner, imap_user)


def threads(client: Any, caller: Caller, **params: Any) -> dict[str, Any]:
    response = client.get("/api/email/threads", query_string=params, headers=caller.headers)
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


def thread_of(client: Any, caller: Caller, message_id: str) -> str:
    response = client.get(f"/api/email/messages/{message_id}", headers=caller.headers)
    assert response.status_code == 200
    return str(response.get_json()["thread_id"])


def detail(client: Any, caller: Caller, thread_id: str) -> list[str]:
    response = client.get(f"/api/email/threads/{thread_id}", headers=caller.headers)
    assert response.status_code == 200, response.get_json()
    return [m["subject"] for m in response.get_json()["messages"]]


def test_references_and_in_reply_to_join_and_a_subject_alone_does_not(
    client: Any, account: SyncAccount, owner: Caller
) -> None:
    append(
        account.user,
        "INBOX",
        mail("root", "Lunch", "alice", 1),
        mail(
            "r1",
            "Re: Lunch",
            "bob",
            2,
            "In-Reply-To: <root@example.test>\r\nReferences: <root@example.test>\r\n",
        ),
        mail("r2", "Re: Lunch again", "carol", 3, "In-Reply-To: <r1@example.test>\r\n"),
        mail("stranger", "Lunch", "dave", 4),
    )
    sync(account)
    listed = client.get("/api/email/messages", headers=owner.headers).get_json()["items"]
    by_thread: dict[str, set[str]] = {}
    for item in listed:  # the listing carries thread_id, the same one the detail view has
        assert item["thread_id"] == thread_of(client, owner, item["id"])
        by_thread.setdefault(item["thread_id"], set()).add(item["from"]["email"].split("@")[0])
    assert sorted(by_thread.values(), key=len) == [{"dave"}, {"alice", "bob", "carol"}]
    conversation = next(t for t, senders in by_thread.items() if "bob" in senders)
    page = threads(client, owner)["items"]
    assert len(page) == 2
    joined = next(t for t in page if t["id"] == conversation)
    assert joined["message_count"] == 3 and joined["unread_count"] == 3
    assert [p["email"] for p in joined["participants"]] == [
        "alice@example.test",
        "bob@example.test",
        "carol@example.test",
    ]
    assert joined["last_date"].startswith("2024-01-01T10:03")
    assert joined["snippet"].startswith("body of r2")
    assert page[0]["participants"][0]["email"] == "dave@example.test"  # newest first; not merged
    assert detail(client, owner, conversation) == ["Lunch", "Re: Lunch", "Re: Lunch again"]


def test_a_reply_in_sent_joins_and_a_child_before_its_parent_merges(
    client: Any, account: SyncAccount, owner: Caller
) -> None:
    refs = "In-Reply-To: <p2@example.test>\r\nReferences: <p1@example.test> <p2@example.test>\r\n"
    append(account.user, "INBOX", mail("p3", "Re: Plan", "bob", 3, refs))
    sync(account)
    append(account.user, "INBOX", mail("p1", "Plan", "alice", 1))
    append(
        account.user,
        "Sent",
        mail("p2", "Re: Plan", "me", 2, "In-Reply-To: <p1@example.test>\r\n"),
        seen=True,
    )
    sync(account)
    items = threads(client, owner)["items"]
    assert len(items) == 1, items
    assert items[0]["message_count"] == 3 and items[0]["unread_count"] == 2
    assert items[0]["subject"] == "Plan"
    assert detail(client, owner, items[0]["id"]) == ["Plan", "Re: Plan", "Re: Plan"]


def test_a_message_linking_two_threads_of_its_own_batch_merges_them(
    client: Any, account: SyncAccount, owner: Caller
) -> None:
    """One batch: two unrelated starts, then a reply naming both, then a reply to the merged thread."""
    append(
        account.user,
        "INBOX",
        mail("a", "Budget", "alice", 1),
        mail("b", "Budget numbers", "bob", 2),
        mail("c", "Re: Budget", "carol", 3, "References: <a@example.test> <b@example.test>\r\n"),
        mail("d", "Re: Budget numbers", "dave", 4, "In-Reply-To: <b@example.test>\r\n"),
        mail("e", "Budget", "erin", 5),
    )
    sync(account)
    page = threads(client, owner)["items"]
    assert sorted(t["message_count"] for t in page) == [1, 4]
    merged = next(t for t in page if t["message_count"] == 4)
    assert detail(client, owner, merged["id"]) == [
        "Budget",
        "Budget numbers",
        "Re: Budget",
        "Re: Budget numbers",
    ]


def test_listing_is_newest_first_and_keyset_paginated(
    client: Any, account: SyncAccount, owner: Caller
) -> None:
    append(account.user, "INBOX", *(mail(f"t{i}", f"topic {i}", f"s{i}", i) for i in range(1, 6)))
    sync(account)
    first = threads(client, owner, limit=2)
    assert [t["subject"] for t in first["items"]] == ["topic 5", "topic 4"]
    second = threads(client, owner, limit=2, cursor=first["next_cursor"])
    assert [t["subject"] for t in second["items"]] == ["topic 3", "topic 2"]
    third = threads(client, owner, limit=2, cursor=second["next_cursor"])
    assert [t["subject"] for t in third["items"]] == ["topic 1"] and third["next_cursor"] is None
    assert [t["subject"] for t in threads(client, owner, q="topic 3")["items"]] == ["topic 3"]


def test_strangers_get_404_for_a_thread(
    client: Any, account: SyncAccount, owner: Caller, same_tenant_other_user: Caller, other_tenant: Caller
) -> None:
    append(account.user, "INBOX", mail("secret", "Secret", "alice", 1))
    sync(account)
    thread_id = threads(client, owner)["items"][0]["id"]
    folder_id = client.get("/api/email/messages", headers=owner.headers).get_json()["items"][0]["folder_id"]
    for stranger in (same_tenant_other_user, other_tenant):
        response = client.get(f"/api/email/threads/{thread_id}", headers=stranger.headers)
        assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"
        assert threads(client, stranger)["items"] == []
        for scope in ({"account_id": account.account_id}, {"folder_id": folder_id}):
            listed = client.get("/api/email/threads", query_string=scope, headers=stranger.headers)
            assert listed.status_code == 404, scope
    assert detail(client, owner, thread_id) == ["Secret"]


def test_a_servers_thread_id_is_the_thread_key(client: Any, account: SyncAccount, owner: Caller) -> None:
    """Rows as the sync builds them from a Gmail FETCH (X-GM-THRID set): Gmail's threads win over
    headers, both ways (no shared headers but one Gmail thread; shared References but two)."""
    sync(account)  # discovers the folders
    folder = folder_row(account)
    assert folder.uidvalidity is not None
    ctx = RowContext(owner.tenant_id, owner.user_id, account.account_id, folder.id, folder.uidvalidity)
    raws = [
        mail("g1", "Trip", "alice", 1),
        mail("g2", "Other words", "bob", 2),
        mail("g3", "Re: Trip", "carol", 3, "References: <g1@example.test>\r\n"),
    ]
    threads_of = ["111", "111", "222"]
    fetched = [
        FetchedMessage(i + 1, (), None, None, len(raw), raw, gm_thread_id=thread)
        for i, (raw, thread) in enumerate(zip(raws, threads_of, strict=True))
    ]
    with session_scope(owner.tenant_id) as session:
        store.insert_batch(session, folder.id, build_rows(ctx, fetched))
    items = threads(client, owner)["items"]
    assert sorted(t["message_count"] for t in items) == [1, 2]
    pair = next(t for t in items if t["message_count"] == 2)
    assert detail(client, owner, pair["id"]) == ["Trip", "Other words"]


def test_a_batch_partly_stored_already_threads_only_its_new_rows(
    client: Any, account: SyncAccount, owner: Caller
) -> None:
    """Rows are inserted with their thread set; when some of a batch were stored before (a redone
    batch), the new ones are threaded as if the stored ones were absent, and those keep their thread."""
    sync(account)
    folder = folder_row(account)
    assert folder.uidvalidity is not None
    ctx = RowContext(owner.tenant_id, owner.user_id, account.account_id, folder.id, folder.uidvalidity)
    first = [FetchedMessage(1, (), None, None, 0, mail("p1", "Plan", "alice", 1))]
    reply = mail("p2", "Re: Plan", "bob", 2, "In-Reply-To: <p1@example.test>\r\n")
    both = [*first, FetchedMessage(2, (), None, None, 0, reply)]
    with session_scope(owner.tenant_id) as session:
        assert store.insert_batch(session, folder.id, build_rows(ctx, first)) == 1
    with session_scope(owner.tenant_id) as session:
        assert store.insert_batch(session, folder.id, build_rows(ctx, both)) == 1  # uid 1 conflicts
    items = threads(client, owner)["items"]
    assert [t["message_count"] for t in items] == [2]
    assert detail(client, owner, items[0]["id"]) == ["Plan", "Re: Plan"]


def test_a_nul_or_unknown_thread_id_is_a_404_and_a_bad_cursor_a_400(client: Any, owner: Caller) -> None:
    for thread_id in ("a\u0000b", "no-such-thread"):
        response = client.get(f"/api/email/threads/{thread_id}", headers=owner.headers)
        assert response.status_code in (400, 404), (thread_id, response.status_code)
    bad = client.get("/api/email/threads", query_string={"cursor": "nonsense"}, headers=owner.headers)
    assert bad.status_code == 400
    assert (
        client.get("/api/email/threads", query_string={"q": "from:"}, headers=owner.headers).status_code < 500
    )
