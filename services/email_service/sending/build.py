"""Turn an outbox row into wire bytes once, and gather what the IMAP write-back needs.

The MIME (with its Message-ID and Date) is built on the first claim and stored on the row, so
every retry transmits identical bytes and the copy in Sent is byte-for-byte what was delivered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from email_service.accounts.mail_settings import imap_settings, smtp_settings
from email_service.accounts.model import EmailAccount
from email_service.core.crypto import get_secret_box
from email_service.core.errors import PermanentError
from email_service.core.tenancy.scoping import scoped
from email_service.mail.imap.types import ImapSettings
from email_service.mail.mime.compose import ComposeRequest, InvalidAddressError, build_message
from email_service.mail.smtp.client import SmtpSettings
from email_service.messages.attachment_model import Attachment
from email_service.messages.folder_model import Folder
from email_service.messages.folders import folder_by_role
from email_service.messages.model import Message
from email_service.sending.delivery import ANSWERED, ParentRef, WriteBack
from email_service.sending.model import OutboxMessage

# A POP3 account's stand-in: never connected to (save_copy False and no parent flag to set).
NO_IMAP = ImapSettings(host="", port=0, security="none", username="", password="")


@dataclass(frozen=True)
class Prepared:
    """Everything a send attempt needs after the claim transaction has committed."""

    raw: bytes
    message_id: str
    envelope_from: str
    recipients: tuple[str, ...]
    smtp: SmtpSettings
    write_back: WriteBack
    parent_id: str | None
    recovering: bool


@dataclass(frozen=True)
class AccountContext:
    """Per-account inputs shared by every row of a batch: decrypted settings and the Sent folder."""

    smtp: SmtpSettings
    imap: ImapSettings
    save_copy: bool
    sent_folder: str | None


def account_context(session: Session, account: EmailAccount) -> AccountContext:
    """Decrypt the credentials and look up the Sent folder once, not once per message."""
    box = get_secret_box()
    if account.protocol == "pop3":  # no IMAP: no Sent copy, no parent flag, nothing to write back
        return AccountContext(
            smtp=smtp_settings(account, box), imap=NO_IMAP, save_copy=False, sent_folder=None
        )
    sent = folder_by_role(session, account.id, "sent", account.tenant_id, account.user_id)
    return AccountContext(
        smtp=smtp_settings(account, box),
        imap=imap_settings(account, box),
        save_copy=not account.provider_saves_sent,
        sent_folder=sent.name if sent else None,
    )


def context_of(step: Prepared) -> AccountContext:
    """The account context a claimed row was prepared with (reused for its batch's siblings)."""
    plan = step.write_back
    return AccountContext(step.smtp, plan.imap, plan.save_copy, plan.sent_folder)


def prepare(
    session: Session, row: OutboxMessage, account: EmailAccount, ctx: AccountContext, recovering: bool
) -> Prepared:
    """Build and store the MIME when missing; raises PermanentError when it cannot be built."""
    parent = _parent(session, row)
    if row.mime is None or not row.message_id_header:
        compose_into(session, row, account, parent)
    assert row.mime is not None and row.message_id_header is not None
    envelope = (row.result or {}).get("envelope") or {}
    plan = WriteBack(
        imap=ctx.imap,
        save_copy=ctx.save_copy,
        sent_folder=ctx.sent_folder,
        parent=_parent_ref(session, parent) if ctx.imap is not NO_IMAP else None,
        message_id=row.message_id_header,
    )
    return Prepared(
        raw=row.mime,
        message_id=row.message_id_header,
        envelope_from=envelope.get("from") or account.email_address,
        recipients=tuple(envelope.get("recipients") or ()),
        smtp=ctx.smtp,
        write_back=plan,
        parent_id=parent.id if parent else None,
        recovering=recovering,
    )


def compose_queued(session: Session, row: OutboxMessage, account: EmailAccount) -> None:
    """Build the MIME when the API queues the row, so the send task only transmits stored bytes."""
    compose_into(session, row, account, _parent(session, row))


def compose_request(
    request: dict[str, Any],
    account: EmailAccount,
    attachments: list[tuple[str, str, bytes]],
    parent: Message | None,
    **extra: Any,
) -> ComposeRequest:
    """A stored send request (an outbox row's or a draft's) as what the MIME composer takes."""
    return ComposeRequest(
        from_address=account.email_address,
        from_name=account.display_name or "",
        subject=request.get("subject") or "",
        body_text=request.get("body_text") or "",
        body_html=request.get("body_html"),
        to=tuple(request.get("to") or ()),
        cc=tuple(request.get("cc") or ()),
        bcc=tuple(request.get("bcc") or ()),
        attachments=attachments,
        in_reply_to=parent.message_id_header if parent else None,
        references=tuple((parent.references or "").split()) if parent else (),
        **extra,
    )


def compose_into(session: Session, row: OutboxMessage, account: EmailAccount, parent: Message | None) -> None:
    request = row.request or {}
    attachments = _attachments(session, row, request.get("attachment_ids") or [])
    compose = compose_request(request, account, attachments, parent)
    try:
        composed = build_message(compose)
    except InvalidAddressError as exc:
        raise PermanentError(f"cannot build the message: {exc}") from exc
    row.mime = composed.raw
    row.message_id_header = composed.message_id
    row.result = {"envelope": {"from": composed.envelope_from, "recipients": list(composed.recipients)}}


def _attachments(session: Session, row: OutboxMessage, ids: list[str]) -> list[tuple[str, str, bytes]]:
    """The owner's uploads in request order; one gone since the API checked fails the send for good."""
    if not ids:
        return []
    query = scoped(Attachment, row.tenant_id, row.user_id).where(
        Attachment.id.in_(ids), Attachment.is_upload.is_(True)
    )
    found = {a.id: a for a in session.scalars(query)}
    missing = [i for i in ids if i not in found]
    if missing:
        raise PermanentError(f"attachments no longer available: {', '.join(missing)}")
    return [(found[i].filename, found[i].content_type, found[i].content) for i in dict.fromkeys(ids)]


def _parent(session: Session, row: OutboxMessage) -> Message | None:
    parent_id = (row.request or {}).get("in_reply_to")
    if not parent_id:
        return None
    query = scoped(Message, row.tenant_id, row.user_id).where(
        Message.id == parent_id, Message.account_id == row.account_id
    )
    parent: Message | None = session.scalars(query).first()
    return parent


def _parent_ref(session: Session, parent: Message | None) -> ParentRef | None:
    if parent is None or parent.deleted_at is not None:
        return None
    folder = session.get(Folder, parent.folder_id)
    return ParentRef(folder.name, parent.uidvalidity, parent.uid) if folder else None


def mark_parent_answered(session: Session, parent_id: str, tenant_id: str, user_id: str) -> None:
    """\\Answered in the mirror right away; the server flag is set by the write-back."""
    query = scoped(Message, tenant_id, user_id).where(Message.id == parent_id)
    parent: Message | None = session.scalars(query).first()
    if parent is None:
        return
    flags: list[Any] = list(parent.flags or [])
    if ANSWERED.lower() not in {str(f).lower() for f in flags}:
        parent.flags = sorted({*flags, ANSWERED})
    parent.is_answered = True
