"""The sending API's use cases: queue a send exactly once, the outbox, uploads."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError

from email_service.core.db import session_scope
from email_service.core.errors import BadRequest
from email_service.core.tasking.start import publish_recorded
from email_service.core.tenancy.tokens import Identity
from email_service.sending import outbox
from email_service.sending.recovery import send_task_kwargs


def submit_send(caller: Identity, data: dict[str, Any], key: str | None) -> outbox.QueuedSend:
    """A replay answers the first request's task; a new send is committed, then published."""
    queued = _queue(caller, data, key)
    if queued.created and queued.release:
        # Ids only: the message lives in the outbox row. A scheduled send is published here only
        # when due within RELEASE_AHEAD (a short eta); a later one waits for the tick.
        options = {"eta": queued.send_at} if queued.status == "scheduled" else {}
        # A broker outage removes the row again, so the key can be used on the next try.
        publish_recorded(
            caller,
            "send_email",
            queued.task_id,
            send_task_kwargs(data["email_client_id"]),
            undo=lambda session: outbox.discard(session, queued.task_id),
            **options,
        )
    return queued


def _queue(caller: Identity, data: dict[str, Any], key: str | None) -> outbox.QueuedSend:
    """Replay, or validate and write row + TaskRecord in one transaction (a racing twin is a replay)."""
    tenant_id, user_id = caller.tenant_id, caller.user_id
    try:
        with session_scope(tenant_id) as session:
            replay = outbox.find_replay(session, tenant_id, user_id, key, data)
            if replay is not None:
                return replay
            outbox.validate_send(session, data, tenant_id, user_id)
            return outbox.queue_send(session, tenant_id, user_id, data, key)
    except IntegrityError:
        if key is None:
            raise
    with session_scope(tenant_id) as session:
        replay = outbox.find_replay(session, tenant_id, user_id, key, data)
    if replay is None:
        raise BadRequest("could not queue the message, try again")
    return replay


def outbox_items(caller: Identity, status: str | None, limit: int) -> list[dict[str, Any]]:
    with session_scope(caller.tenant_id) as session:
        rows = outbox.list_outbox(session, caller.tenant_id, caller.user_id, status, limit)
        return [outbox.outbox_view(row) for row in rows]


def cancel_outbox(caller: Identity, outbox_id: str) -> dict[str, Any]:
    with session_scope(caller.tenant_id) as session:
        return outbox.outbox_view(outbox.cancel(session, outbox_id, caller.tenant_id, caller.user_id))


def upload(caller: Identity, filename: str, media_type: str, data: bytes) -> dict[str, Any]:
    with session_scope(caller.tenant_id) as session:
        attachment = outbox.store_upload(
            session, caller.tenant_id, caller.user_id, filename, media_type, data
        )
        return outbox.upload_view(attachment)
