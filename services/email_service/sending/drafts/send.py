"""POST /api/email/drafts/<id>/send: the draft goes through the outbox exactly like /api/email/send.

The send request is built from the draft and handed to the send use case (same validation, limits
and task), keyed by the draft so a repeated or racing send finds the first outbox row instead of
queueing a second. The draft is then marked sent (a later send: 409) and its server copy removed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from email_service.core.db import session_scope
from email_service.core.errors import Conflict
from email_service.core.model_base import new_id
from email_service.core.tasking.start import start_task
from email_service.core.tenancy.tokens import Identity
from email_service.deletion.store import Owner
from email_service.messages.actions import log
from email_service.sending import use_cases as sending
from email_service.sending.drafts import store
from email_service.sending.drafts.model import DRAFT, SENT
from email_service.sending.drafts.writeback import DRAFT_DELETE, log_action
from email_service.sending.schemas import SendRequest


def send_key(draft_id: str) -> str:
    """The outbox Idempotency-Key of a draft's send: one outbox row per draft, ever."""
    return f"draft:{draft_id}"


def send_request(caller: Identity, draft_id: str) -> dict[str, Any]:
    """The draft as the body /api/email/send would have received (validated by the same model)."""
    with session_scope(caller.tenant_id) as session:
        draft = store.editable(session, draft_id, caller.tenant_id, caller.user_id)
        body = {
            "email_client_id": draft.account_id,
            **{k: v for k, v in draft.request.items() if v is not None},
        }
    data = SendRequest.model_validate(body).model_dump(mode="json")
    data["send_at"] = None
    return data


def send_draft(caller: Identity, draft_id: str) -> dict[str, Any]:
    """202 body: the send's taskId and status, and the task that removes the server's copy."""
    data = send_request(caller, draft_id)
    queued = sending.submit_send(caller, data, send_key(draft_id))
    batch_id = new_id()

    def prepare(session: Session) -> None:
        draft = store.editable(session, draft_id, caller.tenant_id, caller.user_id)
        if draft.outbox_id not in (None, queued.task_id):
            raise Conflict("the draft was already sent", {"id": draft_id, "outbox_id": draft.outbox_id})
        draft.status, draft.outbox_id = SENT, queued.task_id
        log_action(session, draft, batch_id, DRAFT_DELETE)

    def undo(session: Session, _: None) -> None:
        log.drop_batch(session, Owner(caller.tenant_id, caller.user_id), batch_id)
        draft = store.owned(session, draft_id, caller.tenant_id, caller.user_id)
        draft.status, draft.outbox_id = DRAFT, None  # a retry finds the same outbox row and ends here

    account_id = data["email_client_id"]
    removal = start_task(caller, "draft_action", {"batch_id": batch_id}, account_id, prepare, undo)
    return {
        "taskId": queued.task_id,
        "status": queued.status,
        "draft_id": draft_id,
        "removal_task_id": removal,
    }
