"""What the raw IMAP channel relies on inside imapclient and imaplib, checked on a real Dovecot.

The wire parser pays (bench/internals_bench.py: ~6x imapclient's fetch on 10k x 5 KB) but writes on
imapclient's private `_imap` (an imaplib.IMAP4) and reads its `file` buffer itself. If an upgrade of
either library changes that, these fail here rather than a sync in production.
"""

from __future__ import annotations

import imaplib
import io

from imapclient import IMAPClient

from email_service.mail.imap.client import ImapSettings, connect
from email_service.mail.imap.conn import RawChannel, open_client
from tests.servers.dovecot_fixtures import ImapUser


def _settings(user: ImapUser) -> ImapSettings:
    return ImapSettings(user.host, user.port, "none", user.username, user.password, timeout=10)


def test_imapclient_keeps_its_imaplib_connection_in_imap_with_send_and_a_buffered_file(
    imap_user: ImapUser,
) -> None:
    client = open_client(_settings(imap_user))
    try:
        assert isinstance(client, IMAPClient)
        imap = client._imap
        assert isinstance(imap, imaplib.IMAP4)
        assert isinstance(imap.file, io.BufferedReader)  # the one read buffer we read from ourselves
        assert callable(imap.send)
        assert imap.state == "AUTH"
    finally:
        client.shutdown()


def test_imapclient_commands_still_work_after_raw_ones_on_the_same_socket(imap_user: ImapUser) -> None:
    imap_user.server.append(imap_user.username, "INBOX", [b"Subject: one\r\n\r\nbody\r\n"])
    client = open_client(_settings(imap_user))
    try:
        raw = RawChannel(client._imap)
        assert any(r.head.startswith(b"* CAPABILITY") for r in raw.run(b"CAPABILITY"))
        raw.run(b"EXAMINE INBOX")
        client._imap.state = "SELECTED"  # what ImapSession._select sets; imapclient checks it
        assert client.search(["ALL"]) == [1]  # imapclient's own parser, no leftover bytes in between
        assert raw.last_status.startswith(b"OK")
    finally:
        client.shutdown()


def test_the_session_fetches_through_the_raw_channel_and_imapclient_sees_the_selected_state(
    imap_user: ImapUser,
) -> None:
    imap_user.server.append(imap_user.username, "INBOX", [b"Subject: two\r\n\r\nbody two\r\n"])
    with connect(_settings(imap_user)) as session:
        info = session.select("INBOX")
        fetched = list(session.fetch_messages("1:*"))
        assert [m.raw.endswith(b"body two\r\n") for m in fetched] == [True]
        assert info.exists == 1
        assert session.status("INBOX").messages == 1  # an imapclient command after raw SELECT/FETCH
