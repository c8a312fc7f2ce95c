"""Adapters around one send: a reusable SMTP connection per account, and IMAP write-back.

The write-back (copy to Sent, \\Answered on the parent) is best effort: the message is already
delivered, so a failure here is logged and reported, never turned into a failed send.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass
from datetime import datetime

from email_service.mail.imap.client import ImapConnectionError, ImapConnector, ImapError, ImapSession, connect
from email_service.mail.imap.transfer import message_id_search
from email_service.mail.imap.types import ImapSettings
from email_service.mail.smtp.client import (
    SMTP_FAILURES,
    SendResult,
    SmtpSession,
    SmtpSettings,
    SmtpTransientError,
    SmtpUncertainError,
    open_smtp,
)

log = logging.getLogger(__name__)
SmtpOpener = Callable[[SmtpSettings], AbstractContextManager[SmtpSession]]
SEEN, ANSWERED = "\\Seen", "\\Answered"


@dataclass
class _Pooled:
    stack: ExitStack
    session: SmtpSession
    settings: SmtpSettings
    last_used: float


class SmtpConnections:
    """One logged-in SMTP session per account, reused across sends until idle for `max_idle` seconds.

    A connection the server dropped while idle is detected on the next send (before any data went
    out) and replaced once, so reuse never costs a retry or risks a duplicate.
    """

    def __init__(self, opener: SmtpOpener = open_smtp, max_idle: float = 30.0, max_accounts: int = 8) -> None:
        self._opener = opener
        self._max_idle = max_idle
        self._max_accounts = max_accounts
        self._pool: OrderedDict[str, _Pooled] = OrderedDict()

    def send(
        self, key: str, settings: SmtpSettings, envelope_from: str, recipients: Sequence[str], raw: bytes
    ) -> SendResult:
        pooled, fresh = self._checkout(key, settings)
        try:
            result = pooled.session.send(envelope_from, recipients, raw)
        except SmtpUncertainError:
            self.discard(key)
            raise
        except SmtpTransientError as exc:
            self.discard(key)
            if fresh or exc.code is not None:
                raise
            pooled, _ = self._checkout(key, settings)  # a stale reused connection: one fresh try
            result = pooled.session.send(envelope_from, recipients, raw)
        pooled.last_used = time.monotonic()
        return result

    def _checkout(self, key: str, settings: SmtpSettings) -> tuple[_Pooled, bool]:
        pooled = self._pool.get(key)
        if pooled is not None:
            idle = time.monotonic() - pooled.last_used
            if pooled.settings == settings and idle < self._max_idle:
                self._pool.move_to_end(key)
                return pooled, False
            self.discard(key)
        stack = ExitStack()
        session = stack.enter_context(self._opener(settings))
        pooled = _Pooled(stack, session, settings, time.monotonic())
        self._pool[key] = pooled
        while len(self._pool) > self._max_accounts:
            self.discard(next(iter(self._pool)))
        return pooled, True

    def discard(self, key: str) -> None:
        """Close one account's connection (QUIT, or just drop the socket if that fails)."""
        pooled = self._pool.pop(key, None)
        if pooled is not None:
            try:
                pooled.stack.close()
            except SMTP_FAILURES as exc:  # closing a broken connection must not fail a send
                log.debug("closing SMTP connection failed: %s", exc)

    def close(self) -> None:
        for key in list(self._pool):
            self.discard(key)


@dataclass(frozen=True)
class ParentRef:
    """Where the replied-to message lives on the server, for \\Answered."""

    folder: str
    uidvalidity: int
    uid: int


@dataclass(frozen=True)
class WriteBack:
    """What to do over IMAP once the message is delivered."""

    imap: ImapSettings
    save_copy: bool
    sent_folder: str | None
    parent: ParentRef | None
    message_id: str = ""  # finds a copy whose APPEND reply was lost with the connection

    @property
    def needed(self) -> bool:
        return self.save_copy or self.parent is not None


def write_back(
    plan: WriteBack, raw: bytes, sent_at: datetime, connector: ImapConnector = connect
) -> dict[str, str]:
    """APPEND the exact sent bytes to Sent with \\Seen and flag the parent; report each step's outcome."""
    return write_back_many([(plan, raw, sent_at)], connector)[0]


def write_back_many(
    items: Sequence[tuple[WriteBack, bytes, datetime]], connector: ImapConnector = connect
) -> list[dict[str, str]]:
    """The write-back of several sent messages of one account over ONE IMAP connection.

    A dropped connection is reopened once; the item in flight then is looked up by Message-ID
    before it is appended again, so a lost APPEND reply neither loses nor doubles the copy.
    """
    reports = [
        {"sent_copy": "saved" if p.save_copy else "skipped", "parent_flag": "skipped"} for p, _, _ in items
    ]
    pending = [i for i, (plan, _, _) in enumerate(items) if plan.needed]
    for reconnected in (False, True):
        if not pending:
            break
        try:
            with connector(items[pending[0]][0].imap) as imap:
                while pending:
                    plan, raw, sent_at = items[pending[0]]
                    reports[pending[0]] = _write_back_one(imap, plan, raw, sent_at, check_first=reconnected)
                    reconnected = False  # only the item in flight at the cut may already be there
                    pending.pop(0)
        except ImapError as exc:
            log.warning("IMAP write-back after send failed: %s", exc)
            if not isinstance(exc, ImapConnectionError):
                break
    for i in pending:
        reports[i] = _failed(reports[i], items[i][0])
    return reports


def _write_back_one(
    imap: ImapSession, plan: WriteBack, raw: bytes, sent_at: datetime, check_first: bool
) -> dict[str, str]:
    """One message's copy and parent flag; a lost connection is raised, other errors reported."""
    report = {"sent_copy": "skipped", "parent_flag": "skipped"}
    # Gmail files every message sent through its SMTP in Sent Mail itself: an APPEND would be a second
    # copy. The capability says so even for an account set up by hand without provider_saves_sent.
    if plan.save_copy and not imap.gmail_ext:
        name = plan.sent_folder or discover_sent_folder(imap)
        there = check_first and name is not None and _copy_in_folder(imap, name, plan.message_id)
        report["sent_copy"] = "saved" if there else _append_sent(imap, name, raw, sent_at)
    if plan.parent is not None:
        report["parent_flag"] = _flag_answered(imap, plan.parent)
    return report


def _failed(report: dict[str, str], plan: WriteBack) -> dict[str, str]:
    report = {k: ("failed" if v == "saved" else v) for k, v in report.items()}
    if plan.parent is not None and report["parent_flag"] == "skipped":
        report["parent_flag"] = "failed"
    return report


def _append_sent(imap: ImapSession, name: str | None, raw: bytes, sent_at: datetime) -> str:
    if name is None:
        log.warning("no Sent folder on the server; the copy was not saved")
        return "no_sent_folder"
    try:
        imap.append(name, raw, flags=[SEEN], internaldate=sent_at)
    except ImapConnectionError:
        raise
    except ImapError as exc:
        log.warning("APPEND to %s failed: %s", name, exc)
        return "failed"
    return "saved"


def _flag_answered(imap: ImapSession, parent: ParentRef) -> str:
    try:
        info = imap.select(parent.folder, readonly=False)
        if info.uidvalidity != parent.uidvalidity:
            return "moved"  # the folder was rebuilt; the next sync re-reads the flags
        imap.add_flags([parent.uid], [ANSWERED])
    except ImapConnectionError:
        raise
    except ImapError as exc:
        log.warning("setting \\Answered on the parent failed: %s", exc)
        return "failed"
    return "set"


def discover_sent_folder(imap: ImapSession) -> str | None:
    """The folder with role 'sent' (SPECIAL-USE, else the usual names), when sync has not stored it yet."""
    return next((f.name for f in imap.list_folders() if f.role == "sent"), None)


def sent_copy_exists(
    imap_settings: ImapSettings, folder: str | None, message_id: str, connector: ImapConnector = connect
) -> bool:
    """Does the Sent folder hold a message with this Message-ID? (proof that an earlier attempt sent it)."""
    if message_id_search(message_id) is None:
        return False
    with connector(imap_settings) as imap:
        name = folder or discover_sent_folder(imap)
        return name is not None and _copy_in_folder(imap, name, message_id)


def _copy_in_folder(imap: ImapSession, folder: str, message_id: str) -> bool:
    criteria = message_id_search(message_id)
    if criteria is None:
        return False
    imap.select(folder)
    return bool(imap.search_uids(criteria))
