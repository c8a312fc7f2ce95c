"""The `q=` search language, parsed into a SearchQuery: pure logic, no database.

    invoice "quarterly report" from:alice to:bob@example.com subject:"budget 2027"
    has:attachment is:unread is:flagged after:2026-01-01 before:2026-02-01

Terms are ANDed. A bare word matches any of subject, addresses, body text and attachment names;
`from:` / `to:` / `subject:` narrow it to that field. A bare word (or unquoted operator value) of three
or more characters also matches the longer words it begins ("invoice" finds "invoices"); a quoted
phrase matches its words exactly, in order. `after:D` matches from the start of day D (UTC),
`before:D` up to but not including it. An unknown operator or value, a malformed date, an empty
operator value, or a query over the bounds is the caller's error (422), never a server error.

Words are split on whitespace and ASCII punctuation, the same way the index splits the stored text
(so `alice@example.com` is the phrase "alice example com", and `report.pdf` also matches `pdf`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Literal

from email_service.core.errors import ValidationFailed

MAX_QUERY_CHARS = 1000
MAX_TERMS = 32  # words, phrases and operators together
MAX_TOKENS = 64  # words inside all text terms together
PREFIX_MIN_CHARS = 3

Field = Literal["subject", "from", "to"]
FIELDS: tuple[Field, ...] = ("subject", "from", "to")
OPERATORS = ("from", "to", "subject", "has", "is", "before", "after")
HAS_VALUES = {"attachment": "attachment", "attachments": "attachment"}
IS_VALUES = ("unread", "flagged")

# Whitespace and every ASCII punctuation character: the separators the stored text is split on too
# (the migration's messages_search_text() translates the same set to spaces).
ASCII_PUNCTUATION = "".join(chr(c) for c in range(0x21, 0x7F) if not chr(c).isalnum())
_SPLIT = re.compile(r"[\s" + re.escape(ASCII_PUNCTUATION) + r"]+")
_OPERATOR = re.compile(r"([A-Za-z]+):")
_WORD = re.compile(r'[^\s"]*')
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Term:
    """Words that must appear together, in order (one word, a quoted phrase, or an operator value)."""

    tokens: tuple[str, ...]
    field: Field | None = None  # None: any of subject, addresses, body text, attachment names
    prefix: bool = False  # the last token also matches longer words it begins


@dataclass(frozen=True)
class SearchQuery:
    terms: tuple[Term, ...] = ()
    has_attachment: bool = False
    unread: bool = False
    flagged: bool = False
    after: datetime | None = None  # inclusive, midnight UTC
    before: datetime | None = None  # exclusive, midnight UTC

    @property
    def is_empty(self) -> bool:
        return self == NO_SEARCH


NO_SEARCH = SearchQuery()


def _fail(message: str, **details: object) -> ValidationFailed:
    return ValidationFailed(message, {"field": "q", **details})


def tokens_of(text: str) -> tuple[str, ...]:
    """Split like the index does; pieces without a letter or digit (e.g. "—") carry nothing.

    Control and format characters (NUL among them, which PostgreSQL text refuses) split too.
    """
    if not text.isprintable():
        text = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in text)
    return tuple(t for t in _SPLIT.split(text) if t and any(ch.isalnum() for ch in t))


def _scan(q: str) -> list[tuple[str | None, str, bool]]:
    """(operator or None, value, quoted) per space-separated piece; an unclosed quote runs to the end."""
    pieces: list[tuple[str | None, str, bool]] = []
    i, n = 0, len(q)
    while i < n:
        if q[i].isspace():
            i += 1
            continue
        op = None
        match = _OPERATOR.match(q, i)
        if match:
            op, i = match.group(1).lower(), match.end()
        if i < n and q[i] == '"':
            end = q.find('"', i + 1)
            end = n if end == -1 else end
            pieces.append((op, q[i + 1 : end], True))
            i = end + 1
        else:
            word = _WORD.match(q, i)
            assert word is not None  # matches the empty string at worst
            pieces.append((op, word.group(), False))
            i = word.end()  # q[i] is neither space nor quote, so this moves on (or an operator did)
    return pieces


def _day(op: str, value: str) -> datetime:
    if not _DATE.fullmatch(value):
        raise _fail(f"{op}: takes a date as YYYY-MM-DD", operator=op, value=value[:40])
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise _fail(f"{op}: {value} is not a date", operator=op, value=value) from None


def _text_term(value: str, quoted: bool, field_name: Field | None) -> Term | None:
    tokens = tokens_of(value)
    if not tokens:
        return None
    prefix = not quoted and len(tokens[-1]) >= PREFIX_MIN_CHARS
    return Term(tokens, field_name, prefix)


def parse_query(q: str | None) -> SearchQuery:
    """The structured query for a `q=` string (None or blank: the empty query)."""
    q = (q or "").strip()
    if len(q) > MAX_QUERY_CHARS:
        raise _fail(f"q must be at most {MAX_QUERY_CHARS} characters", max_chars=MAX_QUERY_CHARS)
    pieces = _scan(q)
    if len(pieces) > MAX_TERMS:
        raise _fail(f"q may have at most {MAX_TERMS} terms", max_terms=MAX_TERMS)
    result = NO_SEARCH
    terms: list[Term] = []
    for op, value, quoted in pieces:
        if op is None:
            term = _text_term(value, quoted, None)
            terms.extend([term] if term else [])
            continue
        if op not in OPERATORS:
            raise _fail(f"unknown search operator {op}:", operator=op[:40], known=list(OPERATORS))
        if not value.strip():
            raise _fail(f"{op}: needs a value", operator=op)
        if op in FIELDS:
            term = _text_term(value, quoted, op)
            if term is None:
                raise _fail(f"{op}: needs a word to search for", operator=op)
            terms.append(term)
        elif op == "has":
            if value.lower() not in HAS_VALUES:
                raise _fail(f"has:{value[:40]} is not known", operator=op, known=["attachment"])
            result = replace(result, has_attachment=True)
        elif op == "is":
            if value.lower() not in IS_VALUES:
                raise _fail(f"is:{value[:40]} is not known", operator=op, known=list(IS_VALUES))
            unread, flagged = value.lower() == "unread", value.lower() == "flagged"
            result = replace(result, unread=result.unread or unread, flagged=result.flagged or flagged)
        else:
            day = _day(op, value)
            if op == "after":
                result = replace(result, after=max(day, result.after or day))
            else:
                result = replace(result, before=min(day, result.before or day))
    if sum(len(t.tokens) for t in terms) > MAX_TOKENS:
        raise _fail(f"q may have at most {MAX_TOKENS} words", max_words=MAX_TOKENS)
    return replace(result, terms=tuple(terms))
