"""parse_message on hand-written samples, hostile structures and (when present) a real corpus."""

from __future__ import annotations

import os
import re
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from email_service.mail.mime.addresses import decode_header_value as decode_value
from email_service.mail.mime.parse import (
    MAX_DEPTH,
    MAX_PARTS,
    Address,
    Link,
    MimeParseError,
    ParsedMessage,
    decode_header_value,
    parse_message,
)

SAMPLES = Path(__file__).parent / "mime_samples"
CORPUS = Path(os.environ.get("MIME_CORPUS_DIR", Path(__file__).parents[4] / "shared" / "corpora"))


def parse(name: str) -> ParsedMessage:
    return parse_message((SAMPLES / name).read_bytes())


def test_plain_message_headers_and_body() -> None:
    msg = parse("plain.eml")
    assert msg.subject == "Grüße aus München"
    assert msg.from_ == Address(name="Alïce Example", email="Alice@example.org")
    assert msg.to == (Address("Bob", "bob@example.com"), Address("Doe, Jane", "jane@example.com"))
    assert msg.cc == (Address("", "carol@example.com"),)
    assert msg.date == datetime(2025, 6, 3, 10, 0, tzinfo=UTC)
    assert msg.message_id == "abc123@example.org" == msg.thread_id
    assert "schöne Grüße aus München" in msg.text
    assert msg.html is None and msg.links == () and msg.attachments == ()
    assert msg.snippet.startswith("Hallo Bob, schöne Grüße")
    assert msg.size == len((SAMPLES / "plain.eml").read_bytes())
    assert msg.headers["X-Mailer"] == "HandWritten 1.0"
    assert msg.headers["Return-Path"] == "<alice@example.org>"
    assert msg.headers["Received"].count("\n") == 1
    assert not any(name.lower().startswith("x-spam") for name in msg.headers)


def test_alternative_keeps_both_bodies_sanitises_html_and_reads_links() -> None:
    msg = parse("alternative.eml")
    assert msg.text.strip() == "Your order has shipped."
    assert msg.html is not None
    assert "<b>shipped</b>" in msg.html
    assert "script" not in msg.html and "onload" not in msg.html and "color:red" not in msg.html
    assert 'data-remote-src="https://track.shop.example/open.gif?u=1"' in msg.html
    assert msg.links == (Link(href="http://198.51.100.7/login", text="https://www.paypal.com/"),)
    assert msg.content_types == ("multipart/alternative", "text/plain", "text/html")
    assert msg.reply_to == (Address("", "support@other.example"),)
    assert msg.headers["List-Unsubscribe"] == "<https://shop.example/unsub?u=1>"
    assert msg.unsafe_html is not None and "<script>" in msg.unsafe_html


def test_sanitize_false_skips_bleach_but_keeps_links_and_text() -> None:
    msg = parse_message((SAMPLES / "alternative.eml").read_bytes(), sanitize=False)
    assert msg.html is None
    assert msg.links and msg.unsafe_html


def test_related_cid_image_is_inline_attachment_and_reference_kept() -> None:
    msg = parse("related_cid.eml")
    assert msg.html is not None and 'src="cid:logo@example.org"' in msg.html
    (image,) = msg.attachments
    assert (image.content_type, image.content_id, image.is_inline) == ("image/png", "logo@example.org", True)
    assert image.content.startswith(b"\x89PNG") and image.size == len(image.content)
    assert msg.text == "Logo:"


def test_attachment_filenames_rfc2231_and_encoded_word() -> None:
    msg = parse("attachment_rfc2231.eml")
    pdf, txt = msg.attachments
    assert pdf.filename == "Rechnung für März.pdf"
    assert pdf.content.startswith(b"%PDF-1.4") and not pdf.is_inline
    assert txt.filename == "отчёт.txt" and txt.content == b"hello"
    assert msg.text.strip() == "See attached."


def test_undeclared_boundary_is_repaired() -> None:
    msg = parse("broken_boundary.eml")
    assert "never declared" in msg.text
    assert "StartBoundaryNotFoundDefect" in msg.defects


def test_missing_close_boundary_keeps_both_parts() -> None:
    msg = parse("missing_close.eml")
    assert msg.text == "first part"
    assert msg.html is not None and "second <i>part</i>" in msg.html
    assert "CloseBoundaryNotFoundDefect" in msg.defects


@pytest.mark.parametrize(
    ("name", "expected_text", "expected_subject"),
    [
        ("unknown_charset.eml", "naïve café", "charset"),
        ("iso2022jp.eml", "こんにちは、世界。", "日本語の件名"),
        ("cp1252.eml", "\u201cSmart\u201d quotes cost \u20ac50 \u2013 ok", "quotes"),
        ("koi8r.eml", "Привет, мир", "Привет"),
        ("latin1_mislabelled.eml", "Grüße", "label says ascii"),
        ("outlook.eml", "Numbers attached \u2013 see below.", "RE: Q3 numbers"),
    ],
)
def test_body_charsets(name: str, expected_text: str, expected_subject: str) -> None:
    msg = parse(name)
    assert msg.text.strip() == expected_text
    assert msg.subject == expected_subject


def test_iso2022jp_display_name() -> None:
    assert parse("iso2022jp.eml").from_ == Address("山田", "yamada@example.jp")


def test_8bit_headers_broken_words_bad_date_and_group_syntax() -> None:
    msg = parse("headers_8bit.eml")
    assert msg.from_ == Address("Jürgen Müller", "juergen@example.de")
    assert msg.subject.startswith("Grüße")
    assert msg.date is None
    assert msg.to == ()
    assert msg.message_id is None


def test_references_threading_uses_root() -> None:
    msg = parse("reply.eml")
    assert msg.references == ("root@example.org", "reply-1@example.com")
    assert msg.in_reply_to == "reply-1@example.com"
    assert msg.thread_id == "root@example.org"
    assert msg.date == datetime(2025, 6, 5, 13, 1, tzinfo=UTC)


def test_missing_ids_thread_by_stable_subject_and_sender_hash() -> None:
    msg = parse("no_ids.eml")
    other = parse_message(b"From: someone@example.net\r\nSubject: hello there\r\n\r\nx")
    assert msg.message_id is None
    assert msg.thread_id.startswith("h:") and msg.thread_id == other.thread_id
    assert parse_message(b"From: x@y.z\r\nSubject: hello there\r\n\r\nx").thread_id != msg.thread_id


def test_in_reply_to_threads_when_no_references() -> None:
    raw = b"Message-ID: <b@x>\r\nIn-Reply-To: <A@X>\r\nSubject: s\r\n\r\nbody"
    assert parse_message(raw).thread_id == "a@x"


def test_message_rfc822_becomes_eml_attachment() -> None:
    msg = parse("rfc822.eml")
    (inner,) = msg.attachments
    assert inner.content_type == "message/rfc822" and inner.filename.endswith(".eml")
    assert b"Inner body text." in inner.content and b"Subject: original" in inner.content
    assert "Inner body text" not in msg.text


def test_html_only_message_gets_text_from_html() -> None:
    msg = parse("html_only.eml")
    assert msg.subject == "🎉 Big sale"
    assert msg.text.startswith("Sale")
    assert "Up to 90% off…" in msg.text
    assert msg.links == (Link(href="https://bit.ly/x", text="Shop now"),)


def _nested(depth: int) -> bytes:
    head = b"Subject: bomb\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n"
    opening = b"".join(
        b"--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n" % (i, i + 1) for i in range(depth)
    )
    middle = b"--b%d\r\nContent-Type: text/plain\r\n\r\ndeep\r\n" % depth
    closing = b"".join(b"--b%d--\r\n" % i for i in reversed(range(depth + 1)))
    return head + opening + middle + closing


@pytest.mark.parametrize("depth", [MAX_DEPTH + 5, 3000])
def test_depth_bomb_is_bounded(depth: int) -> None:
    started = time.perf_counter()
    msg = parse_message(_nested(depth))
    assert time.perf_counter() - started < 5
    assert msg.subject == "bomb"
    assert "deep" not in msg.text
    assert "NestingTooDeep" in msg.defects
    assert len(msg.content_types) <= MAX_DEPTH + 1


def test_part_count_bomb_is_bounded() -> None:
    parts = b"".join(b"--p\r\nContent-Type: text/plain\r\n\r\nx\r\n" for _ in range(5000))
    raw = b"Subject: many\r\nContent-Type: multipart/mixed; boundary=p\r\n\r\n" + parts + b"--p--\r\n"
    msg = parse_message(raw)
    assert len(msg.content_types) == MAX_PARTS
    assert "TooManyParts" in msg.defects


def test_big_attachment_content_is_kept() -> None:
    import base64

    blob = os.urandom(3_000_000)
    raw = (
        b"Subject: big\r\nContent-Type: multipart/mixed; boundary=z\r\n\r\n"
        b"--z\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
        b"--z\r\nContent-Type: application/zip\r\nContent-Disposition: attachment; filename=a.zip\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(blob) + b"--z--\r\n"
    )
    (att,) = parse_message(raw).attachments
    assert att.content == blob and att.size == len(blob) and att.filename == "a.zip"


@pytest.mark.parametrize("raw", [b"", b"   \r\n", "text"])
def test_nothing_to_parse_raises(raw: object) -> None:
    with pytest.raises(MimeParseError):
        parse_message(raw)  # type: ignore[arg-type]


def test_garbage_bytes_do_not_raise() -> None:
    msg = parse_message(bytes(range(256)) * 20)
    assert msg.size == 5120


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=?utf-8?q?caf=C3=A9?=", "café"),
        ("=?UTF-8?B?w6k=?= =?UTF-8?B?w6k=?=", "éé"),
        ("=?utf-8?b?4pyT?=x", "✓x"),
        ("=?utf-8?B?4pyT", "=?utf-8?B?4pyT"),
        ("=?utf-8?B?w6?= ok", "Ã ok"),
        ("=?x-unknown?q?abc?=", "abc"),
        ("=?utf-8*en?q?hi?=", "hi"),
        ("a =?iso-8859-1?q?=E9?= b", "a é b"),
        ("=?utf-8?B?5pel5pys?=\r\n =?utf-8?B?6Kqe?=", "日本語"),
        ("=?utf-8?B?5pel?= =?utf-8?B?5pys6Kqe?=", "日本語"),
        ("=?utf-8?B?5p?= =?utf-8?B?el?=", "日"),
    ],
)
def test_decode_header_value(value: str, expected: str) -> None:
    assert decode_header_value(value) == expected
    assert decode_value is decode_header_value


def _corpus_files() -> list[Path]:
    files = sorted(p for p in CORPUS.glob("*/*/*") if p.is_file())
    assert files, f"no corpus under {CORPUS} (shared/ beside the checkout, or set MIME_CORPUS_DIR)"
    return files


def test_whole_corpus_parses_without_exception() -> None:
    files = _corpus_files()
    with_text = 0
    for path in files:
        try:
            msg = parse_message(path.read_bytes(), sanitize=False)
        except MimeParseError:
            continue
        with_text += bool(msg.text.strip())
        assert msg.date is None or msg.date.tzinfo is not None
    assert with_text > len(files) * 0.95


def test_corpus_html_sample_sanitises_safely() -> None:
    checked = 0
    for path in _corpus_files()[::7]:
        html = parse_message(path.read_bytes()).html
        if html:
            checked += 1
            lowered = html.lower()
            assert "<script" not in lowered and "javascript:" not in lowered
            assert not re.search(r"\son[a-z]+\s*=", lowered)
            assert not re.search(r"<img[^>]*\ssrc=\"https?:", lowered)
    assert checked > 20
