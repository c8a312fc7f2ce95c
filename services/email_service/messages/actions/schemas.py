"""Request bodies of the write-back routes: strict like every other body."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from email_service.core.http.schemas import Absent, ResponseModel, StrictModel
from email_service.deletion.schemas import MessageIds
from email_service.messages.schemas import MessageDetail

Flag = Annotated[str, Field(min_length=1, max_length=64)]
Flags = Annotated[list[Flag], Field(max_length=20)]
FolderName = Annotated[str, Field(min_length=1, max_length=200)]


class MessageUpdate(StrictModel):
    is_read: bool | Absent = None
    is_flagged: bool | Absent = None
    add_keywords: Flags = Field(default_factory=list)
    remove_keywords: Flags = Field(default_factory=list)


class FlagsRequest(StrictModel):
    email_ids: MessageIds
    add: Flags = Field(default_factory=list)
    remove: Flags = Field(default_factory=list)


class MoveRequest(StrictModel):
    email_ids: MessageIds
    folder_id: Annotated[str, Field(min_length=1, max_length=64)]


class FolderCreate(StrictModel):
    name: FolderName
    parent_id: Annotated[str, Field(min_length=1, max_length=64)] | Absent = None


class FolderUpdate(StrictModel):
    name: FolderName


class PatchedMessage(MessageDetail):
    taskId: str


__all__ = [
    "FlagsRequest",
    "FolderAccepted",
    "FolderCreate",
    "FolderUpdate",
    "MessageUpdate",
    "MoveRequest",
    "PatchedMessage",
]


class FolderAccepted(ResponseModel):
    taskId: str
    status: str
    folder_id: str
