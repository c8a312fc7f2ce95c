"""A SearchQuery applied to a SQLAlchemy select over `messages`, on PostgreSQL or SQLite.

PostgreSQL: `messages.search_vector` (tsvector, GIN-indexed, kept by a trigger; migration
0008_fulltext_search) weighted A subject, B sender, C To, D Cc + body text + attachment names, so
`subject:` / `from:` / `to:` are weight-restricted lexemes of the same index. SQLite: the FTS5 table
`messages_fts` (one row per message, rowid = messages.rowid, kept by triggers) with one column per
field. Both use the 'simple' configuration / unicode61 tokenizer: mail is multilingual and a message's
language is unknown, so no stemming or stop words that are right for one language and wrong for the
rest; prefix matching of bare words gives back most of what stemming would.

Only the text terms need the index; the flags and dates are plain column filters. The caller's own
scoping (tenant, user, not deleted, RLS on PostgreSQL) stays on the select this narrows.

PostgreSQL under row-level security cannot use the GIN index in the listing itself (`@@` is not
LEAKPROOF), so the words first go to messages_search_probe() (the index, scoped like the policy),
ANDed without phrases or weights (field words as "from:word" lexemes), which the index answers
without reading a row's tsvector: when at
most PROBE_CAP of the caller's messages have them all, the listing is narrowed to those ids and
checks the exact query on them (a rare word: a few index probes instead of a scan); more mean
common words, and the listing walks its newest-first index checking the exact query row by row,
which finds a page of them after a few hundred rows.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, String, and_, any_, bindparam, column, literal_column, select, table, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from email_service.messages.model import Message
from email_service.messages.search.query import SearchQuery, Term

# PostgreSQL weights per field; SQLite FTS5 columns per field.
PG_WEIGHTS = {"subject": "A", "from": "B", "to": "C"}
FTS_COLUMNS = {"subject": "subject", "from": "sender", "to": "recipients"}
SEARCH_VECTOR: ColumnElement[Any] = literal_column("messages.search_vector")
FTS_TABLE = table("messages_fts", column("rowid"))
# Up to this many matching messages, the listing is narrowed to their ids (see the module docstring).
PROBE_CAP = 2000
_PROBE = text(
    "SELECT messages_search_probe(:user, CAST(:words AS text[]), CAST(:fields AS text[]),"
    " CAST(:prefixes AS boolean[]), :cap)"
)


def pg_tsquery(terms: tuple[Term, ...]) -> str:
    """to_tsquery('simple', ...) text: each term a phrase (<->), terms ANDed, fields as weights."""
    parts = []
    for term in terms:
        weight = PG_WEIGHTS.get(term.field or "", "")
        lexemes = []
        for index, token in enumerate(term.tokens):
            marks = ("*" if term.prefix and index == len(term.tokens) - 1 else "") + weight
            quoted = "'" + token.replace("'", "''").replace("\\", "\\\\") + "'"
            lexemes.append(f"{quoted}:{marks}" if marks else quoted)
        parts.append("(" + " <-> ".join(lexemes) + ")")
    return " & ".join(parts)


def probe_words(terms: tuple[Term, ...]) -> tuple[list[str], list[str], list[bool]]:
    """(words, fields, prefixes) for messages_search_probe: every word of every term, ANDed there.

    Without phrases or weights (field words become "from:word" lexemes), the index answers alone,
    reading no row's tsvector: its matches include every match of the exact query, which is then
    checked on those candidates only.
    """
    words: list[str] = []
    fields: list[str] = []
    prefixes: list[bool] = []
    for term in terms:
        for index, token in enumerate(term.tokens):
            words.append(token)
            fields.append(term.field or "")
            prefixes.append(term.prefix and index == len(term.tokens) - 1)
    return words, fields, prefixes


def fts5_query(terms: tuple[Term, ...]) -> str:
    """FTS5 MATCH text: each term a quoted phrase (last token prefixed if asked), column-filtered, ANDed."""
    parts = []
    for term in terms:
        words = " ".join(t.replace('"', '""') for t in term.tokens)
        phrase = f'"{words}"' + ("*" if term.prefix else "")
        column_name = FTS_COLUMNS.get(term.field or "")
        parts.append(f"{column_name} : {phrase}" if column_name else phrase)
    return " AND ".join(parts)


def text_condition(session: Session, terms: tuple[Term, ...], user_id: str) -> ColumnElement[bool]:
    """The full-text condition on the caller's messages for these terms (at least one)."""
    if session.get_bind().dialect.name == "postgresql":
        words, fields, prefixes = probe_words(terms)
        probe = {
            "user": user_id,
            "words": words,
            "fields": fields,
            "prefixes": prefixes,
            "cap": PROBE_CAP + 1,
        }
        ids = list(session.execute(_PROBE, probe).scalars())
        match = text("to_tsquery('simple', :search_tsquery)").bindparams(search_tsquery=pg_tsquery(terms))
        exact = SEARCH_VECTOR.op("@@")(match)
        if len(ids) <= PROBE_CAP:
            return and_(Message.id == any_(bindparam("search_ids", ids, type_=ARRAY(String))), exact)
        return exact
    match = text("messages_fts MATCH :search_fts").bindparams(search_fts=fts5_query(terms))
    return literal_column("messages.rowid").in_(select(FTS_TABLE.c.rowid).where(match))


def apply_search(session: Session, query: Select[Any], search: SearchQuery, user_id: str) -> Select[Any]:
    """Narrow a select over the caller's messages (tenant-scoped session, `user_id`) to `search`."""
    if search.has_attachment:
        query = query.where(Message.has_attachments.is_(True))
    if search.unread:
        query = query.where(Message.is_read.is_(False))
    if search.flagged:
        query = query.where(Message.is_flagged.is_(True))
    if search.after is not None:
        query = query.where(Message.date_sort >= search.after)
    if search.before is not None:
        query = query.where(Message.date_sort < search.before)
    if search.terms:
        query = query.where(text_condition(session, search.terms, user_id))
    return query
