"""pop3_uidl_partial: lookups by server key get the server key's index

Both indexes below began with account_id and nothing else useful, and right after an initial sync,
before the table has statistics, PostgreSQL preferred them (smaller) to uq_messages_server_key for
lookups by account, folder and UID, reading about half an account's rows per lookup: 100 flag
changes on a 2,000-message account took 2 to 60 s.

- ix_messages_account_id goes: uq_messages_server_key starts with account_id and serves every
  lookup by account (the foreign key's cascade too).

- uq_messages_pop3_uidl (0011) held every IMAP row too (pop3_uidl NULL). Partial (WHERE pop3_uidl
  IS NOT NULL), it cannot serve those lookups and IMAP rows no longer pay for it on insert.
  Uniqueness per account is unchanged.

Revision ID: 0013_pop3_uidl_partial
Revises: 0012_search_text_regex
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_pop3_uidl_partial"
down_revision = "0012_search_text_regex"
branch_labels = None
depends_on = None

POP3_ROWS = sa.text("pop3_uidl IS NOT NULL")


def upgrade() -> None:
    op.drop_index("ix_messages_account_id", table_name="messages")
    op.drop_index("uq_messages_pop3_uidl", table_name="messages")
    op.create_index(
        "uq_messages_pop3_uidl",
        "messages",
        ["account_id", "pop3_uidl"],
        unique=True,
        postgresql_where=POP3_ROWS,
        sqlite_where=POP3_ROWS,
    )


def downgrade() -> None:
    op.drop_index("uq_messages_pop3_uidl", table_name="messages")
    op.create_index("uq_messages_pop3_uidl", "messages", ["account_id", "pop3_uidl"], unique=True)
    op.create_index("ix_messages_account_id", "messages", ["account_id"])
