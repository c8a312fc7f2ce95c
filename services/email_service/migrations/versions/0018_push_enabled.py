"""push_enabled: an account's switch for the IDLE watcher (`email-service watch`), on by default

A plain ADD COLUMN with a server default on both backends: existing accounts get push at once.

Revision ID: 0018_push_enabled
Revises: 0017_webhooks
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_push_enabled"
down_revision = "0017_webhooks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "email_accounts",
        sa.Column("push_enabled", sa.Boolean(), nullable=False, server_default=sa.true()),
    )


def downgrade() -> None:
    op.drop_column("email_accounts", "push_enabled")
