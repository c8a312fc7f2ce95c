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
    with op.batch_alter_table("email_accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("protocol", sa.String(length=8), nullable=False, server_default="imap"))
        batch_op.add_column(sa.Column("pop3_host", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("pop3_port", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("pop3_security", sa.String(length=16), nullable=True))
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pop3_uidl", sa.String(length=255), nullable=True))
        batch_op.create_index("uq_messages_pop3_uidl", ["account_id", "pop3_uidl"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("uq_messages_pop3_uidl")
        batch_op.drop_column("pop3_uidl")
    with op.batch_alter_table("email_accounts", schema=None) as batch_op:
        batch_op.drop_column("pop3_security")
        batch_op.drop_column("pop3_port")
        batch_op.drop_column("pop3_host")
        batch_op.drop_column("protocol")
