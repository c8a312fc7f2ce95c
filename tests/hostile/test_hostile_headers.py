"""Issue 16 item 7: a 1 MB Subject and a 20,000-address To, APPENDed to the real Dovecot and synced,
keep listing rows small; the exact bytes stay on the server."""

from __future__ import annotations

import json
from typing import Any

from imapclient import IMAPClient

from email_service.sync.rows import ADDRESSES_MAX_STORED, SUBJECT_MAX_CHARS
from email_service.sync.service import run_account_sync
from tests.attack_report import Attack
from tests.conftest import Caller
from tests.integration.sync.sync_support import make_account, rows
from tests.servers.dovecot_fixtures import ImapUser

HOSTILE = 5
# A listing row of a hostile message must stay in the size class of a normal one: 20 KB, so one page
# of 50 stays under 1 MB (the finding: 28 MB for a page of 50 with 30 such mails).
ROW_BOUND_BYTES = 20_000
SUBJECT_BYTES = 1024 * 1024
TO_ADDRESSES = 20_000


def _folded(items: list[str], separator: str) -> str:
    """Header value lines of ~76 characters joined by CRLF + space (valid folding)."""
    lines, line = [], ""
    for item in items:
        if line and len(line) + len(item) > 76:
            lines.append(line)
            line = ""
        line += item + separator
    lines.append(line.rstrip(separator.strip() or " ").rstrip())
    return "\r\n ".join(lines)


def hostile_message(index: int) -> bytes:
    words = [f"w{index}"] + ["hostile"] * (SUBJECT_BYTES // 8)
    to = [f"user{n}@example.test" for n in range(TO_ADDRESSES)]
    head = (
        f"From: Mallory <mallory@example.test>\r\nTo: {_folded(to, ', ')}\r\n"
        f"Subject: {_folded(words, ' ')}\r\nDate: Tue, 1 Dec 2026 10:00:0{index} +0000\r\n"
        f"Message-ID: <hostile-{index}@example.test>\r\nContent-Type: text/plain\r\n\r\nbody {index}\r\n"
    )
    return head.encode()


def test_hostile_headers_keep_listing_rows_small(
    client: Any, owner: Caller, imap_user: ImapUser, attack: Attack
) -> None:
    messages = [hostile_message(i) for i in range(HOSTILE)]
    assert all(len(m) > SUBJECT_BYTES + TO_ADDRESSES * 18 for m in messages)
    imap_user.server.append(imap_user.username, "INBOX", messages)
    account = make_account(owner, imap_user)
    assert run_account_sync(*account.ids).status == "success"
    stored = rows(account)
    assert len(stored) == HOSTILE
    for message in stored:
        assert message.subject.startswith("w") and len(message.subject) <= SUBJECT_MAX_CHARS
        assert len(message.to_addresses) == ADDRESSES_MAX_STORED
        assert sum(len(v) for v in message.headers.values()) < 2 * 4000 * 3

    url = f"/api/email/messages?account_id={account.account_id}&limit=50"
    page = client.get(url, headers=owner.headers)
    assert page.status_code == 200, page.get_json()
    items = page.get_json()["items"]
    assert len(items) == HOSTILE
    row_sizes = [len(json.dumps(item)) for item in items]
    attack(
        f"1 MB Subject and 20,000-address To: largest of {HOSTILE} listing rows",
        max(row_sizes),
        ROW_BOUND_BYTES,
        "B",
    )

    detail = client.get(f"/api/email/messages/{items[0]['id']}", headers=owner.headers)
    assert detail.status_code == 200 and len(detail.get_data()) < 200_000
    # Only the display copies are bounded: the server still holds the exact bytes under the row's UID.
    with IMAPClient(imap_user.host, imap_user.port, ssl=False, timeout=30) as imap:
        imap.login(imap_user.username, imap_user.password)
        imap.select_folder("INBOX", readonly=True)
        fetched = imap.fetch([m.uid for m in stored], ["BODY.PEEK[]"])
    assert sorted(data[b"BODY[]"] for data in fetched.values()) == sorted(messages)
