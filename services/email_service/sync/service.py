"""Use case: sync one account's mailboxes into the database (called by the task and the CLI).

Order matters: ownership is checked before anything else (no IMAP traffic for a foreign account),
then the per-account lock, then discovery and the per-folder engine.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import redis
from sqlalchemy import update

from email_service.accounts.mail_settings import imap_settings, pop3_settings
from email_service.accounts.model import EmailAccount
from email_service.accounts.oauth.refresh import (
    OAuthRefreshRefused,
    ensure_fresh_token,
    refresh_refused_token,
    with_fresh_token,
)
from email_service.accounts.service import load_account_for_task
from email_service.core.config import get_settings
from email_service.core.crypto import get_secret_box
from email_service.core.db import session_scope
from email_service.core.errors import PermanentError, TaskUnauthorized, TransientError
from email_service.events.log import account_parked
from email_service.mail.imap.client import (
    ImapAuthError,
    ImapCommandError,
    ImapConnectionError,
    ImapConnector,
    ImapSession,
    ImapSettings,
    connect,
)
from email_service.mail.imap.types import ImapTlsError
from email_service.mail.pop3.types import Pop3Settings
from email_service.spam.junk_feedback import ProductMoves, record_junk_moves
from email_service.sync import listed_counts, mirrored, store
from email_service.sync.cancel import CancelFlag
from email_service.sync.discovery import KnownFolders, forget_rows, load_known, upsert_folders
from email_service.sync.engine import CancelCheck, FolderStats, FolderSyncer, SyncCancelled
from email_service.sync.junk_moves import MoveWatch
from email_service.sync.lock import AccountLock, redis_client
from email_service.sync.plan import SyncOptions
from email_service.sync.pop3 import sync_pop3
from email_service.sync.tenant_slots import TenantSlot

log = logging.getLogger(__name__)
ProgressSink = Callable[[dict[str, Any]], None]


class SyncAuthError(PermanentError):
    """The IMAP server refused the account's credentials: the account is marked auth_error, no retry."""


class SyncTlsError(PermanentError):
    """The server's certificate was refused: retrying cannot help until it or the account's pin changes.

    The reason goes to the account's last_error; periodic sync still tries again on its own schedule.
    """


@dataclass
class SyncResult:
    """The task contract's result plus a few extras (rebuilt, folders, per-folder errors)."""

    status: str
    messages_synced: int = 0
    # Of messages_synced, those that are new mail: not a copy of a message mirrored already (same
    # Message-ID in another folder, e.g. moved there by another client). What the summary mail counts.
    messages_new: int = 0
    messages_updated: int = 0
    messages_deleted: int = 0
    messages_rebuilt: int = 0
    folders_synced: int = 0
    folders_unchanged: int = 0
    junk_feedback: int = 0  # moves into / out of Junk by another client, learnt as spam / not spam
    folder_errors: dict[str, str] = field(default_factory=dict)
    # Folders whose row count differed from the server's and were repaired: {name: {server, mirror,
    # fetched, dropped}}; empty when the mirror was right.
    mirror_mismatch: dict[str, dict[str, int]] = field(default_factory=dict)
    sync_duration_seconds: float = 0.0
    timestamp: int = 0

    def add(self, folder: str, stats: FolderStats) -> None:
        self.messages_synced += stats.synced
        self.messages_new += stats.synced - stats.copies
        self.messages_updated += stats.updated
        self.messages_deleted += stats.deleted
        self.messages_rebuilt += stats.rebuilt
        if stats.mismatch is not None:
            self.mirror_mismatch[folder] = stats.mismatch.as_dict()
        if stats.skipped:
            self.folders_unchanged += 1
        else:
            self.folders_synced += 1

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def run_account_sync(
    account_id: str,
    tenant_id: str,
    user_id: str,
    *,
    folder_id: str | None = None,
    force_full_sync: bool = False,
    options: SyncOptions | None = None,
    progress: ProgressSink | None = None,
    connector: ImapConnector = connect,
    lock_client: redis.Redis | None = None,
    run_id: str | None = None,
) -> SyncResult:
    """Sync all folders (or one) of an account; status "already_running" when another run holds it.

    run_id (the task id) owns the account lock, so a redelivery of a killed run can take it back,
    and names the run's cancel flag: once set, the sync stops at the next batch boundary with status
    "revoked", keeping the batches it committed and releasing the lock.
    """
    started = time.monotonic()
    config = get_settings()
    options = options or SyncOptions(
        batch_size=config.sync_batch_size, recent_flags_window=config.sync_recent_flags_window
    )
    if force_full_sync:
        options = replace(options, force_full_sync=True)
    refreshed = _fresh_token(account_id, tenant_id, user_id, lock_client)
    with session_scope(tenant_id) as session:
        account = load_account_for_task(session, account_id, tenant_id, user_id)
        pop3 = account.protocol == "pop3"
        settings = None if pop3 else imap_settings(account, get_secret_box())
        pop3_config = pop3_settings(account, get_secret_box()) if pop3 else None
        known = load_known(session, account_id)
    client = lock_client or redis_client(get_settings().broker_url)
    lock = AccountLock(client, account_id, get_settings().sync_lock_ttl_seconds, token=run_id)
    try:
        if not lock.acquire():
            return _finish(SyncResult(status="already_running"), started)
        result = SyncResult(status="success")
        owner, watch = (tenant_id, user_id, account_id), MoveWatch()
        cancelled = CancelFlag(client, run_id) if run_id else None
        try:
            if pop3_config is not None:
                with _tenant_slot(client, tenant_id, run_id):
                    _sync_pop3_account(pop3_config, owner, options, progress, result, cancelled)
            else:
                assert settings is not None
                login = _login(connector, settings, (tenant_id, user_id, account_id), refreshed, lock_client)
                with _tenant_slot(client, tenant_id, run_id), login as imap:
                    folders = _folders_to_sync(imap, owner, known, folder_id)
                    _sync_folders(imap, owner, folders, options, progress, result, watch, cancelled)
                result.junk_feedback = record_junk_moves(owner, watch.moves(), ProductMoves(client))
        finally:
            lock.release()
    except redis.RedisError as exc:
        raise TransientError(f"sync lock unavailable: {exc}") from exc
    except ImapAuthError as exc:
        park_account(tenant_id, user_id, account_id, str(exc))
        raise SyncAuthError(str(exc)) from exc
    except ImapTlsError as exc:
        _mark_account(tenant_id, account_id, last_error=str(exc))
        raise SyncTlsError(str(exc)) from exc
    except ImapConnectionError as exc:
        _mark_account(tenant_id, account_id, last_error=str(exc))
        raise
    finally:
        if lock_client is None:
            client.close()
    if result.status == "revoked":  # not a finished sync: the account's last_sync_at stays as it was
        return _finish(result, started)
    now = datetime.now(UTC)  # a login that works again re-arms the one-time auth-failure notice
    _mark_account(
        tenant_id, account_id, state="active", last_error=None, last_sync_at=now, auth_error_notified=False
    )
    return _finish(result, started)


def _fresh_token(account_id: str, tenant_id: str, user_id: str, lock_client: redis.Redis | None) -> bool:
    """An OAuth2 account's access token refreshed before the login when it is about to expire; a
    refused refresh token parks the account as a refused login does (its owner is told once)."""
    try:
        return ensure_fresh_token(tenant_id, user_id, account_id, lock_client=lock_client)
    except OAuthRefreshRefused as exc:
        raise SyncAuthError(str(exc)) from exc


def _login(
    connector: ImapConnector,
    settings: ImapSettings,
    owner: tuple[str, str, str],
    refreshed: bool,
    lock_client: redis.Redis | None,
) -> ImapSession:
    """The logged-in session. An OAuth2 token refused before its expiry (revoked early) is refreshed
    and the login tried once more with the new one; only a second refusal parks the account."""
    try:
        return connector(settings)
    except ImapAuthError:
        if settings.access_token is None or refreshed:
            raise
        tenant_id, user_id, account_id = owner
        try:
            if not refresh_refused_token(
                tenant_id, user_id, account_id, settings.access_token, lock_client=lock_client
            ):
                raise
        except OAuthRefreshRefused as exc:
            raise SyncAuthError(str(exc)) from exc
    return connector(with_fresh_token(settings, tenant_id, user_id, account_id, reload=True))


def _sync_pop3_account(
    settings: Pop3Settings,
    owner: tuple[str, str, str],
    options: SyncOptions,
    progress: ProgressSink | None,
    result: SyncResult,
    cancelled: CancelCheck | None,
) -> None:
    """The POP3 strategy (sync/pop3.py) into the same result shape: one folder, INBOX."""

    def report(name: str, done: int, total: int) -> None:
        if progress is not None:
            progress({"folder": name, "done": done, "total": total, "folder_index": 0, "folders": 1})

    try:
        outcome = sync_pop3(
            settings, owner, options.batch_size, get_settings().pop3_delete_after_days, report, cancelled
        )
    except ImapCommandError as exc:  # -ERR to UIDL/RETR (e.g. a server without UIDL): as a folder error
        log.warning("POP3 INBOX not synced: %s", exc)
        result.folder_errors["INBOX"] = str(exc)
        return
    result.messages_synced += outcome["synced"]
    result.messages_new += outcome["new"]
    result.folders_synced += 1
    if outcome["status"] != "success":
        result.status = outcome["status"]


def _tenant_slot(client: redis.Redis, tenant_id: str, run_id: str | None) -> AbstractContextManager[Any]:
    """A task's run takes one of its tenant's sync slots (TenantBusy when none is free); a direct call
    (CLI, tests) holds no worker process and takes none."""
    if run_id is None:
        return nullcontext()
    config = get_settings()
    return TenantSlot(client, tenant_id, run_id, config.sync_tenant_concurrency, config.sync_lock_ttl_seconds)


def _folders_to_sync(
    imap: ImapSession, owner: tuple[str, str, str], known: KnownFolders, folder_id: str | None
) -> list[store.FolderState]:
    """The requested folder, or every mirrored folder (discovery writes only when LIST changed).

    Folders that are listed but not mirrored (a \\All folder; Gmail's labels) keep no rows.
    """
    tenant_id, user_id, account_id = owner
    gmail = imap.gmail_ext
    if folder_id is not None:  # known holds only this account's folders, so this is the owner check
        wanted = [state for state in known.states if state.id == folder_id]
        if not wanted:
            raise TaskUnauthorized("folder does not belong to this account")
        return mirrored.for_request(wanted[0], known.states, gmail)
    listed = imap.list_folders()
    if known.matches(listed):
        folders = known.ordered(listed)
    else:
        with session_scope(tenant_id) as session:
            folders = upsert_folders(session, tenant_id, user_id, account_id, listed).folders
    chosen = mirrored.mirrored(folders, gmail)
    stale = mirrored.unmirrored_with_rows(folders, chosen)
    if stale:
        with session_scope(tenant_id) as session:
            forget_rows(session, account_id, stale)
    kept = {f.id for f in chosen}
    listed_counts.refresh_counts(
        imap, lambda: session_scope(tenant_id), [f for f in folders if f.id not in kept]
    )
    return chosen


def _sync_folders(
    imap: ImapSession,
    owner: tuple[str, str, str],
    folders: list[store.FolderState],
    options: SyncOptions,
    progress: ProgressSink | None,
    result: SyncResult,
    watch: MoveWatch | None = None,
    cancelled: CancelCheck | None = None,
) -> None:
    tenant_id = owner[0]

    def unit() -> Any:
        return session_scope(tenant_id)

    for index, folder in enumerate(folders):

        def report(name: str, done: int, total: int, index: int = index) -> None:
            if progress is not None:
                progress(
                    {
                        "folder": name,
                        "done": done,
                        "total": total,
                        "folder_index": index,
                        "folders": len(folders),
                    }
                )

        if cancelled is not None and cancelled():
            result.status = "revoked"
            return
        try:
            syncer = FolderSyncer(imap, unit, owner, options, report, watch, cancelled)
            result.add(folder.name, syncer.sync(folder))
        except SyncCancelled as exc:
            result.add(folder.name, exc.stats)
            result.status = "revoked"
            return
        except ImapCommandError as exc:  # e.g. deleted between LIST and SELECT; the others still sync
            log.warning("folder %s not synced: %s", folder.name, exc)
            result.folder_errors[folder.name] = str(exc)


def park_account(tenant_id: str, user_id: str, account_id: str, reason: str) -> None:
    """Credentials refused: auth_error with the reason, told in the change log in the same transaction."""
    with session_scope(tenant_id) as session:
        parked = session.execute(
            update(EmailAccount)
            .where(EmailAccount.id == account_id, EmailAccount.state != "auth_error")
            .values(state="auth_error", last_error=reason)
        )
        if getattr(parked, "rowcount", 0):
            account_parked(session, (tenant_id, user_id), account_id)
        else:  # parked already: keep the newest reason, no second change
            session.execute(
                update(EmailAccount).where(EmailAccount.id == account_id).values(last_error=reason)
            )


def _mark_account(tenant_id: str, account_id: str, **values: Any) -> None:
    """Record the outcome on the account row in its own short transaction."""
    with session_scope(tenant_id) as session:
        session.execute(update(EmailAccount).where(EmailAccount.id == account_id).values(**values))


def _finish(result: SyncResult, started: float) -> SyncResult:
    result.sync_duration_seconds = round(time.monotonic() - started, 4)
    result.timestamp = int(time.time() * 1000)
    return result
