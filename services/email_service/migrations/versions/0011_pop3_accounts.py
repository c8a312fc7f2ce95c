"""pop3_accounts: accounts may speak POP3 (INBOX only, messages keyed by UIDL)

email_accounts gains protocol ("imap" for every existing row), pop3_host/pop3_port/pop3_security.
imap_host stays NOT NULL (a POP3 account stores an empty string there and the API shows null), so
SQLite never has to rebuild email_accounts, the parent of every tenant table. messages gains
pop3_uidl, unique per account: a message fetched twice by POP3 cannot be stored twice. No new table,
so no new row-level-security policy (both tables already have theirs).

Revision ID: 0011_pop3_accounts
Revises: 0010_drafts
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_pop3_accounts"
down_revision = "0010_drafts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN and CREATE INDEX on both backends: no SQLite table rebuild (see downgrade).
    op.add_column(
        "email_accounts", sa.Column("protocol", sa.String(length=8), nullable=False, server_default="imap")
    )
    op.add_column("email_accounts", sa.Column("pop3_host", sa.String(length=255), nullable=True))
    op.add_column("email_accounts", sa.Column("pop3_port", sa.Integer(), nullable=True))
    op.add_column("email_accounts", sa.Column("pop3_security", sa.String(length=16), nullable=True))
    op.add_column("messages", sa.Column("pop3_uidl", sa.String(length=255), nullable=True))
    op.create_index("uq_messages_pop3_uidl", "messages", ["account_id", "pop3_uidl"], unique=True)


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+ has it): a batch rebuild of messages on SQLite would drop the
    # full-text triggers that 0008 put on the table, and search would stop seeing new mail.
    op.drop_index("uq_messages_pop3_uidl", table_name="messages")
    op.drop_column("messages", "pop3_uidl")
    for column in ("pop3_security", "pop3_port", "pop3_host", "protocol"):
        op.drop_column("email_accounts", column)
