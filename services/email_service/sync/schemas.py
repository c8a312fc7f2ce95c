"""Request body of POST /api/email/sync (strict: wrong types and unknown fields are a 422)."""

from __future__ import annotations

from pydantic import Field, model_validator

from email_service.core.http.schemas import StrictModel


class SyncRequest(StrictModel):
    """Without email_client_id: every enabled account of the caller, as one group (one taskId)."""

    email_client_id: str | None = Field(default=None, min_length=1, max_length=64)
    folder_id: str | None = Field(default=None, min_length=1, max_length=64)
    force_full_sync: bool = False

    @model_validator(mode="after")
    def _folder_needs_account(self) -> SyncRequest:
        if self.folder_id is not None and self.email_client_id is None:
            raise ValueError("folder_id needs email_client_id")
        return self


__all__ = ["SyncRequest"]
