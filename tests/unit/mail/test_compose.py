"""build_message output parsed back with the stdlib parser; address validation and injection."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any, cast

import pytest

from email_service.mail.mime.compose import (
    ComposeRequest,
    InvalidAddressError,
    build_message,
    parse_address_list,
    validate_address,
)

BASE = ComposeRequest(
    from_address="alice@example.test",
    from_name="Alice",
    to=["Bob <bob@example.test>"],
    subject="Hello",
    body_text="Plain body\n",
    message_id_domain="mail.example.test",
)


def parse(raw: bytes) -> EmailMessage:
    return cast(EmailMessage, BytesParser(policy=policy.default).parsebytes(raw))


def text(part: object) -> str:
    """Decoded body with wire CRLFs folded back to \\n."""
    return str(cast(EmailMessage, part).get_content()).replace("\r\n", "\n")


def compose(**changes: Any) -> EmailMessage:
    return parse(build_message(replace(BASE, **changes)).raw)


def test_text_only_message_headers_and_body() -> None:
    when = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    composed = build_message(replace(BASE, date=when))
    msg = parse(composed.raw)
    assert msg.get_content_type() == "text/plain"
    assert text(msg) == "Plain body\n"
    assert msg["Subject"] == "Hello"
    assert msg["Date"].datetime == when
    assert msg["Message-ID"] == composed.message_id
    assert composed.message_id.endswith("@mail.example.test>")
    assert str(msg["From"]) == "Alice <alice@example.test>"
    assert composed.envelope_from == "alice@example.test"
    assert composed.recipients == ("bob@example.test",)
    assert b"\r\n" in composed.raw and b"\n" not in composed.raw.replace(b"\r\n", b"")


def test_message_ids_are_unique() -> None:
    assert build_message(BASE).message_id != build_message(BASE).message_id


def test_html_only() -> None:
    msg = compose(body_text="", body_html="<p>Hi</p>")
    assert msg.get_content_type() == "text/html"
    assert msg.get_content().strip() == "<p>Hi</p>"


def test_alternative_text_and_html() -> None:
    msg = compose(body_html="<p>Hi</p>")
    assert msg.get_content_type() == "multipart/alternative"
    assert text(msg.get_body(("plain",))) == "Plain body\n"
    assert cast(EmailMessage, msg.get_body(("html",))).get_content().strip() == "<p>Hi</p>"


def test_mixed_with_attachments_and_unicode_filename() -> None:
    pdf = b"%PDF-1.4\x00\xff" * 100
    msg = compose(
        body_html="<p>Hi</p>",
        attachments=[("résumé €.pdf", "application/pdf", pdf), ("a.txt", "bogus type", b"x")],
    )
    assert msg.get_content_type() == "multipart/mixed"
    parts = list(msg.iter_attachments())
    assert [p.get_filename() for p in parts] == ["résumé €.pdf", "a.txt"]
    assert parts[0].get_content() == pdf
    assert parts[1].get_content_type() == "application/octet-stream"
    assert cast(EmailMessage, msg.get_body(("html",))).get_content().strip() == "<p>Hi</p>"
    assert b"filename*=utf-8''r%C3%A9sum%C3%A9" in build_message(
        replace(BASE, attachments=[("résumé €.pdf", "application/pdf", pdf)])
    ).raw.replace(b"\r\n ", b"")


def test_unicode_names_and_subject_round_trip_as_7bit() -> None:
    composed = build_message(
        replace(
            BASE,
            from_name="Zoë Ångström, PhD",
            to=['"Дмитрий" <dima@example.test>'],
            subject="Grüße — 你好 " + "long " * 30,
            body_text="héllo wörld\n",
        )
    )
    assert composed.raw.isascii()
    msg = parse(composed.raw)
    assert msg["From"].addresses[0].display_name == "Zoë Ångström, PhD"
    assert msg["To"].addresses[0].display_name == "Дмитрий"
    assert str(msg["Subject"]) == "Grüße — 你好 " + " ".join(["long"] * 30)
    assert text(msg) == "héllo wörld\n"


def test_bcc_only_in_envelope() -> None:
    composed = build_message(
        replace(BASE, cc=["Carol <carol@example.test>"], bcc=["Secret <secret@example.test>"])
    )
    msg = parse(composed.raw)
    assert "Bcc" not in msg
    assert b"secret@example.test" not in composed.raw
    assert composed.recipients == ("bob@example.test", "carol@example.test", "secret@example.test")
    assert str(msg["Cc"]) == "Carol <carol@example.test>"


def test_duplicate_recipients_collapse() -> None:
    composed = build_message(replace(BASE, cc=["BOB@example.test"], bcc=["bob@EXAMPLE.test"]))
    assert composed.recipients == ("bob@example.test",)


def test_reply_threading_headers() -> None:
    msg = compose(in_reply_to="<parent@x.test>", references=("<root@x.test>", "<mid@x.test>"))
    assert msg["In-Reply-To"] == "<parent@x.test>"
    assert msg["References"].split() == ["<root@x.test>", "<mid@x.test>", "<parent@x.test>"]


def test_reply_threading_tolerates_messy_ids() -> None:
    msg = compose(in_reply_to="parent@x.test", references=("<root@x.test> <parent@x.test>", "bad id\r\n"))
    assert msg["In-Reply-To"] == "<parent@x.test>"
    assert msg["References"].split() == ["<root@x.test>", "<parent@x.test>"]


def test_no_thread_headers_for_new_message() -> None:
    msg = compose()
    assert "In-Reply-To" not in msg and "References" not in msg


@pytest.mark.parametrize(
    "field_name, value",
    [
        ("to", ["bob@example.test\r\nBcc: victim@example.test"]),
        ("to", ["Bob\n <bob@example.test>"]),
        ("cc", ["not-an-address"]),
        ("bcc", ["a@b@c.test"]),
        ("to", ["user@nodot"]),
        ("to", ["user@-bad-.test"]),
        ("to", ["us er@example.test"]),
        ("to", ["user..x@example.test"]),
    ],
)
def test_bad_recipients_rejected(field_name: str, value: list[str]) -> None:
    with pytest.raises(InvalidAddressError) as info:
        build_message(replace(BASE, **{field_name: value}))  # type: ignore[arg-type]
    assert info.value.field == field_name


def test_header_injection_in_from_name_and_subject() -> None:
    with pytest.raises(InvalidAddressError) as info:
        build_message(replace(BASE, from_name="Alice\r\nBcc: x@example.test"))
    assert info.value.field == "from"
    composed = build_message(replace(BASE, subject="Hi\r\nBcc: victim@example.test"))
    msg = parse(composed.raw)
    assert "Bcc" not in msg
    assert msg["Subject"] == "Hi Bcc: victim@example.test"


def test_no_recipients_rejected() -> None:
    with pytest.raises(InvalidAddressError):
        build_message(replace(BASE, to=[]))


def test_parse_address_list_forms() -> None:
    assert parse_address_list(
        ['"Doe, Jane" <jane@example.test>, bob@Example.TEST', " ", "X <x@localhost>"]
    ) == [
        ("Doe, Jane", "jane@example.test"),
        ("", "bob@example.test"),
        ("X", "x@localhost"),
    ]


def test_validate_address_normalises_idn_domain() -> None:
    assert validate_address("Name@Bücher.DE") == "Name@xn--bcher-kva.de"
    with pytest.raises(InvalidAddressError) as info:
        validate_address("ünïcode@example.test", "from")
    assert (info.value.field, info.value.value) == ("from", "ünïcode@example.test")
