"""Server-side views for the reliability scenarios, read straight from Dovecot (not via the adapter)."""

from __future__ import annotations

from tests.integration.sync.sync_support import imap
from tests.servers.dovecot_fixtures import ImapUser


def server_uids(user: ImapUser, folder: str = "INBOX") -> list[int]:
    client = imap(user)
    try:
        client.select_folder(folder, readonly=True)
        return sorted(client.search("ALL"))
    finally:
        client.logout()


def copies_of(user: ImapUser, folder: str, message_id: str) -> int:
    """How many messages in `folder` carry this Message-ID."""
    client = imap(user)
    try:
        client.select_folder(folder, readonly=True)
        return len(client.search(["HEADER", "Message-ID", message_id]))
    finally:
        client.logout()
