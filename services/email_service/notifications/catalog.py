"""The notification catalogue: which mails exist, when each is sent and who may switch it off."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True)
class TemplateSpec:
    """Subject (a Jinja string), the outcomes that trigger the mail, and how toggles apply."""

    subject: str
    on_success: bool
    on_failure: bool
    primary_link: str = "task_url"
    opt_in: bool = False  # off unless User.settings["notifications"][key] is true
    switchable: bool = True  # tenant and user toggles apply (the explicit test mail ignores them)


class EmailTemplate(StrEnum):
    """One value per template pair in templates/ (<value>.html and <value>.txt); also the toggle key."""

    TASK_COMPLETION = "task_completion"
    SEND_FAILED = "send_failed"
    ACCOUNT_AUTH_FAILED = "account_auth_failed"
    SYNC_SUMMARY = "sync_summary"
    TEST_MESSAGE = "test_message"
    WEBHOOK_DISABLED = "webhook_disabled"

    @property
    def event_key(self) -> str:
        return self.value

    @property
    def spec(self) -> TemplateSpec:
        return SPECS[self]


SPECS: dict[EmailTemplate, TemplateSpec] = {
    EmailTemplate.TASK_COMPLETION: TemplateSpec(
        subject="{{ task_label }} {{ 'completed' if status == 'success' else 'failed' }}",
        on_success=True,
        on_failure=True,
        opt_in=True,  # e.g. the one summary of a sync of all accounts: only for users who asked
    ),
    EmailTemplate.SEND_FAILED: TemplateSpec(
        subject="Not delivered: {{ message_subject or '(no subject)' }}",
        on_success=False,
        on_failure=True,
        primary_link="outbox_url",
    ),
    EmailTemplate.ACCOUNT_AUTH_FAILED: TemplateSpec(
        subject="Sign-in failed for {{ account_email or 'your mail account' }}",
        on_success=False,
        on_failure=True,
        primary_link="account_url",
    ),
    EmailTemplate.SYNC_SUMMARY: TemplateSpec(
        subject="{{ messages_new }} new message{{ '' if messages_new == 1 else 's' }}"
        "{% if account_email %} in {{ account_email }}{% endif %}",
        on_success=True,
        on_failure=False,
        primary_link="account_url",
        opt_in=True,
    ),
    EmailTemplate.WEBHOOK_DISABLED: TemplateSpec(
        subject="Webhook disabled after repeated delivery failures",
        on_success=False,
        on_failure=True,
        primary_link="frontend_url",
    ),
    EmailTemplate.TEST_MESSAGE: TemplateSpec(
        subject="Test notification from email_service",
        on_success=True,
        on_failure=False,
        primary_link="frontend_url",
        switchable=False,
    ),
}
