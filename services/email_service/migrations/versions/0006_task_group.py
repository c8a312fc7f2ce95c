"""task records know the group they belong to

POST /api/email/sync without an account syncs every enabled account as one group: one record for
the group (its chord's callback) and one per account, each member pointing at the group's id.

Revision ID: 0006_task_group
Revises: 0005_outbox_released_at
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_task_group"
down_revision = "0005_outbox_released_at"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("task_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("group_id", sa.String(length=155), nullable=True))
        batch_op.create_index("ix_task_records_group_id", ["group_id"])


def downgrade() -> None:
    with op.batch_alter_table("task_records", schema=None) as batch_op:
        batch_op.drop_index("ix_task_records_group_id")
        batch_op.drop_column("group_id")
