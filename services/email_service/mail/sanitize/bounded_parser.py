"""bleach's html5lib parser with a cap on attributes per tag and on CPU time per parse.

html5lib checks each new attribute name against every earlier one in the same tag, so one unclosed
tag of 30,000 attributes (`"<a href=x " * 30_000`) costs 30,000² comparisons. Past the cap the middle
attributes are dropped as they are read; bleach still filters whatever is kept.

Other html5lib paths stay superlinear on hostile input (formatting elements reconstructed into every
`<p>` of `"<b><p>" * n`, the Noah's-ark scan, text joined with `+=`), so the tokenizer also checks this
thread's CPU time before each token and raises ParseBudgetExceeded past the budget: between two
tokens the tree builder does at most O(size) work, so a parse costs at most the budget plus that.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from bleach._vendor.html5lib.constants import _ReparseException as ReparseException
from bleach.html5lib_shim import BleachHTMLParser, BleachHTMLTokenizer

MAX_ATTRIBUTES = 64
PARSE_BUDGET_SECONDS = 1.0  # for the parse, and again for the walk (sanitize.py)


class ParseBudgetExceeded(Exception):
    """The parse used more CPU time than its budget; the caller falls back to plain text."""


class _BoundedTokenizer(BleachHTMLTokenizer):
    """Keeps the first attributes of a tag and the one being read, so the duplicate check stays short."""

    def attributeNameState(self) -> bool:
        token: Any = self.currentToken
        attrs = token["data"] if token else None
        if isinstance(attrs, list) and len(attrs) > MAX_ATTRIBUTES:
            del attrs[MAX_ATTRIBUTES - 1 : -1]
        return bool(super().attributeNameState())

    def __iter__(self) -> Iterator[Any]:
        deadline = time.thread_time() + self.parser.budget_seconds
        for token in super().__iter__():
            if time.thread_time() > deadline:
                raise ParseBudgetExceeded
            yield token


class BoundedHTMLParser(BleachHTMLParser):
    """BleachHTMLParser whose _parse (copied from bleach 6.4) builds the bounded tokenizer."""

    budget_seconds = PARSE_BUDGET_SECONDS

    def _parse(
        self,
        stream: Any,
        innerHTML: bool = False,
        container: str = "div",
        scripting: bool = True,
        **kwargs: Any,
    ) -> None:
        self.innerHTMLMode = innerHTML
        self.container = container
        self.scripting = scripting
        self.tokenizer = _BoundedTokenizer(
            stream=stream, consume_entities=self.consume_entities, parser=self, **kwargs
        )
        self.reset()
        try:
            self.mainLoop()
        except ReparseException:
            self.reset()
            self.mainLoop()


def bounded_parser(tags: frozenset[str]) -> BoundedHTMLParser:
    """The parser bleach.Cleaner builds for itself (same arguments), with the attribute cap."""
    return BoundedHTMLParser(tags=tags, strip=True, consume_entities=False, namespaceHTMLElements=False)
