"""Request body of POST /api/email/sync (strict: wrong types and unknown fields are a 422)."""

from __future__ import annotations

from pydantic import Field

from email_service.core.http.schemas import Id, StrictModel


class SyncRequest(StrictModel):
    email_client_id: str = Id
    folder_id: str | None = Field(default=None, min_length=1, max_length=64)
    force_full_sync: bool = False


__all__ = ["SyncRequest"]
