"""Jinja2 rendering of a notification into subject, plain text and HTML (HTML autoescaped)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from jinja2.sandbox import SandboxedEnvironment

from email_service.notifications.catalog import EmailTemplate

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
MAX_SUBJECT = 200


@dataclass(frozen=True)
class RenderedMail:
    """What the mailer sends: one subject line and the two alternative bodies."""

    subject: str
    text: str
    html: str


@lru_cache(maxsize=1)
def _files() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


@lru_cache(maxsize=1)
def _strings() -> SandboxedEnvironment:
    """Subject templates may come from a task decorator; the sandbox keeps them to plain formatting."""
    return SandboxedEnvironment(autoescape=False)


def render_subject(source: str, context: Mapping[str, Any]) -> str:
    """One line, no CR/LF (header injection), at most MAX_SUBJECT characters."""
    subject = _strings().from_string(source).render(context)
    return " ".join(subject.split())[:MAX_SUBJECT]


def render_notification(
    template: EmailTemplate, context: Mapping[str, Any], subject_template: str | None = None
) -> RenderedMail:
    files = _files()
    return RenderedMail(
        subject=render_subject(subject_template or template.spec.subject, context),
        text=files.get_template(f"{template.value}.txt").render(context),
        html=files.get_template(f"{template.value}.html").render(context),
    )
