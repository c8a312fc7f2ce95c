"""A draft version as MIME: the send's composer with our Message-ID, Bcc kept, recipients optional."""

from __future__ import annotations

from sqlalchemy.orm import Session

from email_service.accounts.model import EmailAccount
from email_service.core.errors import PermanentError, ValidationFailed
from email_service.core.tenancy.scoping import scoped
from email_service.mail.imap.drafts import Version
from email_service.mail.mime.compose import InvalidAddressError, build_message
from email_service.messages.model import Message
from email_service.sending import outbox
from email_service.sending.build import compose_request
from email_service.sending.drafts.model import Draft


def draft_version(session: Session, draft: Draft, account: EmailAccount) -> Version:
    """The bytes of the draft's current version; PermanentError when they cannot be built any more."""
    request = draft.request or {}
    try:
        uploads = outbox.owned_uploads(
            session, request.get("attachment_ids") or [], draft.tenant_id, draft.user_id
        )
    except ValidationFailed:
        raise PermanentError("an attachment of the draft is no longer available") from None
    parent = _parent(session, draft, request.get("in_reply_to"))
    attachments = [(a.filename, a.content_type, a.content) for a in uploads]
    compose = compose_request(
        request,
        account,
        attachments,
        parent,
        date=draft.updated_at,
        draft=True,
        message_id=draft.message_id_header,
    )
    try:
        composed = build_message(compose)
    except InvalidAddressError as exc:
        raise PermanentError(f"cannot build the draft: {exc}") from exc
    return Version(composed.raw, composed.message_id, draft.updated_at)


def _parent(session: Session, draft: Draft, parent_id: str | None) -> Message | None:
    if not parent_id:
        return None
    query = scoped(Message, draft.tenant_id, draft.user_id).where(
        Message.id == parent_id, Message.account_id == draft.account_id
    )
    parent: Message | None = session.scalars(query).first()
    return parent
