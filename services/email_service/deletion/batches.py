"""Shared by delete and restore: per-id outcome, grouping by folder, one IMAP session per account.

A failure in one folder is recorded for that folder's ids only; the other folders still run, and
their database changes are committed folder by folder, so nothing done is undone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from email_service.accounts.mail_settings import imap_settings
from email_service.accounts.oauth.refresh import (
    OAuthRefreshRefused,
    OAuthRefreshUnavailable,
    ensure_fresh_token,
)
from email_service.accounts.service import load_account_for_task
from email_service.core.crypto import get_secret_box
from email_service.core.db import session_scope
from email_service.core.errors import TaskUnauthorized
from email_service.deletion.store import Target
from email_service.mail.imap.client import ImapAuthError, ImapCommandError, ImapConnectionError, connect
from email_service.mail.imap.transfer import MailOps, Refused
from email_service.mail.imap.types import ImapSettings

GroupKey = tuple[str, str, int]  # account, folder, uidvalidity
MailOpsConnector = Callable[[ImapSettings], AbstractContextManager[MailOps]]
FolderHandler = Callable[[MailOps, list[Target]], Iterable[str]]


@dataclass
class Outcome:
    """Each requested id ends up done, not found or failed (with a reason).

    retryable: some failure was transient (a retry may succeed); transient: the ids that failed so.
    """

    requested: list[str]
    done: set[str] = field(default_factory=set)
    failed: dict[str, str] = field(default_factory=dict)
    retryable: bool = False
    transient: set[str] = field(default_factory=set)

    def succeed(self, ids: Iterable[str]) -> None:
        for message_id in ids:
            self.failed.pop(message_id, None)
            self.transient.discard(message_id)
            self.done.add(message_id)

    def fail(self, ids: Iterable[str], reason: str, retryable: bool = False) -> None:
        for message_id in ids:
            if message_id not in self.done:
                self.failed[message_id] = reason
                if retryable:
                    self.transient.add(message_id)
                else:
                    self.transient.discard(message_id)
        self.retryable = self.retryable or retryable

    def not_found(self, found: Iterable[str]) -> list[str]:
        known = set(found) | self.done | set(self.failed)
        return [message_id for message_id in self.requested if message_id not in known]

    def status(self) -> str:
        if not self.failed:
            return "success"
        return "partial" if self.done else "failed"

    def as_dict(self, count_key: str, found: Iterable[str]) -> dict[str, Any]:
        return {
            "status": self.status(),
            count_key: len(self.done),
            "not_found": self.not_found(found),
            "failed": [{"id": i, "reason": r} for i, r in sorted(self.failed.items())],
        }


def unique_ids(ids: Sequence[str]) -> list[str]:
    """Request order without duplicates (a repeated id is one message)."""
    return list(dict.fromkeys(ids))


def group_by_folder(targets: Iterable[Target]) -> dict[str, dict[GroupKey, list[Target]]]:
    """account id -> (account, folder, uidvalidity) -> targets, UIDs ascending: one batch per folder."""
    accounts: dict[str, dict[GroupKey, list[Target]]] = defaultdict(dict)
    for target in sorted(targets, key=lambda t: (t.account_id, t.folder_id, t.uidvalidity, t.uid)):
        key = (target.account_id, target.folder_id, target.uidvalidity)
        accounts[target.account_id].setdefault(key, []).append(target)
    return dict(accounts)


def run_batches(
    owner: tuple[str, str],
    groups: dict[str, dict[GroupKey, list[Target]]],
    handler: FolderHandler,
    outcome: Outcome,
    connector: MailOpsConnector = connect,
) -> None:
    """Log in once per account and hand each folder's targets to `handler` (it returns the ids done)."""
    tenant_id, user_id = owner
    for account_id, folders in groups.items():
        ids = [t.id for targets in folders.values() for t in targets]
        try:
            ensure_fresh_token(tenant_id, user_id, account_id)  # OAuth2: before the login, outside a txn
            with session_scope(tenant_id) as session:
                account = load_account_for_task(session, account_id, tenant_id, user_id)
                settings = imap_settings(account, get_secret_box())
            with connector(settings) as imap:
                for targets in folders.values():
                    _one_folder(imap, targets, handler, outcome)
        except TaskUnauthorized as exc:
            outcome.fail(ids, str(exc))
        except (ImapAuthError, OAuthRefreshRefused) as exc:
            outcome.fail(ids, f"IMAP login refused: {exc}")
        except OAuthRefreshUnavailable as exc:
            outcome.fail(ids, str(exc), retryable=True)
        except ImapConnectionError as exc:
            outcome.fail(ids, f"IMAP connection failed: {exc}", retryable=True)


def _one_folder(imap: MailOps, targets: list[Target], handler: FolderHandler, outcome: Outcome) -> None:
    """NO/BAD replies and refusals fail this folder only; a broken connection ends the account's run."""
    try:
        outcome.succeed(handler(imap, targets))
    except (Refused, ImapCommandError) as exc:
        outcome.fail([t.id for t in targets], str(exc))
