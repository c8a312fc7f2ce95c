"""SmtpConnections reuse/replacement rules and the best-effort IMAP write-back, with fakes."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from email_service.mail.imap.types import FolderInfo, ImapCommandError, ImapSettings, SelectInfo
from email_service.mail.smtp.client import SendResult, SmtpSettings, SmtpTransientError, SmtpUncertainError
from email_service.sending.delivery import ParentRef, SmtpConnections, WriteBack, write_back
from email_service.sending.model import OutboxMessage
from email_service.sending.service import stored_result

SETTINGS = SmtpSettings(host="smtp.test", port=587, security="starttls", username="u", password="p")
IMAP = ImapSettings(host="imap.test", port=143, security="none", username="u", password="p")


class FakeSmtp:
    """Records sessions opened and closed; `failures` are raised by the next sends in order."""

    def __init__(self) -> None:
        self.opened = 0
        self.closed = 0
        self.sent: list[bytes] = []
        self.failures: list[Exception] = []

    @contextmanager
    def open(self, settings: SmtpSettings) -> Iterator[Any]:
        self.opened += 1
        try:
            yield self
        finally:
            self.closed += 1

    def send(self, envelope_from: str, recipients: Sequence[str], raw: bytes) -> SendResult:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(raw)
        return SendResult(tuple(recipients), {}, "250 OK")


def test_one_connection_is_reused_per_account() -> None:
    fake = FakeSmtp()
    pool = SmtpConnections(fake.open)
    for i in range(3):
        pool.send("acct", SETTINGS, "a@x.test", ["b@x.test"], b"m%d" % i)
    assert (fake.opened, len(fake.sent)) == (1, 3)
    pool.send("acct", replace(SETTINGS, password="new"), "a@x.test", ["b@x.test"], b"m")
    assert (fake.opened, fake.closed) == (2, 1)
    pool.close()
    assert fake.closed == 2


def test_a_stale_reused_connection_is_replaced_once() -> None:
    fake = FakeSmtp()
    pool = SmtpConnections(fake.open)
    pool.send("acct", SETTINGS, "a@x.test", ["b@x.test"], b"first")
    fake.failures = [SmtpTransientError("connection failed: reset")]
    pool.send("acct", SETTINGS, "a@x.test", ["b@x.test"], b"second")
    assert fake.sent == [b"first", b"second"] and fake.opened == 2


@pytest.mark.parametrize(
    "error",
    [SmtpTransientError("451", 451, "try later"), SmtpUncertainError("no reply after the body")],
)
def test_replies_and_uncertain_drops_are_never_resent_here(error: Exception) -> None:
    fake = FakeSmtp()
    pool = SmtpConnections(fake.open)
    pool.send("acct", SETTINGS, "a@x.test", ["b@x.test"], b"first")
    fake.failures = [error]
    with pytest.raises(type(error)):
        pool.send("acct", SETTINGS, "a@x.test", ["b@x.test"], b"second")
    assert fake.sent == [b"first"] and fake.closed == 1


def test_idle_connections_are_reopened() -> None:
    fake = FakeSmtp()
    pool = SmtpConnections(fake.open, max_idle=0.0)
    pool.send("acct", SETTINGS, "a@x.test", ["b@x.test"], b"1")
    pool.send("acct", SETTINGS, "a@x.test", ["b@x.test"], b"2")
    assert fake.opened == 2


class FakeImap:
    gmail_ext = False  # a Gmail server (X-GM-EXT-1) saves Sent itself: no APPEND

    def __init__(self, fail_append: bool = False, uidvalidity: int = 7) -> None:
        self.fail_append = fail_append
        self.uidvalidity = uidvalidity
        self.appended: list[tuple[str, bytes, list[str]]] = []
        self.flagged: list[tuple[list[int], list[str]]] = []

    def __enter__(self) -> FakeImap:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def list_folders(self) -> list[FolderInfo]:
        return [FolderInfo("INBOX", "/", (), "inbox"), FolderInfo("Gesendet", "/", ("\\Sent",), "sent")]

    def append(self, folder: str, raw: bytes, flags: Sequence[str] = (), internaldate: Any = None) -> None:
        if self.fail_append:
            raise ImapCommandError("NO [OVERQUOTA]")
        self.appended.append((folder, raw, list(flags)))

    def select(self, name: str, readonly: bool = True) -> SelectInfo:
        return SelectInfo(self.uidvalidity, 10, None, 3)

    def add_flags(self, uids: list[int], flags: list[str]) -> None:
        self.flagged.append((uids, flags))


NOW = datetime(2024, 1, 1, tzinfo=UTC)


def test_write_back_appends_seen_copy_to_the_discovered_sent_folder_and_flags_the_parent() -> None:
    imap = FakeImap()
    plan = WriteBack(IMAP, save_copy=True, sent_folder=None, parent=ParentRef("INBOX", 7, 3))
    report = write_back(plan, b"raw", NOW, connector=lambda _s: imap)  # type: ignore[arg-type,return-value]
    assert report == {"sent_copy": "saved", "parent_flag": "set"}
    assert imap.appended == [("Gesendet", b"raw", ["\\Seen"])] and imap.flagged == [([3], ["\\Answered"])]


def test_write_back_failures_are_reported_not_raised() -> None:
    imap = FakeImap(fail_append=True, uidvalidity=8)
    plan = WriteBack(IMAP, save_copy=True, sent_folder="Sent", parent=ParentRef("INBOX", 7, 3))
    report = write_back(plan, b"raw", NOW, connector=lambda _s: imap)  # type: ignore[arg-type,return-value]
    assert report == {"sent_copy": "failed", "parent_flag": "moved"} and imap.flagged == []
    skipped = WriteBack(IMAP, save_copy=False, sent_folder=None, parent=None)
    assert write_back(skipped, b"raw", NOW, connector=lambda _s: pytest.fail("no IMAP needed")) == {
        "sent_copy": "skipped",
        "parent_flag": "skipped",
    }


def test_stored_result_hides_the_envelope_and_answers_cancelled() -> None:
    row = OutboxMessage(status="sent", message_id_header="<m@x>", error=None)
    row.result = {"status": "sent", "recipients_sent": 2, "envelope": {"recipients": ["hidden@x.test"]}}
    assert "envelope" not in stored_result(row) and stored_result(row)["recipients_sent"] == 2
    row.status = "cancelled"
    assert stored_result(row)["status"] == "cancelled"
