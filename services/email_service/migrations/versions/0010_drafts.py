"""drafts: the user's drafts (latest version, its Message-ID, where the server keeps its copy)

Saved at once by the API; a write-back task (kinds draft_save / draft_delete in message_actions)
APPENDs the version to the account's Drafts folder and removes the older one. Tenant-owned and under
the same row-level-security policy as every other tenant table.

Revision ID: 0010_drafts
Revises: 0009_threads
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_drafts"
down_revision = "0009_threads"
branch_labels = None
depends_on = None

TENANT_ONLY = "tenant_id = current_setting('app.tenant_id', true)"


def upgrade() -> None:
    op.create_table(
        "drafts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("message_id_header", sa.String(length=998), nullable=False),
        sa.Column("server_version", sa.Integer(), nullable=True),
        sa.Column("server_uidvalidity", sa.BigInteger(), nullable=True),
        sa.Column("server_uid", sa.BigInteger(), nullable=True),
        sa.Column("outbox_id", sa.String(length=36), nullable=True),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["email_accounts.id"],
            name=op.f("fk_drafts_account_id_email_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_drafts_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_drafts_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drafts")),
    )
    with op.batch_alter_table("drafts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_drafts_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_drafts_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_drafts_user_id"), ["user_id"], unique=False)
        batch_op.create_index("ix_drafts_owner_updated", ["tenant_id", "user_id", "updated_at"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE drafts ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE drafts FORCE ROW LEVEL SECURITY")
        policy = f"USING ({TENANT_ONLY}) WITH CHECK ({TENANT_ONLY})"
        op.execute(f"CREATE POLICY tenant_isolation ON drafts {policy}")


def downgrade() -> None:
    op.drop_table("drafts")
