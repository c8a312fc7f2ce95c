"""The q= language: parsing to a SearchQuery, and its PostgreSQL / FTS5 query text (no database)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from email_service.core.errors import ValidationFailed
from email_service.messages.search.filters import fts5_query, pg_tsquery, probe_words
from email_service.messages.search.query import (
    MAX_QUERY_CHARS,
    MAX_TERMS,
    MAX_TOKENS,
    NO_SEARCH,
    SearchQuery,
    Term,
    parse_query,
    tokens_of,
)


def test_blank_is_the_empty_query() -> None:
    for q in (None, "", "   ", "-- ... !!"):
        assert parse_query(q).is_empty, q
    assert parse_query("").terms == () and NO_SEARCH.is_empty


def test_words_split_on_whitespace_and_ascii_punctuation() -> None:
    assert tokens_of("alice@example.com") == ("alice", "example", "com")
    assert tokens_of("report_2026-final.PDF") == ("report", "2026", "final", "PDF")
    assert tokens_of("don't  stop") == ("don", "t", "stop")
    assert tokens_of("Привет, мир — ok") == ("Привет", "мир", "ok")  # "—" alone carries nothing


def test_bare_words_quoted_phrases_and_prefixes() -> None:
    query = parse_query('invoice "quarterly report" in 10:30')
    assert query.terms == (
        Term(("invoice",), None, True),
        Term(("quarterly", "report"), None, False),
        Term(("in",), None, False),  # under three characters: no prefix
        Term(("10", "30"), None, False),  # digits before the colon: not an operator
    )
    assert parse_query('"unclosed phrase here').terms == (Term(("unclosed", "phrase", "here"), None, False),)
    assert parse_query("alice@example.com").terms == (Term(("alice", "example", "com"), None, True),)


def test_field_operators() -> None:
    query = parse_query('from:alice@example.com TO:bob subject:"budget 2027" Subject:plan')
    assert query.terms == (
        Term(("alice", "example", "com"), "from", True),
        Term(("bob",), "to", True),
        Term(("budget", "2027"), "subject", False),
        Term(("plan",), "subject", True),
    )


def test_flag_date_and_attachment_operators() -> None:
    query = parse_query(
        "has:attachment is:unread IS:Flagged after:2026-01-31 before:2026-02-02 after:2026-01-01"
    )
    assert query == SearchQuery(
        has_attachment=True,
        unread=True,
        flagged=True,
        after=datetime(2026, 1, 31, tzinfo=UTC),  # the latest after: wins
        before=datetime(2026, 2, 2, tzinfo=UTC),
    )
    assert parse_query("before:2026-03-01 before:2026-02-01").before == datetime(2026, 2, 1, tzinfo=UTC)
    assert parse_query("has:attachments").has_attachment


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("label:work", "unknown search operator"),
        ("http://example.com", "unknown search operator"),
        ("before:2026-13-01", "not a date"),
        ("after:2026-02-30", "not a date"),
        ("after:2026-2-3", "YYYY-MM-DD"),
        ("before:today", "YYYY-MM-DD"),
        ("has:pdf", "not known"),
        ("is:read", "not known"),
        ("from:", "needs a value"),
        ("from: alice", "needs a value"),
        ('to:""', "needs a value"),
        ("subject:...", "needs a word"),
        ("x" * (MAX_QUERY_CHARS + 1), "at most"),
        (" ".join(["w"] * (MAX_TERMS + 1)), "terms"),
        (" ".join(['"' + " ".join(["w"] * 10) + '"'] * 7), "words"),
    ],
)
def test_malformed_queries_are_422(q: str, expected: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_query(q)
    assert expected in caught.value.message
    assert caught.value.http_status == 422 and caught.value.details["field"] == "q"


def test_bounds_themselves_are_accepted() -> None:
    assert len(parse_query("y" * MAX_QUERY_CHARS).terms) == 1
    assert len(parse_query(" ".join(["w"] * MAX_TERMS)).terms) == MAX_TERMS
    assert (
        sum(len(t.tokens) for t in parse_query('"' + " ".join(["w"] * MAX_TOKENS) + '"').terms) == MAX_TOKENS
    )


def test_postgresql_tsquery_text() -> None:
    query = parse_query('from:alice@example.com "quarterly report" subject:plan to:bo invoice')
    assert pg_tsquery(query.terms) == (
        "('alice':B <-> 'example':B <-> 'com':*B) & ('quarterly' <-> 'report') & ('plan':*A)"
        " & ('bo':C) & ('invoice':*)"
    )


def test_fts5_query_text() -> None:
    query = parse_query('from:alice@example.com "quarterly report" subject:plan to:bo invoice')
    assert fts5_query(query.terms) == (
        'sender : "alice example com"* AND "quarterly report" AND subject : "plan"*'
        ' AND recipients : "bo" AND "invoice"*'
    )


def test_query_text_cannot_break_out_of_its_quotes() -> None:
    # ASCII quotes and backslashes are separators, so no token carries one into the query text.
    query = parse_query("""it's a "t\\e'st" o''r \\' x""")
    assert all("'" not in t and '"' not in t and "\\" not in t for term in query.terms for t in term.tokens)
    assert pg_tsquery(query.terms).count("'") % 2 == 0


def test_the_probe_asks_the_index_for_every_word_without_phrases_or_weights() -> None:
    query = parse_query('from:alice@example.com "quarterly report" subject:plan to:bo invoice')
    assert probe_words(query.terms) == (
        ["alice", "example", "com", "quarterly", "report", "plan", "bo", "invoice"],
        ["from", "from", "from", "", "", "subject", "to", ""],
        [False, False, True, False, False, True, False, True],
    )
