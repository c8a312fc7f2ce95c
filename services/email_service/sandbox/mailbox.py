"""A short IMAP session as the demo user: how seeding and SMTP delivery put mail into the mailbox.

Going through IMAP APPEND (like an LDA would) keeps pymap the only writer of its maildir.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from email.parser import BytesParser

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


def message_ids(client: IMAPClient, folder: str) -> set[str]:
    """Message-IDs already in `folder`, read in one FETCH (seeding skips these)."""
    client.select_folder(folder, readonly=True)
    uids = client.search("ALL")
    if not uids:
        return set()
    section = b"BODY[HEADER.FIELDS (MESSAGE-ID)]"
    fetched = client.fetch(uids, ["BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"])
    headers = (
        BytesParser().parsebytes(data.get(section, b""), headersonly=True) for data in fetched.values()
    )
    return {str(h["Message-ID"]).strip() for h in headers if h["Message-ID"]}


def deliver(settings: SandboxSettings, raw: bytes) -> None:
    """Drop one message into the demo INBOX, unread."""
    with demo_session(settings) as client:
        client.append("INBOX", raw)
