"""outbox rows remember when their task was published

A scheduled send used to be published at once with a broker eta, so a far-future send sat in worker
memory and in Redis' unacked set, arguments and all. Now it waits in the database and the tick
publishes it shortly before it is due; released_at says it was (NULL: still waiting here).

Revision ID: 0005_outbox_released_at
Revises: 0004_task_outcome
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_outbox_released_at"
down_revision = "0004_task_outcome"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("released_at", sa.DateTime(timezone=True), nullable=True))
    # Rows scheduled before this revision were published with an eta already.
    op.execute("UPDATE outbox_messages SET released_at = created_at WHERE status = 'scheduled'")


def downgrade() -> None:
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_column("released_at")
