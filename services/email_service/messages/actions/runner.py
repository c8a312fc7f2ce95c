"""Shared by the write-back tasks: settle a batch's rows from the outcome, and the batch's status."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.orm import Session

from email_service.core.db import session_scope
from email_service.core.errors import PermanentError, TaskUnauthorized, TransientError
from email_service.deletion.batches import Outcome
from email_service.deletion.store import Owner
from email_service.mail.imap.client import ImapAuthError, ImapCommandError, ImapConnectionError
from email_service.mail.imap.transfer import Refused
from email_service.messages.actions import log
from email_service.messages.actions.model import DONE, FAILED

Revert = Callable[[Session, Owner, Sequence[log.Action]], None]


# What a write-back's remote step may raise that ends in a reason rather than a crash.
WRITE_BACK_FAILURES = (
    TaskUnauthorized,
    TransientError,  # e.g. an OAuth2 token endpoint rate limiting the refresh: retried
    PermanentError,
    Refused,
    ImapAuthError,
    ImapCommandError,
    ImapConnectionError,
)


def failure_reason(exc: BaseException) -> tuple[str, bool]:
    """(why, in our words; whether a later attempt may succeed) for one of WRITE_BACK_FAILURES."""
    if isinstance(exc, ImapAuthError):
        return f"IMAP login refused: {exc}", False
    if isinstance(exc, ImapConnectionError):
        return f"IMAP connection failed: {exc}", True
    if isinstance(exc, ImapCommandError):
        return f"the server refused: {exc}", False
    return str(exc), isinstance(exc, TransientError)


def batch_status(actions: Sequence[log.Action]) -> str:
    """success (nothing failed), partial (some failed) or failed (nothing done); pending rows retry."""
    failed = any(a.state == FAILED for a in actions)
    done = any(a.state == DONE for a in actions)
    return "failed" if failed and not done else "partial" if failed else "success"


def settle(
    owner: Owner, outcome: Outcome, by_message: dict[Any, log.Action], final: bool, revert: Revert
) -> None:
    """Done rows are marked done; failed rows are reverted and marked failed with their reason, unless
    the failure was transient and a retry follows (they stay pending)."""
    with session_scope(owner.tenant_id) as session:
        log.finish(session, owner, [by_message[i].id for i in outcome.done if i in by_message])
        for message_id, reason in outcome.failed.items():
            action = by_message.get(message_id)
            if action is None or (message_id in outcome.transient and not final):
                continue
            revert(session, owner, [action])
            log.finish(session, owner, [action.id], reason=reason)


def finish_untouched(owner: Owner, batch_id: str, outcome: Outcome) -> list[log.Action]:
    """Pending rows the run had nothing to do for (their message is gone) are done; returns the batch."""
    with session_scope(owner.tenant_id) as session:
        actions = log.batch(session, owner, batch_id)
        handled = outcome.done | set(outcome.failed)
        rest = [
            a.id for a in actions if a.state == "pending" and (a.message_id or a.folder_id) not in handled
        ]
        if rest:
            log.finish(session, owner, rest)
            actions = log.batch(session, owner, batch_id)
    return actions
