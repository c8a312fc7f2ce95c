"""Notification mails to the user who started a task: templates, rules, the system mailer, the decorator."""

from email_service.notifications.catalog import EmailTemplate, TemplateSpec
from email_service.notifications.decorator import email_notification
from email_service.notifications.mailer import SystemMailer
from email_service.notifications.render import RenderedMail, render_notification
from email_service.notifications.request import NotificationRequest

__all__ = [
    "EmailTemplate",
    "NotificationRequest",
    "RenderedMail",
    "SystemMailer",
    "TemplateSpec",
    "email_notification",
    "render_notification",
]
