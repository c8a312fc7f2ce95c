"""gmail_labels: messages carry Gmail's labels (X-GM-LABELS) and stable message id (X-GM-MSGID)

On Gmail one row per message is stored (from All Mail) and its labels say where it shows; other
servers store [] there. gm_msgid stays the same across folders and UIDVALIDITY changes. Both are plain
ADD COLUMN on both backends: a SQLite batch rebuild of messages would drop the full-text triggers of
0008 (tests/integration/messages/test_search_migration.py).

Revision ID: 0015_gmail_labels
Revises: 0014_changes
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_gmail_labels"
down_revision = "0014_changes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("messages", sa.Column("labels", sa.JSON(), nullable=False, server_default="[]"))
    op.add_column("messages", sa.Column("gm_msgid", sa.String(length=20), nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+), never a batch rebuild of messages (see above).
    op.drop_column("messages", "gm_msgid")
    op.drop_column("messages", "labels")
