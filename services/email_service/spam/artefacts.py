"""Neutralise anonymiser and collector artefacts of the training corpora before features are taken.

The corpora were anonymised unevenly across classes (csdmc addresses became ...@csmining.org, the foff
mailbox's became example.com / baddomain.com and "John Doe", "555-123-4567"), and the collectors added
their own Received hops. Left in, a model learns "csmining.org means ham" instead of what spam looks
like. Every placeholder is mapped to one neutral form, so real mail scores the same with or without it.
"""

from __future__ import annotations

import dataclasses
import re

from email_service.spam.view import MessageView

ANON_DOMAIN = "example.com"
ANON_ADDRESS = "user@example.com"
_ANON = r"(?:[\w-]+\.)*(?:csmining\.org|baddomain\.com|example\.com)"
_ADDRESS = re.compile(rf"[\w.+=%-]*@{_ANON}\b", re.IGNORECASE)
_HOST = re.compile(rf"\b{_ANON}\b", re.IGNORECASE)
_PLACEHOLDERS = re.compile(r"\bJohn Doe\b|\b555-123-4567\b", re.IGNORECASE)
_COLLECTOR_HOP = re.compile(
    rf"^\s*(?:by\b|from\s+(?:localhost\b|{_ANON}\b|\[?(?:10|127|192\.168)\.))", re.IGNORECASE
)


def scrub(text: str) -> str:
    """Placeholders and anonymised addresses/hosts as one neutral spelling."""
    lower = text.lower()
    if "csmining." in lower or "example." in lower or "baddomain." in lower:
        text = _HOST.sub(ANON_DOMAIN, _ADDRESS.sub(ANON_ADDRESS, text))
    if "john doe" in lower or "555-123-4567" in lower:
        text = _PLACEHOLDERS.sub("", text)
    return text


def is_anonymised(domain: str) -> bool:
    """An anonymised or placeholder domain says nothing about the real sender."""
    return bool(_HOST.fullmatch(domain))


def sender_hops(received: tuple[str, ...]) -> tuple[str, ...]:
    """Received lines without the collector's own hops (local, private-network, anonymised hosts)."""
    return tuple(line for line in received if not _COLLECTOR_HOP.match(line))


def normalise_view(view: MessageView) -> MessageView:
    """The view with every string field scrubbed; header lists keep their length."""
    headers = {name: tuple(scrub(v) for v in values) for name, values in view.headers.items()}
    return dataclasses.replace(
        view,
        subject=scrub(view.subject),
        text=scrub(view.text),
        from_name=scrub(view.from_name),
        from_email=scrub(view.from_email),
        reply_to=tuple(scrub(r) for r in view.reply_to),
        message_id=scrub(view.message_id),
        headers=headers,
        links=tuple((scrub(href), scrub(label)) for href, label in view.links),
        to=tuple(scrub(t) for t in view.to),
    )
