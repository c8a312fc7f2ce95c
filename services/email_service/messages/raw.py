"""A message's raw source: the exact bytes the server holds, fetched on request.

The mirror keeps parsed fields and not the original bytes (only a message that failed to parse keeps
them), so GET /api/email/messages/<id>/raw reads them from the server by the row's UID (BODY.PEEK[],
which never marks the message seen). A row whose folder changed UIDVALIDITY, or whose UID the server
no longer has, answers 404: the next sync re-maps or drops it. Refused credentials or an unreachable
server answer 409 with details.reason (auth_failed / server_unreachable): the account's state, not a
fault of this service. The session is short and its reads are
bounded by RAW_FETCH_TIMEOUT_SECONDS, so a slow server costs one API thread that long at most per read.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from email_service.accounts.mail_settings import imap_settings, pop3_settings
from email_service.accounts.model import EmailAccount
from email_service.accounts.oauth.refresh import (
    OAuthRefreshRefused,
    OAuthRefreshUnavailable,
    with_fresh_token,
)
from email_service.core.crypto import get_secret_box
from email_service.core.db import session_scope
from email_service.core.errors import Conflict, NotFound
from email_service.core.tenancy.tokens import Identity
from email_service.deletion.store import Owner
from email_service.mail.imap.client import (
    ImapAuthError,
    ImapCommandError,
    ImapConnector,
    ImapError,
    ImapSettings,
    connect,
)
from email_service.mail.pop3.client import Pop3Session
from email_service.mail.pop3.types import Pop3Settings
from email_service.messages.actions import log
from email_service.messages.folder_model import Folder
from email_service.messages.service import get_live_message

RAW_FETCH_TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class RawSource:
    content: bytes
    filename: str


# Where the server keeps the row's message: folder name, UIDVALIDITY, UID.
Location = tuple[str, int, int]


def raw_source(caller: Identity, message_id: str, connector: ImapConnector = connect) -> RawSource:
    """The caller's live message as the server stores it; 404 when it is not (or no longer) there."""
    filename = f"message-{message_id}.eml"
    with session_scope(caller.tenant_id) as session:
        message = get_live_message(session, message_id, caller.tenant_id, caller.user_id)
        if message.raw is not None:  # kept whole at sync time (it did not parse): the same bytes
            return RawSource(bytes(message.raw), filename)
        folder_id, uidvalidity, uid = message.folder_id, message.uidvalidity, message.uid
        moving = log.pending_move_source(session, Owner(caller.tenant_id, caller.user_id), message_id)
        if moving is not None:  # the row shows its target already; the server still has it here
            folder_id, uidvalidity, uid = moving
        folder = session.get(Folder, folder_id)
        account = session.get(EmailAccount, message.account_id)
        if folder is None or account is None:
            raise NotFound("Message not found", {"id": message_id})
        if account.protocol == "pop3":  # RETR by the row's UIDL (the local uid means nothing there)
            pop3 = replace(pop3_settings(account, get_secret_box()), timeout=RAW_FETCH_TIMEOUT_SECONDS)
            uidl = message.pop3_uidl or ""
            settings = None
        else:
            settings = replace(imap_settings(account, get_secret_box()), timeout=RAW_FETCH_TIMEOUT_SECONDS)
        account_id = account.id
        where: Location = (folder.name, uidvalidity, uid)
    if settings is None:
        return RawSource(_retr(pop3, uidl, message_id), filename)
    try:
        settings = with_fresh_token(settings, caller.tenant_id, caller.user_id, account_id)
    except OAuthRefreshRefused as exc:
        details = {"id": message_id, "reason": "auth_failed"}
        raise Conflict("the account's OAuth2 authorization was refused: authorize it again", details) from exc
    except OAuthRefreshUnavailable as exc:
        details = {"id": message_id, "reason": "server_unreachable"}
        raise Conflict("the OAuth2 token could not be refreshed now, try again shortly", details) from exc
    return RawSource(_fetch(settings, where, connector, message_id), filename)


def _retr(settings: Pop3Settings, uidl: str, message_id: str) -> bytes:
    try:
        with Pop3Session(settings) as pop:
            raw = pop.retr(uidl)
    except ImapAuthError as exc:
        raise Conflict(
            "the mail server refused the account's credentials", {"id": message_id, "reason": "auth_failed"}
        ) from exc
    except ImapError as exc:
        details = {"id": message_id, "reason": "server_unreachable"}
        raise Conflict("the mail server could not be reached, try again shortly", details) from exc
    if raw is None:
        raise NotFound("Message is no longer on the server", {"id": message_id})
    return raw


def _fetch(settings: ImapSettings, where: Location, connector: ImapConnector, message_id: str) -> bytes:
    gone = NotFound(
        "Message is no longer on the server; the next sync updates the mirror", {"id": message_id}
    )
    folder, uidvalidity, uid = where
    try:
        with connector(settings) as imap:
            if imap.select(folder, readonly=True).uidvalidity != uidvalidity:
                raise gone
            fetched = [m for m in imap.fetch_messages([uid]) if m.uid == uid]
    except ImapCommandError as exc:  # e.g. the folder was deleted or renamed on the server
        raise gone from exc
    except ImapAuthError as exc:
        details = {"id": message_id, "reason": "auth_failed"}
        raise Conflict("the mail server refused the account's credentials", details) from exc
    except ImapError as exc:  # the account's server, not this service, is unwell: a 409, not a 5xx
        details = {"id": message_id, "reason": "server_unreachable"}
        raise Conflict("the mail server could not be reached, try again shortly", details) from exc
    if not fetched:
        raise gone
    return fetched[0].raw
