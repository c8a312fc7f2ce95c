"""The single-part fast path of the MIME parser must build exactly the tree the full parse builds."""

from __future__ import annotations

from email.parser import BytesParser

import pytest

from email_service.mail.mime import parse as mime

HEAD = b"From: A <a@example.test>\r\nSubject: hi\r\nContent-Type: text/plain; charset=utf-8\r\n"
SAME = [
    HEAD + b"\r\nbody line\r\n\r\nafter a blank line\r\nno final newline",
    HEAD + b"Content-Transfer-Encoding: base64\r\n\r\naGVsbG8gd29ybGQ=\r\n",
    b"Subject: 8bit \xe9\r\n\r\nraw \xff\xfe bytes\r\n",
    b"Subject: empty body\r\n\r\n",
]
FULL_PARSE = [
    HEAD + b"\nLF separator comes first\r\n\r\nlater",  # headers end at the LF-only blank line
    b"Subject: x\r\nnot a header line\r\n\r\nbody",  # missing header/body separator
    b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\npart\r\n--b--\r\n",
    b"Content-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\ninner body\r\n",
    b"Subject: LF only\n\nbody\n",
]


@pytest.mark.parametrize("raw", SAME)
def test_fast_path_builds_the_full_parse_tree(raw: bytes) -> None:
    fast = mime._read_single_part(raw)
    full = BytesParser(policy=mime._POLICY).parsebytes(raw)
    assert fast is not None
    assert fast.get_payload() == full.get_payload()
    assert list(fast.raw_items()) == list(full.raw_items()) and fast.defects == full.defects
    assert fast.as_bytes() == full.as_bytes()


@pytest.mark.parametrize("raw", FULL_PARSE)
def test_anything_unusual_takes_the_full_parse(raw: bytes) -> None:
    assert mime._read_single_part(raw) is None
    assert mime.parse_message(raw).size == len(raw)


def test_snippet_collapses_every_whitespace_run() -> None:
    assert mime.parse_message(HEAD + b"\r\n  a\t\tb\r\n\r\n c\xc2\xa0d \r\n").snippet == "a b c d"
