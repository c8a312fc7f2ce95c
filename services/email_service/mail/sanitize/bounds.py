"""Linear-time pre-passes that bound the work bleach/html5lib does on hostile HTML.

html5lib walks the whole stack of open elements for every scope check (`<p>`, `<div>`, ...), so
20,000 nested tags cost 20,000² steps; and a lazy `.*?</script>` regex rescans to the end for every
unclosed `<script>`. These passes run in one left-to-right scan each, so the parser after them sees a
bounded nesting depth and no script/style bodies. They only drop markup; bleach still decides safety.
"""

from __future__ import annotations

import re
from collections import Counter

MAX_HTML_CHARS = 1_000_000
MAX_DEPTH = 128
TRUNCATED_NOTE = "<p><em>[This message is too long to show in full; the rest was cut.]</em></p>"

_DROPPED_WITH_CONTENT = (
    "script|style|title|head|xml|template|noscript|iframe|object|embed|applet|svg|math|textarea|select"
)
# `[^>]*(?:>|\Z)` rather than `[^>]*>`: an opening tag with no `>` ends the scan instead of being retried.
_DROP_OPEN = re.compile(rf"<({_DROPPED_WITH_CONTENT})\b[^>]*(?:>|\Z)", re.IGNORECASE)
_CLOSERS = {name: re.compile(rf"</{name}\s*>", re.IGNORECASE) for name in _DROPPED_WITH_CONTENT.split("|")}

# A comment (to its end or the end of input), or a tag with no `<` inside: each failed attempt stops
# at the next `<`, so no character is scanned twice.
_TOKEN = re.compile(r"<!--.*?(?:-->|\Z)|<(/?)([a-zA-Z][^\s/<>]*)[^<>]*>", re.DOTALL)
_VOID = frozenset(
    [
        "area",
        "base",
        "basefont",
        "bgsound",
        "br",
        "col",
        "embed",
        "frame",
        "hr",
        "image",
        "img",
        "input",
        "keygen",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    ]
)
# A start tag of the key implicitly closes these when they are among the last few open elements.
_IMPLIED_CLOSE = {
    "p": {"p"},
    "li": {"li"},
    "dt": {"dt", "dd"},
    "dd": {"dt", "dd"},
    "option": {"option"},
    "optgroup": {"option", "optgroup"},
    "tr": {"tr", "td", "th"},
    "td": {"td", "th"},
    "th": {"td", "th"},
    "thead": {"thead", "tbody", "tfoot", "tr", "td", "th"},
    "tbody": {"thead", "tbody", "tfoot", "tr", "td", "th"},
    "tfoot": {"thead", "tbody", "tfoot", "tr", "td", "th"},
}
_IMPLIED_LOOKBACK = 4


def truncate(html: str, limit: int = MAX_HTML_CHARS) -> str:
    """At most `limit` characters, with a visible note when cut, so the parser's work has a hard cap."""
    if len(html) <= limit:
        return html
    return html[:limit] + TRUNCATED_NOTE


def drop_with_content(html: str) -> str:
    """Remove script/style/... elements with their bodies (bleach's strip keeps inner text otherwise).

    An element with no closing tag is left for bleach (its body becomes escaped text); once one has
    no closing tag, later openings of that name are not searched for a close again.
    """
    out: list[str] = []
    pos = 0
    unclosed: set[str] = set()
    while (opening := _DROP_OPEN.search(html, pos)) is not None:
        name = opening.group(1).lower()
        close = None if name in unclosed else _CLOSERS[name].search(html, opening.end())
        if close is None:
            unclosed.add(name)
            out.append(html[pos : opening.end()])
            pos = opening.end()
            continue
        out.append(html[pos : opening.start()])
        pos = close.end()
    out.append(html[pos:])
    return "".join(out)


class _Stack:
    """Open element names as the parser would roughly see them, with O(1) membership."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.counts: Counter[str] = Counter()

    def push(self, name: str) -> None:
        self.names.append(name)
        self.counts[name] += 1

    def pop_through(self, name: str) -> None:
        while self.names:
            top = self.names.pop()
            self.counts[top] -= 1
            if top == name:
                return

    def close_implied(self, name: str) -> None:
        closes = _IMPLIED_CLOSE.get(name)
        if not closes:
            return
        recent = self.names[-_IMPLIED_LOOKBACK:]
        for offset, open_name in enumerate(recent):
            if open_name in closes:
                self.pop_through(self.names[len(self.names) - len(recent) + offset])
                return


def bound_depth(html: str, max_depth: int = MAX_DEPTH, counted: frozenset[str] | None = None) -> str:
    """Drop start tags that would nest deeper than `max_depth`, and their end tags; text is kept.

    Only `counted` names (default all) are tracked: bleach strips the others before its tree builder.
    """
    out: list[str] = []
    pos = 0
    stack = _Stack()
    dropped: Counter[str] = Counter()
    for token in _TOKEN.finditer(html):
        name = token.group(2)
        if name is None:  # a comment
            continue
        name = name.lower()
        if counted is not None and name not in counted:
            continue
        if token.group(1):  # an end tag
            if stack.counts[name] > 0:
                stack.pop_through(name)
                continue
            if dropped[name] > 0:
                dropped[name] -= 1
                out.append(html[pos : token.start()])
                pos = token.end()
            continue
        if name in _VOID:
            continue
        stack.close_implied(name)
        if len(stack.names) < max_depth:
            stack.push(name)
            continue
        dropped[name] += 1
        out.append(html[pos : token.start()])
        pos = token.end()
    out.append(html[pos:])
    return "".join(out)
