"""The response models' enumerations are the stored values (a new state must reach the spec too)."""

from __future__ import annotations

from typing import get_args

from email_service.accounts.model import ACCOUNT_STATES, SECURITY_MODES
from email_service.accounts.schemas import AccountState, FolderRole, Security
from email_service.core.tasking.schemas import TaskState
from email_service.core.tasking.status import STATE_NAMES
from email_service.messages.folder_model import FOLDER_ROLES
from email_service.sending.model import OUTBOX_STATES
from email_service.sending.schemas import OutboxState


def test_literals_are_the_stored_values() -> None:
    assert get_args(AccountState) == ACCOUNT_STATES
    assert get_args(Security) == SECURITY_MODES
    assert get_args(FolderRole) == FOLDER_ROLES
    assert get_args(OutboxState) == OUTBOX_STATES
    assert set(get_args(TaskState)) == set(STATE_NAMES.values())
