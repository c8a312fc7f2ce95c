"""A hostile References header stays bounded: the root and the nearest ancestors, ids of sane length."""

from __future__ import annotations

from email_service.mail.mime.headers import MAX_MSGID_CHARS, MAX_REFERENCES
from email_service.mail.mime.parse import parse_message


def test_references_are_capped_keeping_the_root_and_the_nearest_ancestors() -> None:
    ids = " ".join(f"<r{i}@x>" for i in range(5000)) + f" <{'l' * (MAX_MSGID_CHARS + 1)}@x>"
    raw = f"From: a@x\r\nMessage-ID: <me@x>\r\nIn-Reply-To: <r4999@x>\r\nReferences: {ids}\r\n\r\nhi".encode()
    parsed = parse_message(raw)
    assert len(parsed.references) == MAX_REFERENCES
    assert parsed.references[0] == "r0@x" and parsed.references[-1] == "r4999@x"
    assert all(len(ref) <= MAX_MSGID_CHARS for ref in parsed.references)
    assert parsed.in_reply_to == "r4999@x"
