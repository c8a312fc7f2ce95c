"""conversation threads: message_references (Message-ID → thread) under row-level security

The sync writes one row per Message-ID a message names (its own, its References, its In-Reply-To) and
sets messages.thread_id from it; a later message linking two threads merges them. Existing rows are
not backfilled here: they keep the header-derived root the parser stored in messages.thread_id (which
already groups replies that share a References root) until a resync rewrites them.

Revision ID: 0009_threads
Revises: 0008_fulltext_search
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_threads"
down_revision = "0008_fulltext_search"
branch_labels = None
depends_on = None

TENANT_ONLY = "tenant_id = current_setting('app.tenant_id', true)"


def upgrade() -> None:
    op.create_table(
        "message_references",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("message_key", sa.String(length=998), nullable=False),
        sa.Column("thread_id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["email_accounts.id"],
            name=op.f("fk_message_references_account_id_email_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_message_references_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_message_references_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_references")),
        sa.UniqueConstraint("account_id", "message_key", name="uq_message_references_key"),
    )
    with op.batch_alter_table("message_references", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_message_references_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_message_references_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_message_references_thread_id"), ["thread_id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE message_references ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE message_references FORCE ROW LEVEL SECURITY")
        policy = f"USING ({TENANT_ONLY}) WITH CHECK ({TENANT_ONLY})"
        op.execute(f"CREATE POLICY tenant_isolation ON message_references {policy}")


def downgrade() -> None:
    op.drop_table("message_references")
