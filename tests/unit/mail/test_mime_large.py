"""Large bodies decoded apart from the stdlib parser: same result as the plain parse, bounded memory."""

from __future__ import annotations

import base64
import os
import quopri
import subprocess
import sys
from pathlib import Path

import pytest

from email_service.mail.mime import large_parts
from email_service.mail.mime import parse as mime

HEAD = b"From: A <a@example.test>\r\nSubject: big\r\nMIME-Version: 1.0\r\n"
BLOB = bytes(range(256)) * 3 + b"tail"  # 772 bytes: the last base64 quantum is padded


def b64(data: bytes, eol: bytes = b"\r\n") -> bytes:
    return base64.encodebytes(data).replace(b"\n", eol)


def mixed(*parts: bytes, boundary: bytes = b"b", eol: bytes = b"\r\n") -> bytes:
    head = (
        HEAD.replace(b"\r\n", eol)
        + b'Content-Type: multipart/mixed; boundary="'
        + boundary
        + b'"'
        + eol
        + eol
    )
    body = b"".join(b"--" + boundary + eol + part + eol for part in parts)
    return head + b"preamble" + eol + body + b"--" + boundary + b"--" + eol + b"epilogue" + eol


def attachment(data: bytes, name: bytes = b"a.bin", eol: bytes = b"\r\n") -> bytes:
    return eol.join(
        [
            b"Content-Type: application/octet-stream",
            b'Content-Disposition: attachment; filename="' + name + b'"',
            b"Content-Transfer-Encoding: base64",
            b"",
            b64(data, eol).rstrip(b"\r\n"),
        ]
    )


def qp_html(text: bytes) -> bytes:
    return (
        b"Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
        + (quopri.encodestring(text).replace(b"\n", b"\r\n"))
    )


ALTERNATIVE = (
    b'Content-Type: multipart/alternative; boundary="alt"\r\n\r\n--alt\r\n'
    + b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    + b64("Grüße ".encode() * 200)
    + b"--alt\r\n"
    + qp_html("<p>Grüße = \t</p>\n".encode() * 100 + b"x" * 300)
    + b"\r\n--alt--"
)
CUT = {
    "attachment": mixed(b"Content-Type: text/plain\r\n\r\nsee attached", attachment(BLOB)),
    "lf line ends": mixed(b"\nplain", attachment(BLOB, eol=b"\n"), eol=b"\n"),
    "nested and ordered": mixed(attachment(BLOB, b"1.bin"), ALTERNATIVE, attachment(BLOB[::-1], b"2.bin")),
    "single part": HEAD
    + b"Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    + b64(BLOB),
    "unpadded base64": mixed(attachment(BLOB).rstrip(b"=")),
    "base64 of 3n+1 bytes": mixed(attachment(BLOB + b"x")),
    "boundary reused inside": mixed(ALTERNATIVE.replace(b'"alt"', b'"b"').replace(b"--alt", b"--b")),
    "one long qp line": mixed(qp_html(b"=" * 2000).replace(b"=\r\n", b"")),
}
PLAIN_PARSE = {
    "stray characters": mixed(attachment(BLOB).replace(b"A", b"A*", 1)),
    "pad inside base64": mixed(attachment(BLOB[:301]) + b"\r\n" + b64(BLOB).rstrip()),
    "no closing delimiter": mixed(attachment(BLOB)).replace(b"--b--", b"--c--"),
    "bare CR line end": mixed(attachment(BLOB)).replace(b"\r\n", b"\r", 1),
    "header without separator": mixed(b"Content-Type: text/plain\r\nnot a header\r\n\r\n" + b64(BLOB)),
    "digest": mixed(attachment(BLOB)).replace(b"multipart/mixed", b"multipart/digest"),
    "8bit body": mixed(attachment(BLOB).replace(b"base64", b"8bit")),
    "small message": mixed(b"Content-Type: text/plain\r\n\r\nsmall"),
}


@pytest.fixture
def small_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cut anything over 200 bytes, decoding 100 bytes at a time, so small samples take the new path."""
    monkeypatch.setattr(large_parts, "CUT_THRESHOLD", 200)
    monkeypatch.setattr(large_parts, "CHUNK", 100)


def plain_parse(raw: bytes, monkeypatch: pytest.MonkeyPatch) -> mime.ParsedMessage:
    with monkeypatch.context() as patch:
        patch.setattr(mime, "cut_large_bodies", lambda raw: None)
        return mime.parse_message(raw)


@pytest.mark.usefixtures("small_cut")
@pytest.mark.parametrize("raw", CUT.values(), ids=CUT.keys())
def test_cut_bodies_parse_exactly_like_the_plain_parse(raw: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    cut = large_parts.cut_large_bodies(raw)
    assert cut is not None and cut.bodies
    assert len(cut.skeleton) < len(raw)
    assert mime.parse_message(raw) == plain_parse(raw, monkeypatch)


@pytest.mark.usefixtures("small_cut")
@pytest.mark.parametrize("raw", PLAIN_PARSE.values(), ids=PLAIN_PARSE.keys())
def test_anything_unusual_is_parsed_as_it_is(raw: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    assert large_parts.cut_large_bodies(raw) is None
    assert mime.parse_message(raw) == plain_parse(raw, monkeypatch)


def test_attachments_keep_document_order_and_content(small_cut: None) -> None:
    parsed = mime.parse_message(CUT["nested and ordered"])
    assert [(a.filename, a.content) for a in parsed.attachments] == [("1.bin", BLOB), ("2.bin", BLOB[::-1])]
    assert "Grüße Grüße" in parsed.text and parsed.unsafe_html and "Grüße = \t" in parsed.unsafe_html


def test_a_forged_placeholder_is_only_text(small_cut: None) -> None:
    raw = CUT["attachment"]
    token = next(iter(large_parts.cut_large_bodies(raw).bodies))  # type: ignore[union-attr]
    forged = raw.replace(b"see attached", token.encode())
    assert mime.parse_message(forged).text == token


MEASURE = """
import resource, sys
from email_service.mail.mime.parse import parse_message
raw = open(sys.argv[1], "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
sizes = [a.size for a in parse_message(raw).attachments]
print(sizes[-1], (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024)
"""


def test_a_large_attachment_costs_little_more_than_its_decoded_size(tmp_path: Path) -> None:
    """ru_maxrss is a high-water mark, so the parse runs in a fresh process that only reads the file."""
    size, path = 24 * 1024 * 1024, tmp_path / "big.eml"
    with path.open("wb") as out:
        out.write(HEAD + b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n')
        out.write(attachment(b"") + b"\r\n")
        for _ in range(size // 57_000):
            out.write(b64(os.urandom(57_000)))  # whole 76-character lines
        out.write(b"--b--\r\n")
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path)], capture_output=True, text=True, check=True
    )
    decoded, growth = map(int, done.stdout.split())
    assert decoded == size // 57_000 * 57_000
    assert growth < 1.6 * decoded, f"parse grew by {growth / 2**20:.0f} MB for {decoded / 2**20:.0f} MB"
