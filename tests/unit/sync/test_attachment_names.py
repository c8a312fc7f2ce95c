"""The sync's row builder fills messages.attachment_names, which full-text search indexes."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage

from email_service.mail.imap.types import FetchedMessage
from email_service.sync.rows import ATTACHMENT_NAMES_MAX_CHARS, RowContext, build_rows, quarantine_row

CTX = RowContext("t", "u", "a", "f", 1)


def _fetched(uid: int, raw: bytes) -> FetchedMessage:
    return FetchedMessage(uid=uid, flags=(), raw=raw, internaldate=None, size=len(raw), modseq=None)


def _mail(*names: str) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "a@example.com", "b@example.com", "files"
    msg.set_content("see attached")
    for name in names:
        msg.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename=name)
    return msg.as_bytes()


def test_every_attachment_name_is_kept_for_search() -> None:
    built = build_rows(CTX, [_fetched(1, _mail("Q1 report.pdf", "résumé.pdf")), _fetched(2, _mail())])
    assert [row["attachment_names"] for row in built.messages] == ["Q1 report.pdf résumé.pdf", ""]


def test_names_are_bounded_and_quarantined_rows_have_none() -> None:
    many = build_rows(CTX, [_fetched(1, _mail(*(f"{i:03}-" + "n" * 200 + ".pdf" for i in range(80))))])
    assert len(many.messages[0]["attachment_names"]) == ATTACHMENT_NAMES_MAX_CHARS
    quarantined = quarantine_row(CTX, _fetched(2, b"junk"), "unparseable", datetime.now(UTC))
    assert quarantined["attachment_names"] == ""
    assert set(quarantined) == set(many.messages[0])  # the same columns: one COPY per batch
