"""the action log of write-backs (flags, moves, folder create / rename / delete)

Each row is one message or folder a request changed locally: pending until the task has acted on the
server, then done, or failed with a reason (the local change reverted). Tenant-owned and under the same
row-level-security policy as every other tenant table.

Revision ID: 0007_message_actions
Revises: 0006_task_group
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_message_actions"
down_revision = "0006_task_group"
branch_labels = None
depends_on = None

TENANT_ONLY = "tenant_id = current_setting('app.tenant_id', true)"


def upgrade() -> None:
    op.create_table(
        "message_actions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("batch_id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("message_id", sa.String(length=36), nullable=True),
        sa.Column("folder_id", sa.String(length=36), nullable=True),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=True),
        sa.Column("uid", sa.BigInteger(), nullable=True),
        sa.Column("target_folder_id", sa.String(length=36), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["email_accounts.id"],
            name=op.f("fk_message_actions_account_id_email_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_message_actions_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_message_actions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_actions")),
    )
    with op.batch_alter_table("message_actions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_message_actions_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_message_actions_message_id"), ["message_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_message_actions_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_message_actions_user_id"), ["user_id"], unique=False)
        batch_op.create_index(
            "ix_message_actions_server_key", ["folder_id", "uidvalidity", "state"], unique=False
        )
        batch_op.create_index("ix_message_actions_account_state", ["account_id", "state"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE message_actions ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE message_actions FORCE ROW LEVEL SECURITY")
        policy = f"USING ({TENANT_ONLY}) WITH CHECK ({TENANT_ONLY})"
        op.execute(f"CREATE POLICY tenant_isolation ON message_actions {policy}")


def downgrade() -> None:
    op.drop_table("message_actions")
