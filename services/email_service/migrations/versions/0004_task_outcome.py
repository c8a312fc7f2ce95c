"""task outcome on the task record

A finished task's status, result and error lived only in the result backend, which forgets them
after an hour: the task API then answered "pending" for finished work. The worker now writes them
to the task's record when it finishes.

Revision ID: 0004_task_outcome
Revises: 0003_rls_no_self_bypass
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_task_outcome"
down_revision = "0003_rls_no_self_bypass"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("task_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("result", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("error", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("task_records", schema=None) as batch_op:
        batch_op.drop_column("finished_at")
        batch_op.drop_column("error")
        batch_op.drop_column("result")
        batch_op.drop_column("status")
