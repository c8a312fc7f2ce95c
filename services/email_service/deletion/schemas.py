"""Request bodies for deleting and restoring messages: strict like api/schemas.py."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from email_service.core.http.schemas import StrictModel

MAX_IDS = 1000  # one request is one task; the frontend pages larger selections
MessageId = Annotated[str, Field(min_length=1, max_length=64)]
MessageIds = Annotated[list[MessageId], Field(min_length=1, max_length=MAX_IDS)]


class DeleteRequest(StrictModel):
    email_ids: MessageIds
    permanent: bool = False


class RestoreRequest(StrictModel):
    email_ids: MessageIds


__all__ = ["MAX_IDS", "DeleteRequest", "RestoreRequest"]
