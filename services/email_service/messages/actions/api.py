"""Write-back routes: PATCH a message, POST flags and move, folder create / rename / delete.

Each answers at once with the local change made (rows, folder list) and the id of the task that makes
it on the server; GET /api/tasks/<id> tells how it ended (a failure reverts the change and says why).
"""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from email_service.core.http.apidoc import documented
from email_service.core.http.auth import current_caller
from email_service.core.http.body import parse_body
from email_service.core.tasking.schemas import TaskAccepted
from email_service.messages.actions import use_cases
from email_service.messages.actions.schemas import (
    FlagsRequest,
    FolderAccepted,
    FolderCreate,
    FolderUpdate,
    MessageUpdate,
    MoveRequest,
    PatchedMessage,
)

bp = Blueprint("actions", __name__, url_prefix="/api")


def _accepted(task_id: str, **extra: str) -> ResponseReturnValue:
    return jsonify({"taskId": task_id, "status": "pending", **extra}), 202


@bp.patch("/email/messages/<message_id>")
@documented(200, PatchedMessage, 404, 409, 422, tag="actions", json=MessageUpdate)
def patch_message(message_id: str) -> ResponseReturnValue:
    """Mark read / unread, flag / unflag, add or remove keywords: the view shows them at once.

    `taskId` is the write-back (STORE); if the server refuses, the change is taken back.
    """
    body = parse_body(MessageUpdate)
    view = use_cases.patch_message(
        current_caller(), message_id, body.is_read, body.is_flagged, body.add_keywords, body.remove_keywords
    )
    return jsonify(view)


@bp.post("/email/flags")
@documented(202, TaskAccepted, 404, 409, 422, tag="actions", json=FlagsRequest)
def flags() -> ResponseReturnValue:
    """Add / remove \\\\Seen, \\\\Flagged, \\\\Answered or keywords; listings reflect it at once."""
    body = parse_body(FlagsRequest)
    return _accepted(use_cases.change_flags(current_caller(), body.email_ids, body.add, body.remove))


@bp.post("/email/move")
@documented(202, TaskAccepted, 404, 409, 422, tag="actions", json=MoveRequest)
def move() -> ResponseReturnValue:
    """Move messages to a folder of their account: rows show it at once, then carry their new UIDs."""
    body = parse_body(MoveRequest)
    return _accepted(use_cases.move_messages(current_caller(), body.email_ids, body.folder_id))


@bp.post("/accounts/<account_id>/folders")
@documented(202, FolderAccepted, 404, 409, 422, tag="actions", json=FolderCreate)
def create_folder(account_id: str) -> ResponseReturnValue:
    """Create a folder (under parent_id, joined with the server's delimiter); it lists at once."""
    body = parse_body(FolderCreate)
    task_id, folder_id = use_cases.create_folder(current_caller(), account_id, body.name, body.parent_id)
    return _accepted(task_id, folder_id=folder_id)


@bp.patch("/accounts/<account_id>/folders/<folder_id>")
@documented(202, FolderAccepted, 404, 409, 422, tag="actions", json=FolderUpdate)
def rename_folder(account_id: str, folder_id: str) -> ResponseReturnValue:
    """Rename a folder (its children follow); INBOX and role folders: 409."""
    body = parse_body(FolderUpdate)
    task_id = use_cases.rename_folder(current_caller(), account_id, folder_id, body.name)
    return _accepted(task_id, folder_id=folder_id)


@bp.delete("/accounts/<account_id>/folders/<folder_id>")
@documented(202, FolderAccepted, 404, 409, tag="actions")
def delete_folder(account_id: str, folder_id: str) -> ResponseReturnValue:
    """Delete a folder with its children and messages; INBOX and role folders: 409."""
    task_id = use_cases.delete_folder(current_caller(), account_id, folder_id)
    return _accepted(task_id, folder_id=folder_id)
