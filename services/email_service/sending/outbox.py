"""Outbox use cases for the API: validate a send, queue it idempotently, list, cancel, upload.

Validation happens here, before anything is written, so a refused request leaves nothing queued.
The outbox row and its TaskRecord share one id and one transaction (the task finds its row by id).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from email_service.accounts.service import get_account
from email_service.core.config import get_settings
from email_service.core.errors import Conflict, NotFound, PermanentError, ValidationFailed
from email_service.core.model_base import iso_or_none, new_id
from email_service.core.tasking.outcomes import record_outcome_in
from email_service.core.tasking.records import record_task
from email_service.core.tenancy.scoping import scoped
from email_service.mail.mime.compose import InvalidAddressError, parse_address_list
from email_service.messages.attachment_model import Attachment
from email_service.messages.model import Message
from email_service.sending.build import compose_queued
from email_service.sending.model import OutboxMessage
from email_service.sending.service import stored_result
from email_service.sending.uploads import check_upload_quota

CANCELLABLE = frozenset({"scheduled", "queued"})
# A scheduled send due within this long is published at once with a countdown (ids only); a later
# one waits in the database until the beat tick (every 5 minutes) releases it this far ahead.
RELEASE_AHEAD = timedelta(minutes=10)
ADDRESS_FIELDS = ("to", "cc", "bcc")


@dataclass(frozen=True)
class QueuedSend:
    """What POST /api/email/send answers; `created` is False for an idempotent replay."""

    task_id: str
    status: str
    send_at: datetime | None
    created: bool
    # Publish the task now (queued, or due within RELEASE_AHEAD); else the tick releases it.
    release: bool = False


def invalid(field: str, message: str, kind: str = "value_error") -> ValidationFailed:
    """A 422 in the same shape pydantic errors get, so clients parse one format."""
    return ValidationFailed(message, {"fields": [{"field": field, "message": message, "type": kind}]})


def count_recipients(request: dict[str, Any], required: bool = True) -> int:
    """Validate every address field (422 names the field) and return the distinct recipient count.

    A draft may have none yet (required=False); a send needs one.
    """
    seen: set[str] = set()
    for name in ADDRESS_FIELDS:
        try:
            pairs = parse_address_list(request.get(name) or [], name)
        except InvalidAddressError as exc:
            raise invalid(exc.field, str(exc), "invalid_address") from None
        seen.update(addr.lower() for _name, addr in pairs)
    if not seen and required:
        raise invalid("to", "at least one recipient (to, cc or bcc) is required", "no_recipients")
    limit = get_settings().max_recipients
    if len(seen) > limit:
        raise invalid("to", f"too many recipients: {len(seen)} > {limit}", "too_many_recipients")
    return len(seen)


def owned_uploads(session: Session, ids: Sequence[str], tenant_id: str, user_id: str) -> list[Attachment]:
    """The caller's uploads in request order; anyone else's id is reported exactly like a missing one."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return []
    query = scoped(Attachment, tenant_id, user_id).where(
        Attachment.id.in_(wanted), Attachment.is_upload.is_(True)
    )
    found = {a.id: a for a in session.scalars(query)}
    missing = [i for i in wanted if i not in found]
    if missing:
        raise ValidationFailed(
            "unknown attachment ids",
            {
                "fields": [{"field": "attachment_ids", "message": "not found", "type": "not_found"}],
                "ids": missing,
            },
        )
    return [found[i] for i in wanted]


def check_size(request: dict[str, Any], attachments: Sequence[Attachment]) -> None:
    """Bodies plus attachments (before transfer encoding) must fit the configured message limit."""
    total = sum(a.size for a in attachments)
    total += len((request.get("body_text") or "").encode()) + len((request.get("body_html") or "").encode())
    limit = get_settings().max_message_bytes
    if total > limit:
        raise invalid("attachment_ids", f"message too large: {total} > {limit} bytes", "too_large")


def check_parent(session: Session, request: dict[str, Any], tenant_id: str, user_id: str) -> None:
    """in_reply_to must be a live message of the same account of the caller."""
    parent_id = request.get("in_reply_to")
    if not parent_id:
        return
    query = scoped(Message, tenant_id, user_id).where(Message.id == parent_id, Message.deleted_at.is_(None))
    parent = session.scalars(query).first()
    if parent is None or parent.account_id != request["email_client_id"]:
        raise invalid("in_reply_to", "unknown message", "not_found")


def check_send_at(request: dict[str, Any]) -> None:
    """A send may be scheduled up to SEND_AT_HORIZON_DAYS ahead (default one year)."""
    send_at = _parse_send_at(request.get("send_at"))
    days = get_settings().send_at_horizon_days
    if send_at is not None and send_at > datetime.now(UTC) + timedelta(days=days):
        raise invalid("send_at", f"send_at may be at most {days} days ahead", "send_at_too_far")


def validate_send(session: Session, request: dict[str, Any], tenant_id: str, user_id: str) -> None:
    """Everything the API can know before queueing; raises NotFound / ValidationFailed."""
    get_account(session, request["email_client_id"], tenant_id, user_id)
    count_recipients(request)
    check_send_at(request)
    uploads = owned_uploads(session, request.get("attachment_ids") or [], tenant_id, user_id)
    check_size(request, uploads)
    check_parent(session, request, tenant_id, user_id)


def find_replay(
    session: Session, tenant_id: str, user_id: str, key: str | None, request: dict[str, Any]
) -> QueuedSend | None:
    """Same Idempotency-Key: the first send's id; the same key with another body is a 409."""
    if not key:
        return None
    query = scoped(OutboxMessage, tenant_id, user_id).where(OutboxMessage.idempotency_key == key)
    row: OutboxMessage | None = session.scalars(query).first()
    if row is None:
        return None
    if row.request != request:
        raise Conflict("Idempotency-Key was already used with a different request", {"key": key})
    return QueuedSend(row.id, row.status, row.send_at, created=False)


def queue_send(
    session: Session, tenant_id: str, user_id: str, request: dict[str, Any], key: str | None
) -> QueuedSend:
    """Write the outbox row and the TaskRecord (same id) in the caller's transaction."""
    send_at = _parse_send_at(request.get("send_at"))
    now = datetime.now(UTC)
    status = "scheduled" if send_at and send_at > now else "queued"
    release = status == "queued" or (send_at is not None and send_at <= now + RELEASE_AHEAD)
    row = OutboxMessage(
        id=new_id(),
        tenant_id=tenant_id,
        user_id=user_id,
        account_id=request["email_client_id"],
        status=status,
        idempotency_key=key,
        request=request,
        send_at=send_at,
        released_at=now if release else None,
    )
    if status == "queued":  # a scheduled send gets its Date (and MIME) when it goes out
        _compose(session, row, tenant_id, user_id)
    session.add(row)
    session.flush()
    record_task(
        session,
        tenant_id,
        user_id,
        "send_email",
        account_id=row.account_id,
        task_id=row.id,
        idempotency_key=key,
    )
    return QueuedSend(row.id, status, send_at, created=True, release=release)


def _compose(session: Session, row: OutboxMessage, tenant_id: str, user_id: str) -> None:
    account = get_account(session, row.account_id, tenant_id, user_id)  # already loaded by validate_send
    try:
        compose_queued(session, row, account)
    except PermanentError as exc:
        raise invalid("to", str(exc)) from None


def _parse_send_at(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value).astimezone(UTC) if value else None


def discard(session: Session, outbox_id: str) -> None:
    """Forget a row whose task could not be published, so the key can be used again."""
    row = session.get(OutboxMessage, outbox_id)
    if row is not None:
        session.delete(row)


def cancel(session: Session, outbox_id: str, tenant_id: str, user_id: str) -> OutboxMessage:
    """scheduled/queued → cancelled under a row lock; the task then finds it cancelled and does nothing."""
    query = scoped(OutboxMessage, tenant_id, user_id).where(OutboxMessage.id == outbox_id).with_for_update()
    row: OutboxMessage | None = session.scalars(query).first()
    if row is None:
        raise NotFound("OutboxMessage not found", {"id": outbox_id})
    if row.status == "cancelled":
        return row
    if row.status not in CANCELLABLE:
        raise Conflict(f"cannot cancel a message that is {row.status}", {"status": row.status})
    row.status = "cancelled"
    session.flush()
    if row.released_at is None:  # never published: no task will run to answer, so answer here
        record_outcome_in(session, tenant_id, row.id, "success", stored_result(row))
    return row


def list_outbox(
    session: Session, tenant_id: str, user_id: str, status: str | None = None, limit: int = 50
) -> list[OutboxMessage]:
    """The caller's sends, newest first."""
    query = scoped(OutboxMessage, tenant_id, user_id)
    if status:
        query = query.where(OutboxMessage.status == status)
    query = query.order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc()).limit(limit)
    return list(session.scalars(query))


def outbox_view(row: OutboxMessage) -> dict[str, Any]:
    """The API's picture of a send: the request, state, timestamps and outcome, never the MIME bytes."""
    request = row.request or {}
    return {
        "id": row.id,
        "account_id": row.account_id,
        "status": row.status,
        "to": request.get("to") or [],
        "cc": request.get("cc") or [],
        "bcc": request.get("bcc") or [],
        "subject": request.get("subject") or "",
        "attachment_ids": request.get("attachment_ids") or [],
        "in_reply_to": request.get("in_reply_to"),
        "message_id": row.message_id_header,
        "send_at": iso_or_none(row.send_at),
        "sent_at": iso_or_none(row.sent_at),
        "created_at": iso_or_none(row.created_at),
        "attempts": row.attempts,
        "result": {k: v for k, v in (row.result or {}).items() if k != "envelope"},
        "error": row.error,
    }


def store_upload(
    session: Session, tenant_id: str, user_id: str, filename: str, content_type: str, data: bytes
) -> Attachment:
    """Keep an upload for a later send; it has no message until (and unless) it is sent."""
    limit = get_settings().max_message_bytes
    if len(data) > limit:
        raise invalid("file", f"file too large: {len(data)} > {limit} bytes", "too_large")
    check_upload_quota(session, tenant_id, user_id, len(data))
    attachment = Attachment(
        tenant_id=tenant_id,
        user_id=user_id,
        message_id=None,
        filename=filename[:500],
        content_type=content_type[:255] or "application/octet-stream",
        size=len(data),
        is_upload=True,
        content=data,
    )
    session.add(attachment)
    session.flush()
    return attachment


def upload_view(attachment: Attachment) -> dict[str, Any]:
    return {
        "id": attachment.id,
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
    }


__all__ = [
    "QueuedSend",
    "cancel",
    "discard",
    "find_replay",
    "list_outbox",
    "outbox_view",
    "queue_send",
    "store_upload",
    "upload_view",
    "validate_send",
]
