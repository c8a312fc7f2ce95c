"""The one-round-trip reads (messages/reads.py) answer exactly what the Session-based service does."""

from __future__ import annotations

from datetime import timedelta

import pytest

from email_service.core.db import session_scope
from email_service.core.errors import NotFound
from email_service.messages import reads, service
from email_service.messages.service import Cursor, MessageFilter
from tests.conftest import Caller
from tests.integration.messages.test_messages_api import (
    BASE,
    Mailbox,
    add_attachment,
    add_message,
    make_mailbox,
)


@pytest.fixture
def box(owner: Caller) -> Mailbox:
    return make_mailbox(owner)


def _service_page(
    box: Mailbox, filters: MessageFilter, cursor: Cursor | None, limit: int
) -> service.MessagePage:
    token = service.encode_cursor(cursor) if cursor is not None else None
    caller = box.caller
    with session_scope(caller.tenant_id) as session:
        return service.list_messages(session, caller.tenant_id, caller.user_id, filters, token, limit)


def test_every_listing_shape_matches_the_service(box: Mailbox) -> None:
    for i in range(7):
        add_message(
            box,
            date_sort=BASE - timedelta(minutes=i % 3),  # equal dates: the id breaks ties
            is_read=i % 2 == 0,
            is_flagged=i % 3 == 0,
            folder_id=box.archive_id if i == 4 else box.inbox_id,
            to_addresses=[{"name": "N", "email": f"n{j}@x.example"} for j in range(12)],
            flags=["\\Seen"] if i % 2 == 0 else [],
            spam_score=0.9 if i == 1 else None,
        )
    add_message(box, deleted_at=BASE)
    caller = box.caller
    shapes = [
        MessageFilter(),
        MessageFilter(account_id=box.account_id),
        MessageFilter(account_id=box.account_id, folder_id=box.inbox_id, unread=True),
        MessageFilter(folder_id=box.archive_id),
        MessageFilter(unread=False, flagged=True),
        MessageFilter(flagged=False),
    ]
    for filters in shapes:
        for limit in (1, 2, 50):
            cursor = None
            while True:
                fast = reads.message_page(caller.tenant_id, caller.user_id, filters, cursor, limit)
                assert fast == _service_page(box, filters, cursor, limit)
                if fast.next_cursor is None:
                    break
                cursor = service.decode_cursor(fast.next_cursor)


def test_ownership_errors_match_the_service(box: Mailbox, other_tenant: Caller) -> None:
    other = make_mailbox(box.caller)
    caller = box.caller
    for filters in (
        MessageFilter(account_id="no-such-account"),
        MessageFilter(folder_id="no-such-folder"),
        MessageFilter(account_id=box.account_id, folder_id=other.inbox_id),
    ):
        with pytest.raises(NotFound) as fast:
            reads.message_page(caller.tenant_id, caller.user_id, filters, None, 50)
        with pytest.raises(NotFound) as slow:
            _service_page(box, filters, None, 50)
        assert (fast.value.message, fast.value.details) == (slow.value.message, slow.value.details)
    stranger = MessageFilter(account_id=box.account_id)
    with pytest.raises(NotFound):
        reads.message_page(other_tenant.tenant_id, other_tenant.user_id, stranger, None, 50)


def test_a_message_view_matches_the_service(box: Mailbox, other_tenant: Caller) -> None:
    caller = box.caller
    message_id = add_message(
        box,
        subject="Full",
        headers={"X-Test": "1"},
        cc_addresses=[{"name": "C", "email": "c@x.example"}],
        body_text="text",
        body_html="<p>html</p>",
        spam_indicators=["ip_url"],
        spam_checked_at=BASE,
        parse_error="bad header",
    )
    add_attachment(box, message_id, b"one", filename="b.txt")
    add_attachment(box, message_id, b"two", filename="a.txt")
    with session_scope(caller.tenant_id) as session:
        expected = service.get_message(session, message_id, caller.tenant_id, caller.user_id)
    assert reads.message_view(caller.tenant_id, caller.user_id, message_id) == expected
    gone = add_message(box, deleted_at=BASE)
    for tenant, user, row in (
        (caller.tenant_id, caller.user_id, gone),
        (caller.tenant_id, caller.user_id, "missing"),
        (other_tenant.tenant_id, other_tenant.user_id, message_id),
    ):
        with pytest.raises(NotFound):
            reads.message_view(tenant, user, row)
