"""Pure notification logic: address rules, toggles, the safe result subset, links and rendering."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser

import pytest

from email_service.core.config import Settings, load_settings
from email_service.notifications import EmailTemplate, RenderedMail, render_notification
from email_service.notifications.mailer import build_message, relay_settings
from email_service.notifications.render import render_subject
from email_service.notifications.rules import (
    event_enabled,
    frontend_links,
    is_undeliverable,
    safe_result,
    task_label,
)


def dev_settings(env: dict[str, str]) -> Settings:
    return load_settings({"APP_ENV": "development", **env})


PATTERNS = dev_settings({}).notification_skip_patterns


@pytest.mark.parametrize(
    ("address", "skipped"),
    [
        ("ann@example.com", False),
        ("Ann@Placeholder.Local", True),
        ("x@mail.invalid", True),
        ("x@example.invalid", True),
        ("", True),
        ("no-at-sign", True),
        ("a@b, c@d", True),
    ],
)
def test_placeholder_and_malformed_addresses_are_skipped(address: str, skipped: bool) -> None:
    assert is_undeliverable(address, PATTERNS) is skipped


def test_skip_patterns_are_configurable() -> None:
    patterns = dev_settings({"NOTIFICATION_SKIP_PATTERNS": "*@corp.test, bot-*"}).notification_skip_patterns
    assert patterns == ("*@corp.test", "bot-*")
    assert is_undeliverable("ann@corp.test", patterns) and not is_undeliverable("x@mail.invalid", patterns)


def test_tenant_and_user_switches() -> None:
    failed = EmailTemplate.SEND_FAILED
    assert event_enabled(failed, {}, {})
    assert not event_enabled(failed, {"notifications": {"send_failed": False}}, {})
    assert not event_enabled(failed, {"notifications": False}, {})
    assert event_enabled(failed, {"notifications": {"sync_summary": False}}, {})
    assert not event_enabled(failed, {}, {"notifications": {"send_failed": False}})


def test_sync_summary_is_opt_in_and_the_tenant_can_still_veto_it() -> None:
    summary = EmailTemplate.SYNC_SUMMARY
    on = {"notifications": {"sync_summary": True}}
    assert not event_enabled(summary, {}, {})
    assert event_enabled(summary, {}, on)
    assert not event_enabled(summary, {"notifications": {"sync_summary": False}}, on)


def test_the_explicit_test_mail_ignores_switches() -> None:
    assert event_enabled(EmailTemplate.TEST_MESSAGE, {"notifications": False}, {"notifications": False})


def test_safe_result_keeps_counts_status_and_ids_only() -> None:
    result = {
        "status": "sent",
        "messages_synced": 4,
        "duration": 1.5,
        "is_spam": False,
        "message_id": "<m1@host>",
        "task_ids": ["a", "b"],
        "password": "hunter2",
        "token_count": 3,
        "body_text": "private",
        "server_reply": "250 OK",
        "refused": {"bob@x": {"code": 550}},
    }
    assert safe_result(result) == {
        "status": "sent",
        "messages_synced": 4,
        "duration": 1.5,
        "is_spam": False,
        "message_id": "<m1@host>",
        "task_ids": ["a", "b"],
    }
    assert safe_result(["not", "a", "mapping"]) == {}


def test_links_only_for_ids_present_and_quoted() -> None:
    links = frontend_links("http://fe.test/", "t 1", {"account_id": "a/1", "outbox_id": None})
    assert links == {
        "frontend_url": "http://fe.test",
        "task_url": "http://fe.test/tasks/t%201",
        "account_url": "http://fe.test/accounts/a%2F1",
    }
    assert task_label("email_service.tasks.send_email") == "Send email"


def test_rendering_escapes_html_but_not_text_and_subjects_are_one_line() -> None:
    context = {
        "recipient_name": "Ann",
        "task_label": "Send email",
        "task_id": "t1",
        "message_subject": "<b>Hi</b>",
        "error_message": "550 <bob@x> rejected",
        "primary_url": "http://fe.test/outbox/t1",
    }
    mail = render_notification(EmailTemplate.SEND_FAILED, context)
    assert mail.subject == "Not delivered: <b>Hi</b>"
    assert "550 <bob@x> rejected" in mail.text and "&lt;bob@x&gt;" in mail.html
    assert "<b>Hi</b>" not in mail.html and 'href="http://fe.test/outbox/t1"' in mail.html
    assert render_subject("Done\r\nBcc: evil@x {{ n }}", {"n": 2}) == "Done Bcc: evil@x 2"


def test_every_template_renders_both_parts() -> None:
    for template in EmailTemplate:
        mail = render_notification(template, {"task_label": "Sync emails", "status": "success", "counts": {}})
        assert mail.subject and "Hello there" in mail.text and "<html" in mail.html


def test_message_is_multipart_alternative_and_auto_submitted() -> None:
    built = build_message("Svc <n@svc.test>", "ann@example.com", RenderedMail("S", "plain", "<p>rich</p>"))
    assert built.envelope_from == "n@svc.test" and built.recipients == ("ann@example.com",)
    message = BytesParser(policy=policy.default).parsebytes(built.raw)
    assert message["From"] == "Svc <n@svc.test>" and message["To"] == "ann@example.com"
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert message["Auto-Submitted"] == "auto-generated" and message["Message-ID"].endswith("@svc.test>")


def test_relay_settings_from_the_environment() -> None:
    assert relay_settings(dev_settings({})) is None
    starttls = relay_settings(
        dev_settings({"SMTP_HOST": "relay.test", "SMTP_USER": "u", "SMTP_PASSWORD": "p"})
    )
    assert starttls is not None and (starttls.security, starttls.port, starttls.username) == (
        "starttls",
        587,
        "u",
    )
    implicit = relay_settings(dev_settings({"SMTP_HOST": "relay.test", "SMTP_PORT": "465"}))
    assert implicit is not None and implicit.security == "ssl" and implicit.username is None
    plain = relay_settings(dev_settings({"SMTP_HOST": "relay.test", "SMTP_STARTTLS": "false"}))
    assert plain is not None and plain.security == "none"
