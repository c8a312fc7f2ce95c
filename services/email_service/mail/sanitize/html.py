"""Make inbound HTML safe to render (bleach) and read its text and links (stdlib HTMLParser).

Policy: no scripts, handlers, forms or frames; only http(s)/mailto/cid/tel URLs; no data: URLs at
all (not even for images); remote images are kept as `data-remote-src` so nothing loads on render.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from html import escape, unescape
from typing import Any

import bleach
import tinycss2
from bleach._vendor.html5lib.filters.base import Filter
from bleach.css_sanitizer import ALLOWED_CSS_PROPERTIES, CSSSanitizer

from email_service.mail.sanitize import bounds as html_bounds
from email_service.mail.sanitize.bounded_parser import (
    PARSE_BUDGET_SECONDS,
    ParseBudgetExceeded,
    bounded_parser,
)

log = logging.getLogger(__name__)

MAX_LINKS = 500
TOO_COMPLEX_NOTE = "<p><em>[This message's formatting was too complex to show; its text follows.]</em></p>"
MAX_LINK_TEXT = 300

ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "acronym", "address", "b", "bdi", "bdo", "big", "blockquote", "br", "caption",
        "center", "cite", "code", "col", "colgroup", "dd", "del", "dfn", "div", "dl", "dt", "em",
        "font", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark",
        "ol", "p", "pre", "q", "s", "samp", "small", "span", "strike", "strong", "sub", "sup",
        "table", "tbody", "td", "tfoot", "th", "thead", "tr", "tt", "u", "ul", "var", "wbr",
    }
)  # fmt: skip
_COMMON_ATTRS = ["style", "title", "dir", "lang", "align", "class"]
_CELL_ATTRS = ["colspan", "rowspan", "valign", "width", "height", "bgcolor", "nowrap", "scope"]
ALLOWED_ATTRIBUTES: dict[str, list[str]] = {
    "*": _COMMON_ATTRS,
    "a": [*_COMMON_ATTRS, "href", "name"],
    "img": [*_COMMON_ATTRS, "src", "alt", "width", "height", "border", "hspace", "vspace"],
    "font": [*_COMMON_ATTRS, "color", "face", "size"],
    "table": [*_COMMON_ATTRS, "width", "border", "cellpadding", "cellspacing", "bgcolor", "summary"],
    "td": [*_COMMON_ATTRS, *_CELL_ATTRS],
    "th": [*_COMMON_ATTRS, *_CELL_ATTRS],
    "tr": [*_COMMON_ATTRS, "valign", "bgcolor", "height"],
    "col": [*_COMMON_ATTRS, "span", "width"],
    "colgroup": [*_COMMON_ATTRS, "span", "width"],
    "ol": [*_COMMON_ATTRS, "start", "type"],
    "ul": [*_COMMON_ATTRS, "type"],
    "hr": [*_COMMON_ATTRS, "width", "size", "noshade"],
}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto", "cid", "tel"})
_EXTRA_CSS = {
    "background", "border", "border-bottom", "border-left", "border-right", "border-top",
    "border-radius", "border-spacing", "border-style", "border-width", "list-style-type",
    "margin", "margin-bottom", "margin-left", "margin-right", "margin-top", "max-width",
    "min-width", "padding", "padding-bottom", "padding-left", "padding-right", "padding-top",
    "table-layout", "text-transform", "word-break", "word-wrap",
}  # fmt: skip
_SAFE_CSS_FUNCTIONS = frozenset({"rgb", "rgba", "hsl", "hsla", "calc"})
_REMOTE = re.compile(r"^\s*(https?:)?//", re.IGNORECASE)


@dataclass(frozen=True)
class Link:
    """An anchor in the original (unsanitised) HTML, for phishing checks."""

    href: str
    text: str


@dataclass(frozen=True)
class HtmlExtract:
    """Text and links read from HTML in one pass."""

    text: str
    links: tuple[Link, ...]


def _css_value_is_safe(tokens: list[Any]) -> bool:
    """Reject url(), expression() and any other function but colour/calc helpers, recursively."""
    for token in tokens:
        if token.type in ("url", "error"):
            return False
        if token.type == "function":
            if token.lower_name not in _SAFE_CSS_FUNCTIONS or not _css_value_is_safe(token.arguments):
                return False
        elif token.type in ("() block", "[] block", "{} block"):
            if not _css_value_is_safe(token.content):
                return False
        elif token.type == "ident" and token.lower_value in ("javascript", "vbscript", "expression"):
            return False
    return True


class _EmailCSSSanitizer(CSSSanitizer):
    """bleach's property allow-list plus a value check, since bleach alone keeps url()/expression()."""

    def sanitize_css(self, style: str) -> str:
        kept: list[Any] = []
        for token in tinycss2.parse_declaration_list(style, skip_comments=True, skip_whitespace=True):
            if token.type != "declaration" or token.lower_name not in self.allowed_css_properties:
                continue
            if not _css_value_is_safe(token.value):
                continue
            important = " !important" if token.important else ""
            kept.append(f"{token.lower_name}: {tinycss2.serialize(token.value).strip()}{important}")
        return "; ".join(kept)


class _EmailLinkFilter(Filter):
    """Runs after sanitising: opens links in a new tab and stops remote images from loading.

    It also bounds the tree walk: html5lib's etree walker is superlinear on deep or wide trees.
    """

    def __iter__(self) -> Iterator[dict[str, Any]]:
        deadline = time.thread_time() + PARSE_BUDGET_SECONDS
        for token in Filter.__iter__(self):
            if time.thread_time() > deadline:
                raise ParseBudgetExceeded
            if token["type"] in ("StartTag", "EmptyTag"):
                attrs = token.get("data") or {}
                if token["name"] == "a" and (None, "href") in attrs:
                    attrs[(None, "rel")] = "noopener noreferrer nofollow"
                    attrs[(None, "target")] = "_blank"
                elif token["name"] == "img" and (None, "src") in attrs:
                    src = attrs[(None, "src")]
                    del attrs[(None, "src")]
                    if src.strip().lower().startswith("cid:"):
                        attrs[(None, "src")] = src.strip()
                    elif _REMOTE.match(src):
                        attrs[(None, "data-remote-src")] = src.strip()
                token["data"] = attrs
            yield token


_CLEANER = bleach.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    strip_comments=True,
    filters=[_EmailLinkFilter],
    css_sanitizer=_EmailCSSSanitizer(allowed_css_properties=ALLOWED_CSS_PROPERTIES | _EXTRA_CSS),
)
_CLEANER.parser = bounded_parser(ALLOWED_TAGS)


def sanitize_html(html: str) -> str:
    """Return HTML that is safe to render in the web client; never raises on garbage input."""
    if not html or not html.strip():
        return ""
    # Each pre-pass is one linear scan; together they bound what html5lib's scope checks cost.
    html = html_bounds.drop_with_content(html_bounds.truncate(html))
    html = html_bounds.bound_depth(html, counted=ALLOWED_TAGS)
    try:
        return str(_CLEANER.clean(html))
    except ParseBudgetExceeded:
        log.warning("html sanitise over budget (%d chars): stored as escaped text", len(html))
        return _as_text(html)


def _as_text(html: str) -> str:
    """The message's visible text, every character escaped: what is stored when parsing costs too much."""
    text = escape(extract_html(html).text)
    return f"{TOO_COMPLEX_NOTE}<pre>{text}</pre>"


# Every `[^>]*` ends in `(?:>|\Z)`: a tag left open is matched to the end once, not retried per `<`.
_INVISIBLE = re.compile(
    r"<!--.*?(?:-->|$)|<(script|style|head|title|template|noscript|xml)\b[^>]*(?:>|\Z).*?(?:</\1\s*>|$)",
    re.IGNORECASE | re.DOTALL,
)
_ANCHOR = re.compile(r"<a\b([^>]*)(?:>|\Z)(.*?)(?:</a\s*>|(?=<a\b)|$)", re.IGNORECASE | re.DOTALL)
_HREF = re.compile(r"""\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)
_ALT = re.compile(r"""\balt\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)
_IMG = re.compile(r"<img\b[^>]*(?:>|\Z)", re.IGNORECASE)
_BREAK = re.compile(
    r"<(?:br|/?(?:p|div|tr|li|h[1-6]|table|ul|ol|blockquote|pre|hr|dt|dd|section|article|header"
    r"|footer|center))\b[^>]*(?:>|\Z)",
    re.IGNORECASE,
)
_CELL = re.compile(r"<t[dh]\b[^>]*(?:>|\Z)", re.IGNORECASE)
_TAG = re.compile(r"</?[a-zA-Z!?][^>]*>?")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u200b]+")
_LINE_EDGES = re.compile(r" *\n *")
_BLANK_LINES = re.compile(r"\n{3,}")


def _attr(pattern: re.Pattern[str], attrs: str) -> str | None:
    """Value of one attribute from a raw attribute string, entities decoded."""
    match = pattern.search(attrs)
    if match is None:
        return None
    return unescape(next(g for g in match.groups() if g is not None))


def _plain(fragment: str) -> str:
    """Visible text of an HTML fragment with whitespace collapsed to single spaces."""
    return _SPACES.sub(" ", unescape(_TAG.sub(" ", fragment))).strip()


def _links(html: str) -> tuple[Link, ...]:
    """Anchors with an href, their visible text (or image alt text) attached."""
    links: list[Link] = []
    for match in _ANCHOR.finditer(html):
        href = _attr(_HREF, match.group(1))
        if href is None:
            continue
        inner = match.group(2)
        text = _plain(inner)
        if not text:
            text = " ".join(filter(None, (_attr(_ALT, img) for img in _IMG.findall(inner))))
        links.append(Link(href=href.strip(), text=text[:MAX_LINK_TEXT]))
        if len(links) >= MAX_LINKS:
            break
    return tuple(links)


def extract_html(html: str) -> HtmlExtract:
    """Visible text and the anchors of the original HTML, with regexes: cheap, never raises."""
    visible = _INVISIBLE.sub(" ", html)
    text = _CELL.sub(" ", _BREAK.sub("\n", visible))
    text = _SPACES.sub(" ", unescape(_TAG.sub("", text)))
    text = _BLANK_LINES.sub("\n\n", _LINE_EDGES.sub("\n", text))
    return HtmlExtract(text=text.strip(), links=_links(visible))
