"""What the write-back routes do: each request changes rows and logs actions in one transaction, then
its task is published (core/tasking/start.py); when the queue is down both are undone (503)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from email_service.core.tenancy.tokens import Identity
from email_service.messages import use_cases as read
from email_service.messages.actions import flags, folders, move


def patch_message(
    caller: Identity,
    message_id: str,
    is_read: bool | None,
    is_flagged: bool | None,
    add_keywords: Sequence[str],
    remove_keywords: Sequence[str],
) -> dict[str, Any]:
    """The message view with the new flags, plus the write-back's taskId."""
    read.message_view(caller, message_id)  # someone else's or unknown: 404 before any 422
    add, remove = flags.patch_change(is_read, is_flagged, add_keywords, remove_keywords)
    task_id = flags.request_flags(caller, [message_id], add, remove)
    return {**read.message_view(caller, message_id), "taskId": task_id}


def change_flags(
    caller: Identity, email_ids: Sequence[str], add: Sequence[str], remove: Sequence[str]
) -> str:
    adds, removes = flags.flag_change(add, remove)
    return flags.request_flags(caller, email_ids, adds, removes)


def move_messages(caller: Identity, email_ids: Sequence[str], folder_id: str) -> str:
    return move.request_move(caller, email_ids, folder_id)


def create_folder(caller: Identity, account_id: str, name: str, parent_id: str | None) -> tuple[str, str]:
    return folders.request_create(caller, account_id, name, parent_id)


def rename_folder(caller: Identity, account_id: str, folder_id: str, name: str) -> str:
    return folders.request_rename(caller, account_id, folder_id, name)


def delete_folder(caller: Identity, account_id: str, folder_id: str) -> str:
    return folders.request_delete(caller, account_id, folder_id)
