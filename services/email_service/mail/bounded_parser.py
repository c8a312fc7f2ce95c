"""bleach's html5lib parser with a cap on attributes per tag.

html5lib checks each new attribute name against every earlier one in the same tag, so one unclosed
tag of 30,000 attributes (`"<a href=x " * 30_000`) costs 30,000² comparisons. Past the cap the middle
attributes are dropped as they are read; bleach still filters whatever is kept.
"""

from __future__ import annotations

from typing import Any

from bleach.html5lib_shim import BleachHTMLParser, BleachHTMLTokenizer, ReparseException

MAX_ATTRIBUTES = 64


class _BoundedTokenizer(BleachHTMLTokenizer):  # type: ignore[misc]
    """Keeps the first attributes of a tag and the one being read, so the duplicate check stays short."""

    def attributeNameState(self) -> bool:
        attrs = self.currentToken["data"]
        if isinstance(attrs, list) and len(attrs) > MAX_ATTRIBUTES:
            del attrs[MAX_ATTRIBUTES - 1 : -1]
        return bool(super().attributeNameState())


class BoundedHTMLParser(BleachHTMLParser):  # type: ignore[misc]
    """BleachHTMLParser whose _parse (copied from bleach 6.4) builds the bounded tokenizer."""

    def _parse(
        self, stream: Any, innerHTML: bool = False, container: str = "div", scripting: bool = True, **kwargs: Any
    ) -> None:
        self.innerHTMLMode = innerHTML
        self.container = container
        self.scripting = scripting
        self.tokenizer = _BoundedTokenizer(stream=stream, consume_entities=self.consume_entities, parser=self, **kwargs)
        self.reset()
        try:
            self.mainLoop()
        except ReparseException:
            self.reset()
            self.mainLoop()


def bounded_parser(tags: frozenset[str]) -> BoundedHTMLParser:
    """The parser bleach.Cleaner builds for itself (same arguments), with the attribute cap."""
    return BoundedHTMLParser(tags=tags, strip=True, consume_entities=False, namespaceHTMLElements=False)
