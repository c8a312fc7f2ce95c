"""full-text search over subject, addresses, body text and attachment names

messages.attachment_names: the attachments' file names, space-separated (the sync's row builder sets
it; backfilled here from the attachments table), so one row holds everything a search looks at.

PostgreSQL: messages.search_vector (tsvector, 'simple' configuration) kept by a BEFORE INSERT / UPDATE
OF <text columns> trigger (a generated column would be recomputed by every flag update too), with a
GIN index. Weights name the fields: A subject, B sender, C To, D Cc + body text + attachment names.
ASCII punctuation becomes spaces before parsing (addresses, file names and dotted words split into
words, as SQLite's tokenizer splits them). Inputs are capped (body 100,000 characters, address lists
20,000 each) so that no message can exceed the tsvector's 1 MB limit and fail a sync.

SQLite: an FTS5 table messages_fts (rowid = messages.rowid; columns subject, sender, recipients,
copied, body, attachments; it keeps its own copy, so a delete needs only the rowid) kept by triggers
on messages. A later migration that has Alembic recreate `messages` (batch mode "move and copy")
drops these triggers and may renumber rowids: it must recreate both and refill messages_fts (and,
with foreign keys on, dropping the old table cascades to attachments: prefer native ALTER TABLE).

Backfills existing rows. Run as a role that bypasses row-level security (as migrations are run).

Revision ID: 0008_fulltext_search
Revises: 0007_message_actions
"""

# The SQL below is assembled from this file's own constants only (no outside input reaches it).
# ruff: noqa: S608

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008_fulltext_search"
down_revision = "0007_message_actions"
branch_labels = None
depends_on = None

# The separators query.py splits search words on: every printable ASCII character that is not a letter
# or digit. Written with chr() in SQL for '%' (no driver ever sees a bare percent sign).
_PUNCTUATION = "".join(chr(c) for c in range(0x21, 0x7F) if not chr(c).isalnum())
_PG_PUNCTUATION = " || ".join(
    "chr(37)" if ch == "%" else "'" + ch.replace("'", "''") + "'" for ch in _PUNCTUATION
)
_TEXT_COLUMNS = "subject, from_name, from_address, to_addresses, cc_addresses, body_text, attachment_names"

PG_UP = [
    f"""
    CREATE FUNCTION messages_search_text(value text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
        SELECT translate(coalesce(value, ''), {_PG_PUNCTUATION}, repeat(' ', {len(_PUNCTUATION)}))
    $fn$
    """,
    """
    CREATE FUNCTION messages_search_addresses(addresses json) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
        SELECT left(coalesce(jsonb_path_query_array(addresses::jsonb, '$[*].*')::text, ''), 20000)
    $fn$
    """,
    # Each subject, sender and To word once more as an unpositioned "field:word" lexeme: subject:,
    # from: and to: are then answered by the index alone (weights, which the index does not hold,
    # are checked on the candidates).
    """
    CREATE FUNCTION messages_search_fields(field text, value text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
        SELECT array_to_tsvector(coalesce(array_agg(field || ':' || w.lexeme), '{}'))
          FROM unnest(to_tsvector('simple'::regconfig, messages_search_text(value))) AS w
    $fn$
    """,
    """
    CREATE FUNCTION messages_search_vector(
        subject text, from_name text, from_address text, to_addresses json, cc_addresses json,
        body_text text, attachment_names text
    ) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
        SELECT setweight(to_tsvector('simple'::regconfig, messages_search_text(left(subject, 2000))), 'A')
            || setweight(to_tsvector('simple'::regconfig,
                   messages_search_text(left(from_name, 500) || ' ' || left(from_address, 320))), 'B')
            || setweight(to_tsvector('simple'::regconfig,
                   messages_search_text(messages_search_addresses(to_addresses))), 'C')
            || setweight(to_tsvector('simple'::regconfig, messages_search_text(
                   messages_search_addresses(cc_addresses) || ' ' || left(body_text, 100000)
                   || ' ' || left(attachment_names, 10000))), 'D')
            || messages_search_fields('subject', left(subject, 2000))
            || messages_search_fields('from', left(from_name, 500) || ' ' || left(from_address, 320))
            || messages_search_fields('to', messages_search_addresses(to_addresses))
    $fn$
    """,
    """
    CREATE FUNCTION messages_search_vector_update() RETURNS trigger
    LANGUAGE plpgsql AS $fn$
    BEGIN
        NEW.search_vector := messages_search_vector(
            NEW.subject, NEW.from_name, NEW.from_address, NEW.to_addresses, NEW.cc_addresses,
            NEW.body_text, NEW.attachment_names);
        RETURN NEW;
    END
    $fn$
    """,
    f"""
    CREATE TRIGGER messages_search_vector BEFORE INSERT OR UPDATE OF {_TEXT_COLUMNS}
    ON messages FOR EACH ROW EXECUTE FUNCTION messages_search_vector_update()
    """,
    # Row-level security keeps the GIN index out of the app role's plans: `@@` is not LEAKPROOF, so
    # it may not run before the tenant policy, and an index scan would. This function, owned by the
    # migration role (which bypasses RLS: it is also the default SYSTEM_DATABASE_URL), looks up ids
    # on the index, scoped exactly as the policy is (the transaction's app.tenant_id) plus the user.
    # It answers ids only, to the roles migrate.grant_app_role names; where its owner does not bypass
    # RLS it still answers the same ids, by a scan.
    # It takes words, not a tsquery: each word's lexemes come from to_tsvector here, exactly as the
    # stored ones did, field-marked for subject:/from:/to: words, prefixed where the word is. EXECUTE
    # plans each call with the actual query and limit (an SQL function's generic plan could not tell
    # a rare word from a common one, and read every match before its LIMIT).
    """
    CREATE FUNCTION messages_search_probe(
        p_user_id text, p_words text[], p_fields text[], p_prefixes boolean[], p_limit integer
    ) RETURNS SETOF text
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $fn$
    DECLARE
        query tsquery;
    BEGIN
        SELECT string_agg(
                   '''' || CASE WHEN w.field = '' THEN l.lexeme ELSE w.field || ':' || l.lexeme END || ''''
                   || CASE WHEN w.prefix THEN ':*' ELSE '' END, ' & ')::tsquery
          INTO query
          FROM unnest(p_words, p_fields, p_prefixes) AS w(word, field, prefix),
               unnest(to_tsvector('simple'::regconfig, public.messages_search_text(w.word))) AS l;
        IF query IS NULL THEN
            RETURN;
        END IF;
        RETURN QUERY EXECUTE
            'SELECT m.id::text FROM public.messages AS m'
            ' WHERE m.tenant_id = current_setting(''app.tenant_id'', true) AND m.user_id = $1'
            ' AND m.deleted_at IS NULL AND m.search_vector @@ $2 LIMIT $3'
            USING p_user_id, query, p_limit;
    END
    $fn$
    """,
    "REVOKE ALL ON FUNCTION messages_search_probe(text, text[], text[], boolean[], integer) FROM PUBLIC",
]
PG_NAMES = """
    UPDATE messages AS m SET attachment_names = a.names
      FROM (SELECT message_id, left(string_agg(filename, ' ' ORDER BY created_at, id), 10000) AS names
              FROM attachments WHERE message_id IS NOT NULL AND filename <> '' GROUP BY message_id) AS a
     WHERE m.id = a.message_id
"""
PG_BACKFILL = [
    f"UPDATE messages SET search_vector = messages_search_vector({_TEXT_COLUMNS})",
    "CREATE INDEX ix_messages_search ON messages USING gin (search_vector)",
]
PG_DOWN = [
    "DROP INDEX IF EXISTS ix_messages_search",
    "DROP TRIGGER IF EXISTS messages_search_vector ON messages",
    "ALTER TABLE messages DROP COLUMN IF EXISTS search_vector",
    "DROP FUNCTION IF EXISTS messages_search_probe(text, text[], text[], boolean[], integer)",
    "DROP FUNCTION IF EXISTS messages_search_vector_update()",
    "DROP FUNCTION IF EXISTS messages_search_vector(text, text, text, json, json, text, text)",
    "DROP FUNCTION IF EXISTS messages_search_fields(text, text)",
    "DROP FUNCTION IF EXISTS messages_search_addresses(json)",
    "DROP FUNCTION IF EXISTS messages_search_text(text)",
]


def _sqlite_addresses(column: str) -> str:
    return (
        "(SELECT coalesce(group_concat(coalesce(json_extract(value, '$.name'), '') || ' ' ||"
        " coalesce(json_extract(value, '$.email'), ''), ' '), '')"
        f" FROM json_each(CASE WHEN json_valid({column}) THEN {column} ELSE '[]' END))"
    )


def _sqlite_values(row: str) -> str:
    return (
        f"{row}.rowid, {row}.subject, {row}.from_name || ' ' || {row}.from_address,"
        f" substr({_sqlite_addresses(row + '.to_addresses')}, 1, 20000),"
        f" substr({_sqlite_addresses(row + '.cc_addresses')}, 1, 20000),"
        f" substr({row}.body_text, 1, 100000), substr({row}.attachment_names, 1, 10000)"
    )


FTS_COLUMNS = "rowid, subject, sender, recipients, copied, body, attachments"
SQLITE_UP = [
    "CREATE VIRTUAL TABLE messages_fts USING fts5("
    "subject, sender, recipients, copied, body, attachments, tokenize = 'unicode61 remove_diacritics 2')",
    f"""
    CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
        INSERT INTO messages_fts ({FTS_COLUMNS}) VALUES ({_sqlite_values("new")});
    END
    """,
    """
    CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
        DELETE FROM messages_fts WHERE rowid = old.rowid;
    END
    """,
    f"""
    CREATE TRIGGER messages_fts_update AFTER UPDATE OF {_TEXT_COLUMNS} ON messages BEGIN
        DELETE FROM messages_fts WHERE rowid = old.rowid;
        INSERT INTO messages_fts ({FTS_COLUMNS}) VALUES ({_sqlite_values("new")});
    END
    """,
]
SQLITE_NAMES = """
    UPDATE messages SET attachment_names = coalesce(
        (SELECT substr(group_concat(filename, ' '), 1, 10000) FROM attachments
          WHERE attachments.message_id = messages.id AND filename <> ''), '')
"""
SQLITE_BACKFILL = [
    f"INSERT INTO messages_fts ({FTS_COLUMNS}) SELECT {_sqlite_values('messages')} FROM messages",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS messages_fts_update",
    "DROP TRIGGER IF EXISTS messages_fts_delete",
    "DROP TRIGGER IF EXISTS messages_fts_insert",
    "DROP TABLE IF EXISTS messages_fts",
]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attachment_names", sa.Text(), nullable=False, server_default=""))
    # The names first: with the triggers in place, this UPDATE would index every row twice.
    if dialect == "postgresql":
        op.execute(PG_NAMES)
        op.add_column("messages", sa.Column("search_vector", postgresql.TSVECTOR(), nullable=True))
        statements = [*PG_UP, *PG_BACKFILL]
    else:
        op.execute(SQLITE_NAMES)
        statements = [*SQLITE_UP, *SQLITE_BACKFILL]
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in PG_DOWN if dialect == "postgresql" else SQLITE_DOWN:
        op.execute(statement)
    if dialect == "sqlite":
        # Natively (SQLite 3.35+), not by batch "move and copy": dropping the old messages table would
        # cascade to every attachment row.
        op.execute("ALTER TABLE messages DROP COLUMN attachment_names")
        return
    op.drop_column("messages", "attachment_names")
