"""Score stored messages and learn from a user's "spam / not spam" feedback.

Plain functions over a session: the task and the API call these; nothing here knows Celery or Flask.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from email_service.core.db import session_scope
from email_service.core.tenancy.scoping import get_owned, scoped
from email_service.messages.attachment_model import Attachment
from email_service.messages.folder_model import Folder
from email_service.messages.labels import GMAIL_INBOX, label_condition
from email_service.messages.model import Message
from email_service.spam.model import verdict
from email_service.spam.stored import StoredMessage, analyse_stored
from email_service.spam.user_model import UserWeights, update_weights
from email_service.spam.user_model_row import UserSpamModel
from email_service.spam.verdicts import stored_verdict
from email_service.spam.view import AttachmentInfo


def _attachments(session: Session, message_ids: Sequence[str]) -> dict[str, list[AttachmentInfo]]:
    """Attachment metadata per message, one query for the whole batch (no content loaded)."""
    rows = session.execute(
        select(Attachment.message_id, Attachment.filename, Attachment.content_type, Attachment.size).where(
            Attachment.message_id.in_(message_ids)
        )
    )
    found: dict[str, list[AttachmentInfo]] = {}
    for message_id, filename, content_type, size in rows:
        found.setdefault(str(message_id), []).append(
            AttachmentInfo(filename or "", content_type.lower(), size)
        )
    return found


def stored_message(message: Message, attachments: Sequence[AttachmentInfo] = ()) -> StoredMessage:
    """Copy the columns the scorer reads out of the ORM row."""
    return StoredMessage(
        subject=message.subject or "",
        body_text=message.body_text or "",
        body_html=message.body_html,
        from_name=message.from_name or "",
        from_address=message.from_address or "",
        reply_to=tuple(str(a.get("email", "")) for a in message.reply_to or [] if isinstance(a, dict)),
        message_id=message.message_id_header or "",
        headers=dict(message.headers or {}),
        attachments=tuple(attachments),
        raw=message.raw,
    )


def _user_row(session: Session, tenant_id: str, user_id: str) -> UserSpamModel | None:
    return session.scalars(scoped(UserSpamModel, tenant_id, user_id)).first()


def user_weights(session: Session, tenant_id: str, user_id: str) -> UserWeights | None:
    """The user's own model, or None when the user has never given feedback."""
    row = _user_row(session, tenant_id, user_id)
    return UserWeights.from_bytes(row.weights) if row is not None and row.weights else None


def _result(message: Message) -> dict[str, Any]:
    return {
        "email_id": message.id,
        "is_spam": bool(message.is_spam),
        "spam_score": message.spam_score,
        "verdict": stored_verdict(message.is_spam, message.spam_score),
        "indicators": list(message.spam_indicators or []),
    }


def score_stored_messages(
    session: Session, message_ids: Sequence[str], tenant_id: str, user_id: str
) -> list[dict[str, Any]]:
    """Score and store the caller's messages among message_ids; other owners' ids are ignored."""
    ids = list(dict.fromkeys(str(i) for i in message_ids))
    if not ids:
        return []
    messages = session.scalars(scoped(Message, tenant_id, user_id).where(Message.id.in_(ids))).all()
    attachments = _attachments(session, [m.id for m in messages])
    personal = user_weights(session, tenant_id, user_id)
    now = datetime.now(UTC)
    for message in messages:
        result = verdict(analyse_stored(stored_message(message, attachments.get(message.id, []))), personal)
        message.spam_score = result.spam_score
        message.is_spam = result.is_spam
        message.spam_indicators = list(result.indicators)
        message.spam_checked_at = now
    session.flush()
    return [_result(m) for m in messages]


def record_feedback(
    session: Session, message_id: str, tenant_id: str, user_id: str, is_spam: bool
) -> dict[str, Any]:
    """One label into the user's own model (created on first use); the message takes the label."""
    message = get_owned(session, Message, message_id, tenant_id, user_id)
    attachments = _attachments(session, [message.id]).get(message.id, [])
    features = analyse_stored(stored_message(message, attachments)).features
    row = _user_row(session, tenant_id, user_id)
    if row is None:
        row = UserSpamModel(tenant_id=tenant_id, user_id=user_id, spam_labels=0, ham_labels=0)
        session.add(row)
    state = update_weights(UserWeights.from_bytes(row.weights), features, is_spam)
    row.weights = state.to_bytes()
    row.spam_labels, row.ham_labels = state.n_spam, state.n_ham
    message.is_spam = is_spam
    message.spam_score = 1.0 if is_spam else 0.0  # the user's label is certain; the verdict follows it
    message.spam_checked_at = datetime.now(UTC)
    session.flush()
    return {
        "email_id": message.id,
        "is_spam": is_spam,
        "spam_labels": state.n_spam,
        "ham_labels": state.n_ham,
        "user_model_active": state.is_active,
    }


def unscored_inbox_ids(tenant_id: str, user_id: str, account_id: str, limit: int = 5000) -> list[str]:
    """New INBOX mail still waiting for a verdict, newest first; a missed batch is picked up next sync.

    On Gmail the rows live in All Mail: INBOX mail there is the rows labelled \\Inbox (other servers
    keep no rows in a \\All folder)."""
    with session_scope(tenant_id) as session:
        folders = scoped(Folder, tenant_id, user_id).where(Folder.account_id == account_id)
        inbox = folders.where(Folder.role == "inbox").with_only_columns(Folder.id).scalar_subquery()
        all_mail = folders.where(Folder.role == "all").with_only_columns(Folder.id).scalar_subquery()
        in_inbox = or_(
            Message.folder_id.in_(inbox),
            and_(Message.folder_id.in_(all_mail), label_condition(session, GMAIL_INBOX)),
        )
        query = (
            select(Message.id)
            .where(
                Message.tenant_id == tenant_id,
                Message.user_id == user_id,
                Message.account_id == account_id,
                in_inbox,
                Message.spam_checked_at.is_(None),
                Message.deleted_at.is_(None),
            )
            .order_by(Message.date_sort.desc())
            .limit(limit)
        )
        return list(session.scalars(query))
