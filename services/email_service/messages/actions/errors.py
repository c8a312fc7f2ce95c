"""What a write-back task fails with: the server refused for good (the local change was reverted)."""

from __future__ import annotations

from email_service.core.errors import PermanentError


class ActionFailed(PermanentError):
    """The message is the reason, as the task API's error shows it."""
