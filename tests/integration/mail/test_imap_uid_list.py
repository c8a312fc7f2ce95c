"""The adapter's UID list for the mirror's self-check, on Dovecot and GNU Mailutils' imap4d.

imap4d answers `UID SEARCH UID 1:*` with nothing (the fault the self-check repairs); UID SEARCH ALL and
FETCH 1:* (UID) by sequence number answer in full on both servers.
"""

from __future__ import annotations

from email_service.mail.imap.client import ImapSettings, connect
from tests.servers.dovecot_fixtures import ImapUser
from tests.servers.mailutils_fixtures import MailutilsUser


def _settings(user: ImapUser | MailutilsUser) -> ImapSettings:
    return ImapSettings(user.host, user.port, "none", user.username, user.password, timeout=10)


def _message(i: int) -> bytes:
    return b"From: a@example.test\r\nSubject: message %d\r\n\r\nbody %d\r\n" % (i, i)


def test_mailutils_uid_search_answers_nothing_but_the_uid_list_is_complete(
    mailutils_user: MailutilsUser,
) -> None:
    mailutils_user.server.append(mailutils_user.username, [_message(i) for i in range(1, 8)])
    with connect(_settings(mailutils_user)) as imap:
        exists = imap.select("INBOX").exists
        assert exists == 7
        assert imap.search_uids("UID 1:*") == []  # the server's fault, as seen from the product
        assert imap.fetch_uids() == list(range(1, 8))
        assert imap.all_uids(exists) == list(range(1, 8))


def test_dovecot_uid_list_skips_expunged_uids(imap_user: ImapUser) -> None:
    imap_user.server.append(imap_user.username, "INBOX", [_message(i) for i in range(1, 6)])
    with connect(_settings(imap_user)) as imap:
        imap.select("INBOX", readonly=False)
        imap.expunge_uids([2, 4])
        exists = imap.select("INBOX").exists
        assert imap.fetch_uids() == [1, 3, 5]
        assert imap.all_uids(exists) == [1, 3, 5]
        assert imap.all_uids(0) == [1, 3, 5]  # SEARCH alone when EXISTS asks for no more
