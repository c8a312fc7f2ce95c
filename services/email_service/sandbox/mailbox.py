"""A short IMAP session as the demo user: how seeding and SMTP delivery put mail into the mailbox.

Going through IMAP APPEND (like an LDA would) keeps pymap the only writer of its maildir.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

from imapclient import IMAPClient

from email_service.sandbox.settings import SandboxSettings


@contextmanager
def demo_session(settings: SandboxSettings, timeout: float = 10.0) -> Iterator[IMAPClient]:
    """Logged-in client for the demo user; always logs out."""
    client = IMAPClient(settings.host, settings.imap_port, ssl=False, timeout=timeout)
    try:
        client.login(settings.address, settings.password)
        yield client
    finally:
        try:
            client.logout()
        except Exception:  # the connection may already be gone
            client.shutdown()


def has_message_id(client: IMAPClient, folder: str, message_id: str) -> bool:
    """Whether `folder` already holds a message with this Message-ID (seeding is idempotent)."""
    client.select_folder(folder, readonly=True)
    return bool(client.search(["HEADER", "Message-ID", message_id]))


def append_message(
    client: IMAPClient,
    folder: str,
    raw: bytes,
    flags: Sequence[str] = (),
    when: datetime | None = None,
) -> None:
    """APPEND with flags and an internal date, creating the folder on first use."""
    if not client.folder_exists(folder):
        client.create_folder(folder)
    client.append(folder, raw, flags=tuple(flags), msg_time=when)


def deliver(settings: SandboxSettings, raw: bytes) -> None:
    """Drop one message into the demo INBOX, unread."""
    with demo_session(settings) as client:
        append_message(client, "INBOX", raw)
