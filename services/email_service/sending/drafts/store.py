"""DB side of drafts: validate, write a version, read one or a page, and the API's view of a draft.

Validation reuses the outbox's checks (addresses, uploads, size, parent), except that a draft may
have no recipient yet; every statement is scoped to the caller's tenant and user.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from email_service.accounts.service import get_account
from email_service.core.errors import Conflict, NotFound
from email_service.core.model_base import iso_or_none, new_id
from email_service.core.tenancy.scoping import scoped
from email_service.mail.mime.addresses import normalize_msgid
from email_service.messages.model import Message
from email_service.messages.service import Cursor, decode_cursor, encode_cursor
from email_service.sending import outbox
from email_service.sending.drafts.model import DRAFT, Draft

FIELDS = ("to", "cc", "bcc", "subject", "body_text", "body_html", "attachment_ids", "in_reply_to")


@dataclass(frozen=True)
class DraftPage:
    items: list[dict[str, Any]]
    next_cursor: str | None


def family(draft_id: str) -> str:
    """The Message-ID part every version of one draft shares (IMAP SEARCH HEADER is a substring match)."""
    return f"<draft.{draft_id}."


def version_message_id(draft_id: str, version: int, address: str) -> str:
    domain = address.rsplit("@", 1)[-1] or "localhost"
    return f"{family(draft_id)}{version}@{domain}>"


def validate(session: Session, request: dict[str, Any], tenant_id: str, user_id: str) -> None:
    """What a send checks, recipients optional: 404 for a stranger's account, else 422 naming the field."""
    get_account(session, request["email_client_id"], tenant_id, user_id)
    outbox.count_recipients(request, required=False)
    uploads = outbox.owned_uploads(session, request.get("attachment_ids") or [], tenant_id, user_id)
    outbox.check_size(request, uploads)
    outbox.check_parent(session, request, tenant_id, user_id)


def create(session: Session, tenant_id: str, user_id: str, request: dict[str, Any]) -> Draft:
    validate(session, request, tenant_id, user_id)
    account = get_account(session, request["email_client_id"], tenant_id, user_id)
    draft_id = new_id()
    draft = Draft(
        id=draft_id,
        tenant_id=tenant_id,
        user_id=user_id,
        account_id=account.id,
        status=DRAFT,
        version=1,
        request={k: request.get(k) for k in FIELDS},
        message_id_header=version_message_id(draft_id, 1, account.email_address),
    )
    session.add(draft)
    session.flush()
    return draft


def owned(session: Session, draft_id: str, tenant_id: str, user_id: str, lock: bool = False) -> Draft:
    query = scoped(Draft, tenant_id, user_id).where(Draft.id == draft_id)
    if lock:
        query = query.with_for_update()
    draft: Draft | None = session.scalars(query).first()
    if draft is None:
        raise NotFound("Draft not found", {"id": draft_id})
    return draft


def editable(session: Session, draft_id: str, tenant_id: str, user_id: str) -> Draft:
    """The caller's draft, locked, still unsent (a sent one: 409)."""
    draft = owned(session, draft_id, tenant_id, user_id, lock=True)
    if draft.status != DRAFT:
        raise Conflict("the draft was already sent", {"id": draft.id, "outbox_id": draft.outbox_id})
    return draft


def replace(session: Session, draft: Draft, request: dict[str, Any]) -> Draft:
    """A new version: the fields, the version number and its own Message-ID."""
    if request["email_client_id"] != draft.account_id:
        raise outbox.invalid("email_client_id", "a draft stays with its account", "account_changed")
    validate(session, request, draft.tenant_id, draft.user_id)
    account = get_account(session, draft.account_id, draft.tenant_id, draft.user_id)
    draft.version += 1
    draft.request = {k: request.get(k) for k in FIELDS}
    draft.message_id_header = version_message_id(draft.id, draft.version, account.email_address)
    session.flush()
    return draft


def page(session: Session, tenant_id: str, user_id: str, cursor: str | None, limit: int) -> DraftPage:
    """Unsent drafts, most recently saved first, keyset-paginated on (updated_at, id)."""
    query = scoped(Draft, tenant_id, user_id).where(Draft.status == DRAFT)
    if cursor is not None:
        position = decode_cursor(cursor)
        query = query.where(tuple_(Draft.updated_at, Draft.id) < tuple_(position.date_sort, position.id))
    rows = list(session.scalars(query.order_by(Draft.updated_at.desc(), Draft.id.desc()).limit(limit + 1)))
    more, rows = len(rows) > limit, rows[:limit]
    mirrored = mirror_ids(session, rows)
    items = [view(row, mirrored.get(mirror_key(row))) for row in rows]
    next_cursor = encode_cursor(Cursor(rows[-1].updated_at, rows[-1].id)) if more else None
    return DraftPage(items, next_cursor)


def mirror_ids(session: Session, drafts: list[Draft]) -> dict[str, str]:
    """{Message-ID: message id} of the synced copies of these versions: the sync mirrors the Drafts
    folder as messages, and this is how a client recognises which message is which draft."""
    headers = [mirror_key(d) for d in drafts]
    if not headers:
        return {}
    owner = drafts[0]
    query = select(Message.message_id_header, Message.id).where(
        Message.tenant_id == owner.tenant_id,
        Message.user_id == owner.user_id,
        Message.message_id_header.in_(headers),
        Message.deleted_at.is_(None),
    )
    return {str(h): str(i) for h, i in session.execute(query)}


def mirror_key(draft: Draft) -> str:
    """The Message-ID as the sync stores it (no brackets, lower case)."""
    return normalize_msgid(draft.message_id_header) or draft.message_id_header


def view(draft: Draft, email_id: str | None = None) -> dict[str, Any]:
    request = draft.request or {}
    return {
        "id": draft.id,
        "email_client_id": draft.account_id,
        "status": draft.status,
        "to": request.get("to") or [],
        "cc": request.get("cc") or [],
        "bcc": request.get("bcc") or [],
        "subject": request.get("subject") or "",
        "body_text": request.get("body_text") or "",
        "body_html": request.get("body_html"),
        "attachment_ids": request.get("attachment_ids") or [],
        "in_reply_to": request.get("in_reply_to"),
        "version": draft.version,
        "server_version": draft.server_version,
        "message_id": draft.message_id_header,
        "email_id": email_id,
        "outbox_id": draft.outbox_id,
        "created_at": iso_or_none(draft.created_at),
        "updated_at": iso_or_none(draft.updated_at),
    }


def full_view(session: Session, draft: Draft) -> dict[str, Any]:
    return view(draft, mirror_ids(session, [draft]).get(mirror_key(draft)))
