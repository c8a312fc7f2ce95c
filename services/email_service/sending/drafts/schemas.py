"""Draft API models: the body is a send's body without send_at (recipients may still be missing)."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from email_service.core.http.schemas import Absent, ParamsModel, ResponseModel
from email_service.sending.schemas import MessageFields, SendAccepted

MAX_DRAFT_LIMIT = 200


class DraftRequest(MessageFields):
    """POST creates, PUT replaces (every field; email_client_id must stay the draft's account)."""


class DraftView(ResponseModel):
    id: str
    email_client_id: str
    status: Literal["draft", "sent"]
    to: list[str]
    cc: list[str]
    bcc: list[str]
    subject: str
    body_text: str
    body_html: str | None
    attachment_ids: list[str]
    in_reply_to: str | None
    version: int = Field(description="bumped by every save")
    server_version: int | None = Field(description="the version the server's Drafts folder holds")
    message_id: str = Field(description="this version's Message-ID (ours, stable per version)")
    email_id: str | None = Field(description="the synced message that is this version, once mirrored")
    outbox_id: str | None = Field(description="the send's outbox id (= its taskId) once sent")
    created_at: AwareDatetime
    updated_at: AwareDatetime


class SavedDraft(DraftView):
    taskId: str = Field(description="the write-back that puts this version into the server's Drafts")


class DraftPageView(ResponseModel):
    items: list[DraftView]
    next_cursor: str | None


class DraftQuery(ParamsModel):
    cursor: str | Absent = Field(default=None, description="next_cursor of the previous page")
    limit: int = Field(default=50, ge=1, le=MAX_DRAFT_LIMIT)


class DraftSent(SendAccepted):
    draft_id: str
    removal_task_id: str = Field(description="the write-back that removes the draft from the server")


class DraftRemoved(ResponseModel):
    taskId: str
    status: str
