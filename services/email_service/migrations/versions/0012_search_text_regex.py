"""search_text_regex: messages_search_text() by one regexp_replace instead of translate()

The full-text trigger of 0008 spent most of a sync's time in translate(): PostgreSQL checks every
character of the value against each of the 32 punctuation characters (about 0.8 ms for a 5 KB
body; 2,000 such messages took 1.7 s there against 0.15 s for the bracket expression below). The
result is identical character for character (the same printable-ASCII punctuation becomes spaces),
so stored vectors stay valid and nothing is reindexed. SQLite is unaffected (FTS5 splits words
itself).

Revision ID: 0012_search_text_regex
Revises: 0011_pop3_accounts
"""

from __future__ import annotations

from alembic import op

revision = "0012_search_text_regex"
down_revision = "0011_pop3_accounts"
branch_labels = None
depends_on = None

# Every printable ASCII character that is neither a letter nor a digit, as four ranges: 0x21-0x2F,
# 0x3A-0x40, 0x5B-0x60, 0x7B-0x7E (query.ASCII_PUNCTUATION; a unit test holds the two together).
PUNCTUATION_CLASS = "[!-/:-@[-`{-~]"

_REGEX_BODY = f"SELECT regexp_replace(coalesce(value, ''), '{PUNCTUATION_CLASS}', ' ', 'g')"


def _replace(body: str) -> str:
    return (
        "CREATE OR REPLACE FUNCTION messages_search_text(value text) RETURNS text"
        f" LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$ {body} $fn$"
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_replace(_REGEX_BODY))


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    punctuation = "".join(chr(c) for c in range(0x21, 0x7F) if not chr(c).isalnum())
    # chr(37) for '%', as 0008 wrote it: no driver ever sees a bare percent sign.
    quoted = " || ".join("chr(37)" if ch == "%" else "'" + ch.replace("'", "''") + "'" for ch in punctuation)
    op.execute(_replace(f"SELECT translate(coalesce(value, ''), {quoted}, repeat(' ', {len(punctuation)}))"))
